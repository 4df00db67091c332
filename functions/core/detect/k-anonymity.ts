/**
 * Re-identification risk as Google DLP reports it: k-anonymity over the quasi-identifiers. Rows
 * are grouped by their quasi-identifier values after the generalisation the policy applies (birth
 * date → year, postcode → prefix, age → band), so the report describes the published data. Only
 * a hash of each class key and its count are held, never the values.
 */
import { createHash } from 'node:crypto';
import type { RiskReport } from '../lineage/run-record.ts';
import { type OperatorFn, compileOperator } from '../pseudonymise/operators.ts';
import { DEFAULT_POLICY, operatorFor } from '../pseudonymise/policy.ts';
import type { Cell, ColumnDecision, EntityType } from '../types.ts';
import { headerHint } from './header-synonyms.ts';

/** Entities that are quasi-identifiers: not identifying alone, identifying together. */
export const QUASI_IDENTIFIER_ENTITIES: ReadonlySet<EntityType> = new Set<EntityType>(['POSTCODE', 'DATE_OF_BIRTH', 'AGE', 'GENDER', 'COUNTRY']);

const NO_KEY = new Uint8Array(32);

/** The value a quasi-identifier is counted as: its generalised form, or the value as it is. */
type Generaliser = (value: string) => string;

function generaliserFor(entity: EntityType | null, operator: string | undefined, options: Readonly<Record<string, unknown>> | undefined): Generaliser {
  if (entity === null || operator !== 'generalize') return (v) => v.trim().toLowerCase();
  const fn: OperatorFn = compileOperator('generalize', { entity, options: options ?? {}, hmacKey: NO_KEY, sivKey: NO_KEY, tokenLength: 16 });
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

  /**
   * @param columns the header of the rows passed to `add`
   * @param quasiIdentifiers the QI columns (missing ones are ignored)
   * @param decisions the column plan: its generalize operators are applied before counting. Without
   *   it, QI columns are recognised by header and DEFAULT_POLICY's generalisation applies.
   */
  constructor(columns: readonly string[], quasiIdentifiers: readonly string[], decisions?: readonly ColumnDecision[]) {
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
  }

  /** The hashed class key of a row. */
  private keyOf(cells: readonly Cell[]): string {
    const h = createHash('sha256');
    for (let i = 0; i < this.indexes.length; i++) {
      const c = cells[this.indexes[i] as number];
      const v = c === null || c === undefined || c === '' ? '\u0000null' : (this.generalisers[i] as Generaliser)(String(c));
      h.update(v).update('\u0001');
    }
    return h.digest('base64url').slice(0, 22);
  }

  add(cells: readonly Cell[]): void {
    const k = this.keyOf(cells);
    this.classes.set(k, (this.classes.get(k) ?? 0) + 1);
    this.rows++;
  }

  /** Size of the row's class so far (for a second, suppressing pass). */
  classSizeOf(cells: readonly Cell[]): number {
    return this.classes.get(this.keyOf(cells)) ?? 0;
  }

  report(k: number, action: 'report' | 'suppress'): RiskReport {
    let smallest = 0;
    let below = 0;
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
      classes: this.classes.size,
      action,
    };
  }

  /** Serialisable state (class hashes and counts) for merging chunks of a parallel run. */
  toState(): unknown {
    return { quasiIdentifiers: this.quasiIdentifiers, rows: this.rows, classes: [...this.classes.entries()] };
  }

  /** A counter restored from toState (same columns and quasi-identifiers). */
  static fromState(columns: readonly string[], state: unknown, decisions?: readonly ColumnDecision[]): KAnonymityCounter {
    const s = state as { quasiIdentifiers: string[]; rows: number; classes: [string, number][] };
    const c = new KAnonymityCounter(columns, s.quasiIdentifiers, decisions);
    for (const [k, n] of s.classes) c.classes.set(k, n);
    c.rows = s.rows;
    return c;
  }

  /** Adds another counter's classes (another chunk of the same file). */
  merge(other: KAnonymityCounter): void {
    for (const [k, n] of other.classes) this.classes.set(k, (this.classes.get(k) ?? 0) + n);
    this.rows += other.rows;
  }
}

/** Quasi-identifier columns of a plan: postcode, birth date, age, gender, country not dropped. */
export function inferQuasiIdentifiers(decisions: readonly ColumnDecision[]): string[] {
  return decisions
    .filter((d) => d.entity !== null && QUASI_IDENTIFIER_ENTITIES.has(d.entity) && d.operator !== 'drop' && d.operator !== 'redact')
    .map((d) => d.column);
}
