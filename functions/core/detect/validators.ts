/**
 * Checksum and structure validators for identifiers. Each takes the candidate text as found
 * (separators allowed) and answers whether it is a well-formed identifier of its kind. A failed
 * check drops a match (Presidio's `invalidate`); a passed one raises its score (`validate`).
 */

/** The ASCII digits of a string, in order. */
export function digitsOf(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) out += text[i];
  }
  return out;
}

/** Luhn (mod 10) over a digit string. */
export function luhnValid(digits: string): boolean {
  if (digits.length < 2) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** [prefix range start, range end, prefix length, min length, max length] */
type IinRange = readonly [number, number, number, number, number];

// Issuer identification ranges of the card networks (ISO/IEC 7812 assignments as published by the
// networks). A number must start in one of them and have one of its lengths.
const IIN_RANGES: readonly IinRange[] = [
  [4, 4, 1, 13, 19], // Visa (13, 16, 19 in practice)
  [51, 55, 2, 16, 16], // Mastercard
  [2221, 2720, 4, 16, 16], // Mastercard 2-series
  [34, 34, 2, 15, 15], // Amex
  [37, 37, 2, 15, 15],
  [300, 305, 3, 14, 19], // Diners Club
  [3095, 3095, 4, 14, 19],
  [36, 36, 2, 14, 19],
  [38, 39, 2, 14, 19],
  [6011, 6011, 4, 16, 19], // Discover
  [644, 649, 3, 16, 19],
  [65, 65, 2, 16, 19],
  [622126, 622925, 6, 16, 19],
  // JCB's published range is 3528–3589; numbers issued on other 35xx prefixes exist in the wild.
  [35, 35, 2, 16, 19], // JCB
  [1800, 1800, 4, 15, 15],
  [2131, 2131, 4, 15, 15],
  [50, 50, 2, 12, 19], // Maestro
  [56, 69, 2, 12, 19],
  [62, 62, 2, 16, 19], // UnionPay
  [81, 81, 2, 16, 19],
  [2200, 2204, 4, 16, 19], // Mir
  [60, 60, 2, 16, 16], // RuPay
  [82, 82, 2, 16, 16],
  [508, 508, 3, 16, 16],
  [9792, 9792, 4, 16, 16], // Troy
  [1, 1, 1, 15, 15], // UATP
];

/** True when the digits start with a card network's IIN range and have one of its lengths. */
export function cardIinValid(digits: string): boolean {
  const len = digits.length;
  for (const [lo, hi, plen, min, max] of IIN_RANGES) {
    if (len < min || len > max) continue;
    const p = Number(digits.slice(0, plen));
    if (p >= lo && p <= hi) return true;
  }
  return false;
}

/** A payment card number: 12–19 digits, a known IIN range, Luhn. */
export function creditCardValid(text: string): boolean {
  const d = digitsOf(text);
  return d.length >= 12 && d.length <= 19 && cardIinValid(d) && luhnValid(d);
}

// IBAN lengths per country (SWIFT IBAN registry).
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BI: 27,
  BR: 29,
  BY: 28,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DJ: 27,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FK: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LC: 32,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  LY: 25,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MN: 20,
  MR: 27,
  MT: 31,
  MU: 30,
  NI: 28,
  NL: 18,
  NO: 15,
  OM: 23,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  RU: 33,
  SA: 24,
  SC: 31,
  SD: 18,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  SO: 23,
  ST: 25,
  SV: 28,
  TL: 23,
  TN: 24,
  TR: 26,
  UA: 29,
  VA: 22,
  VG: 24,
  XK: 20,
  YE: 30,
};

/** The IBAN length of a country, or undefined when the country has no IBAN. */
export function ibanLength(country: string): number | undefined {
  return IBAN_LENGTHS[country.toUpperCase()];
}

/** Removes spaces and dashes and uppercases. */
export function compactAlnum(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90)) out += text[i];
    else if (c >= 97 && c <= 122) out += String.fromCharCode(c - 32);
  }
  return out;
}

/** An IBAN: known country, that country's length, ISO 7064 mod-97 = 1. */
export function ibanValid(text: string): boolean {
  const s = compactAlnum(text);
  const len = IBAN_LENGTHS[s.slice(0, 2)];
  if (len === undefined || s.length !== len) return false;
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(s)) return false;
  const rearranged = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    if (c >= 65) {
      const v = c - 55; // A=10 … Z=35: two digits
      rem = (rem * 100 + v) % 97;
    } else {
      rem = (rem * 10 + (c - 48)) % 97;
    }
  }
  return rem === 1;
}

/**
 * A US social security number: area not 000, 666 or 900–999; group not 00; serial not 0000;
 * not one of the numbers known from advertising.
 */
export function usSsnValid(text: string): boolean {
  const d = digitsOf(text);
  if (d.length !== 9) return false;
  const area = Number(d.slice(0, 3));
  const group = Number(d.slice(3, 5));
  const serial = Number(d.slice(5));
  if (area === 0 || area === 666 || area >= 900 || group === 0 || serial === 0) return false;
  if (d === '078051120' || d === '219099999' || d === '123456789') return false;
  // All-same-digit numbers are placeholders.
  return !/^(\d)\1{8}$/.test(d);
}

/** A UK National Insurance number (HMRC prefix rules, suffix A–D). */
export function ukNinoValid(text: string): boolean {
  const s = compactAlnum(text);
  if (!/^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]$/.test(s)) return false;
  const prefix = s.slice(0, 2);
  return !['BG', 'GB', 'NK', 'KN', 'TN', 'NT', 'ZZ'].includes(prefix);
}

/** A UK NHS number: 10 digits, mod-11 check digit (a remainder giving 10 is invalid). */
export function ukNhsValid(text: string): boolean {
  const d = digitsOf(text);
  if (d.length !== 10) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (d.charCodeAt(i) - 48) * (10 - i);
  let check = 11 - (sum % 11);
  if (check === 11) check = 0;
  if (check === 10) return false;
  if (/^(\d)\1{9}$/.test(d)) return false;
  return check === d.charCodeAt(9) - 48;
}

const NIF_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

/** A Spanish NIF (DNI: 8 digits + letter) or NIE (X/Y/Z + 7 digits + letter), control letter checked. */
export function esNifValid(text: string): boolean {
  const s = compactAlnum(text);
  let num: string;
  if (/^\d{8}[A-Z]$/.test(s)) num = s.slice(0, 8);
  else if (/^[XYZ]\d{7}[A-Z]$/.test(s)) num = String('XYZ'.indexOf(s[0] as string)) + s.slice(1, 8);
  else return false;
  return NIF_LETTERS[Number(num) % 23] === s[8];
}

// Codice fiscale check character tables (DM 23/12/1976).
const CF_ODD: readonly number[] = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];
// Letters that replace digits in codici fiscali issued for homonyms (omocodia).
const CF_OMOCODIA = 'LMNPQRSTUV';

/** An Italian codice fiscale (16 characters) with its check character. */
export function itFiscalCodeValid(text: string): boolean {
  const s = compactAlnum(text);
  if (!/^[A-Z]{6}[0-9LMNP-V]{2}[ABCDEHLMPRST][0-9LMNP-V]{2}[A-Z][0-9LMNP-V]{3}[A-Z]$/.test(s)) return false;
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    const ch = s[i] as string;
    const code = ch.charCodeAt(0);
    // Digits map to the same value as the letter at the same index (0→A, 1→B, ...).
    const v = code <= 57 ? code - 48 : code - 65;
    sum += i % 2 === 0 ? (CF_ODD[v] as number) : v;
  }
  if (String.fromCharCode(65 + (sum % 26)) !== s[15]) return false;
  // Day of birth 1–31 (women +40), after undoing omocodia.
  const dayText = s.slice(9, 11).replace(/[LMNP-V]/g, (c) => String(CF_OMOCODIA.indexOf(c)));
  const day = Number(dayText);
  return (day >= 1 && day <= 31) || (day >= 41 && day <= 71);
}

/** A Polish PESEL: 11 digits, weighted check digit, a valid birth date (month encodes the century). */
export function plPeselValid(text: string): boolean {
  const d = digitsOf(text);
  if (d.length !== 11) return false;
  const w = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3];
  let sum = 0;
  for (let i = 0; i < 10; i++) sum += (d.charCodeAt(i) - 48) * (w[i] as number);
  if ((10 - (sum % 10)) % 10 !== d.charCodeAt(10) - 48) return false;
  const yy = Number(d.slice(0, 2));
  let mm = Number(d.slice(2, 4));
  const dd = Number(d.slice(4, 6));
  let year: number;
  if (mm > 80) {
    year = 1800 + yy;
    mm -= 80;
  } else if (mm > 60) {
    year = 2200 + yy;
    mm -= 60;
  } else if (mm > 40) {
    year = 2100 + yy;
    mm -= 40;
  } else if (mm > 20) {
    year = 2000 + yy;
    mm -= 20;
  } else year = 1900 + yy;
  return validDate(year, mm, dd);
}

// Verhoeff tables.
const VH_D: readonly (readonly number[])[] = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
  [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
  [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VH_P: readonly (readonly number[])[] = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
  [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
  [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
  [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/** Verhoeff checksum over a digit string (the last digit is the check digit). */
export function verhoeffValid(digits: string): boolean {
  let c = 0;
  for (let i = 0; i < digits.length; i++) {
    const d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (d < 0 || d > 9) return false;
    c = (VH_D[c] as number[])[(VH_P[i % 8] as number[])[d] as number] as number;
  }
  return c === 0;
}

/** An Indian Aadhaar number: 12 digits, not starting with 0 or 1, Verhoeff check digit. */
export function inAadhaarValid(text: string): boolean {
  const d = digitsOf(text);
  if (d.length !== 12 || d[0] === '0' || d[0] === '1') return false;
  if (/^(\d)\1{11}$/.test(d)) return false;
  return verhoeffValid(d);
}

/**
 * A German tax identification number (Steuerliche Identifikationsnummer): 11 digits, first not 0,
 * in the first ten one digit appears two or three times and the others at most once,
 * ISO 7064 MOD 11,10 check digit.
 */
export function deTaxIdValid(text: string): boolean {
  const d = digitsOf(text);
  if (d.length !== 11 || d[0] === '0') return false;
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < 10; i++) counts[d.charCodeAt(i) - 48]!++;
  const repeated = counts.filter((n) => n >= 2);
  if (repeated.length !== 1 || (repeated[0] as number) > 3) return false;
  // A digit appearing three times must not do so on three consecutive positions.
  if (repeated[0] === 3 && /(\d)\1\1/.test(d.slice(0, 10))) return false;
  let product = 10;
  for (let i = 0; i < 10; i++) {
    let sum = (d.charCodeAt(i) - 48 + product) % 10;
    if (sum === 0) sum = 10;
    product = (sum * 2) % 11;
  }
  let check = 11 - product;
  if (check === 10) check = 0;
  return check === d.charCodeAt(10) - 48;
}

/** True when year-month-day is a calendar date. */
export function validDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const dim = [31, (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return day <= (dim[month - 1] as number);
}
