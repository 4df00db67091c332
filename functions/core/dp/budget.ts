/**
 * Exact integer units for privacy budgets, so ledgers add and compare budgets without
 * floating-point drift (0.1 + 0.2 spends exactly 0.3). Ledger adapters (local file, DynamoDB)
 * store and compare these units.
 */
import type { BudgetAmount } from '../ports.ts';

/** Units per 1.0 of epsilon and of delta. ε has a granularity of 1e-9 (up to ~10^6), δ of 1e-15. */
export const BUDGET_UNITS = Object.freeze({
  epsilonPerOne: 1_000_000_000,
  deltaPerOne: 1_000_000_000_000_000,
});

/** A budget in integer units (safe integers). */
export interface BudgetUnits {
  readonly epsilon: number;
  readonly delta: number;
}

const MAX_UNITS = 2 ** 50;

export const ZERO_BUDGET: BudgetAmount = Object.freeze({ epsilon: 0, delta: 0 });

/**
 * One value in units. Values within float noise of a whole unit (2 ulps) snap to it, so that
 * ten spends of 0.1 fit a total of 1; anything else is rounded in the safe direction: up for
 * amounts to spend, down for totals. A positive spend always costs at least one unit.
 */
function toUnit(x: number, perOne: number, rounding: 'up' | 'down', what: string): number {
  if (!Number.isFinite(x) || x < 0) throw new RangeError(`${what} must be a finite non-negative number`);
  const scaled = x * perOne;
  const nearest = Math.round(scaled);
  let units = Math.abs(scaled - nearest) <= scaled * 4.5e-16 ? nearest : rounding === 'up' ? Math.ceil(scaled) : Math.floor(scaled);
  if (rounding === 'up' && units === 0 && x > 0) units = 1;
  // Below 2^50 units a double resolves a quarter unit, so snapping and round trips stay exact.
  if (!(units <= MAX_UNITS)) throw new RangeError(`${what} is too large for the budget ledger`);
  return units;
}

/** A budget in integer units; 'up' for what a release spends, 'down' for a dataset's total. */
export function toBudgetUnits(amount: BudgetAmount, rounding: 'up' | 'down'): BudgetUnits {
  return {
    epsilon: toUnit(amount.epsilon, BUDGET_UNITS.epsilonPerOne, rounding, 'epsilon'),
    delta: toUnit(amount.delta, BUDGET_UNITS.deltaPerOne, rounding, 'delta'),
  };
}

/** Back from units to numbers (the nearest doubles). */
export function fromBudgetUnits(units: BudgetUnits): BudgetAmount {
  return { epsilon: units.epsilon / BUDGET_UNITS.epsilonPerOne, delta: units.delta / BUDGET_UNITS.deltaPerOne };
}

/** a + b, exactly in units (each rounded up: these are spends). */
export function addBudget(a: BudgetAmount, b: BudgetAmount): BudgetAmount {
  const x = toBudgetUnits(a, 'up');
  const y = toBudgetUnits(b, 'up');
  return fromBudgetUnits({ epsilon: x.epsilon + y.epsilon, delta: x.delta + y.delta });
}

/** What is left of total after spent, never below zero. */
export function remainingBudget(total: BudgetAmount, spent: BudgetAmount): BudgetAmount {
  const t = toBudgetUnits(total, 'down');
  const s = toBudgetUnits(spent, 'up');
  return fromBudgetUnits({ epsilon: Math.max(0, t.epsilon - s.epsilon), delta: Math.max(0, t.delta - s.delta) });
}

/** True when spending `request` on top of `spent` stays within `total` (both ε and δ). */
export function fitsBudget(spent: BudgetAmount, request: BudgetAmount, total: BudgetAmount): boolean {
  const t = toBudgetUnits(total, 'down');
  const s = toBudgetUnits(spent, 'up');
  const r = toBudgetUnits(request, 'up');
  return s.epsilon + r.epsilon <= t.epsilon && s.delta + r.delta <= t.delta;
}
