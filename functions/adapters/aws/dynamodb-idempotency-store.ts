/**
 * IdempotencyStore on DynamoDB with the semantics of Powertools' idempotency utility: a claim
 * is a conditional put that succeeds when no record exists, when the record is an in-progress
 * claim whose time is up (takeover), or when the record has expired. A completed record
 * answers every later claim with its result until it expires. Items carry a DynamoDB TTL so
 * the table cleans itself, but expiry is always checked from `expiresAt`, never from TTL,
 * because TTL deletion runs late (and not at all in dynalite).
 */
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../core/errors.ts';
import type { ClaimResult, Clock, IdempotencyStore } from '../../core/ports.ts';
import { awsErrorName, mapAwsError } from './map-aws-error.ts';
import { controlKeys } from './table-layout.ts';

export interface DynamoDbIdempotencyStoreOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly clock: Clock;
  /** How long a completed record answers retries. @default 30 days */
  readonly completedTtlMs?: number;
}

const IN_PROGRESS = 'INPROGRESS';
const COMPLETED = 'COMPLETED';
const MAX_ATTEMPTS = 3;

export class DynamoDbIdempotencyStore implements IdempotencyStore {
  private readonly completedTtlMs: number;

  constructor(private readonly options: DynamoDbIdempotencyStoreOptions) {
    this.completedTtlMs = options.completedTtlMs ?? 30 * 24 * 3600_000;
  }

  async claim(key: string, owner: string, ttlMs: number): Promise<ClaimResult> {
    for (let attempt = 1; ; attempt++) {
      const now = this.options.clock.now().getTime();
      const expiresAt = now + ttlMs;
      try {
        await this.options.doc.send(
          new PutCommand({
            TableName: this.options.tableName,
            Item: { ...controlKeys.idempotency(key), status: IN_PROGRESS, owner, expiresAt, ttl: ttlSeconds(expiresAt) },
            // Free, or expired (an abandoned in-progress claim, an old completed record). Not
            // re-entrant: owners may be derived from the input, so the same owner can run twice.
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
            ExpressionAttributeValues: { ':now': now },
          }),
        );
        return { status: 'claimed' };
      } catch (err) {
        if (awsErrorName(err) !== 'ConditionalCheckFailedException') throw mapAwsError(err, 'DynamoDB PutItem (idempotency claim)');
      }
      const item = await this.read(key);
      if (item && typeof item.expiresAt === 'number' && item.expiresAt >= now) {
        if (item.status === COMPLETED) return { status: 'completed', result: parseResult(item.result) };
        return { status: 'in-progress', owner: String(item.owner), expiresAt: new Date(item.expiresAt).toISOString() };
      }
      // The record changed between the put and the read (released, expired): try again.
      if (attempt >= MAX_ATTEMPTS) throw new ConflictError('idempotency claim kept changing; retry later', { rule: 'idempotency-race' });
    }
  }

  async complete(key: string, owner: string, result: Readonly<Record<string, unknown>>): Promise<void> {
    const expiresAt = this.options.clock.now().getTime() + this.completedTtlMs;
    try {
      await this.options.doc.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: controlKeys.idempotency(key),
          UpdateExpression: 'SET #s = :completed, #r = :result, expiresAt = :exp, #t = :ttl',
          ConditionExpression: '#o = :owner',
          ExpressionAttributeNames: { '#s': 'status', '#r': 'result', '#o': 'owner', '#t': 'ttl' },
          ExpressionAttributeValues: {
            ':completed': COMPLETED,
            ':result': JSON.stringify(result),
            ':exp': expiresAt,
            ':ttl': ttlSeconds(expiresAt),
            ':owner': owner,
          },
        }),
      );
    } catch (err) {
      if (awsErrorName(err) === 'ConditionalCheckFailedException') {
        // Another invocation took the claim over after ours expired: it owns the outcome now.
        throw new ConflictError('idempotency claim was taken over by another invocation', { rule: 'idempotency-owner' }, { cause: err });
      }
      throw mapAwsError(err, 'DynamoDB UpdateItem (idempotency complete)');
    }
  }

  async release(key: string, owner: string): Promise<void> {
    try {
      await this.options.doc.send(
        new DeleteCommand({
          TableName: this.options.tableName,
          Key: controlKeys.idempotency(key),
          ConditionExpression: '#o = :owner AND #s = :inprogress',
          ExpressionAttributeNames: { '#o': 'owner', '#s': 'status' },
          ExpressionAttributeValues: { ':owner': owner, ':inprogress': IN_PROGRESS },
        }),
      );
    } catch (err) {
      // Not ours any more (taken over, completed) or already gone: nothing to release.
      if (awsErrorName(err) === 'ConditionalCheckFailedException') return;
      throw mapAwsError(err, 'DynamoDB DeleteItem (idempotency release)');
    }
  }

  private async read(key: string): Promise<Record<string, unknown> | undefined> {
    try {
      const out = await this.options.doc.send(
        new GetCommand({ TableName: this.options.tableName, Key: controlKeys.idempotency(key), ConsistentRead: true }),
      );
      return out.Item;
    } catch (err) {
      throw mapAwsError(err, 'DynamoDB GetItem (idempotency)');
    }
  }
}

function ttlSeconds(epochMs: number): number {
  // A day of slack: TTL must never remove a record that expiresAt still considers live.
  return Math.ceil(epochMs / 1000) + 86_400;
}

function parseResult(value: unknown): Readonly<Record<string, unknown>> {
  if (typeof value !== 'string') return {};
  const parsed: unknown = JSON.parse(value);
  return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
}
