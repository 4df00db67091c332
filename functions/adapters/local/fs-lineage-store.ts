/**
 * Append-only lineage in `<home>/lineage/lineage.jsonl`, one JSON record per line.
 *
 * Why a single JSONL file under a lock (rather than one file per record): append order is the
 * file order, listing is one sequential read, and the id index is rebuilt incrementally by
 * reading only the bytes appended since the last look. An append takes the lock, catches up on
 * lines other processes appended, rejects a duplicate id, writes the line and fsyncs. Readers
 * need no lock: they stop at the last complete line. A writer killed mid-line leaves a tail
 * without a newline; the next appender cuts it off under the lock (that record never
 * committed: its append never returned).
 */
import { open, readFile, truncate } from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, UsageError } from '../../core/errors.ts';
import type { LineageRecord, LineageStore } from '../../core/ports.ts';
import { ensureDir, errorCode, fsyncDir, type LockOptions, withFileLock } from './fs-utils.ts';

const KINDS = new Set<LineageRecord['kind']>(['run', 'release', 'erasure', 'reidentification', 'rekey', 'sweep']);
const NEWLINE = 0x0a;

/** Lineage records as JSON Lines in the home folder; safe with several writing processes. */
export class FsLineageStore implements LineageStore {
  readonly file: string;
  private readonly lockPath: string;
  /** id -> [offset, length] of committed lines seen so far. */
  private readonly index = new Map<string, readonly [number, number]>();
  private indexedUpTo = 0;

  constructor(
    home: string,
    private readonly lockOptions: LockOptions = {},
  ) {
    this.file = path.join(home, 'lineage', 'lineage.jsonl');
    this.lockPath = path.join(home, 'lineage', '.lineage.lock');
  }

  async append(record: LineageRecord): Promise<void> {
    checkRecord(record);
    const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    await ensureDir(path.dirname(this.file));
    await withFileLock(
      this.lockPath,
      async () => {
        const fh = await open(this.file, 'a+', 0o600);
        try {
          const size = (await fh.stat()).size;
          await this.catchUp(fh, size);
          if (this.indexedUpTo < size) {
            // Torn tail from a writer that died mid-append: drop it before appending.
            await truncate(this.file, this.indexedUpTo);
          }
          if (this.index.has(record.id))
            throw new ConflictError(`lineage record ${record.id} already exists`, { id: record.id, rule: 'unique-id' });
          let written = 0;
          while (written < line.length) {
            const { bytesWritten } = await fh.write(line, written, line.length - written, null);
            written += bytesWritten;
          }
          await fh.sync();
          if (size === 0) await fsyncDir(path.dirname(this.file));
          this.index.set(record.id, [this.indexedUpTo, line.length]);
          this.indexedUpTo += line.length;
        } finally {
          await fh.close();
        }
      },
      this.lockOptions,
    );
  }

  async get(id: string): Promise<LineageRecord | undefined> {
    await this.refresh();
    const at = this.index.get(id);
    if (at === undefined) return undefined;
    const fh = await open(this.file, 'r');
    try {
      const buf = await readFully(fh, at[0], at[1]);
      return JSON.parse(buf.toString('utf8')) as LineageRecord;
    } finally {
      await fh.close();
    }
  }

  async *list(filter: { dataset?: string; kind?: LineageRecord['kind'] } = {}): AsyncIterable<LineageRecord> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return;
      throw err;
    }
    const end = text.lastIndexOf('\n');
    let start = 0;
    while (start <= end) {
      const nl = text.indexOf('\n', start);
      const record = JSON.parse(text.slice(start, nl)) as LineageRecord;
      start = nl + 1;
      if (filter.dataset !== undefined && record.dataset !== filter.dataset) continue;
      if (filter.kind !== undefined && record.kind !== filter.kind) continue;
      yield record;
    }
  }

  private async refresh(): Promise<void> {
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(this.file, 'r');
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return;
      throw err;
    }
    try {
      await this.catchUp(fh, (await fh.stat()).size);
    } finally {
      await fh.close();
    }
  }

  /** Indexes complete lines between `indexedUpTo` and `size`. */
  private async catchUp(fh: Awaited<ReturnType<typeof open>>, size: number): Promise<void> {
    if (size < this.indexedUpTo) {
      // Only possible if the file was replaced behind our back: start over.
      this.index.clear();
      this.indexedUpTo = 0;
    }
    if (size === this.indexedUpTo) return;
    const buf = await readFully(fh, this.indexedUpTo, size - this.indexedUpTo);
    let start = 0;
    for (let nl = buf.indexOf(NEWLINE); nl !== -1; nl = buf.indexOf(NEWLINE, start)) {
      const lineText = buf.toString('utf8', start, nl);
      let id: unknown;
      try {
        id = (JSON.parse(lineText) as { id?: unknown }).id;
      } catch {
        // Unreadable line: only a torn write followed by a newline could produce it. Keep its bytes.
      }
      if (typeof id === 'string') this.index.set(id, [this.indexedUpTo + start, nl + 1 - start]);
      start = nl + 1;
    }
    this.indexedUpTo += start;
  }
}

function checkRecord(record: LineageRecord): void {
  if (record === null || typeof record !== 'object') throw new UsageError('lineage record must be an object', { rule: 'lineage-record' });
  if (typeof record.id !== 'string' || record.id.length === 0)
    throw new UsageError('lineage record needs an id', { rule: 'lineage-record' });
  if (!KINDS.has(record.kind)) throw new UsageError('lineage record has an unknown kind', { id: record.id, rule: 'lineage-record' });
  if (typeof record.dataset !== 'string' || typeof record.at !== 'string') {
    throw new UsageError('lineage record needs dataset and at', { id: record.id, rule: 'lineage-record' });
  }
}

async function readFully(fh: Awaited<ReturnType<typeof open>>, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await fh.read(buf, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buf.subarray(0, filled);
}
