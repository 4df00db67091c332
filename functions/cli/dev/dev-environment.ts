/**
 * `privacy-pipeline dev`: the AWS deployment in miniature, on loopback. s3rver stands in for S3
 * and dynalite for DynamoDB, with the stack's four buckets and the tables of the shared layout
 * (functions/adapters/aws/table-layout.ts); every object created in the ingest bucket is wrapped
 * in the SQS message S3 would send (keys URL-encoded as S3 encodes them) and handed to the real
 * `processUpload` handler logic, with the AWS adapters for S3 and DynamoDB. A user can then
 * `aws --endpoint-url … s3 cp file s3://<ingest>/<dataset>/` and watch the file flow through.
 *
 * Keys: there is no KMS emulator here, so the LOCAL key service (functions/adapters/local,
 * a keyring file in the dev folder) stands in for KMS for pseudonymisation secrets and subject
 * keys. The S3 adapter still sends its SSE-KMS headers; s3rver ignores them and keeps objects in
 * plain files under the dev folder — this is a development sandbox, not a place for real data.
 *
 * s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only offers with
 * `--openssl-legacy-provider`; the command re-runs itself with that flag when it is missing.
 */
import { spawn } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateTableCommand, type CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Event, SQSEvent } from 'aws-lambda';
import S3rver from 's3rver';
import { cryptoRandom, documentClient, systemClock } from '../../adapters/aws/aws-ports.ts';
import { DynamoDbBudgetLedger } from '../../adapters/aws/dynamodb-budget-ledger.ts';
import { DynamoDbIdempotencyStore } from '../../adapters/aws/dynamodb-idempotency-store.ts';
import { DynamoDbLineageStore } from '../../adapters/aws/dynamodb-lineage-store.ts';
import { DynamoDbSuppressionList } from '../../adapters/aws/dynamodb-suppression-list.ts';
import { PROCESSED_TAG } from '../../adapters/aws/lifecycle-tags.ts';
import { S3ContractStore } from '../../adapters/aws/s3-contract-store.ts';
import { S3ObjectStore } from '../../adapters/aws/s3-object-store.ts';
import { TABLES, type TableDefinition } from '../../adapters/aws/table-layout.ts';
import { JsonLinesLogger } from '../../adapters/local/json-lines-logger.ts';
import { LocalKeyService } from '../../adapters/local/local-key-service.ts';
import { LocalSubjectKeyVault } from '../../adapters/local/local-subject-key-vault.ts';
import { UsageError } from '../../core/errors.ts';
import { ingestObject } from '../../core/pipeline/ingest-object.ts';
import type { IngestResult } from '../../core/pipeline/ingest-types.ts';
import type { Logger, Ports } from '../../core/ports.ts';
import type { BucketRole } from '../../core/types.ts';
import { processUpload } from '../../handlers/process-upload.ts';

const require = createRequire(import.meta.url);
// dynalite ships no types; its factory returns a plain http.Server.
const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;

/** The credentials s3rver accepts; dynalite accepts any. */
export const DEV_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const DEV_REGION = 'us-east-1';

export interface DevOptions {
  /** @default 0 (a free port) */
  readonly s3Port?: number;
  /** @default 0 (a free port) */
  readonly dynamoPort?: number;
  /** Folder that keeps objects, tables and keys across runs; a temporary folder (removed on stop) when absent. */
  readonly dir?: string;
  /** Prefix of bucket and table names. @default 'pp-dev' */
  readonly prefix?: string;
  /** Called after each processed upload. */
  readonly onProcessed?: (event: DevProcessed) => void;
  /** Threshold of the pipeline's JSON log lines on stderr. @default 'warn' */
  readonly logLevel?: string;
  readonly logger?: Logger;
  /** Redeliveries of a message whose processing failed transiently (SQS would redeliver). @default 3 */
  readonly maxRetries?: number;
}

/** What one upload came to. */
export type DevProcessed =
  | { readonly key: string; readonly outcome: 'processed'; readonly result: IngestResult }
  | { readonly key: string; readonly outcome: 'skipped' }
  | { readonly key: string; readonly outcome: 'failed'; readonly attempts: number };

export interface DevEnvironment {
  readonly s3Endpoint: string;
  readonly dynamoEndpoint: string;
  readonly region: string;
  readonly buckets: Readonly<Record<BucketRole, string>>;
  readonly tables: Readonly<Record<TableDefinition['envVar'], string>>;
  /** Where objects (s3rver), tables (dynalite) and the local keyring live. */
  readonly dir: string;
  /** The ports the handler runs with (AWS adapters on the emulators + the local key service). */
  readonly ports: Ports;
  /** Ready-to-paste shell commands for the AWS CLI. */
  readonly commands: readonly string[];
  /** Resolves when every upload seen so far has been processed. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts s3rver and dynalite on 127.0.0.1 with the stack's buckets and tables, wired to process-upload. */
export async function startDevEnvironment(opts: DevOptions = {}): Promise<DevEnvironment> {
  const prefix = opts.prefix ?? 'pp-dev';
  if (!/^[a-z0-9][a-z0-9-]{1,40}$/.test(prefix))
    throw new UsageError('--prefix must be 2-41 lowercase letters, digits or dashes', { rule: 'prefix' });
  const temporary = opts.dir === undefined;
  const dir = opts.dir === undefined ? await mkdtemp(join(tmpdir(), 'pp-dev-')) : resolve(opts.dir);
  for (const sub of ['s3', 'dynamodb', 'keys']) await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
    if (temporary) await rm(dir, { recursive: true, force: true });
  };
  try {
    // ---------------------------------------------------------------- S3
    const s3rver = new S3rver({
      address: '127.0.0.1',
      port: opts.s3Port ?? 0,
      silent: true,
      directory: join(dir, 's3'),
      resetOnClose: false,
    });
    const { port: s3Port } = await s3rver.run();
    stops.push(() => s3rver.close());
    const s3Endpoint = `http://127.0.0.1:${s3Port}`;
    const s3 = new S3Client({
      region: DEV_REGION,
      endpoint: s3Endpoint,
      forcePathStyle: true,
      credentials: DEV_CREDENTIALS,
      // s3rver stores aws-chunked framing inside the object otherwise (TOOLCHAIN pitfall 11).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    stops.push(async () => s3.destroy());
    const buckets: Record<BucketRole, string> = {
      ingest: `${prefix}-ingest`,
      curated: `${prefix}-curated`,
      quarantine: `${prefix}-quarantine`,
      aggregates: `${prefix}-aggregates`,
    };
    for (const Bucket of Object.values(buckets)) {
      await s3.send(new CreateBucketCommand({ Bucket })).catch((err: unknown) => {
        if (!(err instanceof Error && /BucketAlready(Exists|OwnedByYou)/.test(err.name))) throw err;
      });
    }

    // ---------------------------------------------------------------- DynamoDB
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: join(dir, 'dynamodb') });
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(opts.dynamoPort ?? 0, '127.0.0.1', () => ok());
    });
    stops.push(() => new Promise<void>((ok) => server.close(() => ok())));
    const dynamoEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dynamodb = new DynamoDBClient({ region: DEV_REGION, endpoint: dynamoEndpoint, credentials: DEV_CREDENTIALS });
    stops.push(async () => dynamodb.destroy());
    const tables = {} as Record<TableDefinition['envVar'], string>;
    for (const definition of TABLES) {
      const name = `${prefix}-${definition.id.replace(/Table$/, '').replace(/[A-Z]/g, (c, i: number) => (i ? '-' : '') + c.toLowerCase())}`;
      tables[definition.envVar] = name;
      await dynamodb.send(new CreateTableCommand(createTableInput(definition, name))).catch((err: unknown) => {
        if (!(err instanceof Error && err.name === 'ResourceInUseException')) throw err;
      });
    }

    // ---------------------------------------------------------------- ports and the handler
    const doc = documentClient(dynamodb);
    const clock = systemClock;
    const logger = opts.logger ?? new JsonLinesLogger(opts.logLevel ?? 'warn');
    const keys = new LocalKeyService(join(dir, 'keys'));
    const objects = new S3ObjectStore({ client: s3, buckets, kmsKeyId: 'alias/privacy-pipeline-dev' });
    const ports: Ports = {
      objects,
      keys,
      subjectKeys: new LocalSubjectKeyVault(join(dir, 'keys'), keys),
      lineage: new DynamoDbLineageStore({ doc, tableName: tables.LINEAGE_TABLE_NAME }),
      idempotency: new DynamoDbIdempotencyStore({ doc, tableName: tables.CONTROL_TABLE_NAME, clock }),
      budget: new DynamoDbBudgetLedger({ doc, tableName: tables.BUDGET_TABLE_NAME, clock }),
      suppression: new DynamoDbSuppressionList({ doc, tableName: tables.CONTROL_TABLE_NAME, clock }),
      contracts: new S3ContractStore({ objects, ingestBucketName: buckets.ingest }),
      random: cryptoRandom,
      clock,
      logger,
    };
    const maxRetries = opts.maxRetries ?? 3;
    let queue: Promise<void> = Promise.resolve();
    let messageNo = 0;
    let stopping = false;

    const deliver = async (record: S3Event['Records'][number]) => {
      const key = record.s3.object.key;
      let outcome: DevProcessed | undefined;
      // s3rver sends keys raw; S3 URL-encodes them with '+' for spaces.
      const s3Event: S3Event = {
        Records: [{ ...record, awsRegion: DEV_REGION, s3: { ...record.s3, object: { ...record.s3.object, key: encodeS3EventKey(key) } } }],
      };
      const messageId = `dev-${++messageNo}`;
      const event: SQSEvent = { Records: [sqsRecord(messageId, JSON.stringify(s3Event), buckets.ingest)] };
      for (let attempt = 1; attempt <= maxRetries + 1 && !stopping; attempt++) {
        const response = await processUpload(
          {
            ports,
            ingestBucketName: buckets.ingest,
            metrics: { addMetric: () => undefined, publishStoredMetrics: () => undefined },
            markProcessed: (k, versionId) =>
              objects.putTags('ingest', k, { [PROCESSED_TAG.key]: PROCESSED_TAG.value }, versionId ? { versionId } : undefined),
            ingest: async (p, input, o) => {
              const result = await ingestObject(p, input, o);
              outcome = { key, outcome: 'processed', result };
              return result;
            },
          },
          event,
        );
        if (response.batchItemFailures.length === 0) {
          opts.onProcessed?.(outcome ?? { key, outcome: 'skipped' });
          return;
        }
        // SQS would make the message visible again later; here: a short backoff.
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
      }
      opts.onProcessed?.({ key, outcome: 'failed', attempts: maxRetries + 1 });
    };
    (s3rver as unknown as EventEmitter).on('event', (e: S3Event) => {
      for (const record of e.Records ?? []) {
        if (record.s3?.bucket?.name !== buckets.ingest || !String(record.eventName).startsWith('ObjectCreated:')) continue;
        // One upload at a time, in arrival order, like a function with reserved concurrency 1.
        queue = queue
          .then(() => deliver(record))
          .catch((err: unknown) => logger.error('dev: delivery failed', { error: err instanceof Error ? err.name : 'Unknown' }));
      }
    });
    stops.unshift(async () => {
      stopping = true;
      await queue;
    });

    const aws = `aws --endpoint-url ${s3Endpoint}`;
    const ddb = `aws --endpoint-url ${dynamoEndpoint} --region ${DEV_REGION}`;
    const commands = [
      `export AWS_ACCESS_KEY_ID=${DEV_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${DEV_CREDENTIALS.secretAccessKey} AWS_DEFAULT_REGION=${DEV_REGION} AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" AWS_REQUEST_CHECKSUM_CALCULATION=when_required`,
      `AWS_ACCESS_KEY_ID=${DEV_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${DEV_CREDENTIALS.secretAccessKey} ${aws} s3 cp customers.csv s3://${buckets.ingest}/customers/`,
      `${aws} s3 cp customers.contract.yaml s3://${buckets.ingest}/_contracts/customers.contract.yaml   # optional: the dataset contract`,
      `${aws} s3 ls --recursive s3://${buckets.curated}/customers/`,
      `${aws} s3 cp s3://${buckets.curated}/customers/<run>/part-00000.csv -`,
      `${aws} s3 ls --recursive s3://${buckets.quarantine}/ ; ${aws} s3 ls --recursive s3://${buckets.aggregates}/`,
      `${ddb} dynamodb scan --table-name ${tables.LINEAGE_TABLE_NAME} --projection-expression "pk, kind, dataset, seq"`,
      `${ddb} dynamodb get-item --table-name ${tables.LINEAGE_TABLE_NAME} --key '{"pk":{"S":"<run id>"}}' --query Item.body.S --output text`,
    ];
    return {
      s3Endpoint,
      dynamoEndpoint,
      region: DEV_REGION,
      buckets,
      tables,
      dir,
      ports,
      commands,
      idle: async () => {
        // Deliveries queued while waiting are waited for too.
        for (let last: Promise<void> | undefined; last !== queue; ) {
          last = queue;
          await last;
        }
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Encodes an object key as S3 does in event notifications (s3rver sends it raw). */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

function sqsRecord(messageId: string, body: string, bucket: string): SQSEvent['Records'][number] {
  return {
    messageId,
    receiptHandle: messageId,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'S3',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${DEV_REGION}:000000000000:${bucket}-uploads`,
    awsRegion: DEV_REGION,
  };
}

/** CreateTable input for one of the stack's tables, from the shared layout. */
function createTableInput(definition: TableDefinition, tableName: string): CreateTableCommandInput {
  const attributes = new Map<string, 'S' | 'N' | 'B'>();
  for (const k of [
    definition.partitionKey,
    definition.sortKey,
    ...definition.globalSecondaryIndexes.flatMap((g) => [g.partitionKey, g.sortKey]),
  ]) {
    if (k) attributes.set(k.name, k.type);
  }
  const schema = (pk: { name: string }, sk?: { name: string }) => [
    { AttributeName: pk.name, KeyType: 'HASH' as const },
    ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    KeySchema: schema(definition.partitionKey, definition.sortKey),
    ...(definition.globalSecondaryIndexes.length > 0
      ? {
          GlobalSecondaryIndexes: definition.globalSecondaryIndexes.map((g) => ({
            IndexName: g.indexName,
            KeySchema: schema(g.partitionKey, g.sortKey),
            Projection: { ProjectionType: 'ALL' as const },
          })),
        }
      : {}),
  };
}

/** True when this process can run s3rver's DES continuation tokens (OpenSSL legacy provider loaded). */
export function hasLegacyCiphers(): boolean {
  try {
    createCipheriv('des', randomBytes(8), randomBytes(8));
    return true;
  } catch {
    return false;
  }
}

/** The command line that runs this CLI again with the OpenSSL legacy provider. */
export function legacyProviderCommand(
  execPath: string,
  execArgv: readonly string[],
  argv: readonly string[],
): { command: string; args: string[] } {
  return {
    command: execPath,
    args: ['--openssl-legacy-provider', ...execArgv.filter((a) => a !== '--openssl-legacy-provider'), ...argv.slice(1)],
  };
}
