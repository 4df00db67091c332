import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FsBudgetLedger, fromUnits, toUnits } from '../../../functions/adapters/local/fs-budget-ledger.ts';
import { ConflictError, PrivacyBudgetExceededError, UsageError } from '../../../functions/core/errors.ts';
import type { BudgetState } from '../../../functions/core/ports.ts';
import { runTogether, startWorker } from './helpers/spawn-worker.ts';
import { tempHome } from './helpers/temp-home.ts';

const clock = { now: () => new Date('2026-01-01T00:00:00.000Z') };

describe('budget units', () => {
  it.each([
    [0.1, 9, 'up', 100_000_000n],
    [0.3, 9, 'up', 300_000_000n],
    [1e-9, 9, 'up', 1n],
    [1.5e-10, 9, 'up', 1n],
    [1.5e-10, 9, 'down', 0n],
    [1e-6, 15, 'up', 1_000_000_000n],
    [2, 9, 'down', 2_000_000_000n],
    [1e21, 9, 'down', 10n ** 30n],
    [0, 15, 'up', 0n],
  ] as const)('%d at 1e-%i rounded %s = %s units', (value, scale, round, units) => {
    expect(toUnits(value, scale, round)).toBe(units);
  });

  it('converts back to the nearest number', () => {
    expect(fromUnits(300_000_000n, 9)).toBe(0.3);
    expect(fromUnits(2_000_000_000n, 9)).toBe(2);
    expect(fromUnits(1n, 15)).toBe(1e-15);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (milli) => {
        expect(toUnits(fromUnits(BigInt(milli) * 1_000_000n, 9), 9, 'up')).toBe(BigInt(milli) * 1_000_000n);
      }),
    );
    // n equal spends of a value add up to exactly n times its units (no float drift).
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999 }), fc.integer({ min: 1, max: 50 }), (thousandths, n) => {
        const units = toUnits(thousandths / 1000, 9, 'up');
        expect(units).toBe(BigInt(thousandths) * 1_000_000n);
        expect(units * BigInt(n)).toBe(toUnits((thousandths * n) / 1000, 9, 'down'));
      }),
    );
  });

  it.each([-0.1, Number.NaN, Number.POSITIVE_INFINITY])('rejects %d', (bad) => {
    expect(() => toUnits(bad, 9, 'up')).toThrow(UsageError);
  });
});

describe('FsBudgetLedger', () => {
  it('twenty spends of 0.1 fit a total of 2 exactly; the 21st is refused and spends nothing', async () => {
    const ledger = new FsBudgetLedger(await tempHome(), clock);
    const total = { epsilon: 2, delta: 1e-5 };
    let last: BudgetState | undefined;
    for (let i = 0; i < 20; i++) last = await ledger.spend('customers', { epsilon: 0.1, delta: 5e-7 }, total, `r${i}`);
    expect(last).toEqual({ dataset: 'customers', total, spent: { epsilon: 2, delta: 1e-5 }, remaining: { epsilon: 0, delta: 0 } });
    const err = await ledger.spend('customers', { epsilon: 0.1, delta: 0 }, total, 'r20').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrivacyBudgetExceededError);
    expect(err).toMatchObject({ requested: { epsilon: 0.1, delta: 0 }, remaining: { epsilon: 0, delta: 0 } });
    expect((await ledger.get('customers', total)).spent).toEqual({ epsilon: 2, delta: 1e-5 });
    expect(await ledger.log('customers')).toHaveLength(20);
    expect((await ledger.log('customers'))[0]).toEqual({
      releaseId: 'r0',
      epsilon: 0.1,
      delta: 5e-7,
      epsilonUnits: '100000000',
      deltaUnits: '500000000',
      at: '2026-01-01T00:00:00.000Z',
    });
  });

  it.each([
    ['epsilon just over', { epsilon: 0.5000000001, delta: 0 }, false],
    ['epsilon exactly at', { epsilon: 0.5, delta: 0 }, true],
    ['delta just over', { epsilon: 0, delta: 1.000000000000001e-6 }, false],
    ['delta exactly at', { epsilon: 0, delta: 1e-6 }, true],
  ])('a spend with %s the remaining budget', async (_case, amount, allowed) => {
    const ledger = new FsBudgetLedger(await tempHome(), clock);
    const total = { epsilon: 1, delta: 2e-6 };
    await ledger.spend('d', { epsilon: 0.5, delta: 1e-6 }, total, 'first');
    const attempt = ledger.spend('d', amount, total, 'second');
    if (allowed) await expect(attempt).resolves.toBeDefined();
    else await expect(attempt).rejects.toThrow(PrivacyBudgetExceededError);
  });

  it('keeps datasets apart and starts empty', async () => {
    const ledger = new FsBudgetLedger(await tempHome(), clock);
    const total = { epsilon: 1, delta: 0 };
    expect(await ledger.get('a', total)).toEqual({ dataset: 'a', total, spent: { epsilon: 0, delta: 0 }, remaining: total });
    await ledger.spend('a', { epsilon: 1, delta: 0 }, total, 'x');
    expect((await ledger.get('A', total)).spent.epsilon).toBe(0);
    expect((await ledger.get('a/../b', total)).spent.epsilon).toBe(0);
  });

  it('a retried release is charged once; the same id with another amount is a conflict', async () => {
    const ledger = new FsBudgetLedger(await tempHome(), clock);
    const total = { epsilon: 1, delta: 0 };
    await ledger.spend('d', { epsilon: 0.4, delta: 0 }, total, 'rel-1');
    expect((await ledger.spend('d', { epsilon: 0.4, delta: 0 }, total, 'rel-1')).spent.epsilon).toBe(0.4);
    await expect(ledger.spend('d', { epsilon: 0.5, delta: 0 }, total, 'rel-1')).rejects.toThrow(ConflictError);
    expect(await ledger.log('d')).toHaveLength(1);
  });

  it('50 concurrent spends in one process: exactly K succeed', async () => {
    const home = await tempHome();
    const ledgers = [new FsBudgetLedger(home), new FsBudgetLedger(home)];
    const total = { epsilon: 1.7, delta: 0 };
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => ledgers[i % 2]?.spend('d', { epsilon: 0.1, delta: 0 }, total, `r${i}`)),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(17);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(PrivacyBudgetExceededError);
    const state = await ledgers[0]?.get('d', total);
    expect(state?.spent.epsilon).toBe(1.7);
    expect(state?.remaining.epsilon).toBe(0);
  });

  it('concurrent spends from three processes: exactly K succeed, spent never exceeds the total', async () => {
    const home = await tempHome();
    const results = await runTogether<{ ok: number; exceeded: number }>(
      ['a', 'b', 'c'].map((tag) => startWorker('budget-spend', home, 'shared', '20', tag, '0.1', '2.5')),
    );
    expect(results.reduce((n, r) => n + r.ok, 0)).toBe(25);
    expect(results.reduce((n, r) => n + r.exceeded, 0)).toBe(35);
    const ledger = new FsBudgetLedger(home);
    expect((await ledger.get('shared', { epsilon: 2.5, delta: 0 })).spent.epsilon).toBe(2.5);
    expect(new Set((await ledger.log('shared')).map((e) => e.releaseId)).size).toBe(25);
  });
});
