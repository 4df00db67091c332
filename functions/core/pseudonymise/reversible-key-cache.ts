/**
 * Vault keys of `encrypt` values for the synchronous row transformer: the pipeline fetches a
 * row's missing keys (SubjectKeyVault.getOrCreate, atomic, so every process gets the same key for
 * a value) before transforming it, and the transformer looks them up here. Bounded: two
 * generations of `generation` keys (32 bytes and a ref each).
 */
import type { SubjectKeyVault } from '../ports.ts';
import { TwoGenerationCache } from '../two-generation-cache.ts';

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

  /** Fetches (creating when new) the keys of `refs` that are not cached. */
  async prefetch(refs: readonly string[]): Promise<void> {
    const missing = [...new Set(refs.filter((r) => !this.keys.has(r)))];
    if (missing.length === 0) return;
    const keys = await Promise.all(missing.map((r) => this.vault.getOrCreate(r)));
    missing.forEach((r, i) => this.keys.set(r, keys[i] as Uint8Array));
    this.fetched += missing.length;
  }
}
