import { describe, expect, it } from 'vitest';
import { bernoulliRational, createSeededRandom, cryptoRandom, uniformBigInt, uniformInt } from '../../../functions/core/dp/random.ts';
import { chiSquareGoodnessOfFit } from './stats.ts';

describe('createSeededRandom', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = createSeededRandom('s1').bytes(64);
    expect(createSeededRandom('s1').bytes(64)).toEqual(a);
    expect(createSeededRandom('s2').bytes(64)).not.toEqual(a);
    // The number 1 and the string "1" are different seeds.
    expect(createSeededRandom(1).bytes(64)).not.toEqual(createSeededRandom('1').bytes(64));
  });

  it('yields one stream regardless of how reads are split (across 4 KiB refills)', () => {
    const whole = createSeededRandom(7).bytes(10_000);
    const r = createSeededRandom(7);
    const parts = [r.bytes(3), r.bytes(4093), r.bytes(5000), r.bytes(904)];
    expect(Buffer.concat(parts)).toEqual(Buffer.from(whole));
  });
});

describe('cryptoRandom', () => {
  it('returns the requested lengths and fresh bytes', () => {
    for (const n of [0, 1, 31, 4096, 5000]) expect(cryptoRandom.bytes(n)).toHaveLength(n);
    expect(cryptoRandom.bytes(32)).not.toEqual(cryptoRandom.bytes(32));
  });
});

describe('uniform integers', () => {
  it.each([1, 2, 3, 7, 10, 255, 256, 1000])('uniformInt(%d) stays in range and fits uniform (chi-square)', (n) => {
    const rng = createSeededRandom(`uniform-${n}`);
    const draws = Array.from({ length: 20 * Math.max(n, 50) }, () => uniformInt(n, rng));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(n);
    if (n > 1) expect(chiSquareGoodnessOfFit(draws, (x) => (x >= 0 && x < n ? 1 / n : 0), 0).pValue).toBeGreaterThan(1e-6);
  });

  it('uniformInt rejects bad n', () => {
    for (const n of [0, -1, 1.5, 2 ** 32 + 1]) expect(() => uniformInt(n, cryptoRandom)).toThrow(RangeError);
  });

  it('uniformBigInt above 2^32 is uniform over residues and over the top range', () => {
    // n = 3·2^70: low 2 bits (mod 4) uniform, and n-thirds uniform; a biased modulo would fail.
    const n = 3n * 2n ** 70n;
    const rng = createSeededRandom('big');
    const draws = Array.from({ length: 30_000 }, () => uniformBigInt(n, rng));
    for (const d of draws) expect(d >= 0n && d < n).toBe(true);
    const thirds = draws.map((d) => Number((d * 3n) / n));
    expect(chiSquareGoodnessOfFit(thirds, (x) => (x >= 0 && x < 3 ? 1 / 3 : 0), 1).pValue).toBeGreaterThan(1e-6);
    const mod4 = draws.map((d) => Number(d % 4n));
    expect(chiSquareGoodnessOfFit(mod4, (x) => (x >= 0 && x < 4 ? 1 / 4 : 0), 1).pValue).toBeGreaterThan(1e-6);
  });

  it('uniformBigInt handles exact powers of two and 2^32 + 1', () => {
    const rng = createSeededRandom('edges');
    for (const n of [2n ** 32n, 2n ** 32n + 1n, 2n ** 64n, 2n ** 64n + 1n]) {
      for (let i = 0; i < 200; i++) {
        const d = uniformBigInt(n, rng);
        expect(d >= 0n && d < n).toBe(true);
      }
    }
    expect(() => uniformBigInt(0n, rng)).toThrow(RangeError);
  });
});

describe('bernoulliRational', () => {
  it('has the exact success rate (binomial chi-square) for 1/3, 2/7 and a huge denominator', () => {
    for (const [num, den] of [
      [1n, 3n],
      [2n, 7n],
      [2n ** 80n, 3n * 2n ** 80n + 1n],
    ] as const) {
      const rng = createSeededRandom(`bern-${num}/${den}`);
      const draws = Array.from({ length: 20_000 }, () => (bernoulliRational(num, den, rng) ? 1 : 0));
      const p = Number(num) / Number(den);
      expect(chiSquareGoodnessOfFit(draws, (x) => (x === 1 ? p : x === 0 ? 1 - p : 0), 0).pValue).toBeGreaterThan(1e-6);
    }
  });

  it('is certain at 0 and 1 and rejects a non-positive denominator', () => {
    const rng = createSeededRandom('bern-edges');
    expect(bernoulliRational(0n, 5n, rng)).toBe(false);
    expect(bernoulliRational(5n, 5n, rng)).toBe(true);
    expect(() => bernoulliRational(1n, 0n, rng)).toThrow(RangeError);
  });

  it('a wrong rate is detected (the test can fail)', () => {
    const rng = createSeededRandom('bern-wrong');
    const draws = Array.from({ length: 20_000 }, () => (bernoulliRational(1n, 3n, rng) ? 1 : 0));
    expect(chiSquareGoodnessOfFit(draws, (x) => (x === 1 ? 0.36 : x === 0 ? 0.64 : 0), 0).pValue).toBeLessThan(1e-6);
  });
});
