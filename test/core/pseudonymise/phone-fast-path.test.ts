import fc from 'fast-check';
import {
  type CountryCode,
  getCountries,
  getCountryCallingCode,
  isSupportedCountry,
  parsePhoneNumberFromString,
} from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { canonicalise, internationalE164, NEEDS_PARSE } from '../../../functions/core/pseudonymise/token.ts';

/** The phone canonicalisation before the fast path: libphonenumber's full parse, always. */
function reference(value: string, region?: string): string | undefined {
  const v = value.normalize('NFC').trim();
  if (v === '') return undefined;
  const compact = v.startsWith('00') ? `+${v.slice(2)}` : v;
  const p = parsePhoneNumberFromString(compact, region && isSupportedCountry(region) ? (region as CountryCode) : undefined);
  return p?.isPossible() ? p.number : undefined;
}

/** Every country's calling code, plus the non-geographic ones (800, 870...). */
const CALLING_CODES = [
  ...new Set(getCountries().map((c) => getCountryCallingCode(c) as string)),
  ...['800', '808', '870', '878', '881', '882', '883', '888', '979'],
];

describe('phone canonicalisation fast path', () => {
  it.each([
    ['+44 7911 123456', '+447911123456'],
    ['+44-20-7946-0958', '+442079460958'],
    ['+1 212 555 0100', '+12125550100'],
    ['+49 30 901820', '+4930901820'],
    ['+33 6 12 34 56 78', '+33612345678'],
  ])('takes %j without a parse → %j', (value, e164) => {
    expect(internationalE164(value)).toBe(e164);
    expect(reference(value, 'GB')).toBe(e164);
  });

  it.each([
    ['07911 123456', 'national format'],
    ['+44 07911 123456', 'national prefix after the calling code'],
    ['+44 (0)7911 123456', 'parentheses'],
    ['+44  7911 123456', 'double space'],
    ['+44 7911 123456 ext. 12', 'extension'],
    ['+800 1234 5678', 'non-geographic calling code'],
    ['+0 123 4567', 'no calling code starts with 0'],
    ['+447', 'fewer than four digits'],
    ['+４４ 7911 123456', 'full-width digits'],
  ])('leaves %j to libphonenumber (%s)', (value) => {
    expect(internationalE164(value)).toBe(NEEDS_PARSE);
  });

  it('equals the full parse for every calling code and national length 0-19, with separators, 00 prefix and region', () => {
    let seed = 7;
    const digit = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % 10;
    };
    let fast = 0;
    let cases = 0;
    for (const cc of CALLING_CODES) {
      for (let len = 0; len <= 19; len++) {
        for (let k = 0; k < 4; k++) {
          // k 0/1: national number starting 0/1 (national prefixes); k 1: grouped with separators.
          let national = '';
          for (let i = 0; i < len; i++) national += String(i === 0 && k < 2 ? k : digit());
          const grouped = k === 1 ? national.replace(/(\d{3})(?=\d)/g, (g) => g + (digit() < 5 ? ' ' : '-')) : national;
          const value = `${k === 3 ? '00' : '+'}${cc}${k === 1 ? ' ' : ''}${grouped}`;
          const region = k === 2 ? undefined : 'GB';
          cases++;
          if (internationalE164(value.startsWith('00') ? `+${value.slice(2)}` : value) !== NEEDS_PARSE) fast++;
          expect(canonicalise('PHONE_NUMBER', value, region ? { region } : {}), `${value} ${region}`).toBe(reference(value, region));
        }
      }
    }
    // The fast path must actually be exercised, or this test proves nothing.
    expect(fast).toBeGreaterThan(cases / 3);
  });

  it('equals the full parse on arbitrary strings of phone characters', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('+', '0', '1', '2', '3', '4', '4', '7', '9', ' ', '-', '(', ')'), { maxLength: 24 }),
        fc.constantFrom('GB', 'US', 'DE', undefined),
        (chars, region) => {
          const value = chars.join('');
          expect(canonicalise('PHONE_NUMBER', value, region ? { region } : {})).toBe(reference(value, region));
        },
      ),
      { numRuns: 3000, seed: 42 },
    );
  });
});
