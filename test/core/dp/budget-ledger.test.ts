import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AggregateQuery } from '../../../functions/core/contract/contract-schema.ts';
import { Aggregator, budgetFor, type ReleasedAggregate, releaseAggregates } from '../../../functions/core/dp/aggregator.ts';
import { toBudgetUnits } from '../../../functions/core/dp/budget.ts';
import { createSeededRandom } from '../../../functions/core/dp/random.ts';
import { PrivacyBudgetExceededError } from '../../../functions/core/errors.ts';
import type { BudgetAmount, BudgetLedger } from '../../../functions/core/ports.ts';
import { InMemoryBudgetLedger, RacyBudgetLedger } from './in-memory-budget-ledger.ts';

const queries: AggregateQuery[] = [
  { id: 'rows', kind: 'count', epsilon: 0.1, mechanism: 'laplace' },
  { id: 'total', kind: 'sum', column: 'amount', bounds: [0, 100], epsilon: 0.2, mechanism: 'laplace' },
];

/** Spend first, release only if the spend went through (what the pipeline does). */
async function release(ledger: BudgetLedger, total: BudgetAmount, releaseId: string): Promise<ReleasedAggregate[]> {
  const agg = new Aggregator({ columns: ['amount'], queries });
  for (let i = 0; i < 100; i++) agg.add([String(i)]);
  await ledger.spend('sales', budgetFor(queries), total, releaseId);
  return releaseAggregates(agg, createSeededRandom(releaseId));
}

describe('budget ledger under concurrency', () => {
  it('50 concurrent releases never spend more than the total', async () => {
    const total = { epsilon: 10, delta: 1e-6 };
    const ledger = new InMemoryBudgetLedger((id) => 1 + (Number(id.slice(1)) % 3));
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => release(ledger, total, `r${i}`)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    // Each release costs 0.1 + 0.2 = 0.3: exactly 33 fit in 10.
    expect(ok).toHaveLength(33);
    expect(refused).toHaveLength(17);
    for (const r of refused) {
      expect(r.reason).toBeInstanceOf(PrivacyBudgetExceededError);
      const err = r.reason as PrivacyBudgetExceededError;
      expect(err.requested.epsilon).toBeCloseTo(0.3, 12);
      expect(err.remaining.epsilon).toBeLessThan(0.3);
      expect(err.message).toMatch(/requested epsilon 0\.3.*remaining epsilon/);
    }
    const state = await ledger.get('sales', total);
    expect(state.spent.epsilon).toBeCloseTo(9.9, 12);
    expect(toBudgetUnits(state.spent, 'up').epsilon).toBeLessThanOrEqual(toBudgetUnits(total, 'down').epsilon);
    expect(ledger.conflicts).toBeGreaterThan(0); // the interleaving really happened
  });

  it('the same harness catches a ledger that checks then writes blindly (the test can fail)', async () => {
    const total = { epsilon: 10, delta: 1e-6 };
    const ledger = new RacyBudgetLedger();
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => release(ledger, total, `r${i}`)));
    const state = await ledger.get('sales', total);
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThan(33);
    expect(state.spent.epsilon).toBeGreaterThan(total.epsilon);
  });

  it('a retried release id spends once', async () => {
    const ledger = new InMemoryBudgetLedger();
    const total = { epsilon: 1, delta: 0 };
    await ledger.spend('d', { epsilon: 0.5, delta: 0 }, total, 'same');
    await ledger.spend('d', { epsilon: 0.5, delta: 0 }, total, 'same');
    expect((await ledger.get('d', total)).spent.epsilon).toBe(0.5);
  });

  it('property: with random costs and interleavings, spent <= total and refusals spend nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            eps: fc.integer({ min: 1, max: 300 }),
            delta: fc.integer({ min: 0, max: 3 }),
            turns: fc.integer({ min: 0, max: 3 }),
          }),
          { minLength: 1, maxLength: 25 },
        ),
        fc.integer({ min: 1, max: 2000 }),
        async (spends, totalCenti) => {
          const total = { epsilon: totalCenti / 100, delta: 5e-7 };
          const ledger = new InMemoryBudgetLedger((id) => spends[Number(id)]?.turns ?? 0);
          const results = await Promise.allSettled(
            spends.map((s, i) => ledger.spend('d', { epsilon: s.eps / 100, delta: s.delta * 1e-7 }, total, String(i))),
          );
          const spent = toBudgetUnits((await ledger.get('d', total)).spent, 'up');
          const limit = toBudgetUnits(total, 'down');
          expect(spent.epsilon).toBeLessThanOrEqual(limit.epsilon);
          expect(spent.delta).toBeLessThanOrEqual(limit.delta);
          // What was spent is exactly the sum of the accepted requests.
          const accepted = spends.filter((_, i) => results[i]?.status === 'fulfilled');
          expect(spent.epsilon).toBe(accepted.reduce((a, s) => a + s.eps * 10_000_000, 0));
          for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(PrivacyBudgetExceededError);
        },
      ),
      { numRuns: 60 },
    );
  });
});
