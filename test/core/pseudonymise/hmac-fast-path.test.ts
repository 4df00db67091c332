import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hmacSha256HexPrefix } from '../../../functions/core/pseudonymise/hmac-sha256-hex.ts';
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

  it('padding boundaries: every message length 0-200 bytes, ASCII and multi-byte, keys of 16-131 bytes', () => {
    for (const keyLength of [16, 32, 63, 64, 65, 131]) {
      const key = new Uint8Array(randomBytes(keyLength));
      for (let n = 0; n <= 200; n++) {
        const ascii = 'a'.repeat(n);
        expect(hmacSha256Hex(key, ascii), `ascii ${n} key ${keyLength}`).toBe(reference(key, ascii));
        // é is 2 UTF-8 bytes: crosses the 55/56 and 119/120-byte block edges from the other side.
        const mixed = `${'é'.repeat(n >> 1)}${'x'.repeat(n & 1)}`;
        expect(hmacSha256Hex(key, mixed), `mixed ${n} key ${keyLength}`).toBe(reference(key, mixed));
      }
    }
  });

  it('property: a prefix of any length is the prefix of the full digest', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 80 }),
        fc.string({ maxLength: 120 }),
        fc.integer({ min: 1, max: 64 }),
        (key, m, n) => {
          expect(hmacSha256HexPrefix(key, m, n)).toBe(reference(key, m).slice(0, n));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('RFC 4231 test case 2 (key "Jefe")', () => {
    expect(hmacSha256Hex(new TextEncoder().encode('Jefe'), 'what do ya want for nothing?')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });
});

describe('RFC 4231 test cases 1, 6 and 7 (20-byte key; 131-byte keys, hashed first)', () => {
  it.each([
    [new Uint8Array(20).fill(0x0b), 'Hi There', 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
    [
      new Uint8Array(131).fill(0xaa),
      'Test Using Larger Than Block-Size Key - Hash Key First',
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    ],
    [
      new Uint8Array(131).fill(0xaa),
      'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
      '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    ],
  ])('vector %#', (key, message, mac) => {
    expect(hmacSha256Hex(key, message)).toBe(mac);
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
