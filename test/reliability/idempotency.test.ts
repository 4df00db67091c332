/**
 * Idempotency of the local path: concurrent runs of one input, a CLI process killed while it held
 * the claim, the same file run twice through the CLI, and the exactly-once DP release.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsIdempotencyStore } from '../../functions/adapters/local/fs-idempotency-store.ts';
import { InProgressError } from '../../functions/core/errors.ts';
import { sha256Hex } from '../../functions/core/pipeline/digest.ts';
import { ingestObject } from '../../functions/core/pipeline/ingest-object.ts';
import type { LineageRecord } from '../../functions/core/ports.ts';
import { runCli, tempDir } from '../support/cli.ts';
import { faultyPorts } from '../support/faulty-ports.ts';
import { CONTRACT, DATASET, dropText, expectConverged, peopleCsv, publishedRows, runsOf, skewedHome } from './helpers.ts';

const KEY = `${DATASET}/file.csv`;

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('idempotency of local ingest', () => {
  it('two concurrent runs of one input: one publishes, the other is told it is in progress, a later one is a duplicate', async () => {
    await using home = await skewedHome();
    const { csv, emails } = peopleCsv(300);
    await home.ports.contracts.put(DATASET, CONTRACT);
    await dropText(home.ports, KEY, csv);
    const reached = deferred();
    const gate = deferred();
    const first = faultyPorts(home.ports, []);
    first.onCall = async (call) => {
      if (call.port === 'lineage' && call.op === 'append' && (call.args[0] as LineageRecord).kind === 'run') {
        reached.resolve();
        await gate.promise;
      }
    };
    const running = ingestObject(first.ports, { key: KEY });
    await reached.promise;
    await expect(ingestObject(home.ports, { key: KEY })).rejects.toBeInstanceOf(InProgressError);
    gate.resolve();
    expect((await running).status).toBe('COMPLETE');
    const later = await ingestObject(home.ports, { key: KEY });
    expect(later).toMatchObject({ duplicate: true, status: 'SKIPPED' });
    await expectConverged(home.ports, { rowsIn: 300, quarantined: 0, emails });
  });

  it('many concurrent runs of one input publish once', async () => {
    await using home = await skewedHome();
    const { csv, emails } = peopleCsv(200);
    await home.ports.contracts.put(DATASET, CONTRACT);
    await dropText(home.ports, KEY, csv);
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => ingestObject(home.ports, { key: KEY })));
    const fresh = results.filter((r) => r.status === 'fulfilled' && !r.value.duplicate);
    expect(fresh).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(InProgressError);
    await expectConverged(home.ports, { rowsIn: 200, quarantined: 0, emails });
  });

  it('a claim held by a killed process is taken over at once; one held by a live process is not', async () => {
    await using home = await skewedHome();
    await home.ports.contracts.put(DATASET, CONTRACT);
    const { csv, emails } = peopleCsv(100);
    await dropText(home.ports, KEY, csv);
    const head = await home.ports.objects.head('ingest', KEY);
    const idempotencyKey = sha256Hex('ingest', DATASET, KEY, head?.etag ?? '');
    // A live holder (another invocation of this process) blocks the run.
    const store = new FsIdempotencyStore(home.ports.home);
    expect(await store.claim(idempotencyKey, 'live-owner', 60_000)).toEqual({ status: 'claimed' });
    await expect(ingestObject(home.ports, { key: KEY })).rejects.toBeInstanceOf(InProgressError);
    await store.release(idempotencyKey, 'live-owner');
    // A CLI run killed after it claimed the input: its process is gone, its claim is not.
    const script = `
      import { FsIdempotencyStore } from ${JSON.stringify(new URL('../../functions/adapters/local/fs-idempotency-store.ts', import.meta.url).pathname)};
      const s = new FsIdempotencyStore(${JSON.stringify(home.ports.home)});
      const r = await s.claim(${JSON.stringify(idempotencyKey)}, 'killed-owner', 15 * 60_000);
      if (r.status !== 'claimed') process.exit(3);
      process.exit(0); // dies holding the claim
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    expect(await store.claim(idempotencyKey, 'third', 60_000)).toEqual({ status: 'claimed' }); // taken over
    await store.release(idempotencyKey, 'third');
    const child2 = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child2.status, child2.stderr).toBe(0);
    const { status } = await ingestObject(home.ports, { key: KEY });
    expect(status).toBe('COMPLETE');
    await expectConverged(home.ports, { rowsIn: 100, quarantined: 0, emails });
  });

  it('the CLI run twice on the same file publishes once', async () => {
    await using dir = await tempDir();
    const { csv } = peopleCsv(50);
    const file = join(dir.path, `${DATASET}.csv`);
    await writeFile(file, csv);
    await writeFile(join(dir.path, `${DATASET}.contract.yaml`), CONTRACT);
    const env = { PRIVACY_PIPELINE_HOME: join(dir.path, 'home') };
    const first = await runCli(['run', file, '--json'], { cwd: dir.path, env });
    expect(first.code, first.stderr).toBe(0);
    const second = await runCli(['run', file, '--json'], { cwd: dir.path, env });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/"duplicate": ?true/);
    const read = await runCli(['read', DATASET, '--format', 'csv'], { cwd: dir.path, env });
    expect(read.stdout.trim().split('\n')).toHaveLength(51);
  });

  it('a release is drawn once: a retry after the release record replays it instead of failing forever', async () => {
    await using home = await skewedHome();
    const { csv, emails } = peopleCsv(200);
    await home.ports.contracts.put(DATASET, CONTRACT);
    await dropText(home.ports, KEY, csv);
    // The run record fails once, after the release record was appended (a transient failure).
    const faulty = faultyPorts(home.ports, [
      {
        port: 'lineage',
        op: 'append',
        match: (a) => (a[0] as LineageRecord).kind === 'run',
        fault: { kind: 'reject', error: () => new Error('connection reset') },
      },
    ]);
    await expect(ingestObject(faulty.ports, { key: KEY })).rejects.toThrow('connection reset');
    expect(await runsOf(home.ports, 'release')).toHaveLength(1);
    expect(await publishedRows(home.ports)).toBe(0);
    const retry = await ingestObject(faulty.ports, { key: KEY });
    expect(retry.status).toBe('COMPLETE');
    await expectConverged(home.ports, { rowsIn: 200, quarantined: 0, emails });
  });
});
