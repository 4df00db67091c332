import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AggregateQuery } from '../../../functions/core/contract/contract-schema.ts';
import {
  Aggregator,
  type AggregatorOptions,
  budgetFor,
  deltaSpent,
  type ReleasedAggregate,
  releaseAggregates,
  validateQueries,
} from '../../../functions/core/dp/aggregator.ts';
import { gaussianNoise, partitionSelectionThreshold } from '../../../functions/core/dp/mechanisms.ts';
import { createSeededRandom } from '../../../functions/core/dp/random.ts';
import { ContractError } from '../../../functions/core/errors.ts';
import type { Cell } from '../../../functions/core/types.ts';
import { chiSquareGoodnessOfFit } from './stats.ts';

type QueryInput = Partial<AggregateQuery> & Pick<AggregateQuery, 'id' | 'kind' | 'epsilon'>;
const Q = (q: QueryInput): AggregateQuery => ({ mechanism: 'laplace', ...q });
/** With this ε the noise is 0 except with astronomically small probability. */
const HUGE = 1e6;

function run(
  opts: Omit<AggregatorOptions, 'queries'> & { queries: QueryInput[] },
  rows: readonly Cell[][],
  seed: string | number = 1,
): ReleasedAggregate[] {
  const agg = new Aggregator({ ...opts, queries: opts.queries.map(Q) });
  for (const r of rows) agg.add(r);
  return releaseAggregates(agg, createSeededRandom(seed));
}

function byId(rs: readonly ReleasedAggregate[], id: string): ReleasedAggregate {
  const r = rs.find((x) => x.id === id);
  if (!r) throw new Error(`no release ${id}`);
  return r;
}

describe('counts, clamping and missing values (row unit)', () => {
  const rows: Cell[][] = [[-5], [3], ['20'], [7], ['abc'], [null], [''], ['  ']];

  it('count is exact at a huge ε and carries its metadata', () => {
    const r = byId(run({ columns: ['x'], queries: [{ id: 'n', kind: 'count', epsilon: HUGE }] }, rows), 'n');
    expect(r).toMatchObject({ value: 8, mechanism: 'discrete-laplace', privacyUnit: 'row', grid: 1, delta: 0, epsilon: HUGE });
    expect(r.ci95).toEqual([8, 8]);
  });

  it('count of a column counts its non-missing cells', () => {
    expect(byId(run({ columns: ['x'], queries: [{ id: 'n', kind: 'count', column: 'x', epsilon: HUGE }] }, rows), 'n').value).toBe(6);
  });

  it('sum and mean clamp to the bounds (-5 -> 0, 20 -> 10) and skip non-numbers', () => {
    const rs = run(
      {
        columns: ['x'],
        integerColumns: ['x'],
        queries: [
          { id: 'sum', kind: 'sum', column: 'x', bounds: [0, 10], epsilon: HUGE },
          { id: 'mean', kind: 'mean', column: 'x', bounds: [0, 10], epsilon: HUGE },
        ],
      },
      rows,
    );
    expect(byId(rs, 'sum')).toMatchObject({ value: 20, grid: 1, bounds: [0, 10] }); // unclamped it would be 25
    expect(byId(rs, 'mean').value).toBe(5); // 20 / 4 values
  });

  it('a real-valued column uses the 2^-k grid and still lands on the clamped truth', () => {
    const rs = run({ columns: ['x'], queries: [{ id: 'sum', kind: 'sum', column: 'x', bounds: [0, 10], epsilon: HUGE }] }, [
      [0.1],
      [0.2],
      [11.5],
      [-3],
    ]);
    const s = byId(rs, 'sum');
    expect(s.grid).toBe(2 ** -36);
    expect(Number.isInteger((s.value as number) / (s.grid as number))).toBe(true);
    expect(s.value).toBeCloseTo(10.3, 3); // noise scale 10·2^36/ε grid units ≈ 1e-5
  });

  it('noise scales are Δ/ε: count 1/ε, sum max|bound|/ε, mean (half ε) centred (upper-lower)/2 / (ε/2)', () => {
    const rs = run(
      {
        columns: ['x'],
        queries: [
          { id: 'n', kind: 'count', epsilon: 0.5 },
          { id: 's', kind: 'sum', column: 'x', bounds: [-4, 10], epsilon: 2 },
          { id: 'm', kind: 'mean', column: 'x', bounds: [90, 110], epsilon: 1 },
        ],
      },
      rows,
    );
    expect(byId(rs, 'n').noiseScale).toBe(2);
    expect(byId(rs, 's').noiseScale).toBeCloseTo(5, 12);
    expect(byId(rs, 'm').noiseScale).toBeCloseTo(20, 12);
  });
});

describe('contribution bounding (subject unit)', () => {
  const columns = ['who', 'shop', 'amount'];
  const rows: Cell[][] = [
    ...Array.from({ length: 10 }, (): Cell[] => ['alice', 'A', 10]),
    ['bob', 'B', 1],
    [null, 'A', 100], // no subject: left out
    ['', 'A', 100],
  ];

  it('a subject with 10 rows and maxRowsPerSubject 2 contributes 2', () => {
    const rs = run(
      {
        columns,
        integerColumns: ['amount'],
        subjectKey: 'who',
        privacyUnit: { maxRowsPerSubject: 2, maxPartitionsPerSubject: 1 },
        queries: [
          { id: 'n', kind: 'count', epsilon: HUGE },
          { id: 's', kind: 'sum', column: 'amount', bounds: [0, 100], epsilon: HUGE },
          { id: 'm', kind: 'mean', column: 'amount', bounds: [0, 100], epsilon: HUGE },
        ],
      },
      rows,
    );
    expect(byId(rs, 'n')).toMatchObject({ value: 3, privacyUnit: 'subject' });
    expect(byId(rs, 's').value).toBe(21);
    expect(byId(rs, 'm').value).toBe(7);
  });

  it('keeps the first rows seen, and at most maxPartitionsPerSubject partitions (first seen)', () => {
    const carol: Cell[][] = [
      ['carol', 'C', 1],
      ['carol', 'A', 2],
      ['carol', 'C', 3],
      ['carol', 'B', 4],
      ['carol', 'A', 5],
    ];
    const rs = run(
      {
        columns,
        integerColumns: ['amount'],
        subjectKey: 'who',
        privacyUnit: { maxRowsPerSubject: 1, maxPartitionsPerSubject: 2 },
        queries: [
          { id: 'byShop', kind: 'count', by: 'shop', domain: ['A', 'B', 'C'], epsilon: HUGE },
          { id: 'sumByShop', kind: 'sum', column: 'amount', by: 'shop', domain: ['A', 'B', 'C'], bounds: [0, 10], epsilon: HUGE },
          { id: 'first', kind: 'sum', column: 'amount', bounds: [0, 10], epsilon: HUGE },
        ],
      },
      carol,
    );
    expect(byId(rs, 'byShop').values).toEqual({ A: 1, B: 0, C: 1 });
    expect(byId(rs, 'sumByShop').values).toEqual({ A: 2, B: 0, C: 1 });
    expect(byId(rs, 'first').value).toBe(1);
  });

  it('sensitivity scales with the bounds: grouped count noise p·m/ε, sum m·max|bound|/ε', () => {
    const rs = run(
      {
        columns,
        subjectKey: 'who',
        privacyUnit: { maxRowsPerSubject: 3, maxPartitionsPerSubject: 2 },
        queries: [
          { id: 'n', kind: 'count', epsilon: 1 },
          { id: 'byShop', kind: 'count', by: 'shop', domain: ['A', 'B'], epsilon: 1 },
          { id: 's', kind: 'sum', column: 'amount', bounds: [0, 100], epsilon: 1 },
        ],
      },
      rows,
    );
    expect(byId(rs, 'n').noiseScale).toBe(3);
    expect(byId(rs, 'byShop').noiseScale).toBe(6);
    expect(byId(rs, 's').noiseScale).toBeCloseTo(300, 9);
  });

  it('without a subject key the unit is the row and privacyUnit is ignored', () => {
    const rs = run(
      { columns, privacyUnit: { maxRowsPerSubject: 2, maxPartitionsPerSubject: 1 }, queries: [{ id: 'n', kind: 'count', epsilon: HUGE }] },
      rows,
    );
    expect(byId(rs, 'n')).toMatchObject({ value: 13, privacyUnit: 'row', noiseScale: 1 / HUGE });
  });
});

describe('grouped counts: domain and partition selection', () => {
  const rows: Cell[][] = [...Array.from({ length: 1000 }, (): Cell[] => ['big']), ['rare'], ['zz'], ['zz']];

  it('with a domain: outside keys dropped, every domain key released even at 0', () => {
    const r = byId(
      run({ columns: ['k'], queries: [{ id: 'h', kind: 'histogram', column: 'k', domain: ['big', 'rare', 'none'], epsilon: HUGE }] }, rows),
      'h',
    );
    expect(r.values).toEqual({ big: 1000, rare: 1, none: 0 });
    expect(Object.keys(r.ci95ByKey ?? {})).toEqual(['big', 'rare', 'none']);
    expect(r.partitionSelection).toBeUndefined();
    expect(r.delta).toBe(0);
  });

  it('without a domain: a key appearing once never passes the threshold at small ε', () => {
    const threshold = partitionSelectionThreshold({ epsilon: 0.1, delta: 1e-6, maxRowsPerPartition: 1, maxPartitions: 1 });
    for (let seed = 0; seed < 300; seed++) {
      const r = byId(run({ columns: ['k'], queries: [{ id: 'c', kind: 'count', by: 'k', epsilon: 0.1, delta: 1e-6 }] }, rows, seed), 'c');
      expect(r.partitionSelection?.threshold).toBe(threshold);
      expect(Object.keys(r.values ?? {})).toEqual(['big']);
      expect(r.partitionSelection?.keysReleased).toBe(1);
      expect(r.delta).toBe(1e-6);
    }
  });

  it('without a domain at a huge ε: keys with >= 2 rows pass, a single row still does not', () => {
    const r = byId(run({ columns: ['k'], queries: [{ id: 'c', kind: 'count', by: 'k', epsilon: HUGE, delta: 1e-6 }] }, rows), 'c');
    expect(r.values).toEqual({ big: 1000, zz: 2 });
    expect(r.partitionSelection).toEqual({ threshold: 2, keysReleased: 2 });
  });

  it('subject unit: the threshold grows with maxRowsPerSubject (m + ...)', () => {
    const subj: Cell[][] = rows.map((r, i) => [`s${i % 400}`, r[0] as Cell]);
    const r = byId(
      run(
        {
          columns: ['who', 'k'],
          subjectKey: 'who',
          privacyUnit: { maxRowsPerSubject: 3, maxPartitionsPerSubject: 1 },
          queries: [{ id: 'c', kind: 'count', by: 'k', epsilon: HUGE, delta: 1e-6 }],
        },
        subj,
      ),
      'c',
    );
    // 400 subjects × at most 3 rows of 'big' = 1000 rows, all under the cap; 'zz' has 2 rows < τ = 4.
    expect(r.partitionSelection?.threshold).toBe(4);
    expect(r.values).toEqual({ big: 1000 });
  });
});

describe('quantiles (exponential mechanism)', () => {
  const oneTo100: Cell[][] = Array.from({ length: 100 }, (_, i) => [i + 1]);

  it('median of 1..100 at a huge ε lies between 50 and 51, on the bin grid', () => {
    const r = byId(
      run({ columns: ['x'], queries: [{ id: 'med', kind: 'median', column: 'x', bounds: [0, 100], epsilon: HUGE }] }, oneTo100),
      'med',
    );
    expect(r).toMatchObject({ mechanism: 'exponential', grid: 0.0625, delta: 0, bounds: [0, 100] });
    expect(r.value).toBeGreaterThanOrEqual(50);
    expect(r.value).toBeLessThanOrEqual(51);
    expect(Number.isInteger((r.value as number) / 0.0625)).toBe(true);
  });

  it('quantile 0.9 of 1..100 lies between 90 and 91; clamped data gives the top bin', () => {
    const r = byId(
      run(
        { columns: ['x'], queries: [{ id: 'p90', kind: 'quantile', quantile: 0.9, column: 'x', bounds: [0, 100], epsilon: HUGE }] },
        oneTo100,
      ),
      'p90',
    );
    expect(r.value).toBeGreaterThanOrEqual(90);
    expect(r.value).toBeLessThanOrEqual(91);
    const top = byId(
      run(
        { columns: ['x'], queries: [{ id: 'med', kind: 'median', column: 'x', bounds: [0, 100], epsilon: HUGE }] },
        Array.from({ length: 50 }, () => [1000]),
      ),
      'med',
    );
    expect(top.value).toBe(99.9375);
  });

  it('at a small ε the median is spread but within the bounds', () => {
    for (let seed = 0; seed < 20; seed++) {
      const r = byId(
        run({ columns: ['x'], queries: [{ id: 'med', kind: 'median', column: 'x', bounds: [0, 100], epsilon: 0.01 }] }, oneTo100, seed),
        'med',
      );
      expect(r.value).toBeGreaterThanOrEqual(0);
      expect(r.value).toBeLessThanOrEqual(100);
    }
  });
});

describe('every released real value lies on its grid', () => {
  it('property over random bounds, data and queries', () => {
    const bound = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.double({ min: -1e6, max: 1e6, noNaN: true }));
    fc.assert(
      fc.property(
        bound,
        bound,
        fc.array(fc.oneof(fc.double({ noNaN: true }), fc.constant(null), fc.string({ maxLength: 4 })), { maxLength: 40 }),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        fc.integer(),
        (a, b, values, epsilon, seed) => {
          fc.pre(a !== b && Math.max(Math.abs(a), Math.abs(b)) >= 2 ** -200);
          const bounds: [number, number] = [Math.min(a, b), Math.max(a, b)];
          const domain = ['a', 'b', 'c'];
          const rs = run(
            {
              columns: ['x', 'k'],
              queries: [
                { id: 's', kind: 'sum', column: 'x', bounds, epsilon },
                { id: 'm', kind: 'mean', column: 'x', bounds, epsilon },
                { id: 'q', kind: 'quantile', quantile: 0.25, column: 'x', bounds, epsilon },
                { id: 'g', kind: 'sum', column: 'x', bounds, epsilon, delta: 1e-6, mechanism: 'gaussian' },
                { id: 'gm', kind: 'mean', column: 'x', by: 'k', domain, bounds, epsilon, delta: 1e-6, mechanism: 'gaussian' },
                { id: 'gq', kind: 'median', column: 'x', by: 'k', domain, bounds, epsilon },
              ],
            },
            values.map((v, i) => [v, domain[i % 2] as string]),
            seed,
          );
          for (const r of rs) {
            const grid = r.grid as number;
            const released = r.values ? Object.values(r.values) : [r.value as number];
            if (r.values) expect(Object.keys(r.values)).toEqual(domain);
            for (const v of released) {
              expect(Number.isFinite(v)).toBe(true);
              expect(Number.isInteger(v / grid)).toBe(true);
              if (r.kind !== 'sum') {
                expect(v).toBeGreaterThanOrEqual(bounds[0] - grid);
                expect(v).toBeLessThanOrEqual(bounds[1] + grid);
              }
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('mergeable state', () => {
  const queries: AggregateQuery[] = [
    Q({ id: 'n', kind: 'count', epsilon: 1 }),
    Q({ id: 'byShop', kind: 'count', by: 'shop', epsilon: 1, delta: 1e-6 }),
    Q({ id: 'hist', kind: 'histogram', column: 'shop', domain: ['A', 'B'], epsilon: 1 }),
    Q({ id: 's', kind: 'sum', column: 'amount', bounds: [-5, 50], epsilon: 1 }),
    Q({ id: 'm', kind: 'mean', column: 'amount', by: 'shop', domain: ['A', 'C'], bounds: [0, 10], epsilon: 1 }),
    Q({ id: 'med', kind: 'median', column: 'amount', bounds: [0, 100], epsilon: 1 }),
  ];
  const row = fc.tuple(
    fc.constantFrom<Cell>('u1', 'u2', 'u3', 'u4', null, 7),
    fc.constantFrom<Cell>('A', 'B', 'C', 'D', null),
    fc.oneof(fc.integer({ min: -10, max: 120 }), fc.double({ min: -10, max: 120, noNaN: true }), fc.constant<Cell>('x')),
  );
  const units: [string, Omit<AggregatorOptions, 'queries' | 'columns'>][] = [
    ['row', {}],
    ['subject', { subjectKey: 'who', privacyUnit: { maxRowsPerSubject: 2, maxPartitionsPerSubject: 2 } }],
    // More rows per subject than fit inline (4): exercises the spilled form.
    ['subject, m = 6', { subjectKey: 'who', privacyUnit: { maxRowsPerSubject: 6, maxPartitionsPerSubject: 3 } }],
  ];

  it.each(units)('%s unit: aggregating two halves and merging equals aggregating the whole (states equal, JSON round trip)', (_, unit) => {
    const opts: AggregatorOptions = { columns: ['who', 'shop', 'amount'], queries, ...unit };
    fc.assert(
      fc.property(fc.array(row, { maxLength: 60 }), fc.nat(), (rows, cut) => {
        const k = rows.length === 0 ? 0 : cut % (rows.length + 1);
        const whole = new Aggregator(opts);
        const left = new Aggregator(opts);
        const right = new Aggregator(opts);
        rows.forEach((r, i) => {
          whole.add(r);
          (i < k ? left : right).add(r);
        });
        left.merge(right);
        expect(left.toState()).toEqual(whole.toState());
        const json = JSON.parse(JSON.stringify(right.toState()));
        const back = Aggregator.fromState(json, opts);
        expect(back.toState()).toEqual(right.toState());
        // Same state, same seed: the same release.
        expect(releaseAggregates(left, createSeededRandom(9))).toEqual(releaseAggregates(whole, createSeededRandom(9)));
      }),
      { numRuns: 120 },
    );
  });

  it('merging is associative over three chunks, including re-serialised ones', () => {
    const opts: AggregatorOptions = {
      columns: ['who', 'shop', 'amount'],
      queries,
      subjectKey: 'who',
      privacyUnit: { maxRowsPerSubject: 3, maxPartitionsPerSubject: 1 },
    };
    fc.assert(
      fc.property(fc.array(row, { maxLength: 60 }), fc.nat(), fc.nat(), (rows, c1, c2) => {
        const [a, b] = [c1 % (rows.length + 1), c2 % (rows.length + 1)].sort((x, y) => x - y) as [number, number];
        const whole = new Aggregator(opts);
        const parts = [new Aggregator(opts), new Aggregator(opts), new Aggregator(opts)];
        rows.forEach((r, i) => {
          whole.add(r);
          (parts[i < a ? 0 : i < b ? 1 : 2] as Aggregator).add(r);
        });
        const [p0, p1, p2] = parts.map((p) => Aggregator.fromState(JSON.parse(JSON.stringify(p.toState())), opts)) as [
          Aggregator,
          Aggregator,
          Aggregator,
        ];
        p1.merge(p2);
        p0.merge(p1);
        expect(p0.toState()).toEqual(whole.toState());
      }),
      { numRuns: 80 },
    );
  });

  it('refuses to merge or load states built with other options', () => {
    const a = new Aggregator({ columns: ['who', 'shop', 'amount'], queries });
    const b = new Aggregator({ columns: ['who', 'shop', 'amount'], queries: queries.map((q) => ({ ...q, epsilon: 2 })) });
    expect(() => a.merge(b)).toThrow(ContractError);
    expect(() => Aggregator.fromState(b.toState(), a.options)).toThrow(ContractError);
    expect(() => Aggregator.fromState({ ...a.toState(), version: 2 as 1 }, a.options)).toThrow(ContractError);
    const keyed = (key: number): Aggregator =>
      new Aggregator({ columns: ['who', 'shop', 'amount'], queries, subjectKey: 'who', subjectHashKey: new Uint8Array(32).fill(key) });
    expect(() => keyed(1).merge(keyed(2))).toThrow(ContractError);
    expect(() => keyed(1).merge(keyed(1))).not.toThrow();
  });

  it('refuses a loaded state whose subject contributions exceed the bound', () => {
    const opts: AggregatorOptions = {
      columns: ['who', 'shop', 'amount'],
      queries,
      subjectKey: 'who',
      privacyUnit: { maxRowsPerSubject: 2, maxPartitionsPerSubject: 1 },
    };
    const agg = new Aggregator(opts);
    agg.add(['u1', 'A', 5]);
    const good = agg.toState();
    expect(() => Aggregator.fromState(good, opts)).not.toThrow();
    const subjects = good.subjects as [string, unknown[]][];
    const tamper = (qi: number, slot: unknown): void => {
      const bad = {
        ...good,
        subjects: [[subjects[0]?.[0], subjects[0]?.[1].map((s, i) => (i === qi ? slot : s))]],
      } as unknown as typeof good;
      expect(() => Aggregator.fromState(bad, opts)).toThrow(ContractError);
    };
    tamper(0, 3); // count above maxRowsPerSubject
    tamper(3, [1, 2, 3]); // three items kept
    tamper(1, [['A', 'B'], [1]]); // keys and values disagree
    tamper(1, [
      ['A', 'A'],
      [1, 1],
    ]); // duplicate key
    tamper(3, 1); // a count where items belong
  });

  it('the state never holds raw subject values; keyed hashes differ per key', () => {
    const rows: Cell[][] = [
      ['alice@example.com', 'A', 3],
      ['bob@example.com', 'B', 4],
    ];
    const state = (key?: Uint8Array): string => {
      const agg = new Aggregator({
        columns: ['who', 'shop', 'amount'],
        queries,
        subjectKey: 'who',
        ...(key ? { subjectHashKey: key } : {}),
      });
      for (const r of rows) agg.add(r);
      return JSON.stringify(agg.toState());
    };
    const plain = state();
    expect(plain).not.toContain('alice');
    expect(plain).not.toContain('bob');
    const k1 = state(new Uint8Array(32).fill(1));
    const hashes = (s: string): string[] => (JSON.parse(s).subjects as [string, unknown][]).map(([h]) => h);
    expect(hashes(k1)).not.toEqual(hashes(plain));
    expect(hashes(k1)).not.toEqual(hashes(state(new Uint8Array(32).fill(2))));
    expect(hashes(k1)).toEqual(hashes(state(new Uint8Array(32).fill(1))));
  });
});

describe('end-to-end calibration of the released noise', () => {
  const releases = (query: QueryInput, n: number, unit: Partial<AggregatorOptions> = {}): number[] => {
    const agg = new Aggregator({ columns: ['who'], queries: [Q(query)], ...unit });
    for (let i = 0; i < 40; i++) agg.add([`s${i % 20}`]);
    const rng = createSeededRandom(`e2e-${query.id}`);
    return Array.from({ length: n }, () => (releaseAggregates(agg, rng)[0] as ReleasedAggregate).value as number);
  };

  it('row-unit count at ε = 0.5 has discrete Laplace noise of scale 2', () => {
    const noise = releases({ id: 'lap', kind: 'count', epsilon: 0.5 }, 6000).map((v) => v - 40);
    const q = Math.exp(-0.5);
    expect(chiSquareGoodnessOfFit(noise, (x) => ((1 - q) / (1 + q)) * q ** Math.abs(x)).pValue).toBeGreaterThan(1e-6);
  });

  it('subject-unit count (m = 2, 20 subjects) at ε = 1 has scale 2 around 40', () => {
    const noise = releases({ id: 'subj', kind: 'count', epsilon: 1 }, 6000, {
      subjectKey: 'who',
      privacyUnit: { maxRowsPerSubject: 2, maxPartitionsPerSubject: 1 },
    }).map((v) => v - 40);
    const q = Math.exp(-0.5);
    const pmf = (x: number): number => ((1 - q) / (1 + q)) * q ** Math.abs(x);
    expect(chiSquareGoodnessOfFit(noise, pmf).pValue).toBeGreaterThan(1e-6);
    // Near miss: scale 1 (forgetting the contribution bound) is rejected.
    const q1 = Math.exp(-1);
    expect(chiSquareGoodnessOfFit(noise, (x) => ((1 - q1) / (1 + q1)) * q1 ** Math.abs(x)).pValue).toBeLessThan(1e-6);
  });

  it('Gaussian count at ε = 1, δ = 1e-6 has discrete Gaussian noise with the zCDP σ²', () => {
    const noise = releases({ id: 'gauss', kind: 'count', epsilon: 1, delta: 1e-6, mechanism: 'gaussian' }, 6000).map((v) => v - 40);
    const p = gaussianNoise(1n, 1, 1e-6).param;
    const s2 = Number(p.num) / Number(p.den);
    let z = 0;
    for (let x = -200; x <= 200; x++) z += Math.exp(-(x * x) / (2 * s2));
    expect(chiSquareGoodnessOfFit(noise, (x) => Math.exp(-(x * x) / (2 * s2)) / z).pValue).toBeGreaterThan(1e-6);
  });
});

describe('validateQueries', () => {
  const columns = ['who', 'shop', 'amount'];
  it.each<[string, QueryInput, string]>([
    ['sum without bounds', { id: 'q1', kind: 'sum', column: 'amount', epsilon: 1 }, 'bounds'],
    ['mean without bounds', { id: 'q2', kind: 'mean', column: 'amount', epsilon: 1 }, 'bounds'],
    ['median without bounds', { id: 'q3', kind: 'median', column: 'amount', epsilon: 1 }, 'bounds'],
    ['quantile without bounds', { id: 'q4', kind: 'quantile', quantile: 0.5, column: 'amount', epsilon: 1 }, 'bounds'],
    ['reversed bounds', { id: 'q5', kind: 'sum', column: 'amount', bounds: [10, 0], epsilon: 1 }, 'bounds'],
    ['equal bounds', { id: 'q5b', kind: 'sum', column: 'amount', bounds: [3, 3], epsilon: 1 }, 'bounds'],
    ['infinite bound', { id: 'q6', kind: 'sum', column: 'amount', bounds: [0, Number.POSITIVE_INFINITY], epsilon: 1 }, 'bounds'],
    ['bounds on count', { id: 'q7', kind: 'count', bounds: [0, 1], epsilon: 1 }, 'bounds'],
    ['histogram without column', { id: 'q8', kind: 'histogram', domain: ['A'], epsilon: 1 }, 'column'],
    ['histogram with by', { id: 'q9', kind: 'histogram', column: 'shop', by: 'who', domain: ['A'], epsilon: 1 }, 'by'],
    ['sum without column', { id: 'q10', kind: 'sum', bounds: [0, 1], epsilon: 1 }, 'column'],
    ['gaussian without delta', { id: 'q11', kind: 'count', epsilon: 1, mechanism: 'gaussian' }, 'delta'],
    ['gaussian with delta 0', { id: 'q12', kind: 'count', epsilon: 1, delta: 0, mechanism: 'gaussian' }, 'delta'],
    ['partition selection without delta', { id: 'q13', kind: 'count', by: 'shop', epsilon: 1 }, 'delta'],
    ['histogram selection without delta', { id: 'q14', kind: 'histogram', column: 'shop', epsilon: 1 }, 'delta'],
    [
      'partition selection with gaussian',
      { id: 'q15', kind: 'count', by: 'shop', epsilon: 1, delta: 1e-6, mechanism: 'gaussian' },
      'mechanism',
    ],
    [
      'grouped sum without domain',
      { id: 'q16', kind: 'sum', column: 'amount', by: 'shop', bounds: [0, 1], epsilon: 1, delta: 1e-6 },
      'domain',
    ],
    ['domain without by', { id: 'q17', kind: 'count', domain: ['A'], epsilon: 1 }, 'domain'],
    ['empty domain', { id: 'q18', kind: 'count', by: 'shop', domain: [], epsilon: 1 }, 'domain'],
    ['duplicate domain keys', { id: 'q19', kind: 'count', by: 'shop', domain: ['A', 'A'], epsilon: 1 }, 'domain'],
    ['unknown column', { id: 'q20', kind: 'sum', column: 'price', bounds: [0, 1], epsilon: 1 }, 'column'],
    ['unknown by', { id: 'q21', kind: 'count', by: 'region', domain: ['A'], epsilon: 1 }, 'by'],
    ['quantile without quantile', { id: 'q22', kind: 'quantile', column: 'amount', bounds: [0, 1], epsilon: 1 }, 'quantile'],
    ['quantile on median', { id: 'q23', kind: 'median', quantile: 0.3, column: 'amount', bounds: [0, 1], epsilon: 1 }, 'quantile'],
    [
      'median with gaussian',
      { id: 'q24', kind: 'median', column: 'amount', bounds: [0, 1], epsilon: 1, delta: 1e-6, mechanism: 'gaussian' },
      'mechanism',
    ],
    ['zero epsilon', { id: 'q25', kind: 'count', epsilon: 0 }, 'epsilon'],
    ['epsilon below the ledger unit', { id: 'q25b', kind: 'count', epsilon: 1e-10 }, 'epsilon'],
    ['epsilon above 1e6', { id: 'q25c', kind: 'count', epsilon: 2e6 }, 'epsilon'],
    ['delta of 1', { id: 'q26', kind: 'count', epsilon: 1, delta: 1 }, 'delta'],
    ['tiny bounds', { id: 'q27', kind: 'sum', column: 'amount', bounds: [0, 1e-70], epsilon: 1 }, 'bounds'],
  ])('%s -> ContractError naming the query and field', (_, query, field) => {
    let caught: unknown;
    try {
      validateQueries([Q(query)], columns);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ContractError);
    const err = caught as ContractError;
    expect(err.message).toContain(`'${query.id}'`);
    expect(err.message).toContain(`'${field}'`);
    expect(err.context).toMatchObject({ query: query.id, field });
  });

  it('duplicate ids are refused', () => {
    expect(() => validateQueries([Q({ id: 'a', kind: 'count', epsilon: 1 }), Q({ id: 'a', kind: 'count', epsilon: 1 })], columns)).toThrow(
      /'a'.*'id'/,
    );
  });

  it.each<[string, QueryInput]>([
    ['plain count', { id: 'ok1', kind: 'count', epsilon: 1 }],
    ['laplace count with an unused delta', { id: 'ok2', kind: 'count', epsilon: 1, delta: 1e-6 }],
    ['partition selection', { id: 'ok3', kind: 'count', by: 'shop', epsilon: 1, delta: 1e-9 }],
    ['histogram with a domain', { id: 'ok4', kind: 'histogram', column: 'shop', domain: ['A'], epsilon: 1 }],
    [
      'gaussian grouped sum with a domain',
      {
        id: 'ok5',
        kind: 'sum',
        column: 'amount',
        by: 'shop',
        domain: ['A'],
        bounds: [-1, 1],
        epsilon: 1,
        delta: 1e-6,
        mechanism: 'gaussian',
      },
    ],
    ['quantile', { id: 'ok6', kind: 'quantile', quantile: 0.99, column: 'amount', bounds: [0, 1], epsilon: 1 }],
    [
      'median with bounds at the magnitude limit',
      { id: 'ok7', kind: 'median', column: 'amount', bounds: [-(2 ** 200), 2 ** 200], epsilon: 1 },
    ],
  ])('near miss: %s is valid', (_, query) => {
    expect(() => validateQueries([Q(query)], columns)).not.toThrow();
  });

  it('the constructor validates too, and checks the subject key', () => {
    expect(() => new Aggregator({ columns, queries: [Q({ id: 'x', kind: 'sum', column: 'amount', epsilon: 1 })] })).toThrow(ContractError);
    expect(() => new Aggregator({ columns, queries: [], subjectKey: 'nobody' })).toThrow(ContractError);
    expect(
      () => new Aggregator({ columns, queries: [], subjectKey: 'who', privacyUnit: { maxRowsPerSubject: 0, maxPartitionsPerSubject: 1 } }),
    ).toThrow(ContractError);
  });
});

describe('budgetFor (sequential composition)', () => {
  it('sums ε exactly and charges δ only where a mechanism uses it', () => {
    const queries = [
      Q({ id: 'a', kind: 'count', epsilon: 0.1, delta: 1e-5 }), // Laplace: its delta is not used
      Q({ id: 'b', kind: 'sum', column: 'x', bounds: [0, 1], epsilon: 0.2, delta: 1e-6, mechanism: 'gaussian' }),
      Q({ id: 'c', kind: 'count', by: 'k', epsilon: 0.3, delta: 2e-7 }), // partition selection
      Q({ id: 'd', kind: 'count', by: 'k', domain: ['x'], epsilon: 0.4, delta: 1e-6 }), // domain: pure ε
      Q({ id: 'e', kind: 'median', column: 'x', bounds: [0, 1], epsilon: 0.5 }),
    ];
    expect(queries.map(deltaSpent)).toEqual([0, 1e-6, 2e-7, 0, 0]);
    expect(budgetFor(queries)).toEqual({ epsilon: 1.5, delta: 1.2e-6 });
    expect(budgetFor([])).toEqual({ epsilon: 0, delta: 0 });
    expect(budgetFor([Q({ id: 'a', kind: 'count', epsilon: 0.1 }), Q({ id: 'b', kind: 'count', epsilon: 0.2 })]).epsilon).toBe(0.3);
  });

  it('releases report the spend of each query, and their sum is budgetFor', () => {
    const queries: QueryInput[] = [
      { id: 'n', kind: 'count', epsilon: 0.25 },
      { id: 'g', kind: 'count', epsilon: 0.5, delta: 1e-7, mechanism: 'gaussian' },
    ];
    const rs = run({ columns: ['x'], queries }, [[1]]);
    expect(rs.map((r) => [r.epsilon, r.delta])).toEqual([
      [0.25, 0],
      [0.5, 1e-7],
    ]);
    expect(budgetFor(queries.map(Q))).toEqual({ epsilon: 0.75, delta: 1e-7 });
  });
});
