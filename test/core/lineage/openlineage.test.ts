import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../functions/core/errors.ts';
import {
  deterministicRunId,
  FACET_SCHEMA_URLS,
  lineageRecordToOpenLineage,
  OPENLINEAGE_RUN_EVENT_SCHEMA_URL,
  type OpenLineageEvent,
  PRIVACY_PIPELINE_RUN_FACET,
  PRIVACY_PIPELINE_RUN_FACET_SCHEMA,
  toOpenLineageEvents,
} from '../../../functions/core/lineage/openlineage.ts';
import type { RunRecord } from '../../../functions/core/lineage/run-record.ts';
import {
  completeRun,
  erasureRecord,
  failedRun,
  quarantinedRun,
  RAW_ROWS,
  rawStringCells,
  reidentificationRecord,
  releaseRecord,
  skippedRun,
  sweepRecord,
} from './run-record-fixtures.ts';

const SPEC_DIR = path.resolve(process.cwd(), '../shared/spec/openlineage');
const OPTS = {
  namespace: 'privacy-pipeline://local',
  producer: 'https://github.com/privacy-pipeline/privacy-pipeline/tree/v0.1.0',
} as const;

type Json = Record<string, unknown>;

/**
 * Validates an event against the core schema AND each facet against the schema file that defines
 * it (the core schema alone only checks `_producer`/`_schemaURL` of facets). A facet no schema
 * knows is an error too, so nothing escapes validation.
 */
let validateEvent: (event: unknown) => string[];
/** facet name → `$id` of its schema file. */
const facetIds = new Map<string, string>();

beforeAll(() => {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats.default(ajv);
  const core = JSON.parse(readFileSync(path.join(SPEC_DIR, 'OpenLineage.json'), 'utf8')) as Json;
  expect(core.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  ajv.addSchema(core);
  const facetValidators = new Map<string, ValidateFunction>();
  const files = readdirSync(path.join(SPEC_DIR, 'facets')).filter((f) => f.endsWith('.json'));
  expect(files.length).toBeGreaterThanOrEqual(10);
  for (const file of files) {
    const schema = JSON.parse(readFileSync(path.join(SPEC_DIR, 'facets', file), 'utf8')) as Json;
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    ajv.addSchema(schema);
    for (const name of Object.keys(schema.properties as Json)) facetIds.set(name, schema.$id as string);
  }
  ajv.addSchema(PRIVACY_PIPELINE_RUN_FACET_SCHEMA as unknown as Json);
  facetIds.set(PRIVACY_PIPELINE_RUN_FACET, PRIVACY_PIPELINE_RUN_FACET_SCHEMA.$id);
  for (const [name, id] of facetIds) facetValidators.set(name, ajv.getSchema(id) as ValidateFunction);
  const validateCore = ajv.getSchema(core.$id as string) as ValidateFunction;

  const checkFacets = (where: string, facets: unknown, errors: string[]) => {
    if (facets === undefined) return;
    for (const [name, value] of Object.entries(facets as Json)) {
      const v = facetValidators.get(name);
      if (!v) {
        errors.push(`${where}.${name}: no schema for this facet`);
        continue;
      }
      if (!v({ [name]: value })) errors.push(...(v.errors ?? []).map((e) => `${where}.${name}${e.instancePath} ${e.message}`));
    }
  };
  validateEvent = (event) => {
    const errors: string[] = [];
    if (!validateCore(event)) errors.push(...(validateCore.errors ?? []).map((e) => `event${e.instancePath} ${e.message}`));
    const ev = event as Json;
    checkFacets('run.facets', (ev.run as Json | undefined)?.facets, errors);
    checkFacets('job.facets', (ev.job as Json | undefined)?.facets, errors);
    for (const side of ['inputs', 'outputs'] as const) {
      ((ev[side] as Json[] | undefined) ?? []).forEach((d, i) => {
        checkFacets(`${side}[${i}].facets`, d.facets, errors);
        checkFacets(`${side}[${i}].inputFacets`, d.inputFacets, errors);
        checkFacets(`${side}[${i}].outputFacets`, d.outputFacets, errors);
      });
    }
    return errors;
  };
});

const RUNS: [string, 'COMPLETE' | 'FAIL', () => RunRecord][] = [
  ['complete', 'COMPLETE', completeRun],
  ['quarantined', 'FAIL', quarantinedRun],
  ['failed', 'FAIL', failedRun],
  ['skipped', 'COMPLETE', skippedRun],
];
const OTHER_RECORDS = [releaseRecord(), erasureRecord(), erasureRecord(false), reidentificationRecord(), sweepRecord()];

function allEvents(): OpenLineageEvent[] {
  return [
    ...RUNS.flatMap(([, , make]) => toOpenLineageEvents(make(), OPTS)),
    ...OTHER_RECORDS.flatMap((r) => lineageRecordToOpenLineage(r, OPTS)),
  ];
}

/** The object at a path inside an event; throws when a step is missing, so no check passes vacuously. */
function at(o: unknown, ...path: (string | number)[]): Json {
  let cur = o;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) throw new Error(`no ${path.join('.')}`);
    cur = (cur as Record<string | number, unknown>)[p];
  }
  if (typeof cur !== 'object' || cur === null) throw new Error(`no object at ${path.join('.')}`);
  return cur as Json;
}
const outputNamed = (event: OpenLineageEvent, suffix: string) =>
  (event.outputs as Json[]).find((o) => (o.name as string).endsWith(suffix)) as Json;
const facetsOf = (d: Json) => d.facets as Record<string, Json>;

describe('toOpenLineageEvents', () => {
  it.each(RUNS)('%s run: START then %s, both valid against the OpenLineage schemas', (_name, endType, make) => {
    const record = make();
    const events = toOpenLineageEvents(record, OPTS);
    expect(events.map((e) => e.eventType)).toEqual(['START', endType]);
    for (const e of events) expect(validateEvent(e)).toEqual([]);
    const [start, end] = events as [Json, Json];
    expect(start.eventTime).toBe(record.timings.startedAt);
    expect(end.eventTime).toBe(record.timings.endedAt);
    expect((start.run as Json).runId).toBe((end.run as Json).runId);
    expect(start.schemaURL).toBe(OPENLINEAGE_RUN_EVENT_SCHEMA_URL);
    expect(start.job).toMatchObject({ namespace: OPTS.namespace, name: `privacy-pipeline.ingest.${record.dataset}` });
    expect(facetsOf(start.job as Json).jobType).toMatchObject({
      processingType: 'BATCH',
      integration: 'privacy-pipeline',
      jobType: 'INGEST',
    });
    expect((end.inputs as Json[])[0]).toMatchObject({ namespace: 'privacy-pipeline://local/ingest', name: record.input.key });
  });

  it('derives a deterministic UUIDv7 runId from the record id and start time', () => {
    const a = at(toOpenLineageEvents(completeRun(), OPTS), 0, 'run').runId as string;
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(at(toOpenLineageEvents(completeRun(), OPTS), 1, 'run').runId).toBe(a);
    expect(deterministicRunId('run-7c1e0f2a-customers-1', '2025-03-01T10:15:00.123Z')).toBe(a);
    expect(deterministicRunId('run-7c1e0f2a-customers-2', '2025-03-01T10:15:00.123Z')).not.toBe(a);
    // The timestamp leads, so ids sort by start time.
    expect(parseInt(a.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.parse('2025-03-01T10:15:00.123Z'));
  });

  it('schema facets carry contract types; column lineage flags masked columns', () => {
    const [, end] = toOpenLineageEvents(completeRun(), OPTS) as [Json, Json];
    const inputFields = (facetsOf((end.inputs as Json[])[0] as Json).schema?.fields ?? []) as Json[];
    expect(inputFields.find((f) => f.name === 'age')).toMatchObject({ type: 'integer', description: 'PII: AGE', ordinal_position: 7 });
    expect(inputFields.find((f) => f.name === 'amount')).toMatchObject({ type: 'number' });

    const curated = outputNamed(end, 'part-00000.csv');
    const outFields = (facetsOf(curated).schema?.fields ?? []) as Json[];
    expect(outFields.map((f) => f.name)).not.toContain('internal_ref');
    expect(outFields.find((f) => f.name === 'email')).toMatchObject({ type: 'string' });
    expect(outFields.find((f) => f.name === 'amount')).toMatchObject({ type: 'number' });

    const fields = at(curated, 'facets', 'columnLineage', 'fields');
    const t = (col: string) => at(fields, col, 'inputFields', 0, 'transformations', 0);
    // Table-driven: transformed columns mask, kept ones are identities; dropped ones are absent.
    const cases: [string, boolean, string][] = [
      ['email', true, 'TRANSFORMATION'],
      ['customer_id', true, 'TRANSFORMATION'],
      ['card_number', true, 'TRANSFORMATION'],
      ['birth_date', true, 'TRANSFORMATION'],
      ['notes', true, 'TRANSFORMATION'], // operator keep, but free-text spans are replaced
      ['age', false, 'IDENTITY'],
      ['country', false, 'IDENTITY'],
      ['amount', false, 'IDENTITY'],
    ];
    for (const [col, masking, subtype] of cases) expect(t(col), col).toMatchObject({ type: 'DIRECT', subtype, masking });
    expect(fields.internal_ref).toBeUndefined();
    expect(at(fields, 'email', 'inputFields', 0)).toMatchObject({
      namespace: 'privacy-pipeline://local/ingest',
      name: 'customers/customers-2025-03-01.csv',
      field: 'email',
    });
    const datasetLevel = facetsOf(curated).columnLineage?.dataset as Json[];
    expect(datasetLevel.map((d) => d.field).sort()).toEqual(['customer_id', 'email', 'phone']);

    const aggregates = outputNamed(end, 'aggregates.json');
    const aggFields = at(aggregates, 'facets', 'columnLineage', 'fields');
    expect((at(aggFields, 'value').inputFields as Json[]).map((f) => f.field)).toEqual(['amount']);
    expect((at(aggFields, 'key').inputFields as Json[]).map((f) => f.field)).toEqual(['country']);
  });

  it('reports data quality metrics and assertions on the input', () => {
    const [start, end] = toOpenLineageEvents(completeRun(), OPTS) as [Json, Json];
    expect(((start.inputs as Json[])[0] as Json).inputFacets).toBeUndefined();
    const inputFacets = ((end.inputs as Json[])[0] as Json).inputFacets as Record<string, Json>;
    const metrics = inputFacets.dataQualityMetrics as Json;
    expect(metrics).toMatchObject({ rowCount: 4, bytes: 48_213, fileCount: 1 });
    const cm = metrics.columnMetrics as Record<string, Json>;
    expect(cm.notes).toMatchObject({ nullCount: 1, distinctCount: 2, count: 3 });
    expect(cm.amount).toMatchObject({ min: 0.5, max: 1500 });
    // No bounds for a PII column, no string bounds at all.
    expect(cm.age).not.toHaveProperty('min');
    expect(cm.tier).not.toHaveProperty('min');

    const assertions = (inputFacets.dataQualityAssertions as Json).assertions as Json[];
    const byKind = (a: string) => assertions.filter((x) => x.assertion === a);
    expect(byKind('row_count_conservation')[0]).toMatchObject({ success: true, expected: '4', actual: '4' });
    expect(byKind('contract_validation')[0]).toMatchObject({ success: false, actual: '0.7500' }); // 1 of 4 invalid > 5%
    expect(byKind('contract_rule')[0]).toMatchObject({ name: 'format', actual: '1', success: false });
    expect(byKind('drift')[0]).toMatchObject({ column: 'notes', success: false, expected: '0.02', actual: '0.33' });
    expect(byKind('k_anonymity')[0]).toMatchObject({ success: false, expected: '>= 5', actual: '1' });

    const broken = completeRun({
      counts: { rowsIn: 5, rowsPublished: 3, rowsQuarantined: 1, rowsSuppressed: 0, rowsKSuppressed: 0, conserved: false },
    });
    const e2 = toOpenLineageEvents(broken, OPTS)[1] as Json;
    const a2 = ((((e2.inputs as Json[])[0] as Json).inputFacets as Record<string, Json>).dataQualityAssertions as Json)
      .assertions as Json[];
    expect(a2.find((a) => a.assertion === 'row_count_conservation')).toMatchObject({ success: false, expected: '5', actual: '4' });
  });

  it('outputs carry statistics, versions and roles', () => {
    const end = toOpenLineageEvents(completeRun(), OPTS)[1] as Json;
    const curated = outputNamed(end, 'part-00000.csv');
    expect(curated.namespace).toBe('privacy-pipeline://local/curated');
    expect((curated.outputFacets as Record<string, Json>).outputStatistics).toMatchObject({ rowCount: 3, size: 1_734, fileCount: 1 });
    expect(facetsOf(curated).version).toMatchObject({ datasetVersion: 'v-cur-1' });
    expect(facetsOf(outputNamed(end, '_subjects.idx')).version).toMatchObject({ datasetVersion: `sha256:${'bb'.repeat(32)}` });
    expect((end.outputs as Json[]).length).toBe(6);
  });

  it('a quarantined or failed run carries its error class and message, never values', () => {
    const q = toOpenLineageEvents(quarantinedRun(), OPTS)[1] as Json;
    const err = ((q.run as Json).facets as Record<string, Json>).errorMessage as Json;
    expect(err.message).toMatch(/^file quarantined, nothing published\. DatasetValidationError: .*\[rule max-invalid-share\]$/);
    expect(err.programmingLanguage).toBe('TypeScript');
    expect((q.outputs as Json[]).map((o) => o.name)).toContain('customers/20250302T080000000Z-0a1b2c3d4e5f/file/customers-2025-03-02.csv');

    const f = toOpenLineageEvents(failedRun(), OPTS)[1] as Json;
    expect((((f.run as Json).facets as Record<string, Json>).errorMessage as Json).message).toBe(
      'InvalidFileError: orders/orders.csv.gz: gzip stream is truncated [rule gzip]',
    );
    // No version facet when the input digest is unknown; no schema when there is no plan.
    expect(facetsOf((f.inputs as Json[])[0] as Json)).toEqual({});

    const s = toOpenLineageEvents(skippedRun(), OPTS)[1] as Json;
    expect(((s.run as Json).facets as Record<string, Json>).errorMessage).toBeUndefined();
    expect((((s.run as Json).facets as Record<string, Json>)[PRIVACY_PIPELINE_RUN_FACET] as Json).status).toBe('SKIPPED');
  });

  it('records keys, budget and hashes in the privacy-pipeline run facet', () => {
    const end = toOpenLineageEvents(completeRun(), OPTS)[1] as Json;
    const pp = ((end.run as Json).facets as Record<string, Json>)[PRIVACY_PIPELINE_RUN_FACET] as Json;
    expect(pp).toMatchObject({
      status: 'COMPLETE',
      runKey: completeRun().runKey,
      policy: { version: '2025-01' },
      contract: { inferred: false, version: 3 },
    });
    expect(pp.keys).toEqual(completeRun().keys);
    expect((pp.budget as Json[])[0]).toMatchObject({ epsilon: 1, remainingEpsilon: 9 });
  });

  it('honours jobName and datasetNamespace, and rejects a producer that is not a URI', () => {
    const e = toOpenLineageEvents(completeRun(), {
      ...OPTS,
      jobName: 'custom.job',
      datasetNamespace: (b) => `s3://acme-${b}-eu-west-1`,
    })[1] as Json;
    expect((e.job as Json).name).toBe('custom.job');
    expect(((e.inputs as Json[])[0] as Json).namespace).toBe('s3://acme-ingest-eu-west-1');
    expect(validateEvent(e)).toEqual([]);
    expect(() => toOpenLineageEvents(completeRun(), { ...OPTS, producer: 'privacy pipeline' })).toThrow(UsageError);
    expect(() => toOpenLineageEvents(completeRun(), { ...OPTS, namespace: '' })).toThrow(UsageError);
  });
});

describe('lineageRecordToOpenLineage', () => {
  it.each(
    OTHER_RECORDS.map(
      (r) => [`${r.kind}${r.kind === 'erasure' && (r.verification as Json).passed === false ? ' (verification failed)' : ''}`, r] as const,
    ),
  )('%s: one valid event of a job per kind', (_name, record) => {
    const events = lineageRecordToOpenLineage(record, OPTS);
    expect(events).toHaveLength(1);
    const e = events[0] as Json;
    expect(validateEvent(e)).toEqual([]);
    expect(e.eventTime).toBe(record.at);
    expect((e.job as Json).name).toBe(`privacy-pipeline.${record.kind}.customers`);
    expect(facetsOf(e.job as Json).jobType).toMatchObject({ jobType: record.kind.toUpperCase(), processingType: 'BATCH' });
    const pp = ((e.run as Json).facets as Record<string, Json>)[PRIVACY_PIPELINE_RUN_FACET] as Json;
    expect(pp).toMatchObject({ recordId: record.id, kind: record.kind, dataset: record.dataset });
  });

  it('erasure: rewritten objects are OVERWRITE outputs; a failed verification is a FAIL event', () => {
    const [ok] = lineageRecordToOpenLineage(erasureRecord(), OPTS) as [Json];
    expect(ok.eventType).toBe('COMPLETE');
    const outs = ok.outputs as Json[];
    expect(outs.map((o) => `${o.namespace} ${o.name}`)).toEqual([
      `privacy-pipeline://local/curated customers/20250301T101500123Z-3f9a1c2b7d4e/part-00000.csv`,
      'privacy-pipeline://local/ingest customers/customers-2025-03-01.csv',
    ]);
    expect(facetsOf(outs[0] as Json).lifecycleStateChange).toMatchObject({ lifecycleStateChange: 'OVERWRITE' });
    const details = (((ok.run as Json).facets as Record<string, Json>)[PRIVACY_PIPELINE_RUN_FACET] as Json).details as Json;
    expect(details).toMatchObject({
      requestId: 'req-5521',
      rowsRemoved: 2,
      versionsDeleted: 2,
      verification: 'passed',
      'objectsRewritten.length': 2,
    });

    const [bad] = lineageRecordToOpenLineage(erasureRecord(false), OPTS) as [Json];
    expect(bad.eventType).toBe('FAIL');
    expect((((bad.run as Json).facets as Record<string, Json>).errorMessage as Json).message).toBe('erasure verification failed');
  });

  it('sweep: each deleted orphan is a DROP output', () => {
    const [e] = lineageRecordToOpenLineage(sweepRecord(), OPTS) as [Json];
    const outs = e.outputs as Json[];
    expect(outs.map((o) => o.name)).toEqual(['customers/20250305T090000000Z-aa11bb22cc33/part-00000.csv']);
    expect(facetsOf(outs[0] as Json).lifecycleStateChange).toMatchObject({ lifecycleStateChange: 'DROP' });
  });

  it('release: reads the curated dataset, writes the aggregates object; run records delegate', () => {
    const [e] = lineageRecordToOpenLineage(releaseRecord(), OPTS) as [Json];
    expect(e.inputs).toEqual([{ namespace: 'privacy-pipeline://local/curated', name: 'customers' }]);
    expect((e.outputs as Json[]).map((o) => o.name)).toEqual(['customers/adhoc/adhoc-01.json']);
    const asRun = lineageRecordToOpenLineage(completeRun() as unknown as Parameters<typeof lineageRecordToOpenLineage>[0], OPTS);
    expect(asRun).toEqual(toOpenLineageEvents(completeRun(), OPTS));
  });
});

describe('validation and privacy of every event', () => {
  it('uses the $id of the schema file that defines each facet', () => {
    for (const [name, url] of Object.entries(FACET_SCHEMA_URLS)) expect(url.split('#')[0], name).toBe(facetIds.get(name));
  });

  it('no cell value of the fixture appears in any emitted event', () => {
    const text = JSON.stringify(allEvents());
    const cells = rawStringCells();
    expect(cells.length).toBeGreaterThan(30);
    for (const cell of cells) expect(text, cell).not.toContain(cell);
    // And the guard is real: the fixture's own profile holds 'gold'/'silver' and age bounds.
    expect(RAW_ROWS.flat()).toContain('gold');
  });

  it('every emitted event is valid (sanity: there are many)', () => {
    const events = allEvents();
    expect(events.length).toBe(13);
    for (const e of events) expect(validateEvent(e)).toEqual([]);
  });

  // Negative cases: the validator must catch broken events, so the checks above can fail.
  const mutations: [string, (e: Json) => void][] = [
    ['runId not a UUID', (e) => ((e.run as Json).runId = 'run-7c1e0f2a')],
    ['missing runId', (e) => delete (e.run as Json).runId],
    ['unknown eventType', (e) => (e.eventType = 'DONE')],
    ['eventTime not a date-time', (e) => (e.eventTime = '01/03/2025 10:15')],
    ['producer not a URI', (e) => (e.producer = 'privacy pipeline')],
    ['job without name', (e) => delete (e.job as Json).name],
    ['facet without _producer', (e) => delete (facetsOf(e.job as Json).jobType as Json)._producer],
    [
      'column lineage input field without field',
      (e) => delete at(outputNamed(e, 'part-00000.csv'), 'facets', 'columnLineage', 'fields', 'email', 'inputFields', 0).field,
    ],
    [
      'masking not a boolean',
      (e) =>
        (at(
          outputNamed(e, 'part-00000.csv'),
          'facets',
          'columnLineage',
          'fields',
          'email',
          'inputFields',
          0,
          'transformations',
          0,
        ).masking = 'yes'),
    ],
    [
      'nullCount not an integer',
      (e) => (at(e, 'inputs', 0, 'inputFacets', 'dataQualityMetrics', 'columnMetrics', 'notes').nullCount = 0.33),
    ],
    ['assertion without success', (e) => delete at(e, 'inputs', 0, 'inputFacets', 'dataQualityAssertions', 'assertions', 0).success],
    [
      'outputStatistics rowCount a string',
      (e) => (((outputNamed(e, 'part-00000.csv').outputFacets as Record<string, Json>).outputStatistics as Json).rowCount = '3'),
    ],
    ['an unknown facet', (e) => (facetsOf(e.job as Json).mystery = { _producer: OPTS.producer, _schemaURL: 'https://example.com/x.json' })],
    [
      'custom facet missing recordId',
      (e) => delete (((e.run as Json).facets as Record<string, Json>)[PRIVACY_PIPELINE_RUN_FACET] as Json).recordId,
    ],
  ];
  it.each(mutations)('rejects a broken event: %s', (_name, mutate) => {
    const event = structuredClone(toOpenLineageEvents(completeRun(), OPTS)[1]) as Json;
    expect(validateEvent(event)).toEqual([]);
    mutate(event);
    expect(validateEvent(event).length).toBeGreaterThan(0);
  });
});
