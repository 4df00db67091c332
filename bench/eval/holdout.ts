/**
 * The hold-out split of the name lexicon. Names whose hash falls in the hold-out bucket are left
 * out of the lexicon the detector ships with, so the evaluation can measure PERSON recall on
 * names the detector has never seen (the rest of the faker names are in-lexicon: circular).
 */

/** 32-bit FNV-1a over the UTF-16 code units of the lowercased name. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** One name in eight is held out. */
export const HOLDOUT_BUCKETS = 8;

/** True when the name token (any case) is held out of the shipped lexicon. */
export function isHeldOut(name: string): boolean {
  return fnv1a(name.toLowerCase()) % HOLDOUT_BUCKETS === 0;
}
