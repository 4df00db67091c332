/**
 * The per-row work of a run, for one chunk of rows: validate → pseudonymise → suppress erased
 * subjects → index subjects → profile → aggregate → k-anonymity → encode → put. A sequential run
 * is a run of one chunk; a parallel run (local worker threads, or Lambdas behind a Step Functions
 * Distributed Map) runs the very same code per chunk and merges the partial states afterwards
 * (see ingest-object.ts), adding DP noise once, after the merge.
 *
 * Memory per chunk is bounded: rows stream through bounded channels into the object store. What
 * grows with the data is listed in RunAccumulators.
 */
import { createHash } from 'node:crypto';
import { decodeTable } from '../codecs/decode-table.ts';
import { encodeTable } from '../codecs/encode-table.ts';
import type { FileFormat } from '../codecs/file-format.ts';
import type { RandomAccess } from '../codecs/parquet-table.ts';
import type { ParquetColumnType } from '../codecs/parquet-types.ts';
import { createRowValidator } from '../contract/row-validator.ts';
import { KAnonymityCounter } from '../detect/k-anonymity.ts';
import { Aggregator, type AggregatorOptions } from '../dp/aggregator.ts';
import { SubjectIndexBuilder } from '../erasure/subject-index.ts';
import { ChunkBoundaryError, type RowIssue, SanitisationError } from '../errors.ts';
import type { ObjectDigest } from '../lineage/run-record.ts';
import type { Ports, SecretKey } from '../ports.ts';
import { ReversibleKeyCache } from '../pseudonymise/reversible-key-cache.ts';
import { createRowTransformer, type RowTransformer } from '../pseudonymise/row-transformer.ts';
import { subjectTokenPlan } from '../pseudonymise/subject-token-plan.ts';
import { ProfileBuilder } from '../quality/profile-builder.ts';
import type { Cell, Row } from '../types.ts';
import { Channel } from './channel.ts';
import { type ChunkExecutor, type ChunkResult, type ChunkSpec, REPORT_ISSUE_LIMIT, type RunSetup } from './chunk-types.ts';
import { digesting } from './digest.ts';
import { failClosed } from './fail-closed.ts';
import { extensionFor, outputKeys } from './object-keys.ts';

/** The run's pseudonymisation keys. */
export interface RunKeys {
  readonly hmacKey: SecretKey;
  readonly sivKey: SecretKey;
}

/**
 * What a processor keeps between chunks of the same run: the row transformer (so its token
 * caches stay warm from one chunk to the next), the keys and the suppression list.
 */
export interface RunContext {
  readonly setup: RunSetup;
  readonly keys: RunKeys;
  readonly transformer: RowTransformer;
  readonly suppressed: ReadonlySet<string>;
  /** Vault keys of `encrypt` values, fetched before each row that needs them. */
  readonly reversibleKeys: ReversibleKeyCache;
  /**
   * Read only for subject tokens (indexing quarantined rows): `encrypt` needs no vault key there,
   * so no key is created for a row that is not published. The transformer itself when the run
   * has no `encrypt` values.
   */
  readonly subjectTokens: RowTransformer;
}

/** Loads the keys and the suppression list and builds the transformer of a run. */
export async function createRunContext(ports: Ports, setup: RunSetup, keys?: RunKeys): Promise<RunContext> {
  const runKeys = keys ?? { hmacKey: await ports.keys.pseudonymKey('token-hmac'), sivKey: await ports.keys.pseudonymKey('token-siv') };
  const { contract } = setup;
  const reversibleKeys = new ReversibleKeyCache(ports.subjectKeys);
  const transformContext = {
    hmacKey: runKeys.hmacKey,
    sivKey: runKeys.sivKey,
    policy: setup.policy,
    reversibleKey: reversibleKeys.lookup,
    defaultRegion: contract.defaultRegion ?? setup.config.defaultRegion,
    ...(contract.regionColumn ? { regionColumn: contract.regionColumn } : {}),
  };
  const transformer = failClosed('pseudonymisation', setup.input.key, () =>
    createRowTransformer(setup.columns, setup.plan, transformContext),
  );
  const subjectTokens = transformer.reversible
    ? failClosed('pseudonymisation', setup.input.key, () => {
        const tokensOnly = subjectTokenPlan(setup.plan, setup.policy);
        return createRowTransformer(setup.columns, tokensOnly.plan, { ...transformContext, policy: tokensOnly.policy });
      })
    : transformer;
  return { setup, keys: runKeys, transformer, suppressed: await ports.suppression.all(), reversibleKeys, subjectTokens };
}

/** The options every aggregator of a run is built with (their states merge only when equal). */
export function aggregatorOptions(setup: RunSetup, hmacKey: SecretKey): AggregatorOptions {
  const { contract } = setup;
  return {
    columns: setup.columns,
    queries: contract.aggregates,
    integerColumns: contract.columns.filter((c) => c.type === 'integer').map((c) => c.name),
    subjectHashKey: hmacKey.material,
    ...(contract.subjectKey ? { subjectKey: contract.subjectKey } : {}),
    ...(contract.privacyUnit ? { privacyUnit: contract.privacyUnit } : {}),
  };
}

/**
 * The mergeable partial states of a run. Bounded whatever the file size: the profile (HyperLogLog
 * and fixed-size reservoirs per column) and the k-anonymity counter (a capped number of classes,
 * counted conservatively beyond the cap). Growing with the data, by design:
 *   - the subject indexes: 8 bytes per distinct subject token (×2 for the hash table's load);
 *   - the DP aggregator with a subject privacy unit: one slot per distinct subject and query
 *     (contribution bounding needs every subject's count until release);
 *   - the validator's unique-value sets (contracts with `unique` columns, which run sequentially).
 */
export class RunAccumulators {
  private constructor(
    readonly profile: ProfileBuilder,
    readonly aggregator: Aggregator | undefined,
    readonly kAnonymity: KAnonymityCounter | undefined,
    readonly curatedIndex: SubjectIndexBuilder,
    readonly quarantineIndex: SubjectIndexBuilder,
  ) {}

  static create(setup: RunSetup, hmacKey: SecretKey): RunAccumulators {
    const piiColumns = new Set(setup.plan.filter((d) => d.entity !== null && d.entity !== 'FREE_TEXT').map((d) => d.column));
    return new RunAccumulators(
      new ProfileBuilder(setup.columns, { piiColumns }),
      setup.contract.aggregates.length > 0 ? new Aggregator(aggregatorOptions(setup, hmacKey)) : undefined,
      setup.quasiIdentifiers.length > 0 ? new KAnonymityCounter(setup.columns, setup.quasiIdentifiers, setup.plan) : undefined,
      new SubjectIndexBuilder(),
      new SubjectIndexBuilder(),
    );
  }

  /** Accumulators rebuilt from a chunk's plain-data result. */
  static fromResult(setup: RunSetup, hmacKey: SecretKey, r: ChunkResult): RunAccumulators {
    const curatedIndex = new SubjectIndexBuilder();
    curatedIndex.mergeState(r.curatedIndex);
    const quarantineIndex = new SubjectIndexBuilder();
    quarantineIndex.mergeState(r.quarantineIndex);
    return new RunAccumulators(
      ProfileBuilder.fromState(r.profile),
      r.aggregator ? Aggregator.fromState(r.aggregator, aggregatorOptions(setup, hmacKey)) : undefined,
      r.kAnonymity !== undefined ? KAnonymityCounter.fromState(setup.columns, r.kAnonymity, setup.plan) : undefined,
      curatedIndex,
      quarantineIndex,
    );
  }

  /** Folds in the next chunk's states (chunks in order: the result equals one pass). */
  merge(other: RunAccumulators): void {
    this.profile.merge(other.profile);
    if (this.aggregator && other.aggregator) this.aggregator.merge(other.aggregator);
    if (this.kAnonymity && other.kAnonymity) this.kAnonymity.merge(other.kAnonymity);
    this.curatedIndex.merge(other.curatedIndex);
    this.quarantineIndex.merge(other.quarantineIndex);
  }
}

/** A chunk's counts and outputs, with its live accumulators. */
export interface ChunkOutcome {
  readonly summary: Omit<ChunkResult, 'profile' | 'aggregator' | 'kAnonymity' | 'curatedIndex' | 'quarantineIndex'>;
  readonly acc: RunAccumulators;
}

/** The plain-data form of an outcome (worker messages, Lambda payloads). */
export function toChunkResult(outcome: ChunkOutcome): ChunkResult {
  const { acc } = outcome;
  return {
    ...outcome.summary,
    profile: acc.profile.toState(),
    ...(acc.aggregator ? { aggregator: acc.aggregator.toState() } : {}),
    ...(acc.kAnonymity ? { kAnonymity: acc.kAnonymity.toState() } : {}),
    curatedIndex: acc.curatedIndex.toState(),
    quarantineIndex: acc.quarantineIndex.toState(),
  };
}

/** The output type of each output column: columns the plan keeps retain their input type (Parquet). */
export function outputColumnTypes(setup: RunSetup, outputColumns: readonly string[]): (ParquetColumnType | undefined)[] | undefined {
  const types = setup.columnTypes;
  if (!types) return undefined;
  const byColumn = new Map(setup.plan.map((d) => [d.column, d]));
  return outputColumns.map((c) => {
    const d = byColumn.get(c);
    const i = setup.columns.indexOf(c);
    if (!d || d.operator === 'keep') return types[i];
    return { kind: 'STRING' };
  });
}

export function contentTypeOf(format: FileFormat): string {
  if (format.format === 'parquet') return 'application/vnd.apache.parquet';
  if (format.compression === 'gzip') return 'application/gzip';
  return format.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson';
}

/** Puts an object and returns its digest for lineage (size and sha256 of the plaintext). */
export async function putDigest(
  ports: Ports,
  setup: Pick<RunSetup, 'runId' | 'dataset'>,
  bucket: 'curated' | 'quarantine' | 'aggregates',
  key: string,
  body: AsyncIterable<Uint8Array> | Uint8Array,
  role: ObjectDigest['role'],
  contentType: string,
): Promise<ObjectDigest> {
  const d = body instanceof Uint8Array ? undefined : digesting(body);
  const info = await ports.objects.put(bucket, key, d ? d.bytes : (body as Uint8Array), {
    contentType,
    metadata: { 'pp-run-id': setup.runId, 'pp-dataset': setup.dataset },
    encryptionContext: { dataset: setup.dataset },
  });
  const digest = d
    ? d.digest()
    : {
        size: (body as Uint8Array).byteLength,
        sha256: createHash('sha256')
          .update(body as Uint8Array)
          .digest('hex'),
      };
  return { bucket, key, size: digest.size, sha256: digest.sha256, role, ...(info.versionId ? { versionId: info.versionId } : {}) };
}

/** Removes outputs of a rejected run or chunk, every version of them: nothing of it stays readable. */
export async function discardOutputs(ports: Ports, outputs: readonly ObjectDigest[]): Promise<void> {
  for (const o of outputs) {
    for await (const v of ports.objects.listVersions(o.bucket, o.key)) {
      if (v.key !== o.key) continue;
      await ports.objects.delete(o.bucket, o.key, v.versionId ? { versionId: v.versionId } : undefined);
    }
    if (!(await ports.objects.head(o.bucket, o.key))) continue;
    await ports.objects.delete(o.bucket, o.key);
  }
}

/**
 * Processes the rows of one chunk and writes its curated part (and quarantined rows, if any).
 * On error nothing of the chunk stays visible. `onRowsClosed` lets the caller release its input.
 */
export async function processChunkRows(ports: Ports, ctx: RunContext, rows: AsyncIterable<Row>, chunkIndex: number): Promise<ChunkOutcome> {
  const started = performance.now();
  const { setup, transformer, suppressed } = ctx;
  const { columns, dataset, runKey, contract } = setup;
  const validator = createRowValidator(contract, columns);
  const acc = RunAccumulators.create(setup, ctx.keys.hmacKey);
  const { profile, aggregator, kAnonymity, curatedIndex, quarantineIndex } = acc;
  const statsBefore = transformer.stats();
  let rowsIn = 0;
  let rowsPublished = 0;
  let rowsQuarantined = 0;
  let rowsSuppressed = 0;
  let quarantineIndexExhaustive = true;
  const quarantineReasons: Record<string, number> = {};
  const reportIssues: RowIssue[] = [];

  // Outputs are written while rows stream; a failure aborts them (no partial object is visible).
  const outFormat = setup.format;
  const curatedKey = outputKeys.curatedPart(dataset, runKey, extensionFor(outFormat.format, outFormat.compression), chunkIndex);
  const curated = new Channel<Cell[]>(2048);
  const columnTypes = outputColumnTypes(setup, transformer.outputColumns);
  const encoded = encodeTable(transformer.outputColumns, curated, outFormat, {
    neutraliseFormulas: setup.config.neutraliseFormulas,
    ...(columnTypes ? { columnTypes } : {}),
  });
  const curatedDone = putDigest(ports, setup, 'curated', curatedKey, encoded.bytes, 'curated', contentTypeOf(outFormat));
  // A write that fails without reading its body (store or key service refusing up front) must
  // stop the producer, or the row loop waits forever on a full channel; this also handles the
  // rejection before the loop ends (an unhandled rejection would crash the process).
  curatedDone.catch((err: unknown) => curated.fail(err));
  let quarantine: { channel: Channel<string>; done: Promise<ObjectDigest> } | undefined;
  const openQuarantine = () => {
    const channel = new Channel<string>(512);
    const key = setup.chunked ? outputKeys.quarantineRowsPart(dataset, runKey, chunkIndex) : outputKeys.quarantineRows(dataset, runKey);
    const done = putDigest(ports, setup, 'quarantine', key, linesToBytes(channel), 'quarantine-rows', 'application/x-ndjson');
    done.catch((err: unknown) => channel.fail(err)); // as for the curated part: never hang, never unhandled
    return { channel, done };
  };
  const tokens: string[] = [];
  // `encrypt` values: the row's missing vault keys are fetched before the (synchronous) transform.
  // A ref is the value's pseudonym: on the suppression list it names an erased subject, whose row
  // is dropped here, before a key erasure shredded could be created again. Returns true then.
  const refs: string[] = [];
  const fetchKeys = async (cells: readonly Cell[]): Promise<boolean> => {
    refs.length = 0;
    transformer.reversibleRefs(cells, refs);
    if (refs.length === 0) return false;
    if (suppressed.size > 0 && refs.some((r) => suppressed.has(r))) return true;
    await ctx.reversibleKeys.prefetch(refs);
    return false;
  };
  // Rows are read a batch ahead and the batch's new keys fetched together: creating a key is a
  // durable write (fsync, or KMS + DynamoDB), which one value at a time would serialise the run.
  const rowRefs: string[] = [];
  const batchRefs: string[] = [];
  const warmKeys = async (batch: readonly Row[]) => {
    batchRefs.length = 0;
    for (const row of batch) {
      rowRefs.length = 0;
      transformer.reversibleRefs(row.cells, rowRefs);
      if (!(suppressed.size > 0 && rowRefs.some((r) => suppressed.has(r)))) for (const r of rowRefs) batchRefs.push(r);
    }
    if (batchRefs.length > 0) await ctx.reversibleKeys.prefetch(batchRefs);
  };

  const quarantineRow = async (row: Row, issues: readonly RowIssue[]) => {
    rowsQuarantined++;
    for (const issue of issues) {
      quarantineReasons[issue.rule] = (quarantineReasons[issue.rule] ?? 0) + 1;
      if (reportIssues.length < REPORT_ISSUE_LIMIT) reportIssues.push(issue);
    }
    // Index the row's subject tokens too, so erasure finds quarantined copies.
    tokens.length = 0;
    try {
      if (row.raw === undefined) ctx.subjectTokens.transform(row.cells, tokens);
      else quarantineIndexExhaustive = false;
    } catch {
      quarantineIndexExhaustive = false;
    }
    for (const t of tokens) quarantineIndex.add(t);
    quarantine ??= openQuarantine();
    await quarantine.channel.push(quarantineLine(columns, row, issues));
  };

  // Publishes a valid row: synchronous unless the curated channel is full (the writer is behind),
  // so a row costs no promise of its own.
  const publish = (row: Row): Promise<void> | undefined => {
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
      rowsSuppressed++;
      return undefined;
    }
    for (const t of tokens) curatedIndex.add(t);
    profile.add(row.cells);
    aggregator?.add(row.cells);
    kAnonymity?.add(row.cells);
    rowsPublished++;
    return curated.push(out) ?? undefined;
  };
  const publishWithKeys = async (row: Row): Promise<void> => {
    if (await fetchKeys(row.cells)) {
      rowsSuppressed++;
      return;
    }
    await publish(row);
  };
  const process = (row: Row): Promise<void> | undefined => {
    rowsIn++;
    const issues = validator.validate(row);
    if (issues.length > 0) return quarantineRow(row, issues);
    return transformer.reversible ? publishWithKeys(row) : publish(row);
  };

  const iterator = rows[Symbol.asyncIterator]();
  try {
    if (transformer.reversible) {
      const batch: Row[] = [];
      for (let done = false; !done; ) {
        batch.length = 0;
        while (batch.length < KEY_BATCH_ROWS) {
          const next = await iterator.next();
          if (next.done) {
            done = true;
            break;
          }
          batch.push(next.value);
        }
        await warmKeys(batch);
        for (const row of batch) {
          const pending = process(row);
          if (pending) await pending;
        }
      }
    } else {
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        const pending = process(next.value);
        if (pending) await pending;
      }
    }
    curated.close();
    quarantine?.channel.close();
  } catch (err) {
    curated.fail(err);
    quarantine?.channel.fail(err);
    // Release the input too (an S3 socket, a file handle) when the failure came from a writer.
    const settled = await Promise.allSettled([curatedDone, quarantine?.done, iterator.return?.()]);
    // A writer that committed before the failure surfaced: its object must not stay visible.
    const written = settled.flatMap((s, i) => (i < 2 && s.status === 'fulfilled' && s.value ? [s.value as ObjectDigest] : []));
    await discardOutputs(ports, written).catch(() => undefined);
    throw err;
  }
  const curatedDigest = await curatedDone;
  const quarantineDigest = quarantine ? await quarantine.done : undefined;
  const stats = transformer.stats();
  const spans: Record<string, number> = {};
  for (const [entity, n] of Object.entries(stats.spans))
    spans[entity] = (n ?? 0) - (statsBefore.spans[entity as keyof typeof stats.spans] ?? 0);
  return {
    acc,
    summary: {
      index: chunkIndex,
      rowsIn,
      rowsPublished,
      rowsQuarantined,
      rowsSuppressed,
      quarantineReasons,
      reportIssues,
      quarantineIndexExhaustive,
      formulaCellsNeutralised: encoded.stats().formulaCellsNeutralised,
      curated: { ...curatedDigest, rows: rowsPublished },
      ...(quarantineDigest ? { quarantine: { ...quarantineDigest, rows: rowsQuarantined } } : {}),
      transform: { cacheHits: stats.cacheHits - statsBefore.cacheHits, cacheMisses: stats.cacheMisses - statsBefore.cacheMisses, spans },
      ms: performance.now() - started,
    },
  };
}

/** Rows read ahead when a run has `encrypt` values, so their new vault keys are fetched together. */
const KEY_BATCH_ROWS = 256;

/** Bytes read per range request when a chunk streams its byte range. */
const RANGE_PIECE = 4 * 1024 * 1024;

/** Random access to the run's input object (Parquet footers and row groups). */
export function inputRandomAccess(ports: Ports, setup: RunSetup): RandomAccess {
  const { key, versionId, size } = setup.input;
  const readRange = ports.objects.readRange?.bind(ports.objects);
  return {
    size,
    async read(start, end) {
      if (readRange) return readRange('ingest', key, start, end, versionId ? { versionId } : undefined);
      return collect(rangeOfBody(ports, setup, start, end));
    },
  };
}

/** The bytes [start, end) of the input as a stream: range reads when the store has them, else a skipping read. */
export async function* rangeOfBody(ports: Ports, setup: RunSetup, start: number, end: number): AsyncGenerator<Uint8Array> {
  const { key, versionId } = setup.input;
  const readRange = ports.objects.readRange?.bind(ports.objects);
  if (readRange) {
    // One piece ahead: the next range read overlaps the parsing of this one.
    let next =
      start < end ? readRange('ingest', key, start, Math.min(end, start + RANGE_PIECE), versionId ? { versionId } : undefined) : undefined;
    for (let at = start; at < end; at += RANGE_PIECE) {
      const piece = await (next as Promise<Uint8Array>);
      const after = at + RANGE_PIECE;
      next =
        after < end
          ? readRange('ingest', key, after, Math.min(end, after + RANGE_PIECE), versionId ? { versionId } : undefined)
          : undefined;
      if (piece.length > 0) yield piece;
    }
    return;
  }
  const { body } = await ports.objects.get('ingest', key, versionId ? { versionId } : undefined);
  let pos = 0;
  for await (const chunk of body) {
    const from = Math.max(start - pos, 0);
    const to = Math.min(end - pos, chunk.length);
    if (to > from) yield chunk.subarray(from, to);
    pos += chunk.length;
    if (pos >= end) break;
  }
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of source) parts.push(p);
  return Buffer.concat(parts);
}

/**
 * Processes one planned chunk of the run's input: decodes its range (for CSV behind the header's
 * bytes), processes its rows and checks it against the plan: it must end at a record boundary
 * and hold the planned number of rows, or ChunkBoundaryError (its outputs are removed first).
 */
export async function processChunk(ports: Ports, setup: RunSetup, chunk: ChunkSpec, context?: RunContext): Promise<ChunkOutcome> {
  const ctx = context ?? (await createRunContext(ports, setup));
  const fileName = setup.input.key;
  const { format } = setup;
  let rows: AsyncIterable<Row>;
  if (format.format === 'parquet') {
    const table = await decodeTable(emptyBody(), {
      fileName,
      format: 'parquet',
      random: inputRandomAccess(ports, setup),
      rowGroups: chunk.rowGroups ?? [chunk.start, chunk.end],
      firstRowNumber: chunk.firstRow,
    });
    rows = table.rows;
  } else {
    const body =
      format.format === 'csv'
        ? concatBodies(rangeOfBody(ports, setup, 0, setup.headerEnd), rangeOfBody(ports, setup, chunk.start, chunk.end))
        : rangeOfBody(ports, setup, chunk.start, chunk.end);
    const table = await decodeTable(body, {
      fileName,
      format: format.format,
      compression: format.compression,
      firstRowNumber: chunk.firstRow,
      // The last chunk may end without a line break (or inside an unterminated quote).
      ...(format.format === 'jsonl' ? { columns: setup.columns } : { requireRecordEnd: chunk.end < setup.input.size }),
    });
    if (table.columns.length !== setup.columns.length || table.columns.some((c, i) => c !== setup.columns[i])) {
      throw new ChunkBoundaryError(`${fileName}: chunk ${chunk.index} decodes another header`, { file: fileName, rule: 'chunk-boundary' });
    }
    rows = table.rows;
  }
  const outcome = await processChunkRows(ports, ctx, rows, chunk.index);
  if (outcome.summary.rowsIn !== chunk.rows) {
    await discardOutputs(ports, [outcome.summary.curated, ...(outcome.summary.quarantine ? [outcome.summary.quarantine] : [])]);
    throw new ChunkBoundaryError(`${fileName}: chunk ${chunk.index} holds ${outcome.summary.rowsIn} rows, the plan counted ${chunk.rows}`, {
      file: fileName,
      rule: 'chunk-boundary',
    });
  }
  return outcome;
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}

/**
 * Runs chunks in this thread, `concurrency` at a time (interleaved at await points): the same
 * code and the same plain-data results as the worker pool, for tests and for stores that cannot
 * be shared with other threads.
 */
export function inProcessExecutor(ports: Ports, concurrency = 2): ChunkExecutor {
  let current: { runId: string; ctx: Promise<RunContext> } | undefined;
  return {
    concurrency,
    async run(setup, chunk) {
      if (current?.runId !== setup.runId) current = { runId: setup.runId, ctx: createRunContext(ports, setup) };
      return toChunkResult(await processChunk(ports, setup, chunk, await current.ctx));
    },
  };
}

async function* concatBodies(...bodies: AsyncIterable<Uint8Array>[]): AsyncGenerator<Uint8Array> {
  for (const b of bodies) yield* b;
}

/** One quarantined row as a JSON line: row number, rules and the row as it came (encrypted at rest). */
export function quarantineLine(columns: readonly string[], row: Row, issues: readonly RowIssue[]): string {
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

/** A chunk result as JSON text (Lambda payloads, objects between workflow steps): index hashes as base64. */
export function chunkResultToJson(r: ChunkResult): string {
  const b64 = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
  return JSON.stringify({ ...r, curatedIndex: b64(r.curatedIndex), quarantineIndex: b64(r.quarantineIndex) });
}

/** The inverse of chunkResultToJson. */
export function chunkResultFromJson(text: string): ChunkResult {
  const o = JSON.parse(text) as Omit<ChunkResult, 'curatedIndex' | 'quarantineIndex'> & { curatedIndex: string; quarantineIndex: string };
  const f64 = (s: string) => {
    const b = Buffer.from(s, 'base64');
    const copy = new Uint8Array(b.byteLength);
    copy.set(b);
    return new Float64Array(copy.buffer);
  };
  return { ...o, curatedIndex: f64(o.curatedIndex), quarantineIndex: f64(o.quarantineIndex) };
}
