/**
 * GDPR erasure requests in the ErasureRequests table (layout in table-layout.ts), and the sealing
 * of their identifier. The identifier never lies in the table in clear: the identifier, the
 * reason and the region are one JSON payload encrypted by KMS under the data key, with the
 * encryption context { purpose: 'erasure-request', requestId } (so a ciphertext cannot be moved
 * to another request, and key policies / CloudTrail can tell these decrypts apart). The erasure
 * workflow removes the payload once the request is DONE.
 *
 * Lifecycle: SUBMITTED (by submit-erasure) → RUNNING → DONE | FAILED (by the state machine).
 * A FAILED request may be submitted again under its id. The table's stream (NEW_IMAGE) feeds
 * the workflow: every item whose new image is SUBMITTED starts it (lib/constructs/erasure-workflow.ts).
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { IntegrityError, UsageError } from '../../core/errors.ts';
import type { KeyService } from '../../core/ports.ts';
import type { IdentifierType } from '../../core/pseudonymise/token.ts';
import { awsErrorName, mapAwsError } from './map-aws-error.ts';

export type ErasureRequestStatus = 'SUBMITTED' | 'RUNNING' | 'DONE' | 'FAILED';

/** What is sealed: everything of a request that may hold personal data. */
export interface ErasurePayload {
  readonly identifier: string;
  readonly type?: IdentifierType;
  readonly reason?: string;
  readonly region?: string;
}

/** An item of the ErasureRequests table. */
export interface StoredErasureRequest {
  readonly requestId: string;
  readonly status: ErasureRequestStatus;
  readonly requestedAt: string;
  readonly requestedBy: string;
  /** Sealed ErasurePayload; absent once the request is DONE. */
  readonly payload?: Uint8Array;
  readonly executionArn?: string;
  /** JSON summary of the erasure certificate (no identifier), when DONE. */
  readonly certificate?: string;
  readonly error?: string;
}

export interface DynamoDbErasureRequestsOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** Outcome of a submission: a new or re-submitted request, or the status of the one that exists. */
export type SubmitOutcome =
  | { readonly accepted: true; readonly status: 'SUBMITTED' }
  | { readonly accepted: false; readonly status: ErasureRequestStatus };

export const ERASURE_PAYLOAD_PURPOSE = 'erasure-request';

/** The KMS encryption context of a request's sealed payload. */
export function erasurePayloadContext(requestId: string): Record<string, string> {
  return { purpose: ERASURE_PAYLOAD_PURPOSE, requestId };
}

/** Encrypts a request's payload under the data key (KMS Encrypt, at most 4 KiB). */
export async function sealErasurePayload(keys: KeyService, requestId: string, payload: ErasurePayload): Promise<Uint8Array> {
  const bytes = new TextEncoder().encode(JSON.stringify(payload));
  if (bytes.byteLength > 4096) throw new UsageError('identifier, reason and region together must fit in 4 KiB', { rule: 'payload-size' });
  return keys.encrypt(bytes, erasurePayloadContext(requestId));
}

/** Decrypts a request's payload; the context binds it to its request id. */
export async function openErasurePayload(keys: KeyService, requestId: string, sealed: Uint8Array): Promise<ErasurePayload> {
  const bytes = await keys.decrypt(sealed, erasurePayloadContext(requestId));
  const payload = JSON.parse(new TextDecoder().decode(bytes)) as ErasurePayload;
  if (typeof payload?.identifier !== 'string')
    throw new IntegrityError('erasure request payload has no identifier', { requestId, rule: 'erasure-payload' });
  return payload;
}

export class DynamoDbErasureRequests {
  constructor(private readonly options: DynamoDbErasureRequestsOptions) {}

  /**
   * Records a new request, or submits a FAILED one again with a fresh payload. A request that
   * is SUBMITTED, RUNNING or DONE is left alone and its status returned.
   */
  async submit(req: { requestId: string; requestedAt: string; requestedBy: string; payload: Uint8Array }): Promise<SubmitOutcome> {
    const { doc, tableName } = this.options;
    try {
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: req.requestId,
            status: 'SUBMITTED',
            requestedAt: req.requestedAt,
            requestedBy: req.requestedBy,
            payload: req.payload,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { accepted: true, status: 'SUBMITTED' };
    } catch (err) {
      if (awsErrorName(err) !== 'ConditionalCheckFailedException') throw mapAwsError(err, 'DynamoDB PutItem (erasure request)');
    }
    try {
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: req.requestId },
          UpdateExpression: 'SET #s = :submitted, requestedAt = :at, requestedBy = :by, payload = :p REMOVE #e, executionArn',
          ConditionExpression: '#s = :failed',
          ExpressionAttributeNames: { '#s': 'status', '#e': 'error' },
          ExpressionAttributeValues: {
            ':submitted': 'SUBMITTED',
            ':failed': 'FAILED',
            ':at': req.requestedAt,
            ':by': req.requestedBy,
            ':p': req.payload,
          },
        }),
      );
      return { accepted: true, status: 'SUBMITTED' };
    } catch (err) {
      if (awsErrorName(err) !== 'ConditionalCheckFailedException') throw mapAwsError(err, 'DynamoDB UpdateItem (erasure request)');
    }
    const existing = await this.get(req.requestId);
    return { accepted: false, status: existing?.status ?? 'SUBMITTED' };
  }

  async get(requestId: string): Promise<StoredErasureRequest | undefined> {
    try {
      const out = await this.options.doc.send(
        new GetCommand({ TableName: this.options.tableName, Key: { pk: requestId }, ConsistentRead: true }),
      );
      const item = out.Item;
      if (!item) return undefined;
      return {
        requestId: String(item.pk),
        status: item.status as ErasureRequestStatus,
        requestedAt: String(item.requestedAt),
        requestedBy: String(item.requestedBy),
        ...(item.payload instanceof Uint8Array ? { payload: item.payload } : {}),
        ...(typeof item.executionArn === 'string' ? { executionArn: item.executionArn } : {}),
        ...(typeof item.certificate === 'string' ? { certificate: item.certificate } : {}),
        ...(typeof item.error === 'string' ? { error: item.error } : {}),
      };
    } catch (err) {
      throw mapAwsError(err, 'DynamoDB GetItem (erasure request)');
    }
  }
}
