import { describe, expect, it } from 'vitest';
import {
  creditCardValid,
  deTaxIdValid,
  esNifValid,
  ibanValid,
  inAadhaarValid,
  itFiscalCodeValid,
  luhnValid,
  plPeselValid,
  ukNhsValid,
  ukNinoValid,
  usSsnValid,
} from '../../../functions/core/detect/validators.ts';

const cases: [string, (v: string) => boolean, string, boolean][] = [
  ['Visa', creditCardValid, '4111111111111111', true],
  ['Visa, Luhn broken', creditCardValid, '4111111111111112', false],
  ['Mastercard spaced', creditCardValid, '5500 0055 5555 5559', true],
  ['Amex', creditCardValid, '340000000000009', true],
  ['Luhn-valid but no card network', creditCardValid, '0000000000000000', false],
  ['too short', creditCardValid, '4111111111', false],
  ['IBAN GB', ibanValid, 'GB82WEST12345698765432', true],
  ['IBAN GB spaced', ibanValid, 'GB82 WEST 1234 5698 7654 32', true],
  ['IBAN DE', ibanValid, 'DE89370400440532013000', true],
  ['IBAN FR', ibanValid, 'FR1420041010050500013M02606', true],
  ['IBAN NL', ibanValid, 'NL91ABNA0417164300', true],
  ['IBAN bad checksum', ibanValid, 'GB82WEST12345698765433', false],
  ['IBAN wrong length for country', ibanValid, 'DE8937040044053201300', false],
  ['IBAN unknown country', ibanValid, 'XX82WEST12345698765432', false],
  ['SSN', usSsnValid, '536-22-1234', true],
  ['SSN area 666', usSsnValid, '666-12-3456', false],
  ['SSN area 9xx', usSsnValid, '912-12-3456', false],
  ['SSN group 00', usSsnValid, '536-00-1234', false],
  ['SSN serial 0000', usSsnValid, '536-22-0000', false],
  ['SSN advertised', usSsnValid, '078-05-1120', false],
  ['NINO', ukNinoValid, 'AB 12 34 56 C', true],
  ['NINO excluded prefix', ukNinoValid, 'BG123456A', false],
  ['NINO bad suffix', ukNinoValid, 'AB123456E', false],
  ['NINO placeholder prefix', ukNinoValid, 'QQ123456C', false],
  ['NHS', ukNhsValid, '943 476 5919', true],
  ['NHS bad check digit', ukNhsValid, '943 476 5918', false],
  ['DNI', esNifValid, '12345678Z', true],
  ['DNI wrong letter', esNifValid, '12345678A', false],
  ['NIE', esNifValid, 'X1234567L', true],
  ['NIE wrong letter', esNifValid, 'X1234567M', false],
  ['codice fiscale', itFiscalCodeValid, 'RSSMRA85T10A562S', true],
  ['codice fiscale bad check', itFiscalCodeValid, 'RSSMRA85T10A562T', false],
  ['PESEL', plPeselValid, '44051401359', true],
  ['PESEL bad check', plPeselValid, '44051401358', false],
  ['PESEL impossible date', plPeselValid, '44133101350', false],
  ['Aadhaar', inAadhaarValid, '2341 2341 2346', true],
  ['Aadhaar bad Verhoeff', inAadhaarValid, '2341 2341 2347', false],
  ['Aadhaar starting with 1', inAadhaarValid, '1341 2341 2346', false],
  ['Steuer-ID', deTaxIdValid, '86095742719', true],
  ['Steuer-ID bad check', deTaxIdValid, '86095742718', false],
  ['Steuer-ID no repeated digit', deTaxIdValid, '12345678903', false],
];

describe('identifier validators', () => {
  it.each(cases)('%s: %s', (_name, fn, value, expected) => {
    expect(fn(value)).toBe(expected);
  });

  it('Luhn on known numbers', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
  });
});
