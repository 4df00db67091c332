/**
 * Erasure through the S3 adapter. s3rver keeps no versions, so a small versioned S3 is simulated
 * behind aws-sdk-client-mock (versions, delete markers, IfMatch): it proves that erasure writes
 * conditionally, retries on 412, and deletes every noncurrent version with DeleteObject+VersionId.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  type DeleteObjectCommandInput,
  GetObjectCommand,
  type GetObjectCommandInput,
  HeadObjectCommand,
  type HeadObjectCommandInput,
  ListObjectsV2Command,
  type ListObjectsV2CommandInput,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandInput,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../../functions/adapters/aws/s3-object-store.ts';
import { eraseSubject } from '../../../functions/core/erasure/erase-subject.ts';
import type { Ports } from '../../../functions/core/ports.ts';
import { bodyText, ingest, tempPorts } from './helpers.ts';

const BUCKETS = { ingest: 'pp-ingest', curated: 'pp-curated', quarantine: 'pp-quarantine', aggregates: 'pp-aggregates' } as const;

interface Version {
  readonly versionId: string;
  readonly body: Buffer;
  readonly etag: string;
  readonly metadata: Record<string, string>;
  readonly deleteMarker: boolean;
  readonly at: Date;
}

function s3Error(name: string, status: number): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });
}

async function toBuffer(body: unknown): Promise<Buffer> {
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  const parts: Uint8Array[] = [];
  for await (const c of body as AsyncIterable<Uint8Array | string>) parts.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(parts);
}

/** A versioned bucket in memory, answering the S3 commands the adapter sends. */
class VersionedS3 {
  readonly objects = new Map<string, Version[]>(); // bucket/key → newest first
  private seq = 0;
  /** Keys whose next conditional put answers 412 after a concurrent write. */
  readonly raceOnce = new Set<string>();
  readonly mock = mockClient(S3Client);

  constructor() {
    this.mock.on(PutObjectCommand).callsFake(async (input: PutObjectCommandInput) => this.put(input));
    this.mock.on(GetObjectCommand).callsFake((input: GetObjectCommandInput) => this.get(input));
    this.mock.on(HeadObjectCommand).callsFake((input: HeadObjectCommandInput) => {
      const v = this.latest(`${input.Bucket}/${input.Key}`);
      if (!v) throw s3Error('NotFound', 404);
      return { ETag: v.etag, VersionId: v.versionId, ContentLength: v.body.length, LastModified: v.at, Metadata: v.metadata };
    });
    this.mock.on(ListObjectVersionsCommand).callsFake((input: ListObjectVersionsCommandInput) => this.list(input));
    this.mock.on(ListObjectsV2Command).callsFake((input: ListObjectsV2CommandInput) => this.listCurrent(input));
    this.mock.on(DeleteObjectCommand).callsFake((input: DeleteObjectCommandInput) => this.delete(input));
  }

  private nextVersion(): string {
    return `v${String(++this.seq).padStart(6, '0')}`;
  }

  private latest(id: string): Version | undefined {
    const v = this.objects.get(id)?.[0];
    return v && !v.deleteMarker ? v : undefined;
  }

  private async put(input: PutObjectCommandInput) {
    const id = `${input.Bucket}/${input.Key}`;
    const body = await toBuffer(input.Body);
    if (input.IfMatch !== undefined) {
      if (this.raceOnce.delete(id)) {
        // Another writer got there first: a new version appears, the condition fails.
        const cur = this.latest(id) as Version;
        this.add(id, Buffer.concat([cur.body]), cur.metadata);
        throw s3Error('PreconditionFailed', 412);
      }
      if (this.latest(id)?.etag !== input.IfMatch) throw s3Error('PreconditionFailed', 412);
    }
    const v = this.add(id, body, { ...(input.Metadata ?? {}) });
    return { ETag: v.etag, VersionId: v.versionId };
  }

  private add(id: string, body: Buffer, metadata: Record<string, string>): Version {
    const v: Version = {
      versionId: this.nextVersion(),
      body,
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      metadata,
      deleteMarker: false,
      at: new Date(Date.now() + this.seq),
    };
    this.objects.set(id, [v, ...(this.objects.get(id) ?? [])]);
    return v;
  }

  private get(input: GetObjectCommandInput) {
    const id = `${input.Bucket}/${input.Key}`;
    const v = input.VersionId ? this.objects.get(id)?.find((x) => x.versionId === input.VersionId) : this.latest(id);
    if (!v || v.deleteMarker) throw s3Error(input.VersionId ? 'NoSuchVersion' : 'NoSuchKey', 404);
    return {
      Body: Readable.from([v.body]) as never,
      ETag: v.etag,
      VersionId: v.versionId,
      ContentLength: v.body.length,
      LastModified: v.at,
      Metadata: v.metadata,
    };
  }

  private list(input: ListObjectVersionsCommandInput) {
    const prefix = `${input.Bucket}/${input.Prefix ?? ''}`;
    const ids = [...this.objects.keys()].filter((id) => id.startsWith(prefix)).sort();
    type Entry = { Key: string; VersionId: string; IsLatest: boolean; LastModified: Date; ETag?: string; Size?: number };
    const Versions: Entry[] = [];
    const DeleteMarkers: Entry[] = [];
    for (const id of ids) {
      const key = id.slice((input.Bucket as string).length + 1);
      (this.objects.get(id) ?? []).forEach((v, i) => {
        const entry = { Key: key, VersionId: v.versionId, IsLatest: i === 0, LastModified: v.at };
        if (v.deleteMarker) DeleteMarkers.push(entry);
        else Versions.push({ ...entry, ETag: v.etag, Size: v.body.length });
      });
    }
    return { Versions, DeleteMarkers, IsTruncated: false };
  }

  /** Current objects (latest version not a delete marker), as ListObjectsV2 lists them. */
  private listCurrent(input: ListObjectsV2CommandInput) {
    const { Versions } = this.list(input);
    const Contents = Versions.filter((v) => v.IsLatest).map((v) => ({
      Key: v.Key,
      ETag: v.ETag,
      Size: v.Size,
      LastModified: v.LastModified,
    }));
    return { Contents, KeyCount: Contents.length, IsTruncated: false };
  }

  private delete(input: DeleteObjectCommandInput) {
    const id = `${input.Bucket}/${input.Key}`;
    if (input.VersionId) {
      const left = (this.objects.get(id) ?? []).filter((v) => v.versionId !== input.VersionId);
      if (left.length === 0) this.objects.delete(id);
      else this.objects.set(id, left);
      return {};
    }
    const marker: Version = {
      versionId: this.nextVersion(),
      body: Buffer.alloc(0),
      etag: '',
      metadata: {},
      deleteMarker: true,
      at: new Date(),
    };
    this.objects.set(id, [marker, ...(this.objects.get(id) ?? [])]);
    return { DeleteMarker: true, VersionId: marker.versionId };
  }
}

let s3: VersionedS3 | undefined;
afterEach(() => {
  s3?.mock.restore();
  s3 = undefined;
});

const CONTRACT = `
dataset: customers
subjectKey: customer_id
columns:
  - { name: customer_id, privacy: { entity: SUBJECT_ID } }
  - { name: email, privacy: { entity: EMAIL_ADDRESS } }
  - { name: phone, privacy: { entity: PHONE_NUMBER } }
`;

describe('erasure through the S3 adapter (versioned bucket behind aws-sdk-client-mock)', () => {
  it('rewrites with IfMatch, retries on 412, and deletes every noncurrent version', async () => {
    s3 = new VersionedS3();
    const local = await tempPorts();
    const ports: Ports = { ...local, objects: new S3ObjectStore({ client: new S3Client({ region: 'eu-west-1' }), buckets: BUCKETS }) };
    const text = 'customer_id,email,phone\nC-4711,jane.doe@example.com,+44 7700 900123\nC-2,bob@example.org,+44 7700 900456\n';
    // An older upload of the same raw key also held the subject.
    await ports.objects.put(
      'ingest',
      'customers/c.csv',
      Buffer.from('customer_id,email,phone\nC-4711,jane.doe@example.com,+44 7700 900123\n'),
    );
    await ingest(ports, 'customers/c.csv', text, CONTRACT);
    const curatedId = [...s3.objects.keys()].find((id) => id.startsWith('pp-curated/') && id.endsWith('.csv')) as string;
    s3.raceOnce.add(curatedId);

    const cert = await eraseSubject(ports, { identifier: 'jane.doe@example.com', requestId: 'req-s3' });

    // Conditional writes: every rewrite of a data object carried IfMatch, one was retried.
    const puts = s3.mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    const rewrites = puts.filter((p) => p.Metadata?.['pp-erasure-request'] === 'req-s3' && !String(p.Key).endsWith('.idx'));
    expect(rewrites.length).toBe(3); // raw, curated twice (412 once)
    for (const p of rewrites) expect(p.IfMatch).toMatch(/^"[0-9a-f]{32}"$/);
    expect(rewrites.filter((p) => `${p.Bucket}/${p.Key}` === curatedId)).toHaveLength(2);
    // Old versions deleted one by one by version id, never a plain delete of live data.
    const deletes = s3.mock.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input);
    expect(deletes.length).toBe(cert.versionsDeleted);
    for (const d of deletes) expect(d.VersionId).toMatch(/^v\d{6}$/);
    expect(deletes.filter((d) => d.Key === 'customers/c.csv')).toHaveLength(2);

    // What is left: one version per key, none holds the subject; the other customer is still there.
    for (const [id, versions] of s3.objects) {
      expect(
        versions.filter((v) => !v.deleteMarker),
        id,
      ).toHaveLength(1);
      const body = (versions[0] as Version).body;
      if (!id.endsWith('.idx')) expect(body.toString('utf8').toLowerCase(), id).not.toMatch(/jane|c-4711|7700 900123/);
    }
    expect(await bodyText((await ports.objects.get('ingest', 'customers/c.csv')).body)).toBe(
      'customer_id,email,phone\nC-2,bob@example.org,+44 7700 900456\n',
    );
    expect(cert).toMatchObject({ rowsRemoved: 2, verification: 'passed' });
  });
});
