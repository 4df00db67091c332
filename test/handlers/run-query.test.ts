/**
 * The ad-hoc DP query endpoint on emulated AWS: a file is ingested through the real
 * process-upload handler, then the run-query handler (module-scope clients from the
 * environment) releases over it and spends budget in the DynamoDB ledger.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../functions/handlers/run-query.ts';
import { type EmulatedStack, functionUrlEvent, resultBody, startEmulatedStack, TEST_CONTEXT } from '../support/emulated-stack.ts';

const CONTRACT = `
dataset: visits
columns:
  - { name: visitor_id, type: string }
  - { name: email, type: string, format: email }
  - { name: age, type: integer, min: 0, max: 100 }
  - { name: channel, type: string, enum: [web, app] }
privacyBudget: { epsilon: 1, delta: 0.000001 }
aggregates: []
`;
const ROWS = 200;
const CSV = `visitor_id,email,age,channel\n${Array.from({ length: ROWS }, (_, i) => `V${i},v${i}@example.com,${20 + (i % 40)},${i % 4 === 0 ? 'app' : 'web'}`).join('\n')}\n`;
const CALLER = 'arn:aws:sts::111111111111:assumed-role/PrivacyPipeline-test-MlConsumer/bob';

describe('run-query on s3rver + dynalite + fake KMS', () => {
  let stack: EmulatedStack;

  beforeAll(async () => {
    stack = await startEmulatedStack('rq');
    await stack.s3.client.send(
      new PutObjectCommand({ Bucket: stack.buckets.ingest, Key: '_contracts/visits.contract.yaml', Body: CONTRACT }),
    );
    expect(await stack.ingest('visits/2026-11-01.csv', CSV)).toEqual([]);
  });
  afterAll(() => stack.close());

  const query = async (body: unknown, opts?: Parameters<typeof functionUrlEvent>[1]) =>
    resultBody(await handler(functionUrlEvent(body, { caller: CALLER, ...opts }), TEST_CONTEXT));

  async function ledger(): Promise<Record<string, unknown>[]> {
    const out = await stack.db.doc.send(
      new QueryCommand({
        TableName: stack.tables.BUDGET_TABLE_NAME,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': 'visits' },
      }),
    );
    return (out.Items ?? []) as Record<string, unknown>[];
  }

  it('releases a noisy count, publishes it and spends the budget in the ledger', async () => {
    const { statusCode, body } = await query({ dataset: 'visits', kind: 'count', epsilon: 0.5 });
    expect(statusCode).toBe(200);
    expect(body).toMatchObject({
      dataset: 'visits',
      kind: 'count',
      mechanism: expect.any(String),
      epsilon: 0.5,
      budget: { remainingEpsilon: 0.5 },
    });
    // Laplace noise at epsilon 0.5: the count stays close to 200 (scale 2; 60 is beyond 1e-12 odds).
    expect(Math.abs((body.value as number) - ROWS)).toBeLessThan(60);
    const state = (await ledger()).find((i) => i.sk === 'STATE');
    expect(state).toMatchObject({ spentEpsilon: 0.5 });
    const releases = (await ledger()).filter((i) => String(i.sk).startsWith('RELEASE#'));
    expect(releases).toEqual([expect.objectContaining({ sk: `RELEASE#${body.releaseId}`, epsilon: 0.5 })]);
    const outputs = body.outputs as { bucket: string; key: string }[];
    const json = outputs.find((o) => o.key.endsWith('.json'));
    expect(json?.bucket).toBe('aggregates');
    const published = await stack.s3.client.send(new GetObjectCommand({ Bucket: stack.buckets.aggregates, Key: json?.key }));
    expect(await published.Body?.transformToString()).toContain(String(body.releaseId));
  });

  it('records the signed caller as the requester in lineage', async () => {
    const { body } = await query({ dataset: 'visits', kind: 'mean', column: 'age', bounds: [0, 100], epsilon: 0.2 });
    expect(body.value).toBeTypeOf('number');
    const { DynamoDbLineageStore } = await import('../../functions/adapters/aws/dynamodb-lineage-store.ts');
    const lineage = new DynamoDbLineageStore({ doc: stack.db.doc, tableName: stack.tables.LINEAGE_TABLE_NAME });
    const release = await lineage.get(`release-${body.releaseId}`);
    expect(release).toMatchObject({ kind: 'release', dataset: 'visits', requestedBy: CALLER, spent: { epsilon: 0.2 } });
  });

  it('refuses a release beyond the remaining budget with 409 and spends nothing', async () => {
    const before = (await ledger()).find((i) => i.sk === 'STATE');
    const { statusCode, body } = await query({ dataset: 'visits', kind: 'count', epsilon: 0.5 });
    expect(statusCode).toBe(409);
    expect(body).toMatchObject({
      error: 'PrivacyBudgetExceededError',
      requested: { epsilon: 0.5 },
      remaining: { epsilon: expect.closeTo(0.3, 9) },
    });
    expect((await ledger()).find((i) => i.sk === 'STATE')).toEqual(before);
  });

  it.each([
    ['not JSON', undefined, { raw: '{"dataset":' }, 400],
    ['unknown field', { dataset: 'visits', kind: 'count', epsilon: 0.1, sql: 'select *' }, {}, 400],
    ['count with a column', { dataset: 'visits', kind: 'count', column: 'age', epsilon: 0.1 }, {}, 400],
    ['mean without a column', { dataset: 'visits', kind: 'mean', epsilon: 0.1 }, {}, 400],
    ['negative epsilon', { dataset: 'visits', kind: 'count', epsilon: -1 }, {}, 400],
    ['inverted bounds', { dataset: 'visits', kind: 'sum', column: 'age', bounds: [9, 1], epsilon: 0.1 }, {}, 400],
    ['unknown column (core usage error)', { dataset: 'visits', kind: 'sum', column: 'salary', bounds: [0, 1], epsilon: 0.1 }, {}, 400],
    ['dataset never ingested', { dataset: 'nothing', kind: 'count', epsilon: 0.1 }, {}, 400],
    ['unsigned request', { dataset: 'visits', kind: 'count', epsilon: 0.1 }, { caller: null }, 403],
    ['GET', { dataset: 'visits', kind: 'count', epsilon: 0.1 }, { method: 'GET' }, 405],
  ] as const)('rejects %s without spending', async (_case, body, opts, status) => {
    const before = JSON.stringify(await ledger());
    const result = await query(body, opts as Parameters<typeof functionUrlEvent>[1]);
    expect(result.statusCode).toBe(status);
    expect(JSON.stringify(result.body)).not.toContain('select');
    expect(JSON.stringify(await ledger())).toBe(before);
  });

  it('logged no email of the ingested file', () => {
    const all = stack.output.join('');
    expect(all).toContain('ad-hoc release');
    expect(all).not.toMatch(/v\d+@example\.com/);
  });
});
