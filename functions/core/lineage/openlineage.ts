/**
 * Lineage records as OpenLineage RunEvents (spec 2-0-2), for Marquez, DataHub, OpenMetadata and
 * other catalogs. Built from names, counts, hashes and rule ids only: a lineage record never holds
 * a cell value, and neither does an event (numeric min/max only for columns without PII).
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.ts';
import type { LineageRecord } from '../ports.ts';
import type { BucketRole, ColumnDecision } from '../types.ts';
import type { ObjectDigest, RunRecord } from './run-record.ts';

export interface OpenLineageOptions {
  /** Job namespace, e.g. `privacy-pipeline://local` or `privacy-pipeline://aws/<account>/<stage>`. */
  readonly namespace: string;
  /** URI of the producing code, e.g. the repository at a tag. */
  readonly producer: string;
  /** @default `privacy-pipeline.<kind>.<dataset>` (`privacy-pipeline.ingest.<dataset>` for runs) */
  readonly jobName?: string;
  /**
   * Dataset namespace of a bucket, e.g. `b => 's3://' + physicalName[b]` on AWS.
   * @default `<namespace>/<bucket>`
   */
  readonly datasetNamespace?: (bucket: BucketRole) => string;
}

export type OpenLineageEvent = Record<string, unknown>;

const SPEC = 'https://openlineage.io/spec/2-0-2/OpenLineage.json';
/** `schemaURL` of every emitted event. */
export const OPENLINEAGE_RUN_EVENT_SCHEMA_URL = `${SPEC}#/$defs/RunEvent`;

const facetUrl = (file: string, version: string, def: string) => `https://openlineage.io/spec/facets/${version}/${file}.json#/$defs/${def}`;

/** `_schemaURL` of each standard facet this module emits, keyed by facet name ($id of the schema file + definition). */
export const FACET_SCHEMA_URLS = {
  schema: facetUrl('SchemaDatasetFacet', '1-2-0', 'SchemaDatasetFacet'),
  columnLineage: facetUrl('ColumnLineageDatasetFacet', '1-2-0', 'ColumnLineageDatasetFacet'),
  version: facetUrl('DatasetVersionDatasetFacet', '1-0-1', 'DatasetVersionDatasetFacet'),
  tags: facetUrl('TagsDatasetFacet', '1-0-0', 'TagsDatasetFacet'),
  lifecycleStateChange: facetUrl('LifecycleStateChangeDatasetFacet', '1-0-1', 'LifecycleStateChangeDatasetFacet'),
  dataQualityMetrics: facetUrl('DataQualityMetricsInputDatasetFacet', '1-0-3', 'DataQualityMetricsInputDatasetFacet'),
  dataQualityAssertions: facetUrl('DataQualityAssertionsDatasetFacet', '1-1-0', 'DataQualityAssertionsDatasetFacet'),
  outputStatistics: facetUrl('OutputStatisticsOutputDatasetFacet', '1-0-2', 'OutputStatisticsOutputDatasetFacet'),
  errorMessage: facetUrl('ErrorMessageRunFacet', '1-0-1', 'ErrorMessageRunFacet'),
  jobType: facetUrl('JobTypeJobFacet', '2-0-4', 'JobTypeJobFacet'),
} as const;

/** Name of the custom run facet (OpenLineage asks custom facets to carry a producer prefix). */
export const PRIVACY_PIPELINE_RUN_FACET = 'privacyPipeline_run';
export const PRIVACY_PIPELINE_RUN_FACET_SCHEMA_ID =
  'https://github.com/privacy-pipeline/privacy-pipeline/blob/main/docs/openlineage/PrivacyPipelineRunFacet.json';

/**
 * JSON Schema (2020-12) of the custom run facet: what standard facets cannot say (status,
 * policy and contract hashes, keys used, privacy budget spent, counts, audit details).
 * Publish it at {@link PRIVACY_PIPELINE_RUN_FACET_SCHEMA_ID} so consumers can resolve `_schemaURL`.
 */
export const PRIVACY_PIPELINE_RUN_FACET_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: PRIVACY_PIPELINE_RUN_FACET_SCHEMA_ID,
  $defs: {
    PrivacyPipelineRunFacet: {
      allOf: [
        { $ref: `${SPEC}#/$defs/RunFacet` },
        {
          type: 'object',
          properties: {
            recordId: { type: 'string', description: 'Id of the lineage record.' },
            kind: { type: 'string', enum: ['run', 'release', 'erasure', 'reidentification', 'rekey', 'sweep'] },
            dataset: { type: 'string' },
            status: { type: 'string' },
            runKey: { type: 'string' },
            idempotencyKey: { type: 'string' },
            codeVersion: { type: 'string' },
            contract: {
              type: 'object',
              properties: {
                hash: { type: 'string' },
                source: { type: 'string' },
                inferred: { type: 'boolean' },
                version: { type: 'integer' },
              },
            },
            policy: { type: 'object', properties: { hash: { type: 'string' }, version: { type: 'string' } } },
            counts: { type: 'object', additionalProperties: { type: ['integer', 'boolean'] } },
            quarantineReasons: { type: 'object', additionalProperties: { type: 'integer' } },
            keys: {
              type: 'array',
              items: {
                type: 'object',
                properties: { keyId: { type: 'string' }, version: { type: 'string' }, purpose: { type: 'string' } },
                required: ['keyId', 'version', 'purpose'],
              },
            },
            budget: { type: 'array', items: { type: 'object', additionalProperties: { type: ['string', 'number'] } } },
            formulaCellsNeutralised: { type: 'integer' },
            durationMs: { type: 'number' },
            details: {
              description: 'Scalar fields of a non-run record (nested objects flattened with dots).',
              type: 'object',
              additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
            },
          },
          required: ['recordId', 'kind', 'dataset'],
        },
      ],
      type: 'object',
    },
  },
  type: 'object',
  properties: { [PRIVACY_PIPELINE_RUN_FACET]: { $ref: '#/$defs/PrivacyPipelineRunFacet' } },
} as const;
const RUN_FACET_URL = `${PRIVACY_PIPELINE_RUN_FACET_SCHEMA_ID}#/$defs/PrivacyPipelineRunFacet`;

// ------------------------------------------------------------------ helpers

interface Ctx {
  readonly producer: string;
  readonly ns: (bucket: BucketRole) => string;
}

function context(opts: OpenLineageOptions): Ctx {
  if (!URL.canParse(opts.producer)) throw new UsageError('OpenLineage producer must be a URI', { rule: 'openlineage-producer' });
  if (opts.namespace.length === 0) throw new UsageError('OpenLineage namespace must not be empty', { rule: 'openlineage-namespace' });
  const base = opts.namespace.replace(/\/+$/, '');
  return { producer: opts.producer, ns: opts.datasetNamespace ?? ((b) => `${base}/${b}`) };
}

function facet(ctx: Ctx, schemaURL: string, body: Record<string, unknown>): Record<string, unknown> {
  return { _producer: ctx.producer, _schemaURL: schemaURL, ...body };
}

/**
 * A UUIDv7 (what OpenLineage clients generate) made deterministic: the timestamp is the run's
 * start, the other 74 bits come from sha256 of the record id, so re-emitting gives the same runId.
 */
export function deterministicRunId(recordId: string, startedAt: string): string {
  const ms = Date.parse(startedAt);
  const b = Buffer.alloc(16);
  b.writeUIntBE(Number.isFinite(ms) && ms > 0 ? Math.min(ms, 2 ** 48 - 1) : 0, 0, 6);
  createHash('sha256').update(`privacy-pipeline:run-id:${recordId}`).digest().copy(b, 6, 0, 10);
  b[6] = 0x70 | ((b[6] as number) & 0x0f);
  b[8] = 0x80 | ((b[8] as number) & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function jobOf(ctx: Ctx, namespace: string, name: string, jobType: string): Record<string, unknown> {
  return {
    namespace,
    name,
    facets: {
      jobType: facet(ctx, FACET_SCHEMA_URLS.jobType, { processingType: 'BATCH', integration: 'privacy-pipeline', jobType }),
    },
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function int(n: number): number {
  return Number.isFinite(n) ? Math.max(0, Math.round(n)) : 0;
}

/** Column names and types from the contract body when there is one, otherwise from the plan and profile. */
function inputColumns(record: RunRecord): { name: string; type?: string }[] {
  const body = record.contract.body;
  if (isRecord(body) && Array.isArray(body.columns)) {
    const cols = body.columns.filter(isRecord).filter((c): c is { name: string; type?: unknown } => typeof c.name === 'string');
    if (cols.length > 0) return cols.map((c) => (typeof c.type === 'string' ? { name: c.name, type: c.type } : { name: c.name }));
  }
  const profiles = new Map(record.profile.map((p) => [p.column, p]));
  return record.plan.map((d) => {
    const mix = profiles.get(d.column)?.types ?? {};
    const top = Object.entries(mix).sort((a, b) => b[1] - a[1])[0];
    return top ? { name: d.column, type: top[0] } : { name: d.column };
  });
}

function transformed(d: ColumnDecision): boolean {
  return d.operator !== 'keep' || d.freeText;
}

function describeDecision(d: ColumnDecision): string {
  const what = d.entity ? `${d.operator} ${d.entity}` : d.operator;
  return d.freeText ? `${what}; PII spans in free text replaced` : what;
}

function schemaFacet(ctx: Ctx, fields: readonly { name: string; type?: string; description?: string }[]): Record<string, unknown> {
  return facet(ctx, FACET_SCHEMA_URLS.schema, {
    fields: fields.map((f, i) => ({
      name: f.name,
      ...(f.type ? { type: f.type } : {}),
      ...(f.description ? { description: f.description } : {}),
      ordinal_position: i + 1,
    })),
  });
}

function versionFacet(ctx: Ctx, o: { versionId?: string; sha256: string }): Record<string, unknown> | undefined {
  const v = o.versionId ?? (o.sha256 ? `sha256:${o.sha256}` : '');
  return v ? facet(ctx, FACET_SCHEMA_URLS.version, { datasetVersion: v }) : undefined;
}

function compact(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

// ------------------------------------------------------------------ runs

function inputDataset(ctx: Ctx, record: RunRecord, final: boolean): Record<string, unknown> {
  const input = record.input;
  const decisions = new Map(record.plan.map((d) => [d.column, d]));
  const columns = inputColumns(record).map((c) => {
    const d = decisions.get(c.name);
    return d?.entity ? { ...c, description: `PII: ${d.entity}` } : c;
  });
  const tags = record.plan.flatMap((d) => [
    ...(d.entity ? [{ key: 'pii', value: d.entity, field: d.column, source: 'PRIVACY_PIPELINE' }] : []),
    ...(d.identifiesSubject ? [{ key: 'data_subject', value: 'true', field: d.column, source: 'PRIVACY_PIPELINE' }] : []),
  ]);
  const facets = compact({
    schema: columns.length > 0 ? schemaFacet(ctx, columns) : undefined,
    version: versionFacet(ctx, input),
    tags: tags.length > 0 ? facet(ctx, FACET_SCHEMA_URLS.tags, { tags }) : undefined,
  });
  const dataset: Record<string, unknown> = { namespace: ctx.ns(input.bucket), name: input.key, facets };
  if (final)
    dataset.inputFacets = { dataQualityMetrics: qualityMetrics(ctx, record), dataQualityAssertions: qualityAssertions(ctx, record) };
  return dataset;
}

function qualityMetrics(ctx: Ctx, record: RunRecord): Record<string, unknown> {
  const pii = new Set(record.plan.filter((d) => d.entity !== null).map((d) => d.column));
  const columnMetrics: Record<string, unknown> = {};
  for (const p of record.profile) {
    columnMetrics[p.column] = {
      nullCount: int(p.nullShare * p.count),
      distinctCount: int(p.distinctEstimate),
      count: p.count,
      // Only numeric bounds, and only where no PII lives (string bounds would be cell values).
      ...(!pii.has(p.column) && typeof p.min === 'number' ? { min: p.min } : {}),
      ...(!pii.has(p.column) && typeof p.max === 'number' ? { max: p.max } : {}),
    };
  }
  return facet(ctx, FACET_SCHEMA_URLS.dataQualityMetrics, {
    rowCount: int(record.counts.rowsIn),
    ...(record.input.size > 0 ? { bytes: int(record.input.size) } : {}),
    fileCount: 1,
    columnMetrics,
  });
}

function maxInvalidShare(record: RunRecord): number {
  const body = record.contract.body;
  return isRecord(body) && typeof body.maxInvalidRowShare === 'number' ? body.maxInvalidRowShare : 0.05;
}

function qualityAssertions(ctx: Ctx, record: RunRecord): Record<string, unknown> {
  const c = record.counts;
  const accounted = c.rowsPublished + c.rowsQuarantined + c.rowsSuppressed + c.rowsKSuppressed;
  const max = maxInvalidShare(record);
  const validShare = c.rowsIn > 0 ? (c.rowsIn - c.rowsQuarantined) / c.rowsIn : 1;
  const assertions: Record<string, unknown>[] = [
    {
      assertion: 'row_count_conservation',
      name: 'conservation',
      success: c.conserved && c.rowsIn === accounted,
      severity: 'error',
      description: 'rows in = published + quarantined + suppressed by erasure + suppressed by k-anonymity',
      expected: String(c.rowsIn),
      actual: String(accounted),
      params: {
        rowsIn: c.rowsIn,
        rowsPublished: c.rowsPublished,
        rowsQuarantined: c.rowsQuarantined,
        rowsSuppressed: c.rowsSuppressed,
        rowsKSuppressed: c.rowsKSuppressed,
      },
    },
    {
      assertion: 'contract_validation',
      name: record.contract.hash ? `contract ${record.contract.hash.slice(0, 12)}` : 'contract',
      success: record.status !== 'QUARANTINED' && 1 - validShare <= max,
      severity: 'error',
      description: `share of rows that pass the ${record.contract.inferred ? 'inferred' : 'declared'} contract`,
      expected: `>= ${(1 - max).toFixed(4)}`,
      actual: validShare.toFixed(4),
      params: {
        maxInvalidRowShare: max,
        rowsInvalid: c.rowsQuarantined,
        inferred: record.contract.inferred,
        ...(record.contract.version !== undefined ? { contractVersion: record.contract.version } : {}),
      },
    },
  ];
  for (const [rule, count] of Object.entries(record.quarantineReasons)) {
    assertions.push({
      assertion: 'contract_rule',
      name: rule,
      success: count === 0,
      severity: 'warn',
      expected: '0',
      actual: String(count),
    });
  }
  for (const d of record.drift) {
    assertions.push({
      assertion: 'drift',
      name: `drift ${d.metric}`,
      column: d.column,
      success: false,
      severity: 'warn',
      description: d.message,
      ...(typeof d.previous === 'number' ? { expected: String(d.previous) } : {}),
      ...(typeof d.current === 'number' ? { actual: String(d.current) } : {}),
    });
  }
  if (record.risk) {
    const r = record.risk;
    assertions.push({
      assertion: 'k_anonymity',
      name: `k-anonymity k=${r.k}`,
      success: r.rowsBelowK === 0,
      severity: r.action === 'suppress' ? 'error' : 'warn',
      expected: `>= ${r.k}`,
      actual: String(r.smallestClass),
      params: {
        quasiIdentifiers: r.quasiIdentifiers.join(','),
        classes: r.classes,
        rowsBelowK: r.rowsBelowK,
        shareBelowK: r.shareBelowK,
        action: r.action,
      },
    });
  }
  return facet(ctx, FACET_SCHEMA_URLS.dataQualityAssertions, { assertions });
}

function curatedFacets(ctx: Ctx, record: RunRecord): Record<string, unknown> {
  const inputNs = ctx.ns(record.input.bucket);
  const types = new Map(inputColumns(record).map((c) => [c.name, c.type]));
  const kept = record.plan.filter((d) => d.operator !== 'drop');
  const fields: Record<string, unknown> = {};
  for (const d of kept) {
    const masking = transformed(d);
    fields[d.column] = {
      inputFields: [
        {
          namespace: inputNs,
          name: record.input.key,
          field: d.column,
          transformations: [
            { type: 'DIRECT', subtype: masking ? 'TRANSFORMATION' : 'IDENTITY', description: describeDecision(d), masking },
          ],
        },
      ],
      // Deprecated by facet 1-2-0 but still read by older consumers.
      transformationType: masking ? 'MASKED' : 'IDENTITY',
    };
  }
  const filter = (field: string, description: string) => ({
    namespace: inputNs,
    name: record.input.key,
    field,
    transformations: [{ type: 'INDIRECT', subtype: 'FILTER', description, masking: false }],
  });
  const datasetLevel = [
    ...record.plan.filter((d) => d.identifiesSubject).map((d) => filter(d.column, 'rows of erased subjects are dropped')),
    ...(record.risk?.action === 'suppress'
      ? record.risk.quasiIdentifiers.map((q) => filter(q, `rows in classes smaller than k=${record.risk?.k} are suppressed`))
      : []),
  ];
  return {
    schema: schemaFacet(
      ctx,
      kept.map((d) => {
        const t = transformed(d) ? 'string' : types.get(d.column);
        return { name: d.column, ...(t ? { type: t } : {}), ...(transformed(d) ? { description: describeDecision(d) } : {}) };
      }),
    ),
    columnLineage: facet(ctx, FACET_SCHEMA_URLS.columnLineage, { fields, ...(datasetLevel.length > 0 ? { dataset: datasetLevel } : {}) }),
  };
}

/** DP releases made at ingest: values aggregate the queried columns (noised), keys are the group-by values. */
function aggregatesLineage(ctx: Ctx, record: RunRecord): Record<string, unknown> | undefined {
  const body = record.contract.body;
  if (!isRecord(body) || !Array.isArray(body.aggregates)) return undefined;
  const queries = body.aggregates.filter(isRecord);
  const field = (column: string, type: string, subtype: string, description: string, masking: boolean) => ({
    namespace: ctx.ns(record.input.bucket),
    name: record.input.key,
    field: column,
    transformations: [{ type, subtype, description, masking }],
  });
  const values = queries
    .filter((q) => typeof q.column === 'string')
    .map((q) =>
      field(
        q.column as string,
        'DIRECT',
        'AGGREGATION',
        `differentially private ${String(q.kind)} (${String(q.mechanism ?? 'laplace')}, epsilon ${String(q.epsilon)})`,
        true,
      ),
    );
  const groups = [...new Set(queries.map((q) => q.by).filter((b): b is string => typeof b === 'string'))];
  if (values.length === 0 && groups.length === 0) return undefined;
  return facet(ctx, FACET_SCHEMA_URLS.columnLineage, {
    fields: {
      ...(values.length > 0 ? { value: { inputFields: values } } : {}),
      ...(groups.length > 0 ? { key: { inputFields: groups.map((g) => field(g, 'DIRECT', 'IDENTITY', 'group-by key', false)) } } : {}),
    },
    ...(groups.length > 0 ? { dataset: groups.map((g) => field(g, 'INDIRECT', 'GROUP_BY', 'grouped by', false)) } : {}),
  });
}

function outputDataset(ctx: Ctx, record: RunRecord | undefined, o: ObjectDigest, lifecycle?: string): Record<string, unknown> {
  const facets: Record<string, unknown> = compact({
    version: versionFacet(ctx, o),
    tags: facet(ctx, FACET_SCHEMA_URLS.tags, { tags: [{ key: 'role', value: o.role, source: 'PRIVACY_PIPELINE' }] }),
    lifecycleStateChange: lifecycle ? facet(ctx, FACET_SCHEMA_URLS.lifecycleStateChange, { lifecycleStateChange: lifecycle }) : undefined,
  });
  if (record && o.role === 'curated') Object.assign(facets, curatedFacets(ctx, record));
  if (record && o.role === 'aggregates') {
    const lineage = aggregatesLineage(ctx, record);
    if (lineage) facets.columnLineage = lineage;
  }
  return {
    namespace: ctx.ns(o.bucket),
    name: o.key,
    facets,
    outputFacets: {
      outputStatistics: facet(ctx, FACET_SCHEMA_URLS.outputStatistics, {
        ...(typeof o.rows === 'number' ? { rowCount: int(o.rows) } : {}),
        size: int(o.size),
        fileCount: 1,
      }),
    },
  };
}

function runFacet(ctx: Ctx, record: RunRecord, final: boolean): Record<string, unknown> {
  const base = {
    recordId: record.id,
    kind: 'run',
    dataset: record.dataset,
    runKey: record.runKey,
    idempotencyKey: record.idempotencyKey,
    codeVersion: record.codeVersion,
  };
  if (!final) return facet(ctx, RUN_FACET_URL, base);
  return facet(ctx, RUN_FACET_URL, {
    ...base,
    status: record.status,
    contract: compact({
      hash: record.contract.hash,
      source: record.contract.source,
      inferred: record.contract.inferred,
      version: record.contract.version,
    }),
    policy: { hash: record.policy.hash, version: record.policy.version },
    counts: { ...record.counts },
    quarantineReasons: { ...record.quarantineReasons },
    keys: record.keys.map((k) => ({ keyId: k.keyId, version: k.version, purpose: k.purpose })),
    budget: record.budget.map((b) => ({ ...b })),
    formulaCellsNeutralised: record.formulaCellsNeutralised,
    durationMs: record.timings.ms,
  });
}

function errorFacet(ctx: Ctx, record: RunRecord): Record<string, unknown> {
  const e = record.error;
  let message: string;
  if (e) message = `${e.class}: ${e.message}${e.rule ? ` [rule ${e.rule}]` : ''}`;
  else {
    const reasons = Object.entries(record.quarantineReasons)
      .map(([rule, n]) => `${rule} ${n}`)
      .join(', ');
    message = `${record.status}: ${record.counts.rowsQuarantined} of ${record.counts.rowsIn} rows invalid${reasons ? ` (${reasons})` : ''}`;
  }
  if (record.status === 'QUARANTINED') message = `file quarantined, nothing published. ${message}`;
  return facet(ctx, FACET_SCHEMA_URLS.errorMessage, { message: message.slice(0, 2000), programmingLanguage: 'TypeScript' });
}

/** START and COMPLETE (status COMPLETE or SKIPPED) or FAIL (FAILED or QUARANTINED) RunEvents for one run. */
export function toOpenLineageEvents(record: RunRecord, opts: OpenLineageOptions): OpenLineageEvent[] {
  const ctx = context(opts);
  const runId = deterministicRunId(record.id, record.timings.startedAt);
  const job = jobOf(ctx, opts.namespace, opts.jobName ?? `privacy-pipeline.ingest.${record.dataset}`, 'INGEST');
  const failed = record.status === 'FAILED' || record.status === 'QUARANTINED';
  const base = { producer: ctx.producer, schemaURL: OPENLINEAGE_RUN_EVENT_SCHEMA_URL, job };
  const start: OpenLineageEvent = {
    eventType: 'START',
    eventTime: record.timings.startedAt,
    ...base,
    run: { runId, facets: { [PRIVACY_PIPELINE_RUN_FACET]: runFacet(ctx, record, false) } },
    inputs: [inputDataset(ctx, record, false)],
    outputs: [],
  };
  const end: OpenLineageEvent = {
    eventType: failed ? 'FAIL' : 'COMPLETE',
    eventTime: record.timings.endedAt,
    ...base,
    run: {
      runId,
      facets: {
        [PRIVACY_PIPELINE_RUN_FACET]: runFacet(ctx, record, true),
        ...(failed ? { errorMessage: errorFacet(ctx, record) } : {}),
      },
    },
    inputs: [inputDataset(ctx, record, true)],
    outputs: record.outputs.filter((o) => o.role !== 'input').map((o) => outputDataset(ctx, record, o)),
  };
  return [start, end];
}

// ------------------------------------------------------------------ other record kinds

const BUCKETS = new Set<string>(['ingest', 'curated', 'quarantine', 'aggregates']);

/** Objects (bucket + key) listed in any top-level array of a record: release outputs, erased objects... */
function objectsIn(record: LineageRecord): ObjectDigest[] {
  const seen = new Map<string, ObjectDigest>();
  for (const value of Object.values(record)) {
    if (!Array.isArray(value)) continue;
    for (const o of value) {
      if (!isRecord(o) || typeof o.bucket !== 'string' || !BUCKETS.has(o.bucket) || typeof o.key !== 'string') continue;
      seen.set(`${o.bucket}/${o.key}`, {
        bucket: o.bucket as BucketRole,
        key: o.key,
        size: typeof o.size === 'number' ? o.size : 0,
        sha256: typeof o.sha256 === 'string' ? o.sha256 : '',
        role: (typeof o.role === 'string' ? o.role : o.bucket) as ObjectDigest['role'],
        ...(typeof o.versionId === 'string' ? { versionId: o.versionId } : {}),
        ...(typeof o.rows === 'number' ? { rows: o.rows } : {}),
      });
    }
  }
  return [...seen.values()];
}

/** Scalars of a record, nested objects flattened one level with dots; arrays become their length. */
function details(record: LineageRecord): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  const put = (k: string, v: unknown, depth: number) => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') out[k] = v;
    else if (typeof v === 'number') out[k] = Number.isFinite(v) ? v : String(v);
    else if (Array.isArray(v)) out[`${k}.length`] = v.length;
    else if (isRecord(v) && depth < 2) for (const [kk, vv] of Object.entries(v)) put(`${k}.${kk}`, vv, depth + 1);
  };
  for (const [k, v] of Object.entries(record)) if (!['id', 'kind', 'dataset', 'at'].includes(k)) put(k, v, 0);
  return out;
}

/** A failed audit action: an explicit failure status or a verification that did not pass. */
function failureOf(record: LineageRecord): string | undefined {
  const status = typeof record.status === 'string' ? record.status.toUpperCase() : '';
  if (status === 'FAILED' || status === 'FAIL') {
    const e = record.error;
    if (typeof e === 'string') return e;
    if (isRecord(e) && typeof e.message === 'string') return `${typeof e.class === 'string' ? `${e.class}: ` : ''}${e.message}`;
    return `${record.kind} failed`;
  }
  const v = record.verification ?? record.verified;
  if (v === false || v === 'failed' || (isRecord(v) && (v.passed === false || v.ok === false || v.success === false)))
    return `${record.kind} verification failed`;
  return undefined;
}

/** An erasure spans datasets (`dataset: '*'`, with the touched ones in `datasets`). */
function datasetLabel(record: LineageRecord): string {
  if (record.dataset !== '*' || !Array.isArray(record.datasets) || record.datasets.length === 0) return record.dataset;
  return (record.datasets as string[]).join('+');
}

/**
 * OpenLineage events for any lineage record: runs give START + COMPLETE/FAIL; releases, erasures,
 * re-identifications, rekeys and sweeps give one COMPLETE (or FAIL) event of a job per kind.
 */
export function lineageRecordToOpenLineage(record: LineageRecord, opts: OpenLineageOptions): OpenLineageEvent[] {
  if (record.kind === 'run') return toOpenLineageEvents(record as unknown as RunRecord, opts);
  const ctx = context(opts);
  const jobType = record.kind.toUpperCase();
  const job = jobOf(ctx, opts.namespace, opts.jobName ?? `privacy-pipeline.${record.kind}.${datasetLabel(record)}`, jobType);
  const objects = objectsIn(record);
  // Erasure rewrites objects in place (a new version without the subject's rows); a sweep deletes orphans.
  const lifecycle =
    record.kind === 'erasure' ? 'OVERWRITE' : record.kind === 'rekey' ? 'ALTER' : record.kind === 'sweep' ? 'DROP' : undefined;
  const changesAll = record.kind === 'erasure' || record.kind === 'rekey' || record.kind === 'sweep';
  const outputs = objects.filter((o) => changesAll || o.bucket === 'aggregates').map((o) => outputDataset(ctx, undefined, o, lifecycle));
  const inputs =
    record.kind === 'release' || record.kind === 'reidentification' ? [{ namespace: ctx.ns('curated'), name: record.dataset }] : [];
  const failure = failureOf(record);
  return [
    {
      eventType: failure ? 'FAIL' : 'COMPLETE',
      eventTime: record.at,
      producer: ctx.producer,
      schemaURL: OPENLINEAGE_RUN_EVENT_SCHEMA_URL,
      job,
      run: {
        runId: deterministicRunId(record.id, record.at),
        facets: {
          [PRIVACY_PIPELINE_RUN_FACET]: facet(ctx, RUN_FACET_URL, {
            recordId: record.id,
            kind: record.kind,
            dataset: record.dataset,
            details: details(record),
          }),
          ...(failure
            ? { errorMessage: facet(ctx, FACET_SCHEMA_URLS.errorMessage, { message: failure, programmingLanguage: 'TypeScript' }) }
            : {}),
        },
      },
      inputs,
      outputs,
    },
  ];
}
