/**
 * The ingest use case: one object from the ingest bucket, one streaming pass.
 *
 *   decode → sample → contract → classify → for each row: validate → pseudonymise → suppress
 *   erased subjects → index subjects → profile → aggregate → encode → put
 *
 * The per-row work lives in process-chunk.ts. Large files can run as parallel chunks
 * (IngestOptions.parallel: worker threads locally): a planner cuts the file at record
 * boundaries (or Parquet row groups) while chunks already run, each chunk writes its own curated
 * part (`part-0000N`, in chunk order), and the partial states (profile, DP aggregates,
 * k-anonymity, subject indexes, counts) merge before the file-level verdicts; DP noise is added
 * once, after the merge. A sequential run is the same code with one chunk.
 *
 * Permanent problems (bad file, bad rows, contract breaches) end in quarantine and a lineage
 * record, and the call returns normally. Transient ones (storage, keys) are rethrown so the
 * platform retries; an idempotency claim makes retries publish exactly once.
 */
import { type DecodedTable, decodeTable } from '../codecs/decode-table.ts';
import type { FileFormat } from '../codecs/file-format.ts';
import { formatFromKey } from '../codecs/file-format.ts';
import { type DatasetContract, DEFAULT_PRIVACY_BUDGET } from '../contract/contract-schema.ts';
import { inferContract } from '../contract/infer-contract.ts';
import { contractHash, parseContract } from '../contract/parse-contract.ts';
import { checkHeader } from '../contract/row-validator.ts';
import { checkHeaderNames } from '../detect/check-header-names.ts';
import { classifyColumns } from '../detect/classify-columns.ts';
import { inferQuasiIdentifiers } from '../detect/k-anonymity.ts';
import { type Aggregator, budgetFor, releaseAggregates, validateQueries } from '../dp/aggregator.ts';
import { subjectIndexMayContainAny } from '../erasure/subject-index.ts';
import {
  ChunkBoundaryError,
  ConflictError,
  ContractError,
  InProgressError,
  InvalidFileError,
  isTransient,
  PrivacyBudgetExceededError,
  PrivacyPipelineError,
  type RowIssue,
  TransientError,
} from '../errors.ts';
import type { BudgetSpend, ColumnProfile, DriftFinding, ObjectDigest, RiskReport, RunRecord, RunStatus } from '../lineage/run-record.ts';
import type { Ports, SecretKey } from '../ports.ts';
import { DEFAULT_POLICY, type Policy, policyHash } from '../pseudonymise/policy.ts';
import { detectDrift } from '../quality/drift.ts';
import type { ColumnDecision, KeyRef, Row } from '../types.ts';
import { type ChunkSizer, guidedChunkBytes, planCsvChunks, planJsonlChunks, planParquetChunks, targetChunkBytes } from './chunk-planner.ts';
import { type ChunkExecutor, type ChunkResult, type ChunkSpec, REPORT_ISSUE_LIMIT, type RunSetup } from './chunk-types.ts';
import { digesting, sha256Hex } from './digest.ts';
import { failClosed } from './fail-closed.ts';
import { DEFAULT_PIPELINE_CONFIG, type IngestInput, type IngestOptions, type IngestResult, type PipelineConfig } from './ingest-types.ts';
import { baseName, datasetFromKey, outputKeys, runKeyFor } from './object-keys.ts';
import {
  type ChunkOutcome,
  createRunContext,
  discardOutputs,
  inputRandomAccess,
  processChunkRows,
  putDigest,
  RunAccumulators,
  type RunKeys,
} from './process-chunk.ts';
import { publishAggregates } from './publish-aggregates.ts';

const PREVIOUS_PROFILES_FOR_DRIFT = 5;

/** Metadata key the pipeline sets on objects it rewrites itself (erasure), so they are not ingested again. */
export const ORIGIN_METADATA = 'pp-origin';

function skippedRecord(dataset: string, input: IngestInput, at: Date, ports: Ports): RunRecord {
  const now = ports.clock.now().toISOString();
  return {
    id: `skip-${sha256Hex(input.key, at.toISOString()).slice(0, 16)}`,
    kind: 'run',
    dataset,
    at: now,
    status: 'SKIPPED',
    idempotencyKey: '',
    runKey: '',
    input: { bucket: 'ingest', key: input.key, size: 0, sha256: '', role: 'input', format: 'csv', compression: 'none' },
    contract: { hash: '', source: 'none', inferred: false },
    policy: { hash: '', version: '' },
    plan: [],
    counts: { rowsIn: 0, rowsPublished: 0, rowsQuarantined: 0, rowsSuppressed: 0, rowsKSuppressed: 0, conserved: true },
    outputs: [],
    keys: [],
    budget: [],
    profile: [],
    drift: [],
    quarantineReasons: {},
    formulaCellsNeutralised: 0,
    codeVersion: '',
    timings: { startedAt: now, endedAt: now, ms: 0 },
  };
}

/** A claimed input, or the result that makes running it unnecessary. */
type Claimed =
  | { readonly kind: 'done'; readonly result: IngestResult }
  | {
      readonly kind: 'claimed';
      readonly dataset: string;
      readonly ingestedAt: Date;
      readonly idempotencyKey: string;
      readonly runId: string;
      readonly owner: string;
    };

/** Checks the input, takes the idempotency claim, and answers duplicates from lineage. */
async function claimInput(ports: Ports, input: IngestInput, config: PipelineConfig): Promise<Claimed> {
  const dataset = input.dataset ?? datasetFromKey(input.key);
  const head = await ports.objects.head('ingest', input.key);
  if (!head) throw new PrivacyPipelineError('input object not found', { file: input.key, rule: 'not-found' });
  if (head.metadata[ORIGIN_METADATA] === 'erasure') {
    // Erasure rewrote this raw object in place; its rows were already published (or removed).
    const result: IngestResult = {
      status: 'SKIPPED',
      duplicate: true,
      record: skippedRecord(dataset, input, head.lastModified, ports),
      contract: undefined,
    };
    return { kind: 'done', result };
  }
  const etag = input.etag ?? head.etag;
  // The version is left out on purpose: the same bytes uploaded again under the same key are the
  // same input, and must not be published twice.
  const idempotencyKey = sha256Hex('ingest', dataset, input.key, etag);
  const runId = `run-${idempotencyKey.slice(0, 24)}`;
  // The claim owner is this invocation, not the input: with an owner derived from the input, two
  // concurrent deliveries of the same object would both hold the claim (re-entrant stores) and a
  // failing one would release the other's claim.
  const owner = `${runId}/${Buffer.from(ports.random.bytes(8)).toString('hex')}`;

  const claim = await ports.idempotency.claim(idempotencyKey, owner, config.claimTtlMs);
  if (claim.status === 'completed') {
    const previous = (await ports.lineage.get(String(claim.result.runId))) as RunRecord | undefined;
    if (!previous) throw new PrivacyPipelineError('idempotency record points to a missing lineage record', { file: input.key });
    return {
      kind: 'done',
      result: { status: 'SKIPPED', duplicate: true, record: previous, contract: previous.contract.body as DatasetContract | undefined },
    };
  }
  if (claim.status === 'in-progress') {
    throw new InProgressError(`input is being processed by another invocation until ${claim.expiresAt}`, { file: input.key });
  }
  try {
    // An earlier invocation committed its lineage record and died before completing the claim:
    // the run is published; doing it again would only write second versions of every output.
    const committed = (await ports.lineage.get(runId)) as RunRecord | undefined;
    if (committed) {
      await ports.idempotency.complete(idempotencyKey, owner, { runId, status: committed.status });
      return {
        kind: 'done',
        result: { status: 'SKIPPED', duplicate: true, record: committed, contract: committed.contract.body as DatasetContract | undefined },
      };
    }
  } catch (err) {
    await ports.idempotency.release(idempotencyKey, owner).catch(() => undefined);
    throw err;
  }
  return { kind: 'claimed', dataset, ingestedAt: head.lastModified, idempotencyKey, runId, owner };
}

/** Appends the run's lineage record and completes the claim: the run is committed. */
async function commitRun(
  ports: Ports,
  claimed: { idempotencyKey: string; runId: string; owner: string; dataset: string },
  out: { record: RunRecord; contract: DatasetContract | undefined },
): Promise<IngestResult> {
  const { record, contract } = out;
  try {
    await ports.lineage.append(record as unknown as Parameters<Ports['lineage']['append']>[0]);
  } catch (err) {
    // A retry after a crash between the lineage write and the claim completion.
    if (!(err instanceof ConflictError)) throw err;
  }
  await ports.idempotency.complete(claimed.idempotencyKey, claimed.owner, { runId: claimed.runId, status: record.status });
  ports.logger.info('run finished', {
    runId: claimed.runId,
    dataset: claimed.dataset,
    status: record.status,
    rowsIn: record.counts.rowsIn,
  });
  return { status: record.status, record, duplicate: false, contract };
}

export async function ingestObject(ports: Ports, input: IngestInput, options: IngestOptions = {}): Promise<IngestResult> {
  const config: PipelineConfig = { ...DEFAULT_PIPELINE_CONFIG, ...options.config };
  const policy = options.policy ?? DEFAULT_POLICY;
  const claimed = await claimInput(ports, input, config);
  if (claimed.kind === 'done') return claimed.result;
  const { idempotencyKey, runId, owner, dataset } = claimed;
  try {
    const run = new IngestRun(ports, input, dataset, claimed.ingestedAt, idempotencyKey, runId, config, policy, options);
    return await commitRun(ports, claimed, await run.execute());
  } catch (err) {
    await ports.idempotency.release(idempotencyKey, owner).catch(() => undefined);
    throw err;
  }
}

// ---------------------------------------------------------------- fan-out (AWS Step Functions)

/**
 * A run prepared for fan-out, as plain data (stored between the steps of the workflow): the
 * setup every chunk processor needs, the chunks, and what the merge step needs to finish.
 */
export interface FanOutPlan {
  readonly version: 1;
  readonly input: IngestInput;
  readonly dataset: string;
  /** Last-modified of the input (ISO), which fixes the run key. */
  readonly ingestedAt: string;
  readonly idempotencyKey: string;
  readonly runId: string;
  /** The idempotency claim's owner: the merge step completes (or releases) it. */
  readonly owner: string;
  readonly setup: RunSetup;
  readonly chunks: readonly ChunkSpec[];
  readonly inputDigest: { readonly size: number; readonly sha256: string };
  /** Tokens of erased subjects when the run started (the merge re-checks for new ones). */
  readonly suppressedBefore: readonly string[];
  readonly stages: Readonly<Record<string, number>>;
}

/** Either a plan to fan out, or a run that is already over (duplicate, rejected, or small enough to run in one pass). */
export type PlanOutcome =
  | { readonly kind: 'fan-out'; readonly plan: FanOutPlan }
  | { readonly kind: 'done'; readonly result: IngestResult };

/**
 * Step 1 of a fan-out: claims the input, prepares the run (sample, contract, column plan, keys)
 * and cuts the whole file into chunks. Files that cannot be split (gzip, `unique` columns) or
 * give one chunk run in one pass right here; permanent problems quarantine the file as usual.
 * The claim lasts `config.claimTtlMs`: give fan-outs a TTL longer than the workflow.
 */
export async function planIngest(
  ports: Ports,
  input: IngestInput,
  options: IngestOptions & { readonly targetChunkBytes: number },
): Promise<PlanOutcome> {
  const config: PipelineConfig = { ...DEFAULT_PIPELINE_CONFIG, ...options.config };
  const policy = options.policy ?? DEFAULT_POLICY;
  const claimed = await claimInput(ports, input, config);
  if (claimed.kind === 'done') return claimed;
  const { idempotencyKey, runId, owner, dataset } = claimed;
  try {
    const run = new IngestRun(ports, input, dataset, claimed.ingestedAt, idempotencyKey, runId, config, policy, options);
    const planned = await run.planChunks(options.targetChunkBytes);
    if (planned.kind === 'done') return { kind: 'done', result: await commitRun(ports, claimed, planned.out) };
    return {
      kind: 'fan-out',
      plan: { version: 1, input, dataset, ingestedAt: claimed.ingestedAt.toISOString(), idempotencyKey, runId, owner, ...planned.state },
    };
  } catch (err) {
    await ports.idempotency.release(idempotencyKey, owner).catch(() => undefined);
    throw err;
  }
}

/**
 * Last step of a fan-out: merges the chunks' results (in chunk order), adds DP noise once,
 * writes indexes, releases and the manifest, appends lineage and completes the claim. When a
 * chunk failed for good (`failure`), what the chunks wrote is removed and the whole file is
 * quarantined. A transient error is rethrown with the claim kept: the workflow retries (or is
 * redriven) as the same owner; if nobody does, the claim expires and a new upload runs again.
 */
export async function finishIngest(
  ports: Ports,
  plan: FanOutPlan,
  results: readonly ChunkResult[],
  options: IngestOptions & { readonly failure?: unknown } = {},
): Promise<IngestResult> {
  const config: PipelineConfig = { ...DEFAULT_PIPELINE_CONFIG, ...options.config };
  const policy = options.policy ?? DEFAULT_POLICY;
  const claimed = { idempotencyKey: plan.idempotencyKey, runId: plan.runId, owner: plan.owner, dataset: plan.dataset };
  // A retried merge after its lineage write: committed already (a second pass would spend the budget again).
  const committed = (await ports.lineage.get(plan.runId)) as RunRecord | undefined;
  if (committed) {
    await ports.idempotency.complete(plan.idempotencyKey, plan.owner, { runId: plan.runId, status: committed.status });
    return {
      status: committed.status,
      record: committed,
      duplicate: true,
      contract: committed.contract.body as DatasetContract | undefined,
    };
  }
  const run = new IngestRun(
    ports,
    plan.input,
    plan.dataset,
    new Date(plan.ingestedAt),
    plan.idempotencyKey,
    plan.runId,
    config,
    policy,
    options,
  );
  return commitRun(ports, claimed, await run.finishFanOut(plan, results, options.failure));
}

/** The counts, outputs and merged partial states of all chunks of a run, in chunk order. */
interface MergedChunks {
  readonly rowsIn: number;
  readonly rowsPublished: number;
  readonly rowsQuarantined: number;
  readonly rowsSuppressed: number;
  readonly quarantineReasons: Record<string, number>;
  readonly reportIssues: RowIssue[];
  readonly quarantineIndexExhaustive: boolean;
  readonly formulaCellsNeutralised: number;
  readonly curatedParts: ObjectDigest[];
  readonly quarantineParts: ObjectDigest[];
  readonly acc: RunAccumulators;
  readonly chunks: { readonly index: number; readonly rows: number }[];
}

/** Merges chunk results in chunk order: counts add up, partial states merge, issues keep row order. */
export function mergeChunks(setup: RunSetup, hmacKey: SecretKey, parts: readonly (ChunkOutcome | ChunkResult)[]): MergedChunks {
  const sorted = [...parts].sort((a, b) => indexOf(a) - indexOf(b));
  let acc: RunAccumulators | undefined;
  const reasons: Record<string, number> = {};
  const issues: RowIssue[] = [];
  const merged = {
    rowsIn: 0,
    rowsPublished: 0,
    rowsQuarantined: 0,
    rowsSuppressed: 0,
    quarantineIndexExhaustive: true,
    formulaCellsNeutralised: 0,
    curatedParts: [] as ObjectDigest[],
    quarantineParts: [] as ObjectDigest[],
    chunks: [] as { index: number; rows: number }[],
  };
  for (const part of sorted) {
    const s = 'summary' in part ? part.summary : part;
    const a = 'summary' in part ? part.acc : RunAccumulators.fromResult(setup, hmacKey, part);
    if (acc) acc.merge(a);
    else acc = a;
    merged.rowsIn += s.rowsIn;
    merged.rowsPublished += s.rowsPublished;
    merged.rowsQuarantined += s.rowsQuarantined;
    merged.rowsSuppressed += s.rowsSuppressed;
    merged.quarantineIndexExhaustive &&= s.quarantineIndexExhaustive;
    merged.formulaCellsNeutralised += s.formulaCellsNeutralised;
    for (const [rule, n] of Object.entries(s.quarantineReasons)) reasons[rule] = (reasons[rule] ?? 0) + n;
    for (const issue of s.reportIssues) if (issues.length < REPORT_ISSUE_LIMIT) issues.push(issue);
    merged.curatedParts.push(s.curated);
    if (s.quarantine) merged.quarantineParts.push(s.quarantine);
    merged.chunks.push({ index: s.index, rows: s.rowsIn });
  }
  return { ...merged, quarantineReasons: reasons, reportIssues: issues, acc: acc ?? RunAccumulators.create(setup, hmacKey) };
}

function indexOf(part: ChunkOutcome | ChunkResult): number {
  return 'summary' in part ? part.summary.index : part.index;
}

/** A run opened, sampled and planned, its rows not read yet. */
interface Prepared {
  readonly setup: RunSetup;
  readonly keys: RunKeys;
  readonly table: DecodedTable;
  readonly rowIterator: AsyncIterator<Row>;
  readonly sample: Row[];
  readonly source: ReturnType<typeof digesting>;
  readonly parquetDigest: Promise<{ size: number; sha256: string }> | undefined;
  readonly hinted: ReturnType<typeof formatFromKey>;
}

/** Thrown into the chunk planner to stop it once a chunk failed. */
const STOP_PLANNING = Symbol('stop planning');

/** State of one run. Split out so the stages read top to bottom. */
class IngestRun {
  private startedAt: Date;
  private readonly runKey: string;
  private readonly stages: Record<string, number> = {};
  private readonly keysUsed: KeyRef[] = [];
  private quarantineReasons: Record<string, number> = {};
  private reportIssues: RowIssue[] = [];
  private format: FileFormat | undefined;
  private contract: DatasetContract | undefined;
  private contractSource = 'inferred';
  private contractInferred = true;
  private plan: ColumnDecision[] = [];
  private rowsIn = 0;
  private rowsPublished = 0;
  private rowsQuarantined = 0;
  private rowsSuppressed = 0;
  private chunks: { index: number; rows: number }[] | undefined;
  private inputDigest: { size: number; sha256: string } | undefined;
  private budgetRefusal: string | undefined;

  constructor(
    private readonly ports: Ports,
    private readonly input: IngestInput,
    private readonly dataset: string,
    ingestedAt: Date,
    private readonly idempotencyKey: string,
    private readonly runId: string,
    private readonly config: PipelineConfig,
    private readonly policy: Policy,
    private readonly options: IngestOptions,
  ) {
    this.startedAt = ports.clock.now();
    this.runKey = runKeyFor(ingestedAt, idempotencyKey);
  }

  async execute(): Promise<{ record: RunRecord; contract: DatasetContract | undefined }> {
    try {
      return await this.process();
    } catch (err) {
      if (isTransient(err)) throw err;
      // Permanent: the whole file goes to quarantine with the reason; nothing is published.
      return this.quarantineWholeFile(err as PrivacyPipelineError);
    }
  }

  /** The version every read of this run uses: the one asked for, else the one the first read got. */
  private pinnedVersion: string | undefined;

  private versionOpt(): { versionId: string } | undefined {
    const v = this.input.versionId ?? this.pinnedVersion;
    return v ? { versionId: v } : undefined;
  }

  /** Step 1 of a fan-out (see planIngest): the chunks and the state for the next steps, or a finished run. */
  async planChunks(
    targetBytes: number,
  ): Promise<
    | { kind: 'done'; out: { record: RunRecord; contract: DatasetContract | undefined } }
    | { kind: 'fan-out'; state: Pick<FanOutPlan, 'setup' | 'chunks' | 'inputDigest' | 'suppressedBefore' | 'stages'> }
  > {
    let prepared: Prepared;
    try {
      prepared = await this.prepare();
    } catch (err) {
      if (isTransient(err)) throw err;
      return { kind: 'done', out: await this.quarantineWholeFile(err as PrivacyPipelineError) };
    }
    const { setup, table } = prepared;
    const splittable = setup.format.compression === 'none' && !setup.contract.columns.some((c) => c.unique);
    if (splittable) {
      const chunks: ChunkSpec[] = [];
      let headerEnd = 0;
      const t0 = performance.now();
      if (setup.format.format === 'parquet') chunks.push(...planParquetChunks(table.rowGroups ?? [], targetBytes));
      else {
        await prepared.rowIterator.return?.();
        const { body } = await this.ports.objects.get('ingest', this.input.key, this.versionOpt());
        const onChunk = (c: ChunkSpec, h: number) => {
          chunks.push(c);
          headerEnd = h;
        };
        const summary =
          setup.format.format === 'csv'
            ? await planCsvChunks(body, { delimiter: setup.format.delimiter, targetBytes, onChunk })
            : await planJsonlChunks(body, { targetBytes, onChunk });
        this.inputDigest = { size: summary.size, sha256: summary.sha256 };
      }
      this.stages.plan = performance.now() - t0;
      if (chunks.length > 1) {
        if (prepared.parquetDigest) this.inputDigest = await prepared.parquetDigest;
        const suppressed = await this.ports.suppression.all();
        return {
          kind: 'fan-out',
          state: {
            setup: { ...setup, headerEnd, chunked: true },
            chunks,
            inputDigest: this.inputDigest ?? { size: setup.input.size, sha256: '' },
            suppressedBefore: [...suppressed],
            stages: { ...this.stages },
          },
        };
      }
      if (setup.format.format !== 'parquet') {
        // One chunk: the sequential read was closed for the scan; one pass from the start.
        return {
          kind: 'done',
          out: await this.guard(async () =>
            this.finish(
              setup,
              await this.runSequentialAgain(setup, prepared.keys, prepared.hinted),
              await this.ports.suppression.all(),
              false,
            ),
          ),
        };
      }
    }
    return { kind: 'done', out: await this.guard(() => this.runPrepared(prepared)) };
  }

  /** Step 3 of a fan-out (see finishIngest). */
  async finishFanOut(
    plan: FanOutPlan,
    results: readonly ChunkResult[],
    failure: unknown,
  ): Promise<{ record: RunRecord; contract: DatasetContract | undefined }> {
    const { setup } = plan;
    // The state the plan step decided, restored.
    this.format = setup.format;
    this.contract = setup.contract;
    this.contractSource = setup.contractSource;
    this.contractInferred = setup.contractInferred;
    this.plan = [...setup.plan];
    this.keysUsed.push(...setup.keysUsed);
    this.inputDigest = plan.inputDigest;
    Object.assign(this.stages, plan.stages);
    this.startedAt = new Date(setup.startedAt);
    this.pinnedVersion = setup.input.versionId;
    if (failure !== undefined) {
      // Chunks that succeeded may not have reported (a failed map returns no results): remove
      // every part under the run's key, whoever wrote it (not the workflow's own `_work/`).
      const parts: ObjectDigest[] = results.flatMap((r) => [r.curated, ...(r.quarantine ? [r.quarantine] : [])]);
      for (const bucket of ['curated', 'quarantine'] as const) {
        for await (const o of this.ports.objects.list(bucket, `${this.dataset}/${this.runKey}/`)) {
          if (!o.key.includes('/_work/') && !parts.some((p) => p.bucket === bucket && p.key === o.key)) {
            parts.push({ bucket, key: o.key, size: o.size, sha256: '', role: 'curated' });
          }
        }
      }
      await discardOutputs(this.ports, parts);
      if (isTransient(failure)) throw failure;
      return this.quarantineWholeFile(failure as PrivacyPipelineError);
    }
    const hmacKey = await this.ports.keys.pseudonymKey('token-hmac');
    this.chunks = [...results].sort((a, b) => a.index - b.index).map((r) => ({ index: r.index, rows: r.rowsIn }));
    if (results.length !== plan.chunks.length || this.chunks.some((c, i) => c.index !== i)) {
      throw new TransientError(`${this.input.key}: ${results.length} chunk results for ${plan.chunks.length} chunks`, {
        file: this.input.key,
        rule: 'chunk-results',
      });
    }
    const merged = mergeChunks(setup, hmacKey, results);
    return this.guard(() => this.finish(setup, merged, new Set(plan.suppressedBefore), true), merged);
  }

  /** Permanent errors end in a whole-file quarantine (after removing what the chunks wrote). */
  private async guard(
    fn: () => Promise<{ record: RunRecord; contract: DatasetContract | undefined }>,
    merged?: MergedChunks,
  ): Promise<{ record: RunRecord; contract: DatasetContract | undefined }> {
    try {
      return await fn();
    } catch (err) {
      if (isTransient(err)) throw err;
      if (merged) await discardOutputs(this.ports, [...merged.curatedParts, ...merged.quarantineParts]);
      return this.quarantineWholeFile(err as PrivacyPipelineError);
    }
  }

  private async process(): Promise<{ record: RunRecord; contract: DatasetContract }> {
    return this.runPrepared(await this.prepare());
  }

  /** Opens the input, samples it, resolves the contract, plans the columns and loads the keys. */
  private async prepare(): Promise<Prepared> {
    const { ports, dataset, input } = this;
    const t0 = performance.now();
    const object = await ports.objects.get('ingest', input.key, this.versionOpt());
    const hinted = formatFromKey(input.key);
    const isParquet = hinted?.format === 'parquet';
    const source = digesting(object.body, this.options.onProgress);
    // Later reads (chunks, their byte ranges, a second pass) must see these very bytes, even if
    // the key is overwritten meanwhile: pin the version this read got.
    this.pinnedVersion ??= object.info.versionId;
    const pinned = this.versionOpt()?.versionId;
    const inputRef = { key: input.key, ...(pinned ? { versionId: pinned } : {}), size: object.info.size };
    // Parquet is read by range (footer first); its digest comes from one sequential read beside it.
    const parquetDigest = isParquet ? drainDigest(source) : undefined;
    parquetDigest?.catch(() => undefined);
    const table: DecodedTable = await decodeTable(isParquet ? emptyBody() : source.bytes, {
      fileName: input.key,
      ...(hinted ? { format: hinted.format, compression: hinted.compression } : {}),
      ...(isParquet ? { random: inputRandomAccess(ports, { input: inputRef } as RunSetup) } : {}),
    });
    this.format = table.format;
    const columns = table.columns;
    checkHeaderNames(columns, input.key);

    // Bounded sample: contract inference and column classification look at the first rows only.
    const rowIterator = table.rows[Symbol.asyncIterator]();
    const sample: Row[] = [];
    while (sample.length < this.config.sampleRows) {
      const next = await rowIterator.next();
      if (next.done) break;
      sample.push(next.value);
    }

    const contract = await this.resolveContract(columns, sample);
    this.contract = contract;
    checkHeader(contract, columns, input.key);
    validateQueries(contract.aggregates, columns);

    this.plan = failClosed('detection', input.key, () =>
      classifyColumns(sampleColumns(columns, sample), {
        contract,
        policy: this.policy,
        defaultRegion: contract.defaultRegion ?? this.config.defaultRegion,
      }),
    );
    const hmacKey = await ports.keys.pseudonymKey('token-hmac');
    const sivKey = await ports.keys.pseudonymKey('token-siv');
    this.keysUsed.push(hmacKey.ref, sivKey.ref);
    if (ports.keys.describeDataKey) this.keysUsed.push(await ports.keys.describeDataKey());
    const keys: RunKeys = { hmacKey, sivKey };
    const setup: RunSetup = {
      runId: this.runId,
      dataset,
      runKey: this.runKey,
      idempotencyKey: this.idempotencyKey,
      input: inputRef,
      format: table.format,
      columns,
      ...(table.columnTypes ? { columnTypes: table.columnTypes } : {}),
      contract,
      contractSource: this.contractSource,
      contractInferred: this.contractInferred,
      plan: this.plan,
      policy: this.policy,
      config: this.config,
      quasiIdentifiers: contract.quasiIdentifiers ?? inferQuasiIdentifiers(this.plan),
      keysUsed: [...this.keysUsed],
      startedAt: this.startedAt.toISOString(),
      headerEnd: 0,
      chunked: false,
    };
    this.stages.prepare = performance.now() - t0;
    return { setup, keys, table, rowIterator, sample, source, parquetDigest, hinted };
  }

  /** Runs a prepared run: in parallel chunks when the options allow it, else in one pass. */
  private async runPrepared(prepared: Prepared): Promise<{ record: RunRecord; contract: DatasetContract }> {
    const { ports, dataset } = this;
    const { setup, keys, table, rowIterator, sample, source, parquetDigest, hinted } = prepared;
    const { hmacKey } = keys;
    const isParquet = setup.format.format === 'parquet';
    const t1 = performance.now();
    const parallel = this.parallelPlan(setup, table);
    let merged: MergedChunks;
    let suppressedBefore: ReadonlySet<string>;
    if (parallel) {
      // Workers read their own byte ranges: this sequential read is not needed any more.
      await rowIterator.return?.();
      sample.length = 0;
      suppressedBefore = await ports.suppression.all();
      try {
        merged = await this.runChunks(setup, keys, table, parallel);
      } catch (err) {
        if (!(err instanceof ChunkBoundaryError)) throw err;
        // The plan and the decoder disagree about a record boundary: trust the decoder.
        ports.logger.warn('chunk plan rejected by the decoder; processing the file in one pass', { runId: this.runId, dataset });
        merged = await this.runSequentialAgain({ ...setup, chunked: false }, keys, hinted);
      }
    } else {
      const ctx = await createRunContext(ports, setup, keys);
      suppressedBefore = ctx.suppressed;
      const outcome = await processChunkRows(ports, ctx, prepend(sample, rowIterator), 0);
      merged = mergeChunks(setup, hmacKey, [outcome]);
      if (!isParquet) this.inputDigest = source.digest();
    }
    if (parquetDigest) this.inputDigest = await parquetDigest;
    this.stages.stream = performance.now() - t1;
    return this.finish(setup, merged, suppressedBefore, parallel !== undefined);
  }

  /** Whether and how this file runs as parallel chunks. */
  private parallelPlan(setup: RunSetup, table: DecodedTable): { executor: ChunkExecutor; targetBytes: number | ChunkSizer } | undefined {
    const par = this.options.parallel;
    if (!par || par.executor.concurrency < 1) return undefined;
    // A gzip stream cannot be split; uniqueness spans the whole file (one pass keeps the set).
    if (setup.format.compression !== 'none' || setup.contract.columns.some((c) => c.unique)) return undefined;
    const size = setup.input.size;
    const targetBytes = par.targetChunkBytes ?? targetChunkBytes(size, par.executor.concurrency);
    if (setup.format.format === 'parquet') {
      return planParquetChunks(table.rowGroups ?? [], targetBytes).length > 1 ? { executor: par.executor, targetBytes } : undefined;
    }
    if (size < (par.minBytes ?? 2 * targetBytes)) return undefined;
    // Without a chosen size, chunks shrink towards the end of the file so the slots finish together.
    return { executor: par.executor, targetBytes: par.targetChunkBytes ?? guidedChunkBytes(size, par.executor.concurrency) };
  }

  /**
   * Plans the chunks while dispatching them to the executor (workers start while the scan goes
   * on) and merges their results. The scan never waits for a free slot: found chunks queue (a
   * few numbers each) and go to the next free slot, so the plan of a whole file takes one quick
   * read and every slot always has a chunk ready. Slots on this thread (`inThreadSlots`) join
   * once the scan is over; sharing the thread with a chunk slowed the scan down to the chunk's
   * pace and kept the workers waiting for their next chunk. On any failure, every chunk's
   * output is removed before the error is rethrown (a ChunkBoundaryError first, so the caller
   * can fall back).
   */
  private async runChunks(
    base: RunSetup,
    keys: RunKeys,
    table: DecodedTable,
    parallel: { executor: ChunkExecutor; targetBytes: number | ChunkSizer },
  ): Promise<MergedChunks> {
    const { ports } = this;
    const { executor, targetBytes } = parallel;
    const started: Promise<ChunkResult>[] = [];
    const queue: ChunkSpec[] = [];
    let inFlight = 0;
    let planning = true;
    let failed = false;
    let setup: RunSetup | undefined;
    let bytesDone = 0;
    let drained: (() => void) | undefined;
    const slots = () => (planning ? Math.max(1, executor.concurrency - (executor.inThreadSlots ?? 0)) : executor.concurrency);
    const pump = (): void => {
      while (!failed && inFlight < slots()) {
        const chunk = queue.shift();
        if (!chunk) break;
        inFlight++;
        const run = executor.run(setup ?? base, chunk);
        started.push(run);
        run
          .then(
            () => {
              bytesDone += chunk.end - chunk.start;
              if (base.format.format !== 'parquet') this.options.onProgress?.(bytesDone);
            },
            () => {
              failed = true;
            },
          )
          .finally(() => {
            inFlight--;
            pump();
            if (!planning && inFlight === 0 && (failed || queue.length === 0)) drained?.();
          });
      }
    };
    const found = (chunk: ChunkSpec, headerEnd: number): void => {
      if (failed) throw STOP_PLANNING;
      setup ??= { ...base, headerEnd, chunked: true };
      queue.push(chunk);
      pump();
    };
    let planError: unknown;
    try {
      if (base.format.format === 'parquet') {
        const groups = planParquetChunks(table.rowGroups ?? [], typeof targetBytes === 'number' ? targetBytes : targetBytes(0));
        for (const chunk of groups) found(chunk, 0);
      } else {
        const { body } = await ports.objects.get('ingest', base.input.key, this.versionOpt());
        const plan =
          base.format.format === 'csv'
            ? await planCsvChunks(body, { delimiter: base.format.delimiter, targetBytes, onChunk: found })
            : await planJsonlChunks(body, { targetBytes, onChunk: found });
        this.inputDigest = { size: plan.size, sha256: plan.sha256 };
      }
    } catch (err) {
      if (err !== STOP_PLANNING) planError = err;
    }
    if (planError !== undefined) failed = true;
    const allDone = new Promise<void>((resolve) => {
      drained = resolve;
    });
    planning = false;
    pump();
    if (inFlight > 0) await allDone;
    const settled = await Promise.allSettled(started);
    const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    if (planError !== undefined || errors.length > 0) {
      const written = settled.flatMap((s) =>
        s.status === 'fulfilled' ? [s.value.curated, ...(s.value.quarantine ? [s.value.quarantine] : [])] : [],
      );
      await discardOutputs(ports, written);
      throw errors.find((e) => e instanceof ChunkBoundaryError) ?? planError ?? errors[0];
    }
    const done = settled.map((s) => (s as PromiseFulfilledResult<ChunkResult>).value).sort((a, b) => a.index - b.index);
    this.chunks = done.map((r) => ({ index: r.index, rows: r.rowsIn }));
    return mergeChunks(setup ?? base, keys.hmacKey, done);
  }

  /** One sequential pass from the start of the object (after a rejected chunk plan). */
  private async runSequentialAgain(setup: RunSetup, keys: RunKeys, hinted: ReturnType<typeof formatFromKey>): Promise<MergedChunks> {
    const { ports, input } = this;
    const object = await ports.objects.get('ingest', input.key, this.versionOpt());
    const source = digesting(object.body);
    const table = await decodeTable(source.bytes, {
      fileName: input.key,
      ...(hinted ? { format: hinted.format, compression: hinted.compression } : {}),
    });
    const ctx = await createRunContext(ports, setup, keys);
    const outcome = await processChunkRows(ports, ctx, table.rows, 0);
    this.inputDigest = source.digest();
    this.chunks = undefined;
    return mergeChunks(setup, keys.hmacKey, [outcome]);
  }

  /** File-level verdicts that need the whole file, then indexes, DP releases and the manifest. */
  private async finish(
    setup: RunSetup,
    merged: MergedChunks,
    suppressedBefore: ReadonlySet<string>,
    parallel: boolean,
  ): Promise<{ record: RunRecord; contract: DatasetContract }> {
    const { dataset, runKey, contract } = setup;
    this.rowsIn = merged.rowsIn;
    this.rowsPublished = merged.rowsPublished;
    this.rowsQuarantined = merged.rowsQuarantined;
    this.rowsSuppressed = merged.rowsSuppressed;
    this.quarantineReasons = merged.quarantineReasons;
    this.reportIssues = merged.reportIssues;
    if (!parallel) this.chunks = undefined;
    const { acc } = merged;
    const outputs: ObjectDigest[] = [...merged.curatedParts, ...merged.quarantineParts];

    const maxShare = contract.maxInvalidRowShare ?? this.config.maxInvalidRowShare;
    if (this.rowsIn === 0) {
      await discardOutputs(this.ports, outputs);
      throw new InvalidFileError(`${this.input.key}: the file has a header but no data rows`, { file: this.input.key, rule: 'no-rows' });
    }
    if (this.rowsQuarantined / this.rowsIn > maxShare) {
      await discardOutputs(this.ports, outputs);
      throw new InvalidFileError(
        `${this.input.key}: ${this.rowsQuarantined} of ${this.rowsIn} rows break the contract ` +
          `(${pct(this.rowsQuarantined / this.rowsIn)} > ${pct(maxShare)}); most common rule: ${mostCommon(this.quarantineReasons)}`,
        { file: this.input.key, rule: 'invalid-row-share' },
      );
    }
    const profiles = acc.profile.finish();
    const drift = await this.drift(profiles, contract);
    if (drift.length > 0 && contract.drift?.fail) {
      await discardOutputs(this.ports, outputs);
      throw new InvalidFileError(`${this.input.key}: drift detected in ${drift.map((d) => `${d.column} (${d.metric})`).join(', ')}`, {
        file: this.input.key,
        rule: 'drift',
      });
    }
    const risk: RiskReport | undefined = acc.kAnonymity?.report(contract.kAnonymity?.k ?? 5, contract.kAnonymity?.action ?? 'report');

    // Indexes for erasure, then DP releases, then the manifest that marks the run as published.
    const curatedIndexBytes = acc.curatedIndex.finish();
    const quarantineIndexBytes = acc.quarantineIndex.finish();
    await this.recheckSuppression(suppressedBefore, curatedIndexBytes, quarantineIndexBytes);
    outputs.push(await this.putIndex('curated', outputKeys.curatedIndex(dataset, runKey), curatedIndexBytes, acc.curatedIndex.count, true));
    if (merged.quarantineParts.length > 0) {
      outputs.push(
        await this.putIndex(
          'quarantine',
          outputKeys.quarantineIndex(dataset, runKey),
          quarantineIndexBytes,
          acc.quarantineIndex.count,
          merged.quarantineIndexExhaustive,
        ),
      );
      outputs.push(await this.putReport(undefined));
    }
    const budget: BudgetSpend[] = [];
    if (acc.aggregator) {
      // Noise is added once, to the merged exact aggregates of every chunk.
      const released = await this.release(acc.aggregator, contract);
      if (released) {
        budget.push(released.spend);
        outputs.push(...released.outputs);
      }
    }
    const record = this.record('COMPLETE', outputs, {
      profiles,
      drift,
      budget,
      ...(risk ? { risk } : {}),
      formulaCells: merged.formulaCellsNeutralised,
    });
    outputs.push(await this.putManifest(record));
    return { record: { ...record, outputs }, contract };
  }

  /**
   * An erasure may have started while this run streamed. If a subject it suppressed since then
   * may be in this run's output, the run is retried from the start (nothing is committed yet),
   * and the retry drops their rows. Runs that commit earlier are found by the erasure's own passes.
   */
  private async recheckSuppression(before: ReadonlySet<string>, curatedIndex: Uint8Array, quarantineIndex: Uint8Array): Promise<void> {
    const now = await this.ports.suppression.all();
    if (now.size === before.size) return;
    const added = [...now].filter((t) => !before.has(t));
    if (subjectIndexMayContainAny(curatedIndex, added) || subjectIndexMayContainAny(quarantineIndex, added)) {
      throw new TransientError('an erasure request arrived while this file was processed; retrying so it applies', {
        file: this.input.key,
        rule: 'erasure-during-ingest',
      });
    }
  }

  private async resolveContract(columns: readonly string[], sample: readonly Row[]): Promise<DatasetContract> {
    const given = this.input.contract ?? (await this.ports.contracts.get(this.dataset));
    if (given) {
      const contract = parseContract(given.text, given.source);
      if (contract.dataset !== this.dataset) {
        throw new ContractError(`${given.source}: contract is for dataset '${contract.dataset}', the file belongs to '${this.dataset}'`, {
          file: this.input.key,
          rule: 'contract-dataset',
        });
      }
      this.contractSource = given.source;
      this.contractInferred = false;
      return contract;
    }
    return inferContract(this.dataset, columns, sample);
  }

  private async drift(profiles: readonly ColumnProfile[], contract: DatasetContract): Promise<DriftFinding[]> {
    const previous: ColumnProfile[][] = [];
    for await (const r of this.ports.lineage.list({ dataset: this.dataset, kind: 'run' })) {
      const run = r as unknown as RunRecord;
      if (run.status === 'COMPLETE' && run.profile.length > 0) previous.push([...run.profile]);
    }
    if (previous.length === 0) return [];
    return detectDrift(profiles, previous.slice(-PREVIOUS_PROFILES_FOR_DRIFT), {
      ...(contract.drift?.nullShareDelta !== undefined ? { nullShareDelta: contract.drift.nullShareDelta } : {}),
      ...(contract.drift?.meanShiftSigmas !== undefined ? { meanShiftSigmas: contract.drift.meanShiftSigmas } : {}),
    });
  }

  private async release(
    aggregator: Aggregator,
    contract: DatasetContract,
  ): Promise<{ spend: BudgetSpend; outputs: ObjectDigest[] } | undefined> {
    const releaseId = `${this.runId}-ingest`;
    try {
      const result = await publishAggregates(this.ports, {
        dataset: this.dataset,
        releaseId,
        amount: budgetFor(contract.aggregates),
        total: contract.privacyBudget ?? DEFAULT_PRIVACY_BUDGET,
        release: () => releaseAggregates(aggregator, this.ports.random),
        keys: {
          json: outputKeys.aggregates(this.dataset, this.runKey, 'json'),
          csv: outputKeys.aggregates(this.dataset, this.runKey, 'csv'),
        },
        runId: this.runId,
      });
      return { spend: result.spend, outputs: result.outputs };
    } catch (err) {
      // The data is still published; only the releases are refused, and lineage says why.
      if (!(err instanceof PrivacyBudgetExceededError)) throw err;
      this.ports.logger.warn('aggregates not released: privacy budget exceeded', { dataset: this.dataset, runId: this.runId });
      this.budgetRefusal = err.message;
      return undefined;
    }
  }

  private putDigest(
    bucket: 'curated' | 'quarantine' | 'aggregates',
    key: string,
    body: AsyncIterable<Uint8Array> | Uint8Array,
    role: ObjectDigest['role'],
    contentType: string,
  ): Promise<ObjectDigest> {
    return putDigest(this.ports, { runId: this.runId, dataset: this.dataset }, bucket, key, body, role, contentType);
  }

  private async putIndex(
    bucket: 'curated' | 'quarantine',
    key: string,
    bytes: Uint8Array,
    tokens: number,
    exhaustive: boolean,
  ): Promise<ObjectDigest> {
    const digest = await this.putDigest(bucket, key, bytes, 'subject-index', 'application/octet-stream');
    return { ...digest, rows: tokens, exhaustive };
  }

  private async putReport(error: PrivacyPipelineError | undefined): Promise<ObjectDigest> {
    const report = {
      runId: this.runId,
      dataset: this.dataset,
      input: this.input.key,
      ...(error ? { fileError: { class: error.name, rule: error.context.rule ?? 'unknown', message: error.message } } : {}),
      rowsQuarantined: this.rowsQuarantined,
      reasons: this.quarantineReasons,
      issues: this.reportIssues,
      issuesTruncated: this.rowsQuarantined > this.reportIssues.length,
    };
    const bytes = new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`);
    return this.putDigest(
      'quarantine',
      outputKeys.quarantineReport(this.dataset, this.runKey),
      bytes,
      'quarantine-report',
      'application/json',
    );
  }

  private async putManifest(record: RunRecord): Promise<ObjectDigest> {
    const manifest = {
      runId: record.id,
      dataset: record.dataset,
      runKey: record.runKey,
      status: record.status,
      counts: record.counts,
      outputs: record.outputs,
    };
    const bytes = new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
    return this.putDigest('curated', outputKeys.manifest(this.dataset, this.runKey), bytes, 'manifest', 'application/json');
  }

  private async quarantineWholeFile(error: PrivacyPipelineError): Promise<{ record: RunRecord; contract: DatasetContract | undefined }> {
    const { ports, dataset, input } = this;
    // Rows already counted as published are now quarantined with the file.
    this.rowsQuarantined = this.rowsIn;
    this.rowsPublished = 0;
    this.rowsSuppressed = 0;
    const rule = typeof error.context.rule === 'string' ? error.context.rule : error.name;
    const outputs: ObjectDigest[] = [];
    try {
      const object = await ports.objects.get('ingest', input.key, input.versionId ? { versionId: input.versionId } : undefined);
      const copy = digesting(object.body);
      const key = outputKeys.quarantineFile(dataset, this.runKey, baseName(input.key));
      const info = await ports.objects.put('quarantine', key, copy.bytes, {
        contentType: 'application/octet-stream',
        metadata: { 'pp-run-id': this.runId, 'pp-dataset': dataset, 'pp-rule': rule },
        encryptionContext: { dataset },
      });
      const d = copy.digest();
      this.inputDigest ??= d;
      outputs.push({
        bucket: 'quarantine',
        key,
        size: d.size,
        sha256: d.sha256,
        role: 'quarantine-file',
        rows: this.rowsIn,
        ...(info.versionId ? { versionId: info.versionId } : {}),
      });
      outputs.push(await this.putReport(error));
    } catch (copyError) {
      // Not even the raw copy could be made: say so; the input stays in the ingest bucket.
      if (isTransient(copyError)) throw copyError;
      return { record: this.record('FAILED', outputs, { error }), contract: this.contract };
    }
    return { record: this.record('QUARANTINED', outputs, { error }), contract: this.contract };
  }

  private record(
    status: RunStatus,
    outputs: ObjectDigest[],
    extra: {
      profiles?: ColumnProfile[];
      drift?: DriftFinding[];
      budget?: BudgetSpend[];
      risk?: RiskReport;
      error?: PrivacyPipelineError;
      formulaCells?: number;
    },
  ): RunRecord {
    const endedAt = this.ports.clock.now();
    const counts = {
      rowsIn: this.rowsIn,
      rowsPublished: this.rowsPublished,
      rowsQuarantined: this.rowsQuarantined,
      rowsSuppressed: this.rowsSuppressed,
      rowsKSuppressed: 0,
    };
    const conserved = counts.rowsIn === counts.rowsPublished + counts.rowsQuarantined + counts.rowsSuppressed + counts.rowsKSuppressed;
    const format = this.format ?? {
      format: formatFromKey(this.input.key)?.format ?? 'csv',
      compression: formatFromKey(this.input.key)?.compression ?? 'none',
    };
    const contract = this.contract;
    const error = extra.error;
    return {
      id: this.runId,
      kind: 'run',
      dataset: this.dataset,
      at: endedAt.toISOString(),
      status,
      idempotencyKey: this.idempotencyKey,
      runKey: this.runKey,
      input: {
        bucket: 'ingest',
        key: this.input.key,
        size: this.inputDigest?.size ?? 0,
        sha256: this.inputDigest?.sha256 ?? '',
        role: 'input',
        rows: this.rowsIn,
        format: format.format,
        compression: format.compression,
        ...(this.input.versionId ? { versionId: this.input.versionId } : {}),
      },
      contract: contract
        ? {
            hash: contractHash(contract),
            source: this.contractSource,
            inferred: this.contractInferred,
            version: contract.version,
            body: contract,
          }
        : { hash: '', source: this.contractSource, inferred: this.contractInferred },
      policy: { hash: policyHash(this.policy), version: this.policy.version },
      plan: this.plan,
      counts: { ...counts, conserved },
      outputs,
      keys: this.keysUsed,
      budget: extra.budget ?? [],
      profile: extra.profiles ?? [],
      drift: extra.drift ?? [],
      ...(extra.risk ? { risk: extra.risk } : {}),
      quarantineReasons: this.quarantineReasons,
      formulaCellsNeutralised: extra.formulaCells ?? 0,
      codeVersion: this.config.codeVersion,
      timings: {
        startedAt: this.startedAt.toISOString(),
        endedAt: endedAt.toISOString(),
        ms: endedAt.getTime() - this.startedAt.getTime(),
        stages: this.stages,
      },
      ...(error
        ? {
            error: {
              class: error.name,
              message: error.message,
              ...(typeof error.context.rule === 'string' ? { rule: error.context.rule } : {}),
            },
          }
        : {}),
      ...(this.budgetRefusal ? { budgetRefusal: this.budgetRefusal } : {}),
      ...(this.chunks ? { chunks: this.chunks } : {}),
    } as RunRecord;
  }
}

function sampleColumns(columns: readonly string[], sample: readonly Row[]) {
  return columns.map((name, i) => {
    const values: string[] = [];
    for (const row of sample) {
      if (row.issue) continue;
      const v = row.cells[i];
      if (v === null || v === undefined || v === '') continue;
      values.push(typeof v === 'string' ? v : String(v));
    }
    return { name, values };
  });
}

/** The sample rows, then the rest of the stream; releases the stream when the consumer stops. */
async function* prepend(first: Row[], rest: AsyncIterator<Row>): AsyncGenerator<Row> {
  try {
    for (const row of first) yield row;
    first.length = 0;
    for (;;) {
      const next = await rest.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await rest.return?.();
  }
}

/** Reads a digesting stream to its end (Parquet inputs are decoded by range, not from it). */
async function drainDigest(source: ReturnType<typeof digesting>): Promise<{ size: number; sha256: string }> {
  for await (const _ of source.bytes) {
    // only the digest is wanted
  }
  return source.digest();
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function mostCommon(reasons: Readonly<Record<string, number>>): string {
  let best = 'none';
  let n = -1;
  for (const [rule, count] of Object.entries(reasons)) {
    if (count > n) {
      best = rule;
      n = count;
    }
  }
  return best;
}
