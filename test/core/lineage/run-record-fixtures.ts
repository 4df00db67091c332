/**
 * Realistic lineage records for the lineage tests. The raw rows below are what the run read; the
 * records hold only names, counts, hashes and ids, so none of these cells may surface in output.
 */
import type { RunRecord } from '../../../functions/core/lineage/run-record.ts';
import type { LineageRecord } from '../../../functions/core/ports.ts';
import type { ColumnDecision } from '../../../functions/core/types.ts';

export const RAW_HEADER = [
  'customer_id',
  'email',
  'full_name',
  'phone',
  'card_number',
  'birth_date',
  'age',
  'country',
  'tier',
  'amount',
  'notes',
  'internal_ref',
] as const;

export const RAW_ROWS: readonly (readonly (string | number)[])[] = [
  [
    'C-100234',
    'maria.lopez@example.org',
    'María López',
    '+44 7700 900123',
    '4111 1111 1111 1111',
    '1984-03-17',
    41,
    'GB',
    'platinum',
    129.99,
    'Call María on +44 7700 900123 after 5pm',
    'REF-88231',
  ],
  [
    'C-100235',
    'j.schmidt@example.de',
    'Jürgen Schmidt',
    '+49 30 901820',
    '5500 0000 0000 0004',
    '1990-11-02',
    34,
    'DE',
    'gold',
    12.5,
    'prefers email j.schmidt@example.de',
    'REF-88232',
  ],
  [
    'C-100236',
    'anna.k@example.pl',
    'Anna Kowalska',
    '+48 601 234 567',
    '3400 0000 0000 009',
    '1979-07-30',
    46,
    'PL',
    'silver',
    980.0,
    'VIP since 2019',
    'REF-88233',
  ],
  [
    'C-100237',
    'not-an-email',
    'Tom Baker',
    '+44 20 7946 0958',
    '6011 0000 0000 0004',
    '2001-01-09',
    24,
    'GB',
    'bronze',
    7.25,
    '',
    'REF-88234',
  ],
];

/** Every string cell of at least 4 characters (shorter ones like 'GB' collide with ordinary words). */
export function rawStringCells(): string[] {
  return RAW_ROWS.flat()
    .map(String)
    .filter((s) => s.length >= 4);
}

const decision = (
  column: string,
  entity: ColumnDecision['entity'],
  operator: ColumnDecision['operator'],
  confidence: number,
  extra: Partial<ColumnDecision> = {},
): ColumnDecision => ({
  column,
  entity,
  operator,
  confidence,
  source: 'header+content',
  freeText: false,
  identifiesSubject: false,
  ...extra,
});

export const PLAN: readonly ColumnDecision[] = [
  decision('customer_id', 'SUBJECT_ID', 'token', 1, { source: 'contract', identifiesSubject: true }),
  decision('email', 'EMAIL_ADDRESS', 'token', 0.98, { identifiesSubject: true }),
  decision('full_name', 'PERSON', 'token', 0.85, { source: 'header' }),
  decision('phone', 'PHONE_NUMBER', 'token', 0.95, { identifiesSubject: true }),
  decision('card_number', 'CREDIT_CARD', 'mask', 1, { options: { keepLast: 4 } }),
  decision('birth_date', 'DATE_OF_BIRTH', 'generalize', 0.9, { options: { to: 'year' } }),
  decision('age', 'AGE', 'keep', 0.7, { source: 'header' }),
  decision('country', 'COUNTRY', 'keep', 0.8),
  decision('tier', null, 'keep', 1, { source: 'default' }),
  decision('amount', null, 'keep', 1, { source: 'default' }),
  decision('notes', 'FREE_TEXT', 'keep', 0.6, { freeText: true, source: 'content' }),
  decision('internal_ref', null, 'drop', 1, { source: 'contract' }),
];

export const CONTRACT_BODY = {
  version: 3,
  dataset: 'customers',
  columns: [
    { name: 'customer_id', type: 'string', required: true, nullable: false, unique: true, pattern: '^C-\\d{6}$' },
    { name: 'email', type: 'string', required: true, nullable: false, unique: false, format: 'email' },
    { name: 'full_name', type: 'string', required: true, nullable: true, unique: false },
    { name: 'phone', type: 'string', required: true, nullable: true, unique: false },
    { name: 'card_number', type: 'string', required: true, nullable: true, unique: false },
    { name: 'birth_date', type: 'date', required: true, nullable: true, unique: false },
    { name: 'age', type: 'integer', required: true, nullable: true, unique: false, min: 0, max: 130 },
    { name: 'country', type: 'string', required: true, nullable: false, unique: false, enum: ['GB', 'DE', 'PL', 'FR'] },
    { name: 'tier', type: 'string', required: true, nullable: false, unique: false, enum: ['platinum', 'gold', 'silver', 'bronze'] },
    { name: 'amount', type: 'number', required: true, nullable: false, unique: false, min: 0 },
    { name: 'notes', type: 'string', required: false, nullable: true, unique: false },
    { name: 'internal_ref', type: 'string', required: false, nullable: true, unique: false, privacy: { operator: 'drop' } },
  ],
  allowExtraColumns: false,
  subjectKey: 'customer_id',
  maxInvalidRowShare: 0.05,
  quasiIdentifiers: ['age', 'country'],
  kAnonymity: { k: 5, action: 'report' },
  aggregates: [
    { id: 'customers_by_country', kind: 'count', by: 'country', domain: ['GB', 'DE', 'PL', 'FR'], epsilon: 0.5, mechanism: 'laplace' },
    { id: 'mean_amount', kind: 'mean', column: 'amount', bounds: [0, 1000], epsilon: 0.5, mechanism: 'laplace' },
  ],
};

const RUN_KEY = '20250301T101500123Z-3f9a1c2b7d4e';
const SHA_IN = '3f9a1c2b7d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeef';

/** A complete run: 4 rows in, 3 published, 1 quarantined (bad email). */
export function completeRun(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 'run-7c1e0f2a-customers-1',
    kind: 'run',
    dataset: 'customers',
    at: '2025-03-01T10:15:02.456Z',
    status: 'COMPLETE',
    idempotencyKey: 'b1946ac92492d2347c6235b4d2611184b1946ac92492d2347c6235b4d2611184',
    runKey: RUN_KEY,
    input: {
      bucket: 'ingest',
      key: 'customers/customers-2025-03-01.csv',
      size: 48_213,
      sha256: SHA_IN,
      role: 'input',
      rows: 4,
      format: 'csv',
      compression: 'none',
      versionId: 'v-ingest-0001',
    },
    contract: {
      hash: 'c0ffee1234567890abcdef1234567890abcdef1234567890abcdef1234567890',
      source: 'customers.contract.yaml',
      inferred: false,
      version: 3,
      body: CONTRACT_BODY,
    },
    policy: { hash: 'a11ce5a11ce5a11ce5a11ce5a11ce5a11ce5a11ce5a11ce5a11ce5a11ce5a11c', version: '2025-01' },
    plan: PLAN,
    counts: { rowsIn: 4, rowsPublished: 3, rowsQuarantined: 1, rowsSuppressed: 0, rowsKSuppressed: 0, conserved: true },
    outputs: [
      {
        bucket: 'curated',
        key: `customers/${RUN_KEY}/part-00000.csv`,
        size: 1_734,
        sha256: 'aa'.repeat(32),
        role: 'curated',
        rows: 3,
        versionId: 'v-cur-1',
      },
      { bucket: 'curated', key: `customers/${RUN_KEY}/_subjects.idx`, size: 88, sha256: 'bb'.repeat(32), role: 'subject-index', rows: 9 },
      {
        bucket: 'quarantine',
        key: `customers/${RUN_KEY}/rows.jsonl`,
        size: 412,
        sha256: 'cc'.repeat(32),
        role: 'quarantine-rows',
        rows: 1,
      },
      { bucket: 'quarantine', key: `customers/${RUN_KEY}/_report.json`, size: 377, sha256: 'dd'.repeat(32), role: 'quarantine-report' },
      {
        bucket: 'aggregates',
        key: `customers/${RUN_KEY}/aggregates.json`,
        size: 655,
        sha256: 'ee'.repeat(32),
        role: 'aggregates',
        rows: 5,
      },
      { bucket: 'curated', key: `customers/${RUN_KEY}/_manifest.json`, size: 2_048, sha256: 'ff'.repeat(32), role: 'manifest' },
    ],
    keys: [
      { keyId: 'local/token-hmac', version: '1', purpose: 'token-hmac' },
      { keyId: 'local/token-siv', version: '1', purpose: 'token-siv' },
      { keyId: 'local/master', version: '2', purpose: 'data' },
    ],
    budget: [{ releaseId: `ingest-${RUN_KEY}`, epsilon: 1, delta: 0, remainingEpsilon: 9, remainingDelta: 1e-6 }],
    profile: [
      { column: 'customer_id', count: 3, nullShare: 0, distinctEstimate: 3, types: { string: 1 } },
      { column: 'email', count: 3, nullShare: 0, distinctEstimate: 3, types: { string: 1 } },
      { column: 'full_name', count: 3, nullShare: 0, distinctEstimate: 3, types: { string: 1 } },
      // Bounds of a PII column must never reach an event, even if a profiler recorded them.
      { column: 'age', count: 3, nullShare: 0, distinctEstimate: 3, types: { integer: 1 }, min: 34, max: 46, mean: 40.33 },
      {
        column: 'tier',
        count: 3,
        nullShare: 0,
        distinctEstimate: 3,
        types: { string: 1 },
        min: 'gold',
        max: 'silver',
        minLength: 4,
        maxLength: 8,
      },
      {
        column: 'amount',
        count: 3,
        nullShare: 0,
        distinctEstimate: 3,
        types: { number: 1 },
        min: 0.5,
        max: 1500,
        mean: 374.16,
        outliers: 0,
      },
      { column: 'notes', count: 3, nullShare: 1 / 3, distinctEstimate: 2, types: { string: 1 }, minLength: 14, maxLength: 40 },
    ],
    drift: [
      { column: 'notes', metric: 'nullShare', previous: 0.02, current: 0.33, message: "null share of column 'notes' rose from 2% to 33%" },
    ],
    risk: { quasiIdentifiers: ['age', 'country'], k: 5, smallestClass: 1, rowsBelowK: 3, shareBelowK: 1, classes: 3, action: 'report' },
    quarantineReasons: { format: 1 },
    formulaCellsNeutralised: 0,
    codeVersion: '0.1.0',
    timings: {
      startedAt: '2025-03-01T10:15:00.123Z',
      endedAt: '2025-03-01T10:15:02.456Z',
      ms: 2333,
      stages: { prepare: 40, stream: 2200 },
    },
    ...overrides,
  };
}

/** More than 5% invalid: the whole file went to quarantine, nothing published. */
export function quarantinedRun(): RunRecord {
  const base = completeRun();
  return completeRun({
    id: 'run-7c1e0f2a-customers-2',
    status: 'QUARANTINED',
    runKey: '20250302T080000000Z-0a1b2c3d4e5f',
    input: { ...base.input, key: 'customers/customers-2025-03-02.csv', sha256: '12'.repeat(32), versionId: 'v-ingest-0002' },
    counts: { rowsIn: 4, rowsPublished: 0, rowsQuarantined: 4, rowsSuppressed: 0, rowsKSuppressed: 0, conserved: true },
    outputs: [
      {
        bucket: 'quarantine',
        key: 'customers/20250302T080000000Z-0a1b2c3d4e5f/file/customers-2025-03-02.csv',
        size: 48_100,
        sha256: '34'.repeat(32),
        role: 'quarantine-file',
        rows: 4,
      },
      {
        bucket: 'quarantine',
        key: 'customers/20250302T080000000Z-0a1b2c3d4e5f/_report.json',
        size: 700,
        sha256: '56'.repeat(32),
        role: 'quarantine-report',
      },
    ],
    budget: [],
    drift: [],
    quarantineReasons: { enum: 3, format: 1 },
    error: {
      class: 'DatasetValidationError',
      message:
        "customers/customers-2025-03-02.csv: 4 of 4 rows invalid (100.0%), above the 5.0% limit; first: row 1, column 'tier', rule enum",
      rule: 'max-invalid-share',
    },
    timings: { startedAt: '2025-03-02T08:00:00.000Z', endedAt: '2025-03-02T08:00:00.900Z', ms: 900 },
    at: '2025-03-02T08:00:00.900Z',
  });
}

/** Failed before anything was decoded: truncated gzip. No contract, no plan, no profile. */
export function failedRun(): RunRecord {
  const { risk: _risk, ...base } = completeRun();
  return {
    ...base,
    id: 'run-7c1e0f2a-orders-1',
    dataset: 'orders',
    status: 'FAILED',
    runKey: '20250303T120000000Z-99aa88bb77cc',
    input: { bucket: 'ingest', key: 'orders/orders.csv.gz', size: 1_024, sha256: '', role: 'input', format: 'csv', compression: 'gzip' },
    contract: { hash: '', source: 'inferred', inferred: true },
    plan: [],
    counts: { rowsIn: 0, rowsPublished: 0, rowsQuarantined: 0, rowsSuppressed: 0, rowsKSuppressed: 0, conserved: true },
    outputs: [
      {
        bucket: 'quarantine',
        key: 'orders/20250303T120000000Z-99aa88bb77cc/_report.json',
        size: 310,
        sha256: '78'.repeat(32),
        role: 'quarantine-report',
      },
    ],
    keys: [],
    budget: [],
    profile: [],
    drift: [],
    quarantineReasons: {},
    error: { class: 'InvalidFileError', message: 'orders/orders.csv.gz: gzip stream is truncated', rule: 'gzip' },
    timings: { startedAt: '2025-03-03T12:00:00.000Z', endedAt: '2025-03-03T12:00:00.050Z', ms: 50 },
    at: '2025-03-03T12:00:00.050Z',
  } satisfies RunRecord;
}

/** The same input again: the idempotency claim answered, nothing was written. */
export function skippedRun(): RunRecord {
  return completeRun({
    id: 'run-7c1e0f2a-customers-3',
    status: 'SKIPPED',
    runKey: '20250301T101600000Z-3f9a1c2b7d4e',
    outputs: [],
    budget: [],
    timings: { startedAt: '2025-03-01T10:16:00.000Z', endedAt: '2025-03-01T10:16:00.010Z', ms: 10 },
    at: '2025-03-01T10:16:00.010Z',
  });
}

export function releaseRecord(): LineageRecord {
  return {
    id: 'release-adhoc-01',
    kind: 'release',
    dataset: 'customers',
    at: '2025-03-04T09:00:00.000Z',
    releaseId: 'adhoc-01',
    requestedBy: 'ml-team',
    spent: { epsilon: 0.5, delta: 0 },
    remaining: { epsilon: 8.5, delta: 1e-6 },
    total: { epsilon: 10, delta: 1e-6 },
    queries: [
      { id: 'q1', kind: 'count', column: null, by: 'country', mechanism: 'laplace', epsilon: 0.5, delta: 0, privacyUnit: 'customer_id' },
    ],
    outputs: [
      { bucket: 'aggregates', key: 'customers/adhoc/adhoc-01.json', size: 320, sha256: '9a'.repeat(32), role: 'aggregates', rows: 4 },
    ],
  };
}

/** Shaped like functions/core/erasure/erase-subject.ts ErasureCertificate. */
export function erasureRecord(verified = true): LineageRecord {
  return {
    id: 'erasure-req-5521',
    kind: 'erasure',
    dataset: '*',
    datasets: ['customers'],
    at: '2025-03-05T14:30:00.000Z',
    requestId: 'req-5521',
    identifierType: 'email',
    subjectRef: 'EMAIL_e3b0c44298fc1c14',
    reason: 'GDPR Art. 17 request',
    tokensMatched: 2,
    indexesTested: 200,
    objectsFound: 2,
    objectsRead: 2,
    objectsRewritten: [
      {
        bucket: 'curated',
        key: `customers/${RUN_KEY}/part-00000.csv`,
        rowsBefore: 3,
        rowsAfter: 2,
        rowsRemoved: 1,
        spansRedacted: 0,
        versionsDeleted: 1,
        action: 'rewritten',
      },
      {
        bucket: 'ingest',
        key: 'customers/customers-2025-03-01.csv',
        rowsBefore: 3,
        rowsAfter: 2,
        rowsRemoved: 1,
        spansRedacted: 0,
        versionsDeleted: 1,
        action: 'rewritten',
      },
    ],
    indexesRewritten: 1,
    rowsRemoved: 2,
    spansRedacted: 0,
    versionsDeleted: 2,
    tokensSuppressed: 2,
    subjectKeysShredded: 0,
    verification: verified ? 'passed' : 'failed',
    objectsVerified: 2,
    passes: 1,
    durationMs: 310,
  };
}

export function reidentificationRecord(): LineageRecord {
  return {
    id: 'reid-0007',
    kind: 'reidentification',
    dataset: 'customers',
    at: '2025-03-06T11:00:00.000Z',
    requestedBy: 'compliance-officer-2',
    reason: 'fraud investigation FR-2291',
    tokenCount: 1,
    entity: 'EMAIL_ADDRESS',
  };
}

export function sweepRecord(): LineageRecord {
  return {
    id: 'sweep-20250307T020000000Z-customers',
    kind: 'sweep',
    dataset: 'customers',
    at: '2025-03-07T02:00:00.000Z',
    olderThanMs: 86_400_000,
    objects: [
      {
        bucket: 'curated',
        key: 'customers/20250305T090000000Z-aa11bb22cc33/part-00000.csv',
        size: 5120,
        lastModified: '2025-03-05T09:00:01.000Z',
        versionsDeleted: 1,
      },
    ],
  };
}
