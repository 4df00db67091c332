/**
 * PHONE_NUMBER: a cheap regex finds digit runs that could be phone numbers; only those
 * candidates go through libphonenumber-js (`max` metadata, ~50 µs a parse), first for the row's
 * region, then, at a lower score, for the regions of the supported languages.
 */
import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { TwoGenerationCache } from '../two-generation-cache.ts';
import type { Span } from '../types.ts';
import { CONTEXT_WORDS, NEGATIVE_NUMBER_CONTEXT } from './context-words.ts';
import { F_DIGITS7, type Recognizer, type ScanEnv, sharedList } from './recognizer.ts';
import { wordNear } from './word-lists.ts';

// Local aliases of imported functions: an imported binding is reloaded (and hole-checked) on every use.
const wordNear_ = wordNear;

// The first character (+, ( or a digit) is consumed before the look-behind so V8 can scan fast;
// then digits and (area) groups separated by at most two of space - . / ;
// an optional extension. Every quantifier is bounded and each step starts with a distinct
// character class, so matching is linear.
const CANDIDATE =
  /[+(\d](?<![\p{L}\p{N}+\-/.,][+(\d])(?:(?<=\+)(?:\(\+?\d{1,4}\)|\d)|(?<=\()\+?\d{1,4}\)|(?<=\d))(?:[ \-./]{0,2}(?:\(\d{1,4}\)|\d)){5,17}(?:\s?(?:[xX#]|[eE][xX][tT]\.?|extension)\s?\d{1,6})?(?![\p{N}]|[-/.,]\d)/gu;

const DATE_LIKE = /^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})$/;
const IPV4_LIKE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
/** Decimal amounts (1.234.567,89 or 1,234,567.89) are not phone numbers. */
const AMOUNT_LIKE = /^\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?$/;

/** Regions tried when a national number is not valid in the row's region. */
const FALLBACK_REGIONS: readonly CountryCode[] = [
  'GB',
  'US',
  'DE',
  'FR',
  'ES',
  'IT',
  'NL',
  'PL',
  'PT',
  'BR',
  'BE',
  'AT',
  'CH',
  'IE',
  'AU',
  'CA',
  'DK',
  'NO',
  'SE',
  'FI',
  'CZ',
  'HU',
  'GR',
  'ZA',
  'IN',
  'MX',
  'NZ',
  'IS',
  'EE',
  'SI',
  'CY',
  'LU',
];

/** Entries per memo generation (two generations: hot numbers survive a turnover). */
const MEMO_GENERATION = 16_384;

const contextBit = sharedList(CONTEXT_WORDS.PHONE_NUMBER ?? []);
const negativeBit = sharedList(NEGATIVE_NUMBER_CONTEXT);

interface Parsed {
  readonly score: number;
  /** Length of the candidate kept (the extension marker may be dropped). */
  readonly length: number;
}

/** Bounded memos of candidate → verdict: the same numbers recur across rows. */
const memo = new TwoGenerationCache<Parsed | null | typeof NEEDS_FALLBACK>(MEMO_GENERATION);
const fallbackMemo = new TwoGenerationCache<Parsed | null>(MEMO_GENERATION);
/** The row's region said no; only the fallback regions can still say yes. */
const NEEDS_FALLBACK = 'fallback';
/** The best score a fallback region can give (formatted national number). */
const FALLBACK_MAX_SCORE = 0.45;
/** The best score any verdict gives (a valid international number). */
const MAX_SCORE = 0.85;

/**
 * The verdict on a candidate, or null. The fallback regions (up to 31 libphonenumber parses,
 * ≈ 0.5 ms for an order or reference number) are only tried when their score plus `bonus` (the
 * context around the candidate) can reach `minScore`: below it the span would be dropped anyway.
 */
function judge(candidate: string, region: string, bonus: number, minScore: number): Parsed | null {
  const key = `${region}\u0000${candidate}`;
  let v = memo.get(key);
  if (v === undefined) {
    v = judgeUncached(candidate, region);
    memo.set(key, v);
  }
  if (v !== NEEDS_FALLBACK) return v;
  if (FALLBACK_MAX_SCORE + bonus < minScore) return null;
  let f = fallbackMemo.get(candidate);
  if (f === undefined) {
    f = judgeFallback(candidate, region);
    fallbackMemo.set(candidate, f);
  }
  return f;
}

function coreOf(candidate: string): string {
  return candidate.replace(/\s?(?:x|ext\.?|extension|#)\s?\d{1,6}$/i, '');
}

/** The fallback regions, once the row's region did not validate the number (region-independent result). */
function judgeFallback(candidate: string, region: string): Parsed | null {
  const core = coreOf(candidate);
  const formatted = /[ \-.()/]/.test(core) || core.startsWith('+');
  for (const r of FALLBACK_REGIONS) {
    if (r === region) continue;
    const p = parsePhoneNumberFromString(core, r);
    if (p?.isValid()) return { score: formatted ? 0.45 : 0.3, length: candidate.length };
  }
  return null;
}

function judgeUncached(candidate: string, region: string): Parsed | null | typeof NEEDS_FALLBACK {
  const core = coreOf(candidate);
  if (DATE_LIKE.test(core) || IPV4_LIKE.test(core) || AMOUNT_LIKE.test(core)) return null;
  let digits = 0;
  for (let i = 0; i < core.length; i++) {
    const c = core.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  if (digits < 7 || digits > 15) return null;
  // A bare run of digits is weaker evidence than a number written the way people write phones.
  const formatted = /[ \-.()/]/.test(core) || core.startsWith('+');
  const international = core.startsWith('+') || core.startsWith('00');
  if (international) {
    const p = parsePhoneNumberFromString(core.startsWith('00') ? `+${core.slice(2)}` : core);
    if (!p) return null;
    if (p.isValid()) return { score: 0.85, length: candidate.length };
    return p.isPossible() ? { score: 0.6, length: candidate.length } : null;
  }
  if (isSupportedCountry(region)) {
    const p = parsePhoneNumberFromString(core, region);
    if (p?.isValid()) return { score: formatted ? 0.65 : 0.45, length: candidate.length };
    if (p?.isPossible() && formatted) return { score: 0.4, length: candidate.length };
  }
  return NEEDS_FALLBACK;
}

/** Phone numbers in E.164 or national formats, validated by libphonenumber-js. */
export class PhoneRecognizer implements Recognizer {
  readonly name = 'phone';
  readonly entities = ['PHONE_NUMBER'] as const;
  readonly requires = F_DIGITS7;

  analyze(text: string, env: ScanEnv, out: Span[]): void {
    CANDIDATE.lastIndex = 0;
    for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
      const candidate = m[0];
      const start = m.index;
      const end = start + candidate.length;
      // Labels come before ("Tel:") or after ("… office", "… -Fax") the number.
      let bonus = 0;
      if (wordNear_(text, contextBit, start, end, 40, 16)) bonus += 0.35;
      if (wordNear_(text, negativeBit, start, end, 24, 0)) bonus -= 0.5;
      // An order or invoice number: no verdict can lift it to the threshold, so none is needed.
      if (MAX_SCORE + bonus < (env.minScore ?? 0)) continue;
      const v = judge(candidate, env.region, bonus, env.minScore ?? 0);
      if (!v) continue;
      const score = v.score + bonus;
      if (score > 0) out.push({ entity: 'PHONE_NUMBER', start, end, score: Math.min(1, score), recognizer: 'phone/libphonenumber' });
    }
  }
}

export const phoneRecognizer = new PhoneRecognizer();
