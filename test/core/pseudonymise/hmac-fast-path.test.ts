import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hmacSha256Hex } from '../../../functions/core/pseudonymise/token.ts';
import { TwoGenerationCache } from '../../../functions/core/two-generation-cache.ts';

const reference = (key: Uint8Array, m: string) => createHmac('sha256', key).update(m, 'utf8').digest('hex');

describe('hmacSha256Hex is exactly HMAC-SHA-256', () => {
  it('property: equals createHmac for any string (surrogates, multi-byte, long) and key length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 130 }), fc.string({ unit: 'binary', maxLength: 1500 }), (key, message) => {
        expect(hmacSha256Hex(key, message)).toBe(reference(key, message));
      }),
      { numRuns: 400 },
    );
  });

  it.each([
    ['empty', ''],
    ['lone surrogate', 'a\uD800b'],
    ['exactly the fast-path limit', 'x'.repeat(1024)],
    ['past it', 'é'.repeat(5000)],
    ['RFC 4231 case 2 message', 'what do ya want for nothing?'],
  ])('%s', (_name, message) => {
    const key = new Uint8Array(randomBytes(32));
    expect(hmacSha256Hex(key, message)).toBe(reference(key, message));
  });

  it('RFC 4231 test case 2 (key "Jefe")', () => {
    expect(hmacSha256Hex(new TextEncoder().encode('Jefe'), 'what do ya want for nothing?')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });
});

describe('TwoGenerationCache', () => {
  it('keeps at most two generations, and a hit in the old one survives the next turnover', () => {
    const c = new TwoGenerationCache<number>(2);
    c.set('a', 1);
    c.set('b', 2);
    c.set('c', 3); // young full: a, b become old
    expect(c.get('a')).toBe(1); // promoted into young
    c.set('d', 4); // young (c, a) full: turnover, b is dropped
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(1);
    expect(c.size).toBeLessThanOrEqual(4);
    expect({ hits: c.hits, misses: c.misses }).toEqual({ hits: 2, misses: 1 });
  });
});
