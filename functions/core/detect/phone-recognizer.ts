/**
 * PHONE_NUMBER: a cheap regex finds digit runs that could be phone numbers; only those
 * candidates go through libphonenumber-js (`max` metadata, ~50 µs a parse), first for the row's
 * region, then, at a lower score, for the regions of the supported languages.
 */
import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { Span } from '../types.ts';
import { CONTEXT_WORDS, NEGATIVE_NUMBER_CONTEXT, compileContext } from './context-words.ts';
import { F_DIGIT, hasWordNear, type Recognizer, type ScanEnv } from './recognizer.ts';

// Optional + or 00, then digits and (area) groups separated by at most two of space - . / ;
// an optional extension. Every quantifier is bounded and each step starts with a distinct
// character class, so matching is linear.
const CANDIDATE =
  /(?<![\p{L}\p{N}+\-\/.,])(?:\+|00)?(?:\(\+?\d{1,4}\)|\d)(?:[ \-.\/]{0,2}(?:\(\d{1,4}\)|\d)){5,17}(?:\s?(?:x|ext\.?|extension|#)\s?\d{1,6})?(?![\p{N}]|[\-\/.,]\d)/giu;

const DATE_LIKE = /^(?:\d{4}[-.\/]\d{1,2}[-.\/]\d{1,2}|\d{1,2}[-.\/]\d{1,2}[-.\/]\d{2,4})$/;
const IPV4_LIKE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
/** Decimal amounts (1.234.567,89 or 1,234,567.89) are not phone numbers. */
const AMOUNT_LIKE = /^\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?$/;

/** Regions tried when a national number is not valid in the row's region. */
const FALLBACK_REGIONS: readonly CountryCode[] = [
  'GB', 'US', 'DE', 'FR', 'ES', 'IT', 'NL', 'PL', 'PT', 'BR', 'BE', 'AT', 'CH', 'IE', 'AU', 'CA', 'DK', 'NO', 'SE', 'FI', 'CZ', 'HU',
  'GR', 'ZA', 'IN', 'MX', 'NZ', 'IS', 'EE', 'SI', 'CY', 'LU',
];

const contextRe = compileContext(CONTEXT_WORDS.PHONE_NUMBER ?? []);
const negativeRe = compileContext(NEGATIVE_NUMBER_CONTEXT);

interface Parsed {
  readonly score: number;
  /** Length of the candidate kept (the extension marker may be dropped). */
  readonly length: number;
}

/** Bounded memo of candidate → verdict: the same numbers recur across rows. */
const memo = new Map<string, Parsed | null>();
const MEMO_MAX = 20_000;

function judge(candidate: string, region: string): Parsed | null {
  const key = `${region}\u0000${candidate}`;
  const hit = memo.get(key);
  if (hit !== undefined) return hit;
  const v = judgeUncached(candidate, region);
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(key, v);
  return v;
}

function judgeUncached(candidate: string, region: string): Parsed | null {
  const core = candidate.replace(/\s?(?:x|ext\.?|extension|#)\s?\d{1,6}$/i, '');
  if (DATE_LIKE.test(core) || IPV4_LIKE.test(core) || AMOUNT_LIKE.test(core)) return null;
  let digits = 0;
  for (let i = 0; i < core.length; i++) {
    const c = core.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  if (digits < 7 || digits > 15) return null;
  // A bare run of digits is weaker evidence than a number written the way people write phones.
  const formatted = /[ \-.()\/]/.test(core) || core.startsWith('+');
  const international = core.startsWith('+') || core.startsWith('00');
  if (international) {
    const p = parsePhoneNumberFromString(core.startsWith('00') ? `+${core.slice(2)}` : core);
    if (!p) return null;
    if (p.isValid()) return { score: 0.85, length: candidate.length };
    return p.isPossible() ? { score: 0.6, length: candidate.length } : null;
  }
  if (isSupportedCountry(region)) {
    const p = parsePhoneNumberFromString(core, region);
    if (p?.isValid()) return { score: formatted ? 0.65 : 0.5, length: candidate.length };
    if (p?.isPossible() && formatted) return { score: 0.4, length: candidate.length };
  }
  for (const r of FALLBACK_REGIONS) {
    if (r === region) continue;
    const p = parsePhoneNumberFromString(core, r);
    if (p?.isValid()) return { score: formatted ? 0.45 : 0.3, length: candidate.length };
  }
  return null;
}

/** Phone numbers in E.164 or national formats, validated by libphonenumber-js. */
export class PhoneRecognizer implements Recognizer {
  readonly name = 'phone';
  readonly entities = ['PHONE_NUMBER'] as const;
  readonly requires = F_DIGIT;

  analyze(text: string, env: ScanEnv, out: Span[]): void {
    CANDIDATE.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = CANDIDATE.exec(text)) !== null) {
      const candidate = m[0];
      const v = judge(candidate, env.region);
      if (!v) continue;
      const start = m.index;
      const end = start + v.length;
      let score = v.score;
      // Labels come before ("Tel:") or after ("… office", "… -Fax") the number.
      if (hasWordNear(text, contextRe, start, end, 40, 16)) score += 0.35;
      if (negativeRe.test(text.slice(Math.max(0, start - 24), start))) score -= 0.5;
      if (score > 0) out.push({ entity: 'PHONE_NUMBER', start, end, score: Math.min(1, score), recognizer: 'phone/libphonenumber' });
    }
  }
}

export const phoneRecognizer = new PhoneRecognizer();
