import { describe, expect, it } from 'vitest';
import type { SubjectKeyVault } from '../../../functions/core/ports.ts';
import { PREFETCH_CONCURRENCY, ReversibleKeyCache } from '../../../functions/core/pseudonymise/reversible-key-cache.ts';

/** A vault that counts calls and the calls in flight at once. */
function countingVault() {
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const vault: SubjectKeyVault = {
    async getOrCreate(ref) {
      calls.push(ref);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return new Uint8Array(32).fill(ref.length);
    },
    get: async () => undefined,
    shred: async () => false,
  };
  return { vault, calls, maxInFlight: () => maxInFlight };
}

describe('ReversibleKeyCache', () => {
  it('fetches each missing ref once, in bounded batches, and serves it synchronously after', async () => {
    const v = countingVault();
    const cache = new ReversibleKeyCache(v.vault);
    const refs = Array.from({ length: 100 }, (_, i) => `EMAIL_${String(i).padStart(16, '0')}`);
    expect(cache.lookup(refs[0] as string)).toBeUndefined();
    await cache.prefetch([...refs, ...refs.slice(0, 10)]);
    expect(v.calls).toHaveLength(100);
    expect(v.maxInFlight()).toBeLessThanOrEqual(PREFETCH_CONCURRENCY);
    expect(cache.lookup(refs[7] as string)).toHaveLength(32);
    await cache.prefetch(refs.slice(0, 50));
    expect(v.calls).toHaveLength(100);
    expect(cache.fetched).toBe(100);
  });

  it('stays bounded: refs from two generations back are fetched again', async () => {
    const v = countingVault();
    const cache = new ReversibleKeyCache(v.vault, 4);
    await cache.prefetch(['A_00000001', 'A_00000002', 'A_00000003', 'A_00000004']);
    await cache.prefetch(['A_00000005', 'A_00000006', 'A_00000007', 'A_00000008', 'A_00000009']);
    expect(cache.lookup('A_00000001')).toBeUndefined();
    expect(cache.lookup('A_00000009')).toBeDefined();
  });
});
