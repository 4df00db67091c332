/**
 * Re-identification risk as Google DLP reports it: k-anonymity over the quasi-identifiers. Rows
 * are grouped by their quasi-identifier values after the generalisation the policy applies (birth
 * date → year, postcode → prefix, age → band), so the report describes the published data. Only
 * a hash of each class key and its count are held and merged, never the values (in memory, bounded
 * memos map recent raw values to their generalised forms and those to their class hashes).
 */
import { hash } from 'node:crypto';
import { detachString } from '../codecs/detach-string.ts';
import type { RiskReport } from '../lineage/run-record.ts';
import { compileOperator, type OperatorFn } from '../pseudonymise/operators.ts';
import { DEFAULT_POLICY, operatorFor } from '../pseudonymise/policy.ts';
import type { Cell, ColumnDecision, EntityType } from '../types.ts';
import { headerHint } from './header-synonyms.ts';

/** Entities that are quasi-identifiers: not identifying alone, identifying together. */
export const QUASI_IDENTIFIER_ENTITIES: ReadonlySet<EntityType> = new Set<EntityType>([
  'POSTCODE',
  'DATE_OF_BIRTH',
  'AGE',
  'GENDER',
  'COUNTRY',
]);

const NO_KEY = new Uint8Array(32);

/**
 * Classes held at most. Beyond the cap (a quasi-identifier with almost one value per row), each
 * new class's rows are counted as classes of one: the report errs towards more risk, never less,
 * and memory stays bounded (≈ 100 bytes a class). States merge under the same rule.
 */
export const MAX_CLASSES = 200_000;
/** Distinct raw values per quasi-identifier whose generalised form is memoised. */
const GENERALISED_MEMO = 4096;
/** Class keys memoised (the joined generalised values; a SHA-256 saved per row of a known class). */
const CLASS_KEY_MEMO = 8192;

/** The value a quasi-identifier is counted as: its generalised form, or the value as it is. */
type Generaliser = (value: string) => string;

function generaliserFor(
  entity: EntityType | null,
  operator: string | undefined,
  options: Readonly<Record<string, unknown>> | undefined,
): Generaliser {
  if (entity === null || operator !== 'generalize') return (v) => v.trim().toLowerCase();
  const fn: OperatorFn = compileOperator('generalize', {
    entity,
    options: options ?? {},
    hmacKey: NO_KEY,
    sivKey: NO_KEY,
    tokenLength: 16,
  });
  return (v) => {
    try {
      return fn(v) ?? '';
    } catch {
      // A value the generaliser refuses is quarantined by ingest; count it apart.
      return '\u0000invalid';
    }
  };
}

/** Counts rows per equivalence class of quasi-identifier values. */
export class KAnonymityCounter {
  private readonly indexes: readonly number[];
  private readonly generalisers: readonly Generaliser[];
  readonly quasiIdentifiers: readonly string[];
  private readonly classes = new Map<string, number>();
  private rows = 0;
  /** Rows of classes that did not fit under MAX_CLASSES, each counted as its own class. */
  private overflowRows = 0;
  /** Raw value → generalised value, per quasi-identifier (values repeat: a year, a postcode). */
  private readonly memos: Map<string, string>[];
  /** Joined generalised values → hashed class key, for the classes seen last. */
  private readonly classKeys = new Map<string, string>();

  /**
   * @param columns the header of the rows passed to `add`
   * @param quasiIdentifiers the QI columns (missing ones are ignored)
   * @param decisions the column plan: its generalize operators are applied before counting. Without
   *   it, QI columns are recognised by header and DEFAULT_POLICY's generalisation applies.
   * @param maxClasses classes held at most (see MAX_CLASSES)
   */
  constructor(
    columns: readonly string[],
    quasiIdentifiers: readonly string[],
    decisions?: readonly ColumnDecision[],
    private readonly maxClasses = MAX_CLASSES,
  ) {
    const qis = quasiIdentifiers.filter((q) => columns.includes(q));
    this.quasiIdentifiers = qis;
    this.indexes = qis.map((q) => columns.indexOf(q));
    const byColumn = new Map((decisions ?? []).map((d) => [d.column, d]));
    this.generalisers = qis.map((q) => {
      const d = byColumn.get(q);
      if (d) return generaliserFor(d.entity, d.operator, d.options);
      const hint = headerHint(q);
      if (!hint || !QUASI_IDENTIFIER_ENTITIES.has(hint.entity)) return generaliserFor(null, undefined, undefined);
      const spec = operatorFor(DEFAULT_POLICY, hint.entity);
      return generaliserFor(hint.entity, spec.operator, spec.options);
    });
    this.memos = qis.map(() => new Map());
  }

  /** The hashed class key of a row (one one-shot SHA-256 over the joined generalised values). */
  private keyOf(cells: readonly Cell[]): string {
    let joined = '';
    for (let i = 0; i < this.indexes.length; i++) {
      const c = cells[this.indexes[i] as number];
      joined += `${c === null || c === undefined || c === '' ? '\u0000null' : this.generalised(i, typeof c === 'string' ? c : String(c))}\u0001`;
    }
    // Classes repeat row after row: their hashed keys are memoised (bounded like the value memos).
    let key = this.classKeys.get(joined);
    if (key === undefined) {
      key = hash('sha256', joined, 'base64url').slice(0, 22);
      if (this.classKeys.size >= CLASS_KEY_MEMO) this.classKeys.clear();
      this.classKeys.set(joined, key);
    }
    return key;
  }

  private generalised(i: number, raw: string): string {
    const memo = this.memos[i] as Map<string, string>;
    let v = memo.get(raw);
    if (v === undefined) {
      v = (this.generalisers[i] as Generaliser)(raw);
      if (memo.size >= GENERALISED_MEMO) memo.clear();
      memo.set(detachString(raw), v);
    }
    return v;
  }

  add(cells: readonly Cell[]): void {
    this.count(this.keyOf(cells), 1);
    this.rows++;
  }

  private count(k: string, n: number): void {
    const seen = this.classes.get(k);
    if (seen !== undefined) this.classes.set(k, seen + n);
    else if (this.classes.size < this.maxClasses) this.classes.set(k, n);
    else this.overflowRows += n;
  }

  /** Size of the row's class so far (for a second, suppressing pass). */
  classSizeOf(cells: readonly Cell[]): number {
    return this.classes.get(this.keyOf(cells)) ?? 0;
  }

  report(k: number, action: 'report' | 'suppress'): RiskReport {
    let smallest = this.overflowRows > 0 ? 1 : 0;
    let below = k > 1 ? this.overflowRows : 0;
    for (const n of this.classes.values()) {
      if (smallest === 0 || n < smallest) smallest = n;
      if (n < k) below += n;
    }
    return {
      quasiIdentifiers: [...this.quasiIdentifiers],
      k,
      smallestClass: smallest,
      rowsBelowK: below,
      shareBelowK: this.rows === 0 ? 0 : below / this.rows,
      classes: this.classes.size + this.overflowRows,
      action,
    };
  }

  /** Serialisable state (class hashes and counts) for merging chunks of a parallel run. */
  toState(): unknown {
    return {
      quasiIdentifiers: this.quasiIdentifiers,
      rows: this.rows,
      overflowRows: this.overflowRows,
      classes: [...this.classes.entries()],
    };
  }

  /** A counter restored from toState (same columns and quasi-identifiers). */
  static fromState(columns: readonly string[], state: unknown, decisions?: readonly ColumnDecision[]): KAnonymityCounter {
    const s = state as { quasiIdentifiers: string[]; rows: number; overflowRows?: number; classes: [string, number][] };
    const c = new KAnonymityCounter(columns, s.quasiIdentifiers, decisions);
    for (const [k, n] of s.classes) c.count(k, n);
    c.rows = s.rows;
    c.overflowRows += s.overflowRows ?? 0;
    return c;
  }

  /** Adds another counter's classes (another chunk of the same file). */
  merge(other: KAnonymityCounter): void {
    for (const [k, n] of other.classes) this.count(k, n);
    this.rows += other.rows;
    this.overflowRows += other.overflowRows;
  }
}

/** Quasi-identifier columns of a plan: postcode, birth date, age, gender, country not dropped. */
export function inferQuasiIdentifiers(decisions: readonly ColumnDecision[]): string[] {
  return decisions
    .filter((d) => d.entity !== null && QUASI_IDENTIFIER_ENTITIES.has(d.entity) && d.operator !== 'drop' && d.operator !== 'redact')
    .map((d) => d.column);
}
