/**
 * `privacy-pipeline keys list|rotate`: the local key service (KMS does this on AWS).
 */
import type { Command } from 'commander';
import type { CliContext } from '../cli-context.ts';

export function registerKeys(program: Command, ctx: CliContext): void {
  const keys = program.command('keys').description('local key service: list key versions, rotate the master key');
  keys
    .command('list')
    .description('key ids and versions (never material)')
    .option('--json')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const ports = await ctx.ports(cmd.optsWithGlobals().home as string | undefined);
      const d = await ports.keys.describe();
      if (opts.json) {
        ctx.out(JSON.stringify({ master: d.master, masterVersions: d.masterVersions, pseudonym: d.pseudonym }, null, 2));
        return;
      }
      ctx.out(`master key       ${d.master.keyId}@${d.master.version} (versions: ${d.masterVersions.join(', ')})`);
      for (const r of Object.values(d.pseudonym))
        ctx.out(`${r.purpose.padEnd(16)} ${r.keyId}@${r.version} (wrapped by the master key; stable across rotation)`);
      ctx.out(ctx.colors.dim(`keyring: ${d.path}`));
    });
  keys
    .command('rotate')
    .description('add a master key version for new data; old data stays readable and pseudonyms stay stable')
    .action(async (_opts: unknown, cmd: Command) => {
      const ports = await ctx.ports(cmd.optsWithGlobals().home as string | undefined);
      const ref = await ports.keys.rotate();
      ctx.out(`master key rotated: new data is wrapped under ${ref.keyId}@${ref.version}; older versions still decrypt`);
    });
}
