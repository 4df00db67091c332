/**
 * The `privacy-pipeline` CLI: the local, embedded face of the pipeline. Exit codes are a
 * contract: 0 success, 1 input rejected or quarantined (or a refused request), 2 usage error,
 * 3 internal error.
 */
import { Command, CommanderError } from 'commander';
import { PrivacyPipelineError, UsageError } from '../core/errors.ts';
import { type CliContext, type CliIo, createCliContext } from './cli-context.ts';
import { registerAggregates } from './commands/aggregates.ts';
import { registerContract } from './commands/contract.ts';
import { registerDemo } from './commands/demo.ts';
import { registerDev } from './commands/dev.ts';
import { registerErase } from './commands/erase.ts';
import { registerKeys } from './commands/keys.ts';
import { registerLineage } from './commands/lineage.ts';
import { registerQuery } from './commands/query.ts';
import { registerRead } from './commands/read.ts';
import { registerReidentify } from './commands/reidentify.ts';
import { registerRun } from './commands/run.ts';
import { registerScan } from './commands/scan.ts';
import { registerSweep } from './commands/sweep.ts';

export const EXIT = { ok: 0, rejected: 1, usage: 2, internal: 3 } as const;

/** Thrown by commands to end with a given exit code after printing their own output. */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('privacy-pipeline')
    .description('Validate, detect PII, pseudonymise, release DP aggregates, encrypt and trace data files — locally or on AWS.')
    .option('--home <dir>', 'local home folder (default: $PRIVACY_PIPELINE_HOME or ./.privacy-pipeline)')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => ctx.io.stdout.write(s), writeErr: (s) => ctx.io.stderr.write(s) })
    .exitOverride();
  program.version('0.1.0');
  registerRun(program, ctx);
  registerRead(program, ctx);
  registerScan(program, ctx);
  registerLineage(program, ctx);
  registerAggregates(program, ctx);
  registerQuery(program, ctx);
  registerContract(program, ctx);
  registerKeys(program, ctx);
  registerErase(program, ctx);
  registerReidentify(program, ctx);
  registerSweep(program, ctx);
  registerDemo(program, ctx);
  registerDev(program, ctx);
  for (const cmd of program.commands)
    cmd.exitOverride().configureOutput({ writeOut: (s) => ctx.io.stdout.write(s), writeErr: (s) => ctx.io.stderr.write(s) });
  return program;
}

export async function main(argv: readonly string[], io?: Partial<CliIo>): Promise<number> {
  const ctx = createCliContext({
    stdout: io?.stdout ?? process.stdout,
    stderr: io?.stderr ?? process.stderr,
    env: io?.env ?? process.env,
    cwd: io?.cwd ?? process.cwd(),
  });
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    return reportError(ctx, err);
  }
}

function reportError(ctx: CliContext, err: unknown): number {
  const c = ctx.colors;
  if (err instanceof ExitCode) return err.code;
  // `privacy-pipeline read … | head` closed the pipe: the reader has what it wanted.
  if ((err as { code?: unknown } | null)?.code === 'EPIPE') return EXIT.ok;
  if (err instanceof CommanderError) {
    // Help and version end with code 0; parse errors were already printed by commander.
    return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (err instanceof UsageError) {
    ctx.err(`${c.red('error:')} ${err.message}`);
    return EXIT.usage;
  }
  if (err instanceof PrivacyPipelineError) {
    ctx.err(`${c.red('error:')} ${err.message}`);
    return EXIT.rejected;
  }
  // Foreign errors can quote their input (JSON.parse does), so their message is shown only on request.
  const name = err instanceof Error ? err.name : typeof err;
  const debug = ctx.io.env.PRIVACY_PIPELINE_DEBUG === '1';
  ctx.err(
    `${c.red('internal error:')} ${name}${debug && err instanceof Error ? `: ${err.message}\n${err.stack ?? ''}` : ' (set PRIVACY_PIPELINE_DEBUG=1 for details)'}`,
  );
  return EXIT.internal;
}
