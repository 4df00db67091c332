import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReidentificationError } from '../../../functions/core/errors.ts';
import { decryptToken, encryptToken, isEncryptedToken } from '../../../functions/core/pseudonymise/reversible.ts';

const KEY = new Uint8Array(32).fill(3);
const OTHER = new Uint8Array(32).fill(4);

describe('encrypt tokens (AES-SIV)', () => {
  it('round-trip any value, deterministically', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (v) => {
        const t = encryptToken('EMAIL_ADDRESS', v, KEY);
        expect(t).toBe(encryptToken('EMAIL_ADDRESS', v, KEY));
        expect(isEncryptedToken(t)).toBe(true);
        expect(decryptToken(t, KEY)).toEqual({ entity: 'EMAIL_ADDRESS', value: v });
      }),
      { numRuns: 200 },
    );
  });

  it('have a readable prefix', () => {
    expect(encryptToken('PHONE_NUMBER', '+442079460958', KEY)).toMatch(/^ENC_PHONE_[A-Za-z0-9_-]+$/);
  });

  it('detect tampering without revealing the plaintext', () => {
    const t = encryptToken('EMAIL_ADDRESS', 'alice@example.com', KEY);
    const body = t.slice('ENC_EMAIL_'.length);
    const flipped = `ENC_EMAIL_${body[0] === 'A' ? 'B' : 'A'}${body.slice(1)}`;
    const err = (() => {
      try {
        decryptToken(flipped, KEY);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ReidentificationError);
    expect(String((err as Error).message)).not.toContain('alice');
    expect(String((err as Error).message)).not.toContain(body);
  });

  it('refuse another key and another entity type', () => {
    const t = encryptToken('EMAIL_ADDRESS', 'alice@example.com', KEY);
    expect(() => decryptToken(t, OTHER)).toThrow(ReidentificationError);
    expect(() => decryptToken(t.replace('ENC_EMAIL_', 'ENC_PHONE_'), KEY)).toThrow(ReidentificationError);
    expect(() => decryptToken('EMAIL_3f9a0b', KEY)).toThrow(ReidentificationError);
  });
});
