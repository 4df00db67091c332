import { createHash } from 'node:crypto';

export interface Digest {
  readonly size: number;
  readonly sha256: string;
}

/**
 * Passes bytes through while counting and hashing them, so lineage gets size and sha256 of
 * inputs and outputs without a second read.
 */
export function digesting(
  source: AsyncIterable<Uint8Array>,
  onChunk?: (bytesSoFar: number) => void,
): {
  readonly bytes: AsyncIterable<Uint8Array>;
  digest(): Digest;
} {
  const hash = createHash('sha256');
  let size = 0;
  let result: Digest | undefined;
  async function* pass(): AsyncIterable<Uint8Array> {
    for await (const chunk of source) {
      hash.update(chunk);
      size += chunk.byteLength;
      onChunk?.(size);
      yield chunk;
    }
    result = { size, sha256: hash.digest('hex') };
  }
  return {
    bytes: pass(),
    digest() {
      if (!result) throw new Error('digest read before the stream ended');
      return result;
    },
  };
}

export function sha256Hex(...parts: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
}
