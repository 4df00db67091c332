import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isBooleanText,
  isDateText,
  isDateTimeText,
  isEmailText,
  isUuidText,
  kindOf,
} from '../../../functions/core/contract/value-types.ts';
import type { Cell } from '../../../functions/core/types.ts';

describe('dates and datetimes', () => {
  it.each([
    ['2024-02-29', true],
    ['2000-02-29', true],
    ['1900-02-29', false],
    ['2023-02-29', false],
    ['2024-04-30', true],
    ['2024-04-31', false],
    ['2024-12-31', true],
    ['2024-00-10', false],
    ['2024-13-10', false],
    ['2024-01-00', false],
    ['2024-1-01', false],
    ['2024/01/01', false],
    ['2024-01-01 ', false],
    ['２０２４-01-01', false],
    ['202a-01-01', false],
  ])('isDateText(%j) = %s', (s, ok) => {
    expect(isDateText(s)).toBe(ok);
  });

  it.each([
    ['2024-05-01T10:30', true],
    ['2024-05-01 10:30', true],
    ['2024-05-01t10:30', true],
    ['2024-05-01T10:30:59', true],
    ['2024-05-01T10:30:60', true],
    ['2024-05-01T10:30:61', false],
    ['2024-05-01T10:30:00Z', true],
    ['2024-05-01T10:30:00z', true],
    ['2024-05-01T10:30:00.1Z', true],
    ['2024-05-01T10:30:00.123456789+02:00', true],
    ['2024-05-01T10:30:00.1234567890Z', false],
    ['2024-05-01T10:30:00.Z', false],
    ['2024-05-01T10:30:00+0200', true],
    ['2024-05-01T10:30:00+02', true],
    ['2024-05-01T10:30:00+2', false],
    ['2024-05-01T10:30:00+02:0', false],
    ['2024-05-01T10:30:00ZZ', false],
    ['2024-05-01T10:30:00 ', false],
    ['2024-05-01T24:00', false],
    ['2024-05-01T23:60', false],
    ['2024-05-01X10:30', false],
    ['2024-05-01T1030', false],
    ['2024-02-30T10:30', false],
    ['2024-05-01', false],
  ])('isDateTimeText(%j) = %s', (s, ok) => {
    expect(isDateTimeText(s)).toBe(ok);
  });

  it('agrees with Date on every valid calendar day', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1000-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }), (d) => {
        const iso = d.toISOString();
        expect(isDateText(iso.slice(0, 10))).toBe(true);
        expect(isDateTimeText(iso)).toBe(true);
      }),
      { numRuns: 500, seed: 11 },
    );
  });
});

describe('other formats', () => {
  it.each([
    ['true', true],
    ['False', true],
    ['TRUE', true],
    ['yes', false],
    ['truey', false],
    ['', false],
  ])('isBooleanText(%j) = %s', (s, ok) => {
    expect(isBooleanText(s)).toBe(ok);
  });

  it.each([
    ['a@b.co', true],
    ['first.last+tag@sub.example.org', true],
    ['a@b', false],
    ['a@b.c', false],
    ['a b@c.com', false],
    ['a@@b.com', false],
    ['@b.com', false],
  ])('isEmailText(%j) = %s', (s, ok) => {
    expect(isEmailText(s)).toBe(ok);
  });

  it.each([
    ['123e4567-e89b-12d3-a456-426614174000', true],
    ['123E4567-E89B-12D3-A456-426614174000', true],
    ['123e4567e89b12d3a456426614174000', false],
    ['123e4567-e89b-12d3-a456-42661417400g', false],
  ])('isUuidText(%j) = %s', (s, ok) => {
    expect(isUuidText(s)).toBe(ok);
  });
});

describe('kindOf', () => {
  it.each([
    ['12', 'integer'],
    ['-12', 'integer'],
    ['+12', 'integer'],
    ['007', 'integer'],
    ['1.5', 'number'],
    ['-.5', 'number'],
    ['1e3', 'number'],
    ['1.2.3', 'string'],
    ['2024-01-01', 'date'],
    ['2024-01-01T00:00:00Z', 'datetime'],
    ['2024-13-01', 'string'],
    ['true', 'boolean'],
    ['tru', 'string'],
    ['{"a":1}', 'json'],
    ['[1,2]', 'json'],
    ['{oops', 'string'],
    ['hello', 'string'],
    ['+44 20 7946 0958', 'string'],
    [3, 'integer'],
    [3.5, 'number'],
    [false, 'boolean'],
  ] as [Cell, string][])('%j -> %s', (v, kind) => {
    expect(kindOf(v)).toBe(kind);
  });
});
