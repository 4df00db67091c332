/**
 * The steps of the fan-out workflow (Step Functions: plan → Distributed Map of chunks → merge),
 * as plain functions of ports, so the same code path runs in tests without AWS. The Lambda entry
 * points (plan-chunks.ts, process-chunk.ts, merge-chunks.ts) only build ports and call these.
 *
 * Between steps the workflow carries small JSON (a plan key, chunk indexes, result keys); the
 * plan and each chunk's partial states live as objects under the run's key in the curated bucket
 * (`<dataset>/<runKey>/_work/…`: encrypted like everything, skipped by readers because of the `_`,
 * removed by the merge step).
 */
import { PrivacyPipelineError } from '../core/errors.ts';
import type { ChunkResult } from '../core/pipeline/chunk-types.ts';
import { type FanOutPlan, finishIngest, planIngest } from '../core/pipeline/ingest-object.ts';
import type { IngestInput, IngestOptions } from '../core/pipeline/ingest-types.ts';
import { datasetFromKey, isReservedKey } from '../core/pipeline/object-keys.ts';
import { chunkResultFromJson, chunkResultToJson, processChunk, toChunkResult } from '../core/pipeline/process-chunk.ts';
import { errorFromWire, PERMANENT_ERROR_NAMES } from '../core/pipeline/wire-error.ts';
import type { Ports } from '../core/ports.ts';

/** What starts a fan-out: the uploaded object (from the S3 event EventBridge delivers). */
export interface FanOutInput {
  readonly key: string;
  readonly versionId?: string;
  readonly etag?: string;
}

export interface PlanStepResult {
  /** True when the run is already over (duplicate, rejected file, or one pass was enough). */
  readonly done: boolean;
  readonly runId?: string;
  readonly status?: string;
  readonly planKey?: string;
  /** The Distributed Map's items. */
  readonly chunks?: readonly { readonly index: number }[];
}

export interface ChunkStepEvent {
  readonly planKey: string;
  readonly index: number;
}

export interface ChunkStepResult {
  readonly index: number;
  readonly resultKey: string;
}

/** Step Functions' error object: `Error` is the error name, `Cause` the Lambda error JSON. */
export interface StepError {
  readonly Error?: string;
  readonly Cause?: string;
}

/**
 * The merge step's input: the Distributed Map's results in item order. A chunk that failed for
 * good (a permanent error, caught inside the map) is `{ index, error }`; transient failures are
 * retried by the workflow and never reach the merge.
 */
export interface MergeStepEvent {
  readonly planKey: string;
  readonly results: readonly (ChunkStepResult | { readonly index: number; readonly error: StepError })[];
}

export interface FanOutSettings {
  /** Target bytes per chunk. */
  readonly targetChunkBytes: number;
  /** Idempotency claim of a fan-out: longer than the whole workflow may take. */
  readonly claimTtlMs: number;
  readonly ingestOptions?: IngestOptions;
}

/** Error names the pipeline treats as permanent (the file is quarantined, not retried). */
const PERMANENT = new Set(PERMANENT_ERROR_NAMES);

const workKey = (planKey: string, name: string) => `${planKey.slice(0, planKey.lastIndexOf('/'))}/${name}`;

async function readJson<T>(ports: Ports, key: string): Promise<T> {
  const { body } = await ports.objects.get('curated', key);
  const parts: Uint8Array[] = [];
  for await (const p of body) parts.push(p);
  return JSON.parse(Buffer.concat(parts).toString('utf8')) as T;
}

async function readText(ports: Ports, key: string): Promise<string> {
  const { body } = await ports.objects.get('curated', key);
  const parts: Uint8Array[] = [];
  for await (const p of body) parts.push(p);
  return Buffer.concat(parts).toString('utf8');
}

async function putJson(ports: Ports, key: string, dataset: string, text: string): Promise<void> {
  await ports.objects.put('curated', key, new TextEncoder().encode(text), {
    contentType: 'application/json',
    metadata: { 'pp-dataset': dataset, 'pp-work': 'fan-out' },
    encryptionContext: { dataset },
  });
}

/** Step 1: claim, prepare, plan the chunks; the plan is stored for the other steps. */
export async function planStep(ports: Ports, settings: FanOutSettings, input: FanOutInput): Promise<PlanStepResult> {
  // EventBridge sees every object: contracts, indexes and keys outside <dataset>/ are not uploads.
  if (input.key.endsWith('/') || isReservedKey(input.key)) return { done: true, status: 'SKIPPED' };
  try {
    datasetFromKey(input.key);
  } catch {
    ports.logger.warn('skipping an object whose key is not <dataset>/<file>', { rule: 'object-key' });
    return { done: true, status: 'SKIPPED' };
  }
  const ingestInput: IngestInput = {
    key: input.key,
    ...(input.versionId ? { versionId: input.versionId } : {}),
    ...(input.etag ? { etag: input.etag } : {}),
  };
  const outcome = await planIngest(ports, ingestInput, {
    ...settings.ingestOptions,
    targetChunkBytes: settings.targetChunkBytes,
    config: { ...settings.ingestOptions?.config, claimTtlMs: settings.claimTtlMs },
  });
  if (outcome.kind === 'done') return { done: true, runId: outcome.result.record.id, status: outcome.result.status };
  const { plan } = outcome;
  const planKey = `${plan.dataset}/${plan.setup.runKey}/_work/plan.json`;
  await putJson(ports, planKey, plan.dataset, JSON.stringify(plan));
  return { done: false, runId: plan.runId, planKey, chunks: plan.chunks.map((c) => ({ index: c.index })) };
}

/** Step 2 (one per chunk, in the Distributed Map): process the chunk, store its partial states. */
export async function chunkStep(ports: Ports, event: ChunkStepEvent): Promise<ChunkStepResult> {
  const plan = await readJson<FanOutPlan>(ports, event.planKey);
  const chunk = plan.chunks[event.index];
  if (!chunk) throw new PrivacyPipelineError(`chunk ${event.index} is not in the plan`, { rule: 'fan-out-chunk' });
  const result = toChunkResult(await processChunk(ports, plan.setup, chunk));
  const resultKey = workKey(event.planKey, `chunk-${String(chunk.index).padStart(5, '0')}.json`);
  await putJson(ports, resultKey, plan.dataset, chunkResultToJson(result));
  return { index: chunk.index, resultKey };
}

/** Step 3: merge (or, when a chunk failed for good, clean up and quarantine the file), then remove the work objects. */
export async function mergeStep(
  ports: Ports,
  settings: Pick<FanOutSettings, 'ingestOptions'>,
  event: MergeStepEvent,
): Promise<{ runId: string; status: string }> {
  const plan = await readJson<FanOutPlan>(ports, event.planKey);
  const results: ChunkResult[] = [];
  let failure: unknown;
  for (const r of event.results) {
    if ('error' in r) failure ??= failureOf(r.error);
    else if (failure === undefined) results.push(chunkResultFromJson(await readText(ports, r.resultKey)));
  }
  try {
    const result = await finishIngest(ports, plan, results, { ...settings.ingestOptions, ...(failure !== undefined ? { failure } : {}) });
    return { runId: result.record.id, status: result.status };
  } finally {
    // The work objects go whatever happened: the plan holds no value, but nothing stays behind.
    const prefix = workKey(event.planKey, '');
    const work: string[] = [];
    for await (const o of ports.objects.list('curated', prefix)) work.push(o.key);
    for (const key of work) {
      for await (const v of ports.objects.listVersions('curated', key)) {
        if (v.key === key)
          await ports.objects.delete('curated', key, v.versionId ? { versionId: v.versionId } : undefined).catch(() => undefined);
      }
    }
  }
}

/** A chunk's error, as the pipeline's error class (permanent or transient by name). */
function failureOf(error: StepError): Error {
  let message = 'a chunk failed';
  let name = error.Error ?? 'Error';
  try {
    const cause = JSON.parse(error.Cause ?? '{}') as { errorType?: string; errorMessage?: string };
    if (cause.errorType) name = cause.errorType;
    if (cause.errorMessage) message = cause.errorMessage;
  } catch {
    // Not Lambda JSON (a States.* error): keep the name.
  }
  return errorFromWire({ name, message, permanent: PERMANENT.has(name) });
}
