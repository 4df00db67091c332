/**
 * Fast non-cryptographic string hashes for sketches (HyperLogLog) and duplicate detection.
 * Never use them where an adversary must not find collisions: they are not keyed.
 */

/** MurmurHash3 (x86, 32-bit) over the string's UTF-16LE bytes. Unsigned 32-bit result. */
export function murmur3(s: string, seed = 0): number {
  let h = seed | 0;
  const n = s.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    let k = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < n) {
    let k = s.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  return fmix32(h ^ (n * 2)) >>> 0;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * A 64-bit hash as two 32-bit lanes computed in one pass (Murmur3 rounds with different seeds
 * and a different block constant). Writes [hi, lo] into `out` to avoid allocating.
 */
export function hash64(s: string, out: Int32Array): void {
  let a = 0x9747b28c | 0;
  let b = 0x5bd1e995 | 0;
  const n = s.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const block = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    let k = Math.imul(block, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    a ^= Math.imul(k, 0x1b873593);
    a = (a << 13) | (a >>> 19);
    a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    let m = Math.imul(block, 0x85ebca77);
    m = (m << 13) | (m >>> 19);
    b ^= Math.imul(m, 0xc2b2ae3d);
    b = (b << 17) | (b >>> 15);
    b = (Math.imul(b, 9) + 0x27d4eb2f) | 0;
  }
  if (i < n) {
    const c = s.charCodeAt(i);
    a ^= Math.imul((Math.imul(c, 0xcc9e2d51) << 15) | (Math.imul(c, 0xcc9e2d51) >>> 17), 0x1b873593);
    b ^= Math.imul((Math.imul(c, 0x85ebca77) << 13) | (Math.imul(c, 0x85ebca77) >>> 19), 0xc2b2ae3d);
  }
  a = fmix32(a ^ n);
  b = fmix32(b ^ (n * 3) ^ a);
  out[0] = a;
  out[1] = b;
}

/** A set of 64-bit hashes: open addressing over two Int32Arrays, 8 bytes a slot. */
export class Hash64Set {
  private hi: Int32Array;
  private lo: Int32Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity * 2) cap *= 2;
    this.hi = new Int32Array(cap);
    this.lo = new Int32Array(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Adds the hash; returns false when it was already present. */
  add(hi: number, lo: number): boolean {
    // (0, 0) marks an empty slot.
    if (hi === 0 && lo === 0) lo = 1;
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    const H = this.hi;
    const L = this.lo;
    for (;;) {
      const h = H[i] as number;
      const l = L[i] as number;
      if (h === 0 && l === 0) break;
      if (h === hi && l === lo) return false;
      i = (i + 1) & this.mask;
    }
    H[i] = hi;
    L[i] = lo;
    if (++this.count * 2 > H.length) this.grow();
    return true;
  }

  has(hi: number, lo: number): boolean {
    if (hi === 0 && lo === 0) lo = 1;
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const h = this.hi[i] as number;
      const l = this.lo[i] as number;
      if (h === 0 && l === 0) return false;
      if (h === hi && l === lo) return true;
      i = (i + 1) & this.mask;
    }
  }

  private grow(): void {
    const oldH = this.hi;
    const oldL = this.lo;
    this.hi = new Int32Array(oldH.length * 2);
    this.lo = new Int32Array(oldL.length * 2);
    this.mask = this.hi.length - 1;
    this.count = 0;
    for (let i = 0; i < oldH.length; i++) {
      const h = oldH[i] as number;
      const l = oldL[i] as number;
      if (h !== 0 || l !== 0) this.add(h, l);
    }
  }
}
