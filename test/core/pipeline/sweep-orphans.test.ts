import { describe, expect, it } from 'vitest';
import { eraseSubject } from '../../../functions/core/erasure/erase-subject.ts';
import { ingestObject } from '../../../functions/core/pipeline/ingest-object.ts';
import { sweepOrphans } from '../../../functions/core/pipeline/sweep-orphans.ts';
import type { Ports } from '../../../functions/core/ports.ts';
import { faultyPorts } from '../../support/faulty-ports.ts';
import { drop, everyObjectText, localHome } from '../../support/local-home.ts';

const CSV = 'customer_id,email,segment\nC1,ann.orphan@example.com,smb\nC2,bob@example.com,consumer\n';
const DAY = 86_400_000;

/** The same ports, seen from `ms` later. */
const later = (ports: Ports, ms: number): Ports => ({ ...ports, clock: { now: () => new Date(Date.now() + ms) } });

/** A run that wrote its outputs and crashed before its lineage record: what the sweep is for. */
async function crashedRun(ports: Ports, key: string): Promise<void> {
  await drop(ports as Parameters<typeof drop>[0], key, CSV);
  const faulty = faultyPorts(ports, [{ port: 'lineage', op: 'append', fault: { kind: 'crash', when: 'before' } }]);
  // A 1 ms claim: the retry below may take over at once, as after a Lambda timeout.
  await expect(ingestObject(faulty.ports, { key }, { config: { claimTtlMs: 1 } })).rejects.toThrow();
}

async function keysIn(ports: Ports, bucket: 'curated' | 'quarantine' | 'aggregates'): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of ports.objects.list(bucket, '')) keys.push(o.key);
  return keys;
}

describe('sweepOrphans', () => {
  it('leaves a clean store alone: every output is listed in lineage', async () => {
    await using home = await localHome();
    await drop(home.ports, 'people/a.csv', CSV);
    const { record } = await ingestObject(home.ports, { key: 'people/a.csv' });
    const report = await sweepOrphans(later(home.ports, 2 * DAY), { olderThanMs: DAY });
    expect(report.orphans).toEqual([]);
    expect(report.objectsKnown).toBe(report.objectsChecked);
    expect(report.objectsChecked).toBe(record.outputs.length);
    expect(report.unprocessedRaw).toEqual([]);
    expect(report.recordIds).toEqual([]);
  });

  it('deletes every version of the outputs of a run that never committed, and records it', async () => {
    await using home = await localHome();
    await crashedRun(home.ports, 'people/crashed.csv');
    const left = await keysIn(home.ports, 'curated');
    expect(left.length).toBeGreaterThan(0);

    // Inside the grace period: an in-flight run may still commit.
    const early = await sweepOrphans(home.ports, { olderThanMs: DAY });
    expect(early.orphans).toEqual([]);
    expect(early.tooYoung).toBe(early.objectsChecked);

    const dry = await sweepOrphans(later(home.ports, 2 * DAY), { olderThanMs: DAY, dryRun: true });
    expect(dry.orphans.map((o) => o.key)).toEqual(expect.arrayContaining(left));
    expect(await keysIn(home.ports, 'curated')).toEqual(left);
    expect(dry.unprocessedRaw.map((r) => r.key)).toEqual(['people/crashed.csv']);

    const swept = await sweepOrphans(later(home.ports, 2 * DAY), { olderThanMs: DAY });
    expect(swept.orphans.length).toBe(dry.orphans.length);
    expect(swept.versionsDeleted).toBeGreaterThanOrEqual(swept.orphans.length);
    for (const bucket of ['curated', 'quarantine', 'aggregates'] as const) expect(await keysIn(home.ports, bucket)).toEqual([]);
    // Nothing but the raw drop holds the subject any more, in any version.
    const holders = (await everyObjectText(home.ports)).filter((o) => o.text.includes('ann.orphan'));
    expect(holders.map((o) => `${o.bucket}/${o.key}`)).toEqual(['ingest/people/crashed.csv']);
    // The sweep is in lineage, by dataset, with keys and sizes only.
    const record = await home.ports.lineage.get(swept.recordIds[0] ?? '');
    expect(record).toMatchObject({ kind: 'sweep', dataset: 'people', olderThanMs: DAY });
    expect(JSON.stringify(record)).not.toContain('ann.orphan');
    expect(record?.objects).toHaveLength(swept.orphans.length);
  });

  it('keeps committed runs when an orphan sits beside them, and a later retry re-publishes', async () => {
    await using home = await localHome();
    await drop(home.ports, 'people/good.csv', CSV);
    const { record } = await ingestObject(home.ports, { key: 'people/good.csv' });
    await crashedRun(home.ports, 'orders/crashed.csv');
    const swept = await sweepOrphans(later(home.ports, 2 * DAY), { olderThanMs: DAY });
    expect(swept.orphans.every((o) => o.dataset === 'orders')).toBe(true);
    for (const o of record.outputs) expect(await home.ports.objects.head(o.bucket, o.key)).toBeDefined();
    // The retry of the crashed input commits normally; nothing is orphaned afterwards.
    await new Promise((r) => setTimeout(r, 5));
    const retry = await ingestObject(home.ports, { key: 'orders/crashed.csv' });
    expect(retry.record.status).toBe('COMPLETE');
    const after = await sweepOrphans(later(home.ports, 2 * DAY), { olderThanMs: DAY });
    expect(after.orphans).toEqual([]);
    expect(after.unprocessedRaw).toEqual([]);
  });

  it('erasure certificates count what lineage does not list, and a sweep brings it to zero', async () => {
    await using home = await localHome();
    await drop(home.ports, 'people/good.csv', CSV);
    await ingestObject(home.ports, { key: 'people/good.csv' });
    const clean = await eraseSubject(home.ports, { identifier: 'bob@example.com', requestId: 'r-clean' });
    expect(clean.notSearched).toEqual({ orphanedOutputs: 0, unprocessedRaw: 0 });

    await crashedRun(home.ports, 'people/crashed.csv');
    const dirty = await eraseSubject(home.ports, { identifier: 'ann.orphan@example.com', requestId: 'r-dirty' });
    expect(dirty.notSearched?.orphanedOutputs).toBeGreaterThan(0);
    expect(dirty.notSearched?.unprocessedRaw).toBe(1);

    await sweepOrphans(home.ports, { olderThanMs: 0 });
    const after = await eraseSubject(home.ports, { identifier: 'ann.orphan@example.com', requestId: 'r-after' });
    expect(after.notSearched).toEqual({ orphanedOutputs: 0, unprocessedRaw: 1 });
  });

  it('limits itself to the datasets asked for', async () => {
    await using home = await localHome();
    await crashedRun(home.ports, 'people/x.csv');
    await crashedRun(home.ports, 'orders/y.csv');
    const swept = await sweepOrphans(later(home.ports, 2 * DAY), { olderThanMs: DAY, datasets: ['orders'] });
    expect(new Set(swept.orphans.map((o) => o.dataset))).toEqual(new Set(['orders']));
    expect((await keysIn(home.ports, 'curated')).every((k) => k.startsWith('people/'))).toBe(true);
  });

  it('rejects a negative grace period', async () => {
    await using home = await localHome();
    await expect(sweepOrphans(home.ports, { olderThanMs: -1 })).rejects.toThrow(/olderThanMs/);
  });
});
