/**
 * Compact per-object index of the subject tokens an object holds, so erasure tests small indexes
 * and reads only the candidate objects. No false negatives; false positives at a configured rate.
 *
 * Structure: a Golomb-Rice coded set (GCS). Each distinct token is hashed to 53 bits and mapped to
 * a fingerprint in [0, n·2^k) with k = ceil(log2(1/p)); the fingerprints are sorted, delta coded
 * with a Rice code of parameter k, and cut into blocks of 128 behind a block index (first value and
 * bit offset), so a query binary-searches the index and decodes one block. A query of an absent
 * token matches with probability about 2^-k ≤ p.
 *
 * Why not a Bloom filter: measured on 1e4 and 1e6 HMAC tokens at p = 1e-4 (Node 20, one core),
 *   Bloom filter (k = 13 probes)        19.2 bits/token   2.3 MiB per 1e6   build  97 ms per 1e6
 *   sorted 64-bit hashes                64.0 bits/token   7.6 MiB per 1e6   build  83 ms per 1e6
 *   GCS (this; real FP rate 6.1e-5)     16.2 bits/token   1.9 MiB per 1e6   build  95 ms per 1e6
 *   (at 1e4 tokens: Bloom 23.4 KiB / 1.0 ms, sorted 64-bit 78.1 KiB / 0.5 ms, GCS 19.8 KiB / 0.9 ms)
 * Build times exclude `add` (hash + dedup table, 190-290 ns per token). The GCS is ~15% smaller
 * than a Bloom filter with a lower real false-positive rate, builds as fast (bucket sort of the
 * uniform fingerprints, 2x faster than TypedArray#sort), and is deterministic for a given set
 * whatever the insertion order. Query cost (decoding ≤ 128 entries, ~3.5 µs vs ~0.1 µs for a
 * Bloom filter) does not matter: erasure tests a handful of tokens per index.
 *
 * Byte layout v1 (little-endian):
 *   0  "PPSI"  4  version=1  5  structure=1 (GCS)  6  hash=1 (murmur3-style x2 over UTF-16, 53 bits)
 *   7  k   8  n (u32)   12 block size (u32)   16 block count (u32)   20 crc32 of all other bytes (u32)
 *   24 block index: per block f64 first fingerprint + u32 bit offset   then the Rice bit stream.
 * The checksum matters: a flipped bit could otherwise turn into a silent false negative.
 */
import { crc32 } from 'node:zlib';
import { InvalidFileError, UsageError } from '../errors.ts';

const MAGIC = [0x50, 0x50, 0x53, 0x49] as const; // "PPSI"
const FORMAT_VERSION = 1;
const STRUCTURE_GCS = 1;
const HASH_MURMUR53 = 1;
const HEADER_BYTES = 24;
const BLOCK = 128;
const INDEX_ENTRY_BYTES = 12;
const TWO_POW_21 = 2 ** 21;
const TWO_POW_53 = 2 ** 53;
const MIN_RATE = 2 ** -24;
/** n·2^k must stay below 2^53 and bit offsets below 2^32. */
const MAX_TOKENS = 2 ** 27;

export const DEFAULT_SUBJECT_INDEX_FALSE_POSITIVE_RATE = 1e-4;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * 53-bit hash of a token (two murmur3-style lanes over UTF-16 code units, two units per round).
 * Tokens are keyed HMAC outputs an attacker cannot choose, so a fast non-cryptographic hash is
 * enough; part of the serialized format (hash id 1), so it must never change.
 */
function tokenHash53(s: string): number {
  const n = s.length;
  let h1 = 0x9747b28c ^ n;
  let h2 = 0x5bd1e995 ^ n;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    let k = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h1 ^= k;
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    h2 ^= Math.imul(k, 0x85ebca6b);
    h2 = (h2 << 17) | (h2 >>> 15);
    h2 = (Math.imul(h2, 5) + 0x38b34ae5) | 0;
  }
  if (i < n) {
    let k = Math.imul(s.charCodeAt(i), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h1 ^= k;
    h2 ^= Math.imul(k, 0x85ebca6b);
  }
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  return (h1 >>> 0) * TWO_POW_21 + (h2 >>> 11);
}

/** Fingerprint in [0, n·2^k): exact IEEE arithmetic, so build and query always agree. */
function fingerprint(h: number, range: number): number {
  return Math.floor((h / TWO_POW_53) * range);
}

function riceParameter(falsePositiveRate: number): number {
  return Math.ceil(Math.log2(1 / falsePositiveRate));
}

/** Collects the distinct subject tokens of one object while it is written, then serializes the index. */
export class SubjectIndexBuilder {
  readonly falsePositiveRate: number;
  /** Open addressing over hash+1 (0 = empty slot): memory follows the distinct count, not the rows. */
  private table = new Float64Array(1024);
  private mask = 1023;
  private size = 0;

  constructor(opts?: { falsePositiveRate?: number }) {
    const p = opts?.falsePositiveRate ?? DEFAULT_SUBJECT_INDEX_FALSE_POSITIVE_RATE;
    if (!(p >= MIN_RATE && p <= 0.5)) {
      throw new UsageError(`subject index false-positive rate must be between 2^-24 and 0.5, got ${p}`, { rule: 'subject-index-rate' });
    }
    this.falsePositiveRate = p;
  }

  /** Adds one token (idempotent). */
  add(token: string): void {
    this.insert(tokenHash53(token) + 1);
  }

  /** Number of distinct tokens added. */
  get count(): number {
    return this.size;
  }

  /** Adds every token of another builder (e.g. the chunks of a parallel run). */
  merge(other: SubjectIndexBuilder): void {
    this.mergeState(other.table);
  }

  /** The distinct token hashes, to move a partial index between threads or processes (8 bytes a token). */
  toState(): Float64Array {
    const out = new Float64Array(this.size);
    let k = 0;
    for (let i = 0; i < this.table.length; i++) {
      const v = this.table[i] as number;
      if (v !== 0) out[k++] = v;
    }
    return out;
  }

  /** Adds the hashes of another builder's toState(). */
  mergeState(hashes: Float64Array): void {
    for (let i = 0; i < hashes.length; i++) {
      const v = hashes[i] as number;
      if (v !== 0) this.insert(v);
    }
  }

  /** The serialized index: self-describing, versioned, checksummed; identical for identical sets. */
  finish(): Uint8Array {
    const n = this.size;
    if (n > MAX_TOKENS) {
      throw new UsageError(`subject index holds ${n} tokens, more than the ${MAX_TOKENS} one index supports`, {
        rule: 'subject-index-size',
      });
    }
    const k = riceParameter(this.falsePositiveRate);
    const range = n * 2 ** k;
    const fps = new Float64Array(n);
    let j = 0;
    for (let i = 0; i < this.table.length; i++) {
      const v = this.table[i] as number;
      if (v !== 0) fps[j++] = fingerprint(v - 1, range);
    }
    const sorted = sortUniform(fps, range);

    const blocks = Math.ceil(n / BLOCK);
    const indexBytes = blocks * INDEX_ENTRY_BYTES;
    // Rice code of a gap: q = gap >> k zeros, a one, then k remainder bits. Mean gap is 2^k.
    const writer = new BitWriter(Math.ceil((n * (k + 3)) / 8) + 8);
    const index = new DataView(new ArrayBuffer(indexBytes));
    const pow = 2 ** k;
    let prev = 0;
    for (let i = 0; i < n; i++) {
      const v = sorted[i] as number;
      if (i % BLOCK === 0) {
        const e = (i / BLOCK) * INDEX_ENTRY_BYTES;
        index.setFloat64(e, v, true);
        if (writer.bitLength >= 2 ** 32) throw new UsageError('subject index stream exceeds 4 Gbit', { rule: 'subject-index-size' });
        index.setUint32(e + 8, writer.bitLength, true);
      } else {
        const gap = v - prev;
        const q = Math.floor(gap / pow);
        writer.unary(q);
        writer.bits(gap - q * pow, k);
      }
      prev = v;
    }
    const stream = writer.finish();

    const out = new Uint8Array(HEADER_BYTES + indexBytes + stream.byteLength);
    const view = new DataView(out.buffer);
    out.set(MAGIC, 0);
    out[4] = FORMAT_VERSION;
    out[5] = STRUCTURE_GCS;
    out[6] = HASH_MURMUR53;
    out[7] = k;
    view.setUint32(8, n, true);
    view.setUint32(12, BLOCK, true);
    view.setUint32(16, blocks, true);
    out.set(new Uint8Array(index.buffer), HEADER_BYTES);
    out.set(stream, HEADER_BYTES + indexBytes);
    view.setUint32(20, checksum(out), true);
    return out;
  }

  private insert(v: number): void {
    if ((this.size + 1) * 2 > this.table.length) this.grow();
    const t = this.table;
    let i = slot(v) & this.mask;
    for (;;) {
      const cur = t[i] as number;
      if (cur === 0) {
        t[i] = v;
        this.size++;
        return;
      }
      if (cur === v) return;
      i = (i + 1) & this.mask;
    }
  }

  private grow(): void {
    const old = this.table;
    this.table = new Float64Array(old.length * 2);
    this.mask = this.table.length - 1;
    this.size = 0;
    for (let i = 0; i < old.length; i++) {
      const v = old[i] as number;
      if (v !== 0) this.insert(v);
    }
  }
}

/** crc32 of everything but the checksum field itself: header fields like n or k are covered too. */
function checksum(bytes: Uint8Array): number {
  return crc32(bytes.subarray(HEADER_BYTES), crc32(bytes.subarray(0, 20)));
}

/** Table slot from the stored value (hash+1 < 2^53): mixes the high and low parts. */
function slot(v: number): number {
  const hi = Math.floor(v / TWO_POW_21);
  return fmix32(hi ^ Math.imul(v - hi * TWO_POW_21, 0x9e3779b1));
}

/** Bucket sort for uniform values in [0, range), ~2x faster than TypedArray#sort on 1e6 values. */
function sortUniform(values: Float64Array, range: number): Float64Array {
  const n = values.length;
  if (n < 64) return values.sort();
  const buckets = 2 ** (Math.ceil(Math.log2(n)) - 1);
  const scale = buckets / range;
  const starts = new Uint32Array(buckets + 1);
  for (let i = 0; i < n; i++) (starts[Math.floor((values[i] as number) * scale) + 1] as number)++;
  for (let b = 1; b <= buckets; b++) starts[b] = (starts[b] as number) + (starts[b - 1] as number);
  const pos = starts.slice(0, buckets);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    const b = Math.floor(v * scale);
    out[pos[b] as number] = v;
    pos[b] = (pos[b] as number) + 1;
  }
  for (let b = 0; b < buckets; b++) {
    const s = starts[b] as number;
    const e = starts[b + 1] as number;
    if (e - s > 16) {
      out.subarray(s, e).sort(); // guard against a skewed bucket
      continue;
    }
    for (let i = s + 1; i < e; i++) {
      const v = out[i] as number;
      let j = i - 1;
      while (j >= s && (out[j] as number) > v) {
        out[j + 1] = out[j] as number;
        j--;
      }
      out[j + 1] = v;
    }
  }
  return out;
}

/** LSB-first bit writer. */
class BitWriter {
  private buf: Uint8Array;
  private w = 0;
  private acc = 0;
  private used = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }
  get bitLength(): number {
    return this.w * 8 + this.used;
  }
  unary(q: number): void {
    while (q >= 24) {
      this.bits(0, 24);
      q -= 24;
    }
    this.bits(1 << q, q + 1);
  }
  /** Appends the `count` (≤ 25) low bits of `v`. */
  bits(v: number, count: number): void {
    this.acc = (this.acc | (v << this.used)) >>> 0;
    this.used += count;
    while (this.used >= 8) {
      if (this.w === this.buf.length) this.expand();
      this.buf[this.w++] = this.acc & 0xff;
      this.acc >>>= 8;
      this.used -= 8;
    }
  }
  finish(): Uint8Array {
    if (this.used > 0) {
      if (this.w === this.buf.length) this.expand();
      this.buf[this.w++] = this.acc & 0xff;
      this.acc = 0;
      this.used = 0;
    }
    return this.buf.subarray(0, this.w);
  }
  private expand(): void {
    const b = new Uint8Array(this.buf.length * 2 + 8);
    b.set(this.buf);
    this.buf = b;
  }
}

/** A parsed, checksum-verified subject index. */
export interface SubjectIndexReader {
  /** Distinct tokens indexed. */
  readonly count: number;
  /** Upper bound of the false-positive rate of one query (2^-k). */
  readonly falsePositiveRate: number;
  /** False means the token is certainly absent. */
  mayContain(token: string): boolean;
}

function corrupt(rule: string, message: string): InvalidFileError {
  return new InvalidFileError(`not a valid subject index: ${message}`, { rule });
}

/** Parses and verifies a serialized index once, for many queries. Throws InvalidFileError on corrupt or foreign bytes. */
export function readSubjectIndex(bytes: Uint8Array): SubjectIndexReader {
  if (bytes.byteLength < HEADER_BYTES)
    throw corrupt('subject-index-truncated', `${bytes.byteLength} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  if (MAGIC.some((b, i) => bytes[i] !== b)) throw corrupt('subject-index-magic', 'missing the PPSI magic (foreign or encrypted bytes?)');
  if (bytes[4] !== FORMAT_VERSION)
    throw corrupt('subject-index-version', `format version ${bytes[4]} is not supported (expected ${FORMAT_VERSION})`);
  if (bytes[5] !== STRUCTURE_GCS) throw corrupt('subject-index-structure', `structure ${bytes[5]} is not supported`);
  if (bytes[6] !== HASH_MURMUR53) throw corrupt('subject-index-hash', `hash function ${bytes[6]} is not supported`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (checksum(bytes) !== view.getUint32(20, true))
    throw corrupt('subject-index-checksum', 'checksum mismatch (corrupted or truncated bytes)');
  const k = bytes[7] as number;
  const n = view.getUint32(8, true);
  const blockSize = view.getUint32(12, true);
  const blocks = view.getUint32(16, true);
  if (k < 1 || k > 24 || blockSize < 1 || blocks !== Math.ceil(n / blockSize) || n > MAX_TOKENS) {
    throw corrupt('subject-index-header', 'inconsistent header fields');
  }
  const streamStart = HEADER_BYTES + blocks * INDEX_ENTRY_BYTES;
  if (bytes.byteLength < streamStart) throw corrupt('subject-index-truncated', 'the block index is cut short');

  const range = n * 2 ** k;
  const pow = 2 ** k;
  const streamBits = (bytes.byteLength - streamStart) * 8;
  const firstOf = (b: number): number => view.getFloat64(HEADER_BYTES + b * INDEX_ENTRY_BYTES, true);

  const mayContain = (token: string): boolean => {
    if (n === 0) return false;
    const fp = fingerprint(tokenHash53(token), range);
    // Last block whose first fingerprint is ≤ fp.
    let lo = 0;
    let hi = blocks - 1;
    if (fp < firstOf(0)) return false;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (firstOf(mid) <= fp) lo = mid;
      else hi = mid - 1;
    }
    let cur = firstOf(lo);
    if (cur === fp) return true;
    let bit = view.getUint32(HEADER_BYTES + lo * INDEX_ENTRY_BYTES + 8, true);
    const entries = Math.min(blockSize, n - lo * blockSize);
    for (let i = 1; i < entries; i++) {
      let q = 0;
      for (;;) {
        if (bit >= streamBits) throw corrupt('subject-index-truncated', 'the coded stream is cut short');
        const one = ((bytes[streamStart + (bit >>> 3)] as number) >>> (bit & 7)) & 1;
        bit++;
        if (one) break;
        q++;
      }
      if (bit + k > streamBits) throw corrupt('subject-index-truncated', 'the coded stream is cut short');
      let r = 0;
      for (let b = 0; b < k; b++, bit++) r |= (((bytes[streamStart + (bit >>> 3)] as number) >>> (bit & 7)) & 1) << b;
      cur += q * pow + (r >>> 0);
      if (cur === fp) return true;
      if (cur > fp) return false;
    }
    return false;
  };

  return { count: n, falsePositiveRate: 2 ** -k, mayContain };
}

/** True when the index may hold the token; false means certainly absent. */
export function subjectIndexMayContain(index: Uint8Array, token: string): boolean {
  return readSubjectIndex(index).mayContain(token);
}

/** True when the index may hold any of the tokens (parses and verifies the index once). */
export function subjectIndexMayContainAny(index: Uint8Array, tokens: readonly string[]): boolean {
  const reader = readSubjectIndex(index);
  return tokens.some((t) => reader.mayContain(t));
}
