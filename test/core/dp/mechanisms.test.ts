import { describe, expect, it } from 'vitest';
import {
  discreteLaplaceUpperTail,
  epsilonForRho,
  fromGridUnits,
  gaussianNoise,
  laplaceNoise,
  makeGrid,
  makeQuantileBins,
  noiseHalfWidth,
  noiseScale,
  partitionSelectionThreshold,
  quantileBadness,
  quantileBinOf,
  quantileBinValue,
  rhoForEpsilonDelta,
  sampleExponentialMechanism,
  sampleNoise,
  snapToGrid,
  toGridUnits,
} from '../../../functions/core/dp/mechanisms.ts';
import { createSeededRandom } from '../../../functions/core/dp/random.ts';
import { rational, toRational } from '../../../functions/core/dp/rational.ts';
import { chiSquareGoodnessOfFit, Z_1E6 } from './stats.ts';

describe('calibration', () => {
  it('Laplace scale is exactly Δ/ε', () => {
    expect(laplaceNoise(3n, 0.5).param).toEqual({ num: 6n, den: 1n });
    const e = toRational(0.1);
    expect(laplaceNoise(7n, 0.1).param).toEqual(rational(7n * e.den, e.num));
    expect(() => laplaceNoise(0n, 1)).toThrow(RangeError);
    expect(() => laplaceNoise(1n, 0)).toThrow(RangeError);
  });

  it.each([
    [1, 1e-6],
    [0.01, 1e-9],
    [10, 1e-5],
    [0.5, 0.1],
  ])('zCDP: ρ(ε=%d, δ=%d) converts back to ε, and σ² never undershoots', (epsilon, delta) => {
    const rho = rhoForEpsilonDelta(epsilon, delta);
    expect(epsilonForRho(rho, delta)).toBeCloseTo(epsilon, 12);
    const noise = gaussianNoise(4n, epsilon, delta); // Δ2 = 2
    const sigma2 = Number(noise.param.num) / Number(noise.param.den);
    const impliedRho = 4 / (2 * sigma2);
    expect(impliedRho).toBeLessThanOrEqual(rho);
    expect(impliedRho / rho).toBeGreaterThan(1 - 1e-8);
    expect(epsilonForRho(impliedRho, delta)).toBeLessThanOrEqual(epsilon);
  });

  it('a known value: ε = 1, δ = 1e-6 gives ρ ≈ 0.0311 and σ ≈ 4.01 for Δ2 = 1', () => {
    const rho = rhoForEpsilonDelta(1, 1e-6);
    expect(rho).toBeCloseTo((Math.sqrt(Math.log(1e6) + 1) - Math.sqrt(Math.log(1e6))) ** 2, 14);
    expect(noiseScale(gaussianNoise(1n, 1, 1e-6))).toBeCloseTo(Math.sqrt(1 / (2 * rho)), 6);
  });
});

describe('confidence half-widths', () => {
  it.each([0.05, 0.3, 1, 2.5, 40, 2 ** 40])('discrete Laplace scale %d: the smallest h with P(|Z| > h) <= 5%', (t) => {
    const h = noiseHalfWidth({ mechanism: 'discrete-laplace', param: toRational(t) });
    const tailAbove = (x: number): number => 2 * discreteLaplaceUpperTail(t, x + 1);
    expect(tailAbove(h)).toBeLessThanOrEqual(0.05 * (1 + 1e-12));
    if (h > 0) expect(tailAbove(h - 1)).toBeGreaterThan(0.05);
  });

  it.each([0.25, 1, 9, 100, 1e6, 1e10])(
    'discrete Gaussian σ² = %d: the smallest h with P(|Z| > h) <= 5% (exact sum below σ = 1e4)',
    (s2) => {
      const h = noiseHalfWidth({ mechanism: 'discrete-gaussian', param: toRational(s2) });
      const sigma = Math.sqrt(s2);
      if (sigma > 1e4) {
        expect(h / sigma).toBeCloseTo(1.959964, 4);
        return;
      }
      const w = (x: number): number => Math.exp(-(x * x) / (2 * s2));
      let total = 1;
      for (let x = 1; x < 40 * sigma + 40; x++) total += 2 * w(x);
      const inside = (k: number): number => {
        let s = 1;
        for (let x = 1; x <= k; x++) s += 2 * w(x);
        return s / total;
      };
      expect(1 - inside(h)).toBeLessThanOrEqual(0.05);
      if (h > 0) expect(1 - inside(h - 1)).toBeGreaterThan(0.05);
    },
  );

  it('empirical coverage of [v - h, v + h] matches the exact coverage (binomial z-test)', () => {
    const noise = laplaceNoise(1n, 0.7);
    const h = noiseHalfWidth(noise);
    const t = 1 / 0.7;
    const exact = 1 - 2 * discreteLaplaceUpperTail(t, h + 1);
    const rng = createSeededRandom('coverage');
    const n = 20_000;
    let covered = 0;
    for (let i = 0; i < n; i++) {
      const z = sampleNoise(noise, rng);
      if (z >= BigInt(-h) && z <= BigInt(h)) covered++;
    }
    expect(exact).toBeGreaterThanOrEqual(0.95);
    expect(Math.abs((covered / n - exact) / Math.sqrt((exact * (1 - exact)) / n))).toBeLessThan(Z_1E6);
  });
});

describe('the 2^-k grid', () => {
  it.each([
    [[0, 100], false, 33],
    [[-5, 3], false, 37],
    [[0, 1], false, 40],
    [[0, 1024], false, 30],
    [[0, 1025], false, 29],
    [[0, 100], true, 0],
    [[0, 2 ** 60], true, -20],
    [[1e-3, 2e-3], false, 48],
  ] as const)('bounds %o (integer %s) give k = %d and at most 2^40 units', (bounds, integer, k) => {
    const g = makeGrid(bounds, integer);
    expect(g.k).toBe(k);
    expect(g.step).toBe(2 ** -k);
    expect(g.maxUnits).toBeLessThanOrEqual(2 ** 40);
    expect(g.maxUnits).toBe(Math.max(Math.abs(Math.round(bounds[0] * 2 ** k)), Math.abs(Math.round(bounds[1] * 2 ** k))));
  });

  it('clamps, rounds, and maps back to exact multiples of the step', () => {
    const g = makeGrid([0, 10]);
    expect(toGridUnits(-3, g)).toBe(0);
    expect(toGridUnits(99, g)).toBe(10 * 2 ** 36);
    expect(toGridUnits(0.1, g)).toBe(Math.round(0.1 * 2 ** 36));
    const v = fromGridUnits(123456789012345678901234567n, g);
    expect(Number.isInteger(v / g.step)).toBe(true);
    expect(snapToGrid(3.3, g) / g.step).toBe(Math.round(3.3 * 2 ** 36));
    expect(snapToGrid(-1, g)).toBe(0);
    expect(snapToGrid(12, g)).toBe(10);
  });
});

describe('partition selection threshold', () => {
  it('ε = 1, δ = 1e-6, one row per partition: τ = 1 + ceil(ln(1/(δ(1+e^-1)))) = 15', () => {
    expect(partitionSelectionThreshold({ epsilon: 1, delta: 1e-6, maxRowsPerPartition: 1, maxPartitions: 1 })).toBe(15);
  });

  it.each([
    [1, 1e-6, 1, 1],
    [0.1, 1e-6, 1, 1],
    [0.5, 1e-9, 3, 2],
    [2, 1e-5, 1, 5],
    [1, 0.3, 1, 1],
    [50, 1e-6, 1, 1],
  ])('ε=%d δ=%d m=%d p=%d: τ is the smallest integer meeting the δ bound', (epsilon, delta, m, p) => {
    const tau = partitionSelectionThreshold({ epsilon, delta, maxRowsPerPartition: m, maxPartitions: p });
    const t = (p * m) / epsilon;
    const leak = (x: number): number => p * Math.exp(epsilon * (1 - 1 / p)) * discreteLaplaceUpperTail(t, x - m);
    expect(tau).toBeGreaterThanOrEqual(m + 1);
    expect(leak(tau)).toBeLessThanOrEqual(delta);
    if (tau > m + 1) expect(leak(tau - 1)).toBeGreaterThan(delta * (1 - 1e-9));
  });

  it('a single-row partition passes with the predicted probability (δ = 0.3 so it happens)', () => {
    const tau = partitionSelectionThreshold({ epsilon: 1, delta: 0.3, maxRowsPerPartition: 1, maxPartitions: 1 });
    expect(tau).toBe(2);
    const p = discreteLaplaceUpperTail(1, tau - 1); // P(1 + Z >= τ)
    expect(p).toBeLessThanOrEqual(0.3);
    const noise = laplaceNoise(1n, 1);
    const rng = createSeededRandom('selection');
    const n = 20_000;
    let released = 0;
    for (let i = 0; i < n; i++) if (1n + sampleNoise(noise, rng) >= BigInt(tau)) released++;
    expect(Math.abs((released / n - p) / Math.sqrt((p * (1 - p)) / n))).toBeLessThan(Z_1E6);
  });
});

describe('exponential mechanism', () => {
  it('samples i with probability ∝ exp(-factor·badness) (chi-square)', () => {
    const badness = [3n, 0n, 1n, 2n, 5n, 1n];
    const factor = { num: 1n, den: 2n };
    const weights = badness.map((b) => Math.exp(-Number(b) / 2));
    const z = weights.reduce((a, b) => a + b, 0);
    const rng = createSeededRandom('em');
    const draws = Array.from({ length: 30_000 }, () => sampleExponentialMechanism(badness, factor, rng));
    expect(chiSquareGoodnessOfFit(draws, (i) => (weights[i] ?? 0) / z, 1).pValue).toBeGreaterThan(1e-6);
    // The test can fail: a uniform PMF is rejected.
    expect(chiSquareGoodnessOfFit(draws, (i) => (i >= 0 && i < 6 ? 1 / 6 : 0), 1).pValue).toBeLessThan(1e-6);
  });

  it('with a huge factor returns an argmin; with factor 0 is uniform', () => {
    const rng = createSeededRandom('em-edges');
    for (let i = 0; i < 50; i++)
      expect([2, 4]).toContain(sampleExponentialMechanism([9n, 5n, 0n, 7n, 0n], { num: 10n ** 9n, den: 1n }, rng));
    const draws = Array.from({ length: 6000 }, () => sampleExponentialMechanism([1n, 2n, 3n], { num: 0n, den: 1n }, rng));
    expect(chiSquareGoodnessOfFit(draws, (i) => (i >= 0 && i < 3 ? 1 / 3 : 0), 1).pValue).toBeGreaterThan(1e-6);
  });
});

describe('quantile bins', () => {
  it.each([
    [[0, 100], 0.125, 0, 800],
    [[-1, 1], 2 ** -9, -1, 1024],
    [[0.3, 7.1], 2 ** -7, 0.296875, 871],
    [[1000, 1001], 2 ** -10, 1000, 1024],
  ] as const)('bounds %o: width %d from %d, %d bins', (bounds, width, start, count) => {
    const b = makeQuantileBins(bounds);
    expect(b).toEqual({ lower: bounds[0], upper: bounds[1], start, width, count });
    expect(quantileBinOf(bounds[0] - 1, b)).toBe(0);
    expect(quantileBinOf(bounds[1] + 1, b)).toBe(count - 1);
    for (let i = 0; i < count; i += 97) {
      const v = quantileBinValue(i, b);
      expect(v).toBeGreaterThanOrEqual(bounds[0]);
      expect(v).toBeLessThanOrEqual(bounds[1]);
      expect(Number.isInteger(v / (width / 2))).toBe(true);
    }
  });

  it('badness is |(1-q)·below - q·above| in units of 1/q.den', () => {
    expect(quantileBadness([1n, 1n, 1n], { num: 1n, den: 2n })).toEqual([2n, 0n, 2n]);
    // q = 3/4 over [2, 0, 2]: bin0 (1·0 - 3·2) = 6, bin1 (1·2 - 3·2) = 4, bin2 (1·2 - 3·0) = 2.
    expect(quantileBadness([2n, 0n, 2n], { num: 3n, den: 4n })).toEqual([6n, 4n, 2n]);
  });
});
