/**
 * Shared fixtures of the reliability tests: a dataset with PII, a contract with a DP release,
 * a retry driver that behaves like the platform, and the convergence check.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createLocalPorts } from '../../functions/adapters/local/local-ports.ts';
import { isTransient, UsageError } from '../../functions/core/errors.ts';
import type { RunRecord } from '../../functions/core/lineage/run-record.ts';
import { ingestObject } from '../../functions/core/pipeline/ingest-object.ts';
import type { IngestInput, IngestResult } from '../../functions/core/pipeline/ingest-types.ts';
import { readDataset } from '../../functions/core/pipeline/read-dataset.ts';
import type { Ports } from '../../functions/core/ports.ts';
import type { BucketRole } from '../../functions/core/types.ts';
import type { FaultyPorts } from '../support/faulty-ports.ts';
import { SkewClock } from '../support/faulty-ports.ts';

export const DATASET = 'people';
export const CLAIM_TTL_MS = 60_000;
export const RELEASE_EPSILON = 0.25;
export const TOTAL_BUDGET = { epsilon: 1, delta: 0 };

export const CONTRACT = `
dataset: people
subjectKey: customer_id
maxInvalidRowShare: 0.2
columns:
  - { name: customer_id, nullable: false, unique: true }
  - { name: email, nullable: false }
  - { name: segment, enum: [smb, consumer] }
  - { name: amount, type: integer, min: 0, max: 100000 }
privacyBudget: { epsilon: 1, delta: 0 }
aggregates:
  - { id: total, kind: count, epsilon: ${RELEASE_EPSILON} }
`;

/** `n` rows (more than the pipeline's channel holds, so a stalled writer would show), `bad` of them breaking the enum. */
export function peopleCsv(n: number, bad: ReadonlySet<number> = new Set()): { csv: string; emails: string[] } {
  const emails: string[] = [];
  const lines = ['customer_id,email,segment,amount'];
  for (let i = 0; i < n; i++) {
    const email = `person.${i}.x@example.org`;
    emails.push(email);
    lines.push(`C${100000 + i},${email},${bad.has(i) ? 'gold' : i % 3 ? 'smb' : 'consumer'},${(i * 37) % 1000}`);
  }
  return { csv: `${lines.join('\n')}\n`, emails };
}

export type LocalTestPorts = Awaited<ReturnType<typeof createLocalPorts>>;

/** A throwaway home whose clock can jump past claim expiry. */
export async function skewedHome(): Promise<{ ports: LocalTestPorts; clock: SkewClock; [Symbol.asyncDispose](): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'pp-rel-'));
  const clock = new SkewClock();
  const ports = await createLocalPorts(join(dir, 'home'), { logLevel: 'silent', clock });
  return { ports, clock, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) };
}

export async function dropText(ports: Ports, key: string, text: string): Promise<void> {
  const dataset = key.split('/')[0] ?? '';
  await ports.objects.put('ingest', key, new TextEncoder().encode(text), { encryptionContext: { dataset } });
}

export async function bytesOf(ports: Ports, bucket: BucketRole, key: string, versionId?: string): Promise<Buffer> {
  const { body } = await ports.objects.get(bucket, key, versionId ? { versionId } : undefined);
  const chunks: Uint8Array[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks);
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Settles within `ms` or fails the test with a clear reason (a hung pipeline, not a timing assertion). */
export async function settles<T>(p: Promise<T>, what: string, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle: the pipeline hangs`)), ms);
  });
  try {
    return await Promise.race([p, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Ingests like the platform does: a transient failure is retried (a crashed process is replaced
 * and its claim left to expire); after every failed attempt readers see all rows of the file
 * (the failure came after the lineage commit) or none, never a part.
 */
export async function ingestWithRetries(
  faulty: FaultyPorts,
  clock: SkewClock,
  base: Ports,
  input: IngestInput,
  expectedRows: number,
  maxAttempts = 8,
): Promise<{ result: IngestResult; attempts: number; errors: string[] }> {
  const errors: string[] = [];
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    try {
      const result = await settles(ingestObject(faulty.ports, input, { config: { claimTtlMs: CLAIM_TTL_MS } }), `attempt ${attempt}`);
      return { result, attempts: attempt, errors };
    } catch (err) {
      errors.push(err instanceof Error ? err.name : String(err));
      // Every injected fault is one the platform retries, never a quarantine of good data.
      expect(isTransient(err), `attempt ${attempt} failed permanently: ${String(err)}`).toBe(true);
      // Never partial: nothing, or (a failure after the lineage commit) the whole publication.
      expect([0, expectedRows]).toContain(await publishedRows(base));
      if (faulty.crashed) {
        faulty.revive();
        clock.advance(CLAIM_TTL_MS + 1_000);
      }
    }
  }
  throw new Error(`no success after ${maxAttempts} attempts: ${errors.join(', ')}`);
}

/** Rows a reader sees in the dataset (0 when nothing is published). */
export async function publishedRows(ports: Ports): Promise<number> {
  try {
    const view = await readDataset(ports, DATASET);
    let n = 0;
    for await (const _ of view.rows) n++;
    return n;
  } catch (err) {
    if (err instanceof UsageError) return 0;
    throw err;
  }
}

export async function runsOf(ports: Ports, kind: 'run' | 'release' = 'run'): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  for await (const r of ports.lineage.list({ dataset: DATASET, kind })) out.push(r as unknown as RunRecord);
  return out;
}

/**
 * Exactly one publication with its lineage: one COMPLETE run and one release, counts conserved,
 * the budget charged once, every output lineage names is the current object with the recorded
 * digest, no current object outside lineage, every version of an output holds the same rows
 * (a retry overwrote the same keys with the same bytes), and readers see each row once.
 */
export async function expectConverged(
  ports: Ports,
  expected: { rowsIn: number; quarantined: number; emails: readonly string[] },
): Promise<RunRecord> {
  const runs = await runsOf(ports);
  expect(runs.map((r) => r.status)).toEqual(['COMPLETE']);
  const run = runs[0] as RunRecord;
  expect(run.counts).toMatchObject({
    rowsIn: expected.rowsIn,
    rowsPublished: expected.rowsIn - expected.quarantined,
    rowsQuarantined: expected.quarantined,
    conserved: true,
  });
  expect(await runsOf(ports, 'release')).toHaveLength(1);
  const budget = await ports.budget.get(DATASET, TOTAL_BUDGET);
  expect(budget.spent.epsilon).toBe(RELEASE_EPSILON);

  const named = new Set<string>();
  for (const o of run.outputs) {
    named.add(`${o.bucket}/${o.key}`);
    const head = await ports.objects.head(o.bucket, o.key);
    expect(head?.versionId, `${o.bucket}/${o.key} is the recorded version`).toBe(o.versionId);
    expect(sha256(await bytesOf(ports, o.bucket, o.key)), `${o.bucket}/${o.key} matches lineage`).toBe(o.sha256);
    if (o.role === 'curated' || o.role === 'quarantine-rows' || o.role === 'subject-index') {
      const digests = new Set<string>();
      for await (const v of ports.objects.listVersions(o.bucket, o.key)) {
        if (v.key === o.key && !v.isDeleteMarker) digests.add(sha256(await bytesOf(ports, o.bucket, o.key, v.versionId)));
      }
      expect(digests.size, `every version of ${o.key} holds the same bytes`).toBe(1);
    }
  }
  for (const bucket of ['curated', 'quarantine', 'aggregates'] as const) {
    for await (const o of ports.objects.list(bucket, `${DATASET}/`)) {
      expect(named.has(`${bucket}/${o.key}`), `${bucket}/${o.key} is not named by lineage (orphan)`).toBe(true);
    }
  }
  // Every version of the DP release holds the same noisy values: noise was drawn once.
  const aggregates = run.outputs.find((o) => o.role === 'aggregates' && o.key.endsWith('.json'));
  expect(aggregates).toBeDefined();
  const drawn = new Set<string>();
  for await (const v of ports.objects.listVersions('aggregates', aggregates?.key ?? '')) {
    const doc = JSON.parse((await bytesOf(ports, 'aggregates', v.key, v.versionId)).toString('utf8')) as { releases: unknown };
    drawn.add(JSON.stringify(doc.releases));
  }
  expect(drawn.size).toBe(1);

  const view = await readDataset(ports, DATASET);
  const ids = new Set<string>();
  let rows = 0;
  const text: string[] = [];
  for await (const r of view.rows) {
    rows++;
    ids.add(String(r[view.columns.indexOf('customer_id')]));
    text.push(r.join(','));
  }
  expect(rows).toBe(expected.rowsIn - expected.quarantined);
  expect(ids.size).toBe(rows);
  const all = text.join('\n');
  for (const e of expected.emails.slice(0, 50)) expect(all).not.toContain(e);
  return run;
}
