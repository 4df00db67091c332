/**
 * The ingest use case: one object from the ingest bucket, one streaming pass.
 *
 *   decode → sample → contract → classify → for each row: validate → pseudonymise → suppress
 *   erased subjects → index subjects → profile → aggregate → encode → put
 *
 * Permanent problems (bad file, bad rows, contract breaches) end in quarantine and a lineage
 * record, and the call returns normally. Transient ones (storage, keys) are rethrown so the
 * platform retries; an idempotency claim makes retries publish exactly once.
 */
import { createHash } from 'node:crypto';
import { decodeTable, type DecodedTable } from '../codecs/decode-table.ts';
import { encodeTable } from '../codecs/encode-table.ts';
import type { FileFormat } from '../codecs/file-format.ts';
import { formatFromKey } from '../codecs/file-format.ts';
import { DEFAULT_PRIVACY_BUDGET, type DatasetContract } from '../contract/contract-schema.ts';
import { inferContract } from '../contract/infer-contract.ts';
import { contractHash, parseContract } from '../contract/parse-contract.ts';
import { checkHeader, createRowValidator } from '../contract/row-validator.ts';
import { checkHeaderNames } from '../detect/check-header-names.ts';
import { classifyColumns } from '../detect/classify-columns.ts';
import { inferQuasiIdentifiers, KAnonymityCounter } from '../detect/k-anonymity.ts';
import { Aggregator, budgetFor, releaseAggregates, validateQueries } from '../dp/aggregator.ts';
import { SubjectIndexBuilder, subjectIndexMayContainAny } from '../erasure/subject-index.ts';
import {
  ConflictError,
  ContractError,
  InProgressError,
  InvalidFileError,
  isTransient,
  PrivacyBudgetExceededError,
  PrivacyPipelineError,
  type RowIssue,
  SanitisationError,
  TransientError,
} from '../errors.ts';
import type { BudgetSpend, ColumnProfile, DriftFinding, ObjectDigest, RiskReport, RunRecord, RunStatus } from '../lineage/run-record.ts';
import type { Ports } from '../ports.ts';
import { DEFAULT_POLICY, type Policy, policyHash } from '../pseudonymise/policy.ts';
import { createRowTransformer } from '../pseudonymise/row-transformer.ts';
import { detectDrift } from '../quality/drift.ts';
import { ProfileBuilder } from '../quality/profile-builder.ts';
import type { Cell, ColumnDecision, KeyRef, Row } from '../types.ts';
import { Channel } from './channel.ts';
import { digesting, sha256Hex } from './digest.ts';
import { DEFAULT_PIPELINE_CONFIG, type IngestInput, type IngestOptions, type IngestResult, type PipelineConfig } from './ingest-types.ts';
import { baseName, datasetFromKey, extensionFor, outputKeys, runKeyFor } from './object-keys.ts';
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

export async function ingestObject(ports: Ports, input: IngestInput, options: IngestOptions = {}): Promise<IngestResult> {
  const config: PipelineConfig = { ...DEFAULT_PIPELINE_CONFIG, ...options.config };
  const policy = options.policy ?? DEFAULT_POLICY;
  const dataset = input.dataset ?? datasetFromKey(input.key);

  const head = await ports.objects.head('ingest', input.key);
  if (!head) throw new PrivacyPipelineError('input object not found', { file: input.key, rule: 'not-found' });
  if (head.metadata[ORIGIN_METADATA] === 'erasure') {
    // Erasure rewrote this raw object in place; its rows were already published (or removed).
    return { status: 'SKIPPED', duplicate: true, record: skippedRecord(dataset, input, head.lastModified, ports), contract: undefined };
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
    return { status: 'SKIPPED', duplicate: true, record: previous, contract: previous.contract.body as DatasetContract | undefined };
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
      return { status: 'SKIPPED', duplicate: true, record: committed, contract: committed.contract.body as DatasetContract | undefined };
    }
    const run = new IngestRun(ports, input, dataset, head.lastModified, idempotencyKey, runId, config, policy, options);
    const { record, contract } = await run.execute();
    try {
      await ports.lineage.append(record as unknown as Parameters<Ports['lineage']['append']>[0]);
    } catch (err) {
      // A retry after a crash between the lineage write and the claim completion.
      if (!(err instanceof ConflictError)) throw err;
    }
    await ports.idempotency.complete(idempotencyKey, owner, { runId, status: record.status });
    ports.logger.info('run finished', { runId, dataset, status: record.status, rowsIn: record.counts.rowsIn });
    return { status: record.status, record, duplicate: false, contract };
  } catch (err) {
    await ports.idempotency.release(idempotencyKey, owner).catch(() => undefined);
    throw err;
  }
}

interface QuarantineSink {
  readonly channel: Channel<string>;
  readonly done: Promise<ObjectDigest>;
}

/** State of one run. Split out so the stages read top to bottom. */
class IngestRun {
  private readonly startedAt: Date;
  private readonly runKey: string;
  private readonly stages: Record<string, number> = {};
  private readonly keysUsed: KeyRef[] = [];
  private readonly quarantineReasons: Record<string, number> = {};
  private readonly reportIssues: RowIssue[] = [];
  private format: FileFormat | undefined;
  private contract: DatasetContract | undefined;
  private contractSource = 'inferred';
  private contractInferred = true;
  private plan: ColumnDecision[] = [];
  private rowsIn = 0;
  private rowsPublished = 0;
  private rowsQuarantined = 0;
  private rowsSuppressed = 0;
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

  private async process(): Promise<{ record: RunRecord; contract: DatasetContract }> {
    const { ports, dataset, input } = this;
    const t0 = performance.now();
    const object = await ports.objects.get('ingest', input.key, input.versionId ? { versionId: input.versionId } : undefined);
    const hinted = formatFromKey(input.key);
    const source = digesting(object.body, this.options.onProgress);
    const table: DecodedTable = await decodeTable(source.bytes, {
      fileName: input.key,
      ...(hinted ? { format: hinted.format, compression: hinted.compression } : {}),
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
    const validator = createRowValidator(contract, columns);

    this.plan = classifyColumns(sampleColumns(columns, sample), {
      contract,
      policy: this.policy,
      defaultRegion: contract.defaultRegion ?? this.config.defaultRegion,
    });
    const hmacKey = await ports.keys.pseudonymKey('token-hmac');
    const sivKey = await ports.keys.pseudonymKey('token-siv');
    this.keysUsed.push(hmacKey.ref, sivKey.ref);
    if (ports.keys.describeDataKey) this.keysUsed.push(await ports.keys.describeDataKey());
    const transformer = createRowTransformer(columns, this.plan, {
      hmacKey,
      sivKey,
      policy: this.policy,
      defaultRegion: contract.defaultRegion ?? this.config.defaultRegion,
      ...(contract.regionColumn ? { regionColumn: contract.regionColumn } : {}),
    });
    const suppressed = await ports.suppression.all();
    const piiColumns = new Set(this.plan.filter((d) => d.entity !== null && d.entity !== 'FREE_TEXT').map((d) => d.column));
    const profile = new ProfileBuilder(columns, { piiColumns });
    const aggregator =
      contract.aggregates.length > 0
        ? new Aggregator({
            columns,
            queries: contract.aggregates,
            integerColumns: contract.columns.filter((c) => c.type === 'integer').map((c) => c.name),
            subjectHashKey: hmacKey.material,
            ...(contract.subjectKey ? { subjectKey: contract.subjectKey } : {}),
            ...(contract.privacyUnit ? { privacyUnit: contract.privacyUnit } : {}),
          })
        : undefined;
    const quasiIdentifiers = contract.quasiIdentifiers ?? inferQuasiIdentifiers(this.plan);
    const kAnonymity = quasiIdentifiers.length > 0 ? new KAnonymityCounter(columns, quasiIdentifiers) : undefined;
    const curatedIndex = new SubjectIndexBuilder();
    const quarantineIndex = new SubjectIndexBuilder();
    let quarantineIndexExhaustive = true;
    this.stages.prepare = performance.now() - t0;

    // Outputs are written while rows stream; a failure aborts them (no partial object is visible).
    const outFormat = table.format;
    const curatedKey = outputKeys.curatedPart(dataset, this.runKey, extensionFor(outFormat.format, outFormat.compression));
    const curated = new Channel<Cell[]>(2048);
    const encoded = encodeTable(transformer.outputColumns, curated, outFormat, { neutraliseFormulas: this.config.neutraliseFormulas });
    const curatedDone = this.putDigest('curated', curatedKey, encoded.bytes, 'curated', contentTypeOf(outFormat));
    // A write that fails without reading its body (store or key service refusing up front) must
    // stop the producer, or the row loop waits forever on a full channel; this also handles the
    // rejection before the loop ends (an unhandled rejection would crash the process).
    curatedDone.catch((err: unknown) => curated.fail(err));
    let quarantine: QuarantineSink | undefined;
    const tokens: string[] = [];

    const quarantineRow = async (row: Row, issues: readonly RowIssue[]) => {
      this.rowsQuarantined++;
      for (const issue of issues) {
        this.quarantineReasons[issue.rule] = (this.quarantineReasons[issue.rule] ?? 0) + 1;
        if (this.reportIssues.length < 10_000) this.reportIssues.push(issue);
      }
      // Index the row's subject tokens too, so erasure finds quarantined copies.
      tokens.length = 0;
      try {
        if (row.raw === undefined) transformer.transform(row.cells, tokens);
        else quarantineIndexExhaustive = false;
      } catch {
        quarantineIndexExhaustive = false;
      }
      for (const t of tokens) quarantineIndex.add(t);
      quarantine ??= this.openQuarantineSink();
      await quarantine.channel.push(quarantineLine(columns, row, issues));
    };

    const t1 = performance.now();
    try {
      const process = async (row: Row) => {
        this.rowsIn++;
        const issues = validator.validate(row);
        if (issues.length > 0) return quarantineRow(row, issues);
        tokens.length = 0;
        let out: Cell[];
        try {
          out = transformer.transform(row.cells, tokens);
        } catch (err) {
          // Fail closed: a row we cannot sanitise is never published as it came.
          if (!(err instanceof SanitisationError)) throw err;
          const column = typeof err.context.column === 'string' ? err.context.column : undefined;
          return quarantineRow(row, [{ row: row.rowNumber, rule: 'sanitisation', message: err.message, ...(column ? { column } : {}) }]);
        }
        if (suppressed.size > 0 && tokens.some((t) => suppressed.has(t))) {
          this.rowsSuppressed++;
          return;
        }
        for (const t of tokens) curatedIndex.add(t);
        profile.add(row.cells);
        aggregator?.add(row.cells);
        kAnonymity?.add(row.cells);
        this.rowsPublished++;
        const pending = curated.push(out);
        if (pending) await pending;
      };
      for (const row of sample) await process(row);
      sample.length = 0;
      for (;;) {
        const next = await rowIterator.next();
        if (next.done) break;
        await process(next.value);
      }
      curated.close();
      quarantine?.channel.close();
    } catch (err) {
      curated.fail(err);
      quarantine?.channel.fail(err);
      // Release the input too (an S3 socket, a file handle) when the failure came from a writer.
      await Promise.allSettled([curatedDone, quarantine?.done, rowIterator.return?.()]);
      throw err;
    }
    const curatedDigest = await curatedDone;
    const quarantineDigest = quarantine ? await quarantine.done : undefined;
    this.inputDigest = source.digest();
    this.stages.stream = performance.now() - t1;

    const outputs: ObjectDigest[] = [{ ...curatedDigest, rows: this.rowsPublished }];
    if (quarantineDigest) outputs.push({ ...quarantineDigest, rows: this.rowsQuarantined });

    // File-level verdicts that need the whole file.
    const maxShare = contract.maxInvalidRowShare ?? this.config.maxInvalidRowShare;
    if (this.rowsIn === 0) {
      await this.discard(outputs);
      throw new InvalidFileError(`${this.input.key}: the file has a header but no data rows`, { file: this.input.key, rule: 'no-rows' });
    }
    if (this.rowsQuarantined / this.rowsIn > maxShare) {
      await this.discard(outputs);
      throw new InvalidFileError(
        `${this.input.key}: ${this.rowsQuarantined} of ${this.rowsIn} rows break the contract ` +
          `(${pct(this.rowsQuarantined / this.rowsIn)} > ${pct(maxShare)}); most common rule: ${mostCommon(this.quarantineReasons)}`,
        { file: this.input.key, rule: 'invalid-row-share' },
      );
    }
    const profiles = profile.finish();
    const drift = await this.drift(profiles, contract);
    if (drift.length > 0 && contract.drift?.fail) {
      await this.discard(outputs);
      throw new InvalidFileError(
        `${this.input.key}: drift detected in ${drift.map((d) => `${d.column} (${d.metric})`).join(', ')}`,
        { file: this.input.key, rule: 'drift' },
      );
    }
    const risk: RiskReport | undefined = kAnonymity?.report(contract.kAnonymity?.k ?? 5, contract.kAnonymity?.action ?? 'report');

    // Indexes for erasure, then DP releases, then the manifest that marks the run as published.
    const curatedIndexBytes = curatedIndex.finish();
    const quarantineIndexBytes = quarantineIndex.finish();
    await this.recheckSuppression(suppressed, curatedIndexBytes, quarantineIndexBytes);
    outputs.push(await this.putIndex('curated', outputKeys.curatedIndex(dataset, this.runKey), curatedIndexBytes, curatedIndex.count, true));
    if (quarantineDigest) {
      outputs.push(
        await this.putIndex('quarantine', outputKeys.quarantineIndex(dataset, this.runKey), quarantineIndexBytes, quarantineIndex.count, quarantineIndexExhaustive),
      );
      outputs.push(await this.putReport(undefined));
    }
    const budget: BudgetSpend[] = [];
    if (aggregator) {
      const released = await this.release(aggregator, contract);
      if (released) {
        budget.push(released.spend);
        outputs.push(...released.outputs);
      }
    }
    const record = this.record('COMPLETE', outputs, { profiles, drift, budget, ...(risk ? { risk } : {}), formulaCells: encoded.stats().formulaCellsNeutralised });
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

  private async release(aggregator: Aggregator, contract: DatasetContract): Promise<{ spend: BudgetSpend; outputs: ObjectDigest[] } | undefined> {
    const releaseId = `${this.runId}-ingest`;
    try {
      const result = await publishAggregates(this.ports, {
        dataset: this.dataset,
        releaseId,
        amount: budgetFor(contract.aggregates),
        total: contract.privacyBudget ?? DEFAULT_PRIVACY_BUDGET,
        release: () => releaseAggregates(aggregator, this.ports.random),
        keys: { json: outputKeys.aggregates(this.dataset, this.runKey, 'json'), csv: outputKeys.aggregates(this.dataset, this.runKey, 'csv') },
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

  private openQuarantineSink(): QuarantineSink {
    const channel = new Channel<string>(512);
    const key = outputKeys.quarantineRows(this.dataset, this.runKey);
    const done = this.putDigest('quarantine', key, linesToBytes(channel), 'quarantine-rows', 'application/x-ndjson');
    done.catch((err: unknown) => channel.fail(err)); // as for the curated part: never hang, never unhandled
    return { channel, done };
  }

  private async putDigest(
    bucket: 'curated' | 'quarantine' | 'aggregates',
    key: string,
    body: AsyncIterable<Uint8Array> | Uint8Array,
    role: ObjectDigest['role'],
    contentType: string,
  ): Promise<ObjectDigest> {
    const d = body instanceof Uint8Array ? undefined : digesting(body);
    const info = await this.ports.objects.put(bucket, key, d ? d.bytes : (body as Uint8Array), {
      contentType,
      metadata: { 'pp-run-id': this.runId, 'pp-dataset': this.dataset },
      encryptionContext: { dataset: this.dataset },
    });
    const digest = d ? d.digest() : { size: (body as Uint8Array).byteLength, sha256: sha256Bytes(body as Uint8Array) };
    return { bucket, key, size: digest.size, sha256: digest.sha256, role, ...(info.versionId ? { versionId: info.versionId } : {}) };
  }

  private async putIndex(bucket: 'curated' | 'quarantine', key: string, bytes: Uint8Array, tokens: number, exhaustive: boolean): Promise<ObjectDigest> {
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
    return this.putDigest('quarantine', outputKeys.quarantineReport(this.dataset, this.runKey), bytes, 'quarantine-report', 'application/json');
  }

  private async putManifest(record: RunRecord): Promise<ObjectDigest> {
    const manifest = { runId: record.id, dataset: record.dataset, runKey: record.runKey, status: record.status, counts: record.counts, outputs: record.outputs };
    const bytes = new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
    return this.putDigest('curated', outputKeys.manifest(this.dataset, this.runKey), bytes, 'manifest', 'application/json');
  }

  /** Removes what a rejected run wrote, every version of it: nothing of it stays readable. */
  private async discard(outputs: readonly ObjectDigest[]): Promise<void> {
    for (const o of outputs) {
      for await (const v of this.ports.objects.listVersions(o.bucket, o.key)) {
        if (v.key !== o.key) continue;
        await this.ports.objects.delete(o.bucket, o.key, v.versionId ? { versionId: v.versionId } : undefined);
      }
      if (!(await this.ports.objects.head(o.bucket, o.key))) continue;
      await this.ports.objects.delete(o.bucket, o.key);
    }
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
      outputs.push({ bucket: 'quarantine', key, size: d.size, sha256: d.sha256, role: 'quarantine-file', rows: this.rowsIn, ...(info.versionId ? { versionId: info.versionId } : {}) });
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
    extra: { profiles?: ColumnProfile[]; drift?: DriftFinding[]; budget?: BudgetSpend[]; risk?: RiskReport; error?: PrivacyPipelineError; formulaCells?: number },
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
    const format = this.format ?? { format: formatFromKey(this.input.key)?.format ?? 'csv', compression: formatFromKey(this.input.key)?.compression ?? 'none' };
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
        ? { hash: contractHash(contract), source: this.contractSource, inferred: this.contractInferred, version: contract.version, body: contract }
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
      timings: { startedAt: this.startedAt.toISOString(), endedAt: endedAt.toISOString(), ms: endedAt.getTime() - this.startedAt.getTime(), stages: this.stages },
      ...(error ? { error: { class: error.name, message: error.message, ...(typeof error.context.rule === 'string' ? { rule: error.context.rule } : {}) } } : {}),
      ...(this.budgetRefusal ? { budgetRefusal: this.budgetRefusal } : {}),
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

/** One quarantined row as a JSON line: row number, rules and the row as it came (encrypted at rest). */
function quarantineLine(columns: readonly string[], row: Row, issues: readonly RowIssue[]): string {
  const record: Record<string, unknown> = { _row: row.rowNumber, _rules: [...new Set(issues.map((i) => i.rule))] };
  if (row.raw !== undefined) record._raw = row.raw;
  else {
    const cells: Record<string, Cell> = {};
    columns.forEach((c, i) => {
      cells[c] = row.cells[i] ?? null;
    });
    // Cells beyond the header (field-count errors) are kept too: nothing is lost.
    for (let i = columns.length; i < row.cells.length; i++) cells[`_extra_${i - columns.length + 1}`] = row.cells[i] ?? null;
    record._cells = cells;
  }
  return `${JSON.stringify(record)}\n`;
}

async function* linesToBytes(lines: AsyncIterable<string>): AsyncIterable<Uint8Array> {
  const encoder = new TextEncoder();
  let batch = '';
  for await (const line of lines) {
    batch += line;
    if (batch.length > 256 * 1024) {
      yield encoder.encode(batch);
      batch = '';
    }
  }
  if (batch) yield encoder.encode(batch);
}

function contentTypeOf(format: FileFormat): string {
  if (format.compression === 'gzip') return 'application/gzip';
  return format.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson';
}

function sha256Bytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

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
