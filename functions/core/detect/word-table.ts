/**
 * A string → integer hash table looked up by a range of a text, so a recognizer can ask about a
 * word without slicing it out (no allocation on the hot path). A folding table stores its keys
 * lowercased (char by char) and lowercases the text while hashing and comparing.
 */

const LOWER = new Uint16Array(65536);

/** The lowercase of one UTF-16 code unit (itself when lowercasing would change the length). */
export function lowerCode(c: number): number {
  if (c < 128) return c >= 65 && c <= 90 ? c + 32 : c;
  let v = LOWER[c] as number;
  if (v === 0) {
    const l = String.fromCharCode(c).toLowerCase();
    v = l.length === 1 ? l.charCodeAt(0) : c;
    LOWER[c] = v;
  }
  return v;
}

/** The key as a folding table stores it: lowercased code unit by code unit. */
export function foldKey(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += String.fromCharCode(lowerCode(s.charCodeAt(i)));
  return out;
}

/** A string-keyed table of non-negative integers, looked up by text ranges. */
export class WordTable {
  private keys: (string | undefined)[];
  private vals: Int32Array;
  private mask: number;
  private count = 0;

  constructor(
    private readonly fold: boolean,
    capacity = 256,
  ) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.keys = new Array<string | undefined>(cap).fill(undefined);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
  }

  /** Number of keys. */
  get size(): number {
    return this.count;
  }

  /**
   * The raw FNV-1a hash of text[start, end) (lowercased when folding) that getHashed takes, so a
   * caller that reads the characters anyway can hash them on the way.
   */
  static hash(text: string, start: number, end: number, fold: boolean): number {
    let h = 0x811c9dc5;
    if (fold) for (let i = start; i < end; i++) h = Math.imul(h ^ lowerCode(text.charCodeAt(i)), 0x01000193);
    else for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    return h;
  }

  /** The value of text[start, end), or -1 when absent. */
  get(text: string, start = 0, end: number = text.length): number {
    return this.getHashed(WordTable.hash(text, start, end, this.fold), text, start, end);
  }

  /** get() with the range's hash already computed by WordTable.hash. */
  getHashed(hash: number, text: string, start: number, end: number): number {
    const len = end - start;
    const keys = this.keys;
    let slot = ((hash ^ (hash >>> 15)) >>> 0) & this.mask;
    for (;;) {
      const k = keys[slot];
      if (k === undefined) return -1;
      if (k.length === len && this.equals(k, text, start)) return this.vals[slot] as number;
      slot = (slot + 1) & this.mask;
    }
  }

  private equals(k: string, text: string, start: number): boolean {
    if (this.fold) {
      for (let i = 0; i < k.length; i++) if (k.charCodeAt(i) !== lowerCode(text.charCodeAt(start + i))) return false;
      return true;
    }
    for (let i = 0; i < k.length; i++) if (k.charCodeAt(i) !== text.charCodeAt(start + i)) return false;
    return true;
  }

  /** Sets a key's value (a folding table lowercases the key). */
  set(key: string, value: number): void {
    const k = this.fold ? foldKey(key) : key;
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const h = WordTable.hash(k, 0, k.length, false);
    let slot = ((h ^ (h >>> 15)) >>> 0) & this.mask;
    for (;;) {
      const cur = this.keys[slot];
      if (cur === undefined) {
        this.keys[slot] = k;
        this.vals[slot] = value;
        this.count++;
        return;
      }
      if (cur === k) {
        this.vals[slot] = value;
        return;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** ORs bits into a key's value (0 when absent). */
  or(key: string, bits: number): void {
    const v = this.get(this.fold ? foldKey(key) : key);
    this.set(key, Math.max(v, 0) | bits);
  }

  /** Removes every key. */
  clear(): void {
    this.keys.fill(undefined);
    this.count = 0;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const cap = oldKeys.length * 2;
    this.keys = new Array<string | undefined>(cap).fill(undefined);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i];
      if (k !== undefined) this.set(k, oldVals[i] as number);
    }
  }
}
