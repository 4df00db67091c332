/**
 * Free-text PII scanning: runs the recognizer registry over a text and resolves overlapping
 * candidates by score. Cheap text features gate the recognizers, so a cell without digits, `@` or
 * capital letters costs a few native scans and no allocation.
 *
 * Texts longer than MAX_SCAN_LENGTH are refused (SanitisationError): every pattern is linear-time,
 * but the bound keeps one cell's cost predictable, and the row transformer fails closed on it.
 */
import { SanitisationError } from '../errors.ts';
import type { EntityType, Span } from '../types.ts';
import { addressRecognizer } from './address-recognizer.ts';
import { PATTERN_RECOGNIZERS } from './pattern-recognizers.ts';
import { personRecognizer } from './person-recognizer.ts';
import { phoneRecognizer } from './phone-recognizer.ts';
import { type Recognizer, resolveSpans, textFeatures } from './recognizer.ts';

/** Cells longer than this (64 KiB of UTF-16 code units) are not scanned: the row fails closed. */
export const MAX_SCAN_LENGTH = 64 * 1024;

/** Finds PII spans in a text. */
export interface TextScanner {
  /** Non-overlapping spans, sorted by start, resolved by score. */
  scan(text: string): Span[];
}

/** Every built-in recognizer, most specific first. */
export const DEFAULT_RECOGNIZERS: readonly Recognizer[] = [...PATTERN_RECOGNIZERS, phoneRecognizer, addressRecognizer, personRecognizer];

const NO_SPANS: Span[] = [];
Object.freeze(NO_SPANS);

export interface TextScannerOptions {
  /** Only these entities (default: all). */
  readonly entities?: readonly EntityType[];
  /** Region for national phone numbers (default GB). */
  readonly defaultRegion?: string;
  /** Spans below this score are dropped (default 0.5). */
  readonly minScore?: number;
}

/** A scanner over the built-in recognizers. */
export function createTextScanner(opts: TextScannerOptions = {}): TextScanner {
  return createScannerWith(DEFAULT_RECOGNIZERS, opts);
}

/** A scanner over a given set of recognizers (the evaluation swaps the person recognizer). */
export function createScannerWith(recognizers: readonly Recognizer[], opts: TextScannerOptions = {}): TextScanner {
  const wanted = opts.entities ? new Set(opts.entities) : undefined;
  const active = wanted ? recognizers.filter((r) => r.entities.some((e) => wanted.has(e))) : [...recognizers];
  const region = (opts.defaultRegion ?? 'GB').toUpperCase();
  const minScore = opts.minScore ?? 0.5;
  const requires = Int32Array.from(active, (r) => r.requires);
  // One environment and one candidate buffer per scanner, reused for every text (no per-cell allocation).
  const env = { region, features: 0, minScore };
  const candidates: Span[] = [];
  return {
    scan(text: string): Span[] {
      if (text.length > MAX_SCAN_LENGTH) {
        throw new SanitisationError(`text of ${text.length} characters exceeds the scan limit of ${MAX_SCAN_LENGTH}`, {
          rule: 'cell-too-long',
        });
      }
      if (text.length < 2) return NO_SPANS;
      const features = textFeatures(text);
      env.features = features;
      candidates.length = 0;
      for (let i = 0; i < active.length; i++) {
        const need = requires[i] as number;
        if ((features & need) !== need) continue;
        (active[i] as Recognizer).analyze(text, env, candidates);
      }
      if (candidates.length === 0) return NO_SPANS;
      let spans = resolveSpans(candidates, minScore);
      if (spans === candidates) spans = candidates.slice();
      if (wanted) spans = spans.filter((s) => wanted.has(s.entity));
      return spans.length === 0 ? NO_SPANS : spans;
    },
  };
}
