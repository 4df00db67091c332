/**
 * Orphaned outputs: objects in the curated, quarantine and aggregates buckets that no committed
 * lineage record lists. They appear when a run wrote parts and then never committed (retries
 * exhausted, a crash before the lineage write, a parallel run whose merge failed). Erasure works
 * from lineage, so an orphan would hold a subject's tokens, or raw quarantined rows, where no
 * erasure looks: the sweep deletes every version of each orphan once it is older than a grace
 * period (so in-flight runs are left alone) and records what it removed in lineage.
 *
 * Raw objects in the ingest bucket are never deleted here: the ones no committed run has read
 * (failed runs, messages still in the dead-letter queue) are reported, because erasure cannot
 * search them until they are re-driven.
 */

import { purgeVersions } from '../erasure/rewrite-object.ts';
import type { ObjectDigest, RunRecord } from '../lineage/run-record.ts';
import type { LineageRecord, Ports } from '../ports.ts';
import type { BucketRole } from '../types.ts';

/** Buckets whose objects are all written by the pipeline and listed in lineage. */
export const SWEPT_BUCKETS: readonly BucketRole[] = ['curated', 'quarantine', 'aggregates'];

/** One day: longer than any run, its retries and a fan-out's Distributed Map. */
export const DEFAULT_SWEEP_GRACE_MS = 24 * 60 * 60 * 1000;

export interface SweepOptions {
  /** Only objects last written longer ago than this are orphans. @default DEFAULT_SWEEP_GRACE_MS */
  readonly olderThanMs?: number;
  /** Report without deleting or recording anything. */
  readonly dryRun?: boolean;
  /** Only these datasets (default: all). */
  readonly datasets?: readonly string[];
}

export interface OrphanObject {
  readonly bucket: BucketRole;
  readonly key: string;
  readonly dataset: string;
  readonly size: number;
  readonly lastModified: string;
  /** Versions (and delete markers) deleted for good; 0 in a dry run and in stores without versions. */
  readonly versionsDeleted: number;
}

export interface SweepReport {
  readonly at: string;
  readonly dryRun: boolean;
  readonly olderThanMs: number;
  /** Objects listed in the swept buckets. */
  readonly objectsChecked: number;
  /** Objects that lineage lists (kept). */
  readonly objectsKnown: number;
  readonly orphans: readonly OrphanObject[];
  /** Unlisted objects younger than the grace period: left for runs that may still commit. */
  readonly tooYoung: number;
  readonly versionsDeleted: number;
  readonly bytesFreed: number;
  /** Raw objects no committed run has read: erasure cannot search them until they are re-driven. */
  readonly unprocessedRaw: readonly { readonly key: string; readonly dataset: string; readonly lastModified: string }[];
  /** Lineage records written (one per dataset with orphans removed). */
  readonly recordIds: readonly string[];
}

const COMMITTED = new Set(['COMPLETE', 'QUARANTINED', 'SKIPPED']);

/** `bucket/key` of every object a committed lineage record names, and the raw keys committed runs read. */
async function knownObjects(ports: Ports): Promise<{ outputs: Set<string>; rawRead: Set<string> }> {
  const outputs = new Set<string>();
  const rawRead = new Set<string>();
  for await (const r of ports.lineage.list()) {
    if (r.kind === 'run') {
      const run = r as unknown as RunRecord;
      if (!COMMITTED.has(run.status)) continue;
      rawRead.add(run.input.key);
    }
    const listed = (r as Record<string, unknown>).outputs;
    if (!Array.isArray(listed)) continue;
    for (const o of listed as ObjectDigest[]) {
      if (o && typeof o.bucket === 'string' && typeof o.key === 'string') outputs.add(`${o.bucket}/${o.key}`);
    }
  }
  return { outputs, rawRead };
}

function datasetOf(key: string): string {
  const i = key.indexOf('/');
  return i < 0 ? key : key.slice(0, i);
}

/** Finds (and unless dryRun, deletes and records) orphaned outputs. */
export async function sweepOrphans(ports: Ports, opts: SweepOptions = {}): Promise<SweepReport> {
  const olderThanMs = opts.olderThanMs ?? DEFAULT_SWEEP_GRACE_MS;
  if (!Number.isFinite(olderThanMs) || olderThanMs < 0) throw new RangeError('olderThanMs must be a non-negative number of milliseconds');
  const dryRun = opts.dryRun === true;
  const now = ports.clock.now();
  const cutoff = now.getTime() - olderThanMs;
  const wanted = opts.datasets ? new Set(opts.datasets) : undefined;
  const prefixes = opts.datasets ? opts.datasets.map((d) => `${d}/`) : [''];
  // Lineage is read before the listing: a run that commits in between has outputs newer than the
  // listing's view of lineage, which the grace period protects.
  const { outputs, rawRead } = await knownObjects(ports);

  let objectsChecked = 0;
  let objectsKnown = 0;
  let tooYoung = 0;
  const found: Omit<OrphanObject, 'versionsDeleted'>[] = [];
  for (const bucket of SWEPT_BUCKETS) {
    for (const prefix of prefixes) {
      for await (const o of ports.objects.list(bucket, prefix)) {
        objectsChecked++;
        if (outputs.has(`${bucket}/${o.key}`)) {
          objectsKnown++;
          continue;
        }
        if (o.lastModified.getTime() > cutoff) {
          tooYoung++;
          continue;
        }
        found.push({ bucket, key: o.key, dataset: datasetOf(o.key), size: o.size, lastModified: o.lastModified.toISOString() });
      }
    }
  }

  const unprocessedRaw: { key: string; dataset: string; lastModified: string }[] = [];
  for (const prefix of prefixes) {
    for await (const o of ports.objects.list('ingest', prefix)) {
      // Contracts and other reserved objects (`_` segments) are not data.
      if (o.key.split('/').some((s) => s.startsWith('_'))) continue;
      if (rawRead.has(o.key) || o.lastModified.getTime() > cutoff) continue;
      unprocessedRaw.push({ key: o.key, dataset: datasetOf(o.key), lastModified: o.lastModified.toISOString() });
    }
  }

  const orphans: OrphanObject[] = [];
  for (const f of found) {
    const versionsDeleted = dryRun ? 0 : await purgeVersions(ports, f.bucket, f.key, { keepCurrent: false });
    orphans.push({ ...f, versionsDeleted });
  }

  const recordIds: string[] = [];
  if (!dryRun && orphans.length > 0) {
    const at = now.toISOString();
    const byDataset = new Map<string, OrphanObject[]>();
    for (const o of orphans) byDataset.set(o.dataset, [...(byDataset.get(o.dataset) ?? []), o]);
    for (const [dataset, objects] of byDataset) {
      if (wanted && !wanted.has(dataset)) continue;
      const id = `sweep-${at.replace(/[-:.]/g, '')}-${dataset}`;
      const record: LineageRecord = {
        id,
        kind: 'sweep',
        dataset,
        at,
        olderThanMs,
        objects: objects.map((o) => ({
          bucket: o.bucket,
          key: o.key,
          size: o.size,
          lastModified: o.lastModified,
          versionsDeleted: o.versionsDeleted,
        })),
      };
      await ports.lineage.append(record);
      recordIds.push(id);
    }
    ports.logger.info('orphaned outputs removed', { objects: orphans.length, datasets: byDataset.size });
  }

  return {
    at: now.toISOString(),
    dryRun,
    olderThanMs,
    objectsChecked,
    objectsKnown,
    orphans,
    tooYoung,
    versionsDeleted: orphans.reduce((a, o) => a + o.versionsDeleted, 0),
    bytesFreed: dryRun ? 0 : orphans.reduce((a, o) => a + o.size, 0),
    unprocessedRaw,
    recordIds,
  };
}
