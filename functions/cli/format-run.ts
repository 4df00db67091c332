/**
 * Human-readable summaries of runs, plans and risk, shared by `run`, `scan` and `demo`.
 */
import type { RunRecord } from '../core/lineage/run-record.ts';
import type { ColumnDecision } from '../core/types.ts';
import type { CliContext } from './cli-context.ts';

export function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function renderPlan(ctx: CliContext, plan: readonly ColumnDecision[], indent = '  '): string[] {
  const c = ctx.colors;
  const width = Math.min(28, Math.max(8, ...plan.map((d) => d.column.length)));
  return plan.map((d) => {
    const entity = d.entity ?? '—';
    const op = d.freeText ? `${d.operator === 'keep' ? 'spans' : d.operator}` : d.operator;
    const opColored = d.operator === 'keep' && !d.freeText ? c.dim(op) : c.cyan(op);
    const conf = d.entity ? `${d.confidence.toFixed(2)} (${d.source})` : '';
    const subject = d.identifiesSubject ? c.yellow(' subject') : '';
    return `${indent}${pad(d.column, width)}  ${pad(entity, 15)} ${pad(opColored, 10 + (opColored.length - op.length))} ${c.dim(conf)}${subject}`;
  });
}

/** One line per column: null share, distinct estimate, range (only for non-PII columns), outliers. */
export function renderProfile(ctx: CliContext, profile: RunRecord['profile'], indent = '  '): string[] {
  const c = ctx.colors;
  const width = Math.min(28, Math.max(8, ...profile.map((p) => p.column.length)));
  return profile.map((p) => {
    const parts = [`nulls ${(p.nullShare * 100).toFixed(1)}%`, `≈${fmtInt(p.distinctEstimate)} distinct`];
    if (p.min !== undefined && p.max !== undefined) parts.push(`${p.min} … ${p.max}`);
    else if (p.minLength !== undefined && p.maxLength !== undefined) parts.push(`length ${p.minLength}–${p.maxLength}`);
    if (p.outliers) parts.push(c.yellow(`${fmtInt(p.outliers)} outliers`));
    return `${indent}${pad(p.column, width)}  ${c.dim(parts.join(' · '))}`;
  });
}

export function renderRunSummary(ctx: CliContext, file: string, record: RunRecord, opts: { duplicate: boolean }): string[] {
  const c = ctx.colors;
  const n = record.counts;
  const lines: string[] = [];
  const secs = (record.timings.ms / 1000).toFixed(2);
  if (opts.duplicate) {
    lines.push(`${c.yellow('↺')} ${file}: already processed as ${record.id} (${record.status}); nothing written again`);
    return lines;
  }
  const mark = record.status === 'COMPLETE' ? (n.rowsQuarantined > 0 ? c.yellow('!') : c.green('✔')) : c.red('✘');
  lines.push(
    `${mark} ${c.bold(file)} → dataset ${c.bold(record.dataset)}  ${c.dim(`${record.id} · ${fmtBytes(record.input.size)} · ${secs} s`)}`,
  );
  if (record.status !== 'COMPLETE') {
    const message = record.error?.message ?? 'rejected';
    // Every rejection names its rule; most messages carry it already.
    const rule = record.error?.rule && !message.includes(`[rule ${record.error.rule}]`) ? ` [rule ${record.error.rule}]` : '';
    lines.push(`  ${c.red(record.status)}: ${message}${rule}`);
  }
  const conserved = n.conserved ? c.green('✓ conserved') : c.red('✗ NOT conserved');
  lines.push(
    `  rows: ${fmtInt(n.rowsIn)} in · ${fmtInt(n.rowsPublished)} published · ${fmtInt(n.rowsQuarantined)} quarantined · ${fmtInt(n.rowsSuppressed)} suppressed (erased subjects)  ${conserved}`,
  );
  if (record.plan.length > 0) {
    lines.push('  columns:');
    lines.push(...renderPlan(ctx, record.plan, '    '));
  }
  if (record.profile.length > 0) {
    lines.push('  data quality:');
    lines.push(...renderProfile(ctx, record.profile, '    '));
  }
  const reasons = Object.entries(record.quarantineReasons);
  if (reasons.length > 0) lines.push(`  quarantine reasons: ${reasons.map(([r, k]) => `${r} ×${k}`).join(', ')}`);
  if (record.risk) {
    const r = record.risk;
    lines.push(
      `  re-identification risk: k-anonymity over ${r.quasiIdentifiers.join(', ')}: smallest class ${r.smallestClass}, ` +
        `${(r.shareBelowK * 100).toFixed(1)}% of rows in classes below k=${r.k}`,
    );
  }
  if (record.drift.length > 0) lines.push(`  ${c.yellow('drift')}: ${record.drift.map((d) => d.message).join('; ')}`);
  if (record.budget.length > 0) {
    const b = record.budget[0];
    if (b) lines.push(`  DP aggregates released: ε ${b.epsilon} spent, ε ${b.remainingEpsilon.toFixed(3)} left`);
  }
  if (record.budgetRefusal) lines.push(`  ${c.yellow('DP aggregates not released')}: ${record.budgetRefusal}`);
  if (record.formulaCellsNeutralised > 0) lines.push(`  ${fmtInt(record.formulaCellsNeutralised)} spreadsheet-formula cells neutralised`);
  lines.push('  outputs:');
  for (const o of record.outputs) {
    if (o.role === 'subject-index' || o.role === 'manifest') continue;
    const rows = o.rows !== undefined ? `${fmtInt(o.rows)} rows, ` : '';
    lines.push(`    ${pad(o.role, 17)} ${o.bucket}/${o.key}  ${c.dim(`(${rows}${fmtBytes(o.size)})`)}`);
  }
  return lines;
}
