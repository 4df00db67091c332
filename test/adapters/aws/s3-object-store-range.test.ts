import { randomBytes } from 'node:crypto';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../../functions/adapters/aws/s3-object-store.ts';
import { ObjectNotFoundError } from '../../../functions/core/errors.ts';
import { type S3Emulator, startS3rver } from '../../support/emulators.ts';

const BUCKETS = {
  ingest: 'pp-range-ingest',
  curated: 'pp-range-curated',
  quarantine: 'pp-range-quarantine',
  aggregates: 'pp-range-aggregates',
} as const;

describe('S3ObjectStore.readRange', () => {
  let s3: S3Emulator;
  let store: S3ObjectStore;
  beforeAll(async () => {
    s3 = await startS3rver(Object.values(BUCKETS));
    store = new S3ObjectStore({ client: s3.client, buckets: BUCKETS });
  });
  afterAll(async () => {
    await s3.close();
  });

  it('returns exactly the bytes of the range, clamped at the end (s3rver)', async () => {
    const data = randomBytes(5000);
    await store.put('ingest', 'd/range.bin', data);
    for (const [a, b] of [
      [0, 1],
      [0, 5000],
      [4096, 4100],
      [4990, 6000],
      [123, 123],
    ] as const) {
      expect(Buffer.from(await store.readRange('ingest', 'd/range.bin', a, b)), `${a}-${b}`).toEqual(data.subarray(a, b));
    }
    expect(await store.readRange('ingest', 'd/range.bin', 5000, 5010)).toHaveLength(0);
    await expect(store.readRange('ingest', 'd/none.bin', 0, 10)).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('sends one GetObject with an inclusive Range header and the version', async () => {
    const client = new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const mock = mockClient(client);
    async function* body() {
      yield new Uint8Array([1, 2, 3]);
    }
    mock.on(GetObjectCommand).resolves({ Body: body() as never, ContentRange: 'bytes 10-12/100' });
    const mocked = new S3ObjectStore({ client, buckets: BUCKETS });
    expect(Array.from(await mocked.readRange('curated', 'k', 10, 13, { versionId: 'v1' }))).toEqual([1, 2, 3]);
    expect(mock.commandCalls(GetObjectCommand)[0]?.args[0].input).toMatchObject({
      Bucket: BUCKETS.curated,
      Key: 'k',
      Range: 'bytes=10-12',
      VersionId: 'v1',
    });
    mock.restore();
  });
});
