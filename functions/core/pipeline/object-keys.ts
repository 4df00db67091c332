/**
 * The storage layout, in one place. Every bucket is organised by dataset, then by run key:
 *
 *   ingest/<dataset>/<file>                              raw drop (retained, rewritten by erasure)
 *   curated/<dataset>/<runKey>/part-00000.<ext>          sanitised rows (one part per chunk of a parallel run)
 *   curated/<dataset>/<runKey>/_subjects.idx             subject-token index of that part
 *   curated/<dataset>/<runKey>/_manifest.json            written last: the run is published
 *   quarantine/<dataset>/<runKey>/rows.jsonl             invalid rows, with row number and rule
 *   quarantine/<dataset>/<runKey>/rows-00000.jsonl       the same, per chunk of a parallel run
 *   quarantine/<dataset>/<runKey>/file/<file>            a whole rejected file
 *   quarantine/<dataset>/<runKey>/_report.json           reasons (rules, rows, columns; no values)
 *   quarantine/<dataset>/<runKey>/_subjects.idx
 *   aggregates/<dataset>/<runKey>/aggregates.{json,csv}  DP releases made at ingest
 *   aggregates/<dataset>/adhoc/<releaseId>.{json,csv}    ad-hoc DP releases
 *
 * Run keys start with the ingest time, so key order is ingest order. Names starting with `_`
 * are skipped by Athena, Hive-style readers and DuckDB globs on `*.csv`.
 */
import { InvalidFileError } from '../errors.ts';
import type { Compression, DataFormat } from '../types.ts';

const DATASET = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function isValidDatasetName(name: string): boolean {
  return DATASET.test(name);
}

/** Checks an ingest key and returns its dataset (the first path segment). */
export function datasetFromKey(key: string): string {
  const fail = (why: string) => new InvalidFileError(`object key rejected: ${why}`, { file: key, rule: 'object-key' });
  if (key.length === 0 || key.length > 1024) throw fail('empty or longer than 1024 characters');
  if (key.includes('\0')) throw fail('contains a NUL character');
  if (key.startsWith('/')) throw fail('absolute path');
  const segments = key.split('/');
  if (segments.some((s) => s === '..' || s === '.')) throw fail("contains a '.' or '..' segment");
  if (segments.length < 2 || segments.some((s) => s === '')) throw fail('expected <dataset>/<file>');
  const dataset = segments[0] as string;
  if (!DATASET.test(dataset)) {
    throw fail(`dataset prefix must match ${DATASET.source} (lower case letters, digits, '-' and '_')`);
  }
  return dataset;
}

/** True for keys the pipeline writes itself or reserves (contracts, indexes): never ingested. */
export function isReservedKey(key: string): boolean {
  return key.startsWith('_') || key.split('/').some((s) => s.startsWith('_'));
}

/** Sortable: ingest time to the millisecond, then a hash of the input's identity. */
export function runKeyFor(ingestedAt: Date, idempotencyKey: string): string {
  const t = ingestedAt.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `${t}-${idempotencyKey.slice(0, 12)}`;
}

export function extensionFor(format: DataFormat, compression: Compression): string {
  const base = format === 'jsonl' ? 'jsonl' : format;
  return compression === 'gzip' ? `${base}.gz` : base;
}

export const outputKeys = {
  curatedPart: (dataset: string, runKey: string, ext: string, part = 0) =>
    `${dataset}/${runKey}/part-${String(part).padStart(5, '0')}.${ext}`,
  curatedIndex: (dataset: string, runKey: string) => `${dataset}/${runKey}/_subjects.idx`,
  manifest: (dataset: string, runKey: string) => `${dataset}/${runKey}/_manifest.json`,
  quarantineRows: (dataset: string, runKey: string) => `${dataset}/${runKey}/rows.jsonl`,
  /** Quarantined rows of one chunk of a parallel run. */
  quarantineRowsPart: (dataset: string, runKey: string, part: number) => `${dataset}/${runKey}/rows-${String(part).padStart(5, '0')}.jsonl`,
  quarantineFile: (dataset: string, runKey: string, fileName: string) => `${dataset}/${runKey}/file/${fileName}`,
  quarantineReport: (dataset: string, runKey: string) => `${dataset}/${runKey}/_report.json`,
  quarantineIndex: (dataset: string, runKey: string) => `${dataset}/${runKey}/_subjects.idx`,
  aggregates: (dataset: string, runKey: string, ext: 'json' | 'csv') => `${dataset}/${runKey}/aggregates.${ext}`,
  adhocAggregates: (dataset: string, releaseId: string, ext: 'json' | 'csv') => `${dataset}/adhoc/${releaseId}.${ext}`,
} as const;

export function baseName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}
