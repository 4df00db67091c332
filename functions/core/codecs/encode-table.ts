/**
 * Streaming encoder: header + rows to CSV or JSON Lines bytes (optionally gzip), in the layout of
 * the input file. The CSV writer is a small hand-written RFC 4180 serialiser: it measured faster
 * than papaparse.unparse and csv-stringify (bench/csv-parsers.ts) and, unlike csv-stringify's
 * defaults, writes booleans as `true`/`false`.
 */
import { pipeline, Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { Cell } from '../types.ts';
import type { FileFormat } from './file-format.ts';
import { encodeParquet } from './parquet-table.ts';
import type { ParquetColumnType } from './parquet-types.ts';

/** Counters of one encoding; final once the byte stream has ended. */
export interface EncodeStats {
  rows: number;
  bytes: number;
  formulaCellsNeutralised: number;
}

/** Output is handed on in chunks of about this many UTF-16 units (≈ bytes for mostly ASCII data). */
const CHUNK_CHARS = 256 * 1024;

/** A cell a spreadsheet would run as a formula: `=`, `+`, `-`, `@`, tab or CR first. */
function formulaStart(c: number): boolean {
  return c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13;
}
/** Plain decimal numbers (`-12.5`, `-3e4`) stay as they are; a leading `+` is never plain. */
const PLAIN_NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Encodes a table. Formula neutralisation (a leading `'`) is on by default for CSV output.
 * The returned byte stream can be iterated once.
 */
export function encodeTable(
  columns: readonly string[],
  rows: AsyncIterable<readonly Cell[]>,
  format: FileFormat,
  opts: {
    neutraliseFormulas?: boolean;
    /** Parquet: each column's type (undefined entries, or no array at all: inferred from the values). */
    columnTypes?: readonly (ParquetColumnType | undefined)[];
  } = {},
): { bytes: AsyncIterable<Uint8Array>; stats(): EncodeStats } {
  const stats: EncodeStats = { rows: 0, bytes: 0, formulaCellsNeutralised: 0 };
  if (format.format === 'parquet') {
    // A binary columnar format no spreadsheet runs formulas from: nothing to neutralise.
    const bytes = encodeParquet(columns, rows, opts.columnTypes, () => {
      stats.rows++;
    });
    return { bytes: counted(bytes, stats), stats: () => ({ ...stats }) };
  }
  let text: AsyncIterable<string>;
  if (format.format === 'csv') {
    text = csvText(columns, rows, format, opts.neutraliseFormulas ?? true, stats);
  } else if (format.format === 'jsonl') {
    text = jsonlText(columns, rows, format, opts.neutraliseFormulas ?? false, stats);
  } else {
    throw new Error(`encodeTable: format '${format.format}' is not supported yet`);
  }
  const plain = utf8(text, format.bom);
  const bytes = format.compression === 'gzip' ? gzip(plain) : plain;
  return { bytes: counted(bytes, stats), stats: () => ({ ...stats }) };
}

async function* utf8(text: AsyncIterable<string>, bom: boolean): AsyncGenerator<Uint8Array> {
  let first = bom;
  for await (const s of text) {
    if (first) {
      first = false;
      yield Buffer.from(`\uFEFF${s}`, 'utf8');
    } else yield Buffer.from(s, 'utf8');
  }
  if (first) yield Buffer.from('\uFEFF', 'utf8');
}

async function* gzip(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const deflater = createGzip({ chunkSize: 64 * 1024 });
  pipeline(Readable.from(source, { objectMode: false }), deflater, () => {});
  try {
    yield* deflater as AsyncIterable<Buffer>;
  } finally {
    deflater.destroy();
  }
}

async function* counted(source: AsyncIterable<Uint8Array>, stats: EncodeStats): AsyncGenerator<Uint8Array> {
  for await (const b of source) {
    stats.bytes += b.length;
    yield b;
  }
}

/** Builds a CSV cell writer for one delimiter; counts neutralised cells into `stats`. */
function csvCellWriter(delimiter: string, neutralise: boolean, stats: EncodeStats, anyDelimiter: boolean): (v: Cell) => string {
  // A one-column file shows readers no delimiter to sniff: quote every candidate delimiter then.
  const needsQuotes = anyDelimiter
    ? /["\r\n,;\t]/
    : new RegExp(`["\\r\\n${delimiter === '\t' ? '\\t' : delimiter.replace(/[\\^\]-]/g, '\\$&')}]`);
  return (v) => {
    if (v === null) return '';
    if (typeof v !== 'string') return typeof v === 'number' ? String(v) : v ? 'true' : 'false';
    let s = v;
    if (neutralise && s.length > 0 && formulaStart(s.charCodeAt(0)) && !(s.charCodeAt(0) === 45 && PLAIN_NUMBER.test(s))) {
      s = `'${s}`;
      stats.formulaCellsNeutralised++;
    }
    if (needsQuotes.test(s)) return `"${s.indexOf('"') === -1 ? s : s.replace(/"/g, '""')}"`;
    return s;
  };
}

async function* csvText(
  columns: readonly string[],
  rows: AsyncIterable<readonly Cell[]>,
  format: FileFormat,
  neutralise: boolean,
  stats: EncodeStats,
): AsyncGenerator<string> {
  const { delimiter, lineEnding: eol } = format;
  const width = columns.length;
  const cell = csvCellWriter(delimiter, neutralise, stats, width === 1);
  // A lone empty field would be a blank line, which readers skip: quote it.
  const line = (cells: readonly Cell[]): string => {
    if (width === 1) {
      const s = cell(cells[0] ?? null);
      return s === '' ? `""${eol}` : s + eol;
    }
    let out = cell(cells[0] ?? null);
    for (let i = 1; i < width; i++) out += delimiter + cell(cells[i] ?? null);
    return out + eol;
  };
  let chunk = line(columns);
  for await (const cells of rows) {
    chunk += line(cells);
    stats.rows++;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  yield chunk;
}

async function* jsonlText(
  columns: readonly string[],
  rows: AsyncIterable<readonly Cell[]>,
  format: FileFormat,
  neutralise: boolean,
  stats: EncodeStats,
): AsyncGenerator<string> {
  const eol = format.lineEnding;
  const prefixes = columns.map((c, i) => `${i === 0 ? '{' : ','}${JSON.stringify(c)}:`);
  const width = columns.length;
  const value = (v: Cell): string => {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'string':
        if (neutralise && v.length > 0 && formulaStart(v.charCodeAt(0)) && !(v.charCodeAt(0) === 45 && PLAIN_NUMBER.test(v))) {
          stats.formulaCellsNeutralised++;
          return JSON.stringify(`'${v}`);
        }
        return JSON.stringify(v);
      case 'number':
        return Number.isFinite(v) ? String(v) : 'null';
      default:
        return v ? 'true' : 'false';
    }
  };
  let chunk = '';
  for await (const cells of rows) {
    let line = width === 0 ? '{' : '';
    for (let i = 0; i < width; i++) line += (prefixes[i] as string) + value(cells[i] ?? null);
    chunk += `${line}}${eol}`;
    stats.rows++;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}
