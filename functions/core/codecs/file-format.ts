/**
 * How a data file is laid out on disk: format, compression and the CSV dialect details that the
 * encoder reproduces on output (delimiter, BOM, line ending).
 */
import type { Compression, DataFormat } from '../types.ts';

/** The layout of one file, as decoded; the encoder writes the same layout back. */
export interface FileFormat {
  readonly format: DataFormat;
  readonly compression: Compression;
  /** CSV field delimiter (`,`, `;` or a tab). Unused for JSON Lines. */
  readonly delimiter: string;
  /** The file started with a UTF-8 byte order mark. */
  readonly bom: boolean;
  readonly lineEnding: '\n' | '\r\n';
}

const EXTENSIONS: Readonly<Record<string, DataFormat>> = {
  csv: 'csv',
  tsv: 'csv',
  tab: 'csv',
  txt: 'csv',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  json: 'jsonl',
  parquet: 'parquet',
  pq: 'parquet',
};

/** Format and compression implied by an object key's extension(s), or undefined when unknown. */
export function formatFromKey(key: string): { format: DataFormat; compression: Compression } | undefined {
  const name = key.slice(key.lastIndexOf('/') + 1).toLowerCase();
  let rest = name;
  let compression: Compression = 'none';
  for (const gz of ['.gz', '.gzip']) {
    if (rest.endsWith(gz)) {
      compression = 'gzip';
      rest = rest.slice(0, -gz.length);
      break;
    }
  }
  const dot = rest.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const format = EXTENSIONS[rest.slice(dot + 1)];
  return format ? { format, compression } : undefined;
}

/** The usual extension for a format (used for output keys). */
export function extensionOf(format: Pick<FileFormat, 'format' | 'compression'>): string {
  const base = format.format === 'csv' ? '.csv' : format.format === 'jsonl' ? '.jsonl' : '.parquet';
  return format.compression === 'gzip' && format.format !== 'parquet' ? `${base}.gz` : base;
}
