import { describe, expect, it } from 'vitest';
import { chiSquareGoodnessOfFit, chiSquarePValue, gammaP, gammaQ, lnGamma, varianceZScore } from './stats.ts';

// Reference values from scipy.special / scipy.stats (chi2.isf, gammainc, gammaincc, gammaln).
describe('incomplete gamma and chi-square p-values', () => {
  it.each([
    [0.5, 0.5723649429247],
    [1, 0],
    [5, Math.log(24)],
    [100.5, 361.43554046777757],
  ])('lnGamma(%d)', (x, want) => {
    expect(lnGamma(x)).toBeCloseTo(want, 10);
  });

  it.each([
    ['Q', 0.5, 0.1, 0.6547208460185768],
    ['P', 3.5, 2.0, 0.22022259152428406],
    ['Q', 50, 80, 0.0001307839765914092],
    ['P', 1, 2, 1 - Math.exp(-2)],
  ] as const)('%s(%d, %d)', (which, a, x, want) => {
    const got = which === 'Q' ? gammaQ(a, x) : gammaP(a, x);
    expect(Math.abs(got - want) / want).toBeLessThan(1e-9);
  });

  it.each([
    [3.841458820694124, 1, 0.05],
    [23.928126976934827, 1, 1e-6],
    [27.631021115928547, 2, 1e-6],
    [1.1454762260617697, 5, 0.95],
    [18.30703805327515, 10, 0.05],
    [82.04414313704284, 30, 1e-6],
    [124.34211340400408, 100, 0.05],
  ])('chi-square %d with df %d has p = %d', (stat, df, p) => {
    expect(Math.abs(chiSquarePValue(stat, df) - p) / p).toBeLessThan(1e-8);
  });

  it('P + Q = 1 across both branches', () => {
    for (const [a, x] of [
      [2, 1],
      [2, 5],
      [10, 9],
      [10, 12],
      [0.5, 30],
    ] as const) {
      expect(gammaP(a, x) + gammaQ(a, x)).toBeCloseTo(1, 12);
    }
  });
});

describe('goodness-of-fit helpers', () => {
  // A fair die on 0..5, hand-built counts (n = 600).
  const die = (x: number): number => (x >= 0 && x <= 5 ? 1 / 6 : 0);
  const fromCounts = (counts: number[]): number[] => counts.flatMap((c, x) => Array<number>(c).fill(x));

  it('accepts counts close to uniform and computes the textbook statistic', () => {
    const r = chiSquareGoodnessOfFit(fromCounts([95, 105, 100, 98, 102, 100]), die, 2);
    // (25 + 25 + 0 + 4 + 4 + 0) / 100
    expect(r.statistic).toBeCloseTo(0.58, 12);
    expect(r.df).toBe(5);
    expect(r.pValue).toBeGreaterThan(0.9);
  });

  it('rejects a loaded die at p < 1e-6', () => {
    const r = chiSquareGoodnessOfFit(fromCounts([160, 88, 88, 88, 88, 88]), die, 2);
    expect(r.pValue).toBeLessThan(1e-6);
  });

  it('variance z-score is near 0 for an exact sample and large for a wrong one', () => {
    // Binomial(2, 1/2): variance 1/2, fourth central moment 1/2.
    const binom = (x: number): number => [0.25, 0.5, 0.25][x] ?? 0;
    expect(Math.abs(varianceZScore(fromCounts([250, 500, 250]), binom, 1).z)).toBeLessThan(1e-9);
    // Too many values at the ends inflate the variance; too few deflate it.
    expect(varianceZScore(fromCounts([350, 300, 350]), binom, 1).z).toBeGreaterThan(5);
    expect(varianceZScore(fromCounts([150, 700, 150]), binom, 1).z).toBeLessThan(-5);
  });
});
