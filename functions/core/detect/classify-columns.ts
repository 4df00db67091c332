/**
 * Column classification, as presidio-structured does it: one entity per column, decided from a
 * bounded sample. The header (multilingual synonyms) gives a hint; the content gives the share
 * of sampled values that pass an entity's validator. The contract overrides both.
 *
 * - A header hint for an entity with a validator needs the content not to contradict it:
 *   `email_opt_in` holding true/false is not an email column.
 * - A column whose header says nothing (`contact`, `ref_code`, `col_7`) is classified from its
 *   content alone, with a higher bar.
 * - Text columns (long, multi-word values) become FREE_TEXT: spans are replaced inside them.
 * - Everything else is kept byte for byte.
 */
import { isIP } from 'node:net';
import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { DatasetContract } from '../contract/contract-schema.ts';
import { parseDateParts } from '../pseudonymise/operators.ts';
import { operatorFor, type Policy } from '../pseudonymise/policy.ts';
import { SUBJECT_ENTITIES } from '../pseudonymise/row-transformer.ts';
import type { ColumnDecision, EntityType, Span } from '../types.ts';
import { type HeaderHint, headerHint, isTextHeader } from './header-synonyms.ts';
import { isPlaceName } from './name-lexicon.ts';
import { createTextScanner, type TextScanner } from './text-scanner.ts';
import {
  creditCardValid,
  deTaxIdValid,
  esNifValid,
  ibanValid,
  inAadhaarValid,
  itFiscalCodeValid,
  plPeselValid,
  ukNhsValid,
  ukNinoValid,
  usSsnValid,
} from './validators.ts';

/** A column's name and some of its non-empty values, stringified. */
export interface ColumnSample {
  readonly name: string;
  readonly values: readonly string[];
}

export interface ClassifyOptions {
  readonly contract?: DatasetContract;
  readonly policy: Policy;
  readonly defaultRegion?: string;
}

/** Values inspected per column (the sample may be larger). */
const MAX_VALUES = 300;

const PHONE_REGIONS: readonly CountryCode[] = [
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
  'CA',
  'AU',
];
const PHONE_SHAPE = /^[+(]?[\d\s().\-/]{6,22}(?:\s?(?:x|ext\.?)\s?\d{1,6})?$/i;
const EMAIL_SHAPE = /^[^\s@]{1,64}@[^\s@]{1,253}\.[\p{L}]{2,24}$/u;
const MAC_SHAPE = /^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}$|^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$/;
const URL_SHAPE = /^(?:https?|ftp):\/\/[^\s]+$|^www\.[^\s]+\.[a-z]{2,}[^\s]*$/i;
const SUBJECT_ID_SHAPE =
  /^(?:cust|customer|cus|client|cli|member|mbr|mem|patient|pat|emp|employee|usr|user|kd|kunde|kunden|klant|socio|cliente)[-_#]?\d{2,12}$/i;
const BOOLEANISH = /^(?:true|false|yes|no|y|n|0|1|t|f|ja|nein|oui|non|si|sí|no|tak|nie|sim|não|nao|x|-)$/i;
const AGE_SHAPE = /^\d{1,3}(?:[.,]\d+)?$/;
const GENDER_VALUES = new Set([
  'm',
  'f',
  'w',
  'd',
  'x',
  'u',
  'male',
  'female',
  'other',
  'unknown',
  'non-binary',
  'nonbinary',
  'diverse',
  'divers',
  'männlich',
  'weiblich',
  'homme',
  'femme',
  'hombre',
  'mujer',
  'maschio',
  'femmina',
  'man',
  'vrouw',
  'mężczyzna',
  'kobieta',
  'masculino',
  'feminino',
  'femenino',
  'h',
  'v',
  'k',
  'mann',
  'frau',
  'n/a',
  'na',
  'prefer not to say',
]);

/** Whole-value validators: the value is one entity of this type. */
function validatorFor(entity: EntityType, region: string, scanner: TextScanner, strict = false): ((v: string) => boolean) | undefined {
  switch (entity) {
    case 'EMAIL_ADDRESS':
      return (v) => EMAIL_SHAPE.test(v.trim());
    case 'PHONE_NUMBER':
      return (v) => phoneValid(v.trim(), region, strict);
    case 'CREDIT_CARD':
      return (v) => /^[\d\s-]{12,23}$/.test(v.trim()) && creditCardValid(v);
    case 'IBAN_CODE':
      return (v) => ibanValid(v);
    case 'US_SSN':
      return (v) => /^\d{3}[- ]?\d{2}[- ]?\d{4}$/.test(v.trim()) && usSsnValid(v);
    case 'UK_NINO':
      return (v) => ukNinoValid(v);
    case 'UK_NHS':
      return (v) => /^[\d\s-]{10,12}$/.test(v.trim()) && ukNhsValid(v);
    case 'ES_NIF':
      return (v) => esNifValid(v);
    case 'IT_FISCAL_CODE':
      return (v) => itFiscalCodeValid(v);
    case 'PL_PESEL':
      return (v) => /^\d{11}$/.test(v.trim()) && plPeselValid(v);
    case 'IN_AADHAAR':
      return (v) => /^[\d\s-]{12,14}$/.test(v.trim()) && inAadhaarValid(v);
    case 'DE_TAX_ID':
      return (v) => /^[\d\s]{11,14}$/.test(v.trim()) && deTaxIdValid(v);
    case 'IP_ADDRESS':
      return (v) => isIP(v.trim()) !== 0;
    case 'MAC_ADDRESS':
      return (v) => MAC_SHAPE.test(v.trim());
    case 'URL':
      return (v) => URL_SHAPE.test(v.trim());
    case 'DATE_OF_BIRTH':
      return (v) => parseDateParts(v, region) !== undefined;
    case 'AGE':
      return (v) => AGE_SHAPE.test(v.trim()) && Number(v.replace(',', '.')) <= 130;
    case 'GENDER':
      return (v) => GENDER_VALUES.has(v.trim().toLowerCase());
    case 'PERSON':
    case 'STREET_ADDRESS':
    case 'AWS_ACCESS_KEY':
    case 'AWS_SECRET_KEY':
    case 'PRIVATE_KEY':
    case 'JWT':
    case 'API_TOKEN':
      // The value is (almost) entirely one span of the entity.
      return (v) => {
        const t = v.trim();
        if (t.length < 2 || t.length > 512) return false;
        // Content-only: a town named after a saint is not a person.
        if (strict && entity === 'PERSON' && isPlaceName(t)) return false;
        return scanner.scan(t).some((s) => s.entity === entity && s.end - s.start >= 0.8 * t.length);
      };
    default:
      return undefined;
  }
}

const DATE_OR_ADDRESS = /^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}|\d{1,3}(?:\.\d{1,3}){3})$/;

/**
 * A phone number: valid internationally or for the region. `strict` (content-only classification)
 * wants a number written like a phone (a + or separators): a bare run of digits is more often an
 * order number or a postcode that happens to be a valid number somewhere.
 */
function phoneValid(v: string, region: string, strict: boolean): boolean {
  if (!PHONE_SHAPE.test(v) || DATE_OR_ADDRESS.test(v)) return false;
  const digits = v.replace(/\D/g, '').length;
  if (digits < 7 || digits > 15) return false;
  const intl = v.startsWith('+') || v.startsWith('00');
  const compact = v.startsWith('00') ? `+${v.slice(2)}` : v;
  if (intl) return parsePhoneNumberFromString(compact)?.isValid() === true;
  if (strict && !/[\s()./-]/.test(v)) return false;
  if (isSupportedCountry(region) && parsePhoneNumberFromString(compact, region)?.isValid()) return true;
  if (strict) return false;
  // Rows may come from several countries (a region column): any supported region will do.
  return PHONE_REGIONS.some((r) => parsePhoneNumberFromString(compact, r)?.isValid() === true);
}

/** Entities a column can be classified as from its content alone, with the share needed. */
const CONTENT_ENTITIES: readonly (readonly [EntityType, number])[] = [
  ['EMAIL_ADDRESS', 0.6],
  ['IBAN_CODE', 0.6],
  ['CREDIT_CARD', 0.7],
  ['UK_NINO', 0.7],
  ['ES_NIF', 0.7],
  ['IT_FISCAL_CODE', 0.7],
  ['US_SSN', 0.8],
  ['UK_NHS', 0.8],
  ['PL_PESEL', 0.8],
  ['IN_AADHAAR', 0.8],
  ['DE_TAX_ID', 0.8],
  ['IP_ADDRESS', 0.8],
  ['MAC_ADDRESS', 0.8],
  ['URL', 0.8],
  ['PHONE_NUMBER', 0.7],
  ['AWS_ACCESS_KEY', 0.6],
  ['JWT', 0.6],
  ['PRIVATE_KEY', 0.6],
  ['API_TOKEN', 0.6],
  ['STREET_ADDRESS', 0.6],
  ['PERSON', 0.8],
];

/** Entities whose header alone decides (no validator can confirm them). */
const HEADER_DECIDES: ReadonlySet<EntityType> = new Set<EntityType>(['SUBJECT_ID', 'POSTCODE', 'COUNTRY', 'PERSON', 'STREET_ADDRESS']);

interface Stats {
  readonly values: readonly string[];
  readonly distinct: number;
  readonly booleanish: number;
  readonly multiWord: number;
  readonly meanLength: number;
}

function stats(values: readonly string[]): Stats {
  const v = values.slice(0, MAX_VALUES);
  let booleanish = 0;
  let multiWord = 0;
  let len = 0;
  for (const x of v) {
    if (BOOLEANISH.test(x.trim())) booleanish++;
    if (hasThreeWords(x)) multiWord++;
    len += x.length;
  }
  const n = Math.max(1, v.length);
  return { values: v, distinct: new Set(v).size, booleanish: booleanish / n, multiWord: multiWord / n, meanLength: len / n };
}

/**
 * True when the text has at least three whitespace-separated words. A loop, not a regex: the
 * unanchored `/\S+\s+\S+\s+\S+/` backtracks quadratically on a long value without spaces, and a
 * hostile 1 MiB cell in the sample stalled the run for minutes.
 */
function hasThreeWords(x: string): boolean {
  let words = 0;
  let inWord = false;
  for (let i = 0; i < x.length; i++) {
    if (WHITESPACE.test(x[i] as string)) inWord = false;
    else if (!inWord) {
      inWord = true;
      if (++words === 3) return true;
    }
  }
  return false;
}
const WHITESPACE = /\s/;

function share(values: readonly string[], ok: (v: string) => boolean): number {
  if (values.length === 0) return 0;
  let n = 0;
  for (const v of values) if (ok(v)) n++;
  return n / values.length;
}

/** Values that are flags (true/false, yes/no, 0/1) cannot be identifiers. */
function looksLikeFlags(s: Stats): boolean {
  return s.booleanish >= 0.8;
}

/** Scan results remembered per classification (bounded): a sampled value is tried for several entities. */
const SCAN_MEMO = 65_536;

/**
 * The scanner with its results remembered: content detection asks the same value for a person,
 * an address, keys and tokens in turn, each a full scan (measured: classifying the bench CSV's
 * 1,000-row sample spent ~0.5 s scanning, most of it again and again). Results are shared, so
 * callers only read them (as they must the scanner's own shared empty result).
 */
function memoisedScanner(scanner: TextScanner): TextScanner {
  const memo = new Map<string, Span[]>();
  return {
    scan(text) {
      let spans = memo.get(text);
      if (spans === undefined) {
        spans = scanner.scan(text);
        if (memo.size >= SCAN_MEMO) memo.clear();
        memo.set(text, spans);
      }
      return spans;
    },
  };
}

/** One decision per column, in the order of the samples. */
export function classifyColumns(samples: readonly ColumnSample[], opts: ClassifyOptions): ColumnDecision[] {
  const policy = opts.policy;
  const region = (opts.contract?.defaultRegion ?? opts.defaultRegion ?? 'GB').toUpperCase();
  const scanner = memoisedScanner(createTextScanner({ defaultRegion: region, minScore: policy.minSpanScore }));
  const contractColumns = new Map((opts.contract?.columns ?? []).map((c) => [c.name, c]));
  return samples.map((sample) => {
    const detected = detect(sample, region, scanner, policy);
    const cc = contractColumns.get(sample.name);
    const isSubjectKey = opts.contract?.subjectKey === sample.name;
    const privacy = cc?.privacy;
    if (!privacy && !isSubjectKey && cc?.format !== 'email') return detected;

    // The contract overrides: its entity, operator, options and freeText win over detection.
    let entity: EntityType | null = privacy?.entity ?? (cc?.format === 'email' ? 'EMAIL_ADDRESS' : detected.entity);
    if (isSubjectKey && (entity === null || entity === 'FREE_TEXT' || !SUBJECT_ENTITIES.has(entity))) entity = 'SUBJECT_ID';
    const freeText =
      privacy?.freeText ?? (entity === 'FREE_TEXT' ? true : privacy?.entity ? false : detected.freeText && entity === detected.entity);
    const spec = entity === null ? { operator: 'keep' as const } : operatorFor(policy, entity);
    const operator = privacy?.operator ?? (freeText ? 'keep' : spec.operator);
    const options = privacy?.options ?? (privacy?.operator ? undefined : spec.options);
    return {
      column: sample.name,
      entity,
      operator,
      ...(options ? { options } : {}),
      confidence: 1,
      source: 'contract',
      freeText,
      identifiesSubject: isSubjectKey || (entity !== null && SUBJECT_ENTITIES.has(entity)),
    } satisfies ColumnDecision;
  });
}

function decision(
  column: string,
  entity: EntityType | null,
  confidence: number,
  source: ColumnDecision['source'],
  policy: Policy,
): ColumnDecision {
  if (entity === null) return { column, entity: null, operator: 'keep', confidence, source, freeText: false, identifiesSubject: false };
  if (entity === 'FREE_TEXT') return { column, entity, operator: 'keep', confidence, source, freeText: true, identifiesSubject: false };
  const spec = operatorFor(policy, entity);
  return {
    column,
    entity,
    operator: spec.operator,
    ...(spec.options ? { options: spec.options } : {}),
    confidence: Math.round(confidence * 1000) / 1000,
    source,
    freeText: false,
    identifiesSubject: SUBJECT_ENTITIES.has(entity),
  };
}

function detect(sample: ColumnSample, region: string, scanner: TextScanner, policy: Policy): ColumnDecision {
  const column = sample.name;
  const s = stats(sample.values);
  const hint: HeaderHint | undefined = headerHint(column);
  const min = policy.minColumnConfidence;

  if (s.values.length === 0) {
    // Nothing to look at: trust the header, else keep.
    return hint && hint.confidence >= min
      ? decision(column, hint.entity, hint.confidence * 0.8, 'header', policy)
      : decision(column, null, 1, 'default', policy);
  }

  if (hint) {
    const validate = validatorFor(hint.entity, region, scanner);
    const agree = validate ? share(s.values, validate) : undefined;
    if (agree !== undefined && agree >= 0.5) {
      return decision(
        column,
        hint.entity,
        Math.max(hint.confidence, agree) + (1 - Math.max(hint.confidence, agree)) * Math.min(hint.confidence, agree),
        'header+content',
        policy,
      );
    }
    // Content may name another entity outright ("contact_name" holding emails).
    const other = bestContent(s, region, scanner);
    if (other && other.share >= 0.8 && other.entity !== hint.entity) return decision(column, other.entity, other.share, 'content', policy);
    if (!looksLikeFlags(s) && plausibleForHeader(hint.entity, s, agree)) {
      // A header without a validator (customer_id, zip, name) decides; one with a validator whose
      // values mostly fail (odd formats) still decides, less sure: better a token than a leak.
      const conf = HEADER_DECIDES.has(hint.entity) || agree === undefined ? hint.confidence : hint.confidence * 0.7;
      if (conf >= min) return decision(column, hint.entity, conf, agree !== undefined && agree > 0 ? 'header+content' : 'header', policy);
    }
  }

  const best = bestContent(s, region, scanner);
  if (best) return decision(column, best.entity, best.share, 'content', policy);

  const idShare = share(s.values, (v) => SUBJECT_ID_SHAPE.test(v.trim()));
  if (idShare >= 0.9) return decision(column, 'SUBJECT_ID', idShare * 0.8, 'content', policy);

  // Text columns, and columns whose values carry PII of several kinds (contact: emails and phones).
  // Multi-word values of some length: city or product names are short and stay as they are.
  const isText = isTextHeader(column)
    ? s.multiWord >= 0.1 || s.meanLength >= 20
    : (s.multiWord >= 0.3 && s.meanLength >= 24) || (s.meanLength >= 40 && s.multiWord >= 0.1);
  if (isText) return decision(column, 'FREE_TEXT', Math.max(0.6, s.multiWord), isTextHeader(column) ? 'header+content' : 'content', policy);
  // Values holding PII of several kinds (a "contact" column of emails and phones). Bare numbers
  // (order ids) and short names (towns named after people) do not make a column free text.
  const textual = share(s.values, (v) => /\p{L}|@/u.test(v)) >= 0.5;
  const withSpans = textual ? share(s.values, (v) => v.length <= 512 && scanner.scan(v).some((sp) => sp.entity !== 'PERSON')) : 0;
  if (withSpans >= 0.5 && !looksLikeFlags(s)) return decision(column, 'FREE_TEXT', withSpans, 'content', policy);
  return decision(column, null, 1, 'default', policy);
}

/** Content sanity checks for header-decided entities. */
function plausibleForHeader(entity: EntityType, s: Stats, agree: number | undefined): boolean {
  switch (entity) {
    case 'AGE':
    case 'GENDER':
    case 'DATE_OF_BIRTH':
      // Values that are not ages / genders / dates: the header meant something else (ETA, "sex appeal").
      return (agree ?? 0) >= 0.5;
    case 'PERSON':
      return share(s.values, (v) => /\p{L}/u.test(v) && !/^\d/.test(v.trim())) >= 0.8;
    case 'POSTCODE':
      return share(s.values, (v) => /^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$/.test(v.trim())) >= 0.8;
    case 'COUNTRY':
      return s.meanLength <= 40;
    case 'SUBJECT_ID':
      return s.meanLength <= 64 && s.distinct >= Math.min(3, s.values.length);
    default:
      return true;
  }
}

/** The entity most sampled values validate as, when above its share threshold. */
function bestContent(s: Stats, region: string, scanner: TextScanner): { entity: EntityType; share: number } | undefined {
  let best: { entity: EntityType; share: number } | undefined;
  for (const [entity, needed] of CONTENT_ENTITIES) {
    const validate = validatorFor(entity, region, scanner, true);
    if (!validate) continue;
    const sh = share(s.values, validate);
    if (sh >= needed && (!best || sh > best.share)) best = { entity, share: sh };
    // Checksummed identifiers are decisive: stop at the first clear winner.
    if (best && best.share >= 0.95) break;
  }
  return best;
}
