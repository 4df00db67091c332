import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../functions/core/lineage/run-record.ts';
import { ingestObject } from '../../functions/core/pipeline/ingest-object.ts';
import { chunkStep, mergeStep, planStep } from '../../functions/handlers/fan-out-steps.ts';
import { drop, localHome, readText, type TestPorts } from '../support/local-home.ts';

const SETTINGS = { targetChunkBytes: 600, claimTtlMs: 60 * 60_000 };

function csv(n: number): string {
  const rows = ['order_id,email,phone,amount,notes'];
  for (let i = 0; i < n; i++) {
    const note = i % 4 === 0 ? `"wrote from buyer${i}@example.com,\ncall +44 7700 900${String(i).padStart(3, '0')}"` : 'ok';
    rows.push(`O${1000 + i},buyer${i}@example.com,+44 7700 900${String(i).padStart(3, '0')},${(i * 3.5).toFixed(2)},${note}`);
  }
  return `${rows.join('\n')}\n`;
}

async function curatedText(ports: TestPorts, record: RunRecord): Promise<string> {
  let text = '';
  for (const o of record.outputs.filter((x) => x.role === 'curated'))
    text += (await readText(ports, 'curated', o.key)).split('\n').slice(1).join('\n');
  return text;
}

async function keysUnder(ports: TestPorts, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for (const bucket of ['curated', 'quarantine'] as const)
    for await (const o of ports.objects.listVersions(bucket, prefix)) if (!o.isDeleteMarker) keys.push(`${bucket}/${o.key}`);
  return keys;
}

describe('fan-out steps (what the Step Functions workflow runs), without AWS', () => {
  it('plan → every chunk → merge publishes what one pass publishes, and leaves no work objects', async () => {
    await using home = await localHome();
    const { ports } = home;
    await drop(ports, 'seq/orders.csv', csv(150));
    await drop(ports, 'fan/orders.csv', csv(150));
    const seq = (await ingestObject(ports, { key: 'seq/orders.csv' })).record;
    const plan = await planStep(ports, SETTINGS, { key: 'fan/orders.csv' });
    expect(plan.done).toBe(false);
    expect(plan.chunks?.length).toBeGreaterThan(3);
    // The Distributed Map runs the chunks in any order.
    const results = [];
    for (const c of [...(plan.chunks ?? [])].reverse())
      results.push(await chunkStep(ports, { planKey: plan.planKey as string, index: c.index }));
    const merged = await mergeStep(ports, {}, { planKey: plan.planKey as string, results });
    expect(merged.status).toBe('COMPLETE');
    const record = (await ports.lineage.get(merged.runId)) as unknown as RunRecord;
    expect(record.chunks).toHaveLength(plan.chunks?.length ?? 0);
    expect(record.counts).toEqual(seq.counts);
    expect(await curatedText(ports, record)).toBe(await curatedText(ports, seq));
    expect((await keysUnder(ports, 'fan/')).filter((k) => k.includes('/_work/'))).toEqual([]);
    // A second delivery of the same upload is a duplicate.
    expect(await planStep(ports, SETTINGS, { key: 'fan/orders.csv' })).toMatchObject({ done: true, status: 'SKIPPED' });
  });

  it('a chunk that failed for good: the map error quarantines the file and removes every part', async () => {
    await using home = await localHome();
    const { ports } = home;
    await drop(ports, 'fan/bad.csv', csv(150));
    const plan = await planStep(ports, SETTINGS, { key: 'fan/bad.csv' });
    const ok0 = await chunkStep(ports, { planKey: plan.planKey as string, index: 0 });
    const ok2 = await chunkStep(ports, { planKey: plan.planKey as string, index: 2 });
    const cause = JSON.stringify({ errorType: 'InvalidFileError', errorMessage: 'fan/bad.csv: broken [rule test-broken]' });
    const failed = { index: 1, error: { Error: 'InvalidFileError', Cause: cause } };
    const merged = await mergeStep(ports, {}, { planKey: plan.planKey as string, results: [ok0, failed, ok2] });
    expect(merged.status).toBe('QUARANTINED');
    expect((await keysUnder(ports, 'fan/')).filter((k) => k.startsWith('curated/'))).toEqual([]);
  });

  it('a retried merge after its commit does not publish (or spend budget) twice', async () => {
    await using home = await localHome();
    const { ports } = home;
    await drop(ports, 'fan/twice.csv', csv(150));
    const plan = await planStep(ports, SETTINGS, { key: 'fan/twice.csv' });
    const results = [];
    for (const c of plan.chunks ?? []) results.push(await chunkStep(ports, { planKey: plan.planKey as string, index: c.index }));
    // The first merge commits; a retry of the same step (its plan object put back) finds the commit.
    const planText = await readText(ports, 'curated', plan.planKey as string);
    const first = await mergeStep(ports, {}, { planKey: plan.planKey as string, results });
    const before = await keysUnder(ports, 'fan/');
    await ports.objects.put('curated', plan.planKey as string, new TextEncoder().encode(planText), {
      encryptionContext: { dataset: 'fan' },
    });
    const second = await mergeStep(ports, {}, { planKey: plan.planKey as string, results: [] });
    expect(second).toEqual(first);
    const after = (await keysUnder(ports, 'fan/')).filter((k) => !k.includes('/_work/'));
    expect(after).toEqual(before.filter((k) => !k.includes('/_work/')));
  });

  it('skips keys that are not uploads (EventBridge sees every object)', async () => {
    await using home = await localHome();
    for (const key of ['_contracts/a.yaml', 'noprefix.csv', 'ds/run/_subjects.idx', 'ds/folder/']) {
      expect(await planStep(home.ports, SETTINGS, { key })).toEqual({ done: true, status: 'SKIPPED' });
    }
  });
});
