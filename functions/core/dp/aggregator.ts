/**
 * Differentially private aggregates as mergeable partial states. `add` folds raw rows into
 * exact partial aggregates (with contribution bounding per subject); partial states merge; noise
 * is added once, at release, from the merged state.
 *
 * Privacy unit: without a subject key, neighbouring datasets differ by one row. With one, they
 * differ by all rows of one subject, and each subject is bounded to its first
 * `maxRowsPerSubject` rows (per partition for grouped queries) in at most
 * `maxPartitionsPerSubject` partitions. "First" is in arrival order, which biases towards rows
 * that come early in a file; it keeps the state deterministic and mergeable, and the bias is
 * the usual price of bounding (a reservoir would need randomness in the hot path).
 */
import { createHash, hash } from 'node:crypto';
import type { AggregateQuery } from '../contract/contract-schema.ts';
import { ContractError } from '../errors.ts';
import type { BudgetAmount, RandomSource } from '../ports.ts';
import type { Cell } from '../types.ts';
import { fromBudgetUnits, toBudgetUnits } from './budget.ts';
import {
  fromGridUnits,
  type Grid,
  gaussianNoise,
  type IntegerNoise,
  laplaceNoise,
  makeGrid,
  makeQuantileBins,
  noiseHalfWidth,
  noiseScale,
  partitionSelectionThreshold,
  type QuantileBins,
  quantileBadness,
  quantileBinOf,
  quantileBinValue,
  sampleExponentialMechanism,
  sampleNoise,
  snapToGrid,
} from './mechanisms.ts';
import { type Rational, toRational } from './rational.ts';

export interface AggregatorOptions {
  /** Column names, in the order of the cells passed to `add`. */
  readonly columns: readonly string[];
  readonly queries: readonly AggregateQuery[];
  /** Column identifying the data subject; when set, the privacy unit is the subject. */
  readonly subjectKey?: string;
  /** Contribution bounds per subject. @default { maxRowsPerSubject: 1, maxPartitionsPerSubject: 1 } */
  readonly privacyUnit?: { readonly maxRowsPerSubject: number; readonly maxPartitionsPerSubject: number };
  /** Columns known to hold integers (contract type `integer`): their sums and means use a grid of 1. */
  readonly integerColumns?: readonly string[];
  /**
   * Secret for the keyed subject hash, so a serialised state cannot be searched for a known
   * subject by hashing candidates. Every aggregator whose states merge needs the same key.
   * @default none: an unkeyed hash (keep such states encrypted and short-lived)
   */
  readonly subjectHashKey?: Uint8Array;
}

export type ReleaseMechanism = 'discrete-laplace' | 'discrete-gaussian' | 'exponential';

export interface ReleasedAggregate {
  readonly id: string;
  readonly kind: AggregateQuery['kind'];
  readonly column?: string;
  readonly by?: string;
  /** The released number (ungrouped queries). */
  readonly value?: number;
  /** Released numbers per key (grouped queries and histograms). */
  readonly values?: Readonly<Record<string, number>>;
  /** 'exponential' for median/quantile (exponential mechanism). */
  readonly mechanism: ReleaseMechanism;
  /**
   * Laplace: scale b (noise ~ e^(-|x|/b)); Gaussian: σ; both in the output's units (for mean:
   * the noise on the sum, centred). Exponential: the temperature 2Δu/ε in rank units.
   */
  readonly noiseScale: number;
  readonly epsilon: number;
  readonly delta: number;
  /** 95% interval for the true value, from the exact noise distribution (absent for quantiles). */
  readonly ci95?: readonly [number, number];
  readonly ci95ByKey?: Readonly<Record<string, readonly [number, number]>>;
  readonly bounds?: readonly [number, number];
  /** Every released value is an integer multiple of this step. */
  readonly grid?: number;
  readonly privacyUnit: 'row' | 'subject';
  readonly partitionSelection?: { readonly threshold: number; readonly keysReleased: number };
}

// ---------------------------------------------------------------- validation

function fail(q: AggregateQuery | { id: string }, field: string, rule: string, problem: string): never {
  throw new ContractError(`aggregate '${q.id}': field '${field}' ${problem}`, { rule, query: q.id, field });
}

const NEEDS_COLUMN = new Set<AggregateQuery['kind']>(['sum', 'mean', 'median', 'quantile', 'histogram']);
const NEEDS_BOUNDS = new Set<AggregateQuery['kind']>(['sum', 'mean', 'median', 'quantile']);
const MAX_BOUND = 2 ** 200;
const MIN_EPSILON = 1e-9;
const MAX_EPSILON = 1e6;
const MIN_BOUND = 2 ** -200;

function isGrouped(q: AggregateQuery): boolean {
  return q.by !== undefined || q.kind === 'histogram';
}

function isQuantile(q: AggregateQuery): boolean {
  return q.kind === 'median' || q.kind === 'quantile';
}

/** Checks queries before any data is read. Throws ContractError naming the query id and field. */
export function validateQueries(queries: readonly AggregateQuery[], columns: readonly string[]): void {
  const known = new Set(columns);
  const ids = new Set<string>();
  for (const q of queries) {
    if (ids.has(q.id)) fail(q, 'id', 'aggregate-duplicate-id', 'is used by another aggregate');
    ids.add(q.id);
    // The ledger counts ε in units of 1e-9 up to ~10^6; outside that range releases are meaningless anyway.
    if (!(q.epsilon >= MIN_EPSILON && q.epsilon <= MAX_EPSILON))
      fail(q, 'epsilon', 'aggregate-epsilon', `must be between ${MIN_EPSILON} and ${MAX_EPSILON}`);
    if (q.delta !== undefined && !(Number.isFinite(q.delta) && q.delta >= 0 && q.delta < 1))
      fail(q, 'delta', 'aggregate-delta', 'must be in [0, 1)');
    if (q.column !== undefined && !known.has(q.column)) fail(q, 'column', 'aggregate-unknown-column', 'names an unknown column');
    if (q.by !== undefined && !known.has(q.by)) fail(q, 'by', 'aggregate-unknown-column', 'names an unknown column');
    if (NEEDS_COLUMN.has(q.kind) && q.column === undefined) fail(q, 'column', 'aggregate-column', `is required for kind '${q.kind}'`);
    if (q.kind === 'histogram' && q.by !== undefined)
      fail(q, 'by', 'aggregate-by', "is not used by kind 'histogram' (its column is the key)");
    if (NEEDS_BOUNDS.has(q.kind)) {
      if (q.bounds === undefined) fail(q, 'bounds', 'aggregate-bounds', `are required for kind '${q.kind}' (clamping)`);
      const [lo, hi] = q.bounds;
      if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi))
        fail(q, 'bounds', 'aggregate-bounds', 'must be finite with lower < upper');
      const m = Math.max(Math.abs(lo), Math.abs(hi));
      if (m > MAX_BOUND || m < MIN_BOUND) fail(q, 'bounds', 'aggregate-bounds', 'must have a magnitude between 2^-200 and 2^200');
    } else if (q.bounds !== undefined) {
      fail(q, 'bounds', 'aggregate-bounds', `are not used by kind '${q.kind}'`);
    }
    if (q.kind === 'quantile' && q.quantile === undefined) fail(q, 'quantile', 'aggregate-quantile', "is required for kind 'quantile'");
    if (q.kind !== 'quantile' && q.quantile !== undefined) fail(q, 'quantile', 'aggregate-quantile', "is only used by kind 'quantile'");
    if (q.quantile !== undefined && !(q.quantile > 0 && q.quantile < 1)) fail(q, 'quantile', 'aggregate-quantile', 'must be in (0, 1)');
    if (q.domain !== undefined) {
      if (!isGrouped(q)) fail(q, 'domain', 'aggregate-domain', "is only used with 'by' or kind 'histogram'");
      if (q.domain.length === 0) fail(q, 'domain', 'aggregate-domain', 'must not be empty');
      if (new Set(q.domain).size !== q.domain.length) fail(q, 'domain', 'aggregate-domain', 'has duplicate keys');
    }
    if (isQuantile(q) && q.mechanism === 'gaussian')
      fail(q, 'mechanism', 'aggregate-mechanism', `'gaussian' is not available for kind '${q.kind}' (exponential mechanism)`);
    if (isGrouped(q) && q.domain === undefined) {
      if (q.kind !== 'count' && q.kind !== 'histogram')
        fail(q, 'domain', 'aggregate-domain', `is required for grouped kind '${q.kind}' (partition selection covers counts only)`);
      if (q.mechanism === 'gaussian')
        fail(
          q,
          'mechanism',
          'aggregate-mechanism',
          "'gaussian' is not available with partition selection (no domain); use 'laplace' or declare the domain",
        );
      if (!(q.delta !== undefined && q.delta > 0))
        fail(q, 'delta', 'aggregate-delta', 'must be > 0 for partition selection (no domain declared)');
    }
    if (q.mechanism === 'gaussian' && !(q.delta !== undefined && q.delta > 0))
      fail(q, 'delta', 'aggregate-delta', "must be > 0 for mechanism 'gaussian'");
  }
}

/** The δ a query spends: its delta for the Gaussian mechanism and for partition selection, else 0. */
export function deltaSpent(q: AggregateQuery): number {
  if (isQuantile(q)) return 0;
  if (q.mechanism === 'gaussian' || (isGrouped(q) && q.domain === undefined)) return q.delta ?? 0;
  return 0;
}

/**
 * Total budget of releasing these queries together: sequential composition, ε and δ summed
 * (exactly, in ledger units). Gaussian queries are calibrated through zCDP but charged their
 * (ε, δ) — summing ρ first would be tighter, but (ε, δ) is what the ledger holds.
 */
export function budgetFor(queries: readonly AggregateQuery[]): BudgetAmount {
  let epsilon = 0;
  let delta = 0;
  for (const q of queries) {
    const u = toBudgetUnits({ epsilon: q.epsilon, delta: deltaSpent(q) }, 'up');
    epsilon += u.epsilon;
    delta += u.delta;
  }
  return fromBudgetUnits({ epsilon, delta });
}

// ---------------------------------------------------------------- plans

type ItemKind = 'count' | 'grid' | 'bin';

interface Plan {
  readonly query: AggregateQuery;
  readonly item: ItemKind;
  /** Column whose value is aggregated (count: rows with a value there); -1 for none. */
  readonly valueCol: number;
  /** Group-by column; -1 when ungrouped. */
  readonly keyCol: number;
  readonly domain: ReadonlySet<string> | undefined;
  readonly grid: Grid | undefined;
  readonly bins: QuantileBins | undefined;
}

function makePlan(q: AggregateQuery, columns: readonly string[], integerColumns: ReadonlySet<string>): Plan {
  const col = (name: string | undefined): number => (name === undefined ? -1 : columns.indexOf(name));
  const item: ItemKind = q.kind === 'count' || q.kind === 'histogram' ? 'count' : isQuantile(q) ? 'bin' : 'grid';
  const bounds = q.bounds;
  return {
    query: q,
    item,
    valueCol: q.kind === 'histogram' ? -1 : col(q.column),
    keyCol: q.kind === 'histogram' ? col(q.column) : col(q.by),
    domain: q.domain === undefined ? undefined : new Set(q.domain),
    grid: item === 'grid' && bounds ? makeGrid(bounds, q.column !== undefined && integerColumns.has(q.column)) : undefined,
    bins: item === 'bin' && bounds ? makeQuantileBins(bounds) : undefined,
  };
}

// ---------------------------------------------------------------- cells

/** A numeric reading of a cell, or undefined when missing or not a number. */
function numberOf(cell: Cell | undefined): number | undefined {
  if (typeof cell === 'number') return Number.isNaN(cell) ? undefined : cell;
  if (typeof cell === 'string') {
    if (cell.length === 0) return undefined;
    const n = Number(cell);
    if (Number.isNaN(n) || (n === 0 && cell.trim() === '')) return undefined;
    return n;
  }
  if (typeof cell === 'boolean') return cell ? 1 : 0;
  return undefined;
}

/** A categorical key, or undefined when missing (null or empty). */
function keyOf(cell: Cell | undefined): string | undefined {
  if (cell === null || cell === undefined || cell === '') return undefined;
  return typeof cell === 'string' ? cell : String(cell);
}

// ---------------------------------------------------------------- partial state

/** Above this, the double accumulator is flushed into the BigInt (values are at most 2^40 units). */
const ACC_LIMIT = 2 ** 52;

/** Exact partial aggregate of one partition. */
interface Partition {
  /** Rows counted (count) or values seen (sum/mean/quantile). */
  n: number;
  /** Sum in grid units = big + acc; acc stays a safe integer. */
  acc: number;
  big: bigint;
  /** Counts per quantile bin. */
  bins: Float64Array | undefined;
}

function newPartition(plan: Plan): Partition {
  return { n: 0, acc: 0, big: 0n, bins: plan.bins ? new Float64Array(plan.bins.count) : undefined };
}

function addItem(p: Partition, plan: Plan, item: number): void {
  p.n += 1;
  if (plan.item === 'grid') {
    const acc = p.acc + item;
    if (acc > ACC_LIMIT || acc < -ACC_LIMIT) {
      p.big += BigInt(acc);
      p.acc = 0;
    } else {
      p.acc = acc;
    }
  } else if (plan.item === 'bin') {
    (p.bins as Float64Array)[item] = ((p.bins as Float64Array)[item] as number) + 1;
  }
}

function partitionSum(p: Partition): bigint {
  return p.big + BigInt(p.acc);
}

/** A subject's contributions to a grouped query: keys in first-seen order. */
interface Grouped {
  keys: string[];
  /** Row count per key (count queries) or the kept items per key (grid units / bin indices). */
  vals: (number | number[])[];
  /** Built lazily for subjects with many keys, so lookups stay O(1). */
  index: Map<string, number> | undefined;
}

/** One subject's contribution to one query: ungrouped count, ungrouped items, or grouped. */
type Slot = number | number[] | Grouped;

const INDEX_AFTER = 16;

function findKey(g: Grouped, key: string): number {
  if (g.index !== undefined) return g.index.get(key) ?? -1;
  const i = g.keys.indexOf(key);
  return i;
}

function pushKey(g: Grouped, key: string, val: number | number[]): number {
  const pos = g.keys.length;
  g.keys.push(key);
  g.vals.push(val);
  if (g.index !== undefined) g.index.set(key, pos);
  else if (g.keys.length > INDEX_AFTER) g.index = new Map(g.keys.map((k, i) => [k, i]));
  return pos;
}

function copySlot(s: Slot): Slot {
  if (typeof s === 'number') return s;
  if (Array.isArray(s)) return s.slice();
  const g: Grouped = { keys: [], vals: [], index: undefined };
  for (let i = 0; i < s.keys.length; i++) pushKey(g, s.keys[i] as string, copyVal(s.vals[i] as number | number[]));
  return g;
}

function copyVal(v: number | number[]): number | number[] {
  return typeof v === 'number' ? v : v.slice();
}

function appendCapped(into: number[], from: readonly number[], cap: number): void {
  for (let i = 0; i < from.length && into.length < cap; i++) into.push(from[i] as number);
}

/** Adds one row to a subject's slot in its general form (a new slot when undefined). */
function slotAdd(slot: Slot | undefined, grouped: boolean, isCount: boolean, key: string, item: number, m: number): Slot {
  if (!grouped) {
    if (isCount) return Math.min(m, ((slot as number | undefined) ?? 0) + 1);
    const items = (slot as number[] | undefined) ?? [];
    if (items.length < m) items.push(item);
    return items;
  }
  const g = (slot as Grouped | undefined) ?? { keys: [], vals: [], index: undefined };
  const pos = findKey(g, key);
  if (pos < 0) pushKey(g, key, isCount ? 1 : [item]);
  else if (isCount) g.vals[pos] = Math.min(m, (g.vals[pos] as number) + 1);
  else if ((g.vals[pos] as number[]).length < m) (g.vals[pos] as number[]).push(item);
  return g;
}

/** `from` appended after `into` (mutated and returned), each key and item list capped at m. */
function slotMerge(into: Slot, from: Slot, m: number): Slot {
  if (typeof into === 'number') return Math.min(m, into + (from as number));
  if (Array.isArray(into)) {
    appendCapped(into, from as number[], m);
    return into;
  }
  const og = from as Grouped;
  og.keys.forEach((k, i) => {
    const ov = og.vals[i] as number | number[];
    const pos = findKey(into, k);
    if (pos < 0) pushKey(into, k, copyVal(ov));
    else if (typeof ov === 'number') into.vals[pos] = Math.min(m, (into.vals[pos] as number) + ov);
    else appendCapped(into.vals[pos] as number[], ov, m);
  });
  return into;
}

const NONE = -1;
const SPILLED = -2;
/** Items kept inline per subject (min(m, this)); more spill to the general form. */
const INLINE_ITEMS = 4;

/**
 * One query's per-subject contributions, indexed by subject ordinal. The common case (one key
 * with a capped count, or with up to 4 items) lives inline in typed arrays, 8–40 bytes per
 * subject; subjects with more keys or items spill to a Map in the general Slot form.
 */
class SubjectColumn {
  key: Int32Array;
  /** Rows counted (count queries) or items stored inline. */
  count: Uint32Array;
  item: Float64Array | undefined;
  readonly stride: number;
  readonly spill = new Map<number, Slot>();
  readonly keyTable: string[] = [];
  readonly #keyIds = new Map<string, number>();

  constructor(
    readonly grouped: boolean,
    readonly isCount: boolean,
    readonly m: number,
    capacity: number,
  ) {
    this.stride = isCount ? 0 : Math.min(m, INLINE_ITEMS);
    this.key = new Int32Array(capacity).fill(NONE);
    this.count = new Uint32Array(capacity);
    this.item = isCount ? undefined : new Float64Array(capacity * this.stride);
  }

  grow(capacity: number): void {
    const key = new Int32Array(capacity).fill(NONE);
    key.set(this.key);
    this.key = key;
    const count = new Uint32Array(capacity);
    count.set(this.count);
    this.count = count;
    if (this.item) {
      const item = new Float64Array(capacity * this.stride);
      item.set(this.item);
      this.item = item;
    }
  }

  #intern(key: string): number {
    let id = this.#keyIds.get(key);
    if (id === undefined) {
      id = this.keyTable.length;
      this.keyTable.push(key);
      this.#keyIds.set(key, id);
    }
    return id;
  }

  add(ord: number, key: string, item: number): void {
    const k = this.key[ord] as number;
    if (k === NONE) {
      this.key[ord] = this.grouped ? this.#intern(key) : 0;
      this.count[ord] = 1;
      if (this.item) this.item[ord * this.stride] = item;
      return;
    }
    if (k >= 0 && (!this.grouped || this.keyTable[k] === key)) {
      const c = this.count[ord] as number;
      if (c >= this.m) return; // capped: this row is not counted
      if (this.isCount) {
        this.count[ord] = c + 1;
        return;
      }
      if (c < this.stride) {
        (this.item as Float64Array)[ord * this.stride + c] = item;
        this.count[ord] = c + 1;
        return;
      }
    }
    // A second key, or more items than fit inline: move to the general form.
    const next = slotAdd(this.get(ord), this.grouped, this.isCount, key, item, this.m);
    this.key[ord] = SPILLED;
    this.spill.set(ord, next);
  }

  /** The subject's slot (the live object when spilled, a fresh one when inline). */
  get(ord: number): Slot | undefined {
    const k = this.key[ord] as number;
    if (k === NONE) return undefined;
    if (k === SPILLED) return this.spill.get(ord);
    const c = this.count[ord] as number;
    let val: number | number[] = c;
    if (!this.isCount) {
      // A plain loop: subarray() views cost more than the copy.
      const items = this.item as Float64Array;
      const base = ord * this.stride;
      val = new Array<number>(c);
      for (let i = 0; i < c; i++) val[i] = items[base + i] as number;
    }
    if (!this.grouped) return val;
    return { keys: [this.keyTable[k] as string], vals: [val], index: undefined };
  }

  set(ord: number, slot: Slot): void {
    let val: number | number[] | undefined;
    let key = 0;
    if (typeof slot === 'number' || Array.isArray(slot)) val = slot;
    else if (slot.keys.length === 1) {
      val = slot.vals[0] as number | number[];
      key = this.#intern(slot.keys[0] as string);
    }
    if (val === undefined || (Array.isArray(val) && val.length > this.stride)) {
      this.key[ord] = SPILLED;
      this.spill.set(ord, slot);
      return;
    }
    this.spill.delete(ord);
    this.key[ord] = key;
    if (typeof val === 'number') this.count[ord] = val;
    else {
      this.count[ord] = val.length;
      (this.item as Float64Array).set(val, ord * this.stride);
    }
  }
}

// ---------------------------------------------------------------- serialised state

/** A partition: [key, n, sum (grid units, decimal string) or null, bins as [index, count, ...] or null]. */
type PartitionState = [string, number, string | null, number[] | null];
/** A subject's slot: null, a count, kept items, or [keys, count or items per key]. */
type SlotState = null | number | number[] | [string[], (number | number[])[]];

/** JSON-serialisable partial state. Subject values appear only as (keyed) hashes. */
export interface AggregatorState {
  readonly format: 'privacy-pipeline/dp-aggregator';
  readonly version: 1;
  /** Hash of the options; states merge only with the same fingerprint. */
  readonly fingerprint: string;
  readonly privacyUnit: 'row' | 'subject';
  /** Row unit: per query, its partitions in first-seen order. */
  readonly partitions?: readonly (readonly PartitionState[])[];
  /** Subject unit: [base64url subject hash, one slot per query], subjects in first-seen order. */
  readonly subjects?: readonly (readonly [string, readonly SlotState[]])[];
}

function optionsFingerprint(opts: AggregatorOptions, unit: 'row' | 'subject', maxRows: number, maxParts: number): string {
  // Field order fixed here so equal options give equal fingerprints however they were built.
  const queries = opts.queries.map((q) => [
    q.id,
    q.kind,
    q.column ?? null,
    q.by ?? null,
    q.domain ?? null,
    q.bounds ?? null,
    q.quantile ?? null,
    q.epsilon,
    q.delta ?? null,
    q.mechanism,
  ]);
  const keyId = opts.subjectHashKey
    ? createHash('sha256').update('privacy-pipeline/dp-subject-key-id\0').update(opts.subjectHashKey).digest('hex').slice(0, 16)
    : null;
  const body = JSON.stringify([
    opts.columns,
    queries,
    unit,
    opts.subjectKey ?? null,
    maxRows,
    maxParts,
    [...(opts.integerColumns ?? [])].sort(),
    keyId,
  ]);
  return createHash('sha256').update(body).digest('base64url');
}

// ---------------------------------------------------------------- aggregator

/** Module-private access to an aggregator's plans and exact totals (set in the class's static block). */
let internals: (agg: Aggregator) => { plans: readonly Plan[]; partitions: Map<string, Partition>[] };

const INITIAL_SUBJECTS = 1024;

/** Mergeable exact partial aggregates for a set of DP queries. Noise is added by releaseAggregates. */
export class Aggregator {
  readonly options: AggregatorOptions;
  readonly privacyUnit: 'row' | 'subject';
  readonly maxRowsPerSubject: number;
  readonly maxPartitionsPerSubject: number;
  readonly #plans: readonly Plan[];
  readonly #fingerprint: string;
  readonly #subjectCol: number;
  readonly #hashPrefix: string;
  /** Row unit: per query, partitions by key ('' when ungrouped). */
  readonly #partitions: Map<string, Partition>[];
  /** Subject unit: subject hash -> ordinal; hashes in first-seen order; one column per query. */
  readonly #ordinals = new Map<string, number>();
  readonly #hashes: string[] = [];
  readonly #columns: SubjectColumn[];
  #capacity = INITIAL_SUBJECTS;
  /** The last subject seen, so consecutive rows of one subject skip the hash (never serialised). */
  #lastSubject: string | undefined;
  #lastOrdinal = -1;

  static {
    internals = (agg) => ({ plans: agg.#plans, partitions: agg.#exactPartitions() });
  }

  constructor(opts: AggregatorOptions) {
    validateQueries(opts.queries, opts.columns);
    this.options = opts;
    this.privacyUnit = opts.subjectKey === undefined ? 'row' : 'subject';
    const pu = opts.privacyUnit ?? { maxRowsPerSubject: 1, maxPartitionsPerSubject: 1 };
    for (const field of ['maxRowsPerSubject', 'maxPartitionsPerSubject'] as const) {
      if (!(Number.isSafeInteger(pu[field]) && pu[field] >= 1)) {
        throw new ContractError(`privacyUnit: field '${field}' must be a positive integer`, { rule: 'privacy-unit', field });
      }
    }
    this.maxRowsPerSubject = this.privacyUnit === 'subject' ? pu.maxRowsPerSubject : 1;
    this.maxPartitionsPerSubject = this.privacyUnit === 'subject' ? pu.maxPartitionsPerSubject : 1;
    this.#subjectCol = opts.subjectKey === undefined ? -1 : opts.columns.indexOf(opts.subjectKey);
    if (opts.subjectKey !== undefined && this.#subjectCol < 0) {
      throw new ContractError('subjectKey names an unknown column', { rule: 'subject-key', field: 'subjectKey' });
    }
    const integerColumns = new Set(opts.integerColumns ?? []);
    this.#plans = opts.queries.map((q) => makePlan(q, opts.columns, integerColumns));
    this.#partitions = this.#plans.map(() => new Map());
    this.#columns =
      this.privacyUnit === 'subject'
        ? this.#plans.map((plan) => new SubjectColumn(plan.keyCol >= 0, plan.item === 'count', this.maxRowsPerSubject, INITIAL_SUBJECTS))
        : [];
    this.#fingerprint = optionsFingerprint(opts, this.privacyUnit, this.maxRowsPerSubject, this.maxPartitionsPerSubject);
    this.#hashPrefix = opts.subjectHashKey
      ? `privacy-pipeline/dp-subject/keyed\0${Buffer.from(opts.subjectHashKey).toString('hex')}\0`
      : 'privacy-pipeline/dp-subject\0';
  }

  /** Folds one row (raw, pre-pseudonymisation cells in `columns` order) into the partial state. */
  add(cells: readonly Cell[]): void {
    if (this.#subjectCol >= 0) {
      this.#addForSubject(cells);
      return;
    }
    const plans = this.#plans;
    for (let qi = 0; qi < plans.length; qi++) {
      const plan = plans[qi] as Plan;
      let key = '';
      if (plan.keyCol >= 0) {
        const k = keyOf(cells[plan.keyCol]);
        if (k === undefined || (plan.domain !== undefined && !plan.domain.has(k))) continue;
        key = k;
      }
      const item = itemOf(plan, cells);
      if (item === undefined) continue;
      const parts = this.#partitions[qi] as Map<string, Partition>;
      let p = parts.get(key);
      if (p === undefined) {
        p = newPartition(plan);
        parts.set(key, p);
      }
      addItem(p, plan, item);
    }
  }

  #hashSubject(value: string): string {
    // 96 bits of SHA-512/256 (no length extension) over a secret prefix, ~5x cheaper per row
    // than HMAC. 12 one-byte chars stay a flat string (V8 slices from 13 chars keep the parent).
    return hash('sha512-256', this.#hashPrefix + value, 'binary').slice(0, 12);
  }

  #ordinalOf(h: string): number {
    let ord = this.#ordinals.get(h);
    if (ord === undefined) {
      ord = this.#hashes.length;
      this.#hashes.push(h);
      this.#ordinals.set(h, ord);
      if (ord >= this.#capacity) {
        this.#capacity *= 2;
        for (const c of this.#columns) c.grow(this.#capacity);
      }
    }
    return ord;
  }

  #addForSubject(cells: readonly Cell[]): void {
    // Rows without a subject cannot be bounded, so they are left out of every query.
    const subject = keyOf(cells[this.#subjectCol]);
    if (subject === undefined) return;
    let ord: number;
    if (subject === this.#lastSubject) ord = this.#lastOrdinal;
    else {
      ord = this.#ordinalOf(this.#hashSubject(subject));
      this.#lastSubject = subject;
      this.#lastOrdinal = ord;
    }
    const plans = this.#plans;
    for (let qi = 0; qi < plans.length; qi++) {
      const plan = plans[qi] as Plan;
      let key = '';
      if (plan.keyCol >= 0) {
        const k = keyOf(cells[plan.keyCol]);
        if (k === undefined || (plan.domain !== undefined && !plan.domain.has(k))) continue;
        key = k;
      }
      const item = itemOf(plan, cells);
      if (item === undefined) continue;
      // Grouped queries keep every key of a subject (each with at most m rows); the partition
      // cap is applied at release, so merging partial states equals one pass over all rows.
      (this.#columns[qi] as SubjectColumn).add(ord, key, item);
    }
  }

  /** Adds another aggregator's partial state (same options). The result equals one pass over both inputs, this one first. */
  merge(other: Aggregator): void {
    if (other.#fingerprint !== this.#fingerprint) {
      throw new ContractError('cannot merge aggregator states built with different options', { rule: 'aggregator-merge' });
    }
    if (other === this) throw new RangeError('cannot merge an aggregator into itself');
    this.#plans.forEach((plan, qi) => {
      const mine = this.#partitions[qi] as Map<string, Partition>;
      for (const [key, p] of other.#partitions[qi] as Map<string, Partition>) {
        let q = mine.get(key);
        if (q === undefined) {
          q = newPartition(plan);
          mine.set(key, q);
        }
        q.n += p.n;
        q.big += p.big;
        const acc = q.acc + p.acc;
        if (acc > ACC_LIMIT || acc < -ACC_LIMIT) {
          q.big += BigInt(acc);
          q.acc = 0;
        } else {
          q.acc = acc;
        }
        if (q.bins && p.bins) for (let i = 0; i < p.bins.length; i++) q.bins[i] = (q.bins[i] as number) + (p.bins[i] as number);
      }
    });
    const m = this.maxRowsPerSubject;
    other.#hashes.forEach((h, otherOrd) => {
      const ord = this.#ordinalOf(h);
      this.#columns.forEach((col, qi) => {
        const from = (other.#columns[qi] as SubjectColumn).get(otherOrd);
        if (from === undefined) return;
        const into = col.get(ord);
        col.set(ord, into === undefined ? copySlot(from) : slotMerge(into, from, m));
      });
    });
    this.#lastSubject = undefined;
  }

  /** The partial state as JSON-safe data (BigInts as decimal strings, subjects as hashes). */
  toState(): AggregatorState {
    const base = {
      format: 'privacy-pipeline/dp-aggregator',
      version: 1,
      fingerprint: this.#fingerprint,
      privacyUnit: this.privacyUnit,
    } as const;
    if (this.privacyUnit === 'subject') {
      const subjects = this.#hashes.map((h, ord): [string, SlotState[]] => [
        Buffer.from(h, 'latin1').toString('base64url'),
        this.#columns.map((col): SlotState => {
          const s = col.get(ord);
          if (s === undefined) return null;
          if (typeof s === 'number') return s;
          if (Array.isArray(s)) return s.slice();
          return [s.keys.slice(), s.vals.map(copyVal)];
        }),
      ]);
      return { ...base, subjects };
    }
    const partitions = this.#plans.map((plan, qi) => {
      const out: PartitionState[] = [];
      for (const [key, p] of this.#partitions[qi] as Map<string, Partition>) {
        let bins: number[] | null = null;
        if (p.bins) {
          bins = [];
          for (let i = 0; i < p.bins.length; i++) if (p.bins[i] !== 0) bins.push(i, p.bins[i] as number);
        }
        out.push([key, p.n, plan.item === 'grid' ? partitionSum(p).toString() : null, bins]);
      }
      return out;
    });
    return { ...base, partitions };
  }

  /** Rebuilds an aggregator from `toState()` output; the options must be the ones it was built with. */
  static fromState(state: AggregatorState, opts: AggregatorOptions): Aggregator {
    const agg = new Aggregator(opts);
    const bad = (why: string): never => {
      throw new ContractError(`aggregator state does not fit these options: ${why}`, { rule: 'aggregator-state' });
    };
    if (state.format !== 'privacy-pipeline/dp-aggregator' || state.version !== 1) bad('unknown format or version');
    if (state.fingerprint !== agg.#fingerprint || state.privacyUnit !== agg.privacyUnit) bad('different options');
    const nq = agg.#plans.length;
    if (state.partitions !== undefined) {
      if (state.partitions.length !== nq) bad('query count');
      state.partitions.forEach((parts, qi) => {
        const plan = agg.#plans[qi] as Plan;
        const map = agg.#partitions[qi] as Map<string, Partition>;
        for (const [key, n, sum, bins] of parts) {
          if (typeof key !== 'string' || !Number.isSafeInteger(n) || n < 0) bad('partition');
          const p = newPartition(plan);
          p.n = n;
          if (plan.item === 'grid') {
            if (typeof sum !== 'string' || !/^-?\d+$/.test(sum)) bad('sum');
            p.big = BigInt(sum as string);
          }
          if (plan.item === 'bin') {
            if (!Array.isArray(bins) || bins.length % 2 !== 0) bad('bins');
            for (let i = 0; i < (bins as number[]).length; i += 2) {
              const idx = (bins as number[])[i] as number;
              if (!(Number.isInteger(idx) && idx >= 0 && idx < (p.bins as Float64Array).length)) bad('bin index');
              (p.bins as Float64Array)[idx] = (bins as number[])[i + 1] as number;
            }
          }
          map.set(key, p);
        }
      });
    }
    if (state.subjects !== undefined && agg.privacyUnit !== 'subject') bad('subjects in a row-unit state');
    for (const [h64, slots] of state.subjects ?? []) {
      if (slots.length !== nq) bad('slot count');
      if (agg.#ordinals.has(Buffer.from(h64, 'base64url').toString('latin1'))) bad('duplicate subject');
      const ord = agg.#ordinalOf(Buffer.from(h64, 'base64url').toString('latin1'));
      slots.forEach((s, qi) => {
        if (s === null) return;
        const col = agg.#columns[qi] as SubjectColumn;
        // A loaded state must respect the contribution bound, or the noise would be too small.
        const validVal = (v: unknown): v is number | number[] =>
          col.isCount
            ? Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= agg.maxRowsPerSubject
            : Array.isArray(v) && v.length >= 1 && v.length <= agg.maxRowsPerSubject && v.every((x) => Number.isSafeInteger(x));
        if (!col.grouped) {
          if (!validVal(s)) bad('subject slot');
          col.set(ord, copySlot(s as number | number[]));
          return;
        }
        if (
          !(
            Array.isArray(s) &&
            s.length === 2 &&
            Array.isArray(s[0]) &&
            Array.isArray(s[1]) &&
            s[0].length === s[1].length &&
            s[0].length > 0
          )
        )
          bad('subject slot');
        const [keys, vals] = s as [string[], (number | number[])[]];
        const g: Grouped = { keys: [], vals: [], index: undefined };
        keys.forEach((k, i) => {
          const v = vals[i];
          if (typeof k !== 'string' || findKey(g, k) >= 0 || !validVal(v)) bad('subject slot');
          pushKey(g, k, copyVal(v as number | number[]));
        });
        col.set(ord, g);
      });
    }
    return agg;
  }

  /** Exact per-partition totals after contribution bounding. Never published: only noise is added to them. */
  #exactPartitions(): Map<string, Partition>[] {
    if (this.privacyUnit === 'row') return this.#partitions;
    const p = this.maxPartitionsPerSubject;
    return this.#plans.map((plan, qi) => {
      const col = this.#columns[qi] as SubjectColumn;
      const parts = new Map<string, Partition>();
      const partOf = (key: string): Partition => {
        let part = parts.get(key);
        if (part === undefined) {
          part = newPartition(plan);
          parts.set(key, part);
        }
        return part;
      };
      const fold = (part: Partition, v: number | number[]): void => {
        if (typeof v === 'number') part.n += v;
        else for (const item of v) addItem(part, plan, item);
      };
      for (let ord = 0; ord < this.#hashes.length; ord++) {
        const k = col.key[ord] as number;
        if (k === NONE) continue;
        if (k >= 0) {
          // Inline: one key with a count or a few items (the partition cap of >= 1 always admits it).
          const part = partOf(col.grouped ? (col.keyTable[k] as string) : '');
          const c = col.count[ord] as number;
          if (col.isCount) part.n += c;
          else for (let i = 0; i < c; i++) addItem(part, plan, (col.item as Float64Array)[ord * col.stride + i] as number);
          continue;
        }
        const s = col.spill.get(ord) as Slot;
        if (typeof s === 'number' || Array.isArray(s)) fold(partOf(''), s);
        else for (let i = 0; i < s.keys.length && i < p; i++) fold(partOf(s.keys[i] as string), s.vals[i] as number | number[]);
      }
      return parts;
    });
  }
}

function itemOf(plan: Plan, cells: readonly Cell[]): number | undefined {
  if (plan.item === 'count') {
    if (plan.valueCol < 0) return 1;
    const c = cells[plan.valueCol];
    return c === null || c === undefined || c === '' ? undefined : 1;
  }
  const x = numberOf(cells[plan.valueCol]);
  if (x === undefined) return undefined;
  return plan.item === 'grid' ? toGridUnitsFast(x, plan.grid as Grid) : quantileBinOf(x, plan.bins as QuantileBins);
}

function toGridUnitsFast(x: number, grid: Grid): number {
  // + 0 turns -0 into 0, so states compare and serialise the same way.
  return Math.round(Math.min(Math.max(x, grid.lower), grid.upper) * grid.scale) + 0;
}

// ---------------------------------------------------------------- release

/** A noise distribution with its confidence half-width (computed once per query, not per key). */
interface Calibrated {
  readonly noise: IntegerNoise;
  readonly halfWidth: number;
}

function withHalfWidth(noise: IntegerNoise, alpha = 0.05): Calibrated {
  return { noise, halfWidth: noiseHalfWidth(noise, alpha) };
}

function noised(trueValue: bigint, c: Calibrated, rng: RandomSource): { readonly value: bigint; readonly halfWidth: number } {
  return { value: trueValue + sampleNoise(c.noise, rng), halfWidth: c.halfWidth };
}

function calibrate(q: AggregateQuery, l1: bigint, l2Squared: bigint, share: 1 | 2): IntegerNoise {
  // share = 2 when the query's budget is split between two releases (mean: sum and count).
  const epsilon = q.epsilon / share;
  return q.mechanism === 'gaussian' ? gaussianNoise(l2Squared, epsilon, (q.delta as number) / share) : laplaceNoise(l1, epsilon);
}

function releaseOne(agg: Aggregator, plan: Plan, parts: Map<string, Partition>, rng: RandomSource): ReleasedAggregate {
  const q = plan.query;
  const grouped = plan.keyCol >= 0;
  const m = BigInt(agg.maxRowsPerSubject);
  const p = grouped ? BigInt(agg.maxPartitionsPerSubject) : 1n;
  const head = {
    id: q.id,
    kind: q.kind,
    ...(q.column !== undefined ? { column: q.column } : {}),
    ...(q.by !== undefined ? { by: q.by } : {}),
    epsilon: q.epsilon,
    delta: deltaSpent(q),
    privacyUnit: agg.privacyUnit,
  };
  // Keys to release: the declared domain in its order, or every key seen (sorted, so the order
  // reveals nothing about where keys appeared); partition selection filters the latter.
  const keys = grouped ? (q.domain ? [...q.domain] : [...parts.keys()].sort()) : [''];
  const empty = (): Partition => ({ n: 0, acc: 0, big: 0n, bins: plan.bins ? new Float64Array(plan.bins.count) : undefined });
  const part = (key: string): Partition => parts.get(key) ?? empty();
  const mechanism = q.mechanism === 'gaussian' ? 'discrete-gaussian' : 'discrete-laplace';

  if (plan.item === 'count') {
    const noise = withHalfWidth(calibrate(q, p * m, p * m * m, 1));
    const threshold =
      grouped && !q.domain
        ? partitionSelectionThreshold({
            epsilon: q.epsilon,
            delta: q.delta as number,
            maxRowsPerPartition: agg.maxRowsPerSubject,
            maxPartitions: agg.maxPartitionsPerSubject,
          })
        : undefined;
    const values: Record<string, number> = {};
    const cis: Record<string, readonly [number, number]> = {};
    for (const key of keys) {
      const r = noised(BigInt(part(key).n), noise, rng);
      if (threshold !== undefined && r.value < BigInt(threshold)) continue;
      const v = Number(r.value);
      values[key] = v;
      cis[key] = [v - r.halfWidth, v + r.halfWidth];
    }
    const common = { ...head, mechanism, noiseScale: noiseScale(noise.noise), grid: 1 } as const;
    if (!grouped) return { ...common, value: values[''] as number, ci95: cis[''] as readonly [number, number] };
    return {
      ...common,
      values,
      ci95ByKey: cis,
      ...(threshold !== undefined ? { partitionSelection: { threshold, keysReleased: Object.keys(values).length } } : {}),
    };
  }

  const bounds = q.bounds as [number, number];
  if (plan.item === 'grid') {
    const grid = plan.grid as Grid;
    const values: Record<string, number> = {};
    const cis: Record<string, readonly [number, number]> = {};
    let scale: number;
    if (q.kind === 'sum') {
      const d = BigInt(grid.maxUnits);
      const noise = withHalfWidth(calibrate(q, p * m * d, p * m * m * d * d, 1));
      scale = noiseScale(noise.noise) * grid.step;
      for (const key of keys) {
        const r = noised(partitionSum(part(key)), noise, rng);
        values[key] = fromGridUnits(r.value, grid);
        cis[key] = [fromGridUnits(r.value - BigInt(r.halfWidth), grid), fromGridUnits(r.value + BigInt(r.halfWidth), grid)];
      }
    } else {
      // Mean = centre + (noisy centred sum) / (noisy count), each release with half of ε (and δ).
      // Centring on the middle of the bounds halves the sum's sensitivity to (upper - lower)/2.
      const centre = Math.round((grid.lowerUnits + grid.upperUnits) / 2);
      const d = BigInt(Math.max(Math.abs(grid.lowerUnits - centre), Math.abs(grid.upperUnits - centre), 1));
      // Each interval at 97.5%: both hold together with probability >= 95% (union bound).
      const sumNoise = withHalfWidth(calibrate(q, p * m * d, p * m * m * d * d, 2), 0.025);
      const countNoise = withHalfWidth(calibrate(q, p * m, p * m * m, 2), 0.025);
      scale = noiseScale(sumNoise.noise) * grid.step;
      for (const key of keys) {
        const pt = part(key);
        const s = noised(partitionSum(pt) - BigInt(pt.n) * BigInt(centre), sumNoise, rng);
        const c = noised(BigInt(pt.n), countNoise, rng);
        const centreValue = centre * grid.step;
        const count = c.value < 1n ? 1n : c.value;
        values[key] = snapToGrid(centreValue + fromGridUnits(s.value, grid) / Number(count), grid);
        const cLo = c.value - BigInt(c.halfWidth);
        const cHi = c.value + BigInt(c.halfWidth);
        if (cHi < 1n) {
          cis[key] = [grid.lowerUnits * grid.step, grid.upperUnits * grid.step];
        } else {
          const sLo = fromGridUnits(s.value - BigInt(s.halfWidth), grid);
          const sHi = fromGridUnits(s.value + BigInt(s.halfWidth), grid);
          const corners = [sLo, sHi].flatMap((sv) => [Number(cLo < 1n ? 1n : cLo), Number(cHi)].map((cv) => centreValue + sv / cv));
          const lo = Math.max(grid.lowerUnits * grid.step, Math.min(...corners));
          const hi = Math.min(grid.upperUnits * grid.step, Math.max(...corners));
          cis[key] = [lo, hi];
        }
      }
    }
    const common = { ...head, mechanism, noiseScale: scale, bounds: [bounds[0], bounds[1]] as const, grid: grid.step } as const;
    if (!grouped) return { ...common, value: values[''] as number, ci95: cis[''] as readonly [number, number] };
    return { ...common, values, ci95ByKey: cis };
  }

  // Quantile by the exponential mechanism; grouped: ε/p per partition (a subject touches at most p).
  const bins = plan.bins as QuantileBins;
  const quant: Rational = toRational(q.kind === 'median' ? 0.5 : (q.quantile as number));
  const e = toRational(q.epsilon);
  const complement = quant.den - quant.num;
  let sens = quant.num;
  if (complement > sens) sens = complement;
  // P(bin) ∝ exp(-ε·|a| / (2·p·m·max(qn, qd-qn))), a = (qd-qn)·below - qn·above.
  const factor: Rational = { num: e.num, den: e.den * 2n * p * m * sens };
  const values: Record<string, number> = {};
  for (const key of keys) {
    const counts = Array.from(part(key).bins as Float64Array, (c) => BigInt(c));
    const i = sampleExponentialMechanism(quantileBadness(counts, quant), factor, rng);
    values[key] = quantileBinValue(i, bins);
  }
  const qv = q.kind === 'median' ? 0.5 : (q.quantile as number);
  // Temperature 2Δu/ε_partition = 2·m·max(q, 1-q)·p/ε, in rank units.
  const temperature = (2 * Number(m) * Math.max(qv, 1 - qv) * Number(p)) / q.epsilon;
  const common = {
    ...head,
    mechanism: 'exponential',
    noiseScale: temperature,
    bounds: [bounds[0], bounds[1]] as const,
    grid: bins.width / 2,
  } as const;
  if (!grouped) return { ...common, value: values[''] as number };
  return { ...common, values };
}

/**
 * Adds noise once to the merged exact aggregates and returns one release per query, in query
 * order. Spend `budgetFor(queries)` on the ledger BEFORE calling this, and publish nothing if
 * the spend is refused; each call draws fresh noise and so costs the budget again.
 */
export function releaseAggregates(agg: Aggregator, rng: RandomSource): ReleasedAggregate[] {
  const { plans, partitions } = internals(agg);
  return plans.map((plan, qi) => releaseOne(agg, plan, partitions[qi] as Map<string, Partition>, rng));
}
