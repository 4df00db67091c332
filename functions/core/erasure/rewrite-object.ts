/**
 * The forget phase for one object: read it, run every record through a judge (keep, drop, or
 * replace with spans redacted), write the result as a new version on condition that no other
 * write happened in between (ETag), retry when one did, check that rows are conserved, then
 * delete every noncurrent version, since a versioned bucket keeps the old bytes.
 *
 * The same record loop serves the scan (judge only), the rewrite and the verification pass, so
 * the three always agree on what belongs to the subject.
 *
 * Layouts:
 *   csv    decodeTable → judge rows → encodeTable in the same dialect (delimiter, BOM, line
 *          ending, gzip); formulas are not neutralised again (cells are written back as read).
 *   jsonl  line by line, so lines that are not touched stay byte-identical (nested values,
 *          absent keys and invalid lines survive); cells for the judge are built the way the
 *          decoder builds them, columns from the keys of the first lines.
 *   lines  line by line with a judge of whole lines (quarantine rows.jsonl, undecodable text).
 */
import { pipeline, Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { DEFAULT_DECODE_LIMITS, decodeTable, JSONL_COLUMN_SAMPLE } from '../codecs/decode-table.ts';
import { encodeTable } from '../codecs/encode-table.ts';
import { openTextSource } from '../codecs/text-source.ts';
import { ErasureVerificationError, PreconditionFailedError } from '../errors.ts';
import type { ObjectInfo, Ports } from '../ports.ts';
import type { BucketRole, Cell } from '../types.ts';

/** What happens to one row. */
export type RowVerdict =
  | { readonly action: 'keep' }
  | { readonly action: 'drop' }
  | { readonly action: 'replace'; readonly cells: readonly Cell[]; readonly spans: number };

/** What happens to one line of a line-oriented object. */
export type LineVerdict =
  | { readonly action: 'keep' }
  | { readonly action: 'drop' }
  | { readonly action: 'replace'; readonly line: string; readonly spans: number };

export const KEEP: { readonly action: 'keep' } = Object.freeze({ action: 'keep' });
export const DROP: { readonly action: 'drop' } = Object.freeze({ action: 'drop' });

/** Judges the rows of a table. */
export interface RowJudge {
  judge(cells: readonly Cell[]): RowVerdict;
  /** A line that is not a JSON object (JSON Lines only). Kept when absent. */
  judgeText?(text: string): LineVerdict;
  /** Subject tokens of a row that stays, for the rebuilt subject index. */
  indexTokens?(cells: readonly Cell[], out: string[]): void;
}

/** Judges the lines of a line-oriented object. */
export interface LineJudge {
  judge(line: string): LineVerdict;
  indexTokens?(line: string, out: string[]): void;
}

/** How an object is read and which judge decides. */
export type ObjectLayout =
  | { readonly shape: 'csv' | 'jsonl'; readonly judge: (columns: readonly string[]) => RowJudge }
  | { readonly shape: 'lines'; readonly judge: LineJudge };

/** Counters of one pass over an object. */
export interface RecordStats {
  rowsBefore: number;
  rowsAfter: number;
  rowsRemoved: number;
  spansRedacted: number;
}

/** Outcome of one pass; `bytes` is the rewritten object (iterate once) when asked for. */
export interface ProcessedObject {
  readonly bytes: AsyncIterable<Uint8Array>;
  readonly contentType: string;
  /** Final once `bytes` (or the scan) has been consumed. */
  stats(): RecordStats;
}

const ERASED_CONTENT = {
  csv: 'text/csv; charset=utf-8',
  jsonl: 'application/x-ndjson',
  gzip: 'application/gzip',
} as const;

/**
 * Runs every record of `body` through the layout's judge. With `write: false` the returned bytes
 * are empty and consuming them drives the scan.
 */
export async function processObject(
  body: AsyncIterable<Uint8Array>,
  layout: ObjectLayout,
  opts: { fileName: string; write: boolean; tokens?: string[] },
): Promise<ProcessedObject> {
  const stats: RecordStats = { rowsBefore: 0, rowsAfter: 0, rowsRemoved: 0, spansRedacted: 0 };
  const tokens = opts.tokens;
  if (layout.shape === 'csv') {
    const table = await decodeTable(body, { fileName: opts.fileName, format: 'csv' });
    const judge = layout.judge(table.columns);
    async function* kept(): AsyncIterable<readonly Cell[]> {
      for await (const row of table.rows) {
        stats.rowsBefore++;
        const v = judge.judge(row.cells);
        if (v.action === 'drop') {
          stats.rowsRemoved++;
          continue;
        }
        const cells = v.action === 'replace' ? v.cells : row.cells;
        if (v.action === 'replace') stats.spansRedacted += v.spans;
        if (tokens && judge.indexTokens) judge.indexTokens(cells, tokens);
        yield cells;
      }
    }
    if (!opts.write) return { bytes: drain(kept()), contentType: ERASED_CONTENT.csv, stats: () => ({ ...stats }) };
    const encoded = encodeTable(table.columns, kept(), table.format, { neutraliseFormulas: false });
    return {
      bytes: encoded.bytes,
      contentType: table.format.compression === 'gzip' ? ERASED_CONTENT.gzip : ERASED_CONTENT.csv,
      stats: () => ({ ...stats, rowsAfter: encoded.stats().rows }),
    };
  }

  const source = await openTextSource(body, { fileName: opts.fileName, limits: DEFAULT_DECODE_LIMITS });
  const lines = splitLines(source.chunks);
  const judgeLine = layout.shape === 'lines' ? lineJudgeFn(layout.judge, tokens) : await jsonlJudgeFn(lines, layout.judge, tokens);
  let written = 0;
  async function* text(): AsyncIterable<string> {
    let out = '';
    for await (const { line, eol } of lines) {
      if (line.trim() === '') {
        out += line + eol;
        continue;
      }
      stats.rowsBefore++;
      const v = judgeLine(line);
      if (v.action === 'drop') {
        stats.rowsRemoved++;
        continue;
      }
      if (v.action === 'replace') stats.spansRedacted += v.spans;
      written++;
      // A replaced line keeps its own line ending (and a CR before it).
      out += (v.action === 'replace' ? v.line + (line.endsWith('\r') ? '\r' : '') : line) + eol;
      if (out.length >= 256 * 1024) {
        yield out;
        out = '';
      }
    }
    if (out.length > 0) yield out;
  }
  const contentType = source.compression === 'gzip' ? ERASED_CONTENT.gzip : ERASED_CONTENT.jsonl;
  if (!opts.write) return { bytes: drain(text()), contentType, stats: () => ({ ...stats, rowsAfter: written }) };
  const plain = utf8(text(), source.bom);
  return { bytes: source.compression === 'gzip' ? gzip(plain) : plain, contentType, stats: () => ({ ...stats, rowsAfter: written }) };
}

/** Consumes a record stream for a scan (the judge runs as it goes); yields no bytes. */
function drain(items: AsyncIterable<unknown>): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      const it = items[Symbol.asyncIterator]();
      return {
        async next(): Promise<IteratorResult<Uint8Array>> {
          while (!(await it.next()).done) {
            // judging happens while iterating
          }
          return { done: true, value: undefined };
        },
      };
    },
  };
}

function lineJudgeFn(judge: LineJudge, tokens: string[] | undefined): (line: string) => LineVerdict {
  return (line) => {
    const v = judge.judge(line);
    if (tokens && judge.indexTokens && v.action !== 'drop') judge.indexTokens(v.action === 'replace' ? v.line : line, tokens);
    return v;
  };
}

/**
 * JSON Lines as a table: columns are the keys of the first lines in order of appearance (as the
 * decoder has them), cells are built the way the decoder builds them, and a replaced row only
 * changes the values the judge changed.
 */
async function jsonlJudgeFn(
  lines: LineSource,
  factory: (columns: readonly string[]) => RowJudge,
  tokens: string[] | undefined,
): Promise<(line: string) => LineVerdict> {
  const keys = new Map<string, number>();
  await lines.peek(JSONL_COLUMN_SAMPLE, (line) => {
    const obj = parseObject(line);
    if (obj) for (const k in obj) if (!keys.has(k)) keys.set(k, keys.size);
  });
  const columns = [...keys.keys()];
  const judge = factory(columns);
  return (line) => {
    const obj = parseObject(line);
    if (!obj) return judge.judgeText ? judge.judgeText(line) : KEEP;
    const cells = columns.map((c) => toCell(obj[c]));
    const v = judge.judge(cells);
    if (v.action === 'drop') return DROP;
    if (v.action === 'keep') {
      if (tokens && judge.indexTokens) judge.indexTokens(cells, tokens);
      return KEEP;
    }
    columns.forEach((c, i) => {
      if (v.cells[i] !== cells[i]) obj[c] = v.cells[i] ?? null;
    });
    if (tokens && judge.indexTokens) judge.indexTokens(v.cells, tokens);
    return { action: 'replace', line: JSON.stringify(obj), spans: v.spans };
  };
}

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(line);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function toCell(v: unknown): Cell {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
      return v;
    case 'object':
      return v === null ? null : JSON.stringify(v);
    default:
      return null;
  }
}

interface LineSource extends AsyncIterable<{ line: string; eol: string }> {
  /** Reads ahead up to `n` non-blank lines, showing each to `see`; they are replayed by the iterator. */
  peek(n: number, see: (line: string) => void): Promise<number>;
}

/** Splits text chunks into lines, keeping each line's terminator (`\n`, or '' at the end). */
function splitLines(chunks: AsyncIterator<string>): LineSource {
  const buffered: { line: string; eol: string }[] = [];
  let rest = '';
  let ended = false;
  const pull = async (): Promise<boolean> => {
    while (!ended) {
      const r = await chunks.next();
      if (r.done) {
        ended = true;
        if (rest.length > 0) buffered.push({ line: rest, eol: '' });
        rest = '';
        return buffered.length > 0;
      }
      rest += r.value;
      let nl = rest.indexOf('\n');
      if (nl < 0) continue;
      let start = 0;
      while (nl >= 0) {
        buffered.push({ line: rest.slice(start, nl), eol: '\n' });
        start = nl + 1;
        nl = rest.indexOf('\n', start);
      }
      rest = rest.slice(start);
      return true;
    }
    return false;
  };
  return {
    async peek(n, see) {
      let seen = 0;
      let i = 0;
      while (seen < n) {
        if (i >= buffered.length && !(await pull())) break;
        if (i >= buffered.length) continue;
        const { line } = buffered[i++] as { line: string };
        if (line.trim() === '') continue;
        see(line);
        seen++;
      }
      return seen;
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (buffered.length === 0 && !(await pull())) return;
        // Yield what is buffered, then drop it (replayed peeked lines included).
        const batch = buffered.splice(0, buffered.length);
        yield* batch;
      }
    },
  };
}

async function* utf8(text: AsyncIterable<string>, bom: boolean): AsyncIterable<Uint8Array> {
  if (bom) yield Buffer.from('\uFEFF', 'utf8');
  for await (const s of text) yield Buffer.from(s, 'utf8');
}

async function* gzip(source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const deflater = createGzip({ chunkSize: 64 * 1024 });
  pipeline(Readable.from(source, { objectMode: false }), deflater, () => {});
  try {
    yield* deflater as AsyncIterable<Buffer>;
  } finally {
    deflater.destroy();
  }
}

// ---------------------------------------------------------------- write, retry, purge

/** The object to rewrite and how. */
export interface RewriteTarget {
  readonly bucket: BucketRole;
  readonly key: string;
  readonly dataset: string;
  /**
   * Chooses the layout and judge for the version just read, or returns undefined to leave the
   * object alone (e.g. a raw object not ingested yet).
   */
  prepare(info: ObjectInfo): Promise<{ layout: ObjectLayout; metadata?: Readonly<Record<string, string>> } | undefined>;
}

/** What the rewrite did. */
export interface RewriteResult extends RecordStats {
  readonly bucket: BucketRole;
  readonly key: string;
  readonly versionsDeleted: number;
  /** True when no row remained and the object was removed with all its versions. */
  readonly removed: boolean;
  /** Subject tokens of the rows that stayed, for the rebuilt index. */
  readonly keptTokens: readonly string[];
  /** Set when prepare() declined. */
  readonly skipped?: 'declined';
  readonly attempts: number;
  /** The version written (absent when declined or when the store keeps no versions). */
  readonly versionId?: string;
  readonly etag?: string;
}

/** Metadata key for the origin marker; the value `erasure` tells ingest to skip the object. */
export const ERASURE_ORIGIN = 'erasure';

/**
 * Rewrites the current version of an object without the judged rows, conditionally on its ETag,
 * retrying (at most `maxAttempts` times) when another write got in between, then deletes every
 * noncurrent version. `originKey` is the metadata key (ORIGIN_METADATA) set to `erasure`.
 */
export async function rewriteObject(
  ports: Ports,
  target: RewriteTarget,
  opts: { originKey: string; maxAttempts?: number; requestId: string; onRead?: () => void },
): Promise<RewriteResult | undefined> {
  const max = opts.maxAttempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    let current: Awaited<ReturnType<Ports['objects']['get']>>;
    try {
      current = await ports.objects.get(target.bucket, target.key);
    } catch (err) {
      if ((err as Error).name === 'ObjectNotFoundError') return undefined;
      throw err;
    }
    opts.onRead?.();
    const prepared = await target.prepare(current.info);
    if (!prepared) {
      await drainBody(current.body);
      return {
        bucket: target.bucket,
        key: target.key,
        rowsBefore: 0,
        rowsAfter: 0,
        rowsRemoved: 0,
        spansRedacted: 0,
        versionsDeleted: 0,
        removed: false,
        keptTokens: [],
        skipped: 'declined',
        attempts: attempt,
      };
    }
    const keptTokens: string[] = [];
    const processed = await processObject(current.body, prepared.layout, {
      fileName: `${target.bucket}/${target.key}`,
      write: true,
      tokens: keptTokens,
    });
    let info: ObjectInfo;
    try {
      info = await ports.objects.put(target.bucket, target.key, processed.bytes, {
        contentType: processed.contentType,
        metadata: {
          ...current.info.metadata,
          ...prepared.metadata,
          [opts.originKey]: ERASURE_ORIGIN,
          'pp-erasure-request': opts.requestId,
        },
        encryptionContext: { dataset: target.dataset },
        ifMatch: current.info.etag,
      });
    } catch (err) {
      if (err instanceof PreconditionFailedError && attempt < max) {
        ports.logger.info('object changed during erasure, retrying', { bucket: target.bucket, key: target.key, attempt });
        continue;
      }
      throw err;
    }
    const stats = processed.stats();
    if (stats.rowsAfter !== stats.rowsBefore - stats.rowsRemoved) {
      // Old versions are kept: nothing is lost, and the next attempt starts from them.
      throw new ErasureVerificationError(
        `erasure of ${target.bucket}/${target.key} did not conserve rows: ${stats.rowsBefore} before, ${stats.rowsRemoved} removed, ${stats.rowsAfter} written`,
        { bucket: target.bucket, key: target.key, rule: 'row-conservation', requestId: opts.requestId },
      );
    }
    const removed = stats.rowsAfter === 0 && target.bucket !== 'ingest';
    const versionsDeleted = removed
      ? await purgeVersions(ports, target.bucket, target.key, { keepCurrent: false })
      : await purgeVersions(ports, target.bucket, target.key, { keepCurrent: true });
    return {
      bucket: target.bucket,
      key: target.key,
      ...stats,
      versionsDeleted,
      removed,
      keptTokens,
      attempts: attempt,
      ...(info.versionId ? { versionId: info.versionId } : {}),
      etag: info.etag,
    };
  }
}

/**
 * Deletes versions of exactly `key`: every noncurrent version (and delete marker), or every
 * version when `keepCurrent` is false. Stores without versions list only the current object,
 * which is then deleted plainly (keepCurrent false) or left. Returns the number deleted.
 */
export async function purgeVersions(ports: Ports, bucket: BucketRole, key: string, opts: { keepCurrent: boolean }): Promise<number> {
  const victims: (string | undefined)[] = [];
  for await (const v of ports.objects.listVersions(bucket, key)) {
    if (v.key !== key) continue;
    // A write that raced ours is the latest version now: it is kept, ours becomes noncurrent.
    if (opts.keepCurrent && v.isLatest) continue;
    victims.push(v.versionId);
  }
  let deleted = 0;
  for (const versionId of victims) {
    if (versionId === undefined || versionId === 'null') {
      // Unversioned store: only the current object exists; a plain delete removes it.
      if (!opts.keepCurrent) await ports.objects.delete(bucket, key);
      continue;
    }
    await ports.objects.delete(bucket, key, { versionId });
    deleted++;
  }
  return deleted;
}

/** Deletes the given noncurrent versions of `key` (after they were found to hold the subject). */
export async function deleteVersions(ports: Ports, bucket: BucketRole, key: string, versionIds: readonly string[]): Promise<number> {
  for (const versionId of versionIds) await ports.objects.delete(bucket, key, { versionId });
  return versionIds.length;
}

async function drainBody(body: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const _ of body) {
    // release the stream
  }
}
