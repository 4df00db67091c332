/**
 * Parsing of the SQS message bodies that S3 event notifications produce: a JSON document with
 * `Records` (one S3 event record each), or the `s3:TestEvent` S3 sends when a notification is
 * configured. Object keys arrive URL-encoded with `+` for spaces, as S3 sends them.
 */
import type { S3Event } from 'aws-lambda';

/** One object-created notification, key decoded. */
export interface UploadedObject {
  readonly bucket: string;
  readonly key: string;
  readonly eventName: string;
  readonly versionId?: string;
  readonly etag?: string;
  readonly size?: number;
}

export type S3EventMessage =
  | { readonly kind: 'objects'; readonly objects: readonly UploadedObject[]; readonly skipped: readonly SkippedRecord[] }
  | { readonly kind: 'test-event' }
  | { readonly kind: 'invalid'; readonly reason: string };

/** A record that names no usable object (not ObjectCreated, undecodable key). Never holds the key. */
export interface SkippedRecord {
  readonly eventName: string;
  readonly reason: string;
}

/** Decodes a key from an S3 event notification (`+` is a space; `%2B` is a plus). */
export function decodeS3EventKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

export function parseS3EventMessage(body: string): S3EventMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { kind: 'invalid', reason: 'message body is not JSON' };
  }
  if (!parsed || typeof parsed !== 'object') return { kind: 'invalid', reason: 'message body is not an object' };
  const doc = parsed as { Event?: unknown; Records?: unknown };
  if (doc.Event === 's3:TestEvent') return { kind: 'test-event' };
  if (!Array.isArray(doc.Records)) return { kind: 'invalid', reason: 'message has no Records array' };
  const objects: UploadedObject[] = [];
  const skipped: SkippedRecord[] = [];
  for (const raw of doc.Records as S3Event['Records']) {
    const eventName = typeof raw?.eventName === 'string' ? raw.eventName : '';
    if (raw?.eventSource !== 'aws:s3' || !eventName.startsWith('ObjectCreated:')) {
      skipped.push({ eventName, reason: 'not an S3 ObjectCreated event' });
      continue;
    }
    const bucket = raw.s3?.bucket?.name;
    const encodedKey = raw.s3?.object?.key;
    if (typeof bucket !== 'string' || typeof encodedKey !== 'string') {
      skipped.push({ eventName, reason: 'record names no bucket or key' });
      continue;
    }
    let key: string;
    try {
      key = decodeS3EventKey(encodedKey);
    } catch {
      skipped.push({ eventName, reason: 'object key is not valid URL encoding' });
      continue;
    }
    const object = raw.s3.object;
    objects.push({
      bucket,
      key,
      eventName,
      ...(object.versionId ? { versionId: object.versionId } : {}),
      ...(object.eTag ? { etag: object.eTag } : {}),
      ...(typeof object.size === 'number' ? { size: object.size } : {}),
    });
  }
  return { kind: 'objects', objects, skipped };
}
