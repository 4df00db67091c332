/**
 * The two 32-bit hashes of a word for the common-word Bloom filter (double hashing: h1 + i·h2).
 * Shared by the generator (bench/eval/build-name-lexicon.ts) and the lookup.
 */
export function bloomHashes(word: string): [number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
    h2 ^= h2 >>> 15;
  }
  // An odd step visits distinct positions for the k probes.
  return [h1 >>> 0, (h2 | 1) >>> 0];
}
