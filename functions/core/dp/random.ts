/**
 * Exact random helpers over the RandomSource port: uniform integers by rejection sampling and
 * Bernoulli trials with rational probabilities. No floating point touches a random draw.
 */
import { createCipheriv, createHash, randomFillSync } from 'node:crypto';
import type { RandomSource } from '../ports.ts';
import { bitLength } from './rational.ts';

const REFILL = 256;

/**
 * Buffers a source's bytes so the samplers' many small draws do not each cross the port.
 * One reader per source (WeakMap), so a seeded source still yields one deterministic stream.
 */
class ByteReader {
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  constructor(private readonly source: RandomSource) {}

  uint32(): number {
    if (this.pos + 4 > this.buf.length) this.refill();
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return ((b[p] as number) * 0x1000000 + (((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number))) >>> 0;
  }

  private refill(): void {
    const fresh = this.source.bytes(REFILL);
    if (fresh.length < REFILL) throw new RangeError('RandomSource returned fewer bytes than requested');
    this.buf = fresh;
    this.pos = 0;
  }
}

const readers = new WeakMap<RandomSource, ByteReader>();

function reader(rng: RandomSource): ByteReader {
  let r = readers.get(rng);
  if (r === undefined) {
    r = new ByteReader(rng);
    readers.set(rng, r);
  }
  return r;
}

const TWO_32 = 0x1_0000_0000;

/** Uniform integer in [0, n) for 1 <= n <= 2^32, by masking and rejection (no modulo bias). */
export function uniformInt(n: number, rng: RandomSource): number {
  if (!Number.isInteger(n) || n < 1 || n > TWO_32) throw new RangeError('uniformInt: n must be an integer in [1, 2^32]');
  if (n === 1) return 0;
  const r = reader(rng);
  const mask = n === TWO_32 ? 0xffffffff : 0xffffffff >>> Math.clz32(n - 1);
  for (;;) {
    const x = (r.uint32() & mask) >>> 0;
    if (x < n) return x;
  }
}

/** Uniform BigInt in [0, n) for n >= 1, by rejection sampling on the bit length of n - 1. */
export function uniformBigInt(n: bigint, rng: RandomSource): bigint {
  if (n < 1n) throw new RangeError('uniformBigInt: n must be >= 1');
  if (n <= BigInt(TWO_32)) return BigInt(uniformInt(Number(n), rng));
  const r = reader(rng);
  const bits = bitLength(n - 1n);
  const words = Math.ceil(bits / 32);
  const topBits = bits - 32 * (words - 1);
  const topMask = topBits === 32 ? 0xffffffff : (1 << topBits) - 1;
  for (;;) {
    let x = BigInt((r.uint32() & topMask) >>> 0);
    for (let i = 1; i < words; i++) x = (x << 32n) | BigInt(r.uint32());
    if (x < n) return x;
  }
}

/** Bernoulli(num/den), exactly, for 0 <= num/den <= 1 (values outside are clamped). */
export function bernoulliRational(num: bigint, den: bigint, rng: RandomSource): boolean {
  if (den <= 0n) throw new RangeError('bernoulliRational: den must be positive');
  if (num <= 0n) return false;
  if (num >= den) return true;
  return uniformBigInt(den, rng) < num;
}

/**
 * A deterministic RandomSource for tests: the ChaCha20 keystream under sha256(seed).
 * Never use it in production: anyone who knows the seed knows the noise.
 */
export function createSeededRandom(seed: string | number): RandomSource {
  const key = createHash('sha256')
    .update(`privacy-pipeline/seeded-random\0${typeof seed}\0${String(seed)}`)
    .digest();
  // Node's chacha20 takes a 16-byte IV: 4-byte block counter then 12-byte nonce, all zero here.
  const cipher = createCipheriv('chacha20', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(4096);
  let pool = new Uint8Array(0);
  let pos = 0;
  return {
    bytes(n: number): Uint8Array {
      const out = new Uint8Array(n);
      let filled = 0;
      while (filled < n) {
        if (pos >= pool.length) {
          pool = cipher.update(zeros);
          pos = 0;
        }
        const take = Math.min(n - filled, pool.length - pos);
        out.set(pool.subarray(pos, pos + take), filled);
        pos += take;
        filled += take;
      }
      return out;
    },
  };
}

const cryptoPool = new Uint8Array(4096);
let cryptoPos = cryptoPool.length;

/** The production RandomSource: node:crypto's CSPRNG, drawn in 4 KiB batches. */
export const cryptoRandom: RandomSource = {
  bytes(n: number): Uint8Array {
    if (n > cryptoPool.length) return randomFillSync(new Uint8Array(n));
    if (cryptoPos + n > cryptoPool.length) {
      randomFillSync(cryptoPool);
      cryptoPos = 0;
    }
    const out = cryptoPool.slice(cryptoPos, cryptoPos + n);
    // Wipe what was handed out so the pool never serves the same bytes twice.
    cryptoPool.fill(0, cryptoPos, cryptoPos + n);
    cryptoPos += n;
    return out;
  },
};
