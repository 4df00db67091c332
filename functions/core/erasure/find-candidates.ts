/**
 * The find phase of erasure, without a full scan: lineage lists every published or quarantined
 * run and the small subject-index objects beside its outputs; only those indexes are read and
 * tested, and only the objects whose index may hold a token of the subject become candidates
 * for the exact scan.
 */
import { InvalidFileError, ObjectNotFoundError } from '../errors.ts';
import type { ObjectDigest, RunRecord } from '../lineage/run-record.ts';
import type { Ports } from '../ports.ts';
import type { BucketRole } from '../types.ts';
import { readSubjectIndex, type SubjectIndexReader } from './subject-index.ts';

/** What a candidate object is, which decides how it is read and judged. */
export type CandidateKind = 'curated' | 'quarantine-rows' | 'quarantine-file' | 'raw';

/** An object that may hold the subject and must be scanned exactly. */
export interface Candidate {
  readonly bucket: BucketRole;
  readonly key: string;
  readonly dataset: string;
  readonly kind: CandidateKind;
  /** The run that wrote the object (for raw objects: a run that read it). */
  readonly run: RunRecord;
  /** The subject index that describes the object, rebuilt when the object is rewritten. */
  readonly index?: { readonly bucket: BucketRole; readonly key: string; readonly covers: readonly string[] };
}

/** `bucket/key`, the identity of an object in the certificate and in the read counters. */
export function objectId(bucket: BucketRole, key: string): string {
  return `${bucket}/${key}`;
}

/** Runs whose outputs may hold the subject: COMPLETE and QUARANTINED, every dataset, in append order. */
export async function listErasableRuns(ports: Ports): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  for await (const r of ports.lineage.list({ kind: 'run' })) {
    const run = r as unknown as RunRecord;
    if (run.status === 'COMPLETE' || run.status === 'QUARANTINED') runs.push(run);
  }
  return runs;
}

interface IndexState {
  reader: SubjectIndexReader | undefined;
  /** The index could not be read or parsed: its objects are scanned without it. */
  unusable: boolean;
  /** How many tokens of the probe list were tested already. */
  tested: number;
  matched: boolean;
}

/**
 * Tests subject indexes incrementally: each (index, token) pair is tested once, however often
 * the token closure grows, and each index object is read once per erasure.
 */
export class CandidateFinder {
  private readonly indexes = new Map<string, IndexState>();
  private readonly found = new Map<string, Candidate>();
  private readonly runsWithMatch = new Set<string>();
  private readonly read = new Set<string>();

  constructor(private readonly ports: Ports) {}

  /** Distinct index objects read and tested so far. */
  get indexesTested(): number {
    return this.read.size;
  }

  /** Runs with at least one index that may hold a token of the probe list. */
  matchedRuns(): ReadonlySet<string> {
    return this.runsWithMatch;
  }

  /**
   * Tests the indexes of `runs` against `probe` (an append-only list: only its new tail is tested
   * against indexes seen before) and returns the candidates not returned by an earlier call.
   * Whole-file quarantine copies have no index and are always candidates.
   */
  async find(runs: readonly RunRecord[], probe: readonly string[]): Promise<Candidate[]> {
    const fresh: Candidate[] = [];
    const add = (c: Candidate) => {
      const id = objectId(c.bucket, c.key);
      if (this.found.has(id)) return;
      this.found.set(id, c);
      fresh.push(c);
    };
    for (const run of runs) {
      const curatedParts = run.outputs.filter((o) => o.role === 'curated');
      const quarantineRows = run.outputs.filter((o) => o.role === 'quarantine-rows');
      const indexes = run.outputs.filter((o) => o.role === 'subject-index');
      const curatedIndex = indexes.find((o) => o.bucket === 'curated');
      const quarantineIndex = indexes.find((o) => o.bucket === 'quarantine');

      let curatedMatch = false;
      if (curatedParts.length > 0) {
        // A run without an index (older layout) is scanned: never a silent miss.
        curatedMatch = curatedIndex ? await this.test(curatedIndex, probe) : true;
        if (curatedMatch) {
          const covers = curatedParts.map((o) => o.key);
          for (const o of curatedParts) {
            add({
              bucket: 'curated',
              key: o.key,
              dataset: run.dataset,
              kind: 'curated',
              run,
              ...(curatedIndex ? { index: { bucket: 'curated', key: curatedIndex.key, covers } } : {}),
            });
          }
        }
      }
      let quarantineMatch = false;
      if (quarantineRows.length > 0) {
        quarantineMatch = quarantineIndex ? await this.test(quarantineIndex, probe) : true;
        // Rows that could not be tokenised at ingest are not in the index: scan them regardless.
        const mustScan = quarantineMatch || quarantineIndex?.exhaustive === false;
        if (mustScan) {
          const covers = quarantineRows.map((o) => o.key);
          for (const o of quarantineRows) {
            add({
              bucket: 'quarantine',
              key: o.key,
              dataset: run.dataset,
              kind: 'quarantine-rows',
              run,
              ...(quarantineIndex ? { index: { bucket: 'quarantine', key: quarantineIndex.key, covers } } : {}),
            });
          }
        }
      }
      for (const o of run.outputs) {
        if (o.role === 'quarantine-file') add({ bucket: 'quarantine', key: o.key, dataset: run.dataset, kind: 'quarantine-file', run });
      }
      if (curatedMatch || quarantineMatch) {
        this.runsWithMatch.add(run.id);
        add(rawCandidate(run));
      }
    }
    return fresh;
  }

  /** Forgets what is known about an index (after erasure rewrote it). */
  invalidate(index: { bucket: BucketRole; key: string }): void {
    this.indexes.delete(objectId(index.bucket, index.key));
  }

  private async test(digest: ObjectDigest, probe: readonly string[]): Promise<boolean> {
    const id = objectId(digest.bucket, digest.key);
    let state = this.indexes.get(id);
    if (!state) {
      state = await this.load(digest);
      this.indexes.set(id, state);
    }
    if (state.matched) return true;
    if (state.unusable) {
      state.matched = true;
      return true;
    }
    const reader = state.reader as SubjectIndexReader;
    for (; state.tested < probe.length; state.tested++) {
      if (reader.mayContain(probe[state.tested] as string)) {
        state.matched = true;
        state.tested++;
        return true;
      }
    }
    return false;
  }

  private async load(digest: ObjectDigest): Promise<IndexState> {
    this.read.add(objectId(digest.bucket, digest.key));
    try {
      const { body } = await this.ports.objects.get(digest.bucket, digest.key);
      const reader = readSubjectIndex(await collect(body));
      return { reader, unusable: false, tested: 0, matched: false };
    } catch (err) {
      // A missing or corrupt index proves nothing: its objects are scanned in full.
      if (err instanceof ObjectNotFoundError || err instanceof InvalidFileError) {
        this.ports.logger.warn('subject index unusable, scanning its objects', { bucket: digest.bucket, key: digest.key, error: err.name });
        return { reader: undefined, unusable: true, tested: 0, matched: true };
      }
      throw err;
    }
  }
}

/** The retained raw drop a run read (its current version is what erasure rewrites). */
export function rawCandidate(run: RunRecord): Candidate {
  return { bucket: 'ingest', key: run.input.key, dataset: run.dataset, kind: 'raw', run };
}

/** Reads a whole (small) body. */
export async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of body) {
    chunks.push(c);
    size += c.byteLength;
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
