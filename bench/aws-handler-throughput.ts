/**
 * Throughput of the real process-upload Lambda handler on emulated AWS (s3rver + dynalite on
 * 127.0.0.1, fake KMS), for the README's cost estimate. Generates a customer CSV of about
 * `SIZE_MB` MB (structured PII columns plus a free-text notes column), uploads it to the ingest
 * bucket, delivers the S3 event as SQS would, and reports wall time, MB/s, peak RSS and the
 * number of S3, DynamoDB and KMS requests the handler made.
 *
 *   NODE_OPTIONS=--openssl-legacy-provider npx tsx bench/aws-handler-throughput.ts [SIZE_MB]
 */
import { performance } from 'node:perf_hooks';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { InitializeMiddleware, MetadataBearer } from '@smithy/types';
import type { Context, S3Event, SQSEvent } from 'aws-lambda';
import { awsClients } from '../functions/adapters/aws/aws-ports.ts';
import { createStackTables, encodeS3EventKey, installFakeKms, startDynalite, startS3rver, TEST_REGION } from '../test/support/emulators.ts';

const SIZE_MB = Number(process.argv[2] ?? 50);
const BUCKETS = { ingest: 'bench-ingest', curated: 'bench-curated', quarantine: 'bench-quarantine', aggregates: 'bench-aggregates' };
const CONTRACT = `
dataset: customers
subjectKey: customer_id
maxInvalidRowShare: 0.05
columns:
  - { name: customer_id, type: string }
  - { name: full_name, type: string, privacy: { entity: PERSON, operator: token } }
  - { name: email, type: string, privacy: { entity: EMAIL_ADDRESS, operator: token } }
  - { name: phone, type: string, privacy: { entity: PHONE_NUMBER, operator: token } }
  - { name: country, type: string, enum: [GB, FR, DE, ES, IT, NL] }
  - { name: age, type: integer, min: 0, max: 120 }
  - { name: plan, type: string, enum: [free, pro, enterprise] }
  - { name: amount, type: number }
  - { name: signup_date, type: date }
  - { name: notes, type: string, privacy: { entity: FREE_TEXT, freeText: true } }
privacyBudget: { epsilon: 1000, delta: 0 }
aggregates:
  - { id: customers, kind: count, epsilon: 0.5 }
  - { id: by_plan, kind: count, by: plan, domain: [free, pro, enterprise], epsilon: 0.5 }
  - { id: mean_age, kind: mean, column: age, bounds: [0, 120], epsilon: 0.5 }
`;
const FIRST = ['Amelia', 'Bruno', 'Chloe', 'Dmitri', 'Eva', 'Farid', 'Greta', 'Hiro', 'Ines', 'Jonas', 'Karim', 'Lena'];
const LAST = ['Durand', 'Schmidt', 'Okafor', 'Lindqvist', 'Moreau', 'Novak', 'Rossi', 'Garcia', 'Jansen', 'Kowalski'];
const COUNTRIES = ['GB', 'FR', 'DE', 'ES', 'IT', 'NL'];
const NOTES = [
  'Prefers email contact',
  'Asked about the enterprise plan and a discount for annual billing',
  'No issues reported',
  'Called about renewal; follow up next quarter',
  'Refund sent on request, ticket closed',
  'Card expired, reminded by phone',
];

function generate(targetBytes: number): { csv: Buffer; rows: number } {
  const lines = ['customer_id,full_name,email,phone,country,age,plan,amount,signup_date,notes'];
  let bytes = lines[0]?.length ?? 0;
  let i = 0;
  while (bytes < targetBytes) {
    const first = FIRST[i % FIRST.length] as string;
    const last = LAST[(i * 7) % LAST.length] as string;
    // One note in ten names someone or carries an email: free text is where detection works hardest.
    const note =
      i % 10 === 0 ? `Spoke with ${first} ${last}, wrote to ${first.toLowerCase()}.${i}@example.net` : (NOTES[i % NOTES.length] as string);
    const line = `C${String(i).padStart(8, '0')},${first} ${last},${first.toLowerCase()}.${last.toLowerCase()}${i}@example.com,+44 20 79${String(i % 100000).padStart(5, '0')},${COUNTRIES[i % COUNTRIES.length]},${18 + (i % 70)},${['free', 'pro', 'enterprise'][i % 3]},${(i % 997) + 0.5},20${10 + (i % 15)}-0${1 + (i % 9)}-1${i % 10},"${note}"`;
    lines.push(line);
    bytes += line.length + 1;
    i++;
  }
  return { csv: Buffer.from(`${lines.join('\n')}\n`), rows: i };
}

async function main(): Promise<void> {
  const s3 = await startS3rver(Object.values(BUCKETS));
  const db = await startDynalite();
  const tables = await createStackTables(db.client);
  const kms = installFakeKms(['bench-data', 'bench-token']);
  Object.assign(process.env, {
    INGEST_BUCKET_NAME: BUCKETS.ingest,
    CURATED_BUCKET_NAME: BUCKETS.curated,
    QUARANTINE_BUCKET_NAME: BUCKETS.quarantine,
    AGGREGATES_BUCKET_NAME: BUCKETS.aggregates,
    ...tables,
    DATA_KEY_ID: 'bench-data',
    TOKEN_KEY_ID: 'bench-token',
    LOG_LEVEL: 'WARN',
    AWS_REGION: TEST_REGION,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  const { handler } = await import('../functions/handlers/process-upload.ts');
  // Count the handler's requests per service and operation.
  const calls = new Map<string, number>();
  const counting =
    (service: string): InitializeMiddleware<object, MetadataBearer> =>
    (next, context) =>
    async (args) => {
      const op = `${service}:${String(context.commandName ?? '?').replace(/Command$/, '')}`;
      calls.set(op, (calls.get(op) ?? 0) + 1);
      return next(args);
    };
  awsClients().s3.middlewareStack.add(counting('s3'), { step: 'initialize', name: 'benchCount' });
  awsClients().dynamodb.middlewareStack.add(counting('dynamodb'), { step: 'initialize', name: 'benchCount' });

  await s3.client.send(new PutObjectCommand({ Bucket: BUCKETS.ingest, Key: '_contracts/customers.contract.yaml', Body: CONTRACT }));
  const { csv, rows } = generate(SIZE_MB * 1024 * 1024);
  const key = 'customers/bench.csv';
  await new Upload({ client: s3.client, params: { Bucket: BUCKETS.ingest, Key: key, Body: csv }, partSize: 8 * 1024 * 1024 }).done();
  const record = s3.events.flatMap((e) => e.Records).find((r) => r.s3.object.key === key);
  if (!record) throw new Error('no event');
  const s3Event: S3Event = { Records: [{ ...record, s3: { ...record.s3, object: { ...record.s3.object, key: encodeS3EventKey(key) } } }] };
  const event = {
    Records: [
      {
        messageId: 'm1',
        receiptHandle: 'r',
        body: JSON.stringify(s3Event),
        attributes: {},
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn',
        awsRegion: TEST_REGION,
      },
    ],
  } as unknown as SQSEvent;
  const context = { getRemainingTimeInMillis: () => 900_000, functionName: 'bench', awsRequestId: 'bench' } as unknown as Context;
  const kmsBefore = kms.mock.calls().length;

  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  const t0 = performance.now();
  const result = await handler(event, context);
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  if (result.batchItemFailures.length > 0) throw new Error('the handler reported a failure');

  const mb = csv.byteLength / 1024 / 1024;
  // Item sizes decide write units (1 WRU per started KB): the lineage run record is the big one.
  const lineageItems = (await db.client.send(new ScanCommand({ TableName: tables.LINEAGE_TABLE_NAME }))).Items ?? [];
  const itemBytes = lineageItems.map((i) => JSON.stringify(i).length);
  const kmsCalls = kms.mock
    .calls()
    .slice(kmsBefore)
    .map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, ''));
  const byOp = Object.fromEntries([...calls].sort());
  const kmsByOp: Record<string, number> = {};
  for (const k of kmsCalls) kmsByOp[`kms:${k}`] = (kmsByOp[`kms:${k}`] ?? 0) + 1;
  console.log(
    JSON.stringify(
      {
        inputMB: Number(mb.toFixed(1)),
        rows,
        seconds: Number(seconds.toFixed(2)),
        mbPerSecond: Number((mb / seconds).toFixed(1)),
        rowsPerSecond: Math.round(rows / seconds),
        peakRssMB: Math.round(peakRss / 1024 / 1024),
        lineageItemsKB: itemBytes.map((b) => Math.ceil(b / 1024)),
        requests: { ...byOp, ...kmsByOp },
        node: process.version,
      },
      null,
      2,
    ),
  );
  kms.restore();
  await s3.close();
  await db.close();
}

await main();
