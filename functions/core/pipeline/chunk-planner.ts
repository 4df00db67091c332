/**
 * Splits an input object into chunks that can be processed in parallel and give the same rows
 * as one sequential pass.
 *
 * CSV and JSON Lines are cut at record boundaries by one streaming scan over the bytes. For CSV
 * the scan mirrors CsvRecordParser's state machine exactly (quoted fields with embedded line
 * breaks and doubled quotes, a quote that is literal when it does not start a field, text after
 * a closing quote, blank lines, CR/CRLF), but only looks at the structural bytes `"`, LF, CR and
 * the delimiter, which are ASCII and never part of a UTF-8 multi-byte sequence, so no decoding is
 * needed. It counts records on the way, so every chunk knows the number of its first row and
 * quarantine messages name the same rows as a sequential run. Each chunk processor checks that
 * its range ends exactly at a record end and holds the planned number of rows; if a chunk ever
 * disagrees, the run falls back to one sequential pass (see ChunkBoundaryError).
 *
 * Parquet is cut by row group, from the footer alone. Gzip streams cannot be split.
 *
 * Memory: constant (the scan keeps a few integers of state across 1 MiB blocks; a record of any
 * size, even an unterminated quote to the end of the file, just makes a larger chunk).
 */
import { createHash } from 'node:crypto';
import { TextDecoder } from 'node:util';
import type { ChunkSpec } from './chunk-types.ts';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** Receives each chunk as soon as its end is known, with the header's end (CSV) for reading it. */
export type OnChunk = (chunk: ChunkSpec, headerEnd: number) => void | Promise<void>;

/** What the planner found besides the chunks. */
export interface TextPlanSummary {
  /** Bytes of the header record (BOM and header line, for CSV; 0 for JSON Lines). */
  readonly headerEnd: number;
  /** Data rows in the whole file. */
  readonly rows: number;
  readonly size: number;
  /** sha256 of the whole object, for lineage. */
  readonly sha256: string;
}

const MiB = 1024 * 1024;

/** Chunk size for a file of `size` bytes on `concurrency` workers: about 4 chunks per worker, 4-64 MiB each. */
export function targetChunkBytes(size: number, concurrency: number): number {
  return Math.max(4 * MiB, Math.min(64 * MiB, Math.ceil(size / Math.max(1, concurrency * 4))));
}

/** A chunk size that depends on where the chunk starts (see guidedChunkBytes). */
export type ChunkSizer = (chunkStart: number) => number;

/**
 * Guided chunk sizes for `concurrency` slots that take the next chunk when they are free: each
 * chunk is a share of what is left (half of it spread over the slots), within 2-64 MiB. Early
 * chunks are large (few parts, little per-chunk work); the last ones are small, so the slots
 * finish close together instead of one slot running a whole large chunk while the others idle.
 */
export function guidedChunkBytes(size: number, concurrency: number): ChunkSizer {
  const slots = Math.max(1, concurrency);
  return (start) => Math.max(2 * MiB, Math.min(64 * MiB, Math.ceil((size - start) / (2 * slots))));
}

/**
 * Scans a CSV body and calls `onChunk` for each chunk as soon as its end is known (so workers can
 * start while the scan goes on). `delimiter` must be the one the decoder sniffed from the header.
 * `targetBytes` is a fixed chunk size or a function of the chunk's start (guidedChunkBytes).
 */
export async function planCsvChunks(
  body: AsyncIterable<Uint8Array>,
  opts: { delimiter: string; targetBytes: number | ChunkSizer; onChunk: OnChunk },
): Promise<TextPlanSummary> {
  const D = opts.delimiter.charCodeAt(0);
  const scanner = new CsvBoundaryScanner(D);
  return scanText(
    body,
    opts.targetBytes,
    opts.onChunk,
    (block, base, sink) => scanner.scan(block, base, sink),
    () => scanner.end(),
    true,
  );
}

/** Scans a JSON Lines body: records are lines; blank lines (whitespace only) are not rows. */
export async function planJsonlChunks(
  body: AsyncIterable<Uint8Array>,
  opts: { targetBytes: number | ChunkSizer; onChunk: OnChunk },
): Promise<TextPlanSummary> {
  const scanner = new LineScanner();
  return scanText(
    body,
    opts.targetBytes,
    opts.onChunk,
    (block, base, sink) => scanner.scan(block, base, sink),
    () => scanner.end(),
    false,
  );
}

/** Receives record events from a scanner: a record starts (counted) or ends at an absolute offset. */
interface RecordSink {
  /** A record ends; `next` is the offset just past its terminator. */
  end(next: number): void;
  start(): void;
}

async function scanText(
  body: AsyncIterable<Uint8Array>,
  targetBytes: number | ChunkSizer,
  onChunk: OnChunk,
  scan: (block: Uint8Array, base: number, sink: RecordSink) => void,
  end: () => { openRecord: boolean; extraRecord: boolean },
  isCsv: boolean,
): Promise<TextPlanSummary> {
  const hash = createHash('sha256');
  let size = 0;
  let records = 0;
  let headerEnd = -1;
  let chunkStart = 0;
  let chunkFirstRow = 1;
  let rowsBefore = 0; // data rows before the current chunk
  let index = 0;
  const sizeAt: ChunkSizer = typeof targetBytes === 'number' ? () => targetBytes : targetBytes;
  let target = Number.POSITIVE_INFINITY; // of the current chunk, set once the header is known
  const ready: ChunkSpec[] = [];
  // CSV: the first record is the header. JSON Lines has none.
  if (!isCsv) {
    headerEnd = 0;
    target = sizeAt(0);
  }
  const sink: RecordSink = {
    start() {
      records++;
    },
    end(next) {
      if (headerEnd < 0) {
        headerEnd = next;
        chunkStart = next;
        target = sizeAt(chunkStart);
        return;
      }
      if (next - chunkStart >= target) {
        const dataRows = records - (isCsv ? 1 : 0);
        ready.push({ index: index++, start: chunkStart, end: next, firstRow: chunkFirstRow, rows: dataRows - rowsBefore });
        rowsBefore = dataRows;
        chunkFirstRow = dataRows + 1;
        chunkStart = next;
        target = sizeAt(chunkStart);
      }
    },
  };
  for await (const block of body) {
    hash.update(block);
    scan(block, size, sink);
    size += block.length;
    for (const c of ready.splice(0)) await onChunk(c, headerEnd);
  }
  const tail = end();
  if (tail.extraRecord) sink.start();
  const dataRows = Math.max(0, records - (isCsv ? 1 : 0));
  if (headerEnd < 0) {
    // No complete header record: one chunk with everything (the decoder reports what is wrong).
    headerEnd = size;
    chunkStart = size;
  }
  if (size > chunkStart || index === 0) {
    await onChunk({ index: index++, start: chunkStart, end: size, firstRow: chunkFirstRow, rows: dataRows - rowsBefore }, headerEnd);
  }
  return { headerEnd, rows: dataRows, size, sha256: hash.digest('hex') };
}

/** Scanner states (plain numbers: the hot loop switches on them). */
const S = {
  /** Between records (blank lines are skipped). */
  Between: 0,
  /** Between records, a CR seen: CRLF is a blank line, CR + anything else starts a record. */
  BetweenCr: 1,
  /** In a record, outside quotes. */
  Out: 2,
  /** Inside a quoted field. */
  In: 3,
  /** A quote inside a quoted field: an escaped quote or the closing one, decided by the next byte. */
  Close: 4,
  /** Closing quote then CR: CRLF ends the record, anything else is text after the quote. */
  CloseCr: 5,
} as const;
type State = (typeof S)[keyof typeof S];

/**
 * CsvRecordParser's record structure over bytes. A quote starts a quoted field only at the
 * start of a field (record start or right after the delimiter); after a closing quote, the
 * delimiter or a line end follows, or else the rest up to the next delimiter or LF is kept as
 * text of the same field (quotes in it are literal), exactly as the parser does.
 */
export class CsvBoundaryScanner {
  private state: State = S.Between;
  /** Absolute offset of the current record's first byte. */
  private recordStart = -1;
  /** The byte before the current block (for "preceded by the delimiter" at offset 0). */
  private prevByte = -1;

  constructor(private readonly delimiter: number) {}

  scan(b: Uint8Array, base: number, sink: RecordSink): void {
    const len = b.length;
    const D = this.delimiter;
    let i = 0;
    // Cached positions of the next quote / LF in this block (len = none).
    let nextQ = -1;
    let nextLf = -1;
    const quoteFrom = (from: number): number => {
      if (nextQ < from) {
        const q = indexOfByte(b, QUOTE, from);
        nextQ = q === -1 ? len : q;
      }
      return nextQ;
    };
    const lfFrom = (from: number): number => {
      if (nextLf < from) {
        const n = indexOfByte(b, LF, from);
        nextLf = n === -1 ? len : n;
      }
      return nextLf;
    };
    while (i < len) {
      switch (this.state) {
        case S.Between: {
          const c = b[i] as number;
          if (c === LF) {
            i++;
            break;
          }
          if (c === CR) {
            this.state = S.BetweenCr;
            i++;
            break;
          }
          sink.start();
          this.recordStart = base + i;
          this.state = S.Out;
          break;
        }
        case S.BetweenCr: {
          if (b[i] === LF) {
            this.state = S.Between;
            i++;
            break;
          }
          // The CR is the first character of an unquoted field.
          sink.start();
          this.recordStart = base + i - 1;
          this.state = S.Out;
          break;
        }
        case S.Out: {
          const q = quoteFrom(i);
          const n = lfFrom(i);
          if (q < n) {
            const before = q > 0 ? (b[q - 1] as number) : this.prevByte;
            if (base + q === this.recordStart || before === D) this.state = S.In;
            i = q + 1;
            break;
          }
          if (n < len) {
            sink.end(base + n + 1);
            this.state = S.Between;
            i = n + 1;
            break;
          }
          i = len;
          break;
        }
        case S.In: {
          const q = quoteFrom(i);
          if (q >= len) {
            i = len;
            break;
          }
          this.state = S.Close;
          i = q + 1;
          break;
        }
        case S.Close: {
          const c = b[i] as number;
          if (c === QUOTE) {
            this.state = S.In;
            i++;
          } else if (c === D) {
            this.state = S.Out;
            i++;
          } else if (c === LF) {
            sink.end(base + i + 1);
            this.state = S.Between;
            i++;
          } else if (c === CR) {
            this.state = S.CloseCr;
            i++;
          } else {
            // Text after the closing quote: scanned like an unquoted field (not a field start).
            this.state = S.Out;
          }
          break;
        }
        case S.CloseCr: {
          if (b[i] === LF) {
            sink.end(base + i + 1);
            this.state = S.Between;
            i++;
          } else this.state = S.Out;
          break;
        }
      }
    }
    if (len > 0) this.prevByte = b[len - 1] as number;
  }

  /** End of input: whether a record is still open, and whether a lone CR at the end makes one more. */
  end(): { openRecord: boolean; extraRecord: boolean } {
    return { openRecord: this.state !== S.Between && this.state !== S.BetweenCr, extraRecord: this.state === S.BetweenCr };
  }
}

/** JSON Lines: each LF ends a line; a line of whitespace only is not a record. */
class LineScanner {
  /** The current line has a non-whitespace character (counted as a record). */
  private counted = false;
  /** Non-ASCII bytes in a line without other content yet: decoded (streaming) to find Unicode spaces. */
  private decoder: TextDecoder | undefined;

  scan(b: Uint8Array, base: number, sink: RecordSink): void {
    const len = b.length;
    let i = 0;
    while (i < len) {
      const n = indexOfByte(b, LF, i);
      const stop = n === -1 ? len : n;
      if (!this.counted) this.inspect(b, i, stop, sink, n !== -1);
      if (n === -1) break;
      if (this.counted) sink.end(base + n + 1);
      this.counted = false;
      this.decoder = undefined;
      i = n + 1;
    }
  }

  /** Looks at a piece of the current line; `lineEnds` when the piece reaches its LF. */
  private inspect(b: Uint8Array, from: number, to: number, sink: RecordSink, lineEnds: boolean): void {
    for (let k = from; k < to; k++) {
      const c = b[k] as number;
      if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) continue;
      if (c < 0x80) {
        this.count(sink);
        return;
      }
      // Non-ASCII: the decoder's trim() also removes Unicode spaces (NBSP, BOM...): decode to
      // decide, streaming, so a character split across blocks is decoded whole.
      this.decoder ??= new TextDecoder('utf-8');
      if (this.decoder.decode(b.subarray(k, to), { stream: !lineEnds }).trim().length > 0) this.count(sink);
      return;
    }
    if (lineEnds && this.decoder && this.decoder.decode().trim().length > 0) this.count(sink);
  }

  private count(sink: RecordSink): void {
    this.counted = true;
    this.decoder = undefined;
    sink.start();
  }

  end(): { openRecord: boolean; extraRecord: boolean } {
    // A last line without LF that held only a split character sequence: decide now.
    const extra = !this.counted && this.decoder !== undefined && this.decoder.decode().trim().length > 0;
    return { openRecord: this.counted, extraRecord: extra };
  }
}

function indexOfByte(b: Uint8Array, byte: number, from: number): number {
  return Buffer.isBuffer(b) ? b.indexOf(byte, from) : b.indexOf(byte, from);
}

/** Parquet: consecutive row groups of about `targetBytes` (compressed) per chunk. */
export function planParquetChunks(
  rowGroups: readonly { readonly rows: number; readonly bytes: number }[],
  targetBytes: number,
): ChunkSpec[] {
  const chunks: ChunkSpec[] = [];
  let first = 0;
  let bytes = 0;
  let rows = 0;
  let firstRow = 1;
  for (let g = 0; g < rowGroups.length; g++) {
    const rg = rowGroups[g] as { rows: number; bytes: number };
    bytes += rg.bytes;
    rows += rg.rows;
    if (bytes >= targetBytes || g === rowGroups.length - 1) {
      chunks.push({ index: chunks.length, start: first, end: g + 1, firstRow, rows, rowGroups: [first, g + 1] });
      firstRow += rows;
      first = g + 1;
      bytes = 0;
      rows = 0;
    }
  }
  if (chunks.length === 0) chunks.push({ index: 0, start: 0, end: 0, firstRow: 1, rows: 0, rowGroups: [0, 0] });
  return chunks;
}
