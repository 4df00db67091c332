/**
 * How a cell's text is read as a typed value. One definition shared by contract inference, row
 * validation and the quality profile, so that an inferred contract accepts what it saw.
 */
import type { Cell } from '../types.ts';

export const INTEGER_TEXT = /^[+-]?\d+$/;
export const NUMBER_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const EMAIL_TEXT = /^[^\s@"<>()[\]\\,;:]+@[^\s@"<>()[\]\\,;:]+\.[^\s@"<>()[\]\\,;:]{2,}$/;
const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a non-empty value looks like. */
export type ValueKind = 'integer' | 'number' | 'boolean' | 'date' | 'datetime' | 'json' | 'string';

export function isNullCell(v: Cell | undefined): v is null | undefined | '' {
  return v === null || v === undefined || v === '';
}

const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1 || d > (DAYS_IN_MONTH[m] as number)) return false;
  return m !== 2 || d < 29 || (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0));
}

/** Two ASCII digits at i as a number, or -1. Hand-rolled: these run per cell on the hot path. */
function digits2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** `YYYY-MM-DD` at the start of s is a real calendar date. */
function datePrefix(s: string): boolean {
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return false;
  const hi = digits2(s, 0);
  const lo = digits2(s, 2);
  const m = digits2(s, 5);
  const d = digits2(s, 8);
  return hi >= 0 && lo >= 0 && m >= 0 && d >= 0 && validDate(hi * 100 + lo, m, d);
}

/** `YYYY-MM-DD`, a real calendar date. */
export function isDateText(s: string): boolean {
  return s.length === 10 && datePrefix(s);
}

/** ISO 8601 date and time (`T` or space), optional seconds, fraction and zone. */
export function isDateTimeText(s: string): boolean {
  const n = s.length;
  if (n < 16 || n > 40 || !datePrefix(s)) return false;
  const sep = s.charCodeAt(10);
  if (sep !== 84 && sep !== 116 && sep !== 32) return false;
  const hh = digits2(s, 11);
  const mm = digits2(s, 14);
  if (hh < 0 || hh > 23 || s.charCodeAt(13) !== 58 || mm < 0 || mm > 59) return false;
  let i = 16;
  if (s.charCodeAt(i) === 58) {
    const ss = digits2(s, i + 1);
    if (ss < 0 || ss > 60) return false;
    i += 3;
    if (s.charCodeAt(i) === 46) {
      const start = ++i;
      while (i < n && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
      if (i === start || i - start > 9) return false;
    }
  }
  if (i === n) return true;
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) return i + 1 === n;
  if (z !== 43 && z !== 45) return false;
  if (digits2(s, i + 1) < 0) return false;
  i += 3;
  if (i === n) return true;
  if (s.charCodeAt(i) === 58) i++;
  return digits2(s, i) >= 0 && i + 2 === n;
}

export function isBooleanText(s: string): boolean {
  return s.length <= 5 && /^(?:true|false)$/i.test(s);
}

export function isEmailText(s: string): boolean {
  return s.length <= 254 && EMAIL_TEXT.test(s);
}

export function isUuidText(s: string): boolean {
  return s.length === 36 && UUID_TEXT.test(s);
}

/** A JSON object or array given as text (JSON Lines nested values are decoded that way). */
export function isJsonText(s: string): boolean {
  const c = s.charCodeAt(0);
  if (c !== 123 && c !== 91) return false;
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

/** The most specific kind of a non-empty cell. Cheap first-character tests come before regexes. */
export function kindOf(v: Cell): ValueKind {
  switch (typeof v) {
    case 'number':
      return Number.isInteger(v) ? 'integer' : 'number';
    case 'boolean':
      return 'boolean';
    case 'string': {
      const c = v.charCodeAt(0);
      if ((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46) {
        if (INTEGER_TEXT.test(v)) return 'integer';
        if (NUMBER_TEXT.test(v)) return 'number';
        if (c >= 48 && c <= 57 && v.charCodeAt(4) === 45) {
          if (isDateText(v)) return 'date';
          if (isDateTimeText(v)) return 'datetime';
        }
        return 'string';
      }
      if (c === 116 || c === 102 || c === 84 || c === 70) return isBooleanText(v) ? 'boolean' : 'string';
      if ((c === 123 || c === 91) && isJsonText(v)) return 'json';
      return 'string';
    }
    default:
      return 'string';
  }
}
