/**
 * Streaming data-quality profile per column: counts, null share, HyperLogLog distinct estimate,
 * type mix, length range, and for columns without PII numeric min/max/mean/spread and robust
 * outliers (median ± 5·MAD over a seeded reservoir sample). Partial states merge, so chunks
 * profiled in parallel give one profile; states are JSON-serialisable.
 */
import { kindOf } from '../contract/value-types.ts';
import type { ColumnProfile } from '../lineage/run-record.ts';
import type { Cell } from '../types.ts';
import { murmur3 } from './hash.ts';
import { HyperLogLog } from './hyperloglog.ts';

/** A column profile with the spread drift detection uses (absent for PII columns). */
export interface QualityProfile extends ColumnProfile {
  /** Population standard deviation of the numeric values. */
  readonly stddev?: number;
}

export const DEFAULT_PROFILE_SAMPLE = 2048;
/** Outliers lie further than this many MADs from the median. */
export const OUTLIER_MADS = 5;
const HLL_PRECISION = 14;
const STATE_VERSION = 1;

type TypeName = 'integer' | 'number' | 'boolean' | 'date' | 'string';

interface ColumnState {
  count: number;
  nulls: number;
  types: Record<TypeName, number>;
  minLength: number | null;
  maxLength: number | null;
  hll: { p: number; registers: string };
  numeric: { n: number; mean: number; m2: number; min: number | null; max: number | null; sample: number[]; rng: number } | null;
  dates: { min: string; max: string } | null;
}

interface BuilderState {
  version: number;
  columns: string[];
  piiColumns: string[];
  sampleSize: number;
  state: ColumnState[];
}

class ColumnAccumulator {
  count = 0;
  nulls = 0;
  integer = 0;
  number = 0;
  boolean = 0;
  date = 0;
  string = 0;
  minLength = Number.POSITIVE_INFINITY;
  maxLength = -1;
  readonly hll: HyperLogLog;
  // Numeric moments (Welford) and a reservoir sample; only kept for columns without PII.
  n = 0;
  mean = 0;
  m2 = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  sample: Float64Array;
  rng: number;
  dateMin: string | undefined;
  dateMax: string | undefined;

  constructor(
    readonly name: string,
    readonly pii: boolean,
    readonly sampleSize: number,
    hll?: HyperLogLog,
  ) {
    this.hll = hll ?? new HyperLogLog(HLL_PRECISION);
    this.sample = new Float64Array(pii ? 0 : sampleSize);
    // Deterministic per column: the same data gives the same profile.
    this.rng = murmur3(name, 0x5eed) | 0;
  }

  /** mulberry32 */
  random(): number {
    this.rng = (this.rng + 0x6d2b79f5) | 0;
    let t = this.rng;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  add(v: Cell | undefined): void {
    this.count++;
    if (v === null || v === undefined || v === '') {
      this.nulls++;
      return;
    }
    const s = typeof v === 'string' ? v : String(v);
    this.hll.add(s);
    if (s.length < this.minLength) this.minLength = s.length;
    if (s.length > this.maxLength) this.maxLength = s.length;
    const kind = kindOf(v);
    switch (kind) {
      case 'integer':
      case 'number': {
        if (kind === 'integer') this.integer++;
        else this.number++;
        if (!this.pii) {
          const x = typeof v === 'number' ? v : Number(v);
          if (Number.isFinite(x)) this.addNumber(x);
        }
        return;
      }
      case 'boolean':
        this.boolean++;
        return;
      case 'date':
      case 'datetime':
        this.date++;
        if (!this.pii) {
          if (this.dateMin === undefined || s < this.dateMin) this.dateMin = s;
          if (this.dateMax === undefined || s > this.dateMax) this.dateMax = s;
        }
        return;
      default:
        this.string++;
    }
  }

  private addNumber(x: number): void {
    const n = ++this.n;
    const d = x - this.mean;
    this.mean += d / n;
    this.m2 += d * (x - this.mean);
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    // Algorithm R.
    if (n <= this.sampleSize) this.sample[n - 1] = x;
    else {
      const j = Math.floor(this.random() * n);
      if (j < this.sampleSize) this.sample[j] = x;
    }
  }

  merge(o: ColumnAccumulator): void {
    this.count += o.count;
    this.nulls += o.nulls;
    this.integer += o.integer;
    this.number += o.number;
    this.boolean += o.boolean;
    this.date += o.date;
    this.string += o.string;
    this.minLength = Math.min(this.minLength, o.minLength);
    this.maxLength = Math.max(this.maxLength, o.maxLength);
    this.hll.merge(o.hll);
    if (o.dateMin !== undefined && (this.dateMin === undefined || o.dateMin < this.dateMin)) this.dateMin = o.dateMin;
    if (o.dateMax !== undefined && (this.dateMax === undefined || o.dateMax > this.dateMax)) this.dateMax = o.dateMax;
    if (this.pii || o.n === 0) return;
    const a = this.sampleValues();
    const b = o.sampleValues();
    const na = this.n;
    const nb = o.n;
    // Chan et al.: combine means and squared deviations.
    const n = na + nb;
    const d = o.mean - this.mean;
    this.mean += (d * nb) / n;
    this.m2 += o.m2 + (d * d * na * nb) / n;
    this.n = n;
    this.min = Math.min(this.min, o.min);
    this.max = Math.max(this.max, o.max);
    // The merged reservoir takes from each side in proportion to the values it stands for.
    const size = this.sampleSize;
    if (a.length + b.length <= size) {
      this.sample.set(a, 0);
      this.sample.set(b, a.length);
      return;
    }
    let fromA = Math.round((size * na) / n);
    fromA = Math.min(a.length, Math.max(size - b.length, fromA));
    const merged = new Float64Array(size);
    const pick = (src: Float64Array, k: number, offset: number) => {
      const pool = Float64Array.from(src);
      for (let i = 0; i < k; i++) {
        const j = i + Math.floor(this.random() * (pool.length - i));
        const t = pool[j] as number;
        pool[j] = pool[i] as number;
        pool[i] = t;
        merged[offset + i] = t;
      }
    };
    pick(a, fromA, 0);
    pick(b, size - fromA, fromA);
    this.sample = merged;
  }

  sampleValues(): Float64Array {
    return this.sample.subarray(0, Math.min(this.n, this.sampleSize));
  }

  finish(): QualityProfile {
    const count = this.count;
    const nonNull = count - this.nulls;
    const share = (k: number) => (count === 0 ? 0 : Math.round((k / count) * 1e6) / 1e6);
    const types: Record<string, number> = {};
    for (const [k, v] of [
      ['integer', this.integer],
      ['number', this.number],
      ['boolean', this.boolean],
      ['date', this.date],
      ['string', this.string],
      ['null', this.nulls],
    ] as const) {
      if (v > 0) types[k] = share(v);
    }
    const profile: {
      -readonly [K in keyof QualityProfile]: QualityProfile[K];
    } = {
      column: this.name,
      count,
      nullShare: share(this.nulls),
      distinctEstimate: nonNull === 0 ? 0 : Math.min(nonNull, Math.round(this.hll.estimate())),
      types,
    };
    if (nonNull > 0) {
      profile.minLength = this.minLength;
      profile.maxLength = this.maxLength;
    }
    if (this.pii || nonNull === 0) return profile;
    if (this.n > 0 && this.n * 2 >= nonNull) {
      profile.min = this.min;
      profile.max = this.max;
      profile.mean = this.mean;
      profile.stddev = Math.sqrt(this.m2 / this.n);
      profile.outliers = this.outliers();
    } else if (this.date * 2 >= nonNull && this.dateMin !== undefined && this.dateMax !== undefined) {
      profile.min = this.dateMin;
      profile.max = this.dateMax;
    }
    return profile;
  }

  /** Outliers in the reservoir (beyond median ± 5·MAD), scaled to all numeric values seen. */
  private outliers(): number {
    const xs = Float64Array.from(this.sampleValues()).sort();
    const len = xs.length;
    if (len < 3) return 0;
    const median = medianOf(xs);
    const dev = xs.map((x) => Math.abs(x - median)).sort();
    let scale = medianOf(dev);
    if (scale === 0) {
      // More than half the values equal the median: fall back to the mean absolute deviation.
      let sum = 0;
      for (const d of dev) sum += d;
      scale = (sum / len) * 1.2533;
    }
    if (scale === 0) return 0;
    const limit = OUTLIER_MADS * scale;
    let out = 0;
    for (const x of xs) if (Math.abs(x - median) > limit) out++;
    return Math.round((out * this.n) / len);
  }

  toState(): ColumnState {
    return {
      count: this.count,
      nulls: this.nulls,
      types: { integer: this.integer, number: this.number, boolean: this.boolean, date: this.date, string: this.string },
      minLength: Number.isFinite(this.minLength) ? this.minLength : null,
      maxLength: this.maxLength >= 0 ? this.maxLength : null,
      hll: this.hll.toState(),
      numeric: this.pii
        ? null
        : {
            n: this.n,
            mean: this.mean,
            m2: this.m2,
            min: this.n > 0 ? this.min : null,
            max: this.n > 0 ? this.max : null,
            sample: Array.from(this.sampleValues()),
            rng: this.rng,
          },
      dates: this.dateMin !== undefined && this.dateMax !== undefined ? { min: this.dateMin, max: this.dateMax } : null,
    };
  }

  static fromState(name: string, pii: boolean, sampleSize: number, s: ColumnState): ColumnAccumulator {
    const acc = new ColumnAccumulator(name, pii, sampleSize, HyperLogLog.fromState(s.hll));
    acc.count = s.count;
    acc.nulls = s.nulls;
    acc.integer = s.types.integer;
    acc.number = s.types.number;
    acc.boolean = s.types.boolean;
    acc.date = s.types.date;
    acc.string = s.types.string;
    acc.minLength = s.minLength ?? Number.POSITIVE_INFINITY;
    acc.maxLength = s.maxLength ?? -1;
    if (s.dates) {
      acc.dateMin = s.dates.min;
      acc.dateMax = s.dates.max;
    }
    if (!pii && s.numeric) {
      acc.n = s.numeric.n;
      acc.mean = s.numeric.mean;
      acc.m2 = s.numeric.m2;
      acc.min = s.numeric.min ?? Number.POSITIVE_INFINITY;
      acc.max = s.numeric.max ?? Number.NEGATIVE_INFINITY;
      acc.sample.set(s.numeric.sample.slice(0, sampleSize));
      acc.rng = s.numeric.rng | 0;
    }
    return acc;
  }
}

function medianOf(sorted: Float64Array): number {
  const n = sorted.length;
  const mid = n >> 1;
  return n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Builds the per-column quality profile of a stream of rows. */
export class ProfileBuilder {
  private readonly columns: readonly string[];
  private readonly pii: ReadonlySet<string>;
  private readonly sampleSize: number;
  private accs: ColumnAccumulator[];

  constructor(columns: readonly string[], opts: { piiColumns: ReadonlySet<string>; sampleSize?: number }) {
    this.columns = [...columns];
    this.pii = new Set(opts.piiColumns);
    this.sampleSize = opts.sampleSize ?? DEFAULT_PROFILE_SAMPLE;
    if (!Number.isInteger(this.sampleSize) || this.sampleSize < 1) throw new RangeError('sampleSize must be a positive integer');
    this.accs = this.columns.map((c) => new ColumnAccumulator(c, this.pii.has(c), this.sampleSize));
  }

  /** Adds one row's cells, in column order. */
  add(cells: readonly Cell[]): void {
    const accs = this.accs;
    for (let i = 0; i < accs.length; i++) (accs[i] as ColumnAccumulator).add(cells[i]);
  }

  /** Folds another builder over the same columns (e.g. a parallel chunk) into this one. */
  merge(other: ProfileBuilder): void {
    if (other.columns.length !== this.columns.length || other.columns.some((c, i) => c !== this.columns[i])) {
      throw new RangeError('cannot merge profiles of different columns');
    }
    this.accs.forEach((a, i) => {
      a.merge(other.accs[i] as ColumnAccumulator);
    });
  }

  /** A JSON-serialisable snapshot; it holds numeric samples of non-PII columns only. */
  toState(): unknown {
    const state: BuilderState = {
      version: STATE_VERSION,
      columns: [...this.columns],
      piiColumns: [...this.pii],
      sampleSize: this.sampleSize,
      state: this.accs.map((a) => a.toState()),
    };
    return state;
  }

  static fromState(state: unknown): ProfileBuilder {
    const s = state as Partial<BuilderState> | null;
    if (!s || s.version !== STATE_VERSION || !Array.isArray(s.columns) || !Array.isArray(s.state) || s.state.length !== s.columns.length) {
      throw new TypeError('not a ProfileBuilder state');
    }
    const b = new ProfileBuilder(s.columns, {
      piiColumns: new Set(s.piiColumns ?? []),
      ...(s.sampleSize ? { sampleSize: s.sampleSize } : {}),
    });
    b.accs = s.columns.map((c, i) =>
      ColumnAccumulator.fromState(c, b.pii.has(c), b.sampleSize, (s.state as ColumnState[])[i] as ColumnState),
    );
    return b;
  }

  /** The profile, one entry per column in column order. */
  finish(): QualityProfile[] {
    return this.accs.map((a) => a.finish());
  }
}
