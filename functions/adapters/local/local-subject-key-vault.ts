/**
 * Per-subject keys for crypto-shredding, one file per subject in `<home>/subject-keys/`:
 * `<sha256(subjectRef)>.key` holds the subject's 32-byte key wrapped by the key service with
 * the context `{ purpose: 'subject-key', subject: <that hash> }` (so a key file renamed to
 * another subject fails to unwrap). Creation is an exclusive create, so two processes racing on
 * a new subject end up with the same key. `shred` overwrites the file and unlinks it; the
 * reversible tokens of that subject can then never be decrypted again. subjectRef is expected
 * to be a pseudonym, not a raw identifier.
 *
 * Only `getOrCreate` (the ingest path) serves keys from memory; `get` (re-identification) reads
 * the file every time, so a key shredded by another process or another vault object is never
 * served there.
 */
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { IntegrityError, UsageError } from '../../core/errors.ts';
import type { KeyService, SubjectKeyVault } from '../../core/ports.ts';
import { createFileExclusive, overwriteAndUnlink, readFileIfExists } from './fs-utils.ts';

/** Options of the subject key vault. */
export interface LocalSubjectKeyVaultOptions {
  /** Unwrapped keys kept in memory (ingest asks once per row). @default 10000 */
  readonly cacheSize?: number;
}

/** Subject keys wrapped by the local key service. */
export class LocalSubjectKeyVault implements SubjectKeyVault {
  readonly dir: string;
  private readonly cache = new Map<string, Uint8Array>();
  private readonly cacheSize: number;

  constructor(
    home: string,
    private readonly keys: KeyService,
    opts: LocalSubjectKeyVaultOptions = {},
  ) {
    this.dir = path.join(home, 'subject-keys');
    this.cacheSize = opts.cacheSize ?? 10_000;
  }

  async getOrCreate(subjectRef: string): Promise<Uint8Array> {
    const id = subjectId(subjectRef);
    const cached = this.cache.get(id);
    if (cached !== undefined) return new Uint8Array(cached);
    const existing = await this.get(subjectRef);
    if (existing !== undefined) return this.remember(id, existing);
    const key = randomBytes(32);
    const wrapped = await this.keys.encrypt(key, context(id));
    key.fill(0);
    // Exclusive create: when another process won the race, its key is the subject's key.
    await createFileExclusive(this.file(id), wrapped);
    const stored = await this.get(subjectRef);
    if (stored === undefined)
      throw new UsageError('subject key vanished while being created (shredded concurrently)', { rule: 'subject-key' });
    return this.remember(id, stored);
  }

  async get(subjectRef: string): Promise<Uint8Array | undefined> {
    const id = subjectId(subjectRef);
    const wrapped = await readFileIfExists(this.file(id));
    if (wrapped === undefined) return undefined;
    const key = await this.keys.decrypt(wrapped, context(id));
    if (key.length !== 32) throw new IntegrityError('subject key file is corrupt', { rule: 'subject-key' });
    return key;
  }

  /** Keeps a copy for getOrCreate (oldest evicted first) and returns the key. */
  private remember(id: string, key: Uint8Array): Uint8Array {
    if (this.cacheSize <= 0) return key;
    if (this.cache.size >= this.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) {
        this.cache.get(oldest)?.fill(0);
        this.cache.delete(oldest);
      }
    }
    this.cache.set(id, new Uint8Array(key));
    return key;
  }

  async shred(subjectRef: string): Promise<boolean> {
    const id = subjectId(subjectRef);
    this.cache.get(id)?.fill(0);
    this.cache.delete(id);
    return overwriteAndUnlink(this.file(id));
  }

  private file(id: string): string {
    return path.join(this.dir, `${id}.key`);
  }
}

function subjectId(subjectRef: string): string {
  if (typeof subjectRef !== 'string' || subjectRef.length === 0)
    throw new UsageError('subjectRef must be a non-empty string', { rule: 'subject-ref' });
  return createHash('sha256').update('privacy-pipeline/subject-key\0').update(subjectRef, 'utf8').digest('hex');
}

function context(id: string): Record<string, string> {
  return { purpose: 'subject-key', subject: id };
}
