/**
 * DP mechanisms on integers: calibration (exact rationals), noise, confidence intervals, the
 * 2^-k grid for real values, the partition-selection threshold and the exponential mechanism.
 *
 * Neighbouring datasets differ by adding or removing one privacy unit (a row, or all rows of
 * one subject after contribution bounding). Every released number is an exact integer (or an
 * integer multiple of a power-of-two grid) plus exact integer noise; converting the final
 * result to a double is post-processing and costs no privacy.
 */
import type { RandomSource } from '../ports.ts';
import { uniformInt } from './random.ts';
import { type Rational, rational, ratToNumber, toRational } from './rational.ts';
import { sampleBernoulliExp, sampleDiscreteGaussian, sampleDiscreteLaplace } from './samplers.ts';

export type NoiseMechanism = 'discrete-laplace' | 'discrete-gaussian';

/** Integer noise: a discrete Laplace with scale `param`, or a discrete Gaussian with σ² = `param`. */
export interface IntegerNoise {
  readonly mechanism: NoiseMechanism;
  readonly param: Rational;
}

/** Discrete Laplace calibrated to ε-DP: scale = Δ1/ε, exactly (ε as given is an exact dyadic rational). */
export function laplaceNoise(l1Sensitivity: bigint, epsilon: number): IntegerNoise {
  if (l1Sensitivity < 1n) throw new RangeError('sensitivity must be a positive integer');
  if (!(epsilon > 0) || !Number.isFinite(epsilon)) throw new RangeError('epsilon must be positive and finite');
  const e = toRational(epsilon);
  return { mechanism: 'discrete-laplace', param: rational(l1Sensitivity * e.den, e.num) };
}

/**
 * ρ-zCDP that converts to (ε, δ)-DP by ε = ρ + 2√(ρ ln(1/δ)) (Bun and Steinke 2016, Prop. 1.3).
 * Solved as √ρ = ε / (√(ln(1/δ) + ε) + √(ln(1/δ))), which has no cancellation.
 */
export function rhoForEpsilonDelta(epsilon: number, delta: number): number {
  if (!(delta > 0 && delta < 1)) throw new RangeError('delta must be in (0, 1)');
  const l = Math.log(1 / delta);
  const root = epsilon / (Math.sqrt(l + epsilon) + Math.sqrt(l));
  return root * root;
}

/** The (ε, δ) that ρ-zCDP implies: ε = ρ + 2√(ρ ln(1/δ)). */
export function epsilonForRho(rho: number, delta: number): number {
  return rho + 2 * Math.sqrt(rho * Math.log(1 / delta));
}

/** Safety margin on ρ so float rounding in the conversion can only add noise, never remove it. */
const RHO_MARGIN = 1 - 1e-9;

/**
 * Discrete Gaussian calibrated through zCDP: σ² = Δ2² / (2ρ) with ρ from (ε, δ). The discrete
 * Gaussian is (Δ2²/(2σ²))-zCDP (Canonne, Kamath and Steinke 2020, Thm. 4 and 14), so the
 * release is (ε, δ)-DP.
 */
export function gaussianNoise(l2SensitivitySquared: bigint, epsilon: number, delta: number): IntegerNoise {
  if (l2SensitivitySquared < 1n) throw new RangeError('sensitivity must be a positive integer');
  if (!(epsilon > 0) || !Number.isFinite(epsilon)) throw new RangeError('epsilon must be positive and finite');
  const rho = toRational(rhoForEpsilonDelta(epsilon, delta) * RHO_MARGIN);
  if (rho.num <= 0n) throw new RangeError('epsilon/delta too small for the Gaussian mechanism');
  return { mechanism: 'discrete-gaussian', param: rational(l2SensitivitySquared * rho.den, 2n * rho.num) };
}

/** One draw of the noise. */
export function sampleNoise(noise: IntegerNoise, rng: RandomSource): bigint {
  return noise.mechanism === 'discrete-laplace' ? sampleDiscreteLaplace(noise.param, rng) : sampleDiscreteGaussian(noise.param, rng);
}

/** The noise's scale in noise units: Laplace scale t, or Gaussian σ. For reporting. */
export function noiseScale(noise: IntegerNoise): number {
  const p = ratToNumber(noise.param);
  return noise.mechanism === 'discrete-laplace' ? p : Math.sqrt(p);
}

/** P(Z >= k) for a discrete Laplace Z with scale t and an integer k >= 1: q^k / (1 + q), q = e^(-1/t). */
export function discreteLaplaceUpperTail(scale: number, k: number): number {
  if (k <= 0) throw new RangeError('k must be >= 1');
  return Math.exp(-k / scale) / (1 + Math.exp(-1 / scale));
}

/** Above this σ the discrete Gaussian's tails equal the normal's to within e^(-2π²σ²). */
const GAUSSIAN_SUM_LIMIT = 1e4;

/** Inverse of the standard normal upper tail, by bisection on erfc (float is fine: reporting only). */
function normalQuantileUpper(alpha: number): number {
  let lo = 0;
  let hi = 40;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (normalUpperTail(mid) > alpha) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** P(N(0,1) > x) via a continued fraction / series erfc (Numerical Recipes erfcc, ~1e-7 rel.). */
function normalUpperTail(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  const erfc = x >= 0 ? r : 2 - r;
  return erfc / 2;
}

/**
 * Smallest integer h with P(|Z| > h) <= alpha, so [v - h, v + h] covers the true value with
 * probability >= 1 - alpha. Discrete Laplace: closed form. Discrete Gaussian: the exact PMF
 * summed for σ <= 10^4, the normal approximation above (error below e^(-2π²σ²)).
 */
export function noiseHalfWidth(noise: IntegerNoise, alpha = 0.05): number {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError('alpha must be in (0, 1)');
  const p = ratToNumber(noise.param);
  if (noise.mechanism === 'discrete-laplace') {
    // P(|Z| > h) = 2 q^(h+1) / (1 + q); solve in logs, then settle the integer exactly.
    const q = Math.exp(-1 / p);
    const tail = (h: number): number => (2 * Math.exp(-(h + 1) / p)) / (1 + q);
    let h = Math.max(0, Math.ceil(p * Math.log(2 / (alpha * (1 + q)))) - 1);
    while (h > 0 && tail(h - 1) <= alpha) h--;
    while (tail(h) > alpha) h++;
    return h;
  }
  const sigma = Math.sqrt(p);
  if (sigma > GAUSSIAN_SUM_LIMIT) return Math.ceil(normalQuantileUpper(alpha / 2) * sigma);
  // Exact sum of the discrete Gaussian PMF, outward from 0.
  const w = (x: number): number => Math.exp(-(x * x) / (2 * p));
  let total = 1;
  for (let x = 1; ; x++) {
    const v = w(x);
    total += 2 * v;
    if (v < 1e-300 || x > 40 * sigma + 40) break;
  }
  let inside = 1;
  let h = 0;
  while ((total - inside) / total > alpha) {
    h++;
    inside += 2 * w(h);
  }
  return h;
}

// ---------------------------------------------------------------- the 2^-k grid

/** Number of bits the largest clamped value takes on the grid: |value| <= 2^GRID_BITS grid units. */
export const GRID_BITS = 40;

/**
 * A power-of-two grid for a clamped real-valued column. Values are clamped to [lower, upper],
 * then rounded to the nearest multiple of step = 2^-k. k is chosen from the bounds alone (never
 * from the data): the largest bound takes at most 2^40 grid units, so the grid is ~10^-12 of
 * the bounds, far finer than any useful noise scale (Δ/ε), and sums stay exact in a double
 * accumulator for 2^12 rows between BigInt flushes. Integer columns use step 1 (k = 0) unless
 * their bounds exceed 2^40.
 */
export interface Grid {
  readonly k: number;
  readonly step: number;
  readonly lower: number;
  readonly upper: number;
  /** Bounds in grid units (integers). */
  readonly lowerUnits: number;
  readonly upperUnits: number;
  /** max(|lowerUnits|, |upperUnits|): one value's sensitivity in grid units. */
  readonly maxUnits: number;
  /** 2^k, to multiply values by. */
  readonly scale: number;
}

/** The smallest e with 2^e >= m, for m > 0. */
function ceilLog2(m: number): number {
  let e = Math.ceil(Math.log2(m));
  while (2 ** e < m) e++;
  while (2 ** (e - 1) >= m) e--;
  return e;
}

/** Bounds must be finite, ordered and have magnitude in [2^-200, 2^200] (validated by validateQueries). */
export function makeGrid(bounds: readonly [number, number], integer = false): Grid {
  const [lower, upper] = bounds;
  const m = Math.max(Math.abs(lower), Math.abs(upper));
  let k = GRID_BITS - ceilLog2(m);
  if (integer) k = Math.min(0, k);
  const scale = 2 ** k;
  const lowerUnits = Math.round(lower * scale);
  const upperUnits = Math.round(upper * scale);
  return {
    k,
    step: 2 ** -k,
    lower,
    upper,
    lowerUnits,
    upperUnits,
    maxUnits: Math.max(Math.abs(lowerUnits), Math.abs(upperUnits), 1),
    scale,
  };
}

/** Clamp to the bounds and round to the grid (integer grid units; exact in a double). */
export function toGridUnits(x: number, grid: Grid): number {
  return Math.round(Math.min(Math.max(x, grid.lower), grid.upper) * grid.scale) + 0; // + 0: never -0
}

/** Grid units back to a real value. The result is an exact multiple of the grid step. */
export function fromGridUnits(units: bigint, grid: Grid): number {
  // Number() rounds to the nearest double; a double at or above 2^53 steps is still a multiple of the step.
  return Number(units) * grid.step;
}

/** Round a real value to the grid and keep it within the (grid-rounded) bounds. Post-processing. */
export function snapToGrid(x: number, grid: Grid): number {
  const units = Math.min(grid.upperUnits, Math.max(grid.lowerUnits, Math.round(x * grid.scale)));
  return units * grid.step;
}

// ---------------------------------------------------------------- partition selection

/**
 * The release threshold τ for counts without a declared domain (Laplace thresholding, as in
 * Google's DP library and Wilson et al. 2020). Each subject touches at most p partitions with
 * at most m rows each, and the noise is discrete Laplace with scale t = p·m/ε.
 *
 * A partition that exists only because of one subject has a true count c <= m; it is released
 * when c + Z >= τ, with probability P(Z >= τ - m) = q^(τ-m) / (1 + q), q = e^(-1/t). Up to p
 * such partitions can appear, and in the direction "subject removed" the remaining outputs
 * may differ by a factor e^(ε(p-1)/p) (the subject's other partitions). So the mechanism is
 * (ε, δ)-DP when p · e^(ε(1-1/p)) · q^(τ-m)/(1+q) <= δ, i.e. for the smallest integer
 *   τ >= m + t · ln(p · e^(ε(1-1/p)) / (δ (1 + q))),   and at least m + 1.
 * With m = p = 1 this is τ = 1 + t·ln(1/(δ(1+q))) ≈ 1 + (1/ε)·ln(1/(2δ)), the usual rule.
 */
export function partitionSelectionThreshold(opts: {
  readonly epsilon: number;
  readonly delta: number;
  readonly maxRowsPerPartition: number;
  readonly maxPartitions: number;
}): number {
  const { epsilon, delta, maxRowsPerPartition: m, maxPartitions: p } = opts;
  if (!(delta > 0 && delta < 1)) throw new RangeError('delta must be in (0, 1)');
  const t = (p * m) / epsilon;
  const q = Math.exp(-1 / t);
  const logTerm = Math.log(p) + epsilon * (1 - 1 / p) - Math.log(delta) - Math.log1p(q);
  // A hair of slack so float rounding can only raise the threshold.
  const steps = Math.max(1, Math.ceil(t * logTerm * (1 + 1e-12) + 1e-9));
  return m + steps;
}

// ---------------------------------------------------------------- exponential mechanism

/**
 * Exponential mechanism over a finite set, exactly: returns i with probability proportional to
 * exp(-factor · badness[i]). Rejection sampling: draw i uniformly, accept with probability
 * exp(-factor · (badness[i] - min)) via the exact Bernoulli(exp(-γ)) sampler. The best
 * candidate is always accepted, so the expected number of rounds is at most the number of
 * candidates. No floating point touches the draw (unlike Gumbel-max or an inverse CDF over
 * floats, which reintroduce the Mironov attack surface). The number of rounds depends on the
 * data; only the output is published, so this timing channel is out of scope (as for all
 * releases, which run inside the pipeline, not in front of an analyst).
 */
export function sampleExponentialMechanism(badness: readonly bigint[], factor: Rational, rng: RandomSource): number {
  const n = badness.length;
  if (n === 0) throw new RangeError('no candidates');
  if (factor.num < 0n || factor.den <= 0n) throw new RangeError('factor must be a non-negative rational');
  let min = badness[0] as bigint;
  for (const b of badness) if (b < min) min = b;
  for (;;) {
    const i = uniformInt(n, rng);
    const gamma: Rational = { num: factor.num * ((badness[i] as bigint) - min), den: factor.den };
    if (sampleBernoulliExp(gamma, rng)) return i;
  }
}

/** Target number of bins for quantiles: between 513 and 1024 bins of a power-of-two width cover the bounds. */
export const QUANTILE_BINS = 1024;

/**
 * Bins for the exponential-mechanism quantile: width 2^j with (upper-lower)/width in (512, 1024],
 * aligned on multiples of the width. Candidate outputs are bin midpoints, multiples of width/2.
 */
export interface QuantileBins {
  readonly lower: number;
  readonly upper: number;
  readonly start: number;
  readonly width: number;
  readonly count: number;
}

export function makeQuantileBins(bounds: readonly [number, number]): QuantileBins {
  const [lower, upper] = bounds;
  const range = upper - lower;
  let j = Math.ceil(Math.log2(range / QUANTILE_BINS));
  while (range / 2 ** j > QUANTILE_BINS) j++;
  while (range / 2 ** (j - 1) <= QUANTILE_BINS) j--;
  const width = 2 ** j;
  const start = Math.floor(lower / width) * width;
  const count = Math.max(1, Math.ceil((upper - start) / width));
  return { lower, upper, start, width, count };
}

/** The bin of a value after clamping to the bounds. */
export function quantileBinOf(x: number, bins: QuantileBins): number {
  const i = Math.floor((Math.min(Math.max(x, bins.lower), bins.upper) - bins.start) / bins.width);
  return i <= 0 ? 0 : i >= bins.count ? bins.count - 1 : i;
}

/** A bin's released value: its midpoint, kept inside the bounds on the width/2 grid. */
export function quantileBinValue(i: number, bins: QuantileBins): number {
  const half = bins.width / 2;
  const mid = bins.start + (i + 0.5) * bins.width;
  const lo = Math.ceil(bins.lower / half) * half;
  const hi = Math.floor(bins.upper / half) * half;
  return Math.min(hi, Math.max(lo, mid));
}

/**
 * Badness of each bin as the q-quantile: |(1-q)·below - q·above| scaled by q's denominator,
 * where below/above count values in lower/higher bins. Adding or removing one row moves it
 * by at most max(q, 1-q) (in units of 1/qd): the utility's sensitivity.
 */
export function quantileBadness(counts: readonly bigint[], q: Rational): bigint[] {
  let total = 0n;
  for (const c of counts) total += c;
  const out: bigint[] = [];
  let below = 0n;
  for (const c of counts) {
    const above = total - below - c;
    const a = (q.den - q.num) * below - q.num * above;
    out.push(a < 0n ? -a : a);
    below += c;
  }
  return out;
}
