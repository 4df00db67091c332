/**
 * Test-only BudgetLedger: state in memory, spends by optimistic concurrency (read, yield as a
 * network round trip would, then write only if the version is unchanged, else retry), the
 * same shape as a DynamoDB conditional update. Idempotent per releaseId.
 */
import { type BudgetUnits, fromBudgetUnits, remainingBudget, toBudgetUnits } from '../../../functions/core/dp/budget.ts';
import { PrivacyBudgetExceededError } from '../../../functions/core/errors.ts';
import type { BudgetAmount, BudgetLedger, BudgetState } from '../../../functions/core/ports.ts';

interface Row {
  readonly version: number;
  readonly spent: BudgetUnits;
  readonly releases: ReadonlySet<string>;
}

const EMPTY: Row = { version: 0, spent: { epsilon: 0, delta: 0 }, releases: new Set() };

/** Lets other pending spends run between this one's read and write. */
async function roundTrip(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export class InMemoryBudgetLedger implements BudgetLedger {
  readonly #rows = new Map<string, Row>();
  /** Write attempts that lost a race and retried (for tests). */
  conflicts = 0;

  constructor(private readonly turns: (releaseId: string) => number = () => 1) {}

  async spend(dataset: string, amount: BudgetAmount, total: BudgetAmount, releaseId: string): Promise<BudgetState> {
    const request = toBudgetUnits(amount, 'up');
    const limit = toBudgetUnits(total, 'down');
    for (;;) {
      const read = this.#rows.get(dataset) ?? EMPTY;
      await roundTrip(this.turns(releaseId));
      if (read.releases.has(releaseId)) return this.#state(dataset, read, total);
      const spent = { epsilon: read.spent.epsilon + request.epsilon, delta: read.spent.delta + request.delta };
      if (spent.epsilon > limit.epsilon || spent.delta > limit.delta) {
        throw new PrivacyBudgetExceededError(dataset, amount, remainingBudget(total, fromBudgetUnits(read.spent)));
      }
      // Conditional write: only if nobody wrote since our read.
      if ((this.#rows.get(dataset) ?? EMPTY).version !== read.version) {
        this.conflicts++;
        continue;
      }
      const row: Row = { version: read.version + 1, spent, releases: new Set([...read.releases, releaseId]) };
      this.#rows.set(dataset, row);
      return this.#state(dataset, row, total);
    }
  }

  async get(dataset: string, total: BudgetAmount): Promise<BudgetState> {
    return this.#state(dataset, this.#rows.get(dataset) ?? EMPTY, total);
  }

  #state(dataset: string, row: Row, total: BudgetAmount): BudgetState {
    const spent = fromBudgetUnits(row.spent);
    return { dataset, total, spent, remaining: remainingBudget(total, spent) };
  }
}

/** A broken ledger (check, yield, then blind write) that the concurrency test must catch. */
export class RacyBudgetLedger implements BudgetLedger {
  readonly #spent = new Map<string, BudgetAmount>();

  async spend(dataset: string, amount: BudgetAmount, total: BudgetAmount): Promise<BudgetState> {
    const before = this.#spent.get(dataset) ?? { epsilon: 0, delta: 0 };
    if (before.epsilon + amount.epsilon > total.epsilon)
      throw new PrivacyBudgetExceededError(dataset, amount, remainingBudget(total, before));
    await roundTrip(1);
    const now = this.#spent.get(dataset) ?? { epsilon: 0, delta: 0 };
    const spent = { epsilon: now.epsilon + amount.epsilon, delta: now.delta + amount.delta };
    this.#spent.set(dataset, spent);
    return { dataset, total, spent, remaining: remainingBudget(total, spent) };
  }

  async get(dataset: string, total: BudgetAmount): Promise<BudgetState> {
    const spent = this.#spent.get(dataset) ?? { epsilon: 0, delta: 0 };
    return { dataset, total, spent, remaining: remainingBudget(total, spent) };
  }
}
