import { describe, expect, it } from 'vitest';
import { FsIdempotencyStore } from '../../../functions/adapters/local/fs-idempotency-store.ts';
import { ConflictError, UsageError } from '../../../functions/core/errors.ts';
import type { ClaimResult } from '../../../functions/core/ports.ts';
import { runTogether, startWorker } from './helpers/spawn-worker.ts';
import { tempHome } from './helpers/temp-home.ts';

function manualClock(start = '2026-01-01T00:00:00.000Z') {
  let now = Date.parse(start);
  return {
    now: () => new Date(now),
    advance: (ms: number): void => {
      now += ms;
    },
  };
}

const KEY = 'ingest/customers/a.csv#v1#etag';

describe('FsIdempotencyStore', () => {
  it('claims, reports in-progress to others, and answers retries with the result once completed', async () => {
    const clock = manualClock();
    const store = new FsIdempotencyStore(await tempHome(), clock);
    expect(await store.claim(KEY, 'inv-1', 60_000)).toEqual({ status: 'claimed' });
    expect(await store.claim(KEY, 'inv-2', 60_000)).toEqual({
      status: 'in-progress',
      owner: 'inv-1',
      expiresAt: '2026-01-01T00:01:00.000Z',
    });
    // The same owner retrying renews its own claim.
    clock.advance(30_000);
    expect(await store.claim(KEY, 'inv-1', 60_000)).toEqual({ status: 'claimed' });
    expect(await store.claim(KEY, 'inv-2', 60_000)).toMatchObject({ status: 'in-progress', expiresAt: '2026-01-01T00:01:30.000Z' });
    await store.complete(KEY, 'inv-1', { runId: 'run-1', outputs: 2 });
    await store.complete(KEY, 'inv-1', { runId: 'run-1', outputs: 2 }); // repeated: fine
    expect(await store.claim(KEY, 'inv-3', 60_000)).toEqual({ status: 'completed', result: { runId: 'run-1', outputs: 2 } });
    clock.advance(365 * 24 * 3600_000);
    expect(await store.claim(KEY, 'inv-3', 60_000)).toMatchObject({ status: 'completed' });
    expect(await store.claim('other-key', 'inv-3', 60_000)).toEqual({ status: 'claimed' });
  });

  it.each([
    ['one millisecond before expiry', 59_999, 'in-progress'],
    ['at expiry', 60_000, 'claimed'],
    ['long after expiry', 3_600_000, 'claimed'],
  ])('another owner %s gets %s', async (_case, elapsed, status) => {
    const clock = manualClock();
    const store = new FsIdempotencyStore(await tempHome(), clock);
    await store.claim(KEY, 'inv-1', 60_000);
    clock.advance(elapsed);
    expect((await store.claim(KEY, 'inv-2', 60_000)).status).toBe(status);
  });

  it('after a takeover the old owner can neither complete nor release', async () => {
    const clock = manualClock();
    const store = new FsIdempotencyStore(await tempHome(), clock);
    await store.claim(KEY, 'slow', 1_000);
    clock.advance(5_000);
    expect(await store.claim(KEY, 'fast', 60_000)).toEqual({ status: 'claimed' });
    await expect(store.complete(KEY, 'slow', { runId: 'slow' })).rejects.toThrow(ConflictError);
    await store.release(KEY, 'slow');
    expect(await store.claim(KEY, 'third', 60_000)).toMatchObject({ status: 'in-progress', owner: 'fast' });
    await store.complete(KEY, 'fast', { runId: 'fast' });
    await expect(store.complete(KEY, 'slow', { runId: 'slow' })).rejects.toThrow(ConflictError);
    expect(await store.claim(KEY, 'third', 60_000)).toEqual({ status: 'completed', result: { runId: 'fast' } });
  });

  it('release lets a retry run; completing an unclaimed key is a conflict', async () => {
    const store = new FsIdempotencyStore(await tempHome(), manualClock());
    await store.claim(KEY, 'inv-1', 60_000);
    await store.release(KEY, 'inv-1');
    expect(await store.claim(KEY, 'inv-2', 60_000)).toEqual({ status: 'claimed' });
    await expect(store.complete('never-claimed', 'inv-1', {})).rejects.toThrow(ConflictError);
    await expect(store.claim('', 'x', 1)).rejects.toThrow(UsageError);
    await expect(store.claim(KEY, 'x', 0)).rejects.toThrow(UsageError);
  });

  it('exactly one of many concurrent claimers wins, in process and across processes', async () => {
    const home = await tempHome();
    const stores = Array.from({ length: 10 }, () => new FsIdempotencyStore(home));
    const results = await Promise.all(stores.map((s, i) => s.claim('k1', `owner-${i}`, 60_000)));
    expect(results.filter((r) => r.status === 'claimed')).toHaveLength(1);

    const procs = await runTogether<ClaimResult>([startWorker('claim', home, 'k2', 'proc-a'), startWorker('claim', home, 'k2', 'proc-b')]);
    expect(procs.map((r) => r.status).sort()).toEqual(['claimed', 'in-progress']);
  });
});
