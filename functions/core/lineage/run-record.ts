/**
 * The lineage record of one pipeline run. It never holds a cell value: only names, counts,
 * hashes, keys' ids and versions, and rule ids.
 */
import type { BucketRole, ColumnDecision, Compression, DataFormat, KeyRef } from '../types.ts';

export type RunStatus = 'COMPLETE' | 'QUARANTINED' | 'FAILED' | 'SKIPPED';

export interface ObjectDigest {
  readonly bucket: BucketRole;
  readonly key: string;
  readonly size: number;
  readonly sha256: string;
  readonly versionId?: string;
  /** What the object is, for readers of lineage. */
  readonly role:
    | 'input'
    | 'curated'
    | 'quarantine-rows'
    | 'quarantine-file'
    | 'quarantine-report'
    | 'aggregates'
    | 'subject-index'
    | 'manifest';
  readonly rows?: number;
  /** For subject indexes: false when some rows could not be tokenised, so erasure must scan the object. */
  readonly exhaustive?: boolean;
}

export interface RunCounts {
  readonly rowsIn: number;
  readonly rowsPublished: number;
  readonly rowsQuarantined: number;
  /** Rows dropped because their subject was erased (suppression list). */
  readonly rowsSuppressed: number;
  /** Rows suppressed by the k-anonymity rule of the contract. */
  readonly rowsKSuppressed: number;
  /** rowsIn === rowsPublished + rowsQuarantined + rowsSuppressed + rowsKSuppressed */
  readonly conserved: boolean;
}

export interface ColumnProfile {
  readonly column: string;
  readonly count: number;
  readonly nullShare: number;
  readonly distinctEstimate: number;
  /** Type mix as shares: e.g. { integer: 0.98, string: 0.02 }. */
  readonly types: Readonly<Record<string, number>>;
  /** Only for columns that hold no PII. */
  readonly min?: number | string;
  readonly max?: number | string;
  readonly mean?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  /** Values outside median ± 5·MAD (numeric) on a bounded sample, as a count. */
  readonly outliers?: number;
}

export interface DriftFinding {
  readonly column: string;
  readonly metric: 'nullShare' | 'typeMix' | 'distribution' | 'missingColumn' | 'newColumn';
  readonly previous: number | string;
  readonly current: number | string;
  readonly message: string;
}

export interface RiskReport {
  readonly quasiIdentifiers: readonly string[];
  readonly k: number;
  readonly smallestClass: number;
  readonly rowsBelowK: number;
  readonly shareBelowK: number;
  readonly classes: number;
  readonly action: 'report' | 'suppress';
}

export interface BudgetSpend {
  readonly releaseId: string;
  readonly epsilon: number;
  readonly delta: number;
  readonly remainingEpsilon: number;
  readonly remainingDelta: number;
}

export interface RunRecord {
  readonly id: string;
  readonly kind: 'run';
  readonly dataset: string;
  readonly at: string;
  readonly status: RunStatus;
  /** Stable across retries of the same input: sha256 of (bucket, key, version, etag). */
  readonly idempotencyKey: string;
  /** Sortable ingest sequence used in output keys; ingest order = lexicographic order. */
  readonly runKey: string;
  readonly input: ObjectDigest & { readonly format: DataFormat; readonly compression: Compression };
  readonly contract: {
    readonly hash: string;
    readonly source: string;
    readonly inferred: boolean;
    readonly version?: number;
    readonly body?: unknown;
  };
  readonly policy: { readonly hash: string; readonly version: string };
  readonly plan: readonly ColumnDecision[];
  readonly counts: RunCounts;
  readonly outputs: readonly ObjectDigest[];
  readonly keys: readonly KeyRef[];
  readonly budget: readonly BudgetSpend[];
  readonly profile: readonly ColumnProfile[];
  readonly drift: readonly DriftFinding[];
  readonly risk?: RiskReport;
  /** Counts of quarantined rows per rule id (never values). */
  readonly quarantineReasons: Readonly<Record<string, number>>;
  /** Spreadsheet-formula cells neutralised in CSV output. */
  readonly formulaCellsNeutralised: number;
  readonly codeVersion: string;
  readonly timings: {
    readonly startedAt: string;
    readonly endedAt: string;
    readonly ms: number;
    readonly stages?: Readonly<Record<string, number>>;
  };
  readonly error?: { readonly class: string; readonly message: string; readonly rule?: string };
  /** Why the ingest-time DP releases were refused (budget), when they were. */
  readonly budgetRefusal?: string;
  /** Chunks of a parallel run. */
  readonly chunks?: readonly { readonly index: number; readonly rows: number }[];
}
