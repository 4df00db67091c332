/**
 * Streaming decoder: bytes (optionally gzip) of a CSV or JSON Lines file to a header and an async
 * stream of rows. File-level problems throw InvalidFileError (from decodeTable while the header is
 * read, or later from the rows iterator); row-level problems ride on the row as `issue` + `raw`.
 */
import { ChunkBoundaryError } from '../errors.ts';
import type { Cell, Compression, DataFormat, Row } from '../types.ts';
import { CsvRecordParser, firstRecordEnd, sniffDelimiter } from './csv-record-parser.ts';
import type { FileFormat } from './file-format.ts';
import { formatFromKey } from './file-format.ts';
import { decodeParquet, type RandomAccess } from './parquet-table.ts';
import type { ParquetColumnType } from './parquet-types.ts';
import { fileError, openTextSource, type TextSource } from './text-source.ts';

/** Limits that keep hostile files from exhausting memory or CPU. Record sizes count UTF-16 units. */
export interface DecodeLimits {
  maxDecompressedBytes: number;
  maxCompressionRatio: number;
  maxCellLength: number;
  maxColumns: number;
  maxRecordBytes: number;
  maxJsonDepth: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = Object.freeze({
  maxDecompressedBytes: 64 * 1024 ** 3,
  maxCompressionRatio: 200,
  maxCellLength: 1024 * 1024,
  maxColumns: 2000,
  maxRecordBytes: 16 * 1024 * 1024,
  maxJsonDepth: 32,
});

/** A decoded table: its layout, header and rows (iterate once, sequentially). */
export interface DecodedTable {
  readonly format: FileFormat;
  readonly columns: readonly string[];
  readonly rows: AsyncIterable<Row>;
  /** Parquet: each column's type, which the encoder writes back for columns that pass through. */
  readonly columnTypes?: readonly ParquetColumnType[];
  /** Parquet: rows and compressed bytes of each row group (the chunks of parallel runs). */
  readonly rowGroups?: readonly { readonly rows: number; readonly bytes: number }[];
}

/** Options for decoding one chunk of a file (parallel runs), or a Parquet file. */
export interface DecodeChunkOptions {
  /** Number of the first data row (default 1). */
  readonly firstRowNumber?: number;
  /** JSON Lines: the columns (decided on the whole file's first lines), instead of inferring them. */
  readonly columns?: readonly string[];
  /** CSV: the text must end right after a record; otherwise ChunkBoundaryError. */
  readonly requireRecordEnd?: boolean;
  /** Parquet: random access to the object (without it, the body is read into memory). */
  readonly random?: RandomAccess;
  /** Parquet: only these row groups [first, end). */
  readonly rowGroups?: readonly [number, number];
}

/** JSON Lines columns are the keys seen in this many first lines. */
export const JSONL_COLUMN_SAMPLE = 1000;

/** Opens a CSV or JSON Lines body (gzip detected by magic bytes) and reads its header. */
export async function decodeTable(
  body: AsyncIterable<Uint8Array>,
  opts: {
    fileName: string;
    format?: DataFormat;
    compression?: Compression;
    limits?: Partial<DecodeLimits>;
    onBytes?: (compressedBytesRead: number) => void;
  } & DecodeChunkOptions,
): Promise<DecodedTable> {
  const { fileName } = opts;
  const limits: DecodeLimits = { ...DEFAULT_DECODE_LIMITS, ...opts.limits };
  const declared = opts.format ?? formatFromKey(fileName)?.format;
  if (declared === 'parquet') return decodeParquetTable(body, opts);
  // opts.compression is only a hint: the magic bytes decide.
  const source = await openTextSource(body, { fileName, limits, onBytes: opts.onBytes });
  const reader = new TextReader(source);
  try {
    const format = declared ?? (await sniffFormat(reader));
    return await (format === 'jsonl'
      ? decodeJsonl(reader, source, fileName, limits, opts)
      : decodeCsv(reader, source, fileName, limits, opts));
  } catch (err) {
    await reader.close().catch(() => {});
    throw err;
  }
}

// ------------------------------------------------------------------ shared plumbing

/** Text chunks with one-chunk push-back, closed when the consumer stops early. */
class TextReader {
  private readonly back: string[] = [];
  private closed = false;
  constructor(private readonly source: TextSource) {}
  async next(): Promise<string | undefined> {
    const b = this.back.pop();
    if (b !== undefined) return b;
    if (this.closed) return undefined;
    const r = await this.source.chunks.next();
    if (r.done) {
      this.closed = true;
      return undefined;
    }
    return r.value;
  }
  unshift(text: string): void {
    this.back.push(text);
  }
  async close(): Promise<void> {
    this.closed = true;
    await this.source.chunks.return?.();
  }
}

/** The format of every Parquet table (no text dialect). */
export const PARQUET_FORMAT: FileFormat = Object.freeze({
  format: 'parquet',
  compression: 'none',
  delimiter: ',',
  bom: false,
  lineEnding: '\n',
});

async function decodeParquetTable(
  body: AsyncIterable<Uint8Array>,
  opts: { fileName: string; onBytes?: (n: number) => void } & DecodeChunkOptions,
): Promise<DecodedTable> {
  let random = opts.random;
  if (random) {
    // The body is not needed: release it (an S3 socket, a file handle).
    await (body as AsyncGenerator<Uint8Array>).return?.(undefined);
  } else {
    // No random access: the whole file in memory (small files, stores without range reads).
    const parts: Uint8Array[] = [];
    let n = 0;
    for await (const b of body) {
      parts.push(b);
      n += b.length;
      opts.onBytes?.(n);
    }
    const all = Buffer.concat(parts);
    random = { size: all.length, read: async (start, end) => all.subarray(start, end) };
  }
  const table = await decodeParquet(random, {
    fileName: opts.fileName,
    ...(opts.rowGroups ? { rowGroups: opts.rowGroups } : {}),
    ...(opts.firstRowNumber !== undefined ? { firstRowNumber: opts.firstRowNumber } : {}),
  });
  checkNames(table.columns, opts.fileName);
  return { format: PARQUET_FORMAT, columns: table.columns, rows: table.rows, columnTypes: table.columnTypes, rowGroups: table.rowGroups };
}

async function sniffFormat(reader: TextReader): Promise<DataFormat> {
  const first = await reader.next();
  if (first === undefined) return 'csv';
  reader.unshift(first);
  const m = /\S/.exec(first);
  return m && m[0] === '{' ? 'jsonl' : 'csv';
}

/**
 * Rows served from a buffer that `fill` refills a chunk at a time. Cheaper than an async
 * generator per row; `next` must not be called again before the previous promise settles.
 */
class BufferedRows implements AsyncIterableIterator<Row> {
  private buf: Row[];
  private i = 0;
  private finished = false;
  constructor(
    initial: Row[],
    private readonly fill: (out: Row[]) => Promise<boolean>,
    private readonly close: () => Promise<void>,
  ) {
    this.buf = initial;
  }
  [Symbol.asyncIterator](): this {
    return this;
  }
  next(): Promise<IteratorResult<Row>> {
    if (this.i < this.buf.length) return Promise.resolve({ done: false, value: this.buf[this.i++] as Row });
    return this.refill();
  }
  private async refill(): Promise<IteratorResult<Row>> {
    while (!this.finished) {
      this.buf = [];
      this.i = 0;
      try {
        if (!(await this.fill(this.buf))) this.finished = true;
      } catch (err) {
        this.finished = true;
        this.buf = [];
        await this.close().catch(() => {});
        throw err;
      }
      if (this.buf.length > 0) return { done: false, value: this.buf[this.i++] as Row };
    }
    return { done: true, value: undefined };
  }
  async return(): Promise<IteratorResult<Row>> {
    this.finished = true;
    this.buf = [];
    this.i = 0;
    await this.close();
    return { done: true, value: undefined };
  }
}

// ------------------------------------------------------------------ CSV

async function decodeCsv(
  reader: TextReader,
  source: TextSource,
  fileName: string,
  limits: DecodeLimits,
  chunk: DecodeChunkOptions,
): Promise<DecodedTable> {
  const tooLong = (): never => {
    throw fileError(fileName, 'record-too-long', `has a record longer than ${limits.maxRecordBytes} characters (an unclosed quote?)`, {
      limit: limits.maxRecordBytes,
    });
  };
  // Gather text up to the end of the header record to sniff the delimiter and line ending.
  let head = '';
  let headerEnd: ReturnType<typeof firstRecordEnd>;
  const scan = { pos: 0, inQuotes: false, started: false };
  for (;;) {
    const text = await reader.next();
    if (text === undefined) break;
    head += text;
    headerEnd = firstRecordEnd(head, scan);
    if (headerEnd) break;
    if (head.length > limits.maxRecordBytes) tooLong();
  }
  if (!headerEnd && /^\s*$/.test(head)) throw fileError(fileName, 'empty-file', 'is empty (no header)');
  const headerText = headerEnd ? head.slice(0, headerEnd.end) : head;
  const delimiter = sniffDelimiter(headerText);
  const format: FileFormat = {
    format: 'csv',
    compression: source.compression,
    delimiter,
    bom: source.bom,
    lineEnding: headerEnd?.lineEnding ?? '\n',
  };

  const parser = new CsvRecordParser(delimiter, limits.maxRecordBytes, tooLong);
  let header: string[] | undefined;
  let width = 0;
  let rowNumber = (chunk.firstRowNumber ?? 1) - 1;
  let out: Row[] = [];
  const maxCell = limits.maxCellLength;
  const sink = (fields: string[], malformed: boolean, buf: string, start: number, end: number): void => {
    if (header === undefined) {
      header = fields;
      width = fields.length;
      return;
    }
    rowNumber++;
    let issue: Row['issue'];
    if (fields.length !== width) {
      issue = { rule: 'field-count', message: `row ${rowNumber} has ${fields.length} fields, header has ${width}` };
    } else if (malformed) {
      issue = {
        rule: 'csv-quotes',
        message: `row ${rowNumber} has a malformed quoted field (text after the closing quote or no closing quote)`,
      };
    } else if (end - start > maxCell) {
      // Only a record longer than the limit can hold a cell longer than it.
      for (let i = 0; i < fields.length; i++) {
        if ((fields[i] as string).length > maxCell) {
          issue = { rule: 'cell-too-long', message: `row ${rowNumber}, column '${header[i]}': value longer than ${maxCell} characters` };
          break;
        }
      }
    }
    out.push(issue === undefined ? { rowNumber, cells: fields } : { rowNumber, cells: fields, issue, raw: buf.slice(start, end) });
  };

  parser.push(head, sink);
  let ended = false;
  while (header === undefined && !ended) {
    const text = await reader.next();
    if (text === undefined) {
      parser.end(sink);
      ended = true;
    } else parser.push(text, sink);
  }
  if (header === undefined) throw fileError(fileName, 'empty-file', 'is empty (no header)');
  const columns = checkCsvHeader(header, fileName, limits);
  header = columns;

  const first = out;
  out = [];
  const fill = async (target: Row[]): Promise<boolean> => {
    out = target;
    while (out.length === 0) {
      if (ended) return false;
      const text = await reader.next();
      if (text === undefined) {
        if (chunk.requireRecordEnd && parser.settle(sink) > 0) {
          throw new ChunkBoundaryError(`${fileName}: the chunk does not end at a record boundary`, {
            file: fileName,
            rule: 'chunk-boundary',
          });
        }
        parser.end(sink);
        ended = true;
        return out.length > 0;
      }
      parser.push(text, sink);
    }
    return true;
  };
  return { format, columns, rows: new BufferedRows(first, fill, () => reader.close()) };
}

function checkCsvHeader(fields: readonly string[], fileName: string, limits: DecodeLimits): string[] {
  if (fields.length > limits.maxColumns) {
    throw fileError(fileName, 'too-many-columns', `has ${fields.length} columns, the limit is ${limits.maxColumns}`, {
      columns: fields.length,
      limit: limits.maxColumns,
    });
  }
  // Surrounding spaces in header names are noise ("id, name"); names are compared trimmed.
  const names = fields.map((f) => f.trim());
  if (names.length === 1 && names[0] === '') throw fileError(fileName, 'empty-file', 'has an empty header line');
  checkNames(names, fileName);
  return names;
}

function checkNames(names: readonly string[], fileName: string): void {
  const seen = new Set<string>();
  for (let i = 0; i < names.length; i++) {
    const n = names[i] as string;
    if (n === '') throw fileError(fileName, 'header-empty', `header column ${i + 1} has no name`, { columnIndex: i + 1 });
    if (seen.has(n)) throw fileError(fileName, 'header-duplicate', `header names column '${n}' more than once`, { column: n });
    seen.add(n);
  }
}

// ------------------------------------------------------------------ JSON Lines

interface PendingLine {
  readonly line: string;
  readonly value: unknown;
  readonly error?: 'json-parse' | 'json-not-object';
}

async function decodeJsonl(
  reader: TextReader,
  source: TextSource,
  fileName: string,
  limits: DecodeLimits,
  chunk: DecodeChunkOptions,
): Promise<DecodedTable> {
  const lines = new LineSplitter(limits.maxRecordBytes, () => {
    throw fileError(fileName, 'record-too-long', `has a line longer than ${limits.maxRecordBytes} characters`, {
      limit: limits.maxRecordBytes,
    });
  });
  let lineEnding: '\n' | '\r\n' | undefined;
  // Buffer the first lines: columns are the keys in order of first appearance.
  const pending: PendingLine[] = [];
  const keys = new Map<string, number>();
  let ended = false;
  if (chunk.columns) {
    // A chunk of a parallel run: the columns were read from the whole file's first lines.
    for (const c of chunk.columns) keys.set(c, keys.size);
  }
  const collect = (line: string): void => {
    if (isBlank(line)) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (pending.length === 0 && line.trimStart().startsWith('[')) {
        throw fileError(fileName, 'json-array', 'is a JSON array document, not JSON Lines (one object per line)');
      }
      pending.push({ line, value: undefined, error: 'json-parse' });
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      pending.push({ line, value, error: 'json-not-object' });
      return;
    }
    for (const k in value) if (!keys.has(k)) keys.set(k, keys.size);
    pending.push({ line, value });
  };
  while (!chunk.columns && pending.length < JSONL_COLUMN_SAMPLE && !ended) {
    const text = await reader.next();
    if (text === undefined) {
      ended = true;
      lines.end(collect);
      break;
    }
    lineEnding ??= lineEndingOf(text);
    lines.push(text, (line) => {
      if (pending.length < JSONL_COLUMN_SAMPLE) collect(line);
      else lines.unconsumed(line);
    });
  }
  if (pending.length === 0 && !chunk.columns) throw fileError(fileName, 'empty-file', 'is empty (no JSON lines)');
  if (keys.size === 0) throw fileError(fileName, 'empty-file', 'has no JSON object with fields in its first lines');
  if (keys.size > limits.maxColumns) {
    throw fileError(fileName, 'too-many-columns', `has ${keys.size} distinct fields, the limit is ${limits.maxColumns}`, {
      columns: keys.size,
      limit: limits.maxColumns,
    });
  }
  const columns = [...keys.keys()];
  checkNames(
    columns.map((c) => (c.trim() === '' ? '' : c)),
    fileName,
  );
  const format: FileFormat = {
    format: 'jsonl',
    compression: source.compression,
    delimiter: ',',
    bom: source.bom,
    lineEnding: lineEnding ?? '\n',
  };

  const toRow = new JsonRowBuilder(columns, keys, limits);
  let rowNumber = (chunk.firstRowNumber ?? 1) - 1;
  const first: Row[] = [];
  for (const p of pending) {
    rowNumber++;
    first.push(p.error ? toRow.structural(rowNumber, p.error, p.line) : toRow.build(rowNumber, p.value as Record<string, unknown>, p.line));
  }
  let out: Row[] = first;
  const onLine = (line: string): void => {
    if (isBlank(line)) return;
    rowNumber++;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      out.push(toRow.structural(rowNumber, 'json-parse', line));
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) out.push(toRow.structural(rowNumber, 'json-not-object', line));
    else out.push(toRow.build(rowNumber, value as Record<string, unknown>, line));
  };
  // Lines split off the chunk that completed the sample are emitted first.
  lines.drainUnconsumed(onLine);
  const fill = async (target: Row[]): Promise<boolean> => {
    out = target;
    while (out.length === 0) {
      if (ended) return false;
      const text = await reader.next();
      if (text === undefined) {
        ended = true;
        lines.end(onLine);
        return false;
      }
      lines.push(text, onLine);
    }
    return true;
  };
  return { format, columns, rows: new BufferedRows(first, fill, () => reader.close()) };
}

function isBlank(line: string): boolean {
  const c = line.charCodeAt(0);
  if (c === 123) return false; // '{': the usual case
  return line.trim().length === 0;
}

function lineEndingOf(text: string): '\n' | '\r\n' | undefined {
  const i = text.indexOf('\n');
  if (i === -1) return undefined;
  return i > 0 && text.charCodeAt(i - 1) === 13 ? '\r\n' : '\n';
}

/** Splits text chunks into lines (LF or CRLF), bounding the length of one line. */
class LineSplitter {
  private carry = '';
  private parked: string[] = [];
  constructor(
    private readonly maxLine: number,
    private readonly onTooLong: () => never,
  ) {}
  push(text: string, onLine: (line: string) => void): void {
    const lastNl = text.lastIndexOf('\n');
    if (lastNl === -1) {
      this.carry += text;
      if (this.carry.length > this.maxLine) this.onTooLong();
      return;
    }
    const buf = this.carry.length > 0 ? this.carry + text.slice(0, lastNl + 1) : text;
    const stop = this.carry.length > 0 ? buf.length : lastNl + 1;
    this.carry = text.slice(lastNl + 1);
    let pos = 0;
    while (pos < stop) {
      const nl = buf.indexOf('\n', pos);
      let end = nl;
      if (end > pos && buf.charCodeAt(end - 1) === 13) end--;
      if (end - pos > this.maxLine) this.onTooLong();
      onLine(buf.slice(pos, end));
      pos = nl + 1;
    }
    if (this.carry.length > this.maxLine) this.onTooLong();
  }
  end(onLine: (line: string) => void): void {
    let line = this.carry;
    this.carry = '';
    if (line.length > 0 && line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    if (line.length > 0) onLine(line);
  }
  /** Parks a line the caller cannot take yet. */
  unconsumed(line: string): void {
    this.parked.push(line);
  }
  drainUnconsumed(onLine: (line: string) => void): void {
    const parked = this.parked;
    this.parked = [];
    for (const l of parked) onLine(l);
  }
}

/** Turns parsed JSON objects into cells in column order. */
class JsonRowBuilder {
  private readonly width: number;
  constructor(
    private readonly columns: readonly string[],
    private readonly index: ReadonlyMap<string, number>,
    private readonly limits: DecodeLimits,
  ) {
    this.width = columns.length;
  }

  structural(rowNumber: number, rule: 'json-parse' | 'json-not-object', line: string): Row {
    const message = rule === 'json-parse' ? `row ${rowNumber} is not valid JSON` : `row ${rowNumber} is valid JSON but not an object`;
    return { rowNumber, cells: [], issue: { rule, message }, raw: line };
  }

  build(rowNumber: number, obj: Record<string, unknown>, line: string): Row {
    const { columns, width, limits } = this;
    const cells: Cell[] = new Array<Cell>(width);
    let found = 0;
    let issue: Row['issue'];
    for (let i = 0; i < width; i++) {
      const v = obj[columns[i] as string];
      switch (typeof v) {
        case 'string':
          found++;
          if (v.length > limits.maxCellLength && !issue) {
            issue = {
              rule: 'cell-too-long',
              message: `row ${rowNumber}, column '${columns[i]}': value longer than ${limits.maxCellLength} characters`,
            };
          }
          cells[i] = v;
          break;
        case 'number':
          found++;
          if (!issue && Number.isInteger(v) && !Number.isSafeInteger(v)) {
            // JSON.parse already rounded it; publishing the rounded number would corrupt an id silently.
            issue = {
              rule: 'json-number-precision',
              message: `row ${rowNumber}, column '${columns[i]}': integer beyond 2^53 loses precision`,
            };
          }
          cells[i] = v;
          break;
        case 'boolean':
          found++;
          cells[i] = v;
          break;
        case 'object':
          found++;
          if (v === null) cells[i] = null;
          else if (depthExceeds(v, limits.maxJsonDepth - 1)) {
            issue ??= {
              rule: 'json-too-deep',
              message: `row ${rowNumber}, column '${columns[i]}': nested deeper than ${limits.maxJsonDepth} levels`,
            };
            cells[i] = null;
          } else {
            const s = JSON.stringify(v);
            if (s.length > limits.maxCellLength && !issue) {
              issue = {
                rule: 'cell-too-long',
                message: `row ${rowNumber}, column '${columns[i]}': value longer than ${limits.maxCellLength} characters`,
              };
            }
            cells[i] = s;
          }
          break;
        default:
          // undefined (absent) or an inherited member such as `toString`
          cells[i] = null;
      }
    }
    let own = 0;
    for (const _ in obj) own++;
    if (own > found && !issue) {
      const unknown: string[] = [];
      for (const k in obj) if (!this.index.has(k)) unknown.push(k);
      const shown = unknown
        .slice(0, 3)
        .map((k) => `'${k.length > 64 ? `${k.slice(0, 64)}…` : k}'`)
        .join(', ');
      issue = {
        rule: 'unknown-field',
        message: `row ${rowNumber} has ${unknown.length} field(s) not among the columns: ${shown}${unknown.length > 3 ? ', …' : ''}`,
      };
    }
    return issue === undefined ? { rowNumber, cells } : { rowNumber, cells, issue, raw: line };
  }
}

/** True when a parsed JSON value nests deeper than `limit` levels (iterative: no stack risk). */
function depthExceeds(value: object, limit: number): boolean {
  if (limit < 1) return true;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (d > limit) return true;
    if (Array.isArray(v)) {
      for (const x of v) if (x !== null && typeof x === 'object') stack.push([x, d + 1]);
    } else {
      for (const k in v as Record<string, unknown>) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== null && typeof x === 'object') stack.push([x, d + 1]);
      }
    }
  }
  return false;
}
