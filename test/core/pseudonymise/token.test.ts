import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalise,
  deriveEntityKey,
  guessIdentifierType,
  identifierTokens,
  pseudonymToken,
} from '../../../functions/core/pseudonymise/token.ts';
import type { EntityType } from '../../../functions/core/types.ts';

const KEY = new Uint8Array(32).fill(7);
const OTHER = new Uint8Array(32).fill(8);
const tok = (entity: EntityType, value: string, key = KEY, region?: string) =>
  pseudonymToken(entity, canonicalise(entity, value, region ? { region } : {}) ?? value, deriveEntityKey(key, entity), 16);

describe('canonicalise', () => {
  it.each([
    ['EMAIL_ADDRESS', '  Alice@Example.COM ', 'alice@example.com', undefined],
    ['PHONE_NUMBER', '+44 20 7946 0958', '+442079460958', 'GB'],
    ['PHONE_NUMBER', '020 7946 0958', '+442079460958', 'GB'],
    ['PHONE_NUMBER', '0044 20 7946 0958', '+442079460958', 'DE'],
    ['CREDIT_CARD', '4111-1111 1111-1111', '4111111111111111', undefined],
    ['IBAN_CODE', 'gb82 west 1234 5698 7654 32', 'GB82WEST12345698765432', undefined],
    ['SUBJECT_ID', '  C-1001 ', 'C-1001', undefined],
    ['PERSON', ' Maria   SCHMIDT ', 'maria schmidt', undefined],
    ['MAC_ADDRESS', '00-1A-2B-3C-4D-5E', '001a2b3c4d5e', undefined],
  ] as const)('%s %j → %j', (entity, value, expected, region) => {
    expect(canonicalise(entity, value, region ? { region } : {})).toBe(expected);
  });

  it.each([
    ['EMAIL_ADDRESS', 'not an email'],
    ['PHONE_NUMBER', '12'],
    ['CREDIT_CARD', 'four one one one'],
  ] as const)('%s %j cannot be canonicalised', (entity, value) => {
    expect(canonicalise(entity, value, { region: 'GB' })).toBeUndefined();
  });
});

describe('pseudonym tokens', () => {
  it('have a readable prefix and the requested length', () => {
    const t = tok('EMAIL_ADDRESS', 'alice@example.com');
    expect(t).toMatch(/^EMAIL_[0-9a-f]{16}$/);
    expect(pseudonymToken('PHONE_NUMBER', '+442079460958', deriveEntityKey(KEY, 'PHONE_NUMBER'), 32)).toMatch(/^PHONE_[0-9a-f]{32}$/);
  });

  it('join across writings of the same value', () => {
    expect(tok('EMAIL_ADDRESS', 'Alice@Example.com ')).toBe(tok('EMAIL_ADDRESS', 'alice@example.com'));
    expect(tok('PHONE_NUMBER', '+44 20 7946 0958', KEY, 'GB')).toBe(tok('PHONE_NUMBER', '020 7946 0958', KEY, 'GB'));
  });

  it('are deterministic: same value and key, same token', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), (v) => {
        expect(tok('SUBJECT_ID', v)).toBe(tok('SUBJECT_ID', v));
      }),
    );
  });

  it('differ under another key', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), (v) => {
        expect(tok('SUBJECT_ID', v, KEY)).not.toBe(tok('SUBJECT_ID', v, OTHER));
      }),
    );
  });

  it('differ across entity types for the same characters', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), (v) => {
        const a = pseudonymToken('SUBJECT_ID', v, deriveEntityKey(KEY, 'SUBJECT_ID'), 16).split('_')[1];
        const b = pseudonymToken('PERSON', v, deriveEntityKey(KEY, 'PERSON'), 16).split('_')[1];
        expect(a).not.toBe(b);
      }),
    );
  });

  it('derive entity keys once per key and entity', () => {
    expect(deriveEntityKey(KEY, 'EMAIL_ADDRESS')).toBe(deriveEntityKey(KEY, 'EMAIL_ADDRESS'));
    expect(deriveEntityKey(KEY, 'EMAIL_ADDRESS')).not.toEqual(deriveEntityKey(KEY, 'PHONE_NUMBER'));
  });

  it('refuse lengths outside 8..64 and short keys', () => {
    expect(() => pseudonymToken('PERSON', 'x', deriveEntityKey(KEY, 'PERSON'), 4)).toThrow();
    expect(() => deriveEntityKey(new Uint8Array(8), 'PERSON')).toThrow();
  });
});

describe('identifiers for erasure', () => {
  it.each([
    ['alice@example.com', 'email'],
    ['+44 20 7946 0958', 'phone'],
    ['4111 1111 1111 1111', 'card'],
    ['GB82 WEST 1234 5698 7654 32', 'iban'],
    ['AB123456C', 'national-id'],
    ['Maria Schmidt', 'name'],
    ['CUST-000123', 'subject-id'],
  ] as const)('%j is a %s', (id, type) => {
    expect(guessIdentifierType(id)).toBe(type);
  });

  it('give the tokens ingest produced', () => {
    expect(identifierTokens('Alice@Example.com', 'email', KEY, { tokenLength: 16 })).toEqual([tok('EMAIL_ADDRESS', 'alice@example.com')]);
    expect(identifierTokens('020 7946 0958', 'phone', KEY, { tokenLength: 16, region: 'GB' })).toEqual([
      tok('PHONE_NUMBER', '+442079460958', KEY, 'GB'),
    ]);
    expect(identifierTokens('Maria Schmidt', 'name', KEY, { tokenLength: 16 })).toEqual([tok('PERSON', 'maria schmidt')]);
    const nino = identifierTokens('AB 12 34 56 C', 'national-id', KEY, { tokenLength: 16 });
    expect(nino).toContain(tok('UK_NINO', 'AB123456C'));
    expect(nino).toContain(tok('SUBJECT_ID', 'AB 12 34 56 C'));
  });
});
