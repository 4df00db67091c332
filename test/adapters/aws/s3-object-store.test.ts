import { createHash, randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ObjectStore, unquoteEtag } from '../../../functions/adapters/aws/s3-object-store.ts';
import { ObjectNotFoundError, PreconditionFailedError, TransientError } from '../../../functions/core/errors.ts';
import { type S3Emulator, startS3rver } from '../../support/emulators.ts';

const BUCKETS = { ingest: 'pp-ingest', curated: 'pp-curated', quarantine: 'pp-quarantine', aggregates: 'pp-aggregates' } as const;

async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks);
}

async function* chunked(data: Buffer, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function s3Error(name: string, status: number, fault: 'client' | 'server' = 'client'): S3ServiceException {
  return new S3ServiceException({ name, $fault: fault, $metadata: { httpStatusCode: status }, message: `${name} from the service` });
}

describe('S3ObjectStore against s3rver', () => {
  let s3: S3Emulator;
  let store: S3ObjectStore;
  const commands: string[] = [];

  beforeAll(async () => {
    s3 = await startS3rver(Object.values(BUCKETS));
    s3.client.middlewareStack.add(
      (next, context) => (args) => {
        commands.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
    store = new S3ObjectStore({ client: s3.client, buckets: BUCKETS, partSize: 5 * 1024 * 1024, pageSize: 7 });
  });
  afterAll(async () => {
    await s3.close();
  });

  it('puts and gets a buffer with content type and metadata; etags are bare', async () => {
    const body = new TextEncoder().encode('id,email\n1,a@example.com\n');
    const put = await store.put('curated', 'customers/a b/ünï.csv', body, { contentType: 'text/csv', metadata: { 'pp-run-id': 'run-1' } });
    expect(put.etag).toBe(createHash('md5').update(body).digest('hex'));
    const head = await store.head('curated', 'customers/a b/ünï.csv');
    expect(head).toMatchObject({
      bucket: 'curated',
      key: 'customers/a b/ünï.csv',
      size: body.length,
      etag: put.etag,
      metadata: { 'pp-run-id': 'run-1' },
    });
    const got = await store.get('curated', 'customers/a b/ünï.csv');
    expect(got.info.etag).toBe(put.etag);
    expect((await collect(got.body)).toString()).toBe('id,email\n1,a@example.com\n');
  });

  it('streams a 12 MB body through a multipart upload and reads it back identical', async () => {
    const data = randomBytes(12 * 1024 * 1024 + 123);
    commands.length = 0;
    const put = await store.put('curated', 'big/part-00000.csv', chunked(data, 64 * 1024));
    expect(put.size).toBe(data.length);
    // 5 MiB parts: 5 + 5 + 2.
    expect(commands.filter((c) => c === 'UploadPartCommand')).toHaveLength(3);
    expect(commands).toContain('CompleteMultipartUploadCommand');
    const got = await store.get('curated', 'big/part-00000.csv');
    expect(got.info.size).toBe(data.length);
    expect(sha(await collect(got.body))).toBe(sha(data));
  });

  it('streams a small body with a single put', async () => {
    const data = Buffer.from('small streamed body');
    commands.length = 0;
    const put = await store.put('aggregates', 'small.json', chunked(data, 4));
    expect(commands).toEqual(['PutObjectCommand']);
    expect(put).toMatchObject({ size: data.length, etag: createHash('md5').update(data).digest('hex') });
    expect((await collect((await store.get('aggregates', 'small.json')).body)).toString()).toBe('small streamed body');
  });

  it('head is undefined and get throws ObjectNotFoundError for a missing key', async () => {
    expect(await store.head('ingest', 'nope/missing.csv')).toBeUndefined();
    await expect(store.get('ingest', 'nope/missing.csv')).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('lists every object under a prefix across pages, in key order', async () => {
    const keys = Array.from({ length: 23 }, (_, i) => `listing/k${String(i).padStart(3, '0')}.csv`);
    for (const k of [...keys].reverse()) await store.put('quarantine', k, new Uint8Array([1, 2, 3]));
    await store.put('quarantine', 'listing-other/x.csv', new Uint8Array([1]));
    const listed: string[] = [];
    for await (const o of store.list('quarantine', 'listing/')) {
      expect(o.size).toBe(3);
      listed.push(o.key);
    }
    expect(listed).toEqual(keys);
  });

  it('lists current objects as their only versions when the store keeps no versions', async () => {
    await store.put('ingest', 'versions/a.csv', new Uint8Array([1]));
    await store.put('ingest', 'versions/b.csv', new Uint8Array([2, 2]));
    const versions = [];
    for await (const v of store.listVersions('ingest', 'versions/')) versions.push(v);
    expect(versions.map((v) => [v.key, v.size, v.isLatest, v.isDeleteMarker])).toEqual([
      ['versions/a.csv', 1, true, false],
      ['versions/b.csv', 2, true, false],
    ]);
  });

  it('deletes objects and tags them', async () => {
    await store.put('ingest', 'del/x.csv', new Uint8Array([1]));
    await store.putTags('ingest', 'del/x.csv', { 'privacy-pipeline:status': 'processed' });
    const tags = await s3.client.send(new GetObjectTaggingCommand({ Bucket: BUCKETS.ingest, Key: 'del/x.csv' }));
    expect(tags.TagSet).toEqual([{ Key: 'privacy-pipeline:status', Value: 'processed' }]);
    await store.delete('ingest', 'del/x.csv');
    expect(await store.head('ingest', 'del/x.csv')).toBeUndefined();
  });
});

describe('S3ObjectStore request shapes and error mapping (mocked S3)', () => {
  const client = new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const mock = mockClient(client);
  const store = new S3ObjectStore({
    client,
    buckets: BUCKETS,
    kmsKeyId: 'arn:aws:kms:eu-west-1:111111111111:key/data',
    partSize: 5 * 1024 * 1024,
  });

  beforeEach(() => mock.reset());

  it('sends SSE-KMS with the key, a bucket key and the base64 JSON encryption context', async () => {
    mock.on(PutObjectCommand).resolves({ ETag: '"abc"', VersionId: 'v1', $metadata: {} });
    const info = await store.put('curated', 'ds/k.csv', new Uint8Array([1, 2]), { encryptionContext: { dataset: 'ds' }, ifNoneMatch: '*' });
    expect(info).toMatchObject({ etag: 'abc', versionId: 'v1', size: 2 });
    const input = mock.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      Bucket: 'pp-curated',
      Key: 'ds/k.csv',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:eu-west-1:111111111111:key/data',
      BucketKeyEnabled: true,
      IfNoneMatch: '*',
      ContentLength: 2,
    });
    expect(JSON.parse(Buffer.from(String(input?.SSEKMSEncryptionContext), 'base64').toString('utf8'))).toEqual({ dataset: 'ds' });
  });

  it('quotes IfMatch ETags', async () => {
    mock.on(PutObjectCommand).resolves({ ETag: '"new"', $metadata: {} });
    await store.put('curated', 'ds/k.csv', new Uint8Array([1]), { ifMatch: 'old' });
    expect(mock.commandCalls(PutObjectCommand)[0]?.args[0].input.IfMatch).toBe('"old"');
  });

  it.each([
    ['PreconditionFailed', 412, PreconditionFailedError],
    ['ConditionalRequestConflict', 409, PreconditionFailedError],
    ['SlowDown', 503, TransientError],
    ['InternalError', 500, TransientError],
    ['ServiceUnavailable', 503, TransientError],
  ])('maps %s (%d) on put', async (name, status, expected) => {
    const err = s3Error(name, status, status >= 500 ? 'server' : 'client');
    mock.on(PutObjectCommand).rejects(err);
    const failure = await store.put('curated', 'ds/k.csv', new Uint8Array([1])).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(expected);
    expect((failure as Error).cause).toBe(err);
  });

  it('leaves client errors it does not know as they are (near miss: AccessDenied is not transient by name)', async () => {
    const err = s3Error('AccessDenied', 403);
    mock.on(GetObjectCommand).rejects(err);
    await expect(store.get('ingest', 'ds/k.csv')).rejects.toBe(err);
  });

  it.each([
    ['NoSuchKey', 404],
    ['NoSuchVersion', 404],
  ])('maps %s on get to ObjectNotFoundError', async (name, status) => {
    mock.on(GetObjectCommand).rejects(s3Error(name, status));
    await expect(store.get('ingest', 'ds/k.csv', { versionId: 'v9' })).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('head maps 404 to undefined but throttling to TransientError', async () => {
    mock
      .on(HeadObjectCommand)
      .rejectsOnce(s3Error('NotFound', 404))
      .rejectsOnce(s3Error('SlowDown', 503, 'server'));
    expect(await store.head('ingest', 'a/b.csv')).toBeUndefined();
    await expect(store.head('ingest', 'a/b.csv')).rejects.toBeInstanceOf(TransientError);
  });

  it('turns a mid-stream read failure into TransientError without object contents in the message', async () => {
    async function* failing() {
      yield Buffer.from('secret-row@example.com,');
      throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    }
    mock.on(GetObjectCommand).resolves({ Body: failing() as never, ContentLength: 100, ETag: '"e"', $metadata: {} });
    const { body } = await store.get('ingest', 'ds/k.csv');
    const failure = await collect(body).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TransientError);
    expect(String((failure as Error).message)).not.toContain('secret-row');
  });

  it('aborts a failed multipart upload and stops the producer', async () => {
    mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1', $metadata: {} });
    mock.on(UploadPartCommand).rejects(s3Error('SlowDown', 503, 'server'));
    mock.on(AbortMultipartUploadCommand).resolves({ $metadata: {} });
    let producerFinished = false;
    async function* producer() {
      try {
        for (let i = 0; i < 400; i++) yield new Uint8Array(64 * 1024);
      } finally {
        producerFinished = true;
      }
    }
    await expect(store.put('curated', 'ds/big.csv', producer())).rejects.toBeInstanceOf(TransientError);
    expect(mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
    expect(mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    await new Promise((r) => setImmediate(r));
    expect(producerFinished).toBe(true);
  });

  it('passes conditions through to CompleteMultipartUpload and maps its 412', async () => {
    mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u2', $metadata: {} });
    mock.on(UploadPartCommand).resolves({ ETag: '"p"', $metadata: {} });
    mock.on(CompleteMultipartUploadCommand).rejects(s3Error('PreconditionFailed', 412));
    mock.on(AbortMultipartUploadCommand).resolves({ $metadata: {} });
    const data = randomBytes(11 * 1024 * 1024);
    await expect(store.put('curated', 'ds/big.csv', chunked(data, 1 << 20), { ifNoneMatch: '*' })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    expect(mock.commandCalls(CompleteMultipartUploadCommand)[0]?.args[0].input).toMatchObject({ IfNoneMatch: '*', UploadId: 'u2' });
  });

  it('merges versions and delete markers, newest first, following the markers', async () => {
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    mock
      .on(ListObjectVersionsCommand)
      .resolvesOnce({
        IsTruncated: true,
        NextKeyMarker: 'a.csv',
        NextVersionIdMarker: 'v1',
        Versions: [
          { Key: 'a.csv', VersionId: 'v2', IsLatest: false, Size: 5, ETag: '"e2"', LastModified: t(2) },
          { Key: 'a.csv', VersionId: 'v1', IsLatest: false, Size: 4, ETag: '"e1"', LastModified: t(1) },
        ],
        DeleteMarkers: [{ Key: 'a.csv', VersionId: 'd3', IsLatest: true, LastModified: t(3) }],
        $metadata: {},
      })
      .resolvesOnce({
        IsTruncated: false,
        Versions: [{ Key: 'b.csv', VersionId: 'w1', IsLatest: true, Size: 1, ETag: '"f"', LastModified: t(4) }],
        $metadata: {},
      });
    const seen = [];
    for await (const v of store.listVersions('curated', '')) seen.push([v.key, v.versionId, v.isLatest, v.isDeleteMarker, v.etag]);
    expect(seen).toEqual([
      ['a.csv', 'd3', true, true, ''],
      ['a.csv', 'v2', false, false, 'e2'],
      ['a.csv', 'v1', false, false, 'e1'],
      ['b.csv', 'w1', true, false, 'f'],
    ]);
    expect(mock.commandCalls(ListObjectVersionsCommand)[1]?.args[0].input).toMatchObject({ KeyMarker: 'a.csv', VersionIdMarker: 'v1' });
  });

  it.each([
    ['"abc"', 'abc'],
    ['abc', 'abc'],
    ['"abc-3"', 'abc-3'],
    ['"', '"'],
    [undefined, ''],
  ])('unquotes ETag %s', (raw, expected) => {
    expect(unquoteEtag(raw)).toBe(expected);
  });
});
