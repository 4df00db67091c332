/**
 * Inputs and outputs of the ingest use case, shared by the CLI and the Lambda handlers.
 */
import type { DatasetContract } from '../contract/contract-schema.ts';
import type { RunRecord } from '../lineage/run-record.ts';
import type { Policy } from '../pseudonymise/policy.ts';
import type { ChunkExecutor } from './chunk-types.ts';

/** One object that landed in the ingest bucket under `<dataset>/...`. */
export interface IngestInput {
  readonly key: string;
  /** Defaults to the first path segment of the key. */
  readonly dataset?: string;
  readonly versionId?: string;
  /** S3 ETag from the event; the store's ETag is used when absent. */
  readonly etag?: string;
  /** A contract passed explicitly (CLI `--contract`); otherwise the contract store, then inference. */
  readonly contract?: { readonly text: string; readonly source: string };
}

/** Settings of a run. Parsed once at start by the entry point (CLI flags or Lambda env). */
export interface PipelineConfig {
  /** Rows sampled for inference and column classification. */
  readonly sampleRows: number;
  /** Default share of invalid rows above which the whole file is quarantined (contract overrides). */
  readonly maxInvalidRowShare: number;
  /** How long an in-progress idempotency claim holds before another invocation may take over. */
  readonly claimTtlMs: number;
  /** Code version recorded in lineage. */
  readonly codeVersion: string;
  /** Neutralise spreadsheet formulas in CSV output. */
  readonly neutraliseFormulas: boolean;
  readonly defaultRegion: string;
}

export const DEFAULT_PIPELINE_CONFIG: PipelineConfig = Object.freeze({
  sampleRows: 1000,
  maxInvalidRowShare: 0.05,
  claimTtlMs: 15 * 60_000,
  codeVersion: '0.1.0',
  neutraliseFormulas: true,
  defaultRegion: 'GB',
});

export interface IngestOptions {
  readonly config?: Partial<PipelineConfig>;
  readonly policy?: Policy;
  /** Progress callback (bytes read so far), for the CLI's progress bar. */
  readonly onProgress?: (bytesRead: number) => void;
  /**
   * Parallel chunks: files of at least `minBytes` (default twice the chunk size) that can be
   * split (CSV and JSON Lines without gzip, Parquet with several row groups, contracts without
   * `unique` columns) are cut into chunks of about `targetChunkBytes` (default: shrinking shares
   * of what is left, 2-64 MiB, see guidedChunkBytes; Parquet about four per worker) and run on
   * `executor`.
   */
  readonly parallel?: { readonly executor: ChunkExecutor; readonly targetChunkBytes?: number; readonly minBytes?: number };
}

export interface IngestResult {
  /** 'SKIPPED' when the same input was already processed (idempotent retry). */
  readonly status: RunRecord['status'];
  readonly record: RunRecord;
  /** True when this call found an earlier completed run and did nothing. */
  readonly duplicate: boolean;
  /** Undefined when the file was rejected before a contract applied. */
  readonly contract: DatasetContract | undefined;
}
