/**
 * Evaluation on presidio-research's synthetic set (../shared/data/presidio-research), with an
 * explicit mapping from its entity types to ours. Types we do not detect are listed as
 * unsupported: their gold spans are left out of recall, and predictions that only overlap them
 * are not counted as false positives.
 */
import { readFileSync } from 'node:fs';
import type { TextScanner } from '../../functions/core/detect/text-scanner.ts';
import { addCounts, type Counts, emptyCounts, type LabelledSpan, scoreText } from './span-metrics.ts';

/** Presidio type → our EntityType. */
export const PRESIDIO_MAPPING: Readonly<Record<string, string>> = {
  PERSON: 'PERSON',
  STREET_ADDRESS: 'STREET_ADDRESS',
  CREDIT_CARD: 'CREDIT_CARD',
  PHONE_NUMBER: 'PHONE_NUMBER',
  EMAIL_ADDRESS: 'EMAIL_ADDRESS',
  ZIP_CODE: 'POSTCODE',
  DOMAIN_NAME: 'URL',
  IBAN_CODE: 'IBAN_CODE',
  US_SSN: 'US_SSN',
  IP_ADDRESS: 'IP_ADDRESS',
};

/** Presidio types with no counterpart here, and why. */
export const PRESIDIO_UNSUPPORTED: Readonly<Record<string, string>> = {
  GPE: 'places are not personal data on their own (cities inside an address are part of STREET_ADDRESS)',
  ORGANIZATION: 'organisations are not personal data',
  DATE_TIME: 'ordinary dates are not personal data (only DATE_OF_BIRTH in a birth context)',
  TITLE: 'job titles and honorifics are not identifiers',
  AGE: 'AGE is a column-level quasi-identifier, not detected in free text',
  NRP: 'nationality / religion / political group is not detected',
  US_DRIVER_LICENSE: 'no US driver licence recognizer (state formats vary, no checksum)',
};

interface Record_ {
  full_text: string;
  spans: { entity_type: string; start_position: number; end_position: number }[];
}

export interface PresidioResult {
  readonly records: number;
  readonly goldByType: Readonly<Record<string, number>>;
  readonly unsupportedByType: Readonly<Record<string, number>>;
  /** Type-strict, per our entity type. */
  readonly perEntity: ReadonlyMap<string, Counts>;
  /** Type-strict, all supported types pooled (micro). */
  readonly micro: Counts;
  /** Type-agnostic (Presidio's "PII" row): any supported entity found as any entity. */
  readonly pii: Counts;
  /** Examples of misses and false positives, for tuning (values are synthetic). */
  readonly errors: { kind: 'FN' | 'FP'; entity: string; text: string; context: string }[];
}

export function loadPresidio(path: string): Record_[] {
  return JSON.parse(readFileSync(path, 'utf8')) as Record_[];
}

/** Runs the scanner on every sentence and scores it at the given IoU threshold. */
export function evaluatePresidio(records: readonly Record_[], scanner: TextScanner, threshold: number): PresidioResult {
  const perEntity = new Map<string, Counts>();
  const micro = emptyCounts();
  const pii = emptyCounts();
  const goldByType: Record<string, number> = {};
  const unsupportedByType: Record<string, number> = {};
  const errors: PresidioResult['errors'] = [];
  for (const r of records) {
    const text = r.full_text;
    const gold: LabelledSpan[] = [];
    const ignored: LabelledSpan[] = [];
    for (const s of r.spans) {
      const mapped = PRESIDIO_MAPPING[s.entity_type];
      if (mapped) {
        gold.push({ entity: mapped, start: s.start_position, end: s.end_position });
        goldByType[mapped] = (goldByType[mapped] ?? 0) + 1;
      } else {
        ignored.push({ entity: s.entity_type, start: s.start_position, end: s.end_position });
        unsupportedByType[s.entity_type] = (unsupportedByType[s.entity_type] ?? 0) + 1;
      }
    }
    const pred = scanner.scan(text).map((s) => ({ entity: s.entity, start: s.start, end: s.end }));
    const strict = scoreText(text, gold, pred, { threshold, typeAgnostic: false, ignoredGold: ignored });
    for (const [entity, c] of strict) {
      let acc = perEntity.get(entity);
      if (!acc) {
        acc = emptyCounts();
        perEntity.set(entity, acc);
      }
      addCounts(acc, c);
      addCounts(micro, c);
      if (c.fn > 0)
        errors.push({
          kind: 'FN',
          entity,
          text: gold
            .filter((g) => g.entity === entity)
            .map((g) => text.slice(g.start, g.end))
            .join(' / '),
          context: text,
        });
      if (c.fp > 0)
        errors.push({
          kind: 'FP',
          entity,
          text: pred
            .filter((p) => p.entity === entity)
            .map((p) => text.slice(p.start, p.end))
            .join(' / '),
          context: text,
        });
    }
    const agnostic = scoreText(text, gold, pred, { threshold, typeAgnostic: true, ignoredGold: ignored });
    for (const c of agnostic.values()) addCounts(pii, c);
  }
  return { records: records.length, goldByType, unsupportedByType, perEntity, micro, pii, errors };
}
