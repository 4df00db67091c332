/**
 * Exact non-negative-denominator rationals over BigInt, for the DP samplers. Every double is a
 * dyadic rational, so converting a user's epsilon or a clamping bound loses nothing.
 */

/** A rational number num/den with den > 0, in lowest terms when built by these helpers. */
export interface Rational {
  readonly num: bigint;
  readonly den: bigint;
}

function abs(x: bigint): bigint {
  return x < 0n ? -x : x;
}

/** Greatest common divisor (non-negative). */
export function gcd(a: bigint, b: bigint): bigint {
  a = abs(a);
  b = abs(b);
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** num/den in lowest terms with a positive denominator. */
export function rational(num: bigint, den: bigint = 1n): Rational {
  if (den === 0n) throw new RangeError('rational: zero denominator');
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const g = gcd(num, den);
  return g > 1n ? { num: num / g, den: den / g } : { num, den };
}

export function ratMul(a: Rational, b: Rational): Rational {
  return rational(a.num * b.num, a.den * b.den);
}

export function ratDiv(a: Rational, b: Rational): Rational {
  if (b.num === 0n) throw new RangeError('rational: division by zero');
  return rational(a.num * b.den, a.den * b.num);
}

export function ratAdd(a: Rational, b: Rational): Rational {
  return rational(a.num * b.den + b.num * a.den, a.den * b.den);
}

export function ratSub(a: Rational, b: Rational): Rational {
  return rational(a.num * b.den - b.num * a.den, a.den * b.den);
}

/** floor(a) as a BigInt. */
export function ratFloor(a: Rational): bigint {
  const q = a.num / a.den; // truncates toward zero
  return a.num < 0n && q * a.den !== a.num ? q - 1n : q;
}

/** x · 2^k without intermediate overflow or underflow (exact when the result is representable). */
function scaleByPowerOfTwo(x: number, k: number): number {
  while (k > 1000) {
    x *= 2 ** 1000;
    k -= 1000;
  }
  while (k < -1000) {
    x *= 2 ** -1000;
    k += 1000;
  }
  return x * 2 ** k;
}

/**
 * The nearest double to a rational, correctly rounded (ties to even). For reporting only:
 * sampling never goes through floating point.
 */
export function ratToNumber(a: Rational): number {
  if (a.num === 0n) return 0;
  const negative = a.num < 0n;
  const n = abs(a.num);
  const d = a.den;
  // e = floor(log2(n/d)).
  let e = bitLength(n) - bitLength(d);
  const atLeast = e >= 0 ? n >= d << BigInt(e) : n << BigInt(-e) >= d;
  if (!atLeast) e -= 1;
  if (e > 1023) return negative ? -Infinity : Infinity;
  // Subnormal results keep fewer significant bits.
  const precision = e >= -1022 ? 53 : Math.max(0, 53 - (-1022 - e));
  const s = precision - 1 - e;
  const scaledNum = s >= 0 ? n << BigInt(s) : n;
  const scaledDen = s >= 0 ? d : d << BigInt(-s);
  let q = scaledNum / scaledDen;
  const twiceRemainder = 2n * (scaledNum - q * scaledDen);
  if (twiceRemainder > scaledDen || (twiceRemainder === scaledDen && (q & 1n) === 1n)) q += 1n;
  const x = scaleByPowerOfTwo(Number(q), -s);
  return negative ? -x : x;
}

/** Number of bits of a non-negative BigInt (0 for 0). */
export function bitLength(x: bigint): number {
  if (x < 0n) throw new RangeError('bitLength: negative');
  let bits = 0;
  // Coarse steps first: BigInt shifts by 64 are cheap and avoid a toString.
  while (x >= 1n << 64n) {
    x >>= 64n;
    bits += 64;
  }
  while (x > 0n) {
    x >>= 1n;
    bits += 1;
  }
  return bits;
}

/** floor(sqrt(n)) for n >= 0 (Newton's method on BigInt). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError('isqrt: negative');
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) >> 1) + 1); // >= sqrt(n)
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);

/** The exact value of a finite double as a rational (a double is m * 2^e). */
function exactRational(x: number): Rational {
  if (x === 0) return { num: 0n, den: 1n };
  F64[0] = x;
  const bits = U64[0] as bigint;
  const negative = bits >> 63n === 1n;
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  // Subnormals have no implicit leading 1 and the exponent of the smallest normal.
  let mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  let exponent = (biased === 0 ? 1 : biased) - 1075;
  while (mantissa % 2n === 0n && exponent < 0) {
    mantissa >>= 1n;
    exponent += 1;
  }
  const signed = negative ? -mantissa : mantissa;
  return exponent >= 0 ? { num: signed << BigInt(exponent), den: 1n } : { num: signed, den: 1n << BigInt(-exponent) };
}

/**
 * Best rational approximation of r with denominator at most maxDen (continued fractions with
 * semiconvergents, as Python's Fraction.limit_denominator).
 */
export function limitDenominator(r: Rational, maxDen: bigint): Rational {
  if (maxDen < 1n) throw new RangeError('limitDenominator: maxDen must be >= 1');
  if (r.den <= maxDen) return r;
  let [p0, q0, p1, q1] = [0n, 1n, 1n, 0n];
  let n = r.num;
  let d = r.den;
  for (;;) {
    const a = ratFloor({ num: n, den: d });
    const q2 = q0 + a * q1;
    if (q2 > maxDen) break;
    [p0, q0, p1, q1] = [p1, q1, p0 + a * p1, q2];
    [n, d] = [d, n - a * d];
    if (d === 0n) break;
  }
  const k = (maxDen - q0) / q1;
  const b1 = rational(p0 + k * p1, q0 + k * q1);
  const b2 = rational(p1, q1);
  // Pick the closer of the two candidates (ties go to b2, the convergent).
  const e1 = ratSub(b1, r);
  const e2 = ratSub(b2, r);
  return abs(e2.num) * e1.den <= abs(e1.num) * e2.den ? b2 : b1;
}

/**
 * Exact rational value of a finite double; with maxDen, the best approximation whose
 * denominator is at most maxDen.
 */
export function toRational(x: number, maxDen?: bigint): Rational {
  if (!Number.isFinite(x)) throw new RangeError('toRational: value must be finite');
  const exact = exactRational(x);
  return maxDen === undefined ? exact : limitDenominator(exact, maxDen);
}
