/**
 * GDPR Art. 17 erasure of one data subject, in the manner of Amazon S3 Find and Forget but
 * without its full scans, with CSV, and with a keep-out list:
 *
 *   1. tokens   the identifier's keyed tokens (same canonical forms and keys as pseudonymisation)
 *               go to the suppression list first, so any ingest starting from now drops them;
 *   2. find     lineage lists every COMPLETE or QUARANTINED run; only their small subject indexes
 *               are read and tested; candidates are the objects whose index may hold a token
 *               (plus the raw drop those runs read, and whole-file quarantine copies);
 *   3. scan     each candidate is read and judged row by row; a row of the subject reveals its
 *               other unique identifiers (customer_id...), which join the token set, and the
 *               find/scan repeats until the set stops growing (transitive closure);
 *   4. forget   each affected object is rewritten without the subject's rows and with their
 *               mentions in other rows' free text replaced by `[ERASED]`, conditionally on its
 *               ETag (retried), rows counted before and after, every noncurrent version deleted,
 *               its subject index rebuilt;
 *   5. passes   runs that completed meanwhile are examined too (up to `maxPasses`);
 *   6. shred    the vault keys of `encrypt` values filed under the closure's tokens (and under
 *               the refs of other encrypt cells of the subject's rows) are destroyed: their
 *               reversible tokens can never be decrypted again, wherever copies went
 *               (crypto-shredding; verification matches `ENC_…` tokens by their ref, not by key);
 *   7. verify   every version of every candidate is read again and judged: nothing may remain;
 *   8. record   only then the certificate goes to lineage. It never holds the identifier: the
 *               subject is named by its first keyed token.
 *
 * Idempotent: erasing the same subject again finds nothing to remove; repeating a request id
 * returns that request's certificate.
 */
import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import { formatFromKey } from '../codecs/file-format.ts';
import { ConflictError, ErasureVerificationError, InvalidFileError, ObjectNotFoundError, TransientError, UsageError } from '../errors.ts';
import type { RunRecord } from '../lineage/run-record.ts';
import { sha256Hex } from '../pipeline/digest.ts';
import { ORIGIN_METADATA } from '../pipeline/ingest-object.ts';
import { sweepOrphans } from '../pipeline/sweep-orphans.ts';
import type { LineageRecord, ObjectInfo, Ports } from '../ports.ts';
import { DEFAULT_POLICY, type Policy } from '../pseudonymise/policy.ts';
import { canonicalise, guessIdentifierType, type IdentifierType, identifierTokens } from '../pseudonymise/token.ts';
import type { BucketRole } from '../types.ts';
import { type Candidate, CandidateFinder, collect, listErasableRuns, objectId, rawCandidate } from './find-candidates.ts';
import { type ObjectLayout, processObject, purgeVersions, type RecordStats, rewriteObject } from './rewrite-object.ts';
import { SubjectIndexBuilder } from './subject-index.ts';
import {
  CuratedTokens,
  createCuratedJudge,
  createErasureScanner,
  createQuarantineRowsJudge,
  createRawJudge,
  createTextLineJudge,
  IDENTIFIER_ENTITIES,
  type MatchContext,
  redactText,
  SubjectClosure,
  Tokeniser,
} from './subject-matcher.ts';

/** One erasure request. The identifier is used in memory only and never stored or logged. */
export interface ErasureRequest {
  readonly identifier: string;
  /** What the identifier is; guessed from its shape when absent. */
  readonly type?: IdentifierType;
  /** Why (recorded in the certificate, with the subject's identifiers redacted from it). */
  readonly reason?: string;
  /** Who asked (the compliance officer's id), for the audit trail. */
  readonly requestedBy?: string;
  /** Stable id of the request; repeating it returns the first certificate. Generated when absent. */
  readonly requestId?: string;
  /** ISO region for phone numbers written without a country code. */
  readonly region?: string;
}

/** One object erasure changed. */
export interface ErasedObject {
  readonly bucket: BucketRole;
  readonly key: string;
  readonly rowsBefore: number;
  readonly rowsAfter: number;
  readonly rowsRemoved: number;
  readonly spansRedacted: number;
  readonly versionsDeleted: number;
  /** rewritten: a new version without the subject; removed: nothing else was left (or it could not be read); versions-purged: only old versions held the subject. */
  readonly action: 'rewritten' | 'removed' | 'versions-purged';
}

/** Proof of an erasure, as recorded in lineage. Never holds the identifier in clear. */
export interface ErasureCertificate {
  readonly requestId: string;
  readonly at: string;
  readonly identifierType: IdentifierType;
  /** The subject's first keyed token (HMAC under the pseudonymisation key): not dictionary-attackable without the key. */
  readonly subjectRef: string;
  readonly reason?: string;
  readonly requestedBy?: string;
  /** Size of the token closure (the identifier's tokens plus the identifiers found in the subject's rows). */
  readonly tokensMatched: number;
  /** Subject-index objects read and tested. */
  readonly indexesTested: number;
  /** Candidate objects the indexes pointed to (and whole-file quarantine copies). */
  readonly objectsFound: number;
  /** Distinct data objects read (candidates only; index objects excluded). */
  readonly objectsRead: number;
  readonly objectsRewritten: readonly ErasedObject[];
  readonly indexesRewritten: number;
  readonly rowsRemoved: number;
  readonly spansRedacted: number;
  /** Object versions deleted for good (rewritten objects, purged old versions, rebuilt indexes). */
  readonly versionsDeleted: number;
  readonly datasets: readonly string[];
  /** Tokens added to the suppression list by this request. */
  readonly tokensSuppressed: number;
  /** Per-subject keys destroyed (reversible tokens of the subject become undecryptable). */
  readonly subjectKeysShredded: number;
  readonly verification: 'passed';
  readonly objectsVerified: number;
  readonly passes: number;
  readonly durationMs: number;
  /**
   * Objects erasure could not search because lineage does not list them: outputs of runs that
   * never committed (or are still in flight) and raw files no committed run has read. Zero is the
   * clean case; otherwise `privacy-pipeline sweep` removes the orphans, and the raw files need a re-run.
   */
  readonly notSearched?: { readonly orphanedOutputs: number; readonly unprocessedRaw: number };
}

export interface EraseOptions {
  readonly policy?: Policy;
  /** Find/forget passes over runs that complete while the erasure runs. @default 5 */
  readonly maxPasses?: number;
}

const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const MAX_IDENTIFIER = 1024;
const MAX_REASON = 500;
/** Metadata naming the run whose column plan describes a raw object erasure rewrote. */
export const PLAN_RUN_METADATA = 'pp-plan-run';

/** Erases one data subject everywhere the pipeline keeps data, verifies, and certifies it in lineage. */
export async function eraseSubject(ports: Ports, req: ErasureRequest, opts: EraseOptions = {}): Promise<ErasureCertificate> {
  return new ErasureJob(ports, req, opts).run();
}

/** The lineage id of a request's certificate. */
export function erasureRecordId(requestId: string): string {
  return `erasure-${requestId}`;
}

interface CandidateState {
  readonly c: Candidate;
  /** Closure generation the last scan saw; -1 before the first. */
  scannedGen: number;
  needsRewrite: boolean;
  /** Read as text lines (no table decoder could read it). */
  textMode: boolean;
  /** Not readable as text either: matched on bytes, removed whole when it holds the subject. */
  opaque: boolean;
  gone: boolean;
  /** A raw object whose current version was not ingested yet. */
  pending: boolean;
  versionsCheckedGen: number;
}

class ErasureJob {
  private readonly policy: Policy;
  private readonly maxPasses: number;
  private readonly closure = new SubjectClosure();
  private readonly candidates = new Map<string, CandidateState>();
  private readonly read = new Set<string>();
  private readonly written = new Map<string, ErasedObject & { etag?: string }>();
  private readonly suppressed = new Set<string>();
  private readonly finder: CandidateFinder;
  private runsById = new Map<string, RunRecord>();
  private runsByKey = new Map<string, RunRecord[]>();
  private ctx!: MatchContext;
  private indexVersionsDeleted = 0;
  private indexesRewritten = 0;
  private lastSuppressionAt = '';

  constructor(
    private readonly ports: Ports,
    private readonly req: ErasureRequest,
    opts: EraseOptions,
  ) {
    this.policy = opts.policy ?? DEFAULT_POLICY;
    this.maxPasses = opts.maxPasses ?? 5;
    if (!Number.isInteger(this.maxPasses) || this.maxPasses < 1)
      throw new UsageError('maxPasses must be a positive integer', { rule: 'max-passes' });
    this.finder = new CandidateFinder(ports);
  }

  async run(): Promise<ErasureCertificate> {
    const { ports, req } = this;
    const started = ports.clock.now();
    if (typeof req.identifier !== 'string' || req.identifier.trim() === '' || req.identifier.length > MAX_IDENTIFIER) {
      throw new UsageError(`the identifier must be a non-empty string of at most ${MAX_IDENTIFIER} characters`, { rule: 'identifier' });
    }
    if (req.requestId !== undefined && !REQUEST_ID.test(req.requestId)) {
      throw new UsageError('request id must be 1-128 letters, digits, dots, colons, dashes or underscores', { rule: 'request-id' });
    }
    const requestId = req.requestId ?? newRequestId(started, ports.random.bytes(6));
    const previous = await ports.lineage.get(erasureRecordId(requestId));
    if (previous) return certificateOf(previous);

    const type = req.type ?? guessIdentifierType(req.identifier.trim());
    if (!type || !(type in IDENTIFIER_ENTITIES)) {
      throw new UsageError(
        'cannot tell what kind of identifier this is; pass its type (email, phone, subject-id, card, iban, name, national-id)',
        { rule: 'identifier-type' },
      );
    }
    const hmacKey = await ports.keys.pseudonymKey('token-hmac');
    const sivKey = await ports.keys.pseudonymKey('token-siv');
    const tokens = identifierTokens(req.identifier, type, hmacKey.material, {
      tokenLength: this.policy.tokenLength,
      ...(req.region ? { region: req.region } : {}),
    });
    if (tokens.length === 0) throw new UsageError(`the identifier is not a valid ${type}`, { rule: 'identifier' });
    const subjectRef = tokens[0] as string;

    // Keep-out first: any ingest that loads the list from now on drops the subject's rows.
    await this.suppress(tokens, requestId);

    const entities = IDENTIFIER_ENTITIES[type];
    for (const t of tokens) this.closure.addToken(t, 'row');
    for (const e of entities) this.closure.entities.add(e);
    this.closure.addLiteral(req.identifier, 'strong', 3);
    for (const e of entities) {
      try {
        const canonical = canonicalise(e, req.identifier.trim(), req.region ? { region: req.region } : {});
        if (canonical) this.closure.addLiteral(canonical, 'strong', 3);
      } catch {
        // not a valid value of that entity type
      }
    }
    const tokeniser = new Tokeniser(hmacKey.material, this.policy.tokenLength);
    this.ctx = {
      closure: this.closure,
      tokeniser,
      curated: new CuratedTokens(tokeniser),
      hmacKey,
      sivKey,
      policy: this.policy,
      scanner: createErasureScanner(this.policy, req.region ?? 'GB'),
      learn: true,
    };

    let passes = 0;
    const seenRuns = new Set<string>();
    for (;;) {
      passes++;
      const runs = await this.loadRuns();
      for (const r of runs) seenRuns.add(r.id);
      await this.closeOver(runs);
      await this.suppress(this.closure.rowTokenList(), requestId);
      await this.forget(requestId);
      const after = await listErasableRuns(ports);
      const fresh = after.filter((r) => !seenRuns.has(r.id));
      const pending = [...this.candidates.values()].filter((s) => s.pending);
      if (fresh.length === 0 && pending.length === 0) break;
      if (passes >= this.maxPasses) {
        if (pending.length > 0) {
          throw new TransientError(
            `erasure ${requestId}: ${pending.length} raw object(s) holding the subject are waiting to be ingested; retry the request`,
            { requestId, rule: 'raw-pending' },
          );
        }
        // Runs that started after the last suppression write could not publish the subject.
        const risky = fresh.filter((r) => r.timings.startedAt < this.lastSuppressionAt);
        if (risky.length > 0) {
          throw new TransientError(
            `erasure ${requestId}: ${risky.length} run(s) that started before the suppression list was updated are still completing; retry the request`,
            { requestId, rule: 'runs-in-flight' },
          );
        }
        break;
      }
    }

    // Crypto-shredding: an `encrypt` token's key is filed under the value's pseudonym (its ref),
    // which is what the closure holds; shredding it makes every copy of the token undecryptable.
    let subjectKeysShredded = 0;
    for (const t of new Set([...this.closure.allTokens, ...this.closure.keyRefs]))
      if (await ports.subjectKeys.shred(t)) subjectKeysShredded++;

    const objectsVerified = await this.verify(requestId);
    const unlisted = await sweepOrphans(ports, { olderThanMs: 0, dryRun: true });

    const objectsRewritten = [...this.written.values()].map(({ etag: _etag, ...o }) => o);
    const sum = (f: (o: ErasedObject) => number) => objectsRewritten.reduce((n, o) => n + f(o), 0);
    const ended = ports.clock.now();
    const certificate: ErasureCertificate = {
      requestId,
      at: ended.toISOString(),
      identifierType: type,
      subjectRef,
      ...(req.reason !== undefined ? { reason: this.scrub(req.reason) } : {}),
      ...(req.requestedBy !== undefined ? { requestedBy: req.requestedBy.slice(0, 256) } : {}),
      tokensMatched: this.closure.allTokens.size,
      indexesTested: this.finder.indexesTested,
      objectsFound: this.candidates.size,
      objectsRead: this.read.size,
      objectsRewritten,
      indexesRewritten: this.indexesRewritten,
      rowsRemoved: sum((o) => o.rowsRemoved),
      spansRedacted: sum((o) => o.spansRedacted),
      versionsDeleted: sum((o) => o.versionsDeleted) + this.indexVersionsDeleted,
      datasets: [...new Set(objectsRewritten.map((o) => this.candidates.get(objectId(o.bucket, o.key))?.c.dataset ?? ''))]
        .filter(Boolean)
        .sort(),
      tokensSuppressed: this.suppressed.size,
      subjectKeysShredded,
      verification: 'passed',
      objectsVerified,
      passes,
      durationMs: ended.getTime() - started.getTime(),
      notSearched: { orphanedOutputs: unlisted.orphans.length, unprocessedRaw: unlisted.unprocessedRaw.length },
    };
    const record = { id: erasureRecordId(requestId), kind: 'erasure', dataset: '*', ...certificate } as unknown as LineageRecord;
    try {
      await ports.lineage.append(record);
    } catch (err) {
      // The same request finished elsewhere first: its certificate is the one.
      if (!(err instanceof ConflictError)) throw err;
      const existing = await ports.lineage.get(record.id);
      if (existing) return certificateOf(existing);
      throw err;
    }
    ports.logger.info('erasure certified', {
      requestId,
      rowsRemoved: certificate.rowsRemoved,
      objectsRewritten: objectsRewritten.length,
      versionsDeleted: certificate.versionsDeleted,
      objectsRead: certificate.objectsRead,
      passes,
    });
    return certificate;
  }

  // ---------------------------------------------------------------- find and scan

  private async loadRuns(): Promise<RunRecord[]> {
    const runs = await listErasableRuns(this.ports);
    this.runsById = new Map(runs.map((r) => [r.id, r]));
    this.runsByKey = new Map();
    for (const r of runs) {
      const list = this.runsByKey.get(r.input.key) ?? [];
      list.push(r);
      this.runsByKey.set(r.input.key, list);
    }
    return runs;
  }

  /** Finds and scans until the token closure stops growing. */
  private async closeOver(runs: readonly RunRecord[]): Promise<void> {
    this.ctx.learn = true;
    // Raw objects that were waiting for their ingest are looked at again once per pass.
    for (const state of this.candidates.values()) if (state.pending) state.scannedGen = -1;
    for (;;) {
      const generation = this.closure.generation;
      for (const c of await this.finder.find(runs, this.closure.probe())) this.register(c);
      // A run that dropped rows through the suppression list (during this erasure, or after an
      // earlier attempt at it) published nothing of them, but its raw input still holds them.
      for (const r of runs) if (r.counts.rowsSuppressed > 0) this.register(rawCandidate(r));
      let scanned = 0;
      for (const state of [...this.candidates.values()]) {
        if (state.gone || state.scannedGen >= this.closure.generation) continue;
        await this.scan(state);
        scanned++;
      }
      if (scanned === 0 && this.closure.generation === generation) return;
    }
  }

  private register(c: Candidate): void {
    const id = objectId(c.bucket, c.key);
    if (this.candidates.has(id)) return;
    this.candidates.set(id, {
      c,
      scannedGen: -1,
      needsRewrite: false,
      textMode: false,
      opaque: false,
      gone: false,
      pending: false,
      versionsCheckedGen: -1,
    });
  }

  private async scan(state: CandidateState): Promise<void> {
    const generation = this.closure.generation;
    const outcome = await this.judgeVersion(state, undefined, { pendingIsSkip: true });
    state.scannedGen = generation;
    if (outcome === 'gone') {
      state.gone = true;
      return;
    }
    if (outcome === 'pending') {
      state.pending = true;
      return;
    }
    state.pending = false;
    state.needsRewrite = outcome.rowsRemoved + outcome.spansRedacted > 0;
    // A rejected file that holds the subject: the raw drop it came from holds them too.
    if (state.c.kind === 'quarantine-file' && state.needsRewrite) this.register(rawCandidate(state.c.run));
  }

  /**
   * Reads one version (the current one when `versionId` is undefined) and judges every record
   * with the current closure. Falls back to text lines, then to bytes, for unreadable objects.
   */
  private async judgeVersion(
    state: CandidateState,
    versionId: string | undefined,
    opts: { pendingIsSkip: boolean },
  ): Promise<'gone' | 'pending' | (RecordStats & { etag: string })> {
    const { c } = state;
    const get = async () => {
      try {
        const o = await this.ports.objects.get(c.bucket, c.key, versionId !== undefined ? { versionId } : undefined);
        this.read.add(objectId(c.bucket, c.key));
        return o;
      } catch (err) {
        if (err instanceof ObjectNotFoundError) return undefined;
        throw err;
      }
    };
    const object = await get();
    if (!object) return 'gone';
    if (state.opaque) {
      // Opaque bytes: whole-word clear values and row tokens, searched in the (gunzipped) bytes.
      const bytes = gunzipBestEffort(await collect(object.body));
      const hit = [bytes.toString('utf8'), bytes.toString('latin1')].some(
        (t) => this.closure.containsStrong(t) || this.closure.containsRowToken(t),
      );
      return { rowsBefore: 0, rowsAfter: 0, rowsRemoved: hit ? 1 : 0, spansRedacted: 0, etag: object.info.etag };
    }
    const layout = this.layoutFor(state, object.info, opts.pendingIsSkip);
    if (!layout) {
      await collect(object.body);
      return 'pending';
    }
    try {
      const p = await processObject(object.body, layout.layout, { fileName: objectId(c.bucket, c.key), write: false });
      for await (const _ of p.bytes) {
        // the judge runs while the records stream
      }
      return { ...p.stats(), etag: object.info.etag };
    } catch (err) {
      if (!(err instanceof InvalidFileError)) throw err;
      await object.body[Symbol.asyncIterator]().return?.();
      // No table decoder can read it: read it again as text lines, and failing that as bytes.
      if (state.textMode) state.opaque = true;
      else state.textMode = true;
      return this.judgeVersion(state, versionId, opts);
    }
  }

  /** The layout and judge for one version of a candidate; undefined for a raw object not ingested yet. */
  private layoutFor(
    state: CandidateState,
    info: ObjectInfo,
    pendingIsSkip: boolean,
  ): { layout: ObjectLayout; metadata?: Record<string, string> } | undefined {
    const { c } = state;
    const ctx = this.ctx;
    if (state.textMode) return { layout: { shape: 'lines', judge: createTextLineJudge(ctx, c.run) } };
    switch (c.kind) {
      case 'curated': {
        const shape = formatFromKey(c.key)?.format === 'jsonl' ? 'jsonl' : 'csv';
        return { layout: { shape, judge: (columns) => createCuratedJudge(ctx, c.run, columns) } };
      }
      case 'quarantine-rows':
        return { layout: { shape: 'lines', judge: createQuarantineRowsJudge(ctx, c.run) } };
      case 'quarantine-file': {
        const shape = tableShape(c.key, c.run);
        if (!shape) return { layout: { shape: 'lines', judge: createTextLineJudge(ctx, c.run) } };
        return { layout: { shape, judge: (columns) => createRawJudge(ctx, c.run, columns) } };
      }
      case 'raw': {
        const planRun = this.planRunFor(c, info) ?? (pendingIsSkip ? undefined : this.latestRunOf(c.key, c.run));
        if (!planRun) return undefined;
        const shape = tableShape(c.key, planRun);
        const metadata = { [PLAN_RUN_METADATA]: planRun.id };
        if (!shape) return { layout: { shape: 'lines', judge: createTextLineJudge(ctx, planRun) }, metadata };
        return { layout: { shape, judge: (columns) => createRawJudge(ctx, planRun, columns) }, metadata };
      }
    }
  }

  /**
   * The run that ingested this version of a raw object: the one whose idempotency key is built
   * from its ETag, or for a version erasure wrote, the run recorded in its metadata. Undefined
   * when the version was not ingested yet (rewriting it now would hide it from its ingest).
   */
  private planRunFor(c: Candidate, info: ObjectInfo): RunRecord | undefined {
    if (info.metadata[ORIGIN_METADATA] === 'erasure') {
      const id = info.metadata[PLAN_RUN_METADATA];
      return (id !== undefined ? this.runsById.get(id) : undefined) ?? this.latestRunOf(c.key, c.run);
    }
    const etags = new Set([info.etag, info.etag.replace(/^"|"$/g, '')]);
    for (const run of this.runsByKey.get(c.key) ?? []) {
      for (const etag of etags) if (sha256Hex('ingest', run.dataset, c.key, etag) === run.idempotencyKey) return run;
    }
    return undefined;
  }

  private latestRunOf(key: string, fallback: RunRecord): RunRecord {
    const runs = this.runsByKey.get(key) ?? [];
    return runs.reduce((a, b) => (b.runKey > a.runKey ? b : a), runs[0] ?? fallback);
  }

  // ---------------------------------------------------------------- forget

  private async suppress(tokens: readonly string[], requestId: string): Promise<void> {
    const fresh = tokens.filter((t) => !this.suppressed.has(t));
    if (fresh.length === 0) return;
    await this.ports.suppression.add(fresh, requestId);
    for (const t of fresh) this.suppressed.add(t);
    this.lastSuppressionAt = this.ports.clock.now().toISOString();
  }

  private async forget(requestId: string): Promise<void> {
    this.ctx.learn = false;
    const touchedIndexes = new Map<
      string,
      { bucket: BucketRole; key: string; covers: readonly string[]; dataset: string; kept: Map<string, readonly string[]> }
    >();
    for (const state of this.candidates.values()) {
      if (!state.needsRewrite || state.gone || state.pending) continue;
      const { c } = state;
      const id = objectId(c.bucket, c.key);
      if (state.opaque) {
        const deleted = await purgeVersions(this.ports, c.bucket, c.key, { keepCurrent: false });
        this.record(id, {
          bucket: c.bucket,
          key: c.key,
          rowsBefore: 0,
          rowsAfter: 0,
          rowsRemoved: 0,
          spansRedacted: 0,
          versionsDeleted: deleted,
          action: 'removed',
        });
        state.needsRewrite = false;
        state.gone = true;
        continue;
      }
      const result = await rewriteObject(
        this.ports,
        { bucket: c.bucket, key: c.key, dataset: c.dataset, prepare: async (info) => this.layoutFor(state, info, true) },
        { originKey: ORIGIN_METADATA, requestId, onRead: () => this.read.add(id) },
      );
      state.needsRewrite = false;
      if (!result) {
        state.gone = true;
        continue;
      }
      if (result.skipped) {
        state.pending = true;
        continue;
      }
      this.record(id, {
        bucket: c.bucket,
        key: c.key,
        rowsBefore: result.rowsBefore,
        rowsAfter: result.rowsAfter,
        rowsRemoved: result.rowsRemoved,
        spansRedacted: result.spansRedacted,
        versionsDeleted: result.versionsDeleted,
        action: result.removed ? 'removed' : 'rewritten',
        ...(result.etag ? { etag: result.etag } : {}),
      });
      state.versionsCheckedGen = this.closure.generation;
      if (result.removed) state.gone = true;
      if (c.index) {
        const ix = objectId(c.index.bucket, c.index.key);
        const entry = touchedIndexes.get(ix) ?? { ...c.index, dataset: c.dataset, kept: new Map<string, readonly string[]>() };
        entry.kept.set(c.key, result.keptTokens);
        touchedIndexes.set(ix, entry);
      }
    }
    for (const ix of touchedIndexes.values()) await this.rebuildIndex(ix, requestId);
    await this.purgeOldVersions();
  }

  private record(id: string, o: ErasedObject & { etag?: string }): void {
    const prev = this.written.get(id);
    if (!prev) {
      this.written.set(id, o);
      return;
    }
    // A later pass rewrote the object again: the first pass's "before" stays, the rest adds up.
    this.written.set(id, {
      ...o,
      rowsBefore: prev.rowsBefore,
      rowsRemoved: prev.rowsRemoved + o.rowsRemoved,
      spansRedacted: prev.spansRedacted + o.spansRedacted,
      versionsDeleted: prev.versionsDeleted + o.versionsDeleted,
      action: o.action === 'versions-purged' ? prev.action : o.action,
    });
  }

  /** Rebuilds a subject index from the rows that stayed in the objects it covers. */
  private async rebuildIndex(
    ix: { bucket: BucketRole; key: string; covers: readonly string[]; dataset: string; kept: Map<string, readonly string[]> },
    requestId: string,
  ): Promise<void> {
    const builder = new SubjectIndexBuilder();
    for (const part of ix.covers) {
      let tokens = ix.kept.get(part);
      if (!tokens) {
        const state = this.candidates.get(objectId(ix.bucket, part));
        if (!state || state.gone) continue;
        const collected: string[] = [];
        try {
          const o = await this.ports.objects.get(ix.bucket, part);
          this.read.add(objectId(ix.bucket, part));
          const layout = this.layoutFor(state, o.info, false);
          if (!layout) continue;
          const p = await processObject(o.body, layout.layout, { fileName: objectId(ix.bucket, part), write: false, tokens: collected });
          for await (const _ of p.bytes) {
            // collecting tokens
          }
        } catch (err) {
          if (err instanceof ObjectNotFoundError) continue;
          throw err;
        }
        tokens = collected;
      }
      for (const t of tokens) builder.add(t);
    }
    await this.ports.objects.put(ix.bucket, ix.key, builder.finish(), {
      contentType: 'application/octet-stream',
      metadata: { [ORIGIN_METADATA]: 'erasure', 'pp-erasure-request': requestId, 'pp-dataset': ix.dataset },
      encryptionContext: { dataset: ix.dataset },
    });
    this.indexVersionsDeleted += await purgeVersions(this.ports, ix.bucket, ix.key, { keepCurrent: true });
    this.indexesRewritten++;
    this.finder.invalidate(ix);
  }

  /**
   * Candidates that were not rewritten may still keep old versions that hold the subject (a raw
   * object uploaded again without them, a raw object deleted behind a delete marker): those
   * versions are judged one by one and deleted when they do.
   */
  private async purgeOldVersions(): Promise<void> {
    for (const state of this.candidates.values()) {
      if (state.pending || state.versionsCheckedGen >= this.closure.generation) continue;
      const { c } = state;
      const victims: string[] = [];
      for await (const v of this.ports.objects.listVersions(c.bucket, c.key)) {
        if (v.key !== c.key || v.isLatest || v.isDeleteMarker || v.versionId === undefined) continue;
        const outcome = await this.judgeVersion(state, v.versionId, { pendingIsSkip: false });
        if (outcome === 'gone' || outcome === 'pending') continue;
        if (outcome.rowsRemoved + outcome.spansRedacted > 0) victims.push(v.versionId);
      }
      for (const versionId of victims) await this.ports.objects.delete(c.bucket, c.key, { versionId });
      if (victims.length > 0) {
        this.record(objectId(c.bucket, c.key), {
          bucket: c.bucket,
          key: c.key,
          rowsBefore: 0,
          rowsAfter: 0,
          rowsRemoved: 0,
          spansRedacted: 0,
          versionsDeleted: victims.length,
          action: 'versions-purged',
        });
      }
      state.versionsCheckedGen = this.closure.generation;
    }
  }

  // ---------------------------------------------------------------- verify

  /** Reads every version of every candidate again; throws when any record still belongs to the subject. */
  private async verify(requestId: string): Promise<number> {
    this.ctx.learn = false;
    const problems: string[] = [];
    let verified = 0;
    for (const state of this.candidates.values()) {
      const { c } = state;
      const id = objectId(c.bucket, c.key);
      for await (const v of this.ports.objects.listVersions(c.bucket, c.key)) {
        if (v.key !== c.key || v.isDeleteMarker) continue;
        const outcome = await this.judgeVersion(state, v.versionId, { pendingIsSkip: false });
        if (outcome === 'gone' || outcome === 'pending') continue;
        verified++;
        const remaining = outcome.rowsRemoved + outcome.spansRedacted;
        if (remaining > 0) problems.push(`${id}${v.isLatest ? '' : ` (old version)`}: ${remaining} record(s)`);
        const written = this.written.get(id);
        if (
          v.isLatest &&
          written?.etag !== undefined &&
          written.etag === outcome.etag &&
          written.action === 'rewritten' &&
          outcome.rowsBefore !== written.rowsAfter
        ) {
          problems.push(`${id}: ${outcome.rowsBefore} rows stored, ${written.rowsAfter} written`);
        }
      }
    }
    if (problems.length > 0) {
      throw new ErasureVerificationError(
        `erasure ${requestId} verification failed: ${problems.length} object(s) still hold the subject: ${problems.join('; ')}`,
        {
          requestId,
          rule: 'erasure-verification',
          objects: problems.length,
        },
      );
    }
    return verified;
  }

  /** The reason as recorded: the subject's identifiers and anything the scanner flags become [ERASED]. */
  private scrub(reason: string): string {
    const text = reason.slice(0, MAX_REASON);
    const r = redactText(this.ctx, text, true, this.req.region ?? 'GB');
    let out = r.text;
    const spans = [...this.ctx.scanner.scan(out)].sort((a, b) => b.start - a.start);
    for (const s of spans) out = `${out.slice(0, s.start)}[ERASED]${out.slice(s.end)}`;
    return out;
  }
}

/** Inflates gzip bytes as far as they go (a truncated file yields what precedes the cut). */
function gunzipBestEffort(bytes: Uint8Array): Buffer {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!(buf[0] === 0x1f && buf[1] === 0x8b)) return buf;
  try {
    return gunzipSync(buf, { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: 1 << 30 });
  } catch {
    return buf;
  }
}

function tableShape(key: string, run: RunRecord): 'csv' | 'jsonl' | undefined {
  const format = formatFromKey(key)?.format ?? run.input.format;
  return format === 'csv' || format === 'jsonl' ? format : undefined;
}

function newRequestId(at: Date, random: Uint8Array): string {
  const t = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${t}-${Buffer.from(random).toString('hex')}`;
}

/** The certificate part of an erasure lineage record. */
export function certificateOf(record: LineageRecord): ErasureCertificate {
  const { id: _id, kind: _kind, dataset: _dataset, ...rest } = record as LineageRecord & Record<string, unknown>;
  return rest as unknown as ErasureCertificate;
}
