import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bitLength, isqrt, limitDenominator, rational, ratToNumber, toRational } from '../../../functions/core/dp/rational.ts';

describe('toRational', () => {
  it.each([
    [0.5, 1n, 2n],
    [-0.75, -3n, 4n],
    [3, 3n, 1n],
    [0, 0n, 1n],
    [2 ** 60, 2n ** 60n, 1n],
    [0.1, 3602879701896397n, 36028797018963968n],
    [Number.MIN_VALUE, 1n, 2n ** 1074n],
  ])('exact value of %d', (x, num, den) => {
    expect(toRational(x)).toEqual({ num, den });
  });

  it('round-trips every finite double exactly', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const r = toRational(x);
        expect(r.den > 0n).toBe(true);
        expect(ratToNumber(r)).toBe(x === 0 ? 0 : x); // -0 becomes 0
      }),
    );
  });

  it('with maxDen gives the best bounded approximation', () => {
    expect(toRational(Math.PI, 1000n)).toEqual({ num: 355n, den: 113n });
    expect(toRational(0.1, 100n)).toEqual({ num: 1n, den: 10n });
    expect(toRational(1 / 3, 10n)).toEqual({ num: 1n, den: 3n });
    expect(toRational(0.5, 1n)).toEqual({ num: 0n, den: 1n }); // tie: the convergent 0/1 wins
    expect(limitDenominator(rational(7n, 4n), 100n)).toEqual({ num: 7n, den: 4n });
  });

  it('ratToNumber rounds to nearest, ties to even', () => {
    expect(ratToNumber({ num: 1n, den: 3n })).toBe(1 / 3);
    expect(ratToNumber({ num: -2n, den: 3n })).toBe(-2 / 3);
    expect(ratToNumber({ num: 2n ** 53n + 1n, den: 1n })).toBe(2 ** 53); // tie -> even
    expect(ratToNumber({ num: 2n ** 53n + 3n, den: 1n })).toBe(2 ** 53 + 4); // tie -> even
    expect(ratToNumber({ num: 1n, den: 10n ** 400n })).toBe(0);
    expect(ratToNumber({ num: 10n ** 400n, den: 1n })).toBe(Number.POSITIVE_INFINITY);
  });

  it('refuses non-finite input', () => {
    expect(() => toRational(Number.NaN)).toThrow(RangeError);
    expect(() => toRational(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('integer helpers', () => {
  it('isqrt is the floor of the square root', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 200n }), (n) => {
        const r = isqrt(n);
        expect(r * r <= n && (r + 1n) * (r + 1n) > n).toBe(true);
      }),
    );
  });

  it('bitLength', () => {
    expect([0n, 1n, 2n, 255n, 256n, 2n ** 64n, 2n ** 64n - 1n].map(bitLength)).toEqual([0, 1, 2, 8, 9, 65, 64]);
  });

  it('rational normalises sign and common factors', () => {
    expect(rational(6n, -4n)).toEqual({ num: -3n, den: 2n });
    expect(() => rational(1n, 0n)).toThrow(RangeError);
  });
});
