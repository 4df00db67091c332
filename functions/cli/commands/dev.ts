/**
 * `privacy-pipeline dev`: the AWS pipeline on loopback. The emulators and AWS SDK load only when
 * this command runs, so every other command starts fast.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import type { CliContext } from '../cli-context.ts';

interface DevCommandOptions {
  s3Port?: string;
  dynamoPort?: string;
  dir?: string;
  prefix?: string;
  logLevel?: string;
}

export function registerDev(program: Command, ctx: CliContext): void {
  program
    .command('dev')
    .description('run the AWS pipeline locally: s3rver + dynalite on 127.0.0.1, uploads to the ingest bucket go through process-upload')
    .option('--s3-port <port>', 'S3 port (default: a free port)')
    .option('--dynamo-port <port>', 'DynamoDB port (default: a free port)')
    .option('--dir <folder>', 'keep objects, tables and keys in this folder (default: a temporary folder, removed on exit)')
    .option('--prefix <name>', 'prefix of bucket and table names', 'pp-dev')
    .option('--log-level <level>', 'pipeline log lines on stderr: debug, info, warn, error, silent', 'warn')
    .addHelpText(
      'after',
      '\nRuns until Ctrl-C. Keys come from a local keyring standing in for KMS; objects are kept unencrypted by s3rver.',
    )
    .action(async (opts: DevCommandOptions) => {
      const { hasLegacyCiphers, legacyProviderCommand, startDevEnvironment } = await import('../dev/dev-environment.ts');
      const port = (v: string | undefined, flag: string) => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} must be a port number`, { rule: flag });
        return n;
      };
      const s3Port = port(opts.s3Port, '--s3-port');
      const dynamoPort = port(opts.dynamoPort, '--dynamo-port');
      if (!hasLegacyCiphers() && ctx.io.env === process.env && !process.env.PRIVACY_PIPELINE_DEV_CHILD && process.argv[1]) {
        // Re-run with the flag: the child gets the terminal; Ctrl-C reaches both, the child shuts down.
        const { command, args } = legacyProviderCommand(process.execPath, process.execArgv, process.argv);
        const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, PRIVACY_PIPELINE_DEV_CHILD: '1' } });
        // Ctrl-C in a terminal reaches both processes; a signal sent to this one alone is passed on.
        const forward = (signal: NodeJS.Signals) => child.kill(signal);
        process.on('SIGINT', forward);
        process.on('SIGTERM', forward);
        const code = await new Promise<number>((ok) => child.on('exit', (c, signal) => ok(c ?? (signal ? 130 : 1))));
        process.off('SIGINT', forward);
        process.off('SIGTERM', forward);
        process.exitCode = code;
        return;
      }
      const c = ctx.colors;
      const env = await startDevEnvironment({
        ...(s3Port !== undefined ? { s3Port } : {}),
        ...(dynamoPort !== undefined ? { dynamoPort } : {}),
        ...(opts.dir !== undefined ? { dir: resolve(ctx.io.cwd, opts.dir) } : {}),
        ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}),
        ...(opts.logLevel !== undefined ? { logLevel: opts.logLevel } : {}),
        onProcessed: (p) => {
          if (p.outcome === 'processed') {
            const r = p.result.record;
            const n = r.counts;
            const mark = r.status === 'COMPLETE' ? c.green('✔') : r.status === 'SKIPPED' ? c.dim('•') : c.yellow('!');
            ctx.out(
              `${mark} ${p.key}  ${r.status}${p.result.duplicate ? ' (duplicate)' : ''}  ${n.rowsIn} in, ${n.rowsPublished} published, ${n.rowsQuarantined} quarantined, ${n.rowsSuppressed} suppressed  ${c.dim(r.id)}`,
            );
          } else if (p.outcome === 'failed')
            ctx.out(`${c.red('✘')} ${p.key}  failed after ${p.attempts} attempts (SQS would move it to the dead-letter queue)`);
          else ctx.out(`${c.dim('•')} ${p.key}  skipped`);
        },
      });
      ctx.out(`${c.bold('privacy-pipeline dev')}: the AWS pipeline on loopback`);
      ctx.out(`  S3 (s3rver)          ${env.s3Endpoint}`);
      ctx.out(`  DynamoDB (dynalite)  ${env.dynamoEndpoint}`);
      ctx.out(
        `  buckets              ${Object.entries(env.buckets)
          .map(([r, b]) => `${r}=${b}`)
          .join('  ')}`,
      );
      ctx.out(`  tables               ${Object.values(env.tables).join('  ')}`);
      ctx.out(`  keys                 local keyring (stands in for KMS) in ${join(env.dir, 'keys')}`);
      ctx.out(`  data                 ${env.dir}${opts.dir === undefined ? ' (temporary)' : ''}`);
      ctx.out('');
      ctx.out('Try (AWS CLI v2):');
      for (const line of env.commands) ctx.out(`  ${line}`);
      ctx.out('');
      ctx.out(c.dim('Uploads to the ingest bucket are processed as they arrive. Ctrl-C stops.'));
      // The first SIGINT/SIGTERM stops; later ones (a forwarded copy, an impatient second Ctrl-C)
      // are absorbed until the shutdown finished, so it is never cut short.
      let stop: () => void = () => undefined;
      const stopped = new Promise<void>((ok) => {
        stop = ok;
      });
      const onSignal = () => stop();
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        await stopped;
        ctx.out('stopping…');
        await env.stop();
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
