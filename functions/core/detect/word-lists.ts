/**
 * Word lists found by hash: one pass over a text finds every occurrence of every registered word
 * (context words, negative words), so a recognizer asks "is a context word of mine within 48
 * characters before this match?" without slicing the text or running a regex of 70 alternatives.
 *
 * Matching follows compileContext (context-words.ts): case-insensitive; a word starts where no
 * letter or digit stands before it and, unless it ends in `*` (a prefix) or in punctuation, ends
 * where no letter or digit follows. Words with spaces or punctuation ("date of birth", "tel.",
 * "e-mail") are found through their first token and compared in full.
 *
 * The occurrences of the last text asked about are kept (one text at a time, single-threaded);
 * asking about another text rebuilds them: a pass over its char codes and, per word, a bloom
 * filter test (a map lookup only on a hit). No allocation.
 */

interface Entry {
  /** Lower-case text of the word (without the `*`). */
  readonly text: string;
  readonly bit: number;
  /** Ends without the word-boundary check (a prefix, or a word ending in punctuation). */
  readonly open: boolean;
  /** Holds characters other than letters and digits: compared in full from its first token. */
  readonly multi: boolean;
}

export const BLOOM_MASK = 8191;
/** Hashes of whole first tokens (exact words and the first token of multi-token words). */
const WORDS = new Map<number, Entry[]>();
export const WORD_BLOOM = new Uint8Array(BLOOM_MASK + 1);
/** Hashes of prefixes (`telefon*`). */
const PREFIXES = new Map<number, Entry[]>();
export const PREFIX_BLOOM = new Uint8Array(BLOOM_MASK + 1);
let lists = 0;

// Per char code: its lower case when it is a word character (\p{L} or \p{N}, as compileContext's
// boundaries), 0 when it is not, -1 when not yet known (filled in on first sight; ASCII up front).
const LOWER_WORD = new Int32Array(65536).fill(-1);
const WORD_RE = /[\p{L}\p{N}]/u;

function learn(c: number): number {
  const ch = String.fromCharCode(c);
  const lo = ch.toLowerCase();
  const v = WORD_RE.test(ch) ? (lo.length === 1 ? lo.charCodeAt(0) : c) : 0;
  LOWER_WORD[c] = v;
  return v;
}
for (let c = 0; c < 128; c++) learn(c);

/** The lower case of a word character, 0 for any other. */
export function lowerWord(c: number): number {
  const v = LOWER_WORD[c] as number;
  return v >= 0 ? v : learn(c);
}
function isWordChar(c: number): boolean {
  return lowerWord(c) !== 0;
}

/**
 * Word hash: FNV-1a steps masked to 30 bits, so the hash stays a small integer in V8 (no boxed
 * numbers in the hot loops). textFeatures (recognizer.ts) repeats these literals: keep them equal.
 */
export const FNV_OFFSET = 0x011c9dc5;
export function hashStep(h: number, c: number): number {
  return Math.imul(h ^ c, 0x01000193) & 0x3fffffff;
}

/**
 * Registers a word list (compileContext's syntax: `telefon*` is a prefix) and returns its bit.
 * At most 30 lists; lists are registered once, at module load.
 */
export function registerWordList(words: readonly string[]): number {
  if (lists >= 30) throw new Error('too many word lists');
  const bit = 1 << lists++;
  for (const raw of new Set(words.map((w) => w.toLowerCase()))) {
    const prefix = raw.endsWith('*');
    const text = prefix ? raw.slice(0, -1) : raw;
    if (text.length === 0) continue;
    let first = 0;
    while (first < text.length && isWordChar(text.charCodeAt(first))) first++;
    const multi = first < text.length;
    const open = prefix || !isWordChar(text.charCodeAt(text.length - 1));
    if (first === 0) throw new Error(`word list entry must start with a letter or digit: ${raw}`);
    let h = FNV_OFFSET;
    for (let i = 0; i < first; i++) h = hashStep(h, lowerWord(text.charCodeAt(i)));
    const entry: Entry = { text, bit, open, multi };
    const [map, bloom] = prefix && !multi ? [PREFIXES, PREFIX_BLOOM] : [WORDS, WORD_BLOOM];
    bloom[h & BLOOM_MASK] = 1;
    const list = map.get(h);
    if (list) list.push(entry);
    else map.set(h, [entry]);
  }
  return bit;
}

// Occurrences in the current text: [start, end) and the list bit, in text order.
const MAX_HITS = 256;
const HIT_START = new Int32Array(MAX_HITS);
const HIT_END = new Int32Array(MAX_HITS);
const HIT_BIT = new Int32Array(MAX_HITS);
let hitCount = 0;
let hitMask = 0;
let current: string | undefined;

/** True when `entry.text` is at `start` in the text (case-insensitive), boundary included. */
function matchesAt(text: string, start: number, e: Entry): boolean {
  const len = e.text.length;
  if (start + len > text.length) return false;
  for (let j = 0; j < len; j++) {
    const c = text.charCodeAt(start + j);
    const lo = lowerWord(c);
    // Punctuation inside a word ("tel.", "e-mail") compares as itself.
    if ((lo === 0 ? c : lo) !== e.text.charCodeAt(j)) return false;
  }
  return e.open || start + len === text.length || !isWordChar(text.charCodeAt(start + len));
}

function record(start: number, end: number, bit: number): void {
  if (hitCount >= MAX_HITS) return;
  HIT_START[hitCount] = start;
  HIT_END[hitCount] = end;
  HIT_BIT[hitCount] = bit;
  hitCount++;
  hitMask |= bit;
}

/**
 * Starts the occurrences of a text whose words another pass hashes (textFeatures does, in its
 * pass over the char codes): it calls prefixAt and wordAt where the blooms say so.
 */
export function beginWords(text: string): void {
  current = text;
  hitCount = 0;
  hitMask = 0;
}

function build(text: string): void {
  beginWords(text);
  const n = text.length;
  let i = 0;
  while (i < n) {
    let lo = lowerWord(text.charCodeAt(i));
    if (lo === 0) {
      i++;
      continue;
    }
    const start = i;
    let h = 0x011c9dc5;
    for (;;) {
      h = Math.imul(h ^ lo, 0x01000193) & 0x3fffffff;
      i++;
      if (PREFIX_BLOOM[h & BLOOM_MASK] === 1) prefixAt(text, start, i, h);
      if (i >= n) break;
      lo = lowerWord(text.charCodeAt(i));
      if (lo === 0) break;
    }
    if (WORD_BLOOM[h & BLOOM_MASK] === 1) wordAt(text, start, i, h);
  }
}

/** Records the prefix words of hash h that [start, end) is. */
export function prefixAt(text: string, start: number, end: number, h: number): void {
  const es = PREFIXES.get(h);
  if (es) for (const e of es) if (e.text.length === end - start && matchesAt(text, start, e)) record(start, end, e.bit);
}

/** Records the words (and multi-token words) of hash h that start with the token [start, end). */
export function wordAt(text: string, start: number, end: number, h: number): void {
  const es = WORDS.get(h);
  if (!es) return;
  for (const e of es)
    if ((e.multi || e.text.length === end - start) && matchesAt(text, start, e)) record(start, start + e.text.length, e.bit);
}

/** The bits of the word lists that occur in the text. */
export function wordListsIn(text: string): number {
  if (text !== current) build(text);
  return hitMask;
}

/**
 * True when a word of the list(s) `bits` lies wholly within the `before` characters before
 * `start` or the `after` characters after `end`.
 */
export function wordNear(text: string, bits: number, start: number, end: number, before: number, after: number): boolean {
  if (text !== current) build(text);
  if (before > 0 && gluedBefore(text, bits, start)) return true;
  if ((hitMask & bits) === 0) return false;
  const lo = start - before;
  const hi = end + after;
  for (let k = 0; k < hitCount; k++) {
    if ((HIT_BIT[k] as number) & bits) {
      const s = HIT_START[k] as number;
      const e = HIT_END[k] as number;
      if (before > 0 && s >= lo && e <= start) return true;
      if (after > 0 && s >= end && e <= hi) return true;
    }
  }
  return false;
}

/**
 * A word of `bits` that ends at `pos` where a letter or digit follows ("v" in "v1.2.3.4"): the
 * text before a match counts up to the match, whatever the match starts with.
 */
function gluedBefore(text: string, bits: number, pos: number): boolean {
  if (pos === 0 || pos >= text.length || !isWordChar(text.charCodeAt(pos)) || !isWordChar(text.charCodeAt(pos - 1))) return false;
  let s = pos - 1;
  while (s > 0 && pos - s < 40 && isWordChar(text.charCodeAt(s - 1))) s--;
  let h = FNV_OFFSET;
  for (let j = s; j < pos; j++) h = hashStep(h, lowerWord(text.charCodeAt(j)));
  const es = WORD_BLOOM[h & BLOOM_MASK] === 1 ? WORDS.get(h) : undefined;
  if (!es) return false;
  for (const e of es) {
    if (e.bit & bits && !e.multi && e.text.length === pos - s && matchesAt(text, s, { ...e, open: true })) return true;
  }
  return false;
}

/** True when a word of the list(s) `bits` starts at an offset in [from, to]. */
export function wordStartsIn(text: string, bits: number, from: number, to: number): boolean {
  if (text !== current) build(text);
  if ((hitMask & bits) === 0) return false;
  for (let k = 0; k < hitCount; k++) {
    const s = HIT_START[k] as number;
    if ((HIT_BIT[k] as number) & bits && s >= from && s <= to) return true;
  }
  return false;
}
