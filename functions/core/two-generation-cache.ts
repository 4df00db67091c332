/**
 * A bounded memo for hot paths (token caches, recognizer verdicts): two generations of a Map.
 */
import { detachString } from './codecs/detach-string.ts';

/**
 * A bounded cache with two generations: lookups that hit the old generation promote the entry,
 * and when the young one fills up it becomes the old one. Frequent values survive a turnover
 * (unlike a cache that is cleared when full), at the cost of one Map lookup more on a miss.
 */
export class TwoGenerationCache<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();
  hits = 0;
  misses = 0;
  constructor(private readonly generation: number) {}

  get(key: string): V | undefined {
    let v = this.young.get(key);
    if (v !== undefined) {
      this.hits++;
      return v;
    }
    v = this.old.get(key);
    if (v !== undefined) {
      this.hits++;
      this.set(key, v);
      return v;
    }
    this.misses++;
    return undefined;
  }

  /** True when the key is cached; no promotion, not counted as a hit or a miss. */
  has(key: string): boolean {
    return this.young.has(key) || this.old.has(key);
  }

  /** Stores a value; the key is detached from its source chunk (see detachString). */
  set(key: string, value: V): void {
    if (this.young.size >= this.generation) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(detachString(key), value);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }
}
