/**
 * The DynamoDB layout, in one place. The CDK stack (lib/constructs/pipeline-tables.ts) and the
 * emulator helper of the tests (test/support/emulators.ts) both build their tables from these
 * definitions, so the key schema the adapters query cannot drift from the deployed one.
 *
 * Four tables, split by who may touch them (IAM grants are per table) and by access pattern:
 *
 *   Lineage (LINEAGE_TABLE_NAME) — append-only run/release/erasure/... records
 *     pk = <record id>                          one item per record, written with attribute_not_exists(pk)
 *     dataset, kind, seq = <at ISO-8601>#<id>   top-level copies for the indexes
 *     body (S, JSON) | bodyGz (B, gzip JSON)    the record itself; gzip only above ~300 KB
 *     GSI byDataset (dataset, seq)              "runs of a dataset" in append order; erasure's walk of a dataset
 *     GSI byKind    (kind, seq)                 "all erasure certificates", and the whole history by
 *                                               merging the few kinds (no hot constant partition)
 *
 *   Budget (BUDGET_TABLE_NAME) — the privacy-budget ledger
 *     pk = <dataset>, sk = STATE                spentEpsilon, spentDelta (exact decimals), releases (SS)
 *     pk = <dataset>, sk = RELEASE#<releaseId>  one audit row per release (epsilon, delta, remaining)
 *     A spend is ONE conditional UpdateItem on the STATE item: no transactions (dynalite has none).
 *
 *   Control (CONTROL_TABLE_NAME) — small items the pipeline functions own
 *     pk = KEY#<purpose>, sk = KEY              pseudonymisation secret, wrapped by the token CMK
 *     pk = SUBJECT#<sha256(ref)>, sk = KEY      per-subject key (crypto-shredding), wrapped by the token CMK
 *     pk = IDEMPOTENCY#<key>, sk = CLAIM        Powertools-style claim: status, owner, expiresAt
 *     pk = SUPPRESSION, sk = TOKEN#<token>      tokens of erased subjects
 *     ttl (epoch seconds)                       DynamoDB TTL: only idempotency claims carry it
 *
 *   ErasureRequests (ERASURE_TABLE_NAME) — GDPR requests and their progress
 *     pk = <requestId>; status, requestedAt
 *     GSI byStatus (status, requestedAt)        open requests, oldest first, for batching
 *
 * Every table: on-demand billing, the data CMK, point-in-time recovery.
 */

/** One key attribute. */
export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N' | 'B';
}

/** A global secondary index; projection ALL. */
export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
}

/** A table as both the stack and the emulator create it. */
export interface TableDefinition {
  /** Construct id in the stack (PascalCase, stable). */
  readonly id: 'LineageTable' | 'BudgetTable' | 'ControlTable' | 'ErasureRequestsTable';
  /** Environment variable that carries the physical name to the functions. */
  readonly envVar: 'LINEAGE_TABLE_NAME' | 'BUDGET_TABLE_NAME' | 'CONTROL_TABLE_NAME' | 'ERASURE_TABLE_NAME';
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalSecondaryIndexes: readonly IndexDefinition[];
  /** DynamoDB TTL attribute (epoch seconds), when items expire. */
  readonly timeToLiveAttribute?: string;
}

const S = (name: string): KeyAttribute => ({ name, type: 'S' });

export const LINEAGE_TABLE: TableDefinition = {
  id: 'LineageTable',
  envVar: 'LINEAGE_TABLE_NAME',
  partitionKey: S('pk'),
  globalSecondaryIndexes: [
    { indexName: 'byDataset', partitionKey: S('dataset'), sortKey: S('seq') },
    { indexName: 'byKind', partitionKey: S('kind'), sortKey: S('seq') },
  ],
};

export const BUDGET_TABLE: TableDefinition = {
  id: 'BudgetTable',
  envVar: 'BUDGET_TABLE_NAME',
  partitionKey: S('pk'),
  sortKey: S('sk'),
  globalSecondaryIndexes: [],
};

export const CONTROL_TABLE: TableDefinition = {
  id: 'ControlTable',
  envVar: 'CONTROL_TABLE_NAME',
  partitionKey: S('pk'),
  sortKey: S('sk'),
  globalSecondaryIndexes: [],
  timeToLiveAttribute: 'ttl',
};

export const ERASURE_REQUESTS_TABLE: TableDefinition = {
  id: 'ErasureRequestsTable',
  envVar: 'ERASURE_TABLE_NAME',
  partitionKey: S('pk'),
  globalSecondaryIndexes: [{ indexName: 'byStatus', partitionKey: S('status'), sortKey: S('requestedAt') }],
};

export const TABLES: readonly TableDefinition[] = [LINEAGE_TABLE, BUDGET_TABLE, CONTROL_TABLE, ERASURE_REQUESTS_TABLE];

/** Item keys of the control table, so every adapter spells them the same way. */
export const controlKeys = {
  pseudonymKey: (purpose: string) => ({ pk: `KEY#${purpose}`, sk: 'KEY' }),
  subjectKey: (refHash: string) => ({ pk: `SUBJECT#${refHash}`, sk: 'KEY' }),
  idempotency: (key: string) => ({ pk: `IDEMPOTENCY#${key}`, sk: 'CLAIM' }),
  suppressionPartition: 'SUPPRESSION',
  suppressionToken: (token: string) => ({ pk: 'SUPPRESSION', sk: `TOKEN#${token}` }),
} as const;

/** Item keys of the budget table. */
export const budgetKeys = {
  state: (dataset: string) => ({ pk: dataset, sk: 'STATE' }),
  release: (dataset: string, releaseId: string) => ({ pk: dataset, sk: `RELEASE#${releaseId}` }),
} as const;
