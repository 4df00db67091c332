import { describe, expect, it } from 'vitest';
import { SanitisationError } from '../../../functions/core/errors.ts';
import { compileOperator, parseDateParts } from '../../../functions/core/pseudonymise/operators.ts';
import type { EntityType, OperatorName } from '../../../functions/core/types.ts';

const KEY = new Uint8Array(32).fill(5);
const op = (name: OperatorName, entity: EntityType, options: Record<string, unknown> = {}) =>
  compileOperator(name, { entity, options, hmacKey: KEY, sivKey: KEY, tokenLength: 16 });

describe('operators', () => {
  it.each([
    ['mask keeps the last 4, separators kept', op('mask', 'CREDIT_CARD'), '4111 1111 1111 1234', '**** **** **** 1234'],
    ['mask with options', op('mask', 'PHONE_NUMBER', { keepLast: 2, char: '#' }), '+44 20 7946', '+## ## ##46'],
    ['redact', op('redact', 'API_TOKEN'), 'sk_live_x', '<API_TOKEN>'],
    ['keep', op('keep', 'COUNTRY'), 'GB', 'GB'],
    ['date to year', op('generalize', 'DATE_OF_BIRTH', { to: 'year' }), '1985-03-12', '1985'],
    ['date to month', op('generalize', 'DATE_OF_BIRTH', { to: 'month' }), '12.03.1985', '1985-03'],
    ['textual date to year', op('generalize', 'DATE_OF_BIRTH'), '3 mars 1985', '1985'],
    ['age to band', op('generalize', 'AGE', { band: 10 }), '34', '30-39'],
    ['age band of 5', op('generalize', 'AGE', { band: 5 }), '34', '30-34'],
    ['old ages top-coded', op('generalize', 'AGE'), '93', '90+'],
    ['postcode prefix', op('generalize', 'POSTCODE', { prefix: 3 }), 'SW1A 1AA', 'SW1'],
    ['postcode default prefix', op('generalize', 'POSTCODE'), '75002', '750'],
  ])('%s', (_n, fn, input, expected) => {
    expect(fn(input)).toBe(expected);
  });

  it('drop returns null', () => {
    expect(op('drop', 'PERSON')('Maria')).toBeNull();
  });

  it('token: prefix, length, email shape', () => {
    expect(op('token', 'EMAIL_ADDRESS')('a@b.example')).toMatch(/^EMAIL_[0-9a-f]{16}$/);
    expect(op('token', 'SUBJECT_ID', { prefix: 'CUST', length: 8 })('C1')).toMatch(/^CUST_[0-9a-f]{8}$/);
    expect(op('token', 'EMAIL_ADDRESS', { shape: 'email' })('a@b.example')).toMatch(/^EMAIL_[0-9a-f]{16}@example\.invalid$/);
  });

  it("encrypt gives a reversible token carrying the value's pseudonym, under its vault key", () => {
    const asked: string[] = [];
    const enc = compileOperator('encrypt', {
      entity: 'EMAIL_ADDRESS',
      options: {},
      hmacKey: KEY,
      sivKey: KEY,
      tokenLength: 16,
      reversibleKey: (ref) => (asked.push(ref), KEY),
    });
    const ref = op('token', 'EMAIL_ADDRESS')('alice@example.com') as string;
    expect(enc('Alice@Example.com')).toMatch(new RegExp(`^ENC_${ref}_[A-Za-z0-9_-]{22,}$`));
    expect(asked).toEqual([ref]);
  });

  it('encrypt fails closed when the vault key was not fetched', () => {
    const none = compileOperator('encrypt', {
      entity: 'EMAIL_ADDRESS',
      options: {},
      hmacKey: KEY,
      sivKey: KEY,
      tokenLength: 16,
      reversibleKey: () => undefined,
    });
    for (const fn of [none, op('encrypt', 'EMAIL_ADDRESS')]) {
      expect(() => fn('alice@example.com')).toThrow(expect.objectContaining({ context: { rule: 'subject-key-missing' } }));
      expect(() => fn('alice@example.com')).toThrow(SanitisationError);
    }
  });

  it.each([
    ['date', op('generalize', 'DATE_OF_BIRTH'), 'unknown'],
    ['month of a year-only value', op('generalize', 'DATE_OF_BIRTH', { to: 'month' }), '1985'],
    ['age', op('generalize', 'AGE'), 'thirty'],
    ['postcode', op('generalize', 'POSTCODE'), '#?!'],
  ])('generalize fails closed on a value that is not a %s', (_n, fn, input) => {
    expect(() => fn(input)).toThrow(SanitisationError);
  });

  it('reads dates in the usual writings', () => {
    expect(parseDateParts('2024-01-15T10:00:00Z')).toEqual({ year: 2024, month: 1 });
    expect(parseDateParts('03/04/1985', 'US')).toEqual({ year: 1985, month: 3 });
    expect(parseDateParts('03/04/1985', 'GB')).toEqual({ year: 1985, month: 4 });
    expect(parseDateParts('March 15, 1985')).toEqual({ year: 1985, month: 3 });
    expect(parseDateParts('19850315')).toEqual({ year: 1985, month: 3 });
    expect(parseDateParts('not a date')).toBeUndefined();
  });
});
