/**
 * File-system building blocks of the local adapters: durable atomic writes, exclusive creation,
 * a cross-process lock with stale-lock recovery, and a reversible key-to-file-name mapping.
 *
 * Why these shapes:
 * - Atomic replace = write a temp file in the same directory, fsync, rename, fsync the directory.
 *   rename(2) replaces the target in one step, so readers see the old or the new file.
 * - Exclusive create with content = write a temp file, fsync, then link(2) it to the final name.
 *   link fails with EEXIST when the name exists, so the file appears complete or not at all
 *   (an `open(wx)` followed by a write would expose an empty file for a moment).
 * - Locks are lock files created exclusively (same trick) holding pid, host and a random token.
 *   A lock is stale when its holder's pid is gone (same host) or when its mtime, refreshed by a
 *   heartbeat while held, is older than `staleMs`. Breaking a stale lock happens under a second
 *   "breaker" lock and only if the token is still the one judged stale, so two waiters can never
 *   both break it and remove a fresh lock by mistake. Inside one process, waiters queue on a
 *   promise chain instead of polling the file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError, UsageError } from '../../core/errors.ts';

/** Error code of a failed fs call, or undefined. */
export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** Runs `fn` and maps ENOENT to undefined. */
export async function ifExists<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Reads a file, or undefined when it does not exist. */
export function readFileIfExists(file: string): Promise<Buffer | undefined> {
  return ifExists(() => readFile(file));
}

/** Removes a file; true when it existed. */
export async function removeFile(file: string): Promise<boolean> {
  return (await ifExists(() => unlink(file))) !== undefined;
}

/** mkdir -p with owner-only permissions for directories it creates. */
export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

/** fsyncs a directory so a rename or link in it survives a crash (no-op where unsupported). */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Windows cannot open directories; some file systems refuse fsync on them. Best effort.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** A unique temp file name in `dir` (dot-prefixed, so listings skip it). */
export function tempPath(dir: string): string {
  return path.join(dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

export interface WriteOptions {
  /** File mode; default 0o600. */
  readonly mode?: number;
  /** fsync file and directory; default true. */
  readonly durable?: boolean;
}

async function writeNewFile(file: string, data: Uint8Array | string, opts: WriteOptions): Promise<void> {
  const fh = await open(file, 'wx', opts.mode ?? 0o600);
  try {
    await fh.writeFile(data);
    if (opts.durable !== false) await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Replaces `file` atomically: readers see the old content or the new one, never a part. */
export async function atomicWriteFile(file: string, data: Uint8Array | string, opts: WriteOptions = {}): Promise<void> {
  const dir = path.dirname(file);
  const tmp = tempPath(dir);
  try {
    await writeNewFile(tmp, data, opts);
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw err;
    await ensureDir(dir);
    await writeNewFile(tmp, data, opts);
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await removeFile(tmp);
    throw err;
  }
  if (opts.durable !== false) await fsyncDir(dir);
}

/**
 * Creates `file` with `data` only if it does not exist yet, atomically (all or nothing).
 * Returns false when another writer got there first.
 */
export async function createFileExclusive(file: string, data: Uint8Array | string, opts: WriteOptions = {}): Promise<boolean> {
  const dir = path.dirname(file);
  const tmp = tempPath(dir);
  try {
    await writeNewFile(tmp, data, opts);
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw err;
    await ensureDir(dir);
    await writeNewFile(tmp, data, opts);
  }
  try {
    await link(tmp, file);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw err;
    // File systems without hard links: fall back to an exclusive open (content is written
    // right after, so a reader may briefly see an empty file; readers treat that as "absent").
    try {
      await writeNewFile(file, data, opts);
    } catch (err2) {
      if (errorCode(err2) === 'EEXIST') return false;
      throw err2;
    }
  } finally {
    await removeFile(tmp);
  }
  if (opts.durable !== false) await fsyncDir(dir);
  return true;
}

/** Overwrites a file's bytes with random data, fsyncs, then unlinks it. True when it existed. */
export async function overwriteAndUnlink(file: string): Promise<boolean> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(file, 'r+');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw err;
  }
  try {
    const { size } = await fh.stat();
    if (size > 0) await fh.write(randomBytes(size), 0, size, 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await removeFile(file);
  await fsyncDir(path.dirname(file));
  return true;
}

// ------------------------------------------------------------------------------ names

const MAX_SEGMENT_BYTES = 200;
const LONE_SURROGATE = /\p{Cs}/u;
const LITERAL = new Uint8Array(256);
for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789-_.') LITERAL[c.charCodeAt(0)] = 1;
const HEX = '0123456789ABCDEF';

/**
 * Maps any well-formed string to one safe file-name segment, reversibly: lower-case ASCII letters,
 * digits, `-`, `_` and `.` (not in first position) stay, every other UTF-8 byte becomes `%XX`.
 * Upper case is escaped too so names stay distinct on case-insensitive file systems. No result
 * starts with `.` or `~`, which leaves those for internal files and hashed names.
 * Names longer than 200 bytes become `~<sha256>`; callers keep the original beside it.
 */
export function encodeName(name: string): string {
  if (LONE_SURROGATE.test(name)) throw new UsageError('name is not well-formed unicode', { rule: 'name-encoding' });
  const bytes = Buffer.from(name, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (LITERAL[b] === 1 && !(i === 0 && b === 0x2e)) out += String.fromCharCode(b);
    else out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  if (out.length > MAX_SEGMENT_BYTES) return `~${createHash('sha256').update(bytes).digest('hex')}`;
  return out;
}

/** Inverse of encodeName; undefined for hashed (`~`) or foreign names. */
export function decodeName(segment: string): string | undefined {
  if (segment.startsWith('~') || segment.startsWith('.')) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------------------ locks

export interface LockOptions {
  /** A held lock whose mtime is older than this counts as abandoned. Default 30 s. */
  readonly staleMs?: number;
  /** Give up waiting after this long with a TransientError. Default 30 s. */
  readonly timeoutMs?: number;
}

interface LockInfo {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
  readonly mtimeMs: number;
}

const HOST = hostname();
const inProcessTails = new Map<string, Promise<void>>();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM';
  }
}

async function readLockInfo(lockPath: string): Promise<LockInfo | undefined> {
  const [text, st] = await Promise.all([readFileIfExists(lockPath), ifExists(() => stat(lockPath))]);
  if (text === undefined || st === undefined) return undefined;
  let parsed: { pid?: unknown; host?: unknown; token?: unknown } = {};
  try {
    parsed = JSON.parse(text.toString('utf8')) as typeof parsed;
  } catch {
    // An unreadable lock can only age out.
  }
  return {
    pid: typeof parsed.pid === 'number' ? parsed.pid : -1,
    host: typeof parsed.host === 'string' ? parsed.host : '',
    token: typeof parsed.token === 'string' ? parsed.token : '',
    mtimeMs: st.mtimeMs,
  };
}

/** This process, as recorded in locks and claims. */
export function processIdentity(): { readonly pid: number; readonly host: string } {
  return { pid: process.pid, host: HOST };
}

/** True when `pid` on `host` is another process of this host that no longer runs. */
export function isDeadLocalProcess(pid: unknown, host: unknown): boolean {
  return host === HOST && typeof pid === 'number' && pid > 0 && pid !== process.pid && !pidAlive(pid);
}

function isStale(info: LockInfo, staleMs: number): boolean {
  if (info.host === HOST && info.pid > 0 && info.pid !== process.pid && !pidAlive(info.pid)) return true;
  return Date.now() - info.mtimeMs > staleMs;
}

function lockBody(token: string): string {
  return JSON.stringify({ pid: process.pid, host: HOST, token, at: new Date().toISOString() });
}

/** Removes `lockPath` if it is (still) stale. Returns true when the caller should retry at once. */
async function breakIfStale(lockPath: string, staleMs: number): Promise<boolean> {
  const info = await readLockInfo(lockPath);
  if (info === undefined) return true;
  if (!isStale(info, staleMs)) return false;
  const breaker = `${lockPath}.break`;
  const token = randomBytes(12).toString('hex');
  if (!(await createFileExclusive(breaker, lockBody(token), { durable: false }))) {
    const other = await readLockInfo(breaker);
    // A breaker lives for microseconds; one that is old belongs to a process that died.
    if (other !== undefined && isStale(other, Math.min(staleMs, 5_000))) await removeFile(breaker);
    return false;
  }
  try {
    const again = await readLockInfo(lockPath);
    if (again !== undefined && again.token === info.token && isStale(again, staleMs)) await removeFile(lockPath);
  } finally {
    await removeFile(breaker);
  }
  return true;
}

/** Holds `lockPath` (a file) while `fn` runs; exclusive across processes and within this one. */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const key = path.resolve(lockPath);
  const staleMs = opts.staleMs ?? 30_000;
  const timeoutMs = opts.timeoutMs ?? 30_000;

  // In-process queue first: only one waiter per process polls the file.
  const previous = inProcessTails.get(key) ?? Promise.resolve();
  let releaseLocal!: () => void;
  const mine = new Promise<void>((resolve) => {
    releaseLocal = resolve;
  });
  const tail = previous.then(() => mine);
  inProcessTails.set(key, tail);
  await previous;
  try {
    const token = randomBytes(12).toString('hex');
    const deadline = Date.now() + timeoutMs;
    let delay = 1;
    while (!(await createFileExclusive(key, lockBody(token), { durable: false }))) {
      if (await breakIfStale(key, staleMs)) continue;
      if (Date.now() > deadline) {
        throw new TransientError(`timed out waiting for lock ${path.basename(key)}`, { rule: 'lock-timeout', lock: path.basename(key) });
      }
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 40);
    }
    const heartbeat = setInterval(
      () => {
        const now = new Date();
        utimes(key, now, now).catch(() => undefined);
      },
      Math.max(100, Math.floor(staleMs / 3)),
    );
    heartbeat.unref();
    try {
      return await fn();
    } finally {
      clearInterval(heartbeat);
      const held = await readLockInfo(key);
      if (held?.token === token) await removeFile(key);
    }
  } finally {
    releaseLocal();
    if (inProcessTails.get(key) === tail) inProcessTails.delete(key);
  }
}
