/**
 * `privacy-pipeline sweep`: deletes orphaned outputs (objects no committed lineage record lists,
 * left by runs that never committed) so that nothing holds data erasure cannot find, and lists
 * raw files no committed run has read.
 */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { DEFAULT_SWEEP_GRACE_MS, type SweepReport, sweepOrphans } from '../../core/pipeline/sweep-orphans.ts';
import type { CliContext } from '../cli-context.ts';
import { fmtInt } from '../format-run.ts';

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `24h`, `7d` or `0` → milliseconds. */
export function parseAge(text: string): number {
  const m = /^(\d{1,6})([smhd]?)$/.exec(text.trim());
  if (!m) throw new UsageError(`--older-than: expected a duration like 30m, 24h or 7d, got '${text}'`);
  const n = Number(m[1]);
  if (n === 0) return 0;
  if (!m[2]) throw new UsageError(`--older-than: give a unit (s, m, h or d) after ${n}`);
  return n * (UNITS[m[2]] as number);
}

interface SweepFlags {
  olderThan?: string;
  dryRun?: boolean;
  dataset?: string[];
  json?: boolean;
}

export function registerSweep(program: Command, ctx: CliContext): void {
  program
    .command('sweep')
    .description('delete orphaned outputs of runs that never committed (invisible to erasure) and list raw files no run has read')
    .option('--older-than <age>', 'only objects older than this (30m, 24h, 7d; 0 for all)', '24h')
    .option('--dry-run', 'report what would be deleted; delete nothing')
    .option('--dataset <name...>', 'only these datasets')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nAn orphan is an object in the curated, quarantine or aggregates bucket that no COMPLETE or QUARANTINED run,' +
        '\nrelease or erasure lists in lineage. Every version is deleted and the sweep is recorded in lineage.' +
        '\nThe grace period leaves runs still in flight alone. Raw files are never deleted by the sweep.',
    )
    .action(async (opts: SweepFlags, cmd: Command) => {
      const olderThanMs = opts.olderThan === undefined ? DEFAULT_SWEEP_GRACE_MS : parseAge(opts.olderThan);
      const ports = await ctx.ports(cmd.optsWithGlobals().home as string | undefined);
      const report = await sweepOrphans(ports, {
        olderThanMs,
        dryRun: opts.dryRun === true,
        ...(opts.dataset ? { datasets: opts.dataset } : {}),
      });
      if (opts.json) {
        ctx.out(JSON.stringify(report, null, 2));
        return;
      }
      for (const line of renderSweep(ctx, report)) ctx.out(line);
    });
}

/** The sweep report for a terminal. */
export function renderSweep(ctx: CliContext, r: SweepReport): string[] {
  const c = ctx.colors;
  const lines: string[] = [];
  const verb = r.dryRun ? 'would delete' : 'deleted';
  const head =
    r.orphans.length === 0 ? c.green('✔ no orphaned outputs') : `${c.yellow('!')} ${verb} ${fmtInt(r.orphans.length)} orphaned object(s)`;
  lines.push(`${head}  ${c.dim(`(${fmtInt(r.objectsChecked)} checked, ${fmtInt(r.objectsKnown)} listed in lineage)`)}`);
  for (const o of r.orphans) {
    const versions = r.dryRun ? '' : `, ${fmtInt(o.versionsDeleted)} version(s)`;
    lines.push(`    ${c.dim(o.bucket.padEnd(11))} ${o.key}  ${fmtInt(o.size)} bytes${versions}`);
  }
  if (r.tooYoung > 0)
    lines.push(`  ${fmtInt(r.tooYoung)} unlisted object(s) younger than the grace period left alone (runs may still commit)`);
  if (r.unprocessedRaw.length > 0) {
    lines.push(
      `${c.yellow('!')} ${fmtInt(r.unprocessedRaw.length)} raw file(s) no committed run has read: erasure cannot search them until they are run again`,
    );
    for (const o of r.unprocessedRaw) lines.push(`    ${c.dim('ingest'.padEnd(11))} ${o.key}`);
  }
  if (r.recordIds.length > 0) lines.push(c.dim(`  recorded in lineage: ${r.recordIds.join(', ')}`));
  return lines;
}
