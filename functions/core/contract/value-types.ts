/**
 * How a cell's text is read as a typed value. One definition shared by contract inference, row
 * validation and the quality profile, so that an inferred contract accepts what it saw.
 */
import type { Cell } from '../types.ts';

export const INTEGER_TEXT = /^[+-]?\d+$/;
export const NUMBER_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME_TEXT = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const EMAIL_TEXT = /^[^\s@"<>()[\]\\,;:]+@[^\s@"<>()[\]\\,;:]+\.[^\s@"<>()[\]\\,;:]{2,}$/;
const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a non-empty value looks like. */
export type ValueKind = 'integer' | 'number' | 'boolean' | 'date' | 'datetime' | 'json' | 'string';

export function isNullCell(v: Cell | undefined): v is null | undefined | '' {
  return v === null || v === undefined || v === '';
}

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;
  return d <= days;
}

/** `YYYY-MM-DD`, a real calendar date. */
export function isDateText(s: string): boolean {
  if (s.length !== 10) return false;
  const m = DATE_TEXT.exec(s);
  return m !== null && validDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** ISO 8601 date and time (`T` or space), optional seconds, fraction and zone. */
export function isDateTimeText(s: string): boolean {
  if (s.length < 16 || s.length > 40) return false;
  const m = DATETIME_TEXT.exec(s);
  if (m === null || !validDate(Number(m[1]), Number(m[2]), Number(m[3]))) return false;
  return Number(m[4]) < 24 && Number(m[5]) < 60 && (m[6] === undefined || Number(m[6]) < 61);
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
