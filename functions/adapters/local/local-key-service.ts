/**
 * The local key service: a small KMS over `<home>/keyring.json` (mode 0600, directory 0700).
 *
 * The keyring holds the master key versions (`local/master` v1, v2, ...; 32 random bytes each)
 * and the pseudonymisation secrets, the latter only wrapped by a master version. Wrapped blobs
 * (data keys and small payloads) are AES-256-GCM under one master version with the encryption
 * context as associated data:
 *
 *   'P' 'K' 0x01 | len(version) u8 | version (ascii) | iv (12) | ciphertext | tag (16)
 *   AAD = "privacy-pipeline/local-kms/1\0" keyId "\0" version "\0" canonicalJson(context)
 *
 * Rotation adds a master version used for new wraps; old versions stay for unwrapping. The
 * pseudonym secrets keep their own version: rotation re-wraps them under the new master, so
 * tokens stay stable. Key material comes from node:crypto only (never the injected
 * RandomSource, which tests may seed) and never appears in an error or a log line.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, stat } from 'node:fs/promises';
import path from 'node:path';
import { canonicalJson } from '../../core/canonical-json.ts';
import { IntegrityError, KeyError, UsageError } from '../../core/errors.ts';
import type { DataKey, KeyService, SecretKey } from '../../core/ports.ts';
import type { EncryptionContext, KeyRef } from '../../core/types.ts';
import { atomicWriteFile, createFileExclusive, ensureDir, ifExists, readFileIfExists, withFileLock } from './fs-utils.ts';

/** Purposes of the long-lived pseudonymisation secrets. */
export type PseudonymPurpose = 'token-hmac' | 'token-siv';
const PSEUDONYM_PURPOSES: readonly PseudonymPurpose[] = ['token-hmac', 'token-siv'];

export const MASTER_KEY_ID = 'local/master';
const MAX_PAYLOAD = 4096;
const MAGIC = [0x50, 0x4b, 0x01] as const;
const AAD_PREFIX = 'privacy-pipeline/local-kms/1\0';
const VERSION_RE = /^v[1-9][0-9]{0,5}$/;

interface KeyringFile {
  readonly format: 1;
  readonly keyId: string;
  readonly current: string;
  /** version -> base64 key material */
  readonly masterKeys: Readonly<Record<string, string>>;
  readonly pseudonymKeys: Readonly<Record<string, { readonly keyId: string; readonly version: string; readonly wrapped: string }>>;
  readonly rotatedAt?: readonly { readonly version: string; readonly at: string }[];
}

interface LoadedKeyring {
  readonly file: KeyringFile;
  readonly masters: ReadonlyMap<string, Buffer>;
  readonly stamp: string;
}

/** What `describe()` reports: references only, never material. */
export interface KeyringDescription {
  readonly master: KeyRef;
  readonly masterVersions: readonly string[];
  readonly pseudonym: Readonly<Record<PseudonymPurpose, KeyRef>>;
  readonly path: string;
}

/** KMS-like key service over a keyring file in the home folder. */
export class LocalKeyService implements KeyService {
  readonly keyringPath: string;
  private readonly lockPath: string;
  private loaded: LoadedKeyring | undefined;
  private readonly pseudonymCache = new Map<PseudonymPurpose, SecretKey>();

  /** `home` is the privacy-pipeline home folder; the keyring lives at `<home>/keyring.json`. */
  constructor(home: string) {
    this.keyringPath = path.join(home, 'keyring.json');
    this.lockPath = path.join(home, '.keyring.lock');
  }

  async generateDataKey(context: EncryptionContext): Promise<DataKey> {
    const ring = await this.ring();
    const plaintext = randomBytes(32);
    const wrapped = wrap(ring, ring.file.current, plaintext, context);
    const copy = new Uint8Array(plaintext);
    plaintext.fill(0);
    return { plaintext: copy, wrapped, ref: { keyId: ring.file.keyId, version: ring.file.current, purpose: 'data' } };
  }

  async decryptDataKey(wrapped: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    const key = await this.unwrapBlob(wrapped, context, 'key');
    if (key.length !== 32) throw new KeyError('wrapped blob is not a data key', { keyId: MASTER_KEY_ID, rule: 'data-key-length' });
    return key;
  }

  async encrypt(plaintext: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    if (plaintext.length > MAX_PAYLOAD)
      throw new UsageError(`payload of ${plaintext.length} bytes exceeds ${MAX_PAYLOAD}`, { rule: 'payload-size' });
    const ring = await this.ring();
    return wrap(ring, ring.file.current, plaintext, context);
  }

  async decrypt(ciphertext: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    return this.unwrapBlob(ciphertext, context, 'payload');
  }

  async pseudonymKey(purpose: PseudonymPurpose): Promise<SecretKey> {
    if (!PSEUDONYM_PURPOSES.includes(purpose))
      throw new UsageError('unknown pseudonym key purpose', { rule: 'key-purpose', purpose: String(purpose) });
    let cached = this.pseudonymCache.get(purpose);
    if (cached === undefined) {
      let ring = await this.ring();
      if (ring.file.pseudonymKeys[purpose] === undefined) ring = await this.update((file) => file); // older keyring: add it
      const entry = ring.file.pseudonymKeys[purpose];
      if (entry === undefined) throw new KeyError('pseudonym key missing from keyring', { keyId: `local/${purpose}` });
      const blob = Buffer.from(entry.wrapped, 'base64');
      const material = await this.unwrapBlob(blob, pseudonymContext(purpose, entry.keyId, entry.version), 'key');
      cached = { material, ref: { keyId: entry.keyId, version: entry.version, purpose } };
      this.pseudonymCache.set(purpose, cached);
    }
    // A copy, so a caller that zeroes its key after use does not break the cache.
    return { material: new Uint8Array(cached.material), ref: cached.ref };
  }

  /** The master key version that wraps new data keys (id and version only). */
  async describeDataKey(): Promise<KeyRef> {
    const ring = await this.ring();
    return { keyId: ring.file.keyId, version: ring.file.current, purpose: 'data' };
  }

  /** Adds a master key version and makes it current; old versions still unwrap. */
  async rotate(): Promise<KeyRef> {
    const ring = await this.update((file, masters) => {
      const next = `v${Math.max(...[...masters.keys()].map((v) => Number(v.slice(1)))) + 1}`;
      return {
        ...file,
        current: next,
        masterKeys: { ...file.masterKeys, [next]: randomBytes(32).toString('base64') },
        rotatedAt: [...(file.rotatedAt ?? []), { version: next, at: new Date().toISOString() }],
      };
    });
    return { keyId: ring.file.keyId, version: ring.file.current, purpose: 'data' };
  }

  /** Current key references (ids and versions only). */
  async describe(): Promise<KeyringDescription> {
    const ring = await this.ring();
    const pseudonym = {} as Record<PseudonymPurpose, KeyRef>;
    for (const purpose of PSEUDONYM_PURPOSES) {
      const entry = ring.file.pseudonymKeys[purpose];
      pseudonym[purpose] = { keyId: entry?.keyId ?? `local/${purpose}`, version: entry?.version ?? 'v1', purpose };
    }
    return {
      master: { keyId: ring.file.keyId, version: ring.file.current, purpose: 'data' },
      masterVersions: [...ring.masters.keys()],
      pseudonym,
      path: this.keyringPath,
    };
  }

  // ---------------------------------------------------------------- internals

  private async unwrapBlob(blob: Uint8Array, context: EncryptionContext, what: 'key' | 'payload'): Promise<Uint8Array> {
    const parsed = parseBlob(blob);
    if (parsed === undefined) throw failure(what, 'malformed wrapped blob', { rule: 'blob-format' });
    let ring = await this.ring();
    if (!ring.masters.has(parsed.version)) ring = await this.ring(true); // rotated by another process?
    const master = ring.masters.get(parsed.version);
    if (master === undefined) throw new KeyError('unknown master key version', { keyId: ring.file.keyId, version: parsed.version });
    try {
      const decipher = createDecipheriv('aes-256-gcm', master, parsed.iv);
      decipher.setAAD(aad(ring.file.keyId, parsed.version, context));
      decipher.setAuthTag(parsed.tag);
      const out = Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]);
      // A copy that owns its memory (Buffer.concat may return a slice of a shared pool).
      const copy = new Uint8Array(out);
      out.fill(0);
      return copy;
    } catch {
      throw failure(what, 'authentication failed: wrong encryption context or tampered ciphertext', {
        keyId: ring.file.keyId,
        version: parsed.version,
      });
    }
  }

  /** The keyring, created on first use; re-read when the file changed since the last load. */
  private async ring(forceReload = false): Promise<LoadedKeyring> {
    const st = await ifExists(() => stat(this.keyringPath));
    if (st !== undefined) {
      const stamp = `${st.ino}:${st.mtimeMs}:${st.size}`;
      if (!forceReload && this.loaded?.stamp === stamp) return this.loaded;
      if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
        throw new KeyError('keyring file is accessible by group or others; run chmod 600 on it', {
          file: this.keyringPath,
          rule: 'keyring-permissions',
        });
      }
      const text = await readFileIfExists(this.keyringPath);
      if (text !== undefined) {
        this.loaded = this.parse(text, stamp);
        return this.loaded;
      }
    }
    await this.create();
    return this.ring(true);
  }

  private async create(): Promise<void> {
    await ensureDir(path.dirname(this.keyringPath));
    const master = randomBytes(32);
    const masters = new Map([['v1', master]]);
    const base: KeyringFile = {
      format: 1,
      keyId: MASTER_KEY_ID,
      current: 'v1',
      masterKeys: { v1: master.toString('base64') },
      pseudonymKeys: {},
    };
    const file = withPseudonymKeys(base, masters);
    // Exclusive create: two processes starting at once end up with one keyring (the loser re-reads).
    const created = await createFileExclusive(this.keyringPath, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    if (created) await chmod(this.keyringPath, 0o600).catch(() => undefined);
  }

  /** Read-modify-write of the keyring under its lock. */
  private async update(change: (file: KeyringFile, masters: ReadonlyMap<string, Buffer>) => KeyringFile): Promise<LoadedKeyring> {
    await this.ring();
    await withFileLock(this.lockPath, async () => {
      const ring = await this.ring(true);
      let next = change(ring.file, ring.masters);
      const masters = new Map(Object.entries(next.masterKeys).map(([v, k]) => [v, Buffer.from(k, 'base64')] as const));
      next = withPseudonymKeys(next, masters);
      await atomicWriteFile(this.keyringPath, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    });
    return this.ring(true);
  }

  private parse(text: Buffer, stamp: string): LoadedKeyring {
    let file: KeyringFile;
    try {
      file = JSON.parse(text.toString('utf8')) as KeyringFile;
    } catch {
      throw new KeyError('keyring file is not valid JSON', { file: this.keyringPath, rule: 'keyring-format' });
    }
    const masters = new Map<string, Buffer>();
    const valid =
      file !== null &&
      typeof file === 'object' &&
      file.format === 1 &&
      typeof file.keyId === 'string' &&
      typeof file.current === 'string' &&
      typeof file.masterKeys === 'object' &&
      file.masterKeys !== null &&
      typeof file.pseudonymKeys === 'object' &&
      file.pseudonymKeys !== null;
    if (valid) {
      for (const [version, b64] of Object.entries(file.masterKeys)) {
        const key = typeof b64 === 'string' ? Buffer.from(b64, 'base64') : Buffer.alloc(0);
        if (!VERSION_RE.test(version) || key.length !== 32)
          throw new KeyError('keyring holds an invalid master key entry', {
            file: this.keyringPath,
            rule: 'keyring-format',
            version: VERSION_RE.test(version) ? version : '?',
          });
        masters.set(version, key);
      }
    }
    if (!valid || !masters.has(file.current))
      throw new KeyError('keyring file has an unexpected structure', { file: this.keyringPath, rule: 'keyring-format' });
    return { file, masters, stamp };
  }
}

/** Adds missing pseudonym keys and (re-)wraps all of them under the current master version. */
function withPseudonymKeys(file: KeyringFile, masters: ReadonlyMap<string, Buffer>): KeyringFile {
  const ring: LoadedKeyring = { file, masters, stamp: '' };
  const pseudonymKeys: Record<string, { keyId: string; version: string; wrapped: string }> = {};
  for (const purpose of PSEUDONYM_PURPOSES) {
    const existing = file.pseudonymKeys[purpose];
    const keyId = existing?.keyId ?? `local/${purpose}`;
    const version = existing?.version ?? 'v1';
    const ctx = pseudonymContext(purpose, keyId, version);
    let material: Buffer;
    if (existing === undefined) material = randomBytes(32);
    else {
      const parsed = parseBlob(Buffer.from(existing.wrapped, 'base64'));
      const master = parsed && masters.get(parsed.version);
      if (parsed === undefined || master === undefined)
        throw new KeyError('pseudonym key is wrapped under an unknown master version', { keyId });
      if (parsed.version === file.current) {
        pseudonymKeys[purpose] = { keyId, version, wrapped: existing.wrapped };
        continue;
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', master, parsed.iv);
        decipher.setAAD(aad(file.keyId, parsed.version, ctx));
        decipher.setAuthTag(parsed.tag);
        material = Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]);
      } catch {
        throw new KeyError('pseudonym key failed authentication', { keyId, version });
      }
    }
    pseudonymKeys[purpose] = { keyId, version, wrapped: Buffer.from(wrap(ring, file.current, material, ctx)).toString('base64') };
    material.fill(0);
  }
  return { ...file, pseudonymKeys };
}

function pseudonymContext(purpose: PseudonymPurpose, keyId: string, version: string): EncryptionContext {
  return { purpose, keyId, version };
}

function aad(keyId: string, version: string, context: EncryptionContext): Buffer {
  return Buffer.from(`${AAD_PREFIX}${keyId}\0${version}\0${contextJson(context)}`, 'utf8');
}

function contextJson(context: EncryptionContext): string {
  if (context === null || typeof context !== 'object' || Array.isArray(context))
    throw new UsageError('encryption context must be an object of strings', { rule: 'encryption-context' });
  for (const value of Object.values(context)) {
    if (typeof value !== 'string') throw new UsageError('encryption context values must be strings', { rule: 'encryption-context' });
  }
  return canonicalJson(context);
}

function wrap(ring: LoadedKeyring, version: string, plaintext: Uint8Array, context: EncryptionContext): Uint8Array {
  const master = ring.masters.get(version);
  if (master === undefined) throw new KeyError('unknown master key version', { keyId: ring.file.keyId, version });
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', master, iv);
  cipher.setAAD(aad(ring.file.keyId, version, context));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const v = Buffer.from(version, 'ascii');
  return new Uint8Array(Buffer.concat([Buffer.from(MAGIC), Buffer.from([v.length]), v, iv, ct, cipher.getAuthTag()]));
}

function parseBlob(blob: Uint8Array): { version: string; iv: Buffer; ciphertext: Buffer; tag: Buffer } | undefined {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (b.length < 4 || b[0] !== MAGIC[0] || b[1] !== MAGIC[1] || b[2] !== MAGIC[2]) return undefined;
  const vlen = b[3] as number;
  const start = 4 + vlen;
  if (b.length < start + 12 + 16) return undefined;
  const version = b.subarray(4, start).toString('ascii');
  if (!VERSION_RE.test(version)) return undefined;
  return { version, iv: b.subarray(start, start + 12), ciphertext: b.subarray(start + 12, b.length - 16), tag: b.subarray(b.length - 16) };
}

function failure(what: 'key' | 'payload', message: string, context: Record<string, unknown>): Error {
  return what === 'key'
    ? new KeyError(`data key could not be unwrapped: ${message}`, context)
    : new IntegrityError(`payload could not be decrypted: ${message}`, context);
}
