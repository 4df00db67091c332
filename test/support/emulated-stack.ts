/**
 * The stack's storage on emulators for handler tests: s3rver with the four data buckets,
 * dynalite with the four tables, a fake KMS, the function environment stubbed as the CDK stack
 * sets it, helpers that deliver an upload to the real process-upload handler as SQS would, and
 * Function URL events signed by a given IAM principal.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Context, LambdaFunctionURLEvent, S3Event, SQSEvent } from 'aws-lambda';
import { vi } from 'vitest';
import { handler as processUploadHandler } from '../../functions/handlers/process-upload.ts';
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
} from './emulators.ts';

export interface EmulatedStack {
  readonly s3: S3Emulator;
  readonly db: DynamoEmulator;
  readonly kms: FakeKms;
  readonly tables: TableNames;
  readonly buckets: { readonly ingest: string; readonly curated: string; readonly quarantine: string; readonly aggregates: string };
  readonly env: Readonly<Record<string, string>>;
  /** JSON log lines the functions wrote (Powertools, EMF). */
  readonly output: string[];
  /** Puts an object into the ingest bucket and runs the process-upload handler on its event; returns the batch failures. */
  ingest(key: string, body: string | Uint8Array): Promise<string[]>;
  close(): Promise<void>;
}

export const TEST_CONTEXT = {
  functionName: 'test-function',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111111111111:function:test-function',
  memoryLimitInMB: '2048',
  awsRequestId: 'req-test',
  getRemainingTimeInMillis: () => 900_000,
} as unknown as Context;

/** Starts the emulators, creates buckets and tables, and stubs the function environment. */
export async function startEmulatedStack(prefix: string): Promise<EmulatedStack> {
  const buckets = {
    ingest: `${prefix}-ingest`,
    curated: `${prefix}-curated`,
    quarantine: `${prefix}-quarantine`,
    aggregates: `${prefix}-aggregates`,
  };
  const s3 = await startS3rver(Object.values(buckets));
  const db = await startDynalite();
  const tables = await createStackTables(db.client);
  const dataKey = `${prefix}-data-key`;
  const tokenKey = `${prefix}-token-key`;
  const kms = installFakeKms([dataKey, tokenKey]);
  const env: Record<string, string> = {
    INGEST_BUCKET_NAME: buckets.ingest,
    CURATED_BUCKET_NAME: buckets.curated,
    QUARANTINE_BUCKET_NAME: buckets.quarantine,
    AGGREGATES_BUCKET_NAME: buckets.aggregates,
    ...tables,
    DATA_KEY_ID: dataKey,
    TOKEN_KEY_ID: tokenKey,
    LOG_LEVEL: 'INFO',
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
  const output: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const line = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      if (!line.startsWith('{')) return write(chunk, ...rest);
      output.push(line);
      return true;
    });
  }
  let messageNo = 0;
  return {
    s3,
    db,
    kms,
    tables,
    buckets,
    env,
    output,
    async ingest(key, body) {
      await s3.client.send(new PutObjectCommand({ Bucket: buckets.ingest, Key: key, Body: body }));
      const record = s3.events
        .flatMap((e) => e.Records)
        .filter((r) => r.s3.bucket.name === buckets.ingest && r.s3.object.key === key)
        .at(-1);
      if (!record) throw new Error('s3rver emitted no event');
      messageNo++;
      const event: SQSEvent = {
        Records: [
          sqsRecord(`msg-${messageNo}`, {
            Records: [{ ...record, s3: { ...record.s3, object: { ...record.s3.object, key: encodeS3EventKey(key) } } }],
          }),
        ],
      };
      const result = await processUploadHandler(event, TEST_CONTEXT);
      return result.batchItemFailures.map((f) => f.itemIdentifier);
    },
    async close() {
      vi.restoreAllMocks();
      vi.unstubAllEnvs();
      kms.restore();
      await s3.close();
      await db.close();
    },
  };
}

function sqsRecord(messageId: string, s3Event: S3Event): SQSEvent['Records'][number] {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: JSON.stringify(s3Event),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'S3', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:111111111111:uploads',
    awsRegion: TEST_REGION,
  };
}

/** A Function URL event as Lambda delivers it for an AWS_IAM-signed POST; `caller: null` leaves the authorizer out. */
export function functionUrlEvent(
  body: unknown,
  opts: { caller?: string | null; method?: string; raw?: string } = {},
): LambdaFunctionURLEvent {
  const caller = opts.caller === undefined ? 'arn:aws:sts::111111111111:assumed-role/PrivacyPipeline-test-Persona/alice' : opts.caller;
  const text = opts.raw ?? JSON.stringify(body);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    isBase64Encoded: true,
    body: Buffer.from(text).toString('base64'),
    requestContext: {
      accountId: '111111111111',
      apiId: 'url-id',
      domainName: 'url-id.lambda-url.eu-west-1.on.aws',
      domainPrefix: 'url-id',
      http: { method: opts.method ?? 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
      requestId: 'req-url',
      routeKey: '$default',
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: 0,
      ...(caller
        ? {
            authorizer: {
              iam: {
                accessKey: 'ASIA',
                accountId: '111111111111',
                callerId: 'AROA:alice',
                cognitoIdentity: null,
                principalOrgId: '',
                userArn: caller,
                userId: 'AROA:alice',
              },
            },
          }
        : {}),
    },
  } as LambdaFunctionURLEvent;
}

/** The JSON body of a Function URL result. */
export function resultBody(result: unknown): { statusCode: number; body: Record<string, unknown> } {
  const r = result as { statusCode: number; body: string };
  return { statusCode: r.statusCode, body: JSON.parse(r.body) as Record<string, unknown> };
}
