/**
 * A versioned, encrypted, S3-like object store in a folder.
 *
 * Layout under `<home>/store/<bucket>/`:
 *   <encodeName(key)>/<versionId>.json   version manifest: key, etag, size, metadata, delete flag
 *   <encodeName(key)>/<versionId>.bin    the encrypted object (absent for delete markers)
 *   .locks/<encodeName(key)>.lock        per-key lock for the commit step
 *   .tmp/                                objects being written (invisible until committed)
 *
 * Object file (envelope encryption, framed so both directions stream in constant memory):
 *   "PPOB" | u32be header length | header JSON (format, alg, frameSize, wrapped data key,
 *   key ref, encryption context, 4-byte nonce prefix) | frames
 * A frame is AES-256-GCM over `frameSize` plaintext bytes (the last one 0..frameSize) plus its
 * 16-byte tag; nonce = prefix ‖ u64be frame index; AAD = sha256(prelude+header) ‖ u64be index ‖
 * final flag, and for the final frame also ‖ u64be plaintext size ‖ sha256 of the plaintext. So a
 * flipped bit, a reordered, dropped or appended frame, a truncation and a manifest whose etag or
 * size does not match all fail authentication. The data key is fresh per object and wrapped by
 * the KeyService with the encryption context `{ ...caller context, bucket, key }`: a file copied
 * under another key cannot be unwrapped there.
 *
 * Writes stream into `.tmp`, fsync, then under the key's lock: check ifMatch/ifNoneMatch, pick a
 * version id greater than every existing one, rename the data file into place and write the
 * manifest atomically. The manifest rename is the commit point: a reader sees the old version or
 * the new one, and a writer killed at any moment leaves no visible object. Versions are immutable
 * files, so a reader that has chosen a version is never disturbed by a later overwrite.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { IntegrityError, KeyError, ObjectNotFoundError, PreconditionFailedError, UsageError } from '../../core/errors.ts';
import type { Body, Clock, KeyService, ObjectInfo, ObjectStore, ObjectVersionInfo, PutOptions } from '../../core/ports.ts';
import { BUCKET_ROLES, type BucketRole, type EncryptionContext } from '../../core/types.ts';
import {
  atomicWriteFile,
  decodeName,
  encodeName,
  ensureDir,
  errorCode,
  fsyncDir,
  ifExists,
  type LockOptions,
  removeFile,
  withFileLock,
} from './fs-utils.ts';

/** Options of the local object store. */
export interface FsObjectStoreOptions {
  /** Source of lastModified and version ids. @default the system clock */
  readonly clock?: Clock;
  /** Plaintext bytes per encrypted frame. @default 65536 */
  readonly frameSize?: number;
  readonly lock?: LockOptions;
}

interface Manifest {
  readonly format: 1;
  readonly key: string;
  readonly versionId: string;
  readonly deleteMarker: boolean;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly contentType?: string;
}

interface ObjectHeader {
  readonly format: 1;
  readonly alg: 'AES-256-GCM';
  readonly frameSize: number;
  readonly keyRef: { readonly keyId: string; readonly version: string };
  readonly wrappedKey: string;
  readonly context: EncryptionContext;
  readonly noncePrefix: string;
}

const MAGIC = Buffer.from('PPOB', 'ascii');
const TAG = 16;
const MAX_HEADER = 64 * 1024;
const MAX_KEY_BYTES = 1024;
const MAX_METADATA_BYTES = 2048;
const VERSION_ID_RE = /^[0-9a-f]{24}$/;
const ETAG_RE = /^[0-9a-f]{64}$/;
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
const EMPTY_SHA256 = createHash('sha256').digest('hex');
const TEMP_MAX_AGE_MS = 60 * 60_000;
const systemClock: Clock = { now: () => new Date() };

/** Envelope-encrypted, versioned object store over the local file system. */
export class FsObjectStore implements ObjectStore {
  readonly root: string;
  private readonly clock: Clock;
  private readonly frameSize: number;
  private readonly lockOptions: LockOptions;
  private readonly swept = new Set<BucketRole>();

  /** `home` is the privacy-pipeline home folder; objects live under `<home>/store`. */
  constructor(
    home: string,
    private readonly keys: KeyService,
    opts: FsObjectStoreOptions = {},
  ) {
    this.root = path.join(home, 'store');
    this.clock = opts.clock ?? systemClock;
    this.frameSize = opts.frameSize ?? 64 * 1024;
    if (!Number.isInteger(this.frameSize) || this.frameSize < 16 || this.frameSize > 16 * 1024 * 1024) {
      throw new UsageError('frameSize must be an integer between 16 and 16777216', { rule: 'frame-size' });
    }
    this.lockOptions = opts.lock ?? {};
  }

  async get(
    bucket: BucketRole,
    key: string,
    opts: { versionId?: string } = {},
  ): Promise<{ info: ObjectInfo; body: AsyncIterable<Uint8Array> }> {
    const dir = this.keyDir(bucket, key);
    let manifest: Manifest | undefined;
    if (opts.versionId !== undefined) {
      checkVersionId(opts.versionId);
      manifest = await readManifest(dir, opts.versionId);
    } else {
      manifest = await latestManifest(dir);
    }
    checkLocation(bucket, key, manifest);
    if (manifest === undefined || manifest.deleteMarker) {
      throw new ObjectNotFoundError(`object ${bucket}/${key} not found`, {
        bucket,
        key,
        ...(opts.versionId ? { versionId: opts.versionId } : {}),
      });
    }
    return { info: toInfo(bucket, manifest), body: this.decryptBody(bucket, key, dir, manifest) };
  }

  /**
   * Bytes [start, end) of an object: only the frames that cover the range are read and
   * decrypted (each authenticated with its index, and the final one with the size and digest),
   * so a Parquet footer or one chunk of a parallel run costs its own size, not the object's.
   */
  async readRange(bucket: BucketRole, key: string, start: number, end: number, opts: { versionId?: string } = {}): Promise<Uint8Array> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
      throw new UsageError('invalid byte range', { bucket, rule: 'range' });
    }
    const dir = this.keyDir(bucket, key);
    const manifest = await this.manifestFor(bucket, key, dir, opts.versionId);
    const stop = Math.min(end, manifest.size);
    if (start >= stop) return new Uint8Array(0);
    const opened = await this.openEncrypted(bucket, key, dir, manifest);
    try {
      const { frameSize } = opened;
      const first = Math.floor(start / frameSize);
      const last = Math.floor((stop - 1) / frameSize);
      const out = Buffer.allocUnsafe(stop - start);
      const frameBuf = Buffer.allocUnsafe(frameSize + TAG);
      for (let i = first; i <= last; i++) {
        const plain = await opened.frame(i, frameBuf);
        const from = Math.max(start, i * frameSize) - i * frameSize;
        const to = Math.min(stop, (i + 1) * frameSize) - i * frameSize;
        plain.copy(out, i * frameSize + from - start, from, to);
      }
      return out;
    } finally {
      await opened.close();
    }
  }

  async head(bucket: BucketRole, key: string): Promise<ObjectInfo | undefined> {
    const manifest = await latestManifest(this.keyDir(bucket, key));
    checkLocation(bucket, key, manifest);
    return manifest === undefined || manifest.deleteMarker ? undefined : toInfo(bucket, manifest);
  }

  async put(bucket: BucketRole, key: string, body: Body, opts: PutOptions = {}): Promise<ObjectInfo> {
    const dir = this.keyDir(bucket, key);
    const metadata = checkMetadata(opts.metadata);
    const context = objectContext(bucket, key, opts.encryptionContext);
    // Fail fast before encrypting a large body; the check that counts is repeated under the lock.
    if (opts.ifMatch !== undefined || opts.ifNoneMatch !== undefined) checkPrecondition(bucket, key, await latestManifest(dir), opts);

    const bucketDir = path.join(this.root, bucket);
    await this.sweepTemp(bucket, bucketDir);
    const tmpDir = path.join(bucketDir, '.tmp');
    await ensureDir(tmpDir);
    const tmp = path.join(tmpDir, `${randomBytes(12).toString('hex')}.part`);
    try {
      const { size, etag } = await this.encryptToFile(tmp, body, context);
      return await withFileLock(
        this.lockPath(bucket, key),
        async () => {
          const versions = await versionsUnderLock(dir);
          const latest = versions.length > 0 ? await readManifest(dir, versions[0] as string) : undefined;
          checkPrecondition(bucket, key, latest, opts);
          const versionId = nextVersionId(versions[0], this.clock.now().getTime());
          const manifest: Manifest = {
            format: 1,
            key,
            versionId,
            deleteMarker: false,
            size,
            etag,
            lastModified: this.clock.now().toISOString(),
            metadata,
            ...(opts.contentType !== undefined ? { contentType: opts.contentType } : {}),
          };
          await ensureDir(dir);
          await rename(tmp, path.join(dir, `${versionId}.bin`));
          await atomicWriteFile(path.join(dir, `${versionId}.json`), JSON.stringify(manifest));
          return toInfo(bucket, manifest);
        },
        this.lockOptions,
      );
    } finally {
      await removeFile(tmp);
    }
  }

  async *list(bucket: BucketRole, prefix: string): AsyncIterable<ObjectInfo> {
    for (const { key, dir } of await this.keysUnder(bucket, prefix)) {
      const manifest = await latestManifest(dir);
      checkLocation(bucket, key, manifest);
      if (manifest !== undefined && !manifest.deleteMarker) yield toInfo(bucket, manifest);
    }
  }

  async *listVersions(bucket: BucketRole, prefix: string): AsyncIterable<ObjectVersionInfo> {
    for (const { key, dir } of await this.keysUnder(bucket, prefix)) {
      let first = true;
      for (const versionId of await listVersionIds(dir)) {
        const manifest = await readManifest(dir, versionId);
        if (manifest === undefined) continue; // deleted meanwhile
        checkLocation(bucket, key, manifest);
        yield { ...toInfo(bucket, manifest), isLatest: first, isDeleteMarker: manifest.deleteMarker };
        first = false;
      }
    }
  }

  async delete(bucket: BucketRole, key: string, opts: { versionId?: string } = {}): Promise<void> {
    const dir = this.keyDir(bucket, key);
    const versionId = opts.versionId;
    if (versionId !== undefined) checkVersionId(versionId);
    await withFileLock(
      this.lockPath(bucket, key),
      async () => {
        await versionsUnderLock(dir);
        if (versionId !== undefined) {
          // Manifest first: once it is gone the version is invisible, whatever happens next.
          await removeFile(path.join(dir, `${versionId}.json`));
          await removeFile(path.join(dir, `${versionId}.bin`));
          await fsyncDir(dir);
          await ifExists(() => rmdir(dir)).catch((err: unknown) => {
            if (errorCode(err) !== 'ENOTEMPTY' && errorCode(err) !== 'EEXIST') throw err;
          });
          return;
        }
        const versions = await versionsUnderLock(dir);
        const marker: Manifest = {
          format: 1,
          key,
          versionId: nextVersionId(versions[0], this.clock.now().getTime()),
          deleteMarker: true,
          size: 0,
          etag: EMPTY_SHA256,
          lastModified: this.clock.now().toISOString(),
          metadata: {},
        };
        await ensureDir(dir);
        await atomicWriteFile(path.join(dir, `${marker.versionId}.json`), JSON.stringify(marker));
      },
      this.lockOptions,
    );
  }

  // ---------------------------------------------------------------- paths

  private keyDir(bucket: BucketRole, key: string): string {
    checkBucket(bucket);
    checkKey(key);
    return path.join(this.root, bucket, encodeName(key));
  }

  private lockPath(bucket: BucketRole, key: string): string {
    return path.join(this.root, bucket, '.locks', `${encodeName(key)}.lock`);
  }

  /** Keys present under a prefix (any version), in S3 order: UTF-8 byte order. */
  private async keysUnder(bucket: BucketRole, prefix: string): Promise<{ key: string; dir: string }[]> {
    checkBucket(bucket);
    if (typeof prefix !== 'string') throw new UsageError('prefix must be a string', { bucket, rule: 'prefix' });
    const bucketDir = path.join(this.root, bucket);
    const names = (await ifExists(() => readdir(bucketDir))) ?? [];
    const found: { key: string; dir: string; sortKey: Buffer }[] = [];
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const dir = path.join(bucketDir, name);
      let key = decodeName(name);
      if (key === undefined && name.startsWith('~')) {
        const versions = await listVersionIds(dir);
        key = versions.length > 0 ? (await readManifest(dir, versions[0] as string))?.key : undefined;
      }
      if (key?.startsWith(prefix)) found.push({ key, dir, sortKey: Buffer.from(key, 'utf8') });
    }
    found.sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));
    return found.map(({ key, dir }) => ({ key, dir }));
  }

  /** Removes `.tmp` leftovers of writers that died (once per bucket and store instance). */
  private async sweepTemp(bucket: BucketRole, bucketDir: string): Promise<void> {
    if (this.swept.has(bucket)) return;
    this.swept.add(bucket);
    const tmpDir = path.join(bucketDir, '.tmp');
    const names = (await ifExists(() => readdir(tmpDir))) ?? [];
    const cutoff = Date.now() - TEMP_MAX_AGE_MS;
    for (const name of names) {
      const file = path.join(tmpDir, name);
      const st = await ifExists(() => stat(file));
      if (st !== undefined && st.mtimeMs < cutoff) await removeFile(file);
    }
  }

  // ---------------------------------------------------------------- encryption

  private async encryptToFile(file: string, body: Body, context: EncryptionContext): Promise<{ size: number; etag: string }> {
    const dataKey = await this.keys.generateDataKey(context);
    const key = Buffer.from(dataKey.plaintext);
    const noncePrefix = randomBytes(4);
    const header: ObjectHeader = {
      format: 1,
      alg: 'AES-256-GCM',
      frameSize: this.frameSize,
      keyRef: { keyId: dataKey.ref.keyId, version: dataKey.ref.version },
      wrappedKey: Buffer.from(dataKey.wrapped).toString('base64'),
      context,
      noncePrefix: noncePrefix.toString('base64'),
    };
    const prelude = encodeHeader(header);
    const headerHash = createHash('sha256').update(prelude).digest();
    const fh = await open(file, 'wx', 0o600);
    try {
      await writeAll(fh, [prelude]);
      const frame = Buffer.allocUnsafe(this.frameSize);
      const hash = createHash('sha256');
      let fill = 0;
      let index = 0;
      let size = 0;
      const emit = async (final: { size: number; digest: Buffer } | undefined): Promise<void> => {
        const cipher = createCipheriv('aes-256-gcm', key, nonce(noncePrefix, index));
        cipher.setAAD(frameAad(headerHash, index, final));
        const ct = cipher.update(frame.subarray(0, fill));
        cipher.final();
        await writeAll(fh, [ct, cipher.getAuthTag()]);
        index++;
        fill = 0;
      };
      for await (const chunk of chunksOf(body)) {
        hash.update(chunk);
        size += chunk.length;
        let offset = 0;
        while (offset < chunk.length) {
          // A full frame is written only once more data follows, so the last frame is the final one.
          if (fill === this.frameSize) await emit(undefined);
          const n = Math.min(this.frameSize - fill, chunk.length - offset);
          frame.set(chunk.subarray(offset, offset + n), fill);
          fill += n;
          offset += n;
        }
      }
      const digest = hash.digest();
      await emit({ size, digest });
      await fh.sync();
      return { size, etag: digest.toString('hex') };
    } finally {
      key.fill(0);
      dataKey.plaintext.fill(0);
      await fh.close();
    }
  }

  /** The manifest of a readable version (latest when no version id is given). */
  private async manifestFor(bucket: BucketRole, key: string, dir: string, versionId: string | undefined): Promise<Manifest> {
    let manifest: Manifest | undefined;
    if (versionId !== undefined) {
      checkVersionId(versionId);
      manifest = await readManifest(dir, versionId);
    } else {
      manifest = await latestManifest(dir);
    }
    checkLocation(bucket, key, manifest);
    if (manifest === undefined || manifest.deleteMarker) {
      throw new ObjectNotFoundError(`object ${bucket}/${key} not found`, { bucket, key, ...(versionId ? { versionId } : {}) });
    }
    return manifest;
  }

  /**
   * Opens an object file for random access to its frames: checks the header, unwraps the data
   * key, and checks that the file holds exactly the frames the manifest's size implies.
   */
  private async openEncrypted(
    bucket: BucketRole,
    key: string,
    dir: string,
    manifest: Manifest,
  ): Promise<{ frameSize: number; frame(i: number, buf: Buffer): Promise<Buffer>; close(): Promise<void> }> {
    const where = { bucket, key, versionId: manifest.versionId };
    const corrupt = (rule: string): IntegrityError =>
      new IntegrityError(`object ${bucket}/${key} failed integrity check (${rule})`, { ...where, rule });
    let fh: FileHandle;
    try {
      fh = await open(path.join(dir, `${manifest.versionId}.bin`), 'r');
    } catch (err) {
      if (errorCode(err) === 'ENOENT') throw new ObjectNotFoundError(`object ${bucket}/${key} not found`, where);
      throw err;
    }
    let dataKey: Buffer | undefined;
    try {
      const fileSize = (await fh.stat()).size;
      const preludeHead = await readAt(fh, 0, 8);
      if (preludeHead.length < 8 || !preludeHead.subarray(0, 4).equals(MAGIC)) throw corrupt('header');
      const headerLen = preludeHead.readUInt32BE(4);
      if (headerLen > MAX_HEADER || 8 + headerLen > fileSize) throw corrupt('header');
      const headerBytes = await readAt(fh, 8, headerLen);
      const header = parseHeader(headerBytes);
      if (header === undefined) throw corrupt('header');
      if (header.context.bucket !== bucket || header.context.key !== key) throw corrupt('object-location');
      if (!ETAG_RE.test(manifest.etag)) throw corrupt('manifest');
      const headerHash = createHash('sha256').update(preludeHead).update(headerBytes).digest();
      const frameSize = header.frameSize;
      const frames = manifest.size === 0 ? 1 : Math.ceil(manifest.size / frameSize);
      const dataStart = 8 + headerLen;
      // A range read cannot hash the whole plaintext: the frame count must match the size instead.
      if (fileSize - dataStart !== manifest.size + frames * TAG) throw corrupt('truncated');
      try {
        dataKey = Buffer.from(await this.keys.decryptDataKey(Buffer.from(header.wrappedKey, 'base64'), { ...header.context, bucket, key }));
      } catch (err) {
        if (err instanceof KeyError)
          throw new IntegrityError(
            `object ${bucket}/${key} failed integrity check (data-key)`,
            { ...where, rule: 'data-key' },
            { cause: err },
          );
        throw err;
      }
      const noncePrefix = Buffer.from(header.noncePrefix, 'base64');
      const finalAad = { size: manifest.size, digest: Buffer.from(manifest.etag, 'hex') };
      const full = frameSize + TAG;
      const k = dataKey;
      const handle = fh;
      return {
        frameSize,
        async frame(i: number, buf: Buffer): Promise<Buffer> {
          const last = i === frames - 1;
          const len = last ? manifest.size - i * frameSize + TAG : full;
          const cipherText = buf.subarray(0, len);
          if ((await readInto(handle, cipherText, dataStart + i * full)) !== len) throw corrupt('truncated');
          try {
            const decipher = createDecipheriv('aes-256-gcm', k, nonce(noncePrefix, i));
            decipher.setAAD(frameAad(headerHash, i, last ? finalAad : undefined));
            decipher.setAuthTag(cipherText.subarray(len - TAG));
            const plain = decipher.update(cipherText.subarray(0, len - TAG));
            decipher.final();
            return plain;
          } catch {
            throw corrupt(last ? 'final-frame' : 'frame');
          }
        },
        async close(): Promise<void> {
          k.fill(0);
          await handle.close();
        },
      };
    } catch (err) {
      dataKey?.fill(0);
      await fh.close();
      throw err;
    }
  }

  private async *decryptBody(bucket: BucketRole, key: string, dir: string, manifest: Manifest): AsyncGenerator<Uint8Array> {
    const where = { bucket, key, versionId: manifest.versionId };
    const corrupt = (rule: string): IntegrityError =>
      new IntegrityError(`object ${bucket}/${key} failed integrity check (${rule})`, { ...where, rule });
    let fh: FileHandle;
    try {
      fh = await open(path.join(dir, `${manifest.versionId}.bin`), 'r');
    } catch (err) {
      if (errorCode(err) === 'ENOENT') throw new ObjectNotFoundError(`object ${bucket}/${key} not found`, where);
      throw err;
    }
    let dataKey: Buffer | undefined;
    try {
      const fileSize = (await fh.stat()).size;
      const preludeHead = await readAt(fh, 0, 8);
      if (preludeHead.length < 8 || !preludeHead.subarray(0, 4).equals(MAGIC)) throw corrupt('header');
      const headerLen = preludeHead.readUInt32BE(4);
      if (headerLen > MAX_HEADER || 8 + headerLen > fileSize) throw corrupt('header');
      const headerBytes = await readAt(fh, 8, headerLen);
      const header = parseHeader(headerBytes);
      if (header === undefined) throw corrupt('header');
      if (header.context.bucket !== bucket || header.context.key !== key) throw corrupt('object-location');
      if (!ETAG_RE.test(manifest.etag)) throw corrupt('manifest');
      const headerHash = createHash('sha256').update(preludeHead).update(headerBytes).digest();
      try {
        dataKey = Buffer.from(await this.keys.decryptDataKey(Buffer.from(header.wrappedKey, 'base64'), { ...header.context, bucket, key }));
      } catch (err) {
        if (err instanceof KeyError)
          throw new IntegrityError(
            `object ${bucket}/${key} failed integrity check (data-key)`,
            { ...where, rule: 'data-key' },
            { cause: err },
          );
        throw err;
      }
      const noncePrefix = Buffer.from(header.noncePrefix, 'base64');
      const full = header.frameSize + TAG;
      const dataStart = 8 + headerLen;
      const dataLen = fileSize - dataStart;
      if (dataLen < TAG) throw corrupt('truncated');
      const frames = Math.ceil(dataLen / full);
      const finalAad = { size: manifest.size, digest: Buffer.from(manifest.etag, 'hex') };
      const hash = createHash('sha256');
      const frameBuf = Buffer.allocUnsafe(full);
      let total = 0;
      for (let i = 0; i < frames; i++) {
        const last = i === frames - 1;
        const len = last ? dataLen - (frames - 1) * full : full;
        if (len < TAG) throw corrupt('truncated');
        const buf = frameBuf.subarray(0, len);
        if ((await readInto(fh, buf, dataStart + i * full)) !== len) throw corrupt('truncated');
        let plain: Buffer;
        try {
          const decipher = createDecipheriv('aes-256-gcm', dataKey, nonce(noncePrefix, i));
          decipher.setAAD(frameAad(headerHash, i, last ? finalAad : undefined));
          decipher.setAuthTag(buf.subarray(len - TAG));
          plain = decipher.update(buf.subarray(0, len - TAG));
          decipher.final();
        } catch {
          throw corrupt(last ? 'final-frame' : 'frame');
        }
        hash.update(plain);
        total += plain.length;
        yield plain;
      }
      if (total !== manifest.size || hash.digest('hex') !== manifest.etag) throw corrupt('digest');
    } finally {
      dataKey?.fill(0);
      await fh.close();
    }
  }
}

// ------------------------------------------------------------------------------ helpers

function checkBucket(bucket: BucketRole): void {
  if (!BUCKET_ROLES.includes(bucket)) throw new UsageError('unknown bucket', { rule: 'bucket', bucket: String(bucket) });
}

/** S3-like keys; rejects what could escape a folder or confuse a file system or a terminal. */
function checkKey(key: string): void {
  const bad = (reason: string): UsageError =>
    new UsageError(`invalid object key ${JSON.stringify(String(key).slice(0, 200))}: ${reason}`, { rule: 'object-key', reason });
  if (typeof key !== 'string' || key.length === 0) throw bad('empty');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw bad('longer than 1024 bytes');
  if (CONTROL_RE.test(key)) throw bad('control character');
  if (/\p{Cs}/u.test(key)) throw bad('not well-formed unicode');
  if (key.startsWith('/') || key.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(key)) throw bad('absolute path');
  if (key.split(/[\\/]/).some((s) => s === '..' || s === '.')) throw bad('dot segment');
}

function checkVersionId(versionId: string): void {
  if (typeof versionId !== 'string' || !VERSION_ID_RE.test(versionId)) throw new UsageError('invalid version id', { rule: 'version-id' });
}

function checkMetadata(metadata: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  let bytes = 0;
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (typeof v !== 'string' || k.length === 0 || CONTROL_RE.test(k))
      throw new UsageError('metadata must map names to strings', { rule: 'metadata' });
    bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
    out[k] = v;
  }
  // S3's limit for user metadata; keeping it locally stops code that would fail on AWS.
  if (bytes > MAX_METADATA_BYTES) throw new UsageError(`metadata exceeds ${MAX_METADATA_BYTES} bytes`, { rule: 'metadata-size' });
  return out;
}

function objectContext(bucket: BucketRole, key: string, caller: EncryptionContext | undefined): EncryptionContext {
  for (const [name, value] of Object.entries(caller ?? {})) {
    if (typeof value !== 'string') throw new UsageError('encryption context values must be strings', { rule: 'encryption-context' });
    if ((name === 'bucket' && value !== bucket) || (name === 'key' && value !== key)) {
      throw new UsageError(`encryption context entry '${name}' is reserved for the object location`, { rule: 'encryption-context' });
    }
  }
  return { ...caller, bucket, key };
}

function normaliseEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

function checkPrecondition(bucket: BucketRole, key: string, latest: Manifest | undefined, opts: PutOptions): void {
  const current = latest === undefined || latest.deleteMarker ? undefined : latest;
  if (opts.ifNoneMatch === '*' && current !== undefined) {
    throw new PreconditionFailedError(`object ${bucket}/${key} already exists`, { bucket, key, rule: 'if-none-match' });
  }
  if (opts.ifMatch !== undefined && (current === undefined || normaliseEtag(opts.ifMatch) !== current.etag)) {
    throw new PreconditionFailedError(`object ${bucket}/${key} changed since it was read`, { bucket, key, rule: 'if-match' });
  }
}

/** Version ids: 12 hex digits of ms time, 4 of sequence, 8 random; always above `previous`. */
function nextVersionId(previous: string | undefined, nowMs: number): string {
  let ms = Math.max(0, Math.floor(nowMs));
  let seq = 0;
  if (previous !== undefined) {
    const prevMs = Number.parseInt(previous.slice(0, 12), 16);
    const prevSeq = Number.parseInt(previous.slice(12, 16), 16);
    if (ms <= prevMs) {
      ms = prevMs;
      seq = prevSeq + 1;
      if (seq > 0xffff) {
        ms++;
        seq = 0;
      }
    }
  }
  return ms.toString(16).padStart(12, '0') + seq.toString(16).padStart(4, '0') + randomBytes(4).toString('hex');
}

/**
 * Committed version ids, newest first, for a caller holding the key's lock. No other writer can
 * be mid-commit then, so a data file without a manifest (or a temp file) is what a writer killed
 * between its two renames left behind: remove it, so no unreachable copy outlives an erasure.
 */
async function versionsUnderLock(dir: string): Promise<string[]> {
  const names = (await ifExists(() => readdir(dir))) ?? [];
  const committed = new Set(names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)));
  for (const name of names) {
    const orphanData = name.endsWith('.bin') && !committed.has(name.slice(0, -4));
    if (orphanData || name.startsWith('.tmp-')) await removeFile(path.join(dir, name));
  }
  return [...committed]
    .filter((id) => VERSION_ID_RE.test(id))
    .sort()
    .reverse();
}

/** Committed version ids of a key, newest first. */
async function listVersionIds(dir: string): Promise<string[]> {
  const names = (await ifExists(() => readdir(dir))) ?? [];
  const ids: string[] = [];
  for (const name of names) {
    if (name.endsWith('.json')) {
      const id = name.slice(0, -5);
      if (VERSION_ID_RE.test(id)) ids.push(id);
    }
  }
  return ids.sort().reverse();
}

async function readManifest(dir: string, versionId: string): Promise<Manifest | undefined> {
  const text = await ifExists(() => readFile(path.join(dir, `${versionId}.json`), 'utf8'));
  if (text === undefined) return undefined;
  try {
    const m = JSON.parse(text) as Manifest;
    if (m.format === 1 && m.versionId === versionId && typeof m.key === 'string') return m;
  } catch {
    // fall through
  }
  throw new IntegrityError('object manifest is corrupt', { versionId, rule: 'manifest' });
}

/** The newest committed version (delete markers included), retrying if a version vanishes meanwhile. */
async function latestManifest(dir: string): Promise<Manifest | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const versions = await listVersionIds(dir);
    if (versions.length === 0) return undefined;
    const manifest = await readManifest(dir, versions[0] as string);
    if (manifest !== undefined) return manifest;
  }
  return undefined;
}

/** A manifest found under another key's folder was moved there: refuse it. */
function checkLocation(bucket: BucketRole, key: string, manifest: Manifest | undefined): void {
  if (manifest !== undefined && manifest.key !== key) {
    throw new IntegrityError(`object ${bucket}/${key} failed integrity check (object-location)`, { bucket, key, rule: 'object-location' });
  }
}

function toInfo(bucket: BucketRole, m: Manifest): ObjectInfo {
  return {
    bucket,
    key: m.key,
    size: m.size,
    etag: m.etag,
    versionId: m.versionId,
    lastModified: new Date(m.lastModified),
    metadata: Object.freeze({ ...m.metadata }),
  };
}

async function* chunksOf(body: Body): AsyncIterable<Uint8Array> {
  if (body instanceof Uint8Array) {
    yield body;
    return;
  }
  for await (const chunk of body as AsyncIterable<unknown>) {
    if (!(chunk instanceof Uint8Array)) throw new UsageError('object body chunks must be Uint8Array', { rule: 'body' });
    yield chunk;
  }
}

function encodeHeader(header: ObjectHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.alloc(8);
  MAGIC.copy(head, 0);
  head.writeUInt32BE(json.length, 4);
  return Buffer.concat([head, json]);
}

function parseHeader(bytes: Buffer): ObjectHeader | undefined {
  try {
    const h = JSON.parse(bytes.toString('utf8')) as ObjectHeader;
    const ok =
      h.format === 1 &&
      h.alg === 'AES-256-GCM' &&
      Number.isInteger(h.frameSize) &&
      h.frameSize >= 16 &&
      h.frameSize <= 16 * 1024 * 1024 &&
      typeof h.wrappedKey === 'string' &&
      typeof h.noncePrefix === 'string' &&
      Buffer.from(h.noncePrefix, 'base64').length === 4 &&
      typeof h.context === 'object' &&
      h.context !== null &&
      Object.values(h.context).every((v) => typeof v === 'string');
    return ok ? h : undefined;
  } catch {
    return undefined;
  }
}

function nonce(prefix: Buffer, index: number): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0, 0, 4);
  n.writeBigUInt64BE(BigInt(index), 4);
  return n;
}

function frameAad(headerHash: Buffer, index: number, final: { size: number; digest: Buffer } | undefined): Buffer {
  const aad = Buffer.alloc(32 + 8 + 1 + (final ? 8 + 32 : 0));
  headerHash.copy(aad, 0);
  aad.writeBigUInt64BE(BigInt(index), 32);
  aad[40] = final ? 1 : 0;
  if (final) {
    aad.writeBigUInt64BE(BigInt(final.size), 41);
    final.digest.copy(aad, 49);
  }
  return aad;
}

type FileHandle = Awaited<ReturnType<typeof open>>;

/** Fills `buf` from `position`; returns the bytes read (fewer only at end of file). */
async function readInto(fh: FileHandle, buf: Buffer, position: number): Promise<number> {
  let filled = 0;
  while (filled < buf.length) {
    const { bytesRead } = await fh.read(buf, filled, buf.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  const n = await readInto(fh, buf, position);
  return n === length ? buf : buf.subarray(0, n);
}

/** Appends all buffers, looping over short writes. */
async function writeAll(fh: FileHandle, buffers: Buffer[]): Promise<void> {
  const total = buffers.reduce((n, b) => n + b.length, 0);
  const { bytesWritten } = await fh.writev(buffers);
  if (bytesWritten === total) return;
  let rest = Buffer.concat(buffers).subarray(bytesWritten);
  while (rest.length > 0) {
    const { bytesWritten: n } = await fh.write(rest);
    rest = rest.subarray(n);
  }
}
