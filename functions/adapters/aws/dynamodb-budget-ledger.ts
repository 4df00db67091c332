/**
 * BudgetLedger on DynamoDB. A spend is ONE conditional UpdateItem on the dataset's STATE item:
 *
 *   ADD spentEpsilon :e, spentDelta :d, releases :rid
 *   IF (spentEpsilon absent OR spentEpsilon <= total - requested) AND (same for delta)
 *      AND NOT contains(releases, :rid)
 *
 * DynamoDB numbers are exact decimals and the bound `total - requested` is computed exactly
 * (exact-decimal.ts), so with any number of concurrent callers spent + requested <= total holds
 * to the last digit, and a refused spend writes nothing. The release id set makes a retried
 * spend (same releaseId) a no-op that returns the state instead of spending twice.
 */
import { type DynamoDBDocumentClient, GetCommand, NumberValue, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { PrivacyBudgetExceededError, UsageError } from '../../core/errors.ts';
import type { BudgetAmount, BudgetLedger, BudgetState, Clock } from '../../core/ports.ts';
import { decimalCompare, decimalSub, toDecimalString } from './exact-decimal.ts';
import { awsErrorName, mapAwsError } from './map-aws-error.ts';
import { budgetKeys } from './table-layout.ts';

export interface DynamoDbBudgetLedgerOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly clock: Clock;
}

type StateItem = Record<string, unknown> | undefined;

export class DynamoDbBudgetLedger implements BudgetLedger {
  constructor(private readonly options: DynamoDbBudgetLedgerOptions) {}

  async spend(dataset: string, amount: BudgetAmount, total: BudgetAmount, releaseId: string): Promise<BudgetState> {
    checkAmount(amount, 'requested');
    checkAmount(total, 'total');
    if (releaseId.length === 0) throw new UsageError('a budget spend needs a release id', { dataset, rule: 'budget-release-id' });
    const maxEpsilon = decimalSub(total.epsilon, amount.epsilon);
    const maxDelta = decimalSub(total.delta, amount.delta);
    if (decimalCompare(maxEpsilon, 0) < 0 || decimalCompare(maxDelta, 0) < 0) {
      // More than the whole budget: refuse without writing (unless this release already went through).
      return this.refuse(dataset, amount, total, releaseId);
    }
    const now = this.options.clock.now().toISOString();
    let attributes: StateItem;
    try {
      const out = await this.options.doc.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: budgetKeys.state(dataset),
          UpdateExpression: 'ADD spentEpsilon :e, spentDelta :d, releases :rids SET totalEpsilon = :te, totalDelta = :td, updatedAt = :now',
          ConditionExpression:
            '(attribute_not_exists(spentEpsilon) OR spentEpsilon <= :maxE) AND ' +
            '(attribute_not_exists(spentDelta) OR spentDelta <= :maxD) AND NOT contains(releases, :rid)',
          ExpressionAttributeValues: {
            ':e': exact(amount.epsilon),
            ':d': exact(amount.delta),
            ':rids': new Set([releaseId]),
            ':rid': releaseId,
            ':te': exact(total.epsilon),
            ':td': exact(total.delta),
            ':maxE': new NumberValue(maxEpsilon),
            ':maxD': new NumberValue(maxDelta),
            ':now': now,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      attributes = out.Attributes;
    } catch (err) {
      if (awsErrorName(err) === 'ConditionalCheckFailedException') return this.refuse(dataset, amount, total, releaseId);
      throw mapAwsError(err, 'DynamoDB UpdateItem (budget spend)', { dataset });
    }
    const state = stateOf(dataset, attributes, total);
    await this.recordRelease(dataset, releaseId, amount, state, now);
    return state;
  }

  async get(dataset: string, total: BudgetAmount): Promise<BudgetState> {
    checkAmount(total, 'total');
    return stateOf(dataset, await this.readState(dataset), total);
  }

  /** Refusal path: an earlier identical spend is answered with the state; otherwise the error. */
  private async refuse(dataset: string, amount: BudgetAmount, total: BudgetAmount, releaseId: string): Promise<BudgetState> {
    const item = await this.readState(dataset);
    const state = stateOf(dataset, item, total);
    const releases = item?.releases;
    if (releases instanceof Set && releases.has(releaseId)) {
      // A retry of a spend that went through: make sure its audit row exists, spend nothing.
      await this.recordRelease(dataset, releaseId, amount, state, this.options.clock.now().toISOString());
      return state;
    }
    throw new PrivacyBudgetExceededError(dataset, { epsilon: amount.epsilon, delta: amount.delta }, { ...state.remaining });
  }

  private async readState(dataset: string): Promise<StateItem> {
    try {
      const out = await this.options.doc.send(
        new GetCommand({ TableName: this.options.tableName, Key: budgetKeys.state(dataset), ConsistentRead: true }),
      );
      return out.Item;
    } catch (err) {
      throw mapAwsError(err, 'DynamoDB GetItem (budget state)', { dataset });
    }
  }

  /** One audit row per release, beside the state; idempotent. */
  private async recordRelease(dataset: string, releaseId: string, amount: BudgetAmount, state: BudgetState, at: string): Promise<void> {
    try {
      await this.options.doc.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: {
            ...budgetKeys.release(dataset, releaseId),
            releaseId,
            epsilon: exact(amount.epsilon),
            delta: exact(amount.delta),
            remainingEpsilon: exact(state.remaining.epsilon),
            remainingDelta: exact(state.remaining.delta),
            at,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if (awsErrorName(err) === 'ConditionalCheckFailedException') return;
      throw mapAwsError(err, 'DynamoDB PutItem (budget release)', { dataset });
    }
  }
}

function exact(n: number): NumberValue {
  return new NumberValue(toDecimalString(n));
}

function checkAmount(amount: BudgetAmount, what: string): void {
  for (const [name, v] of [
    ['epsilon', amount.epsilon],
    ['delta', amount.delta],
  ] as const) {
    if (!Number.isFinite(v) || v < 0) throw new UsageError(`${what} ${name} must be a finite number >= 0`, { rule: 'budget-amount' });
  }
}

function numberAttr(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

function stateOf(dataset: string, item: StateItem, total: BudgetAmount): BudgetState {
  const spent = { epsilon: numberAttr(item?.spentEpsilon), delta: numberAttr(item?.spentDelta) };
  const remaining = {
    epsilon: Math.max(0, Number(decimalSub(total.epsilon, spent.epsilon))),
    delta: Math.max(0, Number(decimalSub(total.delta, spent.delta))),
  };
  return { dataset, total: { epsilon: total.epsilon, delta: total.delta }, spent, remaining };
}
