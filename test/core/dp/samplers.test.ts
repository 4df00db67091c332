import { describe, expect, it } from 'vitest';
import { createSeededRandom } from '../../../functions/core/dp/random.ts';
import {
  type Rational,
  sampleBernoulliExp,
  sampleDiscreteGaussian,
  sampleDiscreteLaplace,
  toRational,
} from '../../../functions/core/dp/samplers.ts';
import { chiSquareGoodnessOfFit, chiSquarePValue, varianceZScore, Z_1E6 } from './stats.ts';

const N = 30_000;
const ratio = (r: Rational): number => Number(r.num) / Number(r.den);

/** Exact discrete Laplace PMF with scale t: (1-q)/(1+q) q^|x|, q = e^(-1/t). */
function laplacePmf(t: number): (x: number) => number {
  const q = Math.exp(-1 / t);
  return (x) => ((1 - q) / (1 + q)) * q ** Math.abs(x);
}

/** Discrete Gaussian PMF, normalised by summation. */
function gaussianPmf(sigma2: number): (x: number) => number {
  let z = 0;
  const w = (x: number): number => Math.exp(-(x * x) / (2 * sigma2));
  for (let x = -Math.ceil(40 * Math.sqrt(sigma2) + 40); x <= 40 * Math.sqrt(sigma2) + 40; x++) z += w(x);
  return (x) => w(x) / z;
}

function draw(n: number, f: () => bigint): number[] {
  return Array.from({ length: n }, () => Number(f()));
}

describe('sampleBernoulliExp (CKS Algorithm 1)', () => {
  it.each([[{ num: 1n, den: 3n }], [{ num: 1n, den: 1n }], [{ num: 5n, den: 2n }], [{ num: 29n, den: 4n }], [toRational(0.05)]])(
    'matches exp(-γ) for γ = %o',
    (gamma) => {
      const rng = createSeededRandom(`bexp-${gamma.num}/${gamma.den}`);
      const p = Math.exp(-ratio(gamma));
      const n = p < 0.01 ? 200_000 : N; // enough expected successes for the chi-square
      const draws = Array.from({ length: n }, () => (sampleBernoulliExp(gamma, rng) ? 1 : 0));
      const r = chiSquareGoodnessOfFit(draws, (x) => (x === 1 ? p : x === 0 ? 1 - p : 0), 0);
      expect(r.pValue).toBeGreaterThan(1e-6);
    },
  );

  it('γ = 0 always succeeds; negative γ is refused', () => {
    const rng = createSeededRandom('bexp-0');
    for (let i = 0; i < 100; i++) expect(sampleBernoulliExp({ num: 0n, den: 1n }, rng)).toBe(true);
    expect(() => sampleBernoulliExp({ num: -1n, den: 2n }, rng)).toThrow(RangeError);
  });
});

describe('sampleDiscreteLaplace (CKS Algorithm 2)', () => {
  it.each([[{ num: 1n, den: 2n }], [{ num: 1n, den: 1n }], [{ num: 7n, den: 3n }], [{ num: 10n, den: 1n }], [toRational(1 / 0.3)]])(
    'fits the exact PMF and variance for scale %o',
    (scale) => {
      const rng = createSeededRandom(`dlap-${scale.num}/${scale.den}`);
      const draws = draw(N, () => sampleDiscreteLaplace(scale, rng));
      const pmf = laplacePmf(ratio(scale));
      const fit = chiSquareGoodnessOfFit(draws, pmf);
      expect(fit.bins).toBeGreaterThanOrEqual(3);
      expect(fit.pValue).toBeGreaterThan(1e-6);
      expect(Math.abs(varianceZScore(draws, pmf).z)).toBeLessThan(Z_1E6);
    },
  );

  it('at a huge scale (2^41, as on a fine grid) the tails and variance match the closed forms', () => {
    const b = 2 ** 41;
    const rng = createSeededRandom('dlap-huge');
    const draws = Array.from({ length: N }, () => sampleDiscreteLaplace({ num: 2n ** 41n, den: 1n }, rng));
    // Bins by |x| thresholds: P(X >= k) = q^k / (1 + q) for k >= 1, exact for any scale.
    const q = Math.exp(-1 / b);
    const cuts = [0.25, 0.5, 1, 2, 3].map((m) => Math.round(m * b));
    const upper = (k: number): number => q ** k / (1 + q);
    const probs: number[] = [];
    const counts: number[] = [];
    const edges = [-Infinity, ...cuts.map((c) => -c).reverse(), 1, ...cuts.map((c) => c + 1), Infinity];
    // Bin i covers [edges[i], edges[i+1]) on the integers.
    const cdfBelow = (k: number): number => (k === -Infinity ? 0 : k === Infinity ? 1 : k <= 0 ? upper(1 - k) : 1 - upper(k));
    for (let i = 0; i + 1 < edges.length; i++) {
      probs.push(cdfBelow(edges[i + 1] as number) - cdfBelow(edges[i] as number));
      counts.push(0);
    }
    for (const d of draws) {
      const x = Number(d);
      const i = edges.findIndex((e, j) => x >= e && x < (edges[j + 1] as number));
      counts[i] = (counts[i] as number) + 1;
    }
    let stat = 0;
    probs.forEach((p, i) => {
      stat += ((counts[i] as number) - N * p) ** 2 / (N * p);
    });
    expect(chiSquarePValue(stat, probs.length - 1)).toBeGreaterThan(1e-6);
    // Variance 2q/(1-q)^2 and fourth moment 24q²/p⁴ + 2q/p² (difference of two geometrics, p = 1-q).
    const p = -Math.expm1(-1 / b);
    const variance = (2 * q) / (p * p);
    const mu4 = (24 * q * q) / p ** 4 + (2 * q) / (p * p);
    const sampleVar = draws.reduce((s, d) => s + Number(d) ** 2, 0) / N;
    expect(Math.abs((sampleVar - variance) / Math.sqrt((mu4 - variance ** 2) / N))).toBeLessThan(Z_1E6);
  });

  it('a sample from the wrong scale is rejected (the test can fail)', () => {
    const rng = createSeededRandom('dlap-wrong');
    const draws = draw(N, () => sampleDiscreteLaplace({ num: 3n, den: 1n }, rng));
    expect(chiSquareGoodnessOfFit(draws, laplacePmf(3.3)).pValue).toBeLessThan(1e-6);
    expect(Math.abs(varianceZScore(draws, laplacePmf(3.6)).z)).toBeGreaterThan(Z_1E6);
  });

  it('refuses a non-positive scale', () => {
    expect(() => sampleDiscreteLaplace({ num: 0n, den: 1n }, createSeededRandom(1))).toThrow(RangeError);
  });
});

describe('sampleDiscreteGaussian (CKS Algorithm 3)', () => {
  it.each([[{ num: 1n, den: 2n }], [{ num: 1n, den: 1n }], [{ num: 5n, den: 2n }], [{ num: 9n, den: 1n }], [{ num: 100n, den: 7n }]])(
    'fits the exact PMF and variance for σ² = %o',
    (sigma2) => {
      const rng = createSeededRandom(`dgauss-${sigma2.num}/${sigma2.den}`);
      const draws = draw(N, () => sampleDiscreteGaussian(sigma2, rng));
      const pmf = gaussianPmf(ratio(sigma2));
      const fit = chiSquareGoodnessOfFit(draws, pmf);
      expect(fit.bins).toBeGreaterThanOrEqual(3);
      expect(fit.pValue).toBeGreaterThan(1e-6);
      expect(Math.abs(varianceZScore(draws, pmf).z)).toBeLessThan(Z_1E6);
    },
  );

  it('at σ² = 10^12 / 7 the variance matches σ² (fourth moment 3σ⁴)', () => {
    const sigma2 = 1e12 / 7;
    const rng = createSeededRandom('dgauss-huge');
    const draws = draw(N, () => sampleDiscreteGaussian({ num: 10n ** 12n, den: 7n }, rng));
    const sampleVar = draws.reduce((s, x) => s + x * x, 0) / N;
    expect(Math.abs((sampleVar - sigma2) / Math.sqrt((2 * sigma2 * sigma2) / N))).toBeLessThan(Z_1E6);
  });

  it('a sample from the wrong σ² is rejected (the test can fail)', () => {
    const rng = createSeededRandom('dgauss-wrong');
    const draws = draw(N, () => sampleDiscreteGaussian({ num: 9n, den: 1n }, rng));
    expect(chiSquareGoodnessOfFit(draws, gaussianPmf(10)).pValue).toBeLessThan(1e-6);
    // A discrete Laplace with the same variance has heavier tails: rejected too.
    expect(chiSquareGoodnessOfFit(draws, laplacePmf(2.03)).pValue).toBeLessThan(1e-6);
  });
});
