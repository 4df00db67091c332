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
import { compileContext, compileGate } from './context-words.ts';

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

const DIGIT_RE = /\d/;
const UPPER_RE = /\p{Lu}/u;
const LETTER_RE = /\p{L}/u;

/** The feature bits of a text: a few native scans, no allocation. */
export function textFeatures(text: string): number {
  let f = 0;
  if (DIGIT_RE.test(text)) f |= F_DIGIT | longestNumber(text);
  if (text.includes('@')) f |= F_AT;
  if (UPPER_RE.test(text)) f |= F_UPPER | F_LETTER;
  else if (LETTER_RE.test(text)) f |= F_LETTER;
  if (text.includes(':')) {
    f |= F_COLON;
    if (text.includes('://')) f |= F_URLISH;
  }
  if (text.includes('www.')) f |= F_URLISH;
  if (text.includes('-----')) f |= F_ARMOUR;
  if (text.includes('eyJ')) f |= F_EYJ;
  return f;
}

/**
 * Feature bits for the longest number in the text: digits count across single separators
 * (space, - . / ( ) +), so "+44 20 7946 0958" is one 12-digit number. One pass, no allocation.
 */
function longestNumber(text: string): number {
  let best = 0;
  let run = 0;
  let gap = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      run++;
      gap = 0;
      if (run > best) best = run;
    } else if (run > 0 && gap === 0 && (c === 32 || c === 45 || c === 46 || c === 47 || c === 40 || c === 41 || c === 43)) {
      gap = 1;
    } else if (!(c === 40 && run === 0)) {
      run = 0;
      gap = 0;
    }
  }
  return (best >= 7 ? F_DIGITS7 : 0) | (best >= 9 ? F_DIGITS9 : 0) | (best >= 12 ? F_DIGITS12 : 0);
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
  /** A cheap test on the whole text (a regex without `g`, or a function); when it fails the recognizer does nothing. */
  readonly gate?: RegExp | ((text: string) => boolean);
}

/** A recognizer driven by regexes, context words and a validator. */
export class PatternRecognizer implements Recognizer {
  readonly name: string;
  readonly entities: readonly EntityType[];
  readonly requires: number;
  private readonly cfg: PatternRecognizerConfig;
  private readonly contextRe: RegExp | undefined;
  private readonly contextGate: RegExp | undefined;
  private readonly negativeRe: RegExp | undefined;

  constructor(cfg: PatternRecognizerConfig) {
    for (const p of cfg.patterns) {
      if (!p.regex.global) throw new Error(`pattern ${cfg.name}/${p.name} needs the g flag`);
    }
    this.cfg = cfg;
    this.name = cfg.name;
    this.entities = [cfg.entity];
    this.requires = cfg.requires;
    this.contextRe = cfg.context && cfg.context.length > 0 ? compileContext(cfg.context) : undefined;
    this.contextGate = cfg.context && cfg.context.length > 0 ? compileGate(cfg.context) : undefined;
    this.negativeRe = cfg.negativeContext && cfg.negativeContext.length > 0 ? compileContext(cfg.negativeContext) : undefined;
  }

  analyze(text: string, env: ScanEnv, out: Span[]): void {
    const cfg = this.cfg;
    const gate = cfg.gate;
    if (gate && !(typeof gate === 'function' ? gate(text) : gate.test(text))) return;
    let hasContext: boolean | undefined;
    for (const p of cfg.patterns) {
      if (p.needsContext && (env.minScore ?? 0) > p.score) {
        hasContext ??= this.contextGate?.test(text) === true;
        if (!hasContext) continue;
      }
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
    if (this.contextRe && score < 1) {
      const [before, after] = cfg.contextWindow ?? [48, 16];
      if (hasWordNear(text, this.contextRe, start, end, before, after)) score += cfg.contextBoost ?? 0.35;
    }
    if (this.negativeRe) {
      const w = cfg.negativeWindow ?? 24;
      if (this.negativeRe.test(text.slice(Math.max(0, start - w), start))) score -= cfg.negativePenalty ?? 0.5;
    }
    return score;
  }
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
