/**
 * Test-only statistics: regularized incomplete gamma (Numerical Recipes gser/gcf), the
 * chi-square goodness-of-fit test with tail merging, and a z-test on the sample variance.
 */

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; ~15 significant digits). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0] as number;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += (LANCZOS[i] as number) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularized lower incomplete gamma P(a, x). */
export function gammaP(a: number, x: number): number {
  if (x < 0 || a <= 0) throw new RangeError('gammaP: need a > 0, x >= 0');
  if (x === 0) return 0;
  return x < a + 1 ? gammaSeries(a, x) : 1 - gammaContinuedFraction(a, x);
}

/** Regularized upper incomplete gamma Q(a, x) = 1 - P(a, x), accurate in the far tail. */
export function gammaQ(a: number, x: number): number {
  if (x < 0 || a <= 0) throw new RangeError('gammaQ: need a > 0, x >= 0');
  if (x === 0) return 1;
  return x < a + 1 ? 1 - gammaSeries(a, x) : gammaContinuedFraction(a, x);
}

function gammaSeries(a: number, x: number): number {
  let sum = 1 / a;
  let term = sum;
  for (let n = 1; n < 10_000; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - lnGamma(a));
}

function gammaContinuedFraction(a: number, x: number): number {
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x + a * Math.log(x) - lnGamma(a)) * h;
}

/** Upper tail probability of the chi-square distribution with df degrees of freedom. */
export function chiSquarePValue(statistic: number, df: number): number {
  return gammaQ(df / 2, statistic / 2);
}

export interface ChiSquareResult {
  readonly statistic: number;
  readonly df: number;
  readonly pValue: number;
  readonly bins: number;
}

/**
 * Goodness of fit of integer samples against an integer PMF. Central bins each have an
 * expected count >= 5; both tails are pooled into one bin each (merged into the edge bin when
 * their expectation is below 5).
 */
export function chiSquareGoodnessOfFit(samples: readonly number[], pmf: (x: number) => number, mode = 0): ChiSquareResult {
  const n = samples.length;
  let lo = mode;
  let hi = mode;
  while (n * pmf(lo - 1) >= 5) lo--;
  while (n * pmf(hi + 1) >= 5) hi++;
  const tailMass = (start: number, step: number): number => {
    let mass = 0;
    for (let x = start; ; x += step) {
      const p = pmf(x);
      mass += p;
      if (p < 1e-20 && Math.abs(x - start) > 10) return mass;
    }
  };
  const expected: number[] = [];
  const observed: number[] = [];
  for (let x = lo; x <= hi; x++) {
    expected.push(n * pmf(x));
    observed.push(0);
  }
  let leftExp = n * tailMass(lo - 1, -1);
  let rightExp = n * tailMass(hi + 1, 1);
  let leftObs = 0;
  let rightObs = 0;
  for (const s of samples) {
    if (s < lo) leftObs++;
    else if (s > hi) rightObs++;
    else observed[s - lo] = (observed[s - lo] as number) + 1;
  }
  const mergeLeft = leftExp < 5;
  const mergeRight = rightExp < 5;
  if (mergeLeft) {
    expected[0] = (expected[0] as number) + leftExp;
    observed[0] = (observed[0] as number) + leftObs;
    leftExp = 0;
  }
  if (mergeRight) {
    const last = expected.length - 1;
    expected[last] = (expected[last] as number) + rightExp;
    observed[last] = (observed[last] as number) + rightObs;
    rightExp = 0;
  }
  if (!mergeLeft) {
    expected.unshift(leftExp);
    observed.unshift(leftObs);
  }
  if (!mergeRight) {
    expected.push(rightExp);
    observed.push(rightObs);
  }
  let statistic = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] as number;
    const o = observed[i] as number;
    statistic += ((o - e) * (o - e)) / e;
  }
  const df = expected.length - 1;
  return { statistic, df, pValue: chiSquarePValue(statistic, df), bins: expected.length };
}

/** Mean, variance and fourth central moment of an integer PMF (summed until negligible). */
export function pmfMoments(pmf: (x: number) => number, mode = 0): { mean: number; variance: number; mu4: number } {
  const support: [number, number][] = [];
  for (const step of [1, -1]) {
    for (let x = step === 1 ? mode : mode - 1; ; x += step) {
      const p = pmf(x);
      support.push([x, p]);
      if (p < 1e-22 && Math.abs(x - mode) > 10) break;
    }
  }
  let mean = 0;
  for (const [x, p] of support) mean += x * p;
  let variance = 0;
  let mu4 = 0;
  for (const [x, p] of support) {
    const d = (x - mean) ** 2;
    variance += d * p;
    mu4 += d * d * p;
  }
  return { mean, variance, mu4 };
}

/**
 * z-score of the sample variance against the theoretical variance; its standard error is
 * sqrt((μ4 - σ⁴) / n) for large n. |z| > 4.89 has two-sided probability below 1e-6.
 */
export function varianceZScore(
  samples: readonly number[],
  pmf: (x: number) => number,
  mode = 0,
): { sampleVariance: number; variance: number; z: number } {
  const { mean, variance, mu4 } = pmfMoments(pmf, mode);
  let sum = 0;
  for (const s of samples) sum += (s - mean) ** 2;
  const sampleVariance = sum / samples.length;
  const se = Math.sqrt((mu4 - variance * variance) / samples.length);
  return { sampleVariance, variance, z: (sampleVariance - variance) / se };
}

/** Two-sided normal critical value for p = 1e-6. */
export const Z_1E6 = 4.891638;
