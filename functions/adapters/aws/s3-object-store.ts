/**
 * ObjectStore on Amazon S3 (or any S3-compatible endpoint set through AWS_ENDPOINT_URL_S3).
 * Streams in and out: GetObject bodies are passed through as they arrive, streamed puts go
 * through @aws-sdk/lib-storage multipart uploads, so memory stays at a few parts per upload.
 */
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  PutObjectCommand,
  type PutObjectCommandInput,
  PutObjectTaggingCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ObjectNotFoundError, PreconditionFailedError, PrivacyPipelineError, TransientError, UsageError } from '../../core/errors.ts';
import type { Body, ObjectInfo, ObjectStore, ObjectVersionInfo, PutOptions } from '../../core/ports.ts';
import type { BucketRole } from '../../core/types.ts';
import { awsErrorName, awsHttpStatus, mapAwsError } from './map-aws-error.ts';

export interface S3ObjectStoreOptions {
  readonly client: S3Client;
  /** Physical bucket name of each role. */
  readonly buckets: Readonly<Record<BucketRole, string>>;
  /**
   * KMS key for SSE-KMS on every put (with an S3 Bucket Key). When absent, the bucket's default
   * encryption applies and encryption contexts are not sent.
   */
  readonly kmsKeyId?: string;
  /** Multipart part size for streamed bodies. @default 8 MiB */
  readonly partSize?: number;
  /** Parts in flight per upload. @default 4 */
  readonly queueSize?: number;
  /** Keys per list page (MaxKeys). @default S3's 1000 */
  readonly pageSize?: number;
}

const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

/** S3 answers these when a store cannot list versions (unversioned S3-compatible stores, s3rver). */
const VERSIONS_UNSUPPORTED = new Set(['MethodNotAllowed', 'NotImplemented']);

export class S3ObjectStore implements ObjectStore {
  private readonly client: S3Client;
  private readonly buckets: Readonly<Record<BucketRole, string>>;
  private readonly kmsKeyId: string | undefined;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly pageSize: number | undefined;

  constructor(options: S3ObjectStoreOptions) {
    this.client = options.client;
    this.buckets = options.buckets;
    this.kmsKeyId = options.kmsKeyId;
    this.partSize = options.partSize ?? DEFAULT_PART_SIZE;
    this.queueSize = options.queueSize ?? 4;
    this.pageSize = options.pageSize;
  }

  /** Physical name of a bucket role. */
  bucketName(bucket: BucketRole): string {
    return this.buckets[bucket];
  }

  async get(
    bucket: BucketRole,
    key: string,
    opts?: { versionId?: string },
  ): Promise<{ info: ObjectInfo; body: AsyncIterable<Uint8Array> }> {
    let out: GetObjectCommandOutput;
    try {
      out = await this.client.send(new GetObjectCommand({ Bucket: this.buckets[bucket], Key: key, VersionId: opts?.versionId }));
    } catch (err) {
      throw this.mapError(err, 'GetObject', bucket, key);
    }
    const info = objectInfo(bucket, key, {
      size: out.ContentLength,
      etag: out.ETag,
      versionId: out.VersionId,
      lastModified: out.LastModified,
      metadata: out.Metadata,
    });
    return { info, body: guardedBody(out.Body as AsyncIterable<Uint8Array> | undefined, bucket, key) };
  }

  /** Bytes [start, end) with one ranged GetObject (`Range: bytes=start-(end-1)`); S3 clamps to the size. */
  async readRange(bucket: BucketRole, key: string, start: number, end: number, opts?: { versionId?: string }): Promise<Uint8Array> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
      throw new UsageError('invalid byte range', { bucket, rule: 'range' });
    }
    if (end === start) return new Uint8Array(0);
    let out: GetObjectCommandOutput;
    try {
      out = await this.client.send(
        new GetObjectCommand({ Bucket: this.buckets[bucket], Key: key, VersionId: opts?.versionId, Range: `bytes=${start}-${end - 1}` }),
      );
    } catch (err) {
      // A range that starts at or past the end: nothing to read.
      if (awsErrorName(err) === 'InvalidRange' || awsHttpStatus(err) === 416) return new Uint8Array(0);
      throw this.mapError(err, 'GetObject', bucket, key);
    }
    const parts: Uint8Array[] = [];
    for await (const chunk of guardedBody(out.Body as AsyncIterable<Uint8Array> | undefined, bucket, key)) parts.push(chunk);
    const bytes = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
    // Trust the Content-Range the server reports, not the one asked for: an emulator that ignores
    // Range (or reads `bytes=0-0` as open-ended, as s3rver does) sends more; cut the range out.
    const served = /^bytes (\d+)-\d+\/\d+$/.exec(out.ContentRange ?? '');
    if (!served) return bytes.length > end - start ? bytes.subarray(start, end) : bytes;
    const from = Number(served[1]);
    if (from === start && bytes.length <= end - start) return bytes;
    return bytes.subarray(Math.max(0, start - from), Math.max(0, end - from));
  }

  async head(bucket: BucketRole, key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.buckets[bucket], Key: key }));
      return objectInfo(bucket, key, {
        size: out.ContentLength,
        etag: out.ETag,
        versionId: out.VersionId,
        lastModified: out.LastModified,
        metadata: out.Metadata,
      });
    } catch (err) {
      const name = awsErrorName(err);
      if (name === 'NotFound' || name === 'NoSuchKey' || awsHttpStatus(err) === 404) return undefined;
      throw this.mapError(err, 'HeadObject', bucket, key);
    }
  }

  async put(bucket: BucketRole, key: string, body: Body, opts: PutOptions = {}): Promise<ObjectInfo> {
    const params: PutObjectCommandInput = {
      Bucket: this.buckets[bucket],
      Key: key,
      ContentType: opts.contentType ?? 'application/octet-stream',
      ...(opts.metadata ? { Metadata: { ...opts.metadata } } : {}),
      ...(opts.ifMatch ? { IfMatch: quoteEtag(opts.ifMatch) } : {}),
      ...(opts.ifNoneMatch ? { IfNoneMatch: opts.ifNoneMatch } : {}),
      ...this.encryptionParams(opts),
    };
    if (body instanceof Uint8Array) {
      try {
        const out = await this.client.send(new PutObjectCommand({ ...params, Body: body, ContentLength: body.byteLength }));
        return objectInfo(bucket, key, {
          size: body.byteLength,
          etag: out.ETag,
          versionId: out.VersionId,
          lastModified: new Date(),
          metadata: opts.metadata,
        });
      } catch (err) {
        throw this.mapError(err, 'PutObject', bucket, key);
      }
    }
    let size = 0;
    const counted = (async function* () {
      for await (const chunk of body) {
        size += chunk.byteLength;
        yield chunk;
      }
    })();
    // objectMode keeps the producer's chunks as they are; lib-storage slices them into parts.
    const readable = Readable.from(counted);
    const upload = new Upload({
      client: this.client,
      params: { ...params, Body: readable },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    try {
      const out = await upload.done();
      return objectInfo(bucket, key, { size, etag: out.ETag, versionId: out.VersionId, lastModified: new Date(), metadata: opts.metadata });
    } catch (err) {
      // Stop the producer too: a pipeline waiting to push more bytes must not hang.
      readable.destroy();
      throw this.mapError(err, 'multipart upload', bucket, key);
    }
  }

  async *list(bucket: BucketRole, prefix: string): AsyncIterable<ObjectInfo> {
    const pages = paginateListObjectsV2(
      { client: this.client, ...(this.pageSize ? { pageSize: this.pageSize } : {}) },
      { Bucket: this.buckets[bucket], Prefix: prefix },
    );
    try {
      for await (const page of pages) {
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined) continue;
          // ListObjectsV2 carries no user metadata; head() has it.
          yield objectInfo(bucket, o.Key, { size: o.Size, etag: o.ETag, lastModified: o.LastModified, metadata: undefined });
        }
      }
    } catch (err) {
      throw this.mapError(err, 'ListObjectsV2', bucket, prefix);
    }
  }

  async *listVersions(bucket: BucketRole, prefix: string): AsyncIterable<ObjectVersionInfo> {
    let first = true;
    try {
      for await (const page of this.versionPages(bucket, prefix)) {
        first = false;
        const entries: ObjectVersionInfo[] = [];
        for (const v of page.Versions ?? []) {
          if (v.Key === undefined) continue;
          entries.push({
            ...objectInfo(bucket, v.Key, {
              size: v.Size,
              etag: v.ETag,
              versionId: v.VersionId,
              lastModified: v.LastModified,
              metadata: undefined,
            }),
            isLatest: v.IsLatest ?? false,
            isDeleteMarker: false,
          });
        }
        for (const m of page.DeleteMarkers ?? []) {
          if (m.Key === undefined) continue;
          entries.push({
            ...objectInfo(bucket, m.Key, { size: 0, etag: '', versionId: m.VersionId, lastModified: m.LastModified, metadata: undefined }),
            isLatest: m.IsLatest ?? false,
            isDeleteMarker: true,
          });
        }
        // S3 returns versions and delete markers apart; merge them: key order, newest first.
        entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : b.lastModified.getTime() - a.lastModified.getTime()));
        yield* entries;
      }
    } catch (err) {
      if (first && (VERSIONS_UNSUPPORTED.has(awsErrorName(err)) || awsHttpStatus(err) === 405 || awsHttpStatus(err) === 501)) {
        // A store without versioning: every current object is its only version.
        for await (const o of this.list(bucket, prefix)) yield { ...o, isLatest: true, isDeleteMarker: false };
        return;
      }
      throw this.mapError(err, 'ListObjectVersions', bucket, prefix);
    }
  }

  /** ListObjectVersions has no SDK paginator: follow KeyMarker / VersionIdMarker by hand. */
  private async *versionPages(bucket: BucketRole, prefix: string): AsyncIterable<ListObjectVersionsCommandOutput> {
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const page = await this.client.send(
        new ListObjectVersionsCommand({
          Bucket: this.buckets[bucket],
          Prefix: prefix,
          KeyMarker: keyMarker,
          VersionIdMarker: versionIdMarker,
          MaxKeys: this.pageSize,
        }),
      );
      yield page;
      if (!page.IsTruncated) return;
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
      if (keyMarker === undefined && versionIdMarker === undefined) return;
    }
  }

  async delete(bucket: BucketRole, key: string, opts?: { versionId?: string }): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.buckets[bucket], Key: key, VersionId: opts?.versionId }));
    } catch (err) {
      throw this.mapError(err, 'DeleteObject', bucket, key);
    }
  }

  /**
   * Tags an object (outside the ObjectStore port): the ingest bucket's lifecycle rule expires
   * raw objects tagged as processed, and never untagged ones such as contracts.
   */
  async putTags(bucket: BucketRole, key: string, tags: Readonly<Record<string, string>>, opts?: { versionId?: string }): Promise<void> {
    try {
      await this.client.send(
        new PutObjectTaggingCommand({
          Bucket: this.buckets[bucket],
          Key: key,
          VersionId: opts?.versionId,
          Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
        }),
      );
    } catch (err) {
      throw this.mapError(err, 'PutObjectTagging', bucket, key);
    }
  }

  private encryptionParams(opts: PutOptions): Partial<PutObjectCommandInput> {
    if (!this.kmsKeyId) return {};
    const context = opts.encryptionContext && Object.keys(opts.encryptionContext).length > 0 ? opts.encryptionContext : undefined;
    return {
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: this.kmsKeyId,
      BucketKeyEnabled: true,
      // S3 wants the context as base64-encoded UTF-8 JSON.
      ...(context ? { SSEKMSEncryptionContext: Buffer.from(JSON.stringify(context), 'utf8').toString('base64') } : {}),
    };
  }

  private mapError(err: unknown, operation: string, bucket: BucketRole, key: string): unknown {
    if (err instanceof PrivacyPipelineError) return err;
    const name = awsErrorName(err);
    const status = awsHttpStatus(err);
    const context = { file: key, bucket };
    if (name === 'NoSuchKey' || name === 'NoSuchVersion' || name === 'NotFound') {
      return new ObjectNotFoundError(`${bucket}/${key}: object not found`, { ...context, rule: 'not-found' }, { cause: err });
    }
    if (name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412) {
      return new PreconditionFailedError(
        `${bucket}/${key}: ${operation} precondition failed (${name})`,
        { ...context, rule: 'precondition' },
        { cause: err },
      );
    }
    return mapAwsError(err, `S3 ${operation} on ${bucket}/${key}`, context);
  }
}

function objectInfo(
  bucket: BucketRole,
  key: string,
  raw: {
    size: number | undefined;
    etag: string | undefined;
    versionId?: string | undefined;
    lastModified: Date | undefined;
    metadata: Readonly<Record<string, string>> | undefined;
  },
): ObjectInfo {
  return {
    bucket,
    key,
    size: raw.size ?? 0,
    etag: unquoteEtag(raw.etag),
    ...(raw.versionId && raw.versionId !== 'null' ? { versionId: raw.versionId } : {}),
    lastModified: raw.lastModified ?? new Date(0),
    metadata: { ...(raw.metadata ?? {}) },
  };
}

/** S3 returns ETags in double quotes; the port's ETags are bare. */
export function unquoteEtag(etag: string | undefined): string {
  if (!etag) return '';
  return etag.startsWith('"') && etag.endsWith('"') && etag.length >= 2 ? etag.slice(1, -1) : etag;
}

function quoteEtag(etag: string): string {
  return etag.startsWith('"') ? etag : `"${etag}"`;
}

/** Mid-stream read failures (connection reset, timeout) are transient: the whole read is retried. */
async function* guardedBody(body: AsyncIterable<Uint8Array> | undefined, bucket: BucketRole, key: string): AsyncIterable<Uint8Array> {
  if (!body) return;
  try {
    for await (const chunk of body) yield chunk;
  } catch (err) {
    if (err instanceof PrivacyPipelineError) throw err;
    throw new TransientError(
      `S3 read of ${bucket}/${key} failed mid-stream (${awsErrorName(err)})`,
      { file: key, bucket, rule: 'aws-transient' },
      { cause: err },
    );
  }
}
