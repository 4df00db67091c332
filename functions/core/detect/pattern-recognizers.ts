/**
 * The regex-and-validator recognizers: contact data, payment data, national identifiers,
 * network identifiers, credentials, postcodes and birth dates. Scores follow Presidio's scale:
 * a checksum-confirmed identifier is near 1, a bare shape that needs a context word starts low.
 */
import { isIPv6 } from 'node:net';
import type { EntityType } from '../types.ts';
import { CONTEXT_WORDS, NEGATIVE_NUMBER_CONTEXT } from './context-words.ts';
import {
  F_ARMOUR,
  F_AT,
  F_COLON,
  F_DIGIT,
  F_DIGITS7,
  F_DIGITS9,
  F_DIGITS12,
  F_DOTTED4,
  F_EQUALS,
  F_EYJ,
  F_L2D2,
  F_LETTER,
  F_MAC,
  F_NIF,
  F_RUN16,
  F_RUN20,
  F_RUN40,
  F_TOKEN15,
  F_UPPER,
  F_UPPER_DIGIT,
  F_URLISH,
  PatternRecognizer,
} from './recognizer.ts';
import {
  creditCardValid,
  deTaxIdValid,
  esNifValid,
  ibanLength,
  ibanValid,
  inAadhaarValid,
  itFiscalCodeValid,
  plPeselValid,
  ukNhsValid,
  ukNinoValid,
  usSsnValid,
  validDate,
} from './validators.ts';
import { registerWordList, wordListsIn } from './word-lists.ts';

const ctx = (e: EntityType): readonly string[] => CONTEXT_WORDS[e] ?? [];

// ---------------------------------------------------------------- contact

export const emailRecognizer = new PatternRecognizer({
  name: 'email',
  entity: 'EMAIL_ADDRESS',
  requires: F_AT,
  patterns: [
    {
      name: 'address',
      // Local part: no leading or trailing dot; domain: labels of letters/digits/hyphens, a TLD of letters.
      regex:
        /[\p{L}\p{N}_%+-](?<![\p{L}\p{N}._%+-][\p{L}\p{N}_%+-])(?:[\p{L}\p{N}._%+-]{0,62}[\p{L}\p{N}_%+-])?@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.){1,8}\p{L}{2,24}(?![\p{L}\p{N}\-@])/gu,
      score: 0.95,
    },
  ],
  context: ctx('EMAIL_ADDRESS'),
  validate: (v) => !v.includes('..'),
});

export const urlRecognizer = new PatternRecognizer({
  name: 'url',
  entity: 'URL',
  requires: F_URLISH,
  patterns: [
    { name: 'scheme', regex: /(?:https?|ftp)(?<![\p{L}\p{N}](?:https?|ftp)):\/\/[^\s<>"'`{}|\\^[\]]{2,2048}/giu, score: 0.6 },
    {
      name: 'www',
      regex: /www\.(?<![\p{L}\p{N}./@]www\.)[\p{L}\p{N}-]{1,63}(?:\.[\p{L}\p{N}-]{1,63}){1,6}(?:\/[^\s<>"'`{}|\\^[\]]{0,2048})?/giu,
      score: 0.55,
    },
  ],
  // Sentence punctuation after a URL is not part of it.
  validate: (v, _t, start) => {
    let end = v.length;
    while (end > 0 && '.,;:!?)]}\'"'.includes(v[end - 1] as string)) {
      if (v[end - 1] === ')' && v.lastIndexOf('(', end) > 0) break;
      end--;
    }
    return end < 6 ? false : { end: start + end };
  },
});

// ---------------------------------------------------------------- payment

/** Card numbers are written as groups of 4 (or Amex 4-6-5) or not grouped at all. */
function cardGroupingOk(v: string): boolean {
  const groups = v.split(/[ -]/);
  if (groups.length === 1) return true;
  const lens = groups.map((g) => g.length).join(',');
  return /^(4,)+\d$/.test(`${lens}`) || lens === '4,6,5' || lens === '4,6,4' || /^4,4,4,4(,[1-3])?$/.test(lens);
}

export const creditCardRecognizer = new PatternRecognizer({
  name: 'credit-card',
  entity: 'CREDIT_CARD',
  gate: /\d{4}/,
  requires: F_DIGITS12,
  patterns: [{ name: 'digits', regex: /\d(?<![\d\-.,/]\d)(?:[ -]?\d){11,18}(?![\d\-/]|[.,]\d)/g, score: 0.8 }],
  context: ctx('CREDIT_CARD'),
  contextBoost: 0.2,
  negativeContext: NEGATIVE_NUMBER_CONTEXT,
  validate: (v) => {
    if (!creditCardValid(v) || !cardGroupingOk(v)) return false;
    // A grouped number is a strong signal; a bare run of digits less so.
    return /[ -]/.test(v) ? 0.9 : 0.8;
  },
});

class IbanRecognizer extends PatternRecognizer {
  constructor() {
    super({
      name: 'iban',
      entity: 'IBAN_CODE',
      requires: F_DIGIT | F_LETTER | F_L2D2,
      patterns: [{ name: 'iban', regex: /[A-Za-z](?<![\p{L}\p{N}][A-Za-z])[A-Za-z]{1}\d{2}(?:[ -]?[A-Za-z0-9]){10,32}/gu, score: 0.9 }],
      context: ctx('IBAN_CODE'),
      contextBoost: 0.1,
      // The candidate may run into the next word ("... 32 and"): cut it at the country's length.
      validate: (v, _t, start) => {
        const len = ibanLength(v.slice(0, 2));
        if (len === undefined) return false;
        let n = 0;
        let i = 0;
        for (; i < v.length && n < len; i++) if (/[A-Za-z0-9]/.test(v[i] as string)) n++;
        if (n < len) return false;
        if (i < v.length && /[A-Za-z0-9]/.test(v[i] as string)) return false;
        const cut = v.slice(0, i);
        // Mixed case is not how IBANs are written.
        if (cut !== cut.toUpperCase() && cut !== cut.toLowerCase()) return false;
        return ibanValid(cut) ? { score: 1, end: start + i } : false;
      },
    });
  }
}
export const ibanRecognizer = new IbanRecognizer();

// ---------------------------------------------------------------- national identifiers

export const usSsnRecognizer = new PatternRecognizer({
  name: 'us-ssn',
  entity: 'US_SSN',
  requires: F_DIGITS9,
  patterns: [
    { name: 'dashed', regex: /\d(?<![\d-]\d)\d{2}-\d{2}-\d{4}(?![\d-])/g, score: 0.6 },
    { name: 'spaced', regex: /\d(?<![\d ]\d)\d{2} \d{2} \d{4}(?![\d]| \d)/g, score: 0.35, needsContext: true },
    { name: 'dotted', regex: /\d(?<![\d.]\d)\d{2}\.\d{2}\.\d{4}(?![\d.])/g, score: 0.3, needsContext: true },
    { name: 'plain', regex: /\d(?<![\d\-.,]\d)\d{8}(?![\d-]|[.,]\d)/g, score: 0.15, needsContext: true },
  ],
  context: ctx('US_SSN'),
  // "social security number 536221234": the context outweighs a phone reading of the digits.
  contextBoost: 0.7,
  negativeContext: NEGATIVE_NUMBER_CONTEXT,
  validate: (v) => usSsnValid(v),
});

export const ukNinoRecognizer = new PatternRecognizer({
  name: 'uk-nino',
  entity: 'UK_NINO',
  gate: /[A-Z]{2} ?\d\d/,
  requires: F_DIGIT | F_UPPER | F_L2D2,
  patterns: [
    {
      name: 'nino',
      regex: /[A-CEGHJ-PR-TW-Z](?<![\p{L}\p{N}][A-CEGHJ-PR-TW-Z])[A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![\p{L}\p{N}])/gu,
      score: 0.85,
    },
  ],
  context: ctx('UK_NINO'),
  validate: (v) => ukNinoValid(v),
});

export const ukNhsRecognizer = new PatternRecognizer({
  name: 'uk-nhs',
  entity: 'UK_NHS',
  requires: F_DIGITS9,
  patterns: [{ name: 'nhs', regex: /\d(?<![\d\-+]\d)\d{2}([ -]?)\d{3}\1\d{4}(?![\d-])/g, score: 0.3, needsContext: true }],
  context: ctx('UK_NHS'),
  contextBoost: 0.45,
  negativeContext: NEGATIVE_NUMBER_CONTEXT,
  validate: (v) => ukNhsValid(v),
});

export const esNifRecognizer = new PatternRecognizer({
  name: 'es-nif',
  entity: 'ES_NIF',
  requires: F_DIGITS7 | F_LETTER | F_NIF,
  patterns: [
    { name: 'dni', regex: /\d(?<![\p{L}\p{N}-]\d)\d{7}[ -]?[A-Za-z](?![\p{L}\p{N}])/gu, score: 0.75 },
    { name: 'nie', regex: /[XYZxyz](?<![\p{L}\p{N}-][XYZxyz])[ -]?\d{7}[ -]?[A-Za-z](?![\p{L}\p{N}])/gu, score: 0.8 },
  ],
  context: ctx('ES_NIF'),
  validate: (v) => esNifValid(v),
});

export const itFiscalCodeRecognizer = new PatternRecognizer({
  name: 'it-fiscal-code',
  entity: 'IT_FISCAL_CODE',
  // Digits at positions 7–8, 10–11 and 13–15 (or their omocodia letters): look for the digits first.
  gate: /[0-9LMNP-V]{2}[A-Za-z][0-9LMNP-V]{2}[A-Za-z][0-9LMNP-V]{3}[A-Za-z]/i,
  requires: F_DIGIT | F_LETTER | F_RUN16,
  patterns: [
    {
      name: 'cf',
      regex:
        /[A-Za-z](?<![\p{L}\p{N}][A-Za-z])[A-Za-z]{5}[0-9LMNP-Vlmnp-v]{2}[A-Za-z][0-9LMNP-Vlmnp-v]{2}[A-Za-z][0-9LMNP-Vlmnp-v]{3}[A-Za-z](?![\p{L}\p{N}])/gu,
      score: 0.9,
    },
  ],
  context: ctx('IT_FISCAL_CODE'),
  validate: (v) => itFiscalCodeValid(v),
});

export const plPeselRecognizer = new PatternRecognizer({
  name: 'pl-pesel',
  entity: 'PL_PESEL',
  requires: F_DIGITS9,
  patterns: [{ name: 'pesel', regex: /\d(?<![\d\-+.,]\d)\d{10}(?![\d-]|[.,]\d)/g, score: 0.4, needsContext: true }],
  context: ctx('PL_PESEL'),
  contextBoost: 0.45,
  negativeContext: NEGATIVE_NUMBER_CONTEXT,
  validate: (v) => plPeselValid(v),
});

export const inAadhaarRecognizer = new PatternRecognizer({
  name: 'in-aadhaar',
  entity: 'IN_AADHAAR',
  requires: F_DIGITS12,
  patterns: [
    { name: 'aadhaar', regex: /[2-9](?<![\d\-+.,][2-9])\d{3}([ -]?)\d{4}\1\d{4}(?![\d-]|[.,]\d)/g, score: 0.4, needsContext: true },
  ],
  context: ctx('IN_AADHAAR'),
  contextBoost: 0.45,
  negativeContext: NEGATIVE_NUMBER_CONTEXT,
  validate: (v) => inAadhaarValid(v),
});

export const deTaxIdRecognizer = new PatternRecognizer({
  name: 'de-tax-id',
  entity: 'DE_TAX_ID',
  requires: F_DIGITS9,
  patterns: [
    { name: 'grouped', regex: /[1-9](?<![\d\-+.,][1-9])\d ?\d{3} ?\d{3} ?\d{3}(?![\d-]|[.,]\d)/g, score: 0.4, needsContext: true },
  ],
  context: ctx('DE_TAX_ID'),
  contextBoost: 0.45,
  negativeContext: NEGATIVE_NUMBER_CONTEXT,
  validate: (v) => deTaxIdValid(v),
});

// ---------------------------------------------------------------- network

export const ipRecognizer = new PatternRecognizer({
  name: 'ip',
  entity: 'IP_ADDRESS',
  requires: F_DIGIT,
  patterns: [
    { name: 'v4', regex: /\d(?<![\d.]\d)\d{0,2}(?:\.\d{1,3}){3}(?!\d|\.\d)/g, score: 0.6, requires: F_DOTTED4 },
    {
      name: 'v6',
      regex: /[0-9A-Fa-f:](?<![\p{L}\p{N}:.][0-9A-Fa-f:])[0-9A-Fa-f]{0,3}:[0-9A-Fa-f:]{1,37}(?![\p{L}\p{N}:])/gu,
      score: 0.7,
      requires: F_COLON,
      gate: /[0-9A-Fa-f]:[0-9A-Fa-f]{0,4}:/,
    },
  ],
  context: ctx('IP_ADDRESS'),
  contextBoost: 0.3,
  negativeContext: ['version', 'ver', 'v', 'release', 'build', 'chapter', 'section', 'isbn'],
  validate: (v) => {
    if (v.includes(':')) {
      if (!isIPv6(v)) return false;
      const colons = v.split(':').length - 1;
      // Clock times (10:30:00) and short fragments are not addresses.
      return colons === 7 || (v.includes('::') && v.replace(/:/g, '').length >= 4);
    }
    // Every octet at most 255; 0.0.0.0 is no host.
    return v !== '0.0.0.0' && v.split('.').every((o) => Number(o) <= 255 && (o.length === 1 || o[0] !== '0'));
  },
});

export const macRecognizer = new PatternRecognizer({
  name: 'mac',
  entity: 'MAC_ADDRESS',
  requires: F_DIGIT | F_MAC,
  patterns: [
    {
      name: 'colon',
      regex: /[0-9A-Fa-f](?<![\p{L}\p{N}:-][0-9A-Fa-f])[0-9A-Fa-f]{1}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}(?![\p{L}\p{N}:-])/gu,
      score: 0.8,
    },
    {
      name: 'cisco',
      regex: /[0-9a-fA-F](?<![\p{L}\p{N}.][0-9a-fA-F])[0-9a-fA-F]{3}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}(?![\p{L}\p{N}.])/gu,
      score: 0.7,
    },
  ],
  context: ctx('MAC_ADDRESS'),
  contextBoost: 0.2,
  // 12:34:56:12:34:56 style clock-like runs of digits only are rare; require a hex letter or a known separator.
  validate: (v) => /[a-fA-F]/.test(v) || v.includes(':') || v.includes('-'),
});

// ---------------------------------------------------------------- credentials

/** Secrets have letters and digits mixed; plain words are not secrets. */
function looksRandom(v: string): boolean {
  let classes = 0;
  if (/[a-z]/.test(v)) classes++;
  if (/[A-Z]/.test(v)) classes++;
  if (/\d/.test(v)) classes++;
  if (/[^A-Za-z0-9]/.test(v)) classes++;
  return classes >= 2 && /\d|[^A-Za-z]/.test(v);
}

export const awsAccessKeyRecognizer = new PatternRecognizer({
  name: 'aws-access-key',
  entity: 'AWS_ACCESS_KEY',
  gate: /AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA/,
  requires: F_UPPER | F_RUN20,
  patterns: [
    {
      name: 'key-id',
      regex: /A(?<![A-Za-z0-9]A)(?:KIA|SIA|BIA|CCA|GPA|IDA|IPA|NPA|NVA|PKA|ROA|SCA)[A-Z2-7]{16}(?![A-Za-z0-9])/g,
      score: 0.95,
    },
  ],
});

export const awsSecretKeyRecognizer = new PatternRecognizer({
  name: 'aws-secret-key',
  entity: 'AWS_SECRET_KEY',
  requires: F_LETTER | F_DIGIT | F_RUN40,
  patterns: [
    {
      name: 'secret',
      regex: /[A-Za-z0-9/+](?<![A-Za-z0-9/+=][A-Za-z0-9/+])[A-Za-z0-9/+]{39}(?![A-Za-z0-9/+=])/g,
      score: 0.15,
      needsContext: true,
    },
  ],
  context: [...ctx('AWS_SECRET_KEY'), 'aws', 'secret'],
  contextBoost: 0.75,
  contextWindow: [64, 0],
  validate: (v) => /[a-z]/.test(v) && /[A-Z]/.test(v) && /\d/.test(v),
});

export const privateKeyRecognizer = new PatternRecognizer({
  name: 'private-key',
  entity: 'PRIVATE_KEY',
  requires: F_ARMOUR,
  patterns: [
    {
      name: 'pem',
      // Header, a bounded body (single hyphens allowed, never five), then the footer if present:
      // a truncated key is still redacted up to where its body ends.
      regex:
        /-----BEGIN [A-Z0-9 ]{0,24}PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/=\s:,.()]|-(?!----)){0,16384}(?:-----END [A-Z0-9 ]{0,24}PRIVATE KEY(?: BLOCK)?-----)?/g,
      score: 1,
    },
  ],
});

export const jwtRecognizer = new PatternRecognizer({
  name: 'jwt',
  entity: 'JWT',
  requires: F_EYJ,
  patterns: [
    {
      name: 'jws',
      regex: /e(?<![A-Za-z0-9_-]e)yJ[A-Za-z0-9_-]{5,4096}\.eyJ[A-Za-z0-9_-]{5,8192}\.[A-Za-z0-9_-]{0,4096}(?![A-Za-z0-9_-])/g,
      score: 0.95,
    },
  ],
});

const VENDOR_TOKEN_GATE = /[spr]k_|gh[pousr]_|github_pat_|glpat-|xox[abposr]-|AIza|npm_|SG\.|sk-/;
/** The keywords of the assignment patterns, as whole words (`api_key`: "api"; `apikey`: "apikey"). */
const SECRET_KEYWORDS = registerWordList([
  'api',
  'apikey',
  'access',
  'accesstoken',
  'auth',
  'authtoken',
  'client',
  'clientsecret',
  'secret',
  'token',
  'password',
  'passwd',
  'pwd',
  'passwort',
  'kennwort',
  'mot de passe',
  'contraseña',
  'senha',
  'hasło',
  'haslo',
  'wachtwoord',
  'bearer',
]);
const VERB_OR_BEARER = / (?:is|ist|est|es|è|jest|é|era|was) |[Bb][Ee][Aa][Rr][Ee][Rr]/;

export const apiTokenRecognizer = new PatternRecognizer({
  name: 'api-token',
  entity: 'API_TOKEN',
  // Every vendor prefix holds `_`, `-` or a fixed capitalised stem: test those first (cheap).
  gate: VENDOR_TOKEN_GATE,
  requires: F_LETTER | F_TOKEN15,
  patterns: [
    { name: 'stripe', regex: /[spr](?<![A-Za-z0-9_][spr])k_(?:live|test)_[A-Za-z0-9]{16,128}(?![A-Za-z0-9])/g, score: 0.95 },
    {
      name: 'github',
      regex: /g(?<![A-Za-z0-9_]g)(?:h[pousr]_[A-Za-z0-9]{36,255}|ithub_pat_[A-Za-z0-9_]{50,255})(?![A-Za-z0-9_])/g,
      score: 0.95,
    },
    { name: 'gitlab', regex: /g(?<![A-Za-z0-9_]g)lpat-[A-Za-z0-9_-]{20,64}(?![A-Za-z0-9_-])/g, score: 0.95 },
    { name: 'slack', regex: /x(?<![A-Za-z0-9_]x)ox[abposr]-[A-Za-z0-9-]{10,200}(?![A-Za-z0-9-])/g, score: 0.95 },
    { name: 'google', regex: /A(?<![A-Za-z0-9_]A)Iza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g, score: 0.9 },
    { name: 'npm', regex: /n(?<![A-Za-z0-9_]n)pm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g, score: 0.95 },
    { name: 'sendgrid', regex: /S(?<![A-Za-z0-9_]S)G\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g, score: 0.95 },
    { name: 'openai', regex: /s(?<![A-Za-z0-9_-]s)k-(?:proj-|ant-)?[A-Za-z0-9_-]{32,200}(?![A-Za-z0-9_-])/g, score: 0.9 },
  ],
});

export const secretAssignmentRecognizer = new PatternRecognizer({
  name: 'secret-assignment',
  entity: 'API_TOKEN',
  // An assignment needs `:` or `=` or a verb; then one of the keywords.
  gate: (t, f) => (wordListsIn(t) & SECRET_KEYWORDS) !== 0 && ((f & (F_COLON | F_EQUALS)) !== 0 || VERB_OR_BEARER.test(t)),
  requires: F_LETTER,
  patterns: [
    {
      name: 'assignment',
      // `api_key = "…"`, `password: …`, `the password is …`: the value is the secret.
      regex:
        /(?<![\p{L}\p{N}])(?:api[_\- ]?key|apikey|access[_\- ]?token|auth[_\- ]?token|client[_\- ]?secret|secret|token|password|passwd|pwd|passwort|kennwort|mot de passe|contraseña|senha|hasło|haslo|wachtwoord)["']?(?:\s{0,3}[:=]|\s(?:is|ist|est|es|è|jest|é|era|was))\s{0,3}["']?([A-Za-z0-9_\-+/=.~!#$%^&*]{6,200})/giu,
      score: 0.75,
      group: 1,
    },
    { name: 'bearer', regex: /[Bb](?<![\p{L}\p{N}][Bb])earer\s{1,3}([A-Za-z0-9_\-.=+/]{16,4096})/giu, score: 0.85, group: 1 },
  ],
  validate: (v, _text, start) => {
    // Sentence punctuation after the secret is not part of it.
    const trimmed = v.replace(/[.,;!]+$/, '');
    return trimmed.length >= 6 && looksRandom(trimmed) ? { end: start + trimmed.length } : false;
  },
});

// ---------------------------------------------------------------- quasi-identifiers

export const postcodeRecognizer = new PatternRecognizer({
  name: 'postcode',
  entity: 'POSTCODE',
  requires: F_DIGIT,
  patterns: [
    // Written with its space (SW1A 1AA) a UK postcode is distinctive; run together (SW1A1AA) it looks like a code.
    {
      name: 'uk',
      regex: /[A-PR-UWYZ](?<![\p{L}\p{N}\-_][A-PR-UWYZ])(?:[A-HK-Y]?\d[A-Z\d]?) \d[ABD-HJLNP-UW-Z]{2}(?![\p{L}\p{N}\-_])/gu,
      score: 0.55,
      requires: F_UPPER_DIGIT,
    },
    {
      name: 'uk-compact',
      regex: /[A-PR-UWYZ](?<![\p{L}\p{N}\-_][A-PR-UWYZ])(?:[A-HK-Y]?\d[A-Z\d]?)\d[ABD-HJLNP-UW-Z]{2}(?![\p{L}\p{N}\-_])/gu,
      score: 0.3,
      needsContext: true,
      requires: F_UPPER_DIGIT,
    },
    {
      name: 'ca',
      regex: /[ABCEGHJ-NPRSTVXY](?<![\p{L}\p{N}][ABCEGHJ-NPRSTVXY])\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d(?![\p{L}\p{N}])/gu,
      score: 0.5,
      requires: F_UPPER_DIGIT,
    },
    { name: 'nl', regex: /[1-9](?<![\p{L}\p{N}][1-9])\d{3} ?(?!SA|SD|SS)[A-Z]{2}(?![\p{L}\p{N}])/gu, score: 0.3, needsContext: true },
    { name: 'us-zip4', regex: /\d(?<![\d-]\d)\d{4}-\d{4}(?![\d-])/g, score: 0.4, needsContext: true },
    { name: 'br-cep', regex: /\d(?<![\d-]\d)\d{4}-\d{3}(?![\d-])/g, score: 0.3, needsContext: true },
    { name: 'pt', regex: /\d(?<![\d-]\d)\d{3}-\d{3}(?![\d-])/g, score: 0.25, needsContext: true },
    { name: 'pl', regex: /\d(?<![\d-]\d)\d{1}-\d{3}(?![\d-])/g, score: 0.2, needsContext: true },
    { name: 'se-cz-gr', regex: /\d(?<![\d\- ]\d)\d{2} \d{2}(?![\d-]| \d)/g, score: 0.05, needsContext: true },
    { name: 'three-digit', regex: /\d(?<![\d.,\-/]\d)\d{2}(?![\d\-/]|[.,]\d)/g, score: 0.02, needsContext: true },
    { name: 'five-digit', regex: /\d(?<![\d.,\-/]\d)\d{4}(?![\d\-/]|[.,]\d)/g, score: 0.1, needsContext: true },
    { name: 'four-digit', regex: /\d(?<![\d.,\-/]\d)\d{3}(?![\d\-/]|[.,]\d)/g, score: 0.05, needsContext: true },
  ],
  context: ctx('POSTCODE'),
  contextBoost: 0.5,
  contextWindow: [20, 0],
});

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
  'jan',
  'feb',
  'mar',
  'apr',
  'jun',
  'jul',
  'aug',
  'sep',
  'sept',
  'oct',
  'nov',
  'dec',
  'januar',
  'jänner',
  'februar',
  'märz',
  'mai',
  'juni',
  'juli',
  'oktober',
  'dezember',
  'janvier',
  'février',
  'mars',
  'avril',
  'juin',
  'juillet',
  'août',
  'septembre',
  'octobre',
  'novembre',
  'décembre',
  'enero',
  'febrero',
  'marzo',
  'abril',
  'mayo',
  'junio',
  'julio',
  'agosto',
  'septiembre',
  'setiembre',
  'octubre',
  'noviembre',
  'diciembre',
  'gennaio',
  'febbraio',
  'aprile',
  'maggio',
  'giugno',
  'luglio',
  'settembre',
  'ottobre',
  'dicembre',
  'januari',
  'februari',
  'maart',
  'mei',
  'augustus',
  'stycznia',
  'lutego',
  'marca',
  'kwietnia',
  'maja',
  'czerwca',
  'lipca',
  'sierpnia',
  'września',
  'października',
  'listopada',
  'grudnia',
  'janeiro',
  'fevereiro',
  'março',
  'maio',
  'junho',
  'julho',
  'setembro',
  'outubro',
  'dezembro',
];
const MONTH_ALT = [...new Set(MONTHS)].sort((a, b) => b.length - a.length).join('|');

/** A numeric date with a plausible day, month and year (either day-month or month-day order). */
function plausibleNumericDate(v: string): boolean {
  const parts = v.split(/[./-]/).map(Number);
  if (parts.length !== 3) return false;
  const [a, b, c] = parts as [number, number, number];
  if (a > 999) return validDate(a, b, c);
  const year = c < 100 ? 1900 + c : c;
  return validDate(year, b, a) || validDate(year, a, b);
}

export const dateOfBirthRecognizer = new PatternRecognizer({
  name: 'date-of-birth',
  entity: 'DATE_OF_BIRTH',
  requires: F_DIGIT,
  patterns: [
    {
      name: 'numeric',
      regex: /\d(?<![\d./-]\d)(?:\d?[./-]\d{1,2}[./-](?:19|20)?\d{2}|\d{3}[./-]\d{1,2}[./-]\d{1,2})(?![\d/-]|\.\d)/g,
      score: 0.15,
      needsContext: true,
    },
    {
      name: 'day-month-year',
      regex: new RegExp(
        `(?<![\\p{L}\\p{N}])\\d{1,2}(?:st|nd|rd|th|er|º|\\.)?\\s{1,2}(?:de\\s)?(?:${MONTH_ALT})\\.?,?\\s{1,2}(?:de\\s)?(?:19|20)\\d{2}(?!\\d)`,
        'giu',
      ),
      score: 0.15,
      needsContext: true,
    },
    {
      name: 'month-day-year',
      regex: new RegExp(`(?<![\\p{L}\\p{N}])(?:${MONTH_ALT})\\.?\\s{1,2}\\d{1,2}(?:st|nd|rd|th)?,?\\s{1,2}(?:19|20)\\d{2}(?!\\d)`, 'giu'),
      score: 0.15,
      needsContext: true,
    },
  ],
  context: ctx('DATE_OF_BIRTH'),
  contextBoost: 0.6,
  contextWindow: [40, 12],
  validate: (v) => (/^\d/.test(v) && /^[\d./-]+$/.test(v) ? plausibleNumericDate(v) : true),
});

/** Every pattern recognizer (phone, person and address have their own modules). */
export const PATTERN_RECOGNIZERS: readonly PatternRecognizer[] = [
  emailRecognizer,
  urlRecognizer,
  creditCardRecognizer,
  ibanRecognizer,
  usSsnRecognizer,
  ukNinoRecognizer,
  ukNhsRecognizer,
  esNifRecognizer,
  itFiscalCodeRecognizer,
  plPeselRecognizer,
  inAadhaarRecognizer,
  deTaxIdRecognizer,
  ipRecognizer,
  macRecognizer,
  awsAccessKeyRecognizer,
  awsSecretKeyRecognizer,
  privateKeyRecognizer,
  jwtRecognizer,
  apiTokenRecognizer,
  secretAssignmentRecognizer,
  postcodeRecognizer,
  dateOfBirthRecognizer,
];
