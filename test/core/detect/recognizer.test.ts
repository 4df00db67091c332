import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  F_ARMOUR,
  F_AT,
  F_COLON,
  F_DIGIT,
  F_DIGITS7,
  F_DIGITS9,
  F_DIGITS12,
  F_DOTTED4,
  F_EQUALS,
  F_EYJ,
  F_L2D2,
  F_LETTER,
  F_MAC,
  F_NIF,
  F_RUN16,
  F_RUN20,
  F_RUN40,
  F_TOKEN15,
  F_UPPER,
  F_UPPER_DIGIT,
  F_URLISH,
  textFeatures,
} from '../../../functions/core/detect/recognizer.ts';

/** Longest number across single separators, the straightforward way (the reference for F_DIGITS*). */
function longestNumber(text: string): number {
  let best = 0;
  for (const m of text.matchAll(/\(?\d(?:[ \-./()+]?\d)*/g)) best = Math.max(best, m[0].replace(/\D/g, '').length);
  return best;
}

/**
 * Each feature bit and what it promises: whenever the regex matches, the bit is set (the bit may
 * be set more often: it only gates the recognizers that need it).
 */
const implied: [string, number, RegExp][] = [
  ['digit', F_DIGIT, /\d/],
  ['at', F_AT, /@/],
  ['upper', F_UPPER, /\p{Lu}/u],
  ['letter', F_LETTER, /\p{L}/u],
  ['colon', F_COLON, /:/],
  ['equals', F_EQUALS, /=/],
  ['url', F_URLISH, /:\/\/|www\./],
  ['armour', F_ARMOUR, /-----/],
  ['eyJ', F_EYJ, /eyJ/],
  ['iban / nino', F_L2D2, /(?<![A-Za-z0-9])(?:[A-Za-z]{2}|[A-Z]{2} )\d\d/],
  ['uk / ca postcode', F_UPPER_DIGIT, /[A-Z]\d/],
  ['fiscal code', F_RUN16, /(?<![A-Za-z0-9])[A-Za-z0-9]{16}(?![A-Za-z0-9])/],
  ['aws key id', F_RUN20, /(?<![A-Za-z0-9])[A-Za-z0-9]{20}(?![A-Za-z0-9])/],
  ['aws secret', F_RUN40, /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/],
  ['vendor token', F_TOKEN15, /[A-Za-z0-9_-]{15}/],
  ['ipv4', F_DOTTED4, /(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}/],
  ['mac', F_MAC, /(?<![\p{L}\p{N}:-])[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}(?![\p{L}\p{N}:-])/u],
  ['cisco mac', F_MAC, /(?<![\p{L}\p{N}.])[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}(?![\p{L}\p{N}.])/u],
  ['dni', F_NIF, /(?<![\p{L}\p{N}-])\d{8}[ -]?[A-Za-z](?![\p{L}\p{N}])/u],
  ['nie', F_NIF, /(?<![\p{L}\p{N}-])[XYZxyz][ -]?\d{7}[ -]?[A-Za-z](?![\p{L}\p{N}])/u],
];

const samples = [
  'IBAN GB82 WEST 1234 5698 7654 32',
  'NI number AB 12 34 56 C',
  'codice fiscale RSSMRA85T10A562S',
  'key AKIAIOSFODNN7EXAMPLE',
  'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'token sk_live_4eC39HqLyjWDarjtT1zdp7dc',
  'from 192.168.10.25 and 10.0.0.1',
  'device 00:1A:2B:3C:4D:5E, 00-1a-2b-3c-4d-5e, 001A.2B3C.4D5E',
  'DNI 12345678Z, 12345678-z, NIE X1234567L, y 1234567 L',
  'London SW1A 1AA, K1A 0B1',
  'Refund of 891.96 EUR processed for order 74730370.',
  'call +44 20 7946 0958 or (020) 7946-0958',
  '-----BEGIN PRIVATE KEY----- eyJhbGciOiJIUzI1NiJ9 https://x.y www.example.com a=b',
  'Zoë Ärger ÉTÉ 東京 ß',
  '',
];

describe('textFeatures', () => {
  it.each(implied)('sets the %s bit whenever its shape occurs (samples)', (_name, bit, re) => {
    for (const s of samples) if (re.test(s)) expect(textFeatures(s) & bit, s).toBe(bit);
  });

  it('flags samples that hold each shape', () => {
    expect(textFeatures(samples[0] as string) & F_L2D2).toBe(F_L2D2);
    expect(textFeatures(samples[7] as string) & F_MAC).toBe(F_MAC);
    expect(textFeatures(samples[6] as string) & F_DOTTED4).toBe(F_DOTTED4);
    expect(textFeatures(samples[8] as string) & F_NIF).toBe(F_NIF);
    // Dates and decimals are no MAC address, an order number no NIF, a price no IP.
    expect(textFeatures('am 06.05.2025, 891.96 EUR, 2025-05-06 10:30:00') & (F_MAC | F_DOTTED4 | F_NIF)).toBe(0);
    expect(textFeatures('order 74730370 shipped') & F_NIF).toBe(0);
  });

  it('computes the longest number as the straightforward scan does', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9 .\-/()+a]{0,40}$/), (s) => {
        const best = longestNumber(s);
        const f = textFeatures(s);
        expect([f & F_DIGITS7, f & F_DIGITS9, f & F_DIGITS12]).toEqual([
          best >= 7 ? F_DIGITS7 : 0,
          best >= 9 ? F_DIGITS9 : 0,
          best >= 12 ? F_DIGITS12 : 0,
        ]);
      }),
      { numRuns: 300 },
    );
  });

  it.each(implied)('sets the %s bit whenever its shape occurs (random texts)', (_name, bit, re) => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9A-Fa-z :.\-/+=_@XYZ\u00e9\u00c9]{0,60}$/), (s) => {
        if (re.test(s)) expect(textFeatures(s) & bit).toBe(bit);
      }),
      { numRuns: 400 },
    );
  });
});
