/**
 * LineageStore on DynamoDB (layout in table-layout.ts). Records are immutable: `append` is a
 * put with attribute_not_exists(pk), so concurrent writers never overwrite each other. The
 * record is kept as JSON text (gzip above ~300 KB), so it comes back exactly as written; its
 * dataset, kind and `seq` (ISO time + id) are copied to the top level for the two indexes,
 * which return records in append order. Index reads are eventually consistent: a record is
 * in `get` at once and in `list` within a moment.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, paginateQuery, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { ConflictError, PrivacyPipelineError, UsageError } from '../../core/errors.ts';
import type { LineageRecord, LineageStore } from '../../core/ports.ts';
import { awsErrorName, mapAwsError } from './map-aws-error.ts';

export interface DynamoDbLineageStoreOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
}

type Kind = LineageRecord['kind'];
const KINDS: readonly Kind[] = ['run', 'release', 'erasure', 'reidentification', 'rekey', 'sweep'];

/** Above this, the JSON body is stored gzipped; DynamoDB items are limited to 400 KB. */
const GZIP_ABOVE = 300 * 1024;
const MAX_ITEM_BODY = 390 * 1024;

export class DynamoDbLineageStore implements LineageStore {
  constructor(private readonly options: DynamoDbLineageStoreOptions) {}

  async append(record: LineageRecord): Promise<void> {
    if (!record.id || !record.dataset || !record.at || !KINDS.includes(record.kind)) {
      throw new UsageError('lineage record needs id, kind, dataset and at', { rule: 'lineage-record' });
    }
    const json = JSON.stringify(record);
    const body: Record<string, unknown> = {};
    if (Buffer.byteLength(json) <= GZIP_ABOVE) body.body = json;
    else {
      const gz = gzipSync(json);
      if (gz.byteLength > MAX_ITEM_BODY) {
        throw new PrivacyPipelineError(`lineage record ${record.id} is too large for one item (${gz.byteLength} bytes gzipped)`, {
          dataset: record.dataset,
          rule: 'lineage-size',
        });
      }
      body.bodyGz = gz;
    }
    try {
      await this.options.doc.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: { pk: record.id, dataset: record.dataset, kind: record.kind, at: record.at, seq: `${record.at}#${record.id}`, ...body },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if (awsErrorName(err) === 'ConditionalCheckFailedException') {
        throw new ConflictError(
          `lineage record ${record.id} already exists`,
          { dataset: record.dataset, rule: 'lineage-duplicate' },
          { cause: err },
        );
      }
      throw mapAwsError(err, 'DynamoDB PutItem (lineage)', { dataset: record.dataset });
    }
  }

  async get(id: string): Promise<LineageRecord | undefined> {
    try {
      const out = await this.options.doc.send(new GetCommand({ TableName: this.options.tableName, Key: { pk: id }, ConsistentRead: true }));
      return out.Item ? decode(out.Item) : undefined;
    } catch (err) {
      throw mapAwsError(err, 'DynamoDB GetItem (lineage)');
    }
  }

  async *list(filter: { dataset?: string; kind?: Kind } = {}): AsyncIterable<LineageRecord> {
    if (filter.dataset !== undefined) {
      yield* this.query('byDataset', 'dataset', filter.dataset, filter.kind);
      return;
    }
    if (filter.kind !== undefined) {
      yield* this.query('byKind', 'kind', filter.kind);
      return;
    }
    // The whole history: merge the per-kind streams (each already in append order) by seq.
    yield* mergeBySeq(KINDS.map((k) => this.query('byKind', 'kind', k)[Symbol.asyncIterator]()));
  }

  private query(indexName: string, attribute: string, value: string, kind?: Kind): AsyncIterable<LineageRecord> {
    const input: QueryCommandInput = {
      TableName: this.options.tableName,
      IndexName: indexName,
      KeyConditionExpression: '#a = :v',
      ExpressionAttributeNames: { '#a': attribute, ...(kind ? { '#k': 'kind' } : {}) },
      ExpressionAttributeValues: { ':v': value, ...(kind ? { ':k': kind } : {}) },
      ...(kind ? { FilterExpression: '#k = :k' } : {}),
      ScanIndexForward: true,
    };
    const doc = this.options.doc;
    return (async function* () {
      try {
        for await (const page of paginateQuery({ client: doc }, input)) {
          for (const item of page.Items ?? []) yield decode(item);
        }
      } catch (err) {
        throw mapAwsError(err, `DynamoDB Query (lineage ${indexName})`);
      }
    })();
  }
}

function decode(item: Record<string, unknown>): LineageRecord {
  if (typeof item.body === 'string') return JSON.parse(item.body) as LineageRecord;
  if (item.bodyGz instanceof Uint8Array) return JSON.parse(gunzipSync(item.bodyGz).toString('utf8')) as LineageRecord;
  throw new PrivacyPipelineError(`lineage item ${String(item.pk)} has no body`, { rule: 'lineage-record' });
}

function seqOf(r: LineageRecord): string {
  return `${r.at}#${r.id}`;
}

/** K-way merge of streams sorted by seq; holds one record per stream. */
async function* mergeBySeq(iterators: AsyncIterator<LineageRecord>[]): AsyncIterable<LineageRecord> {
  const heads = await Promise.all(iterators.map((it) => it.next()));
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (!h || h.done) continue;
      const bestHead = best >= 0 ? heads[best] : undefined;
      if (!bestHead || bestHead.done || seqOf(h.value) < seqOf(bestHead.value)) best = i;
    }
    if (best < 0) return;
    const chosen = heads[best] as IteratorYieldResult<LineageRecord>;
    yield chosen.value;
    heads[best] = await (iterators[best] as AsyncIterator<LineageRecord>).next();
  }
}
