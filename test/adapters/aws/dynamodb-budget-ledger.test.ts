import { ConditionalCheckFailedException, DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '../../../functions/adapters/aws/aws-ports.ts';
import { DynamoDbBudgetLedger } from '../../../functions/adapters/aws/dynamodb-budget-ledger.ts';
import { decimalAdd, decimalCompare, decimalSub, toDecimalString } from '../../../functions/adapters/aws/exact-decimal.ts';
import { PrivacyBudgetExceededError, TransientError, UsageError } from '../../../functions/core/errors.ts';
import { createStackTables, type DynamoEmulator, startDynalite, type TableNames } from '../../support/emulators.ts';

const clock = { now: () => new Date('2026-11-22T10:00:00Z') };

describe('exact decimals', () => {
  it.each([
    [0.3, 0.1, '0.2'],
    [1, 0.1, '0.9'],
    [1e-7, 1e-8, '0.00000009'],
    [10, 10, '0'],
    [0.1, 0.3, '-0.2'],
    [1.5e21, 1, '1499999999999999999999'],
  ])('%s - %s = %s', (a, b, expected) => {
    expect(decimalSub(a, b)).toBe(expected);
  });

  it('round-trips every finite double through its decimal form', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => Number(toDecimalString(x)) === x || Object.is(x, -0)),
    );
  });

  it('a + b - b = a exactly, and compare agrees with the sign of the difference', () => {
    const n = fc.double({ min: -1e6, max: 1e6, noNaN: true });
    fc.assert(
      fc.property(n, n, (a, b) => {
        expect(decimalCompare(decimalSub(decimalAdd(a, b), b), a)).toBe(0);
        const d = decimalSub(a, b);
        expect(decimalCompare(a, b)).toBe(d === '0' ? 0 : d.startsWith('-') ? -1 : 1);
      }),
    );
  });

  it('rejects non-finite numbers and junk', () => {
    expect(() => toDecimalString(Number.NaN)).toThrow(RangeError);
    expect(() => toDecimalString('1,5')).toThrow(RangeError);
  });
});

describe('DynamoDbBudgetLedger against dynalite', () => {
  let db: DynamoEmulator;
  let tables: TableNames;
  let ledger: DynamoDbBudgetLedger;

  beforeAll(async () => {
    db = await startDynalite();
    tables = await createStackTables(db.client);
    ledger = new DynamoDbBudgetLedger({ doc: db.doc, tableName: tables.BUDGET_TABLE_NAME, clock });
  });
  afterAll(async () => {
    await db.close();
  });

  it('spends to the last digit of the total and not one step further', async () => {
    const total = { epsilon: 0.3, delta: 0 };
    for (const id of ['r1', 'r2', 'r3']) await ledger.spend('exact', { epsilon: 0.1, delta: 0 }, total, id);
    // In binary floating point 0.1 + 0.1 + 0.1 > 0.3; in DynamoDB decimals it is exactly 0.3.
    const state = await ledger.get('exact', total);
    expect(state.spent.epsilon).toBe(0.3);
    expect(state.remaining.epsilon).toBe(0);
    const refusal = await ledger.spend('exact', { epsilon: 1e-9, delta: 0 }, total, 'r4').catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(PrivacyBudgetExceededError);
    expect((refusal as PrivacyBudgetExceededError).requested).toEqual({ epsilon: 1e-9, delta: 0 });
    expect((refusal as PrivacyBudgetExceededError).remaining).toEqual({ epsilon: 0, delta: 0 });
    expect((await ledger.get('exact', total)).spent.epsilon).toBe(0.3);
  });

  it('guards delta as well as epsilon', async () => {
    const total = { epsilon: 10, delta: 1e-5 };
    await ledger.spend('delta', { epsilon: 1, delta: 6e-6 }, total, 'd1');
    const refusal = await ledger.spend('delta', { epsilon: 1, delta: 6e-6 }, total, 'd2').catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(PrivacyBudgetExceededError);
    expect((refusal as PrivacyBudgetExceededError).remaining.delta).toBeCloseTo(4e-6, 15);
    const ok = await ledger.spend('delta', { epsilon: 1, delta: 4e-6 }, total, 'd3');
    expect(ok.remaining).toEqual({ epsilon: 8, delta: 0 });
  });

  it('refuses a request larger than the whole budget without writing', async () => {
    await expect(ledger.spend('huge', { epsilon: 2, delta: 0 }, { epsilon: 1, delta: 0 }, 'h1')).rejects.toBeInstanceOf(
      PrivacyBudgetExceededError,
    );
    const item = await db.doc.send(new GetCommand({ TableName: tables.BUDGET_TABLE_NAME, Key: { pk: 'huge', sk: 'STATE' } }));
    expect(item.Item).toBeUndefined();
  });

  it('answers a retried release with the state instead of spending twice, and keeps one audit row', async () => {
    const total = { epsilon: 1, delta: 0 };
    const first = await ledger.spend('replay', { epsilon: 0.4, delta: 0 }, total, 'same');
    const again = await ledger.spend('replay', { epsilon: 0.4, delta: 0 }, total, 'same');
    expect(first.spent.epsilon).toBe(0.4);
    expect(again.spent.epsilon).toBe(0.4);
    const rows = await db.doc.send(
      new QueryCommand({
        TableName: tables.BUDGET_TABLE_NAME,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :r)',
        ExpressionAttributeValues: { ':p': 'replay', ':r': 'RELEASE#' },
      }),
    );
    expect(rows.Items).toEqual([
      {
        pk: 'replay',
        sk: 'RELEASE#same',
        releaseId: 'same',
        epsilon: 0.4,
        delta: 0,
        remainingEpsilon: 0.6,
        remainingDelta: 0,
        at: '2026-11-22T10:00:00.000Z',
      },
    ]);
  });

  it('50 concurrent spends never overspend', async () => {
    const total = { epsilon: 1, delta: 0 };
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => ledger.spend('race', { epsilon: 0.07, delta: 0 }, total, `race-${i}`)),
    );
    const granted = results.filter((r) => r.status === 'fulfilled').length;
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused.every((r) => r.status === 'rejected' && r.reason instanceof PrivacyBudgetExceededError)).toBe(true);
    // floor(1 / 0.07) = 14 spends fit; exactly those are granted.
    expect(granted).toBe(14);
    const state = await ledger.get('race', total);
    expect(state.spent.epsilon).toBe(0.98);
    expect(state.remaining.epsilon).toBe(0.02);
  });

  it.each([[{ epsilon: -0.1, delta: 0 }], [{ epsilon: Number.NaN, delta: 0 }], [{ epsilon: 0.1, delta: Number.POSITIVE_INFINITY }]])(
    'rejects an invalid amount %o',
    async (amount) => {
      await expect(ledger.spend('bad', amount, { epsilon: 1, delta: 0 }, 'b1')).rejects.toBeInstanceOf(UsageError);
    },
  );
});

describe('DynamoDbBudgetLedger error paths (mocked DynamoDB)', () => {
  const client = new DynamoDBClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const doc = documentClient(client);
  const mock = mockClient(doc);
  const ledger = new DynamoDbBudgetLedger({ doc, tableName: 'budget', clock });

  it('turns a failed condition into PrivacyBudgetExceededError with what is left', async () => {
    mock.reset();
    mock.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    mock.on(GetCommand).resolves({ Item: { pk: 'ds', sk: 'STATE', spentEpsilon: 0.75, spentDelta: 0, releases: new Set(['other']) } });
    const err = await ledger.spend('ds', { epsilon: 0.5, delta: 0 }, { epsilon: 1, delta: 0 }, 'r').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrivacyBudgetExceededError);
    expect((err as PrivacyBudgetExceededError).remaining).toEqual({ epsilon: 0.25, delta: 0 });
    expect((err as Error).message).toContain("'ds'");
  });

  it('sends the exact bound total - requested', async () => {
    mock.reset();
    mock.on(UpdateCommand).resolves({ Attributes: { spentEpsilon: 0.1, spentDelta: 0 } });
    await ledger.spend('ds', { epsilon: 0.1, delta: 0 }, { epsilon: 0.3, delta: 0 }, 'r');
    const values = mock.commandCalls(UpdateCommand)[0]?.args[0].input.ExpressionAttributeValues ?? {};
    expect(String(values[':maxE'])).toBe('0.2');
  });

  it('maps throttling to TransientError', async () => {
    mock.reset();
    mock
      .on(UpdateCommand)
      .rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: { httpStatusCode: 400 } }));
    await expect(ledger.spend('ds', { epsilon: 0.1, delta: 0 }, { epsilon: 1, delta: 0 }, 'r')).rejects.toBeInstanceOf(TransientError);
  });
});
