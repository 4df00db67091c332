import { describe, expect, it } from 'vitest';
import type { ColumnProfile } from '../../../functions/core/lineage/run-record.ts';
import { detectDrift } from '../../../functions/core/quality/drift.ts';
import type { QualityProfile } from '../../../functions/core/quality/profile-builder.ts';

const col = (column: string, over: Partial<QualityProfile> = {}): QualityProfile => ({
  column,
  count: 1000,
  nullShare: 0.1,
  distinctEstimate: 500,
  types: { integer: 0.9, null: 0.1 },
  min: 0,
  max: 100,
  mean: 50,
  stddev: 10,
  ...over,
});

const runs = (...profiles: ColumnProfile[][]) => profiles;

describe('detectDrift', () => {
  it('no previous runs, no findings', () => {
    expect(detectDrift([col('a')], [])).toEqual([]);
  });

  it('a stable column gives nothing', () => {
    expect(detectDrift([col('a', { mean: 52, nullShare: 0.12 })], runs([col('a')], [col('a', { mean: 48 })]))).toEqual([]);
  });

  it.each([
    ['null share up beyond 0.2', { nullShare: 0.35 }, 'nullShare'],
    ['null share down to 0 (within 0.2)', { nullShare: 0 }, undefined],
    ['null share just within', { nullShare: 0.29 }, undefined],
    ['null share just beyond', { nullShare: 0.31 }, 'nullShare'],
    ['dominant type changed', { types: { string: 0.6, integer: 0.3, null: 0.1 } }, 'typeMix'],
    ['type mix moved but same dominant', { types: { integer: 0.6, string: 0.3, null: 0.1 } }, undefined],
    ['mean shifted 4.1 spreads', { mean: 91 }, 'distribution'],
    ['mean shifted 3.9 spreads', { mean: 89 }, undefined],
    ['mean shifted down', { mean: 5 }, 'distribution'],
  ] as [string, Partial<QualityProfile>, string | undefined][])('%s', (_name, over, metric) => {
    const findings = detectDrift([col('a', over)], runs([col('a')], [col('a')]));
    expect(findings.map((f) => f.metric)).toEqual(metric ? [metric] : []);
  });

  it('uses the mean of previous runs', () => {
    // Null share 0.0 and 0.4 before: mean 0.2, so 0.35 is within 0.2.
    const prev = runs([col('a', { nullShare: 0 })], [col('a', { nullShare: 0.4 })]);
    expect(detectDrift([col('a', { nullShare: 0.35 })], prev)).toEqual([]);
    const f = detectDrift([col('a', { nullShare: 0.45 })], prev);
    expect(f).toEqual([
      {
        column: 'a',
        metric: 'nullShare',
        previous: 0.2,
        current: 0.45,
        message: "column 'a': null share moved from 20% to 45% (limit ±20%)",
      },
    ]);
  });

  it('options override the thresholds', () => {
    expect(detectDrift([col('a', { nullShare: 0.2 })], runs([col('a')]), { nullShareDelta: 0.05 }).map((f) => f.metric)).toEqual([
      'nullShare',
    ]);
    expect(detectDrift([col('a', { mean: 71 })], runs([col('a')]), { meanShiftSigmas: 2 }).map((f) => f.metric)).toEqual(['distribution']);
  });

  it('without a stored stddev the spread comes from the range', () => {
    const prev: ColumnProfile = {
      column: 'a',
      count: 10,
      nullShare: 0,
      distinctEstimate: 10,
      types: { integer: 1 },
      min: 0,
      max: 60,
      mean: 30,
    };
    // spread = 60 / 6 = 10: a shift of 41 is beyond 4 spreads, 39 is not.
    expect(detectDrift([{ ...prev, mean: 71 }], [[prev]]).map((f) => f.metric)).toEqual(['distribution']);
    expect(detectDrift([{ ...prev, mean: 69 }], [[prev]])).toEqual([]);
  });

  it('PII columns (no mean) only drift on shares and types', () => {
    const pii = (over: Partial<ColumnProfile> = {}): ColumnProfile => ({
      column: 'email',
      count: 10,
      nullShare: 0,
      distinctEstimate: 10,
      types: { string: 1 },
      ...over,
    });
    expect(detectDrift([pii()], [[pii()]])).toEqual([]);
    expect(detectDrift([pii({ nullShare: 0.5 })], [[pii()]]).map((f) => f.metric)).toEqual(['nullShare']);
  });

  it('missing and new columns', () => {
    const prev = runs([col('a'), col('b'), col('c')], [col('a'), col('b')]);
    const f = detectDrift([col('a'), col('d')], prev);
    expect(f.map((x) => [x.column, x.metric])).toEqual([
      ['d', 'newColumn'],
      ['b', 'missingColumn'],
    ]);
  });

  it('messages name the column and the metric, never values', () => {
    const f = detectDrift([col('amount', { mean: 1234.5678, types: { string: 1 } })], runs([col('amount')]));
    expect(f.map((x) => x.metric)).toEqual(['typeMix', 'distribution']);
    for (const x of f) {
      expect(x.message).toContain("column 'amount'");
      expect(x.message).not.toContain('1234');
    }
  });
});
