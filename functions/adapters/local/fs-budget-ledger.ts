/**
 * Per-dataset privacy budget in `<home>/budget/<dataset>.json`, spent under the dataset's lock.
 *
 * Amounts are kept as integers (epsilon in 1e-9 units, delta in 1e-15 units) parsed from the
 * numbers' decimal text, so 0.1 + 0.1 + ... never drifts past a total through float error:
 * twenty spends of 0.1 fit a total of 2 exactly. Where a value has more digits than a unit
 * holds, a spend is rounded up and a total down, so rounding never grants budget.
 *
 * `spend` is idempotent per releaseId: the same release charged again (a retry after a crash)
 * is not charged twice, provided it asks for the same amount; another amount is a conflict.
 * That makes a retried release safe only if it republishes the same noisy result; the caller
 * must give a fresh releaseId to anything that draws new noise.
 */
import path from 'node:path';
import { ConflictError, PrivacyBudgetExceededError, UsageError } from '../../core/errors.ts';
import type { BudgetAmount, BudgetLedger, BudgetState, Clock } from '../../core/ports.ts';
import { atomicWriteFile, encodeName, type LockOptions, readFileIfExists, withFileLock } from './fs-utils.ts';

const EPSILON_SCALE = 9;
const DELTA_SCALE = 15;

interface LedgerFile {
  readonly format: 1;
  readonly dataset: string;
  readonly units: { readonly epsilon: string; readonly delta: string };
  readonly spent: { readonly epsilonUnits: string; readonly deltaUnits: string };
  readonly log: readonly SpendEntry[];
}

interface SpendEntry {
  readonly releaseId: string;
  readonly epsilon: number;
  readonly delta: number;
  readonly epsilonUnits: string;
  readonly deltaUnits: string;
  readonly at: string;
}

interface Units {
  readonly epsilon: bigint;
  readonly delta: bigint;
}

const systemClock: Clock = { now: () => new Date() };

/** File-backed privacy budget ledger; spends are atomic across processes. */
export class FsBudgetLedger implements BudgetLedger {
  readonly dir: string;

  constructor(
    home: string,
    private readonly clock: Clock = systemClock,
    private readonly lockOptions: LockOptions = {},
  ) {
    this.dir = path.join(home, 'budget');
  }

  async spend(dataset: string, amount: BudgetAmount, total: BudgetAmount, releaseId: string): Promise<BudgetState> {
    const file = this.file(dataset);
    if (typeof releaseId !== 'string' || releaseId.length === 0)
      throw new UsageError('releaseId must be a non-empty string', { dataset, rule: 'release-id' });
    const want = toUnitsOf(amount, 'up', 'amount');
    const cap = toUnitsOf(total, 'down', 'total');
    return withFileLock(
      `${file.slice(0, -'.json'.length)}.lock`,
      async () => {
        const ledger = await readLedger(file, dataset);
        const spent = spentOf(ledger);
        const previous = ledger.log.find((e) => e.releaseId === releaseId);
        if (previous !== undefined) {
          if (BigInt(previous.epsilonUnits) === want.epsilon && BigInt(previous.deltaUnits) === want.delta)
            return state(dataset, cap, spent);
          throw new ConflictError(`release ${releaseId} was already charged a different amount`, {
            dataset,
            releaseId,
            rule: 'release-id',
          });
        }
        const next = { epsilon: spent.epsilon + want.epsilon, delta: spent.delta + want.delta };
        if (next.epsilon > cap.epsilon || next.delta > cap.delta) {
          const left = state(dataset, cap, spent).remaining;
          throw new PrivacyBudgetExceededError(
            dataset,
            { epsilon: amount.epsilon, delta: amount.delta },
            { epsilon: left.epsilon, delta: left.delta },
          );
        }
        const entry: SpendEntry = {
          releaseId,
          epsilon: amount.epsilon,
          delta: amount.delta,
          epsilonUnits: want.epsilon.toString(),
          deltaUnits: want.delta.toString(),
          at: this.clock.now().toISOString(),
        };
        const updated: LedgerFile = {
          ...ledger,
          spent: { epsilonUnits: next.epsilon.toString(), deltaUnits: next.delta.toString() },
          log: [...ledger.log, entry],
        };
        await atomicWriteFile(file, `${JSON.stringify(updated, null, 1)}\n`);
        return state(dataset, cap, next);
      },
      this.lockOptions,
    );
  }

  async get(dataset: string, total: BudgetAmount): Promise<BudgetState> {
    const ledger = await readLedger(this.file(dataset), dataset);
    return state(dataset, toUnitsOf(total, 'down', 'total'), spentOf(ledger));
  }

  /** The spend log of a dataset, oldest first. */
  async log(dataset: string): Promise<readonly SpendEntry[]> {
    return (await readLedger(this.file(dataset), dataset)).log;
  }

  private file(dataset: string): string {
    if (typeof dataset !== 'string' || dataset.length === 0)
      throw new UsageError('dataset name must be a non-empty string', { rule: 'dataset' });
    return path.join(this.dir, `${encodeName(dataset)}.json`);
  }
}

async function readLedger(file: string, dataset: string): Promise<LedgerFile> {
  const text = await readFileIfExists(file);
  if (text === undefined) {
    return {
      format: 1,
      dataset,
      units: { epsilon: `1e-${EPSILON_SCALE}`, delta: `1e-${DELTA_SCALE}` },
      spent: { epsilonUnits: '0', deltaUnits: '0' },
      log: [],
    };
  }
  const ledger = JSON.parse(text.toString('utf8')) as LedgerFile;
  if (ledger.format !== 1 || ledger.dataset !== dataset)
    throw new ConflictError('budget ledger file does not belong to this dataset', { dataset, rule: 'ledger-format' });
  return ledger;
}

function spentOf(ledger: LedgerFile): Units {
  return { epsilon: BigInt(ledger.spent.epsilonUnits), delta: BigInt(ledger.spent.deltaUnits) };
}

function state(dataset: string, cap: Units, spent: Units): BudgetState {
  const left = (c: bigint, s: bigint): bigint => (c > s ? c - s : 0n);
  return {
    dataset,
    total: { epsilon: fromUnits(cap.epsilon, EPSILON_SCALE), delta: fromUnits(cap.delta, DELTA_SCALE) },
    spent: { epsilon: fromUnits(spent.epsilon, EPSILON_SCALE), delta: fromUnits(spent.delta, DELTA_SCALE) },
    remaining: {
      epsilon: fromUnits(left(cap.epsilon, spent.epsilon), EPSILON_SCALE),
      delta: fromUnits(left(cap.delta, spent.delta), DELTA_SCALE),
    },
  };
}

function toUnitsOf(amount: BudgetAmount, round: 'up' | 'down', what: string): Units {
  if (amount === null || typeof amount !== 'object')
    throw new UsageError(`budget ${what} must have epsilon and delta`, { rule: 'budget-amount' });
  return { epsilon: toUnits(amount.epsilon, EPSILON_SCALE, round, what), delta: toUnits(amount.delta, DELTA_SCALE, round, what) };
}

const DECIMAL = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/;

/** Exact conversion of a JS number's decimal text into integer units of 10^-scale. */
export function toUnits(value: number, scale: number, round: 'up' | 'down', what = 'amount'): bigint {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new UsageError(`budget ${what} must be a finite number >= 0`, { rule: 'budget-amount' });
  }
  const m = DECIMAL.exec(value.toString());
  if (m === null) throw new UsageError(`budget ${what} is not a decimal number`, { rule: 'budget-amount' });
  const frac = m[2] ?? '';
  const digits = BigInt(`${m[1]}${frac}`);
  const exp = Number(m[3] ?? '0') - frac.length + scale;
  if (exp >= 0) return digits * 10n ** BigInt(exp);
  const div = 10n ** BigInt(-exp);
  const q = digits / div;
  return round === 'up' && q * div !== digits ? q + 1n : q;
}

/** Integer units back to the nearest number (via decimal text, so 3 units of 0.1 print as 0.3). */
export function fromUnits(units: bigint, scale: number): number {
  const text = units.toString().padStart(scale + 1, '0');
  return Number(`${text.slice(0, -scale)}.${text.slice(-scale)}`);
}
