/**
 * The vocabulary of chunked (parallel) runs, shared by the local worker pool, the AWS fan-out
 * (Step Functions Distributed Map) and the sequential path, which is a run of one chunk. Every
 * type here is plain data: it crosses worker_threads messages and Lambda payloads.
 */
import type { FileFormat } from '../codecs/file-format.ts';
import type { ParquetColumnType } from '../codecs/parquet-types.ts';
import type { DatasetContract } from '../contract/contract-schema.ts';
import type { AggregatorState } from '../dp/aggregator.ts';
import type { RowIssue } from '../errors.ts';
import type { ObjectDigest } from '../lineage/run-record.ts';
import type { Policy } from '../pseudonymise/policy.ts';
import type { ColumnDecision, EntityType, KeyRef } from '../types.ts';
import type { PipelineConfig } from './ingest-types.ts';

/** One chunk of an input object. */
export interface ChunkSpec {
  readonly index: number;
  /** CSV and JSON Lines: the byte range [start, end) of the object. Parquet: row groups [start, end). */
  readonly start: number;
  readonly end: number;
  /** 1-based number, in the whole file, of the chunk's first data row. */
  readonly firstRow: number;
  /** Data rows the planner counted; the chunk processor checks it. */
  readonly rows: number;
  /** Parquet only: the row groups [first, end). */
  readonly rowGroups?: readonly [number, number];
}

/** Everything a chunk processor needs to know about its run; decided once, before any chunk runs. */
export interface RunSetup {
  readonly runId: string;
  readonly dataset: string;
  readonly runKey: string;
  readonly idempotencyKey: string;
  readonly input: { readonly key: string; readonly versionId?: string; readonly size: number };
  /** Layout of the input, which the curated output keeps. */
  readonly format: FileFormat;
  readonly columns: readonly string[];
  /** Parquet input: the type of each input column (output columns that pass through keep it). */
  readonly columnTypes?: readonly ParquetColumnType[];
  readonly contract: DatasetContract;
  readonly contractSource: string;
  readonly contractInferred: boolean;
  readonly plan: readonly ColumnDecision[];
  readonly policy: Policy;
  readonly config: PipelineConfig;
  readonly quasiIdentifiers: readonly string[];
  readonly keysUsed: readonly KeyRef[];
  readonly startedAt: string;
  /** CSV: bytes [0, headerEnd) hold the BOM and header, prepended to every chunk's range. */
  readonly headerEnd: number;
  /** True when the run has several chunks: quarantine rows go to one object per chunk. */
  readonly chunked: boolean;
}

/** What one chunk produced: counts, output objects and mergeable partial states (plain data). */
export interface ChunkResult {
  readonly index: number;
  readonly rowsIn: number;
  readonly rowsPublished: number;
  readonly rowsQuarantined: number;
  readonly rowsSuppressed: number;
  readonly quarantineReasons: Readonly<Record<string, number>>;
  /** The first issues (at most the run's report limit), in row order. */
  readonly reportIssues: readonly RowIssue[];
  readonly quarantineIndexExhaustive: boolean;
  readonly formulaCellsNeutralised: number;
  /** The curated part (always written; it may hold no rows). */
  readonly curated: ObjectDigest;
  readonly quarantine?: ObjectDigest;
  readonly profile: unknown;
  readonly aggregator?: AggregatorState;
  readonly kAnonymity?: unknown;
  /** Subject-index token hashes (SubjectIndexBuilder.toState). */
  readonly curatedIndex: Float64Array;
  readonly quarantineIndex: Float64Array;
  readonly transform: {
    readonly cacheHits: number;
    readonly cacheMisses: number;
    readonly spans: Readonly<Partial<Record<EntityType, number>>>;
  };
  readonly ms: number;
}

/** Runs chunks somewhere else: worker threads locally, Lambda invocations on AWS, in-process in tests. */
export interface ChunkExecutor {
  /** How many chunks may run at the same time. */
  readonly concurrency: number;
  /**
   * How many of the `concurrency` slots run on the caller's own thread. The caller keeps them
   * free while it still scans the input for chunk boundaries: a chunk on the same thread would
   * slow the scan down, and with it the start of every other slot. @default 0
   */
  readonly inThreadSlots?: number;
  run(setup: RunSetup, chunk: ChunkSpec): Promise<ChunkResult>;
  /** Releases workers; called once the run is over. */
  close?(): Promise<void>;
}

/** Issues kept for the quarantine report, per run. */
export const REPORT_ISSUE_LIMIT = 10_000;
