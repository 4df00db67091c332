/**
 * Ports: what the core needs from outside. Adapters implement them for AWS
 * (functions/adapters/aws) and for the embedded local mode (functions/adapters/local).
 */
import type { BucketRole, EncryptionContext, KeyRef } from './types.ts';

// ---------------------------------------------------------------- objects

export interface ObjectInfo {
  readonly bucket: BucketRole;
  readonly key: string;
  readonly size: number;
  /** Opaque change tag (S3 ETag; local: sha256 of the plaintext). */
  readonly etag: string;
  /** Version id where the store keeps versions. */
  readonly versionId?: string;
  readonly lastModified: Date;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface ObjectVersionInfo extends ObjectInfo {
  readonly isLatest: boolean;
  readonly isDeleteMarker: boolean;
}

export interface PutOptions {
  readonly contentType?: string;
  /** Non-sensitive metadata only (never PII). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Bound to the object's encryption (KMS encryption context / AES-GCM associated data). */
  readonly encryptionContext?: EncryptionContext;
  /** Write only if the current object still has this ETag (optimistic concurrency). */
  readonly ifMatch?: string;
  /** Write only if no object exists at the key. */
  readonly ifNoneMatch?: '*';
}

export type Body = AsyncIterable<Uint8Array> | Uint8Array;

/**
 * An S3-like object store. Every write is atomic: a reader sees the old object or the new one,
 * never a part. Stores that keep versions return versionId on put.
 */
export interface ObjectStore {
  /** Throws ObjectNotFoundError when absent. */
  get(bucket: BucketRole, key: string, opts?: { versionId?: string }): Promise<{ info: ObjectInfo; body: AsyncIterable<Uint8Array> }>;
  head(bucket: BucketRole, key: string): Promise<ObjectInfo | undefined>;
  /** Throws PreconditionFailedError when ifMatch/ifNoneMatch does not hold. */
  put(bucket: BucketRole, key: string, body: Body, opts?: PutOptions): Promise<ObjectInfo>;
  /** Current objects under a prefix, in key order. */
  list(bucket: BucketRole, prefix: string): AsyncIterable<ObjectInfo>;
  /** All versions (including noncurrent ones and delete markers) under a prefix. */
  listVersions(bucket: BucketRole, prefix: string): AsyncIterable<ObjectVersionInfo>;
  /** Without versionId: a delete marker (or plain delete in unversioned stores). With it: that version is gone for good. */
  delete(bucket: BucketRole, key: string, opts?: { versionId?: string }): Promise<void>;
  /**
   * Bytes [start, end) of the object (end exclusive, clamped to its size; the size is in
   * `head`), without reading the rest: Parquet footers and row groups, chunks of parallel runs.
   * Optional: without it, readers fall back to `get`. Throws ObjectNotFoundError when absent.
   */
  readRange?(bucket: BucketRole, key: string, start: number, end: number, opts?: { versionId?: string }): Promise<Uint8Array>;
}

// ---------------------------------------------------------------- keys

export interface DataKey {
  readonly plaintext: Uint8Array;
  readonly wrapped: Uint8Array;
  readonly ref: KeyRef;
}

export interface SecretKey {
  readonly material: Uint8Array;
  readonly ref: KeyRef;
}

/**
 * Mirrors the KMS operations the pipeline uses. Key material leaves only as a return value,
 * never in errors or logs.
 */
export interface KeyService {
  /** A fresh 256-bit data key, plaintext and wrapped under the current master key version. */
  generateDataKey(context: EncryptionContext): Promise<DataKey>;
  /** Unwraps a data key; the context must match the one used to wrap it. */
  decryptDataKey(wrapped: Uint8Array, context: EncryptionContext): Promise<Uint8Array>;
  /** Encrypts a small payload (at most 4 KiB) directly under the master key. */
  encrypt(plaintext: Uint8Array, context: EncryptionContext): Promise<Uint8Array>;
  decrypt(ciphertext: Uint8Array, context: EncryptionContext): Promise<Uint8Array>;
  /**
   * The long-lived pseudonymisation key for a purpose, kept wrapped by the master key and
   * unwrapped once per process. Its version does not change on master-key rotation, so
   * pseudonyms stay stable.
   */
  pseudonymKey(purpose: 'token-hmac' | 'token-siv'): Promise<SecretKey>;
  /** The master key version that wraps new data keys, for lineage (id and version only). */
  describeDataKey?(): Promise<KeyRef>;
}

/**
 * Per-subject keys for crypto-shredding of reversible tokens: deleting a subject's key makes
 * every reversible token of that subject undecryptable.
 */
export interface SubjectKeyVault {
  /** Returns the subject's key, creating it atomically on first use. */
  getOrCreate(subjectRef: string): Promise<Uint8Array>;
  /** Undefined when the key was shredded or never existed. */
  get(subjectRef: string): Promise<Uint8Array | undefined>;
  shred(subjectRef: string): Promise<boolean>;
}

// ---------------------------------------------------------------- lineage

/** A lineage record. `kind` says which; every record is JSON and never holds a PII value. */
export interface LineageRecordBase {
  readonly id: string;
  readonly kind: 'run' | 'release' | 'erasure' | 'reidentification' | 'rekey' | 'sweep';
  readonly dataset: string;
  /** ISO-8601. */
  readonly at: string;
}

export type LineageRecord = LineageRecordBase & Readonly<Record<string, unknown>>;

/** Append-only lineage. Safe when several processes write at once. */
export interface LineageStore {
  /** Appends; throws ConflictError when a record with that id exists. */
  append(record: LineageRecord): Promise<void>;
  get(id: string): Promise<LineageRecord | undefined>;
  /** Records in append order, optionally filtered. */
  list(filter?: { dataset?: string; kind?: LineageRecord['kind'] }): AsyncIterable<LineageRecord>;
}

/** Idempotency claims (Powertools-style): one owner at a time, a completed claim answers retries. */
export type ClaimResult =
  | { readonly status: 'claimed' }
  | { readonly status: 'in-progress'; readonly owner: string; readonly expiresAt: string }
  | { readonly status: 'completed'; readonly result: Readonly<Record<string, unknown>> };

export interface IdempotencyStore {
  /** Claims `key` for `owner` until now + ttlMs; an expired in-progress claim is taken over. */
  claim(key: string, owner: string, ttlMs: number): Promise<ClaimResult>;
  complete(key: string, owner: string, result: Readonly<Record<string, unknown>>): Promise<void>;
  /** Drops an in-progress claim so a retry can run (after a permanent failure was recorded). */
  release(key: string, owner: string): Promise<void>;
}

// ---------------------------------------------------------------- privacy budget

export interface BudgetAmount {
  readonly epsilon: number;
  readonly delta: number;
}

export interface BudgetState {
  readonly dataset: string;
  readonly total: BudgetAmount;
  readonly spent: BudgetAmount;
  readonly remaining: BudgetAmount;
}

/**
 * Per-dataset privacy budget. `spend` is atomic: with N concurrent callers the sum spent never
 * exceeds the total. Throws PrivacyBudgetExceededError (requested, remaining) and spends nothing.
 */
export interface BudgetLedger {
  spend(dataset: string, amount: BudgetAmount, total: BudgetAmount, releaseId: string): Promise<BudgetState>;
  get(dataset: string, total: BudgetAmount): Promise<BudgetState>;
}

// ---------------------------------------------------------------- erasure keep-out list

/** Tokens of erased subjects. Ingest drops rows that carry any of them. */
export interface SuppressionList {
  add(tokens: readonly string[], requestId: string): Promise<void>;
  /** The full set; small (one entry per erased identifier), loaded once per run. */
  all(): Promise<ReadonlySet<string>>;
}

// ---------------------------------------------------------------- contracts

export interface ContractStore {
  /** The contract text (YAML or JSON) for a dataset, or undefined. */
  get(dataset: string): Promise<{ text: string; source: string } | undefined>;
  put(dataset: string, text: string): Promise<void>;
}

// ---------------------------------------------------------------- randomness and time

export interface RandomSource {
  /** Cryptographically strong in production; seeded in tests. */
  bytes(n: number): Uint8Array;
}

export interface Clock {
  now(): Date;
}

/** Structured logger port. Callers must never pass PII; see core/redaction. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Everything the core's use cases need, composed by an entry point. */
export interface Ports {
  readonly objects: ObjectStore;
  readonly keys: KeyService;
  readonly subjectKeys: SubjectKeyVault;
  readonly lineage: LineageStore;
  readonly idempotency: IdempotencyStore;
  readonly budget: BudgetLedger;
  readonly suppression: SuppressionList;
  readonly contracts: ContractStore;
  readonly random: RandomSource;
  readonly clock: Clock;
  readonly logger: Logger;
}
