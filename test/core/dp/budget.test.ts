import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addBudget, BUDGET_UNITS, fitsBudget, fromBudgetUnits, remainingBudget, toBudgetUnits } from '../../../functions/core/dp/budget.ts';

describe('budget units', () => {
  it.each([
    [{ epsilon: 0.1, delta: 1e-6 }, 'up', { epsilon: 100_000_000, delta: 1_000_000_000 }],
    [{ epsilon: 0.3, delta: 0 }, 'down', { epsilon: 300_000_000, delta: 0 }],
    [{ epsilon: 1e-10, delta: 1e-20 }, 'up', { epsilon: 1, delta: 1 }],
    [{ epsilon: 1e-10, delta: 1e-20 }, 'down', { epsilon: 0, delta: 0 }],
    [{ epsilon: 1.0000000015, delta: 0 }, 'up', { epsilon: 1_000_000_002, delta: 0 }],
    [{ epsilon: 1.0000000015, delta: 0 }, 'down', { epsilon: 1_000_000_001, delta: 0 }],
  ] as const)('%o rounded %s', (amount, rounding, units) => {
    expect(toBudgetUnits(amount, rounding)).toEqual(units);
  });

  it('refuses negative, non-finite and too-large values', () => {
    expect(() => toBudgetUnits({ epsilon: -1, delta: 0 }, 'up')).toThrow(RangeError);
    expect(() => toBudgetUnits({ epsilon: Number.NaN, delta: 0 }, 'up')).toThrow(RangeError);
    expect(() => toBudgetUnits({ epsilon: 2e6, delta: 0 }, 'up')).toThrow(RangeError);
  });

  it('adds without float drift: 0.1 + 0.2 is exactly 0.3, and ten 0.1 fit exactly in 1', () => {
    expect(addBudget({ epsilon: 0.1, delta: 0 }, { epsilon: 0.2, delta: 0 }).epsilon).toBe(0.3);
    let spent = { epsilon: 0, delta: 0 };
    for (let i = 0; i < 10; i++) {
      expect(fitsBudget(spent, { epsilon: 0.1, delta: 0 }, { epsilon: 1, delta: 0 })).toBe(true);
      spent = addBudget(spent, { epsilon: 0.1, delta: 0 });
    }
    expect(spent.epsilon).toBe(1);
    expect(fitsBudget(spent, { epsilon: 1e-9, delta: 0 }, { epsilon: 1, delta: 0 })).toBe(false);
    expect(remainingBudget({ epsilon: 1, delta: 1e-6 }, spent)).toEqual({ epsilon: 0, delta: 1e-6 });
  });

  it('delta is checked as well as epsilon', () => {
    expect(fitsBudget({ epsilon: 0, delta: 9e-7 }, { epsilon: 0.1, delta: 2e-7 }, { epsilon: 10, delta: 1e-6 })).toBe(false);
    expect(fitsBudget({ epsilon: 0, delta: 8e-7 }, { epsilon: 0.1, delta: 2e-7 }, { epsilon: 10, delta: 1e-6 })).toBe(true);
  });

  it('round-trips whole units, and spending rounds never below the request', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 50 }), fc.double({ min: 0, max: 1000, noNaN: true }), (units, x) => {
        expect(toBudgetUnits(fromBudgetUnits({ epsilon: units, delta: 0 }), 'up').epsilon).toBe(units);
        const up = toBudgetUnits({ epsilon: x, delta: 0 }, 'up').epsilon;
        // At most float noise (2 ulps) below the request, and a positive request costs >= 1 unit.
        expect(up / BUDGET_UNITS.epsilonPerOne).toBeGreaterThanOrEqual(x * (1 - 1e-15));
        if (x > 0) expect(up).toBeGreaterThanOrEqual(1);
      }),
    );
  });
});
