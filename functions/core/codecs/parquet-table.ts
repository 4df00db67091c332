/**
 * Parquet in and out with hyparquet and hyparquet-writer. Measured with bench/parquet-libs.ts on
 * the same 100,000 × 10 table (INT32, 4 × STRING, INT32, DOUBLE, BOOLEAN, TIMESTAMP, nullable
 * STRING), best of 3, Node 20 on the 2-core VM under load, DuckDB at 1 thread:
 *
 *   write  hyparquet-writer 1.46 s (1.57 MB)   @duckdb/node-api appender + COPY 0.90 s (1.70 MB)
 *   read   hyparquet 0.56 s                     @duckdb/node-api read_parquet, chunks 0.40 s
 *
 * DuckDB is about 1.5x faster, but it is a 70 MB native binding (linux-x64 only on this
 * registry) that no Lambda bundle can carry, and it wants whole files; hyparquet is pure
 * JavaScript (a few hundred KiB bundled), reads any byte range through a callback and writes row
 * group by row group. At these speeds Parquet is not the pipeline's bottleneck (the per-row
 * privacy work is), so the portable library wins.
 *
 * Reading needs random access (the footer is at the end): the decoder reads the footer, then
 * one row group at a time through `read(start, end)`, so memory is bounded by the largest row
 * group, not by the file. Writing buffers one row group (at most ROW_GROUP_ROWS rows or about
 * ROW_GROUP_BYTES of values) and hands its bytes on before buffering the next.
 */
import { type FileMetaData, parquetMetadataAsync, parquetRead, parquetSchema, type SchemaElement } from 'hyparquet';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { Cell, Row } from '../types.ts';
import { columnTypeOf, isoDateFromDays, isoFromUnits, type ParquetColumnType, unitsFromIso } from './parquet-types.ts';
import { fileError } from './text-source.ts';

/** Random access to an object's bytes. */
export interface RandomAccess {
  readonly size: number;
  read(start: number, end: number): Promise<Uint8Array>;
}

/** A decoded Parquet file: its columns with their types, and rows read row group by row group. */
export interface ParquetTable {
  readonly columns: readonly string[];
  readonly columnTypes: readonly ParquetColumnType[];
  readonly rowGroups: readonly { readonly rows: number; readonly bytes: number }[];
  readonly rows: AsyncIterable<Row>;
}

/** Reads the footer (throws InvalidFileError when the bytes are not Parquet). */
export async function parquetFooter(source: RandomAccess, fileName: string): Promise<FileMetaData> {
  if (source.size < 12) throw fileError(fileName, 'parquet-invalid', 'is too short to be a Parquet file');
  try {
    return await parquetMetadataAsync(asyncBuffer(source));
  } catch (err) {
    throw fileError(fileName, 'parquet-invalid', 'is not a readable Parquet file (footer or metadata)', {}, err);
  }
}

/**
 * Opens a Parquet file. `rowGroups` limits reading to the row groups [first, end) (a chunk of a
 * parallel run); `firstRowNumber` is the number of the first row read (default 1).
 */
export async function decodeParquet(
  source: RandomAccess,
  opts: { fileName: string; rowGroups?: readonly [number, number]; firstRowNumber?: number; metadata?: FileMetaData },
): Promise<ParquetTable> {
  const { fileName } = opts;
  const metadata = opts.metadata ?? (await parquetFooter(source, fileName));
  const tree = parquetSchema(metadata);
  const columns = tree.children.map((c) => c.element.name);
  const columnTypes = tree.children.map((c) => columnTypeOf(c.element, c.children.length > 0));
  const groups = metadata.row_groups.map((g) => ({
    rows: Number(g.num_rows),
    bytes: Number(g.total_compressed_size ?? g.columns.reduce((n, c) => n + Number(c.meta_data?.total_compressed_size ?? 0n), 0)),
  }));
  const [firstGroup, endGroup] = opts.rowGroups ?? [0, groups.length];
  let groupStart = 0;
  for (let g = 0; g < firstGroup; g++) groupStart += (groups[g] as { rows: number }).rows;
  const file = asyncBuffer(source);
  const convert = columnTypes.map((t) => cellConverter(t));
  // One read per row group (its column chunks are contiguous), served from memory to hyparquet's
  // many small slices: a range read of an encrypted object costs a file open and a key unwrap.
  const groupFile = async (g: number) => {
    let lo = Number.POSITIVE_INFINITY;
    let hi = 0;
    for (const c of metadata.row_groups[g]?.columns ?? []) {
      const m = c.meta_data;
      if (!m) continue;
      const start = Number(m.dictionary_page_offset ?? m.data_page_offset);
      lo = Math.min(lo, start);
      hi = Math.max(hi, start + Number(m.total_compressed_size));
    }
    if (!(hi > lo)) return file;
    const bytes = await source.read(lo, hi);
    return {
      byteLength: source.size,
      slice(start: number, end?: number): Promise<ArrayBuffer> {
        const stop = end ?? source.size;
        if (start >= lo && stop <= lo + bytes.length) {
          const v = bytes.subarray(start - lo, stop - lo);
          return Promise.resolve(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength) as ArrayBuffer);
        }
        return file.slice(start, end);
      },
    };
  };
  const width = columns.length;

  async function* rows(): AsyncGenerator<Row> {
    let rowNumber = (opts.firstRowNumber ?? 1) - 1;
    let start = groupStart;
    for (let g = firstGroup; g < endGroup; g++) {
      const n = (groups[g] as { rows: number }).rows;
      let data: unknown[][] = [];
      try {
        await parquetRead({
          file: await groupFile(g),
          metadata,
          rowStart: start,
          rowEnd: start + n,
          rowFormat: 'array',
          parsers: PARSERS,
          onComplete: (r: unknown[][]) => {
            data = r;
          },
        });
      } catch (err) {
        throw fileError(fileName, 'parquet-invalid', `row group ${g} could not be read`, { rowGroup: g }, err);
      }
      start += n;
      for (let i = 0; i < data.length; i++) {
        const raw = data[i] as unknown[];
        const cells: Cell[] = new Array(width);
        for (let c = 0; c < width; c++) cells[c] = (convert[c] as (v: unknown) => Cell)(raw[c]);
        data[i] = undefined as unknown as unknown[];
        yield { rowNumber: ++rowNumber, cells };
      }
    }
  }
  return { columns, columnTypes, rowGroups: groups, rows: rows() };
}

// Timestamps and dates arrive as text (exact, see parquet-types.ts), not Date objects.
const PARSERS = {
  timestampFromMilliseconds: (v: bigint) => isoFromUnits(v, 1e3),
  timestampFromMicroseconds: (v: bigint) => isoFromUnits(v, 1e6),
  timestampFromNanoseconds: (v: bigint) => isoFromUnits(v, 1e9),
  dateFromDays: (days: number) => isoDateFromDays(days),
};

function cellConverter(t: ParquetColumnType): (v: unknown) => Cell {
  const json = (v: unknown): Cell =>
    v === null || v === undefined ? null : JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? bigintCell(x) : x));
  if (t.kind === 'JSON') return json;
  return (v) => {
    switch (typeof v) {
      case 'string':
      case 'number':
      case 'boolean':
        return v;
      case 'bigint':
        return bigintCell(v);
      case 'undefined':
        return null;
      default:
        if (v === null) return null;
        if (v instanceof Date) return v.toISOString();
        if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
        return json(v);
    }
  };
}

function bigintCell(v: bigint): number | string {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v.toString();
}

function asyncBuffer(source: RandomAccess): { byteLength: number; slice(start: number, end?: number): Promise<ArrayBuffer> } {
  return {
    byteLength: source.size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const bytes = await source.read(start, end ?? source.size);
      if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer)
        return bytes.buffer;
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

// ------------------------------------------------------------------------------ writing

/** Rows per row group written (a row group is the unit of parallel reads downstream). */
export const ROW_GROUP_ROWS = 50_000;
/** A row group is also closed once its values reach about this many bytes. */
const ROW_GROUP_BYTES = 16 * 1024 * 1024;

/**
 * Encodes rows as Parquet. `types` gives each column's type (columns that passed through keep
 * their input's schema element); without it, types are inferred from the first row group's
 * values (booleans, safe integers, numbers, else strings).
 */
export async function* encodeParquet(
  columns: readonly string[],
  rows: AsyncIterable<readonly Cell[]>,
  types: readonly (ParquetColumnType | undefined)[] | undefined,
  onRow: () => void,
): AsyncGenerator<Uint8Array> {
  const width = columns.length;
  let buffers: Cell[][] = columns.map(() => []);
  let buffered = 0;
  let bytes = 0;
  const writer = new ByteWriter();
  let pq: ParquetWriter | undefined;
  let resolved: ParquetColumnType[] | undefined;

  const take = (): Uint8Array => {
    const out = writer.getBytes().slice();
    writer.index = 0;
    return out;
  };
  const flush = (): void => {
    resolved ??= columns.map((_, c) => types?.[c] ?? inferType(buffers[c] as Cell[]));
    if (!pq) pq = new ParquetWriter({ writer, schema: schemaOf(columns, resolved), createdBy: 'privacy-pipeline (hyparquet-writer)' });
    const columnData = columns.map((name, c) => ({ name, data: writeValues(resolved?.[c] as ParquetColumnType, buffers[c] as Cell[]) }));
    void pq.write({ columnData, rowGroupSize: buffered });
    buffers = columns.map(() => []);
    buffered = 0;
    bytes = 0;
  };
  for await (const row of rows) {
    for (let c = 0; c < width; c++) {
      const v = row[c] ?? null;
      (buffers[c] as Cell[]).push(v);
      if (typeof v === 'string') bytes += v.length;
      else bytes += 8;
    }
    buffered++;
    onRow();
    if (buffered >= ROW_GROUP_ROWS || bytes >= ROW_GROUP_BYTES) {
      flush();
      yield take();
    }
  }
  if (buffered > 0 || !pq) flush();
  void (pq as ParquetWriter).finish();
  yield take();
}

/** Output type for a column of inferred values. */
function inferType(values: readonly Cell[]): ParquetColumnType {
  let kind: 'BOOLEAN' | 'INT64' | 'DOUBLE' | 'STRING' | undefined;
  for (const v of values) {
    if (v === null) continue;
    const k = typeof v === 'boolean' ? 'BOOLEAN' : typeof v === 'number' ? (Number.isSafeInteger(v) ? 'INT64' : 'DOUBLE') : 'STRING';
    if (kind === undefined) kind = k;
    else if (kind !== k) kind = (kind === 'INT64' && k === 'DOUBLE') || (kind === 'DOUBLE' && k === 'INT64') ? 'DOUBLE' : 'STRING';
    if (kind === 'STRING') break;
  }
  return { kind: kind ?? 'STRING' };
}

const STRING_ELEMENT: Omit<SchemaElement, 'name'> = {
  type: 'BYTE_ARRAY',
  converted_type: 'UTF8',
  logical_type: { type: 'STRING' },
  repetition_type: 'OPTIONAL',
};

function elementOf(name: string, t: ParquetColumnType): SchemaElement {
  if (t.element) return { ...t.element, name };
  switch (t.kind) {
    case 'BOOLEAN':
      return { name, type: 'BOOLEAN', repetition_type: 'OPTIONAL' };
    case 'INT32':
      return { name, type: 'INT32', repetition_type: 'OPTIONAL' };
    case 'INT64':
      return { name, type: 'INT64', repetition_type: 'OPTIONAL' };
    case 'FLOAT':
      return { name, type: 'FLOAT', repetition_type: 'OPTIONAL' };
    case 'DOUBLE':
    case 'DECIMAL':
      return { name, type: 'DOUBLE', repetition_type: 'OPTIONAL' };
    case 'TIMESTAMP':
      return { name, type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: 'OPTIONAL' };
    case 'DATE':
      return { name, type: 'INT32', converted_type: 'DATE', repetition_type: 'OPTIONAL' };
    case 'JSON':
      return { name, type: 'BYTE_ARRAY', converted_type: 'JSON', repetition_type: 'OPTIONAL' };
    default:
      return { name, ...STRING_ELEMENT };
  }
}

function schemaOf(columns: readonly string[], types: readonly ParquetColumnType[]): SchemaElement[] {
  return [{ name: 'root', num_children: columns.length }, ...columns.map((name, c) => elementOf(name, types[c] as ParquetColumnType))];
}

/** The values hyparquet-writer expects for a column of this type. */
function writeValues(t: ParquetColumnType, cells: readonly Cell[]): unknown[] {
  switch (t.kind) {
    case 'INT64':
      return cells.map((v) => (v === null || v === '' ? null : BigInt(v)));
    case 'INT32':
    case 'FLOAT':
    case 'DOUBLE':
    case 'DECIMAL':
      return cells.map((v) => (v === null || v === '' ? null : typeof v === 'number' ? v : Number(v)));
    case 'BOOLEAN':
      return cells.map((v) => (v === null || v === '' ? null : typeof v === 'boolean' ? v : v === 'true'));
    case 'TIMESTAMP': {
      const unit = t.unitsPerSecond ?? 1e3;
      return cells.map((v) =>
        v === null || v === '' ? null : typeof v === 'number' ? BigInt(v) : (unitsFromIso(String(v), unit) ?? null),
      );
    }
    case 'DATE':
      return cells.map((v) =>
        v === null || v === ''
          ? null
          : typeof v === 'number'
            ? v
            : Math.floor(Date.parse(`${String(v).slice(0, 10)}T00:00:00Z`) / 86_400_000),
      );
    case 'JSON':
      return cells.map((v) => {
        if (v === null) return null;
        if (typeof v !== 'string') return v;
        try {
          return JSON.parse(v) as unknown;
        } catch {
          return v;
        }
      });
    default:
      return cells.map((v) => (v === null ? null : typeof v === 'string' ? v : String(v)));
  }
}
