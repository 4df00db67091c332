/**
 * Exact samplers from Canonne, Kamath and Steinke (2020), "The Discrete Gaussian for
 * Differential Privacy", Algorithms 1–3. All arithmetic is on BigInt rationals, so the output
 * distribution is exactly the stated one (no floating-point leak, Mironov 2012).
 */
import type { RandomSource } from '../ports.ts';
import { bernoulliRational, uniformBigInt } from './random.ts';
import { isqrt, type Rational, ratFloor } from './rational.ts';

export { type Rational, toRational } from './rational.ts';

function checkPositive(r: Rational, what: string): void {
  if (r.den <= 0n || r.num <= 0n) throw new RangeError(`${what} must be a positive rational`);
}

/** Bernoulli(exp(-γ)) for γ = num/den in [0, 1] (CKS Algorithm 1, first branch). */
function bernoulliExpSmall(num: bigint, den: bigint, rng: RandomSource): boolean {
  // K counts how many successive Bernoulli(γ/K) trials succeed; P(K odd) = exp(-γ).
  let k = 1n;
  while (bernoulliRational(num, den * k, rng)) k += 1n;
  return k % 2n === 1n;
}

/** Bernoulli(exp(-γ)) for a rational γ >= 0, exactly (CKS Algorithm 1). */
export function sampleBernoulliExp(gamma: Rational, rng: RandomSource): boolean {
  if (gamma.den <= 0n || gamma.num < 0n) throw new RangeError('gamma must be a non-negative rational');
  if (gamma.num <= gamma.den) return bernoulliExpSmall(gamma.num, gamma.den, rng);
  // exp(-γ) = exp(-1)^floor(γ) · exp(-(γ - floor γ)): stop at the first failure.
  const whole = ratFloor(gamma);
  for (let i = 0n; i < whole; i++) {
    if (!bernoulliExpSmall(1n, 1n, rng)) return false;
  }
  return bernoulliExpSmall(gamma.num - whole * gamma.den, gamma.den, rng);
}

/**
 * Discrete Laplace (two-sided geometric) with scale t = num/den:
 * P(x) ∝ exp(-|x| / t) on the integers (CKS Algorithm 2).
 */
export function sampleDiscreteLaplace(scale: Rational, rng: RandomSource): bigint {
  checkPositive(scale, 'scale');
  // CKS name the scale t/s; here t = scale.num, s = scale.den.
  const t = scale.num;
  const s = scale.den;
  for (;;) {
    const u = uniformBigInt(t, rng);
    if (!sampleBernoulliExp({ num: u, den: t }, rng)) continue;
    let v = 0n;
    while (bernoulliExpSmall(1n, 1n, rng)) v += 1n;
    const y = (u + t * v) / s; // floor: both non-negative
    const negative = bernoulliRational(1n, 2n, rng);
    if (negative && y === 0n) continue; // otherwise zero would be counted twice
    return negative ? -y : y;
  }
}

/**
 * Discrete Gaussian with variance parameter σ² = num/den:
 * P(x) ∝ exp(-x² / (2σ²)) on the integers (CKS Algorithm 3).
 */
export function sampleDiscreteGaussian(sigma2: Rational, rng: RandomSource): bigint {
  checkPositive(sigma2, 'sigma2');
  const n = sigma2.num;
  const d = sigma2.den;
  // t = floor(σ) + 1; floor(sqrt(n/d)) = floor(sqrt(floor(n/d))).
  const t = isqrt(n / d) + 1n;
  const laplaceScale: Rational = { num: t, den: 1n };
  for (;;) {
    const y = sampleDiscreteLaplace(laplaceScale, rng);
    const ay = y < 0n ? -y : y;
    // γ = (|y| - σ²/t)² / (2σ²) = (|y|·t·d - n)² / (2·n·d·t²)
    const diff = ay * t * d - n;
    const gamma: Rational = { num: diff * diff, den: 2n * n * d * t * t };
    if (sampleBernoulliExp(gamma, rng)) return y;
  }
}
