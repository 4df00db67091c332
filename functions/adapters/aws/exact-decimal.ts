/**
 * Exact decimal arithmetic on the decimal forms of JS numbers, for DynamoDB number attributes
 * (exact decimals with up to 38 significant digits). `0.3 - 0.1` is 0.2 here, not
 * 0.19999999999999998, so a budget bound computed as `total - requested` is the bound DynamoDB
 * compares against.
 */

/** A decimal as an integer scaled by 10^-scale. */
interface Scaled {
  readonly digits: bigint;
  readonly scale: number;
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i;

function parse(value: number | string): Scaled {
  const text = typeof value === 'number' ? numberText(value) : value.trim();
  const m = DECIMAL.exec(text);
  if (!m) throw new RangeError(`not a decimal number: ${text}`);
  const [, sign, int = '0', frac = '', exp = '0'] = m;
  let scale = frac.length - Number(exp);
  let digits = BigInt(`${int}${frac}`);
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { digits: sign === '-' ? -digits : digits, scale };
}

function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`);
  return String(n);
}

function align(a: Scaled, b: Scaled): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [a.digits * 10n ** BigInt(scale - a.scale), b.digits * 10n ** BigInt(scale - b.scale), scale];
}

function format(digits: bigint, scale: number): string {
  const negative = digits < 0n;
  let s = (negative ? -digits : digits).toString();
  if (scale > 0) {
    s = s.padStart(scale + 1, '0');
    s = `${s.slice(0, -scale)}.${s.slice(-scale)}`.replace(/\.?0+$/, '');
  }
  if (s === '' || s === '0') return '0';
  return negative ? `-${s}` : s;
}

/** The shortest round-trip form of a finite number, as a plain decimal (no exponent). */
export function toDecimalString(n: number | string): string {
  const p = parse(n);
  return format(p.digits, p.scale);
}

/** a - b, exactly. */
export function decimalSub(a: number | string, b: number | string): string {
  const [x, y, scale] = align(parse(a), parse(b));
  return format(x - y, scale);
}

/** a + b, exactly. */
export function decimalAdd(a: number | string, b: number | string): string {
  const [x, y, scale] = align(parse(a), parse(b));
  return format(x + y, scale);
}

/** -1, 0 or 1 as a < b, a = b, a > b. */
export function decimalCompare(a: number | string, b: number | string): -1 | 0 | 1 {
  const [x, y] = align(parse(a), parse(b));
  return x < y ? -1 : x > y ? 1 : 0;
}
