/**
 * The handler's event handling with the ingest use case replaced: real S3-in-SQS shapes,
 * key decoding, skipping rules, partial batch failures, metrics and log hygiene.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InProgressError, InvalidFileError, PrivacyPipelineError, TransientError } from '../../functions/core/errors.ts';
import type { IngestInput, IngestResult } from '../../functions/core/pipeline/ingest-types.ts';
import type { Logger, Ports } from '../../functions/core/ports.ts';
import { decodeS3EventKey, parseS3EventMessage } from '../../functions/handlers/parse-s3-event-message.ts';
import { keyHash, type MetricsSink, processUpload } from '../../functions/handlers/process-upload.ts';
import { encodeS3EventKey } from '../support/emulators.ts';

// The real use case needs the whole core; these tests inject their own.
vi.mock('../../functions/core/pipeline/ingest-object.ts', () => ({ ingestObject: vi.fn() }));

const BUCKET = 'pp-ingest-bucket';

function s3Record(key: string, opts: { bucket?: string; eventName?: string; versionId?: string; eTag?: string; encoded?: boolean } = {}) {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'eu-west-1',
    eventTime: '2026-11-22T10:00:00.000Z',
    eventName: opts.eventName ?? 'ObjectCreated:Put',
    userIdentity: { principalId: 'AWS:AIDAEXAMPLE' },
    requestParameters: { sourceIPAddress: '10.0.0.1' },
    responseElements: { 'x-amz-request-id': 'R', 'x-amz-id-2': 'I' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'cfg',
      bucket: { name: opts.bucket ?? BUCKET, ownerIdentity: { principalId: 'O' }, arn: `arn:aws:s3:::${opts.bucket ?? BUCKET}` },
      object: {
        key: opts.encoded === false ? key : encodeS3EventKey(key),
        size: 42,
        eTag: opts.eTag ?? 'd41d8cd98f00b204e9800998ecf8427e',
        ...(opts.versionId ? { versionId: opts.versionId } : {}),
        sequencer: '0055AED6DCD90281E5',
      },
    },
  };
}

function sqsRecord(messageId: string, body: unknown): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1', SenderId: 's3', ApproximateFirstReceiveTimestamp: '1' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:111111111111:uploads',
    awsRegion: 'eu-west-1',
  };
}

const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

function result(status: IngestResult['status'], duplicate = false): IngestResult {
  return {
    status,
    duplicate,
    contract: {} as never,
    record: {
      id: 'run-1',
      dataset: 'customers',
      counts: { rowsIn: 10, rowsPublished: 8, rowsQuarantined: 2, rowsSuppressed: 0, rowsKSuppressed: 0, conserved: true },
    } as never,
  };
}

function harness(ingest: (input: IngestInput) => Promise<IngestResult>) {
  const lines: string[] = [];
  const logger: Logger = {
    debug: (m, f) => lines.push(JSON.stringify([m, f])),
    info: (m, f) => lines.push(JSON.stringify([m, f])),
    warn: (m, f) => lines.push(JSON.stringify([m, f])),
    error: (m, f) => lines.push(JSON.stringify([m, f])),
  };
  const metrics: { name: string; value: number }[] = [];
  let published = 0;
  const sink: MetricsSink = {
    addMetric: (name, _unit, value) => metrics.push({ name, value }),
    publishStoredMetrics: () => {
      published++;
    },
  };
  const calls: IngestInput[] = [];
  const marked: [string, string | undefined][] = [];
  const deps = {
    ports: { logger } as unknown as Ports,
    ingestBucketName: BUCKET,
    metrics: sink,
    ingest: async (_p: Ports, input: IngestInput) => {
      calls.push(input);
      return ingest(input);
    },
    markProcessed: async (key: string, versionId: string | undefined) => {
      marked.push([key, versionId]);
    },
  };
  return { deps, lines, metrics, calls, marked, published: () => published };
}

describe('S3 event notification parsing', () => {
  it.each([
    ['customers/a+b.csv', 'customers/a b.csv'],
    ['customers/a%2Bb.csv', 'customers/a+b.csv'],
    ['customers/Jos%C3%A9+M%C3%BCller.csv', 'customers/José Müller.csv'],
    ['customers/%E6%97%A5%E6%9C%AC.csv', 'customers/日本.csv'],
    ['customers/100%25.csv', 'customers/100%.csv'],
    ['plain/key.csv', 'plain/key.csv'],
  ])('decodes %s', (encoded, decoded) => {
    expect(decodeS3EventKey(encoded)).toBe(decoded);
    expect(encodeS3EventKey(decoded)).toBe(encoded.replace('%2F', '/'));
  });

  it('reads the test event, invalid bodies and non-create records', () => {
    expect(
      parseS3EventMessage(
        JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: 't', Bucket: BUCKET, RequestId: 'r', HostId: 'h' }),
      ),
    ).toEqual({ kind: 'test-event' });
    expect(parseS3EventMessage('not json').kind).toBe('invalid');
    expect(parseS3EventMessage('{"foo":1}').kind).toBe('invalid');
    const mixed = parseS3EventMessage(
      JSON.stringify({
        Records: [
          s3Record('a/x.csv', { eventName: 'ObjectRemoved:Delete' }),
          s3Record('a/%E0%A4%A.csv', { encoded: false }),
          s3Record('a/ok.csv', { versionId: 'v1' }),
        ],
      }),
    );
    expect(mixed).toEqual({
      kind: 'objects',
      objects: [
        {
          bucket: BUCKET,
          key: 'a/ok.csv',
          eventName: 'ObjectCreated:Put',
          versionId: 'v1',
          etag: 'd41d8cd98f00b204e9800998ecf8427e',
          size: 42,
        },
      ],
      skipped: [
        { eventName: 'ObjectRemoved:Delete', reason: 'not an S3 ObjectCreated event' },
        { eventName: 'ObjectCreated:Put', reason: 'object key is not valid URL encoding' },
      ],
    });
  });
});

describe('processUpload', () => {
  it('runs each uploaded object through ingest with the decoded key, version and ETag, then tags it', async () => {
    const h = harness(async () => result('COMPLETE'));
    const out = await processUpload(
      h.deps,
      event(sqsRecord('m1', { Records: [s3Record('customers/José Müller 2026.csv', { versionId: 'ver-1', eTag: 'abc' })] })),
    );
    expect(out).toEqual({ batchItemFailures: [] });
    expect(h.calls).toEqual([{ key: 'customers/José Müller 2026.csv', versionId: 'ver-1', etag: 'abc' }]);
    expect(h.marked).toEqual([['customers/José Müller 2026.csv', 'ver-1']]);
    expect(h.metrics).toEqual([
      { name: 'FilesProcessed', value: 1 },
      { name: 'RowsIn', value: 10 },
      { name: 'RowsPublished', value: 8 },
      { name: 'RowsQuarantined', value: 2 },
      { name: 'RowsSuppressed', value: 0 },
      { name: 'FilesQuarantined', value: 0 },
    ]);
    expect(h.published()).toBe(1);
  });

  it('ignores the s3:TestEvent', async () => {
    const h = harness(async () => result('COMPLETE'));
    const out = await processUpload(
      h.deps,
      event(sqsRecord('m1', { Service: 'Amazon S3', Event: 's3:TestEvent', Time: 't', Bucket: BUCKET })),
    );
    expect(out.batchItemFailures).toEqual([]);
    expect(h.calls).toEqual([]);
  });

  it('reports only the message whose object failed transiently', async () => {
    const h = harness(async (input) => {
      if (input.key.includes('throttled')) throw new TransientError('KMS GenerateDataKey failed (ThrottlingException); retry later');
      if (input.key.includes('busy')) throw new InProgressError('input is being processed by another invocation');
      if (input.key.includes('unknown')) throw new Error('socket hang up');
      return result('COMPLETE');
    });
    const out = await processUpload(
      h.deps,
      event(
        sqsRecord('ok-1', { Records: [s3Record('customers/a.csv')] }),
        sqsRecord('bad-1', { Records: [s3Record('customers/throttled.csv')] }),
        sqsRecord('bad-2', { Records: [s3Record('customers/busy.csv')] }),
        sqsRecord('bad-3', { Records: [s3Record('customers/unknown.csv')] }),
        sqsRecord('ok-2', { Records: [s3Record('orders/b.csv')] }),
      ),
    );
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'bad-1' }, { itemIdentifier: 'bad-2' }, { itemIdentifier: 'bad-3' }]);
    expect(h.calls.map((c) => c.key)).toEqual([
      'customers/a.csv',
      'customers/throttled.csv',
      'customers/busy.csv',
      'customers/unknown.csv',
      'orders/b.csv',
    ]);
    expect(h.metrics.filter((m) => m.name === 'TransientFailures')).toHaveLength(3);
    expect(h.marked.map(([k]) => k)).toEqual(['customers/a.csv', 'orders/b.csv']);
  });

  it('treats a permanent error thrown by ingest as done (no retry), without the key in the log', async () => {
    const key = 'customers/Jane Doe.csv';
    const h = harness(async () => {
      throw new PrivacyPipelineError(`input object not found`, { file: key, rule: 'not-found' });
    });
    const out = await processUpload(h.deps, event(sqsRecord('m1', { Records: [s3Record(key)] })));
    expect(out.batchItemFailures).toEqual([]);
    expect(h.metrics).toEqual([{ name: 'FilesRejected', value: 1 }]);
    expect(h.lines.join('\n')).not.toContain('Jane');
    expect(h.lines.join('\n')).toContain(keyHash(key));
  });

  it('replaces the key inside error messages by its hash', async () => {
    const key = 'customers/Jane Doe.csv';
    const h = harness(async () => {
      throw new InvalidFileError(`${key}: the file has a header but no data rows`, { file: key, rule: 'no-rows' });
    });
    await processUpload(h.deps, event(sqsRecord('m1', { Records: [s3Record(key)] })));
    expect(h.lines.join('\n')).not.toContain('Jane');
    expect(h.lines.join('\n')).toContain(`<key ${keyHash(key)}>: the file has a header but no data rows`);
  });

  it.each([
    ['../etc/passwd.csv', 'a parent segment'],
    ['customers/../orders/x.csv', 'a parent segment inside'],
    ['/customers/x.csv', 'an absolute path'],
    ['x.csv', 'no dataset prefix'],
    ['Customers/x.csv', 'an upper-case dataset'],
    ['customers//x.csv', 'an empty segment'],
  ])('skips %s (%s) as permanent, logging only a hash', async (key) => {
    const h = harness(async () => result('COMPLETE'));
    const out = await processUpload(h.deps, event(sqsRecord('m1', { Records: [s3Record(key)] })));
    expect(out.batchItemFailures).toEqual([]);
    expect(h.calls).toEqual([]);
    expect(h.metrics).toEqual([{ name: 'FilesRejected', value: 1 }]);
    expect(h.lines.join('\n')).not.toContain(key);
    expect(h.lines.join('\n')).toContain(keyHash(key));
  });

  it.each([
    ['_contracts/customers.contract.yaml', BUCKET],
    ['customers/_subjects.idx', BUCKET],
    ['customers/', BUCKET],
    ['customers/a.csv', 'some-other-bucket'],
  ])('skips %s in %s without ingesting or failing', async (key, bucket) => {
    const h = harness(async () => result('COMPLETE'));
    const out = await processUpload(h.deps, event(sqsRecord('m1', { Records: [s3Record(key, { bucket })] })));
    expect(out.batchItemFailures).toEqual([]);
    expect(h.calls).toEqual([]);
  });

  it('sends an unreadable message back (it ends in the DLQ, never silently dropped)', async () => {
    const h = harness(async () => result('COMPLETE'));
    const out = await processUpload(h.deps, event(sqsRecord('m1', 'garbage{')));
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
  });

  it('counts duplicates and quarantined files', async () => {
    const h = harness(async (input) => (input.key.endsWith('dup.csv') ? result('SKIPPED', true) : result('QUARANTINED')));
    await processUpload(h.deps, event(sqsRecord('m1', { Records: [s3Record('customers/dup.csv'), s3Record('customers/bad.csv')] })));
    expect(h.metrics.filter((m) => ['Duplicates', 'FilesQuarantined', 'FilesProcessed'].includes(m.name))).toEqual([
      { name: 'FilesProcessed', value: 1 },
      { name: 'Duplicates', value: 1 },
      { name: 'FilesProcessed', value: 1 },
      { name: 'FilesQuarantined', value: 1 },
    ]);
  });

  it('a failed tag is logged, not retried', async () => {
    const h = harness(async () => result('COMPLETE'));
    const out = await processUpload(
      { ...h.deps, markProcessed: async () => Promise.reject(new Error('AccessDenied')) },
      event(sqsRecord('m1', { Records: [s3Record('customers/a.csv')] })),
    );
    expect(out.batchItemFailures).toEqual([]);
    expect(h.lines.some((l) => l.includes('could not tag'))).toBe(true);
  });

  it('hands back the messages it has no time left for', async () => {
    const h = harness(async () => result('COMPLETE'));
    let remaining = 120_000;
    const context = { getRemainingTimeInMillis: () => (remaining -= 50_000) };
    const out = await processUpload(
      h.deps,
      event(sqsRecord('m1', { Records: [s3Record('customers/a.csv')] }), sqsRecord('m2', { Records: [s3Record('customers/b.csv')] })),
      context,
    );
    expect(h.calls.map((c) => c.key)).toEqual(['customers/a.csv']);
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm2' }]);
  });
});

describe('processUpload with Powertools Metrics (EMF)', () => {
  beforeEach(() => {
    // Dev mode sends EMF through the global console (spied below); it would also disable
    // metrics unless POWERTOOLS_METRICS_DISABLED says otherwise.
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('emits EMF with the row counts and no dataset or key in the dimensions', async () => {
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      out.push(String(line));
    });
    const metrics = new Metrics({ namespace: 'PrivacyPipeline', serviceName: 'privacy-pipeline', defaultDimensions: { stage: 'test' } });
    const h = harness(async () => result('COMPLETE'));
    await processUpload({ ...h.deps, metrics }, event(sqsRecord('m1', { Records: [s3Record('customers/Jane Doe.csv')] })));
    const emf = out.map((l) => JSON.parse(l)).find((o) => o._aws);
    expect(emf).toBeDefined();
    const definition = emf._aws.CloudWatchMetrics[0];
    expect(definition.Namespace).toBe('PrivacyPipeline');
    expect(definition.Dimensions).toEqual([['service', 'stage']]);
    expect(definition.Metrics.map((m: { Name: string }) => m.Name).sort()).toEqual([
      'FilesProcessed',
      'FilesQuarantined',
      'RowsIn',
      'RowsPublished',
      'RowsQuarantined',
      'RowsSuppressed',
    ]);
    expect(emf.RowsIn).toBe(10);
    expect(JSON.stringify(emf)).not.toMatch(/Jane|customers/);
  });
});
