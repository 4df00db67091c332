/**
 * Idempotency on the Lambda path (process-upload over s3rver + dynalite + fake KMS): two
 * concurrent deliveries of one S3 event, a crash in the middle of a write, DynamoDB throttling
 * raised by the SDK itself, and a second upload of the same bytes all end in exactly one
 * publication with one lineage run and one budget charge.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { S3Event, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsPorts, createAwsPorts, documentClient, parseAwsEnv } from '../../functions/adapters/aws/aws-ports.ts';
import type { RunRecord } from '../../functions/core/lineage/run-record.ts';
import type { LineageRecord, Logger, Ports } from '../../functions/core/ports.ts';
import { type MetricsSink, type ProcessUploadDeps, processUpload } from '../../functions/handlers/process-upload.ts';
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
import { faultyPorts, SkewClock } from '../support/faulty-ports.ts';
import { CLAIM_TTL_MS, CONTRACT, peopleCsv, RELEASE_EPSILON, sha256 } from './helpers.ts';

const BUCKETS = { ingest: 'rel-ingest', curated: 'rel-curated', quarantine: 'rel-quarantine', aggregates: 'rel-aggregates' };
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('process-upload idempotency on emulated AWS', () => {
  let s3: S3Emulator;
  let db: DynamoEmulator;
  let tables: TableNames;
  let kms: FakeKms;
  let base: AwsPorts;
  let throttledDb: DynamoDBClient;
  const throttle = { lineagePuts: 0, budgetUpdates: 0 };
  const clock = new SkewClock();
  const logs: string[] = [];
  const metrics: { name: string; value: number }[] = [];
  let messageNo = 0;

  const logger: Logger = {
    debug: (m, f) => logs.push(JSON.stringify({ m, ...f })),
    info: (m, f) => logs.push(JSON.stringify({ m, ...f })),
    warn: (m, f) => logs.push(JSON.stringify({ m, ...f })),
    error: (m, f) => logs.push(JSON.stringify({ m, ...f })),
  };
  const sink: MetricsSink = { addMetric: (name, _u, value) => metrics.push({ name, value }), publishStoredMetrics: () => {} };
  const deps = (ports: Ports): ProcessUploadDeps => ({
    ports,
    ingestBucketName: BUCKETS.ingest,
    metrics: sink,
    ingestOptions: { config: { claimTtlMs: CLAIM_TTL_MS } },
  });

  beforeAll(async () => {
    s3 = await startS3rver(Object.values(BUCKETS));
    db = await startDynalite();
    tables = await createStackTables(db.client);
    kms = installFakeKms(['data-key', 'token-key']);
    const env = parseAwsEnv({
      INGEST_BUCKET_NAME: BUCKETS.ingest,
      CURATED_BUCKET_NAME: BUCKETS.curated,
      QUARANTINE_BUCKET_NAME: BUCKETS.quarantine,
      AGGREGATES_BUCKET_NAME: BUCKETS.aggregates,
      ...tables,
      DATA_KEY_ID: 'data-key',
      TOKEN_KEY_ID: 'token-key',
    });
    // DynamoDB throttling raised inside the SDK (before its own retries see it, as when they are exhausted).
    throttledDb = new DynamoDBClient({ region: TEST_REGION, endpoint: db.endpoint, credentials: CREDENTIALS });
    throttledDb.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { TableName?: string };
        const name = (args.input as { UpdateExpression?: unknown }).UpdateExpression !== undefined ? 'update' : 'put';
        const fail =
          (input.TableName === tables.LINEAGE_TABLE_NAME && name === 'put' && throttle.lineagePuts > 0 && throttle.lineagePuts--) ||
          (input.TableName === tables.BUDGET_TABLE_NAME && name === 'update' && throttle.budgetUpdates > 0 && throttle.budgetUpdates--);
        if (fail) {
          throw Object.assign(new Error('The level of configured provisioned throughput for the table was exceeded.'), {
            name: 'ProvisionedThroughputExceededException',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'injectThrottling' },
    );
    base = createAwsPorts(env, {
      clients: { s3: s3.client, kms: new KMSClient({ region: TEST_REGION, credentials: CREDENTIALS }), doc: documentClient(throttledDb) },
      clock,
      logger,
    });
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKETS.ingest, Key: '_contracts/people.contract.yaml', Body: CONTRACT }));
  });

  afterAll(async () => {
    kms.restore();
    throttledDb.destroy();
    await s3.close();
    await db.close();
  });

  async function upload(key: string, body: string): Promise<SQSEvent> {
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKETS.ingest, Key: key, Body: body }));
    const record = s3.events
      .flatMap((e) => e.Records)
      .filter((r) => r.s3.bucket.name === BUCKETS.ingest && r.s3.object.key === key)
      .at(-1);
    if (!record) throw new Error('s3rver emitted no event');
    return sqsEvent({ Records: [{ ...record, s3: { ...record.s3, object: { ...record.s3.object, key: encodeS3EventKey(key) } } }] });
  }

  function sqsEvent(s3Event: S3Event): SQSEvent {
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

  /** The same notification delivered again by SQS (at-least-once): a new receipt of the same body. */
  const redeliver = (event: SQSEvent): SQSEvent => sqsEvent(JSON.parse(event.Records[0]?.body ?? '{}') as S3Event);
  const failuresOf = (response: { batchItemFailures: { itemIdentifier: string }[] }) => response.batchItemFailures.length;

  async function keys(bucket: string, prefix: string): Promise<string[]> {
    const out = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (out.Contents ?? []).map((o) => o.Key as string);
  }

  async function runs(dataset: string): Promise<RunRecord[]> {
    const out: RunRecord[] = [];
    for await (const r of base.lineage.list({ dataset, kind: 'run' })) out.push(r as unknown as RunRecord);
    return out;
  }

  async function budgetRows(dataset: string) {
    const out = await db.doc.send(
      new QueryCommand({
        TableName: tables.BUDGET_TABLE_NAME,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': dataset },
      }),
    );
    return out.Items ?? [];
  }

  /** One COMPLETE run whose every output is the current S3 object, nothing else under the run, the budget charged once. */
  async function expectOnePublication(dataset: string, rows: number) {
    const all = await runs(dataset);
    expect(all.map((r) => r.status)).toEqual(['COMPLETE']);
    const run = all[0] as RunRecord;
    expect(run.counts).toMatchObject({ rowsIn: rows, rowsPublished: rows, conserved: true });
    for (const o of run.outputs) {
      const got = await s3.client.send(new GetObjectCommand({ Bucket: BUCKETS[o.bucket], Key: o.key }));
      expect(sha256(await (got.Body?.transformToByteArray() ?? Promise.resolve(new Uint8Array()))), o.key).toBe(o.sha256);
    }
    const named = new Set(run.outputs.map((o) => `${o.bucket}/${o.key}`));
    for (const bucket of ['curated', 'quarantine', 'aggregates'] as const) {
      for (const k of await keys(BUCKETS[bucket], `${dataset}/`)) expect(named.has(`${bucket}/${k}`), `orphan ${bucket}/${k}`).toBe(true);
    }
    const releases = (await budgetRows(dataset)).filter((i) => String(i.sk).startsWith('RELEASE#'));
    expect(releases).toHaveLength(1);
    expect((await budgetRows(dataset)).find((i) => i.sk === 'STATE')).toMatchObject({ spentEpsilon: RELEASE_EPSILON });
    return run;
  }

  it('two concurrent deliveries of one event: one processes, the other is retried and then skipped as a duplicate', async () => {
    const { csv, emails } = peopleCsv(200);
    const event = await upload('people/concurrent.csv', csv);
    const reached = deferred();
    const gate = deferred();
    const first = faultyPorts(base, []);
    first.onCall = async (call) => {
      if (call.port === 'lineage' && call.op === 'append' && (call.args[0] as LineageRecord).kind === 'run') {
        reached.resolve();
        await gate.promise;
      }
    };
    const running = processUpload(deps(first.ports), event);
    await reached.promise; // the first invocation has written every output and is about to commit
    metrics.length = 0;
    const duplicateDelivery = redeliver(event);
    expect(await processUpload(deps(base), duplicateDelivery)).toEqual({
      batchItemFailures: [{ itemIdentifier: duplicateDelivery.Records[0]?.messageId }],
    });
    expect(metrics).toContainEqual({ name: 'TransientFailures', value: 1 });
    gate.resolve();
    expect(failuresOf(await running)).toBe(0);
    // SQS hands the failed message back later: the claim is completed, so it is a duplicate.
    metrics.length = 0;
    expect(failuresOf(await processUpload(deps(base), redeliver(event)))).toBe(0);
    expect(metrics).toContainEqual({ name: 'Duplicates', value: 1 });
    await expectOnePublication('people', 200);
    const text = logs.join('\n');
    for (const e of emails) expect(text).not.toContain(e);
  });

  it('a crash in the middle of a write: the redelivery waits for the claim to expire, then publishes exactly once', async () => {
    const { csv } = peopleCsv(150);
    await s3.client.send(
      new PutObjectCommand({
        Bucket: BUCKETS.ingest,
        Key: '_contracts/crash.contract.yaml',
        Body: CONTRACT.replace('dataset: people', 'dataset: crash'),
      }),
    );
    const event = await upload('crash/file.csv', csv);
    const crashing = faultyPorts(base, [
      {
        port: 'objects',
        op: 'put',
        match: (a) => a[0] === 'curated' && String(a[1]).endsWith('_manifest.json'),
        fault: { kind: 'crash', when: 'before' },
      },
    ]);
    expect(failuresOf(await processUpload(deps(crashing.ports), event))).toBe(1);
    expect(crashing.fired).toEqual([1]);
    expect(await runs('crash')).toEqual([]);
    // Redelivered before the dead invocation's claim expired: still in progress, retried again.
    expect(failuresOf(await processUpload(deps(base), redeliver(event)))).toBe(1);
    clock.advance(CLAIM_TTL_MS + 1_000);
    expect(failuresOf(await processUpload(deps(base), redeliver(event)))).toBe(0);
    expect(failuresOf(await processUpload(deps(base), redeliver(event)))).toBe(0);
    await expectOnePublication('crash', 150);
  });

  it('DynamoDB throttling raised by the SDK on the budget and the lineage write is retried by SQS, not lost or doubled', async () => {
    const { csv } = peopleCsv(120);
    await s3.client.send(
      new PutObjectCommand({
        Bucket: BUCKETS.ingest,
        Key: '_contracts/throttled.contract.yaml',
        Body: CONTRACT.replace('dataset: people', 'dataset: throttled'),
      }),
    );
    const event = await upload('throttled/file.csv', csv);
    throttle.budgetUpdates = 1;
    expect(failuresOf(await processUpload(deps(base), event))).toBe(1);
    expect(throttle.budgetUpdates).toBe(0);
    throttle.lineagePuts = 1;
    expect(failuresOf(await processUpload(deps(base), redeliver(event)))).toBe(1);
    expect(throttle.lineagePuts).toBe(0);
    expect(failuresOf(await processUpload(deps(base), redeliver(event)))).toBe(0);
    const run = await expectOnePublication('throttled', 120);
    expect(logs.some((l) => l.includes('ProvisionedThroughputExceeded') || l.includes('TransientError'))).toBe(true);
    expect(run.budget).toHaveLength(1);
  });

  it('the same bytes uploaded again under the same key are a duplicate; under another key they are a new input', async () => {
    const { csv } = peopleCsv(100);
    await s3.client.send(
      new PutObjectCommand({
        Bucket: BUCKETS.ingest,
        Key: '_contracts/twice.contract.yaml',
        Body: CONTRACT.replace('dataset: people', 'dataset: twice').replace('epsilon: 1,', 'epsilon: 2,'),
      }),
    );
    expect(failuresOf(await processUpload(deps(base), await upload('twice/a.csv', csv)))).toBe(0);
    metrics.length = 0;
    expect(failuresOf(await processUpload(deps(base), await upload('twice/a.csv', csv)))).toBe(0);
    expect(metrics).toContainEqual({ name: 'Duplicates', value: 1 });
    expect((await runs('twice')).map((r) => r.input.key)).toEqual(['twice/a.csv']);
    expect(failuresOf(await processUpload(deps(base), await upload('twice/b.csv', csv)))).toBe(0);
    expect((await runs('twice')).map((r) => r.input.key).sort()).toEqual(['twice/a.csv', 'twice/b.csv']);
  });
});
