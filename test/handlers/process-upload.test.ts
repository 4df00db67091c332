/**
 * End to end on emulated AWS: the real Lambda handler (module-scope clients built from the
 * environment, Powertools logger and metrics) against s3rver and dynalite on 127.0.0.1, with a
 * fake KMS. Files are put into the emulated ingest bucket, the S3 event s3rver emits is
 * delivered as SQS would deliver it, and the curated objects, the quarantine, the lineage
 * items and the budget rows are checked.
 */
import { GetObjectCommand, GetObjectTaggingCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, S3Event, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbLineageStore } from '../../functions/adapters/aws/dynamodb-lineage-store.ts';
import { PROCESSED_TAG } from '../../functions/adapters/aws/lifecycle-tags.ts';
import type { RunRecord } from '../../functions/core/lineage/run-record.ts';
import { handler } from '../../functions/handlers/process-upload.ts';
import {
  createStackTables,
  type DynamoEmulator,
  encodeS3EventKey,
  type FakeKms,
  installFakeKms,
  type S3Emulator,
  startDynalite,
  startS3rver,
  type TableNames,
  TEST_REGION,
} from '../support/emulators.ts';

const BUCKETS = { ingest: 'e2e-ingest', curated: 'e2e-curated', quarantine: 'e2e-quarantine', aggregates: 'e2e-aggregates' };
const DATA_KEY = 'data-key-e2e';
const TOKEN_KEY = 'token-key-e2e';

const CONTRACT = `
dataset: customers
subjectKey: customer_id
maxInvalidRowShare: 0.2
columns:
  - { name: customer_id, type: string }
  - { name: name, type: string, privacy: { entity: PERSON, operator: token } }
  - { name: email, type: string, format: email }
  - { name: country, type: string, enum: [GB, FR, DE] }
  - { name: age, type: integer, min: 0, max: 120 }
  - { name: plan, type: string, enum: [free, pro] }
privacyBudget: { epsilon: 1, delta: 0 }
aggregates:
  - { id: customers, kind: count, epsilon: 0.5 }
  - { id: by_plan, kind: count, by: plan, domain: [free, pro], epsilon: 0.25 }
`;

const FIRST = ['Amélie', 'Bruno', 'Chloé', 'Dmitri', 'Eva', 'Farid', 'Greta', 'Hiro'];
const LAST = ['Durand', 'Schmidt', 'Okafor', 'Lindqvist', 'Moreau', 'Novak'];

function customers(n: number, offset: number, bad: ReadonlySet<number> = new Set()): { csv: string; emails: string[]; names: string[] } {
  const emails: string[] = [];
  const names: string[] = [];
  const lines = ['customer_id,name,email,country,age,plan'];
  for (let i = 0; i < n; i++) {
    const k = i + offset;
    const name = `${FIRST[k % FIRST.length]} ${LAST[k % LAST.length]}`;
    const email = `${name.toLowerCase().replace(/[^a-z]+/g, '.')}${k}@example.org`;
    emails.push(email);
    names.push(name);
    const country = bad.has(i) ? 'XX' : ['GB', 'FR', 'DE'][k % 3];
    lines.push(`C${String(k).padStart(4, '0')},${name},${email},${country},${20 + (k % 50)},${k % 4 === 0 ? 'pro' : 'free'}`);
  }
  return { csv: `${lines.join('\n')}\n`, emails, names };
}

const context = {
  functionName: 'process-upload',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111111111111:function:process-upload',
  memoryLimitInMB: '2048',
  awsRequestId: 'req-e2e',
  getRemainingTimeInMillis: () => 900_000,
} as unknown as Context;

describe('process-upload on s3rver + dynalite + fake KMS', () => {
  let s3: S3Emulator;
  let db: DynamoEmulator;
  let tables: TableNames;
  let kms: FakeKms;
  let lineage: DynamoDbLineageStore;
  const output: string[] = [];
  let messageNo = 0;

  beforeAll(async () => {
    s3 = await startS3rver(Object.values(BUCKETS));
    db = await startDynalite();
    tables = await createStackTables(db.client);
    kms = installFakeKms([DATA_KEY, TOKEN_KEY]);
    lineage = new DynamoDbLineageStore({ doc: db.doc, tableName: tables.LINEAGE_TABLE_NAME });
    const env: Record<string, string> = {
      INGEST_BUCKET_NAME: BUCKETS.ingest,
      CURATED_BUCKET_NAME: BUCKETS.curated,
      QUARANTINE_BUCKET_NAME: BUCKETS.quarantine,
      AGGREGATES_BUCKET_NAME: BUCKETS.aggregates,
      ...tables,
      DATA_KEY_ID: DATA_KEY,
      TOKEN_KEY_ID: TOKEN_KEY,
      LOG_LEVEL: 'DEBUG',
      STAGE: 'test',
      AWS_REGION: TEST_REGION,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    };
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    // Powertools writes JSON logs and EMF straight to stdout (errors to stderr): keep every line.
    for (const stream of [process.stdout, process.stderr]) {
      const write = stream.write.bind(stream) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
        const line = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        if (!line.startsWith('{')) return write(chunk, ...rest);
        output.push(line);
        return true;
      });
    }
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKETS.ingest, Key: '_contracts/customers.contract.yaml', Body: CONTRACT }));
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    kms.restore();
    await s3.close();
    await db.close();
  });

  /** Puts a file into the ingest bucket and returns the SQS event S3 would have sent. */
  async function upload(key: string, body: string | Uint8Array): Promise<SQSEvent> {
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKETS.ingest, Key: key, Body: body }));
    const record = s3.events
      .flatMap((e) => e.Records)
      .filter((r) => r.s3.bucket.name === BUCKETS.ingest && r.s3.object.key === key)
      .at(-1);
    if (!record) throw new Error('s3rver emitted no event');
    // s3rver sends keys raw; S3 URL-encodes them with '+' for spaces.
    const s3Event: S3Event = {
      Records: [{ ...record, s3: { ...record.s3, object: { ...record.s3.object, key: encodeS3EventKey(key) } } }],
    };
    messageNo++;
    return {
      Records: [
        {
          messageId: `msg-${messageNo}`,
          receiptHandle: `rh-${messageNo}`,
          body: JSON.stringify(s3Event),
          attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'S3', ApproximateFirstReceiveTimestamp: '0' },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:eu-west-1:111111111111:uploads',
          awsRegion: TEST_REGION,
        },
      ],
    };
  }

  async function objects(bucket: string, prefix: string): Promise<string[]> {
    const out = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (out.Contents ?? []).map((o) => o.Key as string);
  }

  async function text(bucket: string, key: string): Promise<string> {
    const out = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return out.Body?.transformToString() ?? '';
  }

  async function runs(): Promise<RunRecord[]> {
    const list: RunRecord[] = [];
    for await (const r of lineage.list({ dataset: 'customers', kind: 'run' })) list.push(r as unknown as RunRecord);
    return list;
  }

  const first = customers(40, 0);
  const FIRST_KEY = 'customers/José Müller export+final 2026.csv';

  it('reports a transient KMS failure as a batch item failure, then publishes on redelivery', async () => {
    kms.failNext(
      'GenerateDataKey',
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }),
    );
    const event = await upload(FIRST_KEY, first.csv);
    expect(await handler(event, context)).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]?.messageId }] });
    expect(await objects(BUCKETS.curated, 'customers/')).toEqual([]);
    // SQS redelivers the same message; the claim was released, so it runs now.
    expect(await handler(event, context)).toEqual({ batchItemFailures: [] });
    // The raw object is now tagged for the lifecycle rule that expires processed uploads.
    const tags = await s3.client.send(new GetObjectTaggingCommand({ Bucket: BUCKETS.ingest, Key: FIRST_KEY }));
    expect(tags.TagSet).toEqual([{ Key: PROCESSED_TAG.key, Value: PROCESSED_TAG.value }]);
    const contractTags = await s3.client.send(
      new GetObjectTaggingCommand({ Bucket: BUCKETS.ingest, Key: '_contracts/customers.contract.yaml' }),
    );
    expect(contractTags.TagSet).toEqual([]);
  });

  it('published sanitised rows, the subject index and the manifest under the dataset', async () => {
    const keys = await objects(BUCKETS.curated, 'customers/');
    expect(keys).toHaveLength(3);
    expect(keys.some((k) => /\/part-00000\.csv$/.test(k))).toBe(true);
    expect(keys.some((k) => k.endsWith('/_subjects.idx'))).toBe(true);
    expect(keys.some((k) => k.endsWith('/_manifest.json'))).toBe(true);
    const part = await text(BUCKETS.curated, keys.find((k) => k.endsWith('.csv')) as string);
    const lines = part.trim().split('\n');
    expect(lines[0]).toBe('customer_id,name,email,country,age,plan');
    expect(lines).toHaveLength(41);
    for (const e of first.emails) expect(part).not.toContain(e);
    for (const n of first.names) expect(part).not.toContain(n);
    // Non-PII columns come through unchanged.
    const cells = lines[1]?.split(',') ?? [];
    expect([cells[3], cells[5]]).toEqual(['GB', 'pro']);
  });

  it('wrote one COMPLETE run to lineage and spent the budget once, with its audit row', async () => {
    const [run, ...more] = await runs();
    expect(more).toEqual([]);
    expect(run).toMatchObject({
      status: 'COMPLETE',
      dataset: 'customers',
      input: { bucket: 'ingest', key: FIRST_KEY },
      counts: { rowsIn: 40, rowsPublished: 40, rowsQuarantined: 0, conserved: true },
      contract: { source: `s3://${BUCKETS.ingest}/_contracts/customers.contract.yaml`, inferred: false },
    });
    expect(run?.budget).toEqual([expect.objectContaining({ epsilon: 0.75, remainingEpsilon: 0.25 })]);
    const budget = await db.doc.send(
      new QueryCommand({
        TableName: tables.BUDGET_TABLE_NAME,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': 'customers' },
      }),
    );
    const items = budget.Items ?? [];
    expect(items.find((i) => i.sk === 'STATE')).toMatchObject({ spentEpsilon: 0.75, spentDelta: 0 });
    expect(items.filter((i) => String(i.sk).startsWith('RELEASE#'))).toEqual([
      expect.objectContaining({ epsilon: 0.75, remainingEpsilon: 0.25 }),
    ]);
    expect(await objects(BUCKETS.aggregates, 'customers/')).toHaveLength(2);
  });

  it('treats the same event delivered again as a duplicate: no new output, no new run', async () => {
    const before = await objects(BUCKETS.curated, 'customers/');
    const event = await upload(FIRST_KEY, first.csv);
    expect(await handler(event, context)).toEqual({ batchItemFailures: [] });
    expect(await objects(BUCKETS.curated, 'customers/')).toEqual(before);
    expect(await runs()).toHaveLength(1);
  });

  it('quarantines invalid rows with a report and publishes the rest; the budget refuses a second release', async () => {
    const second = customers(30, 100, new Set([3, 7]));
    const event = await upload('customers/second.csv', second.csv);
    expect(await handler(event, context)).toEqual({ batchItemFailures: [] });
    const run = (await runs()).find((r) => r.input.key === 'customers/second.csv');
    expect(run).toMatchObject({
      status: 'COMPLETE',
      counts: { rowsIn: 30, rowsPublished: 28, rowsQuarantined: 2, conserved: true },
      budget: [],
    });
    const quarantined = await objects(BUCKETS.quarantine, 'customers/');
    const report = quarantined.find((k) => k.endsWith('/_report.json'));
    expect(report).toBeDefined();
    const reportText = await text(BUCKETS.quarantine, report as string);
    expect(JSON.parse(reportText)).toMatchObject({ rowsQuarantined: 2, reasons: { enum: 2 } });
    for (const e of second.emails) expect(reportText).not.toContain(e);
    expect(quarantined.some((k) => k.endsWith('/rows.jsonl'))).toBe(true);
  });

  it('quarantines a file that cannot be read at all, and the message still succeeds', async () => {
    const event = await upload('customers/broken.csv.gz', new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3]));
    expect(await handler(event, context)).toEqual({ batchItemFailures: [] });
    const run = (await runs()).find((r) => r.input.key === 'customers/broken.csv.gz');
    expect(run?.status).toBe('QUARANTINED');
    expect((await objects(BUCKETS.quarantine, 'customers/')).some((k) => k.endsWith('/file/broken.csv.gz'))).toBe(true);
  });

  it('ignores the s3:TestEvent and skips a key outside <dataset>/', async () => {
    const test: SQSEvent = {
      Records: [
        {
          ...(await upload('loose.csv', 'a,b\n1,2\n')).Records[0],
          body: JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: BUCKETS.ingest }),
        } as never,
      ],
    };
    expect(await handler(test, context)).toEqual({ batchItemFailures: [] });
    expect(await handler(await upload('loose.csv', 'a,b\n1,2\n'), context)).toEqual({ batchItemFailures: [] });
    expect((await runs()).some((r) => r.input.key === 'loose.csv')).toBe(false);
  });

  it('logged JSON lines and EMF metrics without any name, email or raw key', () => {
    expect(output.length).toBeGreaterThan(5);
    const all = output.join('');
    for (const v of [...first.emails, ...first.names, 'José', 'Müller']) expect(all).not.toContain(v);
    const emf = output.map((l) => JSON.parse(l)).filter((o) => o._aws);
    expect(emf.some((m) => m.RowsIn !== undefined && m.FilesProcessed !== undefined)).toBe(true);
  });
});
