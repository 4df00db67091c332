/**
 * SuppressionList on DynamoDB: one item per token of an erased subject, in one partition of
 * the control table (pk SUPPRESSION, sk TOKEN#<token>). Tokens are keyed HMACs, never the
 * identifiers themselves. The list is small (one entry per erased identifier) and read whole
 * once per run with a paginated Query.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { TransientError } from '../../core/errors.ts';
import type { Clock, SuppressionList } from '../../core/ports.ts';
import { mapAwsError } from './map-aws-error.ts';
import { controlKeys } from './table-layout.ts';

export interface DynamoDbSuppressionListOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly clock: Clock;
}

const BATCH = 25;
const MAX_ROUNDS = 8;
const TOKEN_PREFIX = 'TOKEN#';

export class DynamoDbSuppressionList implements SuppressionList {
  constructor(private readonly options: DynamoDbSuppressionListOptions) {}

  async add(tokens: readonly string[], requestId: string): Promise<void> {
    // BatchWriteItem rejects two writes to one key in a batch.
    const unique = [...new Set(tokens)];
    const addedAt = this.options.clock.now().toISOString();
    for (let i = 0; i < unique.length; i += BATCH) {
      let requests = unique
        .slice(i, i + BATCH)
        .map((token) => ({ PutRequest: { Item: { ...controlKeys.suppressionToken(token), requestId, addedAt } } }));
      for (let round = 0; requests.length > 0; round++) {
        if (round >= MAX_ROUNDS)
          throw new TransientError('suppression list writes kept being throttled', { rule: 'aws-transient', requestId });
        if (round > 0) await sleep(25 * 2 ** round);
        try {
          const out = await this.options.doc.send(new BatchWriteCommand({ RequestItems: { [this.options.tableName]: requests } }));
          requests = (out.UnprocessedItems?.[this.options.tableName] ?? []) as typeof requests;
        } catch (err) {
          throw mapAwsError(err, 'DynamoDB BatchWriteItem (suppression)', { requestId });
        }
      }
    }
  }

  async all(): Promise<ReadonlySet<string>> {
    const tokens = new Set<string>();
    try {
      const pages = paginateQuery(
        { client: this.options.doc },
        {
          TableName: this.options.tableName,
          KeyConditionExpression: 'pk = :p AND begins_with(sk, :t)',
          ExpressionAttributeValues: { ':p': controlKeys.suppressionPartition, ':t': TOKEN_PREFIX },
          ProjectionExpression: 'sk',
          ConsistentRead: true,
        },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) {
          const sk = item.sk;
          if (typeof sk === 'string') tokens.add(sk.slice(TOKEN_PREFIX.length));
        }
      }
    } catch (err) {
      throw mapAwsError(err, 'DynamoDB Query (suppression)');
    }
    return tokens;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
