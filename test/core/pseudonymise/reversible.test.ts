import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReidentificationError, UsageError } from '../../../functions/core/errors.ts';
import { decryptToken, encryptToken, isEncryptedToken, parseEncryptedToken } from '../../../functions/core/pseudonymise/reversible.ts';

const SIV = new Uint8Array(32).fill(3);
const OTHER_SIV = new Uint8Array(32).fill(4);
const VAULT = new Uint8Array(32).fill(5);
const OTHER_VAULT = new Uint8Array(32).fill(6);
const REF = 'EMAIL_3f9a1c2b7d4e5f60';

const enc = (v: string, ref = REF, siv = SIV, vault = VAULT) => encryptToken('EMAIL_ADDRESS', v, ref, siv, vault);

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('encrypt tokens (AES-SIV under token-siv ‖ vault key)', () => {
  it('round-trip any value, deterministically', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (v) => {
        const t = enc(v);
        expect(t).toBe(enc(v));
        expect(isEncryptedToken(t)).toBe(true);
        expect(decryptToken(t, SIV, VAULT)).toEqual({ entity: 'EMAIL_ADDRESS', value: v });
      }),
      { numRuns: 200 },
    );
  });

  it('carry the vault ref after a readable prefix', () => {
    const t = encryptToken('PHONE_NUMBER', '+442079460958', 'PHONE_0123456789abcdef', SIV, VAULT);
    expect(t).toMatch(/^ENC_PHONE_0123456789abcdef_[A-Za-z0-9_-]{22,}$/);
    expect(parseEncryptedToken(t)).toMatchObject({ entity: 'PHONE_NUMBER', ref: 'PHONE_0123456789abcdef' });
    // A base64url body starting with hex and `_` does not confuse the parse: hex never holds `_`.
    expect(parseEncryptedToken(`ENC_EMAIL_3f9a1c2b7d4e5f60_ab12_${'A'.repeat(22)}`)?.ref).toBe(REF);
  });

  it('differ per vault key: the same value under another key is another token', () => {
    expect(enc('alice@example.com', REF, SIV, OTHER_VAULT)).not.toBe(enc('alice@example.com'));
  });

  it('need BOTH keys: the siv key alone or the vault key alone decrypts nothing', () => {
    const t = enc('alice@example.com');
    for (const [siv, vault] of [
      [SIV, OTHER_VAULT],
      [OTHER_SIV, VAULT],
      [OTHER_SIV, OTHER_VAULT],
    ] as const) {
      const err = thrown(() => decryptToken(t, siv, vault));
      expect(err).toBeInstanceOf(ReidentificationError);
      expect((err as ReidentificationError).context).toMatchObject({ rule: 'token-auth' });
    }
  });

  it('detect tampering, a moved ref and a moved entity without revealing the plaintext', () => {
    const t = enc('alice@example.com');
    const body = parseEncryptedToken(t)?.body as string;
    const cases = [
      `ENC_EMAIL_3f9a1c2b7d4e5f60_${body[0] === 'A' ? 'B' : 'A'}${body.slice(1)}`,
      `ENC_EMAIL_3f9a1c2b7d4e5f61_${body}`,
      `ENC_PHONE_3f9a1c2b7d4e5f60_${body}`,
    ];
    for (const bad of cases) {
      const err = thrown(() => decryptToken(bad, SIV, VAULT));
      expect(err, bad).toBeInstanceOf(ReidentificationError);
      expect(String((err as Error).message)).not.toContain('alice');
      expect(String((err as Error).message)).not.toContain(body);
    }
  });

  it.each([
    ['a plain token', 'EMAIL_3f9a0b12'],
    ['a v1 token (no ref)', `ENC_EMAIL_${'q3Jx'.repeat(8)}`],
    ['an unknown prefix', `ENC_NOPE_3f9a1c2b7d4e5f60_${'A'.repeat(24)}`],
    ['an upper-case ref', `ENC_EMAIL_3F9A1C2B7D4E5F60_${'A'.repeat(24)}`],
    ['a ref too short', `ENC_EMAIL_3f9a1c2_${'A'.repeat(24)}`],
  ])('refuse %s as not an encrypt token', (_name, token) => {
    expect(isEncryptedToken(token)).toBe(false);
    expect(thrown(() => decryptToken(token, SIV, VAULT))).toMatchObject({ context: { rule: 'token-format' } });
  });

  it('refuse a ref of another entity type or shape when encrypting', () => {
    expect(() => encryptToken('EMAIL_ADDRESS', 'a@b.example', 'PHONE_3f9a1c2b7d4e5f60', SIV, VAULT)).toThrow(UsageError);
    expect(() => encryptToken('EMAIL_ADDRESS', 'a@b.example', 'a@b.example', SIV, VAULT)).toThrow(UsageError);
    expect(() => encryptToken('EMAIL_ADDRESS', 'a@b.example', REF, SIV, new Uint8Array(8))).toThrow(UsageError);
  });
});
