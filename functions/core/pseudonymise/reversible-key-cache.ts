/**
 * Vault keys of `encrypt` values for the synchronous row transformer: the pipeline fetches a
 * row's missing keys (SubjectKeyVault.getOrCreate, atomic, so every process gets the same key for
 * a value) before transforming it, and the transformer looks them up here. Bounded: two
 * generations of `generation` keys (32 bytes and a ref each).
 */
import type { SubjectKeyVault } from '../ports.ts';
import { TwoGenerationCache } from '../two-generation-cache.ts';

/** Vault calls in flight at once (each may be a durable write, or KMS + DynamoDB calls). */
export const PREFETCH_CONCURRENCY = 32;

/** Default keys per generation (≈ 100 bytes each with the ref and the map slot). */
export const REVERSIBLE_KEY_GENERATION = 16_384;

/** A bounded ref → vault key cache, filled asynchronously, read synchronously. */
export class ReversibleKeyCache {
  private readonly keys: TwoGenerationCache<Uint8Array>;
  /** Keys fetched from the vault (cache misses). */
  fetched = 0;

  constructor(
    private readonly vault: SubjectKeyVault,
    generation = REVERSIBLE_KEY_GENERATION,
  ) {
    this.keys = new TwoGenerationCache<Uint8Array>(generation);
  }

  /** The transformer's `reversibleKey`: the cached key of a ref, or undefined. */
  readonly lookup = (ref: string): Uint8Array | undefined => this.keys.get(ref);

  /** Fetches (creating when new) the keys of `refs` that are not cached, PREFETCH_CONCURRENCY at a time. */
  async prefetch(refs: readonly string[]): Promise<void> {
    const missing = [...new Set(refs.filter((r) => !this.keys.has(r)))];
    for (let i = 0; i < missing.length; i += PREFETCH_CONCURRENCY) {
      const part = missing.slice(i, i + PREFETCH_CONCURRENCY);
      const keys = await Promise.all(part.map((r) => this.vault.getOrCreate(r)));
      for (const [j, r] of part.entries()) this.keys.set(r, keys[j] as Uint8Array);
      this.fetched += part.length;
    }
  }
}
