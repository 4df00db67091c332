/**
 * `privacy-pipeline reidentify <token...> --reason TEXT`: reverses `encrypt` tokens for an
 * authorised caller. The request (who, why, token hashes) is recorded in lineage before any
 * value is printed.
 */
import type { Command } from 'commander';
import { reidentify } from '../../core/pseudonymise/reidentify.ts';
import type { CliContext } from '../cli-context.ts';

interface ReidentifyOptions {
  reason?: string;
  as?: string;
  dataset?: string;
  json?: boolean;
}

export function registerReidentify(program: Command, ctx: CliContext): void {
  program
    .command('reidentify')
    .description('reverse reversible (encrypt) tokens; the request is recorded in lineage')
    .argument('<token...>', 'ENC_… tokens from a curated dataset')
    .option('--reason <text>', 'why the values are needed (required, at least 10 characters; recorded)')
    .option('--as <name>', 'who is asking (default: $USER)')
    .option('--dataset <name>', 'dataset the tokens come from (recorded)')
    .option('--json', 'print [{ token, entity, value }] as JSON')
    .addHelpText('after', '\nExit codes: 0 revealed, 1 refused (no reason, altered or foreign token, erased subject), 2 usage error.')
    .action(async (tokens: string[], opts: ReidentifyOptions, cmd: Command) => {
      const ports = await ctx.ports(cmd.optsWithGlobals().home as string | undefined);
      const requestedBy = opts.as ?? ctx.io.env.USER ?? ctx.io.env.USERNAME ?? '';
      const revealed = await reidentify(ports, {
        tokens,
        reason: opts.reason ?? '',
        requestedBy,
        ...(opts.dataset !== undefined ? { dataset: opts.dataset } : {}),
      });
      if (opts.json) {
        ctx.out(JSON.stringify(revealed, null, 2));
        return;
      }
      const c = ctx.colors;
      for (const r of revealed) ctx.out(`${c.dim(r.entity.padEnd(14))} ${r.value}`);
      ctx.err(c.dim(`${revealed.length} token(s) revealed to ${requestedBy}; the request is recorded in lineage`));
    });
}
