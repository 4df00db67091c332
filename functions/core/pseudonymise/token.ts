/**
 * Deterministic keyed pseudonyms. A value is first put in canonical form (email lowercased, phone
 * as E.164, card digits...) so the same person gets the same token in every file and dataset;
 * then HMAC-SHA-256 under a key derived per entity type (HKDF), so an email and a phone number
 * with the same characters never share a token, and tokens of one type say nothing about another.
 */
import { hkdfSync } from 'node:crypto';
// Metadata from the same entry as the parser: one copy of the metadata in a bundle.
import { type CountryCode, isSupportedCountry, Metadata, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import {
  deTaxIdValid,
  esNifValid,
  ibanValid,
  inAadhaarValid,
  itFiscalCodeValid,
  plPeselValid,
  ukNhsValid,
  ukNinoValid,
  usSsnValid,
} from '../detect/validators.ts';
import { UsageError } from '../errors.ts';
import type { EntityType } from '../types.ts';
import { hmacSha256HexPrefix } from './hmac-sha256-hex.ts';

export { hmacSha256Hex } from './hmac-sha256-hex.ts';

/** The readable token prefix of each entity type (no underscores: tokens split on the first). */
export const TOKEN_PREFIX: Readonly<Record<EntityType, string>> = {
  EMAIL_ADDRESS: 'EMAIL',
  PHONE_NUMBER: 'PHONE',
  CREDIT_CARD: 'CARD',
  IBAN_CODE: 'IBAN',
  US_SSN: 'SSN',
  IP_ADDRESS: 'IP',
  MAC_ADDRESS: 'MAC',
  URL: 'URL',
  DATE_OF_BIRTH: 'DOB',
  PERSON: 'PERSON',
  STREET_ADDRESS: 'ADDRESS',
  POSTCODE: 'POSTCODE',
  UK_NINO: 'NINO',
  UK_NHS: 'NHS',
  ES_NIF: 'NIF',
  IT_FISCAL_CODE: 'CF',
  PL_PESEL: 'PESEL',
  IN_AADHAAR: 'AADHAAR',
  DE_TAX_ID: 'TAXID',
  AWS_ACCESS_KEY: 'AWSKEY',
  AWS_SECRET_KEY: 'AWSSECRET',
  PRIVATE_KEY: 'PRIVKEY',
  JWT: 'JWT',
  API_TOKEN: 'APITOKEN',
  SUBJECT_ID: 'ID',
  AGE: 'AGE',
  GENDER: 'GENDER',
  COUNTRY: 'COUNTRY',
  FREE_TEXT: 'TEXT',
};

const nfc = (v: string) => v.normalize('NFC').trim();

/**
 * The canonical form of a value of an entity type, or undefined when it cannot be put in one
 * (e.g. a phone number libphonenumber cannot parse for the region).
 */
export function canonicalise(entity: EntityType, value: string, opts: { region?: string } = {}): string | undefined {
  const v = nfc(value);
  if (v === '') return undefined;
  switch (entity) {
    case 'EMAIL_ADDRESS': {
      const at = v.lastIndexOf('@');
      return at > 0 && at < v.length - 1 && !/\s/.test(v) ? v.toLowerCase() : undefined;
    }
    case 'PHONE_NUMBER': {
      const region = opts.region?.toUpperCase();
      const compact = v.startsWith('00') ? `+${v.slice(2)}` : v;
      const fast = internationalE164(compact);
      if (fast !== NEEDS_PARSE) return fast;
      const p = parsePhoneNumberFromString(compact, region && isSupportedCountry(region) ? (region as CountryCode) : undefined);
      return p?.isPossible() ? p.number : undefined;
    }
    case 'CREDIT_CARD':
    case 'US_SSN':
    case 'UK_NHS':
    case 'PL_PESEL':
    case 'IN_AADHAAR':
    case 'DE_TAX_ID': {
      const d = v.replace(/[\s\-./]/g, '');
      return /^\d+$/.test(d) ? d : undefined;
    }
    case 'IBAN_CODE':
    case 'UK_NINO':
    case 'ES_NIF':
    case 'IT_FISCAL_CODE': {
      const c = v.replace(/[\s\-.]/g, '').toUpperCase();
      return /^[A-Z0-9]+$/.test(c) ? c : undefined;
    }
    case 'MAC_ADDRESS': {
      const h = v.replace(/[:\-.]/g, '').toLowerCase();
      return /^[0-9a-f]{12}$/.test(h) ? h : undefined;
    }
    case 'IP_ADDRESS':
    case 'URL':
      return v.toLowerCase();
    case 'PERSON':
    case 'STREET_ADDRESS':
      // Case and spacing do not change who or where.
      return v.replace(/\s+/g, ' ').toLowerCase();
    case 'POSTCODE':
      return v.replace(/\s+/g, '').toUpperCase();
    default:
      // Identifiers and everything else: trimmed, NFC.
      return v;
  }
}

/** internationalE164: this value needs libphonenumber's full parse. */
export const NEEDS_PARSE: unique symbol = Symbol('needs-parse');

/** What the fast path reads of libphonenumber's metadata (the runtime API its own parser uses). */
interface NumberingPlanView {
  possibleLengths(): readonly number[] | undefined;
  nationalPrefixForParsing(): string | undefined;
}
interface MetadataView {
  hasCallingCode(callingCode: string): boolean;
  getCountryCodesForCallingCode(callingCode: string): readonly string[] | undefined;
  selectNumberingPlan(countryOrCallingCode: string): MetadataView;
  readonly numberingPlan: NumberingPlanView;
}

/** A calling code's national prefix rule and, by national number length, "possible" in all its plans. */
interface CallingCodePlan {
  readonly nationalPrefix: RegExp | undefined;
  /** true: possible in every plan of the code; false: in none; undefined: it depends on the country. */
  readonly possible: readonly (boolean | undefined)[];
}

let metadataView: MetadataView | undefined;
const metadata = (): MetadataView => {
  metadataView ??= new (Metadata as unknown as new () => MetadataView)();
  return metadataView;
};
const callingCodePlans = new Map<string, CallingCodePlan | null>();
const INTERNATIONAL_PLAIN = /^\+\d+(?:[ -]\d+)*$/;
/** libphonenumber's bounds on the national (significant) number. */
const MIN_NSN = 2;
const MAX_NSN = 17;

/** libphonenumber's checkNumberLength (no type) as a yes/no: "IS_POSSIBLE" or not. */
function possibleLength(lengths: readonly number[] | undefined, n: number): boolean {
  if (!lengths) return true;
  const min = lengths[0] as number;
  if (min === n) return true;
  if (min > n || (lengths[lengths.length - 1] as number) < n) return false;
  return lengths.indexOf(n, 1) >= 0;
}

function planOf(callingCode: string): CallingCodePlan | null {
  let plan = callingCodePlans.get(callingCode);
  if (plan !== undefined) return plan;
  const md = metadata();
  const countries = md.getCountryCodesForCallingCode(callingCode);
  if (!countries || countries.length === 0 || countries.includes('001')) plan = null;
  else {
    const npfp = md.selectNumberingPlan(callingCode).numberingPlan.nationalPrefixForParsing();
    const lengths = [
      md.numberingPlan.possibleLengths(),
      ...countries.map((c) => md.selectNumberingPlan(c).numberingPlan.possibleLengths()),
    ];
    const possible: (boolean | undefined)[] = [];
    for (let n = MIN_NSN; n <= MAX_NSN; n++) {
      const verdicts = lengths.map((l) => possibleLength(l, n));
      possible[n] = verdicts.every(Boolean) ? true : verdicts.some(Boolean) ? undefined : false;
    }
    plan = { nationalPrefix: npfp ? new RegExp(`^(?:${npfp})`) : undefined, possible };
  }
  callingCodePlans.set(callingCode, plan);
  return plan;
}

/**
 * libphonenumber's E.164 verdict (`parsePhoneNumberFromString(v)?.isPossible() ? .number :
 * undefined`) for the common plain international form `+44 7911 123456` (ASCII digits after `+`,
 * single spaces or hyphens between groups), without the parse: 20-40 µs per value, mostly
 * spent choosing the country among those sharing a calling code by matching every number-type
 * pattern. For such input its parser reduces to: the calling code is the first prefix of 1-3
 * digits the metadata knows; the rest is the national number unless the code's national-prefix
 * rule matches its start; and "possible" is a length check against the chosen country's plan,
 * so when the length is possible in all the code's plans, or in none, the choice does not
 * matter. Anything else (national formats, a national prefix after the code, a length that
 * depends on the country, non-geographic codes, other characters) returns NEEDS_PARSE and takes
 * the full parse. Equality with libphonenumber is a property test over every calling code.
 */
export function internationalE164(v: string): string | undefined | typeof NEEDS_PARSE {
  if (v.length > 40 || v.charCodeAt(0) !== 43 || !INTERNATIONAL_PLAIN.test(v)) return NEEDS_PARSE;
  const digits = v.replace(/[ -]/g, '').slice(1);
  if (digits.length < 4 || digits.charCodeAt(0) === 48) return NEEDS_PARSE;
  const md = metadata();
  for (let i = 1; i <= 3; i++) {
    const callingCode = digits.slice(0, i);
    if (!md.hasCallingCode(callingCode)) continue;
    const plan = planOf(callingCode);
    const national = digits.slice(i);
    if (plan === null || national.length < MIN_NSN || national.length > MAX_NSN) return NEEDS_PARSE;
    if (plan.nationalPrefix?.test(national)) return NEEDS_PARSE;
    const possible = plan.possible[national.length];
    if (possible === undefined) return NEEDS_PARSE;
    return possible ? `+${digits}` : undefined;
  }
  return NEEDS_PARSE;
}

/**
 * The form a value is tokenised in: its canonical form, or (when it has none, e.g. a malformed
 * phone number) the trimmed NFC value, so it is still pseudonymised rather than left in clear.
 */
export function canonicalOrRaw(entity: EntityType, value: string, region?: string): string {
  return canonicalise(entity, value, region === undefined ? {} : { region }) ?? nfc(value);
}

const entityKeys = new WeakMap<Uint8Array, Map<EntityType, Uint8Array>>();
const HKDF_SALT = new TextEncoder().encode('privacy-pipeline/token/v1');

/** HKDF-SHA-256 key of one entity type under the pseudonymisation key; cached per key. */
export function deriveEntityKey(hmacKey: Uint8Array, entity: EntityType): Uint8Array {
  if (hmacKey.length < 16) throw new UsageError('pseudonymisation key must be at least 128 bits', { rule: 'key-length' });
  let perKey = entityKeys.get(hmacKey);
  if (!perKey) {
    perKey = new Map();
    entityKeys.set(hmacKey, perKey);
  }
  let k = perKey.get(entity);
  if (!k) {
    k = new Uint8Array(hkdfSync('sha256', hmacKey, HKDF_SALT, `entity:${entity}`, 32));
    perKey.set(entity, k);
  }
  return k;
}

/** `EMAIL_3f9a…`: the readable prefix and `length` hex characters of HMAC-SHA-256(entityKey, canonical). */
export function pseudonymToken(entity: EntityType, canonical: string, entityKey: Uint8Array, length: number, prefix?: string): string {
  if (!Number.isInteger(length) || length < 8 || length > 64)
    throw new UsageError(`token length ${length} is outside 8..64`, { rule: 'token-length' });
  return `${prefix ?? TOKEN_PREFIX[entity]}_${hmacSha256HexPrefix(entityKey, canonical, length)}`;
}

/** How an erasure request names a subject. */
export type IdentifierType = 'email' | 'phone' | 'subject-id' | 'card' | 'iban' | 'name' | 'national-id';

const NATIONAL_IDS: readonly [EntityType, (v: string) => boolean][] = [
  ['US_SSN', usSsnValid],
  ['UK_NINO', ukNinoValid],
  ['UK_NHS', ukNhsValid],
  ['ES_NIF', esNifValid],
  ['IT_FISCAL_CODE', itFiscalCodeValid],
  ['PL_PESEL', plPeselValid],
  ['IN_AADHAAR', inAadhaarValid],
  ['DE_TAX_ID', deTaxIdValid],
];

/** A best guess of what an identifier is, from its shape and checksums. */
export function guessIdentifierType(identifier: string): IdentifierType {
  const v = identifier.trim();
  if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) return 'email';
  if (ibanValid(v)) return 'iban';
  const digits = v.replace(/[\s-]/g, '');
  if (/^\d{12,19}$/.test(digits) && luhn(digits)) return 'card';
  if (NATIONAL_IDS.some(([, ok]) => ok(v))) return 'national-id';
  if (/^\+?[\d\s().-]{7,20}$/.test(v) && digits.replace(/\D/g, '').length >= 7) return 'phone';
  if (/^\p{L}[\p{L}\p{M}'’.-]*(?:\s+\p{L}[\p{L}\p{M}'’.-]*)+$/u.test(v)) return 'name';
  return 'subject-id';
}

function luhn(d: string): boolean {
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    let n = d.charCodeAt(d.length - 1 - i) - 48;
    if (i % 2 === 1) n = n * 2 > 9 ? n * 2 - 9 : n * 2;
    sum += n;
  }
  return sum % 10 === 0;
}

/**
 * The tokens ingest would have produced for this identifier (the `tokensOut` of the row
 * transformer): used to find a subject's rows for erasure and to suppress them on re-ingest.
 */
export function identifierTokens(
  identifier: string,
  type: IdentifierType,
  hmacKey: Uint8Array,
  opts: { tokenLength: number; region?: string },
): string[] {
  const entities: EntityType[] = (() => {
    switch (type) {
      case 'email':
        return ['EMAIL_ADDRESS'];
      case 'phone':
        return ['PHONE_NUMBER'];
      case 'card':
        return ['CREDIT_CARD'];
      case 'iban':
        return ['IBAN_CODE'];
      case 'name':
        return ['PERSON'];
      case 'national-id': {
        const matches = NATIONAL_IDS.filter(([, ok]) => ok(identifier)).map(([e]) => e);
        // A national id can also be a dataset's subject key (SUBJECT_ID column).
        return [...matches, 'SUBJECT_ID'];
      }
      default:
        return ['SUBJECT_ID'];
    }
  })();
  const tokens: string[] = [];
  for (const entity of entities) {
    const canonical = canonicalOrRaw(entity, identifier, opts.region);
    if (canonical === '') continue;
    const t = pseudonymToken(entity, canonical, deriveEntityKey(hmacKey, entity), opts.tokenLength);
    if (!tokens.includes(t)) tokens.push(t);
  }
  return tokens;
}
