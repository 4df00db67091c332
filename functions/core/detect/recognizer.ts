/**
 * The recognizer model (after Presidio's): a recognizer finds candidate spans of its entities in
 * a text; a pattern recognizer does it with precompiled regexes, each with a base score, context
 * words that raise the score when found near a match, negative context that lowers it, and a
 * validator that confirms (checksum) or drops a match.
 *
 * Speed: each recognizer declares the cheap text features it needs (a digit, an `@`, an upper-case
 * letter...); the scanner computes them once per text and skips recognizers whose features are
 * absent, so most cells are never touched by a regex. Regexes use bounded quantifiers only (no
 * nested unbounded repetition), so matching is linear in the text length.
 */
import type { EntityType, Span } from '../types.ts';
import {
  BLOOM_MASK,
  beginWords,
  lowerWord,
  PREFIX_BLOOM,
  prefixAt,
  registerWordList,
  WORD_BLOOM,
  wordAt,
  wordListsIn,
  wordNear,
} from './word-lists.ts';

/** Text features, a bit each. */
export const F_DIGIT = 1;
export const F_AT = 2;
export const F_UPPER = 4;
export const F_LETTER = 8;
/** `://`, `www.` */
export const F_URLISH = 16;
/** `-----` (PEM armour) */
export const F_ARMOUR = 32;
/** `:` */
export const F_COLON = 64;
/** `eyJ` (base64 of `{"`: JWT) */
export const F_EYJ = 128;
/** A number of at least 7 / 9 / 12 digits (digit groups joined by one separator count as one number). */
export const F_DIGITS7 = 256;
export const F_DIGITS9 = 512;
export const F_DIGITS12 = 1024;

/** A token of exactly 16 / 20 ASCII letters and digits (Italian fiscal code, AWS access key id). */
export const F_RUN16 = 2048;
export const F_RUN20 = 4096;
/** A run of exactly 40 characters of [A-Za-z0-9/+] (AWS secret key). */
export const F_RUN40 = 8192;
/** A run of at least 15 characters of [A-Za-z0-9_-] (vendor API tokens). */
export const F_TOKEN15 = 16384;
/** Two ASCII letters, an optional space, two digits (IBAN, UK NINO). */
export const F_L2D2 = 32768;
/** An ASCII capital directly before a digit (UK and Canadian postcodes). */
export const F_UPPER_DIGIT = 65536;
/** Four or more digit groups joined by single dots (IPv4). */
export const F_DOTTED4 = 131072;
/** Six 2-hex-digit groups joined by `:` or `-`, or three 4-hex-digit groups joined by `.` (MAC). */
export const F_MAC = 262144;
/** A run of 7 or 8 digits, then an optional space or hyphen and a lone ASCII letter (ES NIF / NIE). */
export const F_NIF = 524288;
/** `=` */
export const F_EQUALS = 1048576;

// ASCII character classes, a bit each. Text features (F_AT, F_COLON, F_EQUALS) double as classes.
const C_DIGIT = 1 << 24;
const C_UPPER = 1 << 25;
const C_LOWER = 1 << 26;
/** Part of a chunk: the text between whitespace and , ; ! ? quotes and brackets. */
const C_CHUNK = 1 << 27;
/** `-` `:` `/`: a chunk holding one may be a URL, MAC or armour line. */
const C_PUNCT = 1 << 28;
const C_NONASCII = 1 << 29;
/** [A-Za-z0-9/+] */
const C_B64 = 1 << 21;
/** [A-Za-z0-9_-] */
const C_TOKEN = 1 << 23;
/** [0-9A-Fa-f] */
const C_HEX = 1 << 22;
/** `.` (shares its bit with F_NIF: class bits outside SEEN_FEATURES never reach the features). */
const C_DOT = 1 << 19;
const ASCII = new Int32Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  let k = c > 32 && c < 127 && !' \t\r\n,;!?"\'()[]{}<>`'.includes(ch) ? C_CHUNK : 0;
  if (/\d/.test(ch)) k |= C_DIGIT;
  if (/[A-Z]/.test(ch)) k |= C_UPPER;
  if (/[a-z]/.test(ch)) k |= C_LOWER;
  if (/[A-Za-z0-9/+]/.test(ch)) k |= C_B64;
  if (/[A-Za-z0-9_-]/.test(ch)) k |= C_TOKEN;
  if (/[0-9A-Fa-f]/.test(ch)) k |= C_HEX;
  if ('-:/'.includes(ch)) k |= C_PUNCT;
  if (ch === '.') k |= C_DOT;
  if (ch === '@') k |= F_AT;
  if (ch === ':') k |= F_COLON;
  if (ch === '=') k |= F_EQUALS;
  ASCII[c] = k;
}
const C_LETTER = C_UPPER | C_LOWER;
const C_ALNUM = C_DIGIT | C_LETTER;
const SEEN_FEATURES = F_AT | F_COLON | F_EQUALS;

// Local aliases of word-lists' tables: an imported binding is reloaded on every use in a hot loop.
const WORD_BLOOM_ = WORD_BLOOM;
const PREFIX_BLOOM_ = PREFIX_BLOOM;
const BLOOM_MASK_ = BLOOM_MASK;
const lowerWord_ = lowerWord;
const prefixAt_ = prefixAt;
const wordAt_ = wordAt;
const wordListsIn_ = wordListsIn;
const wordNear_ = wordNear;

const UPPER_RE = /\p{Lu}/u;
const LETTER_RE = /\p{L}/u;

/** The class bits of a char code (non-ASCII: a chunk character of no ASCII class). */
function cls(c: number): number {
  return c < 128 ? (ASCII[c] as number) : C_NONASCII | C_CHUNK;
}
/** Separators inside one number: space - . / ( ) + */
function numberSeparator(c: number): boolean {
  return c === 32 || c === 45 || c === 46 || c === 47 || c === 40 || c === 41 || c === 43;
}

// The longest number of the text being scanned (digit groups joined by one separator): where the
// last digit run ended and how many digits its number had. Single-threaded, reset per text.
let lastDigitEnd = -2;
let numberDigits = 0;
let longest = 0;
// The digit runs of the text last given to textFeatures, in text order.
const MAX_RUNS = 256;
const RUN_START = new Int32Array(MAX_RUNS);
const RUN_END = new Int32Array(MAX_RUNS);
let runCount = 0;
let runsOf: string | undefined;
const MAX_MARKS = 512;
const MARKS = new Int32Array(MAX_MARKS);

/**
 * The feature bits of a text. One pass over its char codes sorts them into chunks (the text
 * between spaces and sentence punctuation); only chunks with a digit, `-` `:` `/`, or of 14
 * characters or more are looked at closely (`www.` is caught on the way). No allocation; two Unicode regex tests only when the
 * text has non-ASCII characters and no ASCII capital.
 */
export function textFeatures(text: string): number {
  const n = text.length;
  let seen = 0;
  let chunkStart = -1;
  let chunk = 0;
  let f = 0;
  // Chunks worth a closer look, as [start, end) pairs: analysed after the tight loop.
  let marks = 0;
  // The words (letters and digits) are hashed on the way for the word lists (word-lists.ts).
  beginWords(text);
  let wordStart = -1;
  let h = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    let k: number;
    let lo: number;
    if (c < 128) {
      k = ASCII[c] as number;
      lo = k & C_ALNUM ? c | 32 : 0;
    } else {
      k = C_NONASCII | C_CHUNK;
      lo = lowerWord_(c);
    }
    if (lo !== 0) {
      // A letter or digit: part of a word and of a chunk (the chunk's classes join `seen` at its end).
      if (wordStart < 0) {
        wordStart = i;
        h = 0x011c9dc5; // word-lists' FNV_OFFSET, as a literal: the hash stays a small integer
        if (chunkStart < 0) {
          chunkStart = i;
          chunk = 0;
        }
      }
      chunk |= k;
      h = Math.imul(h ^ lo, 0x01000193) & 0x3fffffff; // word-lists' hashStep, inlined
      if (PREFIX_BLOOM_[h & BLOOM_MASK_] === 1) prefixAt_(text, wordStart, i + 1, h);
      continue;
    }
    if (wordStart >= 0) {
      if (WORD_BLOOM_[h & BLOOM_MASK_] === 1) wordAt_(text, wordStart, i, h);
      wordStart = -1;
    }
    if (k & C_CHUNK) {
      if (chunkStart < 0) {
        chunkStart = i;
        chunk = 0;
      }
      chunk |= k;
    } else if (chunkStart >= 0) {
      seen |= chunk;
      if ((chunk & (C_DIGIT | C_PUNCT) || i - chunkStart >= 14) && marks < MAX_MARKS) {
        MARKS[marks++] = chunkStart;
        MARKS[marks++] = i;
      }
      chunkStart = -1;
    }
  }
  if (wordStart >= 0 && WORD_BLOOM_[h & BLOOM_MASK_] === 1) wordAt_(text, wordStart, n, h);
  if (chunkStart >= 0) seen |= chunk;
  if (chunkStart >= 0 && (chunk & (C_DIGIT | C_PUNCT) || n - chunkStart >= 14) && marks < MAX_MARKS) {
    MARKS[marks++] = chunkStart;
    MARKS[marks++] = n;
  }
  lastDigitEnd = -2;
  numberDigits = 0;
  longest = 0;
  runCount = 0;
  runsOf = text;
  for (let m = 0; m < marks; m += 2) f |= chunkFeatures(text, MARKS[m] as number, MARKS[m + 1] as number);
  // More chunks than marks (a long text full of numbers): the rest of the text as one chunk.
  if (marks >= MAX_MARKS) f |= chunkFeatures(text, MARKS[marks - 1] as number, n);
  if (seen & C_DOT && text.includes('www.')) f |= F_URLISH;
  f |= seen & SEEN_FEATURES;
  if (seen & C_DIGIT) f |= F_DIGIT;
  if (seen & C_UPPER) f |= F_UPPER | F_LETTER;
  else if (seen & C_LOWER) f |= F_LETTER;
  if (seen & C_NONASCII && !(f & F_UPPER)) {
    if (UPPER_RE.test(text)) f |= F_UPPER | F_LETTER;
    else if (!(f & F_LETTER) && LETTER_RE.test(text)) f |= F_LETTER;
  }
  if (longest >= 7) f |= F_DIGITS7;
  if (longest >= 9) f |= F_DIGITS9;
  if (longest >= 12) f |= F_DIGITS12;
  return f;
}

/**
 * The number of digit runs of a text ([DIGIT_RUN_START[k], DIGIT_RUN_END[k]) for k below it), from the
 * features pass when it saw this text last (the scanner's case), else from a new pass. At most
 * 256 runs. Valid until the next call of textFeatures or digitRuns.
 */
export function digitRuns(text: string): number {
  if (runsOf !== text) textFeatures(text);
  return runCount;
}
/** Starts and ends of the digit runs (see digitRuns). */
export const DIGIT_RUN_START: Readonly<Int32Array> = RUN_START;
export const DIGIT_RUN_END: Readonly<Int32Array> = RUN_END;

/** Features of one chunk [a, b): runs of identifier characters, digit groups, hex groups, markers. */
function chunkFeatures(text: string, a: number, b: number): number {
  if (b - a >= 14) return longChunkFeatures(text, a, b);
  // A short chunk holds no identifier run, JWT or MAC address: its numbers and markers only.
  let f = 0;
  let digits = 0;
  let dotted = 0;
  let dashes = 0;
  for (let i = a; i <= b; i++) {
    const c = i < b ? text.charCodeAt(i) : 32;
    if (c >= 48 && c <= 57) {
      if (digits === 0) {
        f |= digitRunStart(text, i);
        dotted = text.charCodeAt(i - 1) === 46 && cls(text.charCodeAt(i - 2)) & C_DIGIT ? dotted + 1 : 1;
        if (dotted >= 4) f |= F_DOTTED4;
      }
      digits++;
      continue;
    }
    if (digits > 0) {
      f |= digitRunEnd(text, i, digits, c);
      digits = 0;
    }
    if (c === 45) {
      if (++dashes >= 5) f |= F_ARMOUR;
    } else {
      dashes = 0;
      if (c === 58 && text.charCodeAt(i + 1) === 47 && text.charCodeAt(i + 2) === 47) f |= F_URLISH;
    }
  }
  return f;
}

/** Features of a digit run starting at i: what stands before it. */
function digitRunStart(text: string, i: number): number {
  let f = 0;
  const p1 = i > 0 ? text.charCodeAt(i - 1) : 32;
  const k1 = cls(p1);
  if (k1 & C_UPPER) f |= F_UPPER_DIGIT;
  // Two letters starting a word, then the digits (IBAN), or two capitals and a space (NINO).
  if (k1 & C_LETTER) {
    if (i > 1 && cls(text.charCodeAt(i - 2)) & C_LETTER && (i === 2 || !(cls(text.charCodeAt(i - 3)) & C_ALNUM))) f |= F_L2D2;
  } else if (p1 === 32 && i > 2) {
    if (
      cls(text.charCodeAt(i - 2)) & C_UPPER &&
      cls(text.charCodeAt(i - 3)) & C_UPPER &&
      (i === 3 || !(cls(text.charCodeAt(i - 4)) & C_ALNUM))
    )
      f |= F_L2D2;
  }
  return f;
}

/** A digit run [i - digits, i) ends (c is the char at i): record it; its number continues the last one across one separator. */
function digitRunEnd(text: string, i: number, digits: number, c: number): number {
  const start = i - digits;
  if (runCount < MAX_RUNS) {
    RUN_START[runCount] = start;
    RUN_END[runCount] = i;
    runCount++;
  }
  numberDigits = lastDigitEnd === start - 1 && numberSeparator(text.charCodeAt(start - 1)) ? numberDigits + digits : digits;
  if (numberDigits > longest) longest = numberDigits;
  lastDigitEnd = i;
  // 7 or 8 digits and a lone check letter, maybe after a space or hyphen: "12345678Z", not "74730370 shipped".
  if (digits === 7 || digits === 8) {
    const j = c === 32 || c === 45 ? i + 1 : i;
    const q = j < text.length ? text.charCodeAt(j) : 32;
    const r = j + 1 < text.length ? text.charCodeAt(j + 1) : 32;
    if (cls(q) & C_LETTER && !(cls(r) & C_ALNUM)) return F_NIF;
  }
  return 0;
}

/** Features of a chunk of 14 characters or more: also runs of identifier characters and hex groups. */
function longChunkFeatures(text: string, a: number, b: number): number {
  let f = 0;
  let alnum = 0;
  let b64 = 0;
  let token = 0;
  let dashes = 0;
  let digits = 0;
  let dotted = 0;
  // Hex groups (MAC): count in the chain, length of the current group and of the chain's, separator.
  let hexLen = 0;
  let hexGroups = 0;
  let hexGroupLen = 0;
  let hexSep = 0;
  let lastGroupEnd = -2;
  for (let i = a; i <= b; i++) {
    const c = i < b ? text.charCodeAt(i) : 32;
    const k = cls(c);
    if (k & C_DIGIT) {
      if (digits === 0) {
        f |= digitRunStart(text, i);
        dotted = text.charCodeAt(i - 1) === 46 && cls(text.charCodeAt(i - 2)) & C_DIGIT ? dotted + 1 : 1;
        if (dotted >= 4) f |= F_DOTTED4;
      }
      digits++;
    } else if (digits > 0) {
      f |= digitRunEnd(text, i, digits, c);
      digits = 0;
    }
    if (k & C_ALNUM) alnum++;
    else {
      if (alnum === 16) f |= F_RUN16;
      else if (alnum === 20) f |= F_RUN20;
      alnum = 0;
    }
    if (k & C_B64) b64++;
    else {
      if (b64 === 40) f |= F_RUN40;
      b64 = 0;
    }
    if (k & C_TOKEN) token++;
    else {
      if (token >= 15) f |= F_TOKEN15;
      token = 0;
    }
    if (k & C_HEX) hexLen++;
    else if (hexLen > 0) {
      // A hex group ends at i: it continues the chain when it follows the last group after one
      // separator, has the chain's length, and the separator fits (2-digit groups: the same `:` or
      // `-` throughout; 4-digit groups: `.`).
      const groupStart = i - hexLen;
      const sep = groupStart > 0 ? text.charCodeAt(groupStart - 1) : 0;
      if (
        hexGroups > 0 &&
        lastGroupEnd === groupStart - 1 &&
        hexLen === hexGroupLen &&
        (hexLen === 2 ? sep === 58 || sep === 45 : sep === 46) &&
        (hexGroups === 1 || sep === hexSep)
      ) {
        hexGroups++;
        hexSep = sep;
        if (hexGroups >= (hexLen === 2 ? 6 : 3)) f |= F_MAC;
      } else {
        hexGroups = hexLen === 2 || hexLen === 4 ? 1 : 0;
        hexGroupLen = hexLen;
      }
      lastGroupEnd = i;
      hexLen = 0;
    }
    if (c === 45) {
      if (++dashes >= 5) f |= F_ARMOUR;
    } else dashes = 0;
    if (c === 58 && text.charCodeAt(i + 1) === 47 && text.charCodeAt(i + 2) === 47) f |= F_URLISH;
    else if (c === 46 && i >= 3 && text.charCodeAt(i - 1) === 119 && text.charCodeAt(i - 2) === 119 && text.charCodeAt(i - 3) === 119)
      f |= F_URLISH;
    else if (c === 74 && i >= 2 && text.charCodeAt(i - 1) === 121 && text.charCodeAt(i - 2) === 101) f |= F_EYJ;
  }
  return f;
}

/** What a recognizer may use besides the text. */
export interface ScanEnv {
  /** ISO 3166 alpha-2 region for national phone numbers. */
  readonly region: string;
  readonly features: number;
  /**
   * Spans scoring below this are dropped by the scanner before overlaps are resolved, so a
   * recognizer may skip expensive checks that cannot lift a candidate to it. @default 0
   */
  readonly minScore?: number;
}

/** A recognizer: appends candidate spans (any overlap, any score) to `out`. */
export interface Recognizer {
  readonly name: string;
  readonly entities: readonly EntityType[];
  /** Feature bits that must all be present for the recognizer to run. */
  readonly requires: number;
  analyze(text: string, env: ScanEnv, out: Span[]): void;
}

/** One regex of a pattern recognizer. */
export interface PatternDef {
  readonly name: string;
  /** Must carry the `g` flag. */
  readonly regex: RegExp;
  readonly score: number;
  /** Capture group holding the entity (default: the whole match). */
  readonly group?: number;
  /**
   * The pattern's score is below any useful threshold without a context word: it only runs when
   * the text holds one of the recognizer's context words somewhere (one cheap test per text).
   */
  readonly needsContext?: boolean;
  /** A cheap test on the whole text (no `g` flag) before this pattern runs. */
  readonly gate?: RegExp;
  /** Feature bits that must all be present for this pattern to run (besides the recognizer's). */
  readonly requires?: number;
}

/**
 * What a validator says: false drops the match, true keeps its score, a number replaces it, an
 * object may also move the span's ends (offsets in the text), e.g. to trim trailing punctuation.
 */
export type Verdict = boolean | number | { readonly score?: number; readonly start?: number; readonly end?: number };

export interface PatternRecognizerConfig {
  readonly name: string;
  readonly entity: EntityType;
  readonly patterns: readonly PatternDef[];
  readonly requires: number;
  /** Words that raise the score when found within the window around a match. */
  readonly context?: readonly string[];
  /** Added to the score when a context word is near (default 0.35, as Presidio). */
  readonly contextBoost?: number;
  /** Characters searched before and after a match for context words (default 48 / 16). */
  readonly contextWindow?: readonly [number, number];
  /** Words that lower the score when found just before the match. */
  readonly negativeContext?: readonly string[];
  /** Subtracted when a negative word is near (default 0.5). */
  readonly negativePenalty?: number;
  /** Characters searched before a match for negative words (default 24). */
  readonly negativeWindow?: number;
  readonly validate?: (value: string, text: string, start: number, env: ScanEnv) => Verdict;
  /** A cheap test on the whole text (a regex without `g`, or a function of the text and its features); when it fails the recognizer does nothing. */
  readonly gate?: RegExp | ((text: string, features: number) => boolean);
}

/** A recognizer driven by regexes, context words and a validator. */
export class PatternRecognizer implements Recognizer {
  readonly name: string;
  readonly entities: readonly EntityType[];
  readonly requires: number;
  private readonly cfg: PatternRecognizerConfig;
  /** Word-list bits of the context and negative words (0: none). */
  private readonly contextBit: number;
  private readonly negativeBit: number;

  constructor(cfg: PatternRecognizerConfig) {
    for (const p of cfg.patterns) {
      if (!p.regex.global) throw new Error(`pattern ${cfg.name}/${p.name} needs the g flag`);
    }
    this.cfg = cfg;
    this.name = cfg.name;
    this.entities = [cfg.entity];
    this.requires = cfg.requires;
    this.contextBit = cfg.context && cfg.context.length > 0 ? sharedList(cfg.context) : 0;
    this.negativeBit = cfg.negativeContext && cfg.negativeContext.length > 0 ? sharedList(cfg.negativeContext) : 0;
  }

  analyze(text: string, env: ScanEnv, out: Span[]): void {
    const cfg = this.cfg;
    const gate = cfg.gate;
    if (gate && !(typeof gate === 'function' ? gate(text, env.features) : gate.test(text))) return;
    let hasContext: boolean | undefined;
    for (const p of cfg.patterns) {
      if (p.needsContext && (env.minScore ?? 0) > p.score) {
        hasContext ??= this.contextBit !== 0 && (wordListsIn_(text) & this.contextBit) !== 0;
        if (!hasContext) continue;
      }
      if (p.requires !== undefined && (env.features & p.requires) !== p.requires) continue;
      if (p.gate && !p.gate.test(text)) continue;
      const re = p.regex;
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        if (m[0].length === 0) {
          re.lastIndex++;
          continue;
        }
        let value = m[0];
        let start = m.index;
        if (p.group !== undefined) {
          const g = m[p.group];
          if (g === undefined) continue;
          start = m.index + m[0].lastIndexOf(g); // groups are the tail of their patterns
          value = g;
        }
        let score = p.score;
        let end = start + value.length;
        if (cfg.validate) {
          const v = cfg.validate(value, text, start, env);
          if (v === false) continue;
          if (typeof v === 'number') score = v;
          else if (typeof v === 'object') {
            if (v.score !== undefined) score = v.score;
            if (v.start !== undefined) start = v.start;
            if (v.end !== undefined) end = v.end;
            if (end <= start) continue;
          }
        }
        score = this.adjust(text, start, end, score);
        if (score <= 0) continue;
        out.push({ entity: cfg.entity, start, end, score: Math.min(1, score), recognizer: `${this.name}/${p.name}` });
      }
    }
  }

  /** Applies context (raises) and negative context (lowers) to a score. */
  private adjust(text: string, start: number, end: number, score: number): number {
    const cfg = this.cfg;
    if (this.contextBit !== 0 && score < 1) {
      const [before, after] = cfg.contextWindow ?? [48, 16];
      if (wordNear_(text, this.contextBit, start, end, before, after)) score += cfg.contextBoost ?? 0.35;
    }
    if (this.negativeBit !== 0 && wordNear_(text, this.negativeBit, start, end, cfg.negativeWindow ?? 24, 0)) {
      score -= cfg.negativePenalty ?? 0.5;
    }
    return score;
  }
}

/** One word-list bit per distinct list (recognizers share NEGATIVE_NUMBER_CONTEXT and the like). */
const LIST_BITS = new Map<readonly string[], number>();
/** The word-list bit of a list of words, registered on first use. */
export function sharedList(words: readonly string[]): number {
  let bit = LIST_BITS.get(words);
  if (bit === undefined) {
    bit = registerWordList(words);
    LIST_BITS.set(words, bit);
  }
  return bit;
}

/** True when `re` matches in the `before` characters before start or the `after` characters after end. */
export function hasWordNear(text: string, re: RegExp, start: number, end: number, before: number, after: number): boolean {
  if (before > 0 && re.test(text.slice(Math.max(0, start - before), start))) return true;
  return after > 0 && end < text.length && re.test(text.slice(end, end + after));
}

/**
 * Keeps the best non-overlapping spans: by score, then length, then position (Presidio resolves
 * conflicts the same way). Returns them sorted by start.
 */
export function resolveSpans(spans: Span[], minScore: number): Span[] {
  if (spans.length === 0) return spans;
  const kept: Span[] = [];
  const candidates = spans.filter((s) => s.score >= minScore);
  if (candidates.length <= 1) return candidates;
  candidates.sort((a, b) => b.score - a.score || b.end - b.start - (a.end - a.start) || a.start - b.start);
  for (const c of candidates) {
    let overlaps = false;
    for (const k of kept) {
      if (c.start < k.end && k.start < c.end) {
        overlaps = true;
        break;
      }
    }
    if (!overlaps) kept.push(c);
  }
  kept.sort((a, b) => a.start - b.start);
  return kept;
}
