import { describe, expect, it } from 'vitest';
import { Hash64Set, hash64, murmur3 } from '../../../functions/core/quality/hash.ts';
import { HyperLogLog } from '../../../functions/core/quality/hyperloglog.ts';

describe('murmur3', () => {
  // Reference values: MurmurHash3_x86_32 of the UTF-16LE bytes (computed with the canonical C code).
  it.each([
    ['', 0, 0],
    ['', 1, 0x514e28b7],
  ])('%j seed %d', (s, seed, expected) => {
    expect(murmur3(s, seed)).toBe(expected);
  });

  it('matches the byte-oriented reference on UTF-16LE input', () => {
    for (const s of ['a', 'ab', 'abc', 'hello world', 'Zoë 😀']) expect(murmur3(s, 7)).toBe(referenceMurmur3(Buffer.from(s, 'utf16le'), 7));
  });

  it('spreads similar strings', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 100_000; i++) seen.add(murmur3(`id-${i}`));
    expect(seen.size).toBeGreaterThan(99_990);
  });
});

/** Straight transcription of MurmurHash3_x86_32 over bytes. */
function referenceMurmur3(bytes: Buffer, seed: number): number {
  let h = seed >>> 0;
  const nblocks = bytes.length >> 2;
  for (let i = 0; i < nblocks; i++) {
    let k = bytes.readUInt32LE(i * 4);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = nblocks * 4;
  const rem = bytes.length & 3;
  if (rem > 0) {
    let k = 0;
    if (rem === 3) k ^= (bytes[tail + 2] as number) << 16;
    if (rem >= 2) k ^= (bytes[tail + 1] as number) << 8;
    k ^= bytes[tail] as number;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

describe('hash64 and Hash64Set', () => {
  it('no 64-bit collisions among a million similar strings', () => {
    const set = new Hash64Set(16);
    const out = new Int32Array(2);
    let repeats = 0;
    for (let i = 0; i < 1_000_000; i++) {
      hash64(`customer-${i}`, out);
      if (!set.add(out[0] as number, out[1] as number)) repeats++;
    }
    expect(repeats).toBe(0);
    expect(set.size).toBe(1_000_000);
    hash64('customer-123', out);
    expect(set.has(out[0] as number, out[1] as number)).toBe(true);
    expect(set.add(out[0] as number, out[1] as number)).toBe(false);
  });

  it('the two lanes differ and depend on every character', () => {
    const a = new Int32Array(2);
    const b = new Int32Array(2);
    hash64('abcdef', a);
    hash64('abcdeg', b);
    expect(a[0]).not.toBe(a[1]);
    expect(a[0]).not.toBe(b[0]);
    expect(a[1]).not.toBe(b[1]);
    hash64('abcde', a);
    hash64('abcdf', b);
    expect(a[0]).not.toBe(b[0]);
  });

  it('handles the (0, 0) hash', () => {
    const s = new Hash64Set();
    expect(s.add(0, 0)).toBe(true);
    expect(s.has(0, 0)).toBe(true);
    expect(s.add(0, 0)).toBe(false);
  });
});

describe('HyperLogLog (default p = 14)', () => {
  it.each([100_000, 250_000])('within 3%% at %i distinct values', (n) => {
    const hll = new HyperLogLog();
    for (let i = 0; i < n; i++) hll.add(`user-${i}@example.com`);
    for (let i = 0; i < n; i += 3) hll.add(`user-${i}@example.com`); // repeats do not count
    expect(Math.abs(hll.estimate() - n) / n).toBeLessThan(0.03);
  });

  it.each([0, 1, 10, 1000, 5000])('small cardinality %d is near exact (linear counting)', (n) => {
    const hll = new HyperLogLog();
    for (let i = 0; i < n; i++) hll.add(String(i));
    expect(Math.abs(hll.estimate() - n)).toBeLessThanOrEqual(Math.max(1, n * 0.02));
  });

  it('merge equals the sketch of the union; state round-trips', () => {
    const a = new HyperLogLog();
    const b = new HyperLogLog();
    const all = new HyperLogLog();
    for (let i = 0; i < 30_000; i++) {
      (i % 2 ? a : b).add(`v${i}`);
      all.add(`v${i}`);
    }
    for (let i = 0; i < 10_000; i++) a.add(`v${i}`);
    a.merge(b);
    expect(a.registers).toEqual(all.registers);
    const copy = HyperLogLog.fromState(JSON.parse(JSON.stringify(a.toState())));
    expect(copy.estimate()).toBe(a.estimate());
    expect(() => a.merge(new HyperLogLog(10))).toThrow(RangeError);
  });

  it('p = 12 is unbiased with the expected ~1.6% error over many value sets', () => {
    const errors: number[] = [];
    for (let set = 0; set < 20; set++) {
      const hll = new HyperLogLog(12);
      for (let i = 0; i < 20_000; i++) hll.add(`s${set}-${i}`);
      errors.push(hll.estimate() / 20_000 - 1);
    }
    const mean = errors.reduce((a, b) => a + b) / errors.length;
    const rms = Math.sqrt(errors.reduce((a, b) => a + b * b, 0) / errors.length);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(rms).toBeLessThan(0.025);
  });
});
