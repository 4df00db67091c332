/**
 * Drift between a run's profile and the dataset's previous runs. Findings name the column and
 * the metric; `previous`/`current` hold shares, type names or means of non-PII columns, never a
 * cell value.
 */
import type { ColumnProfile, DriftFinding } from '../lineage/run-record.ts';

export const DEFAULT_NULL_SHARE_DELTA = 0.2;
export const DEFAULT_MEAN_SHIFT_SIGMAS = 4;

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The most common non-null type of a type mix, or undefined when there is none. */
function dominantType(types: Readonly<Record<string, number>>): string | undefined {
  let best: string | undefined;
  let share = 0;
  for (const [t, s] of Object.entries(types)) {
    if (t !== 'null' && s > share) {
      best = t;
      share = s;
    }
  }
  return best;
}

function average(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/**
 * Spread of a column's values in earlier runs: their standard deviation when the profiles carry
 * one (QualityProfile.stddev), else a range-based estimate (range / 6), else the deviation of the
 * earlier means.
 */
function previousSpread(prev: readonly ColumnProfile[]): number {
  const sds = prev.map((p) => (p as { stddev?: unknown }).stddev).filter((s): s is number => typeof s === 'number' && Number.isFinite(s));
  if (sds.length > 0 && average(sds) > 0) return average(sds);
  const ranges = prev
    .filter((p) => typeof p.min === 'number' && typeof p.max === 'number')
    .map((p) => ((p.max as number) - (p.min as number)) / 6);
  if (ranges.length > 0 && average(ranges) > 0) return average(ranges);
  const means = prev.map((p) => p.mean).filter((m): m is number => typeof m === 'number');
  if (means.length < 2) return 0;
  const mu = average(means);
  return Math.sqrt(average(means.map((m) => (m - mu) ** 2)));
}

/** Compares `current` with the mean of `previous` runs' profiles (oldest first or any order). */
export function detectDrift(
  current: readonly ColumnProfile[],
  previous: readonly (readonly ColumnProfile[])[],
  opts: { nullShareDelta?: number; meanShiftSigmas?: number } = {},
): DriftFinding[] {
  if (previous.length === 0) return [];
  const nullShareDelta = opts.nullShareDelta ?? DEFAULT_NULL_SHARE_DELTA;
  const sigmas = opts.meanShiftSigmas ?? DEFAULT_MEAN_SHIFT_SIGMAS;
  const history = new Map<string, ColumnProfile[]>();
  for (const run of previous) {
    for (const p of run) {
      const list = history.get(p.column);
      if (list) list.push(p);
      else history.set(p.column, [p]);
    }
  }
  const findings: DriftFinding[] = [];
  const seen = new Set<string>();
  for (const cur of current) {
    seen.add(cur.column);
    const prev = history.get(cur.column);
    if (!prev) {
      findings.push({
        column: cur.column,
        metric: 'newColumn',
        previous: 'absent',
        current: 'present',
        message: `column '${cur.column}' is new: no earlier run had it`,
      });
      continue;
    }
    const prevNull = average(prev.map((p) => p.nullShare));
    if (Math.abs(cur.nullShare - prevNull) > nullShareDelta) {
      findings.push({
        column: cur.column,
        metric: 'nullShare',
        previous: round(prevNull),
        current: round(cur.nullShare),
        message: `column '${cur.column}': null share moved from ${pct(prevNull)} to ${pct(cur.nullShare)} (limit ±${pct(nullShareDelta)})`,
      });
    }
    const mix: Record<string, number> = {};
    for (const p of prev) for (const [t, s] of Object.entries(p.types)) mix[t] = (mix[t] ?? 0) + s / prev.length;
    const before = dominantType(mix);
    const now = dominantType(cur.types);
    if (before !== undefined && now !== undefined && before !== now) {
      findings.push({
        column: cur.column,
        metric: 'typeMix',
        previous: before,
        current: now,
        message: `column '${cur.column}': dominant type changed from ${before} to ${now}`,
      });
    }
    const means = prev.map((p) => p.mean).filter((m): m is number => typeof m === 'number' && Number.isFinite(m));
    if (typeof cur.mean === 'number' && means.length > 0) {
      const mu = average(means);
      const spread = previousSpread(prev);
      const shift = Math.abs(cur.mean - mu);
      if (spread > 0 ? shift > sigmas * spread : shift > 0 && means.length >= 2) {
        findings.push({
          column: cur.column,
          metric: 'distribution',
          previous: mu,
          current: cur.mean,
          message:
            spread > 0
              ? `column '${cur.column}': mean shifted by ${round(shift / spread, 1)} spreads (limit ${sigmas})`
              : `column '${cur.column}': mean moved off a value constant in earlier runs`,
        });
      }
    }
  }
  for (const [column, prev] of history) {
    // Only columns every earlier run had are expected now.
    if (!seen.has(column) && prev.length === previous.length) {
      findings.push({
        column,
        metric: 'missingColumn',
        previous: 'present',
        current: 'absent',
        message: `column '${column}' is missing: every earlier run had it`,
      });
    }
  }
  return findings;
}

function pct(x: number): string {
  return `${round(x * 100, 1)}%`;
}
