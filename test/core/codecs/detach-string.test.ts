import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { detachString } from '../../../functions/core/codecs/detach-string.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap growth while keeping one 30-character slice of each of 100 chunks of ~260 KB. */
function retainedBytes(keep: (s: string) => string): number {
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept: string[] = [];
  for (let i = 0; i < 100; i++) {
    const chunk = `${'x'.repeat(100)}${i}`.repeat(2600);
    chunk.charCodeAt(0);
    kept.push(keep(chunk.slice(10, 40)));
  }
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  expect(kept).toHaveLength(100);
  return grown;
}

describe('detachString', () => {
  it('keeps the value', () => {
    for (const s of ['', 'short', 'a longer value with ünïcödé 😀', 'x'.repeat(1000)]) expect(detachString(s)).toBe(s);
  });

  it('a slice keeps its chunk alive; a detached copy does not', () => {
    expect(retainedBytes((s) => s)).toBeGreaterThan(20_000_000);
    expect(retainedBytes(detachString)).toBeLessThan(2_000_000);
  });
});
