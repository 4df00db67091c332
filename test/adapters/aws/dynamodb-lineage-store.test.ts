import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '../../../functions/adapters/aws/aws-ports.ts';
import { DynamoDbLineageStore } from '../../../functions/adapters/aws/dynamodb-lineage-store.ts';
import { ConflictError, TransientError, UsageError } from '../../../functions/core/errors.ts';
import type { LineageRecord } from '../../../functions/core/ports.ts';
import { createStackTables, type DynamoEmulator, startDynalite, type TableNames } from '../../support/emulators.ts';

const rec = (
  id: string,
  dataset: string,
  kind: LineageRecord['kind'],
  second: number,
  extra: Record<string, unknown> = {},
): LineageRecord => ({
  id,
  kind,
  dataset,
  at: new Date(Date.UTC(2026, 10, 22, 10, 0, second)).toISOString(),
  ...extra,
});

async function ids(it: AsyncIterable<LineageRecord>): Promise<string[]> {
  const out: string[] = [];
  for await (const r of it) out.push(r.id);
  return out;
}

describe('DynamoDbLineageStore against dynalite', () => {
  let db: DynamoEmulator;
  let tables: TableNames;
  let store: DynamoDbLineageStore;

  beforeAll(async () => {
    db = await startDynalite();
    tables = await createStackTables(db.client);
    store = new DynamoDbLineageStore({ doc: db.doc, tableName: tables.LINEAGE_TABLE_NAME });
    // Appended out of time order on purpose: lists come back in time order.
    await store.append(rec('run-b', 'customers', 'run', 2, { counts: { rowsIn: 3 }, nested: { list: [1, 'x', null, true] } }));
    await store.append(rec('run-a', 'customers', 'run', 1));
    await store.append(rec('rel-1', 'customers', 'release', 3));
    await store.append(rec('run-c', 'orders', 'run', 4));
    await store.append(rec('era-1', 'customers', 'erasure', 5));
  });
  afterAll(async () => {
    await db.close();
  });

  it('gets a record back exactly as written', async () => {
    expect(await store.get('run-b')).toEqual(
      rec('run-b', 'customers', 'run', 2, { counts: { rowsIn: 3 }, nested: { list: [1, 'x', null, true] } }),
    );
    expect(await store.get('missing')).toBeUndefined();
  });

  it('refuses a second record with the same id (ConflictError) and keeps the first', async () => {
    const err = await store.append(rec('run-a', 'customers', 'run', 9, { tampered: true })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(await store.get('run-a')).toEqual(rec('run-a', 'customers', 'run', 1));
  });

  it('lists a dataset in append (time) order, optionally by kind', async () => {
    expect(await ids(store.list({ dataset: 'customers' }))).toEqual(['run-a', 'run-b', 'rel-1', 'era-1']);
    expect(await ids(store.list({ dataset: 'customers', kind: 'run' }))).toEqual(['run-a', 'run-b']);
    expect(await ids(store.list({ dataset: 'nobody' }))).toEqual([]);
  });

  it('lists one kind across datasets, and the whole history merged in time order', async () => {
    expect(await ids(store.list({ kind: 'run' }))).toEqual(['run-a', 'run-b', 'run-c']);
    expect(await ids(store.list())).toEqual(['run-a', 'run-b', 'rel-1', 'run-c', 'era-1']);
  });

  it('stores a large record gzipped and reads it back', async () => {
    const big = rec('run-big', 'wide', 'run', 7, {
      profile: Array.from({ length: 6000 }, (_, i) => ({ column: `c${i}`, note: randomBytes(24).toString('hex') })),
    });
    await store.append(big);
    const item = await db.doc.send(new GetCommand({ TableName: tables.LINEAGE_TABLE_NAME, Key: { pk: 'run-big' } }));
    expect(typeof item.Item?.body).toBe('undefined');
    expect(item.Item?.bodyGz).toBeInstanceOf(Uint8Array);
    expect(await store.get('run-big')).toEqual(big);
  });

  it('rejects a record without id, dataset, time or a known kind', async () => {
    await expect(store.append({ ...rec('', 'd', 'run', 1) })).rejects.toBeInstanceOf(UsageError);
    await expect(store.append({ ...rec('x', 'd', 'run', 1), kind: 'other' as never })).rejects.toBeInstanceOf(UsageError);
  });
});

describe('DynamoDbLineageStore error paths (mocked DynamoDB)', () => {
  it('maps throttling to TransientError', async () => {
    const doc = documentClient(new DynamoDBClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }));
    const mock = mockClient(doc);
    mock
      .on(PutCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    const store = new DynamoDbLineageStore({ doc, tableName: 'lineage' });
    await expect(store.append(rec('r', 'd', 'run', 1))).rejects.toBeInstanceOf(TransientError);
  });
});
