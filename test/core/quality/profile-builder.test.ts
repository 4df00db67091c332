import { describe, expect, it } from 'vitest';
import { ProfileBuilder } from '../../../functions/core/quality/profile-builder.ts';
import type { Cell } from '../../../functions/core/types.ts';

function profileOf(columns: string[], rows: Cell[][], pii: string[] = [], sampleSize?: number) {
  const b = new ProfileBuilder(columns, { piiColumns: new Set(pii), ...(sampleSize ? { sampleSize } : {}) });
  for (const r of rows) b.add(r);
  return b.finish();
}

describe('ProfileBuilder', () => {
  it('computes counts, null share, type mix, lengths, min/max/mean on hand-built data', () => {
    const rows: Cell[][] = [
      ['1', 'a', 'true', '2024-01-05'],
      ['2', '', 'false', '2024-03-01'],
      ['3', 'bbb', 'TRUE', ''],
      ['', 'cc', 'x', '2023-12-31T10:00:00Z'],
      ['4.5', 'a', null, '2024-02-10'],
    ];
    const [n, s, b, d] = profileOf(['n', 's', 'b', 'd'], rows);
    expect(n).toMatchObject({
      column: 'n',
      count: 5,
      nullShare: 0.2,
      distinctEstimate: 4,
      types: { integer: 0.6, number: 0.2, null: 0.2 },
      min: 1,
      max: 4.5,
      mean: 2.625,
      minLength: 1,
      maxLength: 3,
      outliers: 0,
    });
    expect(n?.stddev).toBeCloseTo(Math.sqrt(((1 - 2.625) ** 2 + (2 - 2.625) ** 2 + (3 - 2.625) ** 2 + (4.5 - 2.625) ** 2) / 4), 10);
    expect(s).toEqual({
      column: 's',
      count: 5,
      nullShare: 0.2,
      distinctEstimate: 3,
      types: { string: 0.8, null: 0.2 },
      minLength: 1,
      maxLength: 3,
    });
    expect(b?.types).toEqual({ boolean: 0.6, string: 0.2, null: 0.2 });
    expect(b?.min).toBeUndefined();
    expect(d).toMatchObject({ types: { date: 0.8, null: 0.2 }, min: '2023-12-31T10:00:00Z', max: '2024-03-01' });
  });

  it('typed JSON cells count by their type', () => {
    const [c] = profileOf(['c'], [[1], [2.5], [true], [null], ['x']]);
    expect(c?.types).toEqual({ integer: 0.2, number: 0.2, boolean: 0.2, null: 0.2, string: 0.2 });
    expect(c).toMatchObject({ min: 1, max: 2.5, mean: 1.75 });
  });

  it('PII columns: only counts, null share, distinct estimate, lengths and type mix', () => {
    const rows: Cell[][] = Array.from({ length: 100 }, (_, i) => [String(30 + (i % 40)), `user${i}@x.io`]);
    rows.push(['999', '']);
    const [age, email] = profileOf(['age', 'email'], rows, ['age', 'email']);
    for (const p of [age, email]) {
      expect(Object.keys(p ?? {}).sort()).toEqual(['column', 'count', 'distinctEstimate', 'maxLength', 'minLength', 'nullShare', 'types']);
    }
    expect(age).toMatchObject({ count: 101, distinctEstimate: 41, minLength: 2, maxLength: 3 });
    expect(email?.nullShare).toBeCloseTo(1 / 101, 6);
  });

  it('outliers by median ± 5·MAD', () => {
    // 1..100, plus 3 far values: median ≈ 51.5, MAD ≈ 25.5, limit ≈ 127.5 from the median.
    const values = [...Array.from({ length: 100 }, (_, i) => i + 1), 1000, -500, 170];
    const [c] = profileOf(
      ['c'],
      values.map((v) => [String(v)]),
    );
    expect(c?.outliers).toBe(2);
  });

  it('outliers when most values are equal (MAD 0) fall back to the mean deviation', () => {
    const values = [...Array.from({ length: 95 }, () => 0), 1, 1, 1, 1, 50];
    const [c] = profileOf(
      ['c'],
      values.map((v) => [v]),
    );
    expect(c?.outliers).toBe(1);
    const [flat] = profileOf(
      ['c'],
      Array.from({ length: 50 }, () => [7]),
    );
    expect(flat?.outliers).toBe(0);
  });

  it('is deterministic and bounded: the reservoir never exceeds sampleSize', () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => [String((i * 7919) % 1000), String(i % 3 ? i : '')]);
    const a = profileOf(['x', 'y'], rows, [], 256);
    const b = profileOf(['x', 'y'], rows, [], 256);
    expect(a).toEqual(b);
    const builder = new ProfileBuilder(['x', 'y'], { piiColumns: new Set(), sampleSize: 256 });
    for (const r of rows) builder.add(r);
    const state = builder.toState() as { state: { numeric: { sample: number[] } }[] };
    expect(state.state[0]?.numeric.sample.length).toBe(256);
  });

  it('merging partial builders equals one pass (counts, moments, sketches); state survives JSON', () => {
    const rows: Cell[][] = Array.from({ length: 9_000 }, (_, i) => [String(i % 500), i % 10 ? `v${i % 777}` : '', String(i * 0.5)]);
    const cols = ['a', 'b', 'c'];
    const whole = profileOf(cols, rows, ['b'], 512);
    const parts = [rows.slice(0, 2000), rows.slice(2000, 2001), rows.slice(2001)].map((chunk) => {
      const p = new ProfileBuilder(cols, { piiColumns: new Set(['b']), sampleSize: 512 });
      for (const r of chunk) p.add(r);
      return ProfileBuilder.fromState(JSON.parse(JSON.stringify(p.toState())));
    });
    const [first, ...rest] = parts as [ProfileBuilder, ...ProfileBuilder[]];
    for (const p of rest) first.merge(p);
    const merged = first.finish();
    merged.forEach((m, i) => {
      const w = whole[i];
      expect(m.count).toBe(w?.count);
      expect(m.nullShare).toBe(w?.nullShare);
      expect(m.types).toEqual(w?.types);
      expect(m.distinctEstimate).toBe(w?.distinctEstimate);
      expect(m.min).toBe(w?.min);
      expect(m.max).toBe(w?.max);
      expect(m.minLength).toBe(w?.minLength);
      if (w?.mean !== undefined) expect(m.mean).toBeCloseTo(w.mean, 9);
      if (w?.stddev !== undefined) expect(m.stddev).toBeCloseTo(w.stddev, 9);
    });
    expect(merged[1]?.mean).toBeUndefined();
    // The merged reservoir is a sample of all parts: its outlier count agrees with one pass (none here).
    expect(merged[0]?.outliers).toBe(0);
  });

  it('refuses to merge different columns or a foreign state', () => {
    const a = new ProfileBuilder(['a'], { piiColumns: new Set() });
    expect(() => a.merge(new ProfileBuilder(['b'], { piiColumns: new Set() }))).toThrow(RangeError);
    expect(() => ProfileBuilder.fromState({ version: 99 })).toThrow(TypeError);
    expect(() => ProfileBuilder.fromState(null)).toThrow(TypeError);
  });

  it('an empty column and an empty table', () => {
    expect(profileOf(['a'], [[null], ['']])).toEqual([{ column: 'a', count: 2, nullShare: 1, distinctEstimate: 0, types: { null: 1 } }]);
    expect(profileOf(['a'], [])).toEqual([{ column: 'a', count: 0, nullShare: 0, distinctEstimate: 0, types: {} }]);
  });
});
