/**
 * The operator registry: name → implementation. An operator is compiled once per column (or per
 * entity in free text) with its options and keys, then applied to each value. A value an operator
 * cannot handle (a birth date that is not a date) throws SanitisationError: the row fails closed.
 */
import { SanitisationError } from '../errors.ts';
import type { EntityType, OperatorName } from '../types.ts';
import { encryptToken } from './reversible.ts';
import { canonicalOrRaw, deriveEntityKey, pseudonymToken, TOKEN_PREFIX } from './token.ts';

/** What an operator is compiled with. */
export interface OperatorEnv {
  readonly entity: EntityType;
  readonly options: Readonly<Record<string, unknown>>;
  /** Material of the `token-hmac` key. */
  readonly hmacKey: Uint8Array;
  /** Material of the `token-siv` key. */
  readonly sivKey: Uint8Array;
  /** Default token length (hex characters) from the policy. */
  readonly tokenLength: number;
  /**
   * The vault key of a value's pseudonym (`encrypt`, see reversible.ts), looked up synchronously
   * in keys fetched before the row; undefined when it was not fetched: the value fails closed.
   */
  readonly reversibleKey?: (ref: string) => Uint8Array | undefined;
}

/** Applies the operator to one value; `region` is the row's region (phones). Null means "drop". */
export type OperatorFn = (value: string, region?: string) => string | null;

export interface Operator {
  readonly name: OperatorName;
  compile(env: OperatorEnv): OperatorFn;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);

const tokenOperator: Operator = {
  name: 'token',
  compile(env) {
    const key = deriveEntityKey(env.hmacKey, env.entity);
    const length = int(env.options.length) ?? env.tokenLength;
    const prefix = str(env.options.prefix) ?? TOKEN_PREFIX[env.entity];
    const emailShape = env.options.shape === 'email';
    const domain = str(env.options.domain) ?? 'example.invalid';
    return (value, region) => {
      const t = pseudonymToken(env.entity, canonicalOrRaw(env.entity, value, region), key, length, prefix);
      // An email-shaped token on a reserved domain keeps email validators downstream happy.
      return emailShape ? `${t}@${domain}` : t;
    };
  },
};

const encryptOperator: Operator = {
  name: 'encrypt',
  compile(env) {
    const key = deriveEntityKey(env.hmacKey, env.entity);
    return (value, region) => {
      const canonical = canonicalOrRaw(env.entity, value, region);
      // The vault reference is the value's ordinary pseudonym: erasure shreds exactly these.
      const ref = pseudonymToken(env.entity, canonical, key, env.tokenLength);
      const vaultKey = env.reversibleKey?.(ref);
      if (vaultKey === undefined) throw new SanitisationError('no subject key was fetched for this value', { rule: 'subject-key-missing' });
      return encryptToken(env.entity, canonical, ref, env.sivKey, vaultKey);
    };
  },
};

const maskOperator: Operator = {
  name: 'mask',
  compile(env) {
    const keepLast = int(env.options.keepLast) ?? 4;
    const char = str(env.options.char) ?? '*';
    return (value) => {
      // Letters and digits are masked, separators kept: the shape of the value stays readable.
      let alnum = 0;
      for (const ch of value) if (/[\p{L}\p{N}]/u.test(ch)) alnum++;
      let seen = 0;
      let out = '';
      for (const ch of value) {
        if (/[\p{L}\p{N}]/u.test(ch)) {
          seen++;
          out += seen > alnum - keepLast ? ch : char;
        } else out += ch;
      }
      return out;
    };
  },
};

const redactOperator: Operator = {
  name: 'redact',
  compile(env) {
    const r = `<${env.entity}>`;
    return () => r;
  },
};

const dropOperator: Operator = {
  name: 'drop',
  compile() {
    return () => null;
  },
};

const keepOperator: Operator = {
  name: 'keep',
  compile() {
    return (value) => value;
  },
};

const MONTH_NUMBERS: Readonly<Record<string, number>> = (() => {
  const names: readonly (readonly string[])[] = [
    ['jan', 'january', 'januar', 'jänner', 'janvier', 'enero', 'gennaio', 'januari', 'stycznia', 'styczeń', 'janeiro'],
    ['feb', 'february', 'februar', 'février', 'febrero', 'febbraio', 'februari', 'lutego', 'luty', 'fevereiro'],
    ['mar', 'march', 'märz', 'mars', 'marzo', 'maart', 'marca', 'marzec', 'março'],
    ['apr', 'april', 'avril', 'abril', 'aprile', 'kwietnia', 'kwiecień'],
    ['may', 'mai', 'mayo', 'maggio', 'mei', 'maja', 'maj', 'maio'],
    ['jun', 'june', 'juni', 'juin', 'junio', 'giugno', 'czerwca', 'czerwiec', 'junho'],
    ['jul', 'july', 'juli', 'juillet', 'julio', 'luglio', 'lipca', 'lipiec', 'julho'],
    ['aug', 'august', 'août', 'agosto', 'augustus', 'sierpnia', 'sierpień'],
    ['sep', 'sept', 'september', 'septembre', 'septiembre', 'settembre', 'września', 'wrzesień', 'setembro'],
    ['oct', 'october', 'oktober', 'octobre', 'octubre', 'ottobre', 'października', 'październik', 'outubro'],
    ['nov', 'november', 'novembre', 'noviembre', 'listopada', 'listopad', 'novembro'],
    ['dec', 'december', 'dezember', 'décembre', 'diciembre', 'dicembre', 'grudnia', 'grudzień', 'dezembro'],
  ];
  const m: Record<string, number> = {};
  names.forEach((list, i) => {
    for (const n of list) m[n] = i + 1;
  });
  return m;
})();

/**
 * Year and month of a date written as ISO (2024-01-15, with or without time), yyyymmdd, d/m/y
 * (m/d/y in the US), d.m.y, "15 March 1985" or "March 15, 1985" in the supported languages.
 */
export function parseDateParts(value: string, region?: string): { year: number; month?: number } | undefined {
  const v = value.trim();
  let m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:$|[T\s])/.exec(v);
  if (m) return checked(Number(m[1]), Number(m[2]));
  m = /^(\d{4})(\d{2})(\d{2})$/.exec(v);
  if (m) return checked(Number(m[1]), Number(m[2]));
  m = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})$/.exec(v);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    let year = Number(m[3]);
    // Two-digit years: a birth date is in the past, so 00–29 → 20xx, 30–99 → 19xx.
    if (year < 100) year += year < 30 ? 2000 : 1900;
    const monthFirst = region?.toUpperCase() === 'US' ? a <= 12 : a <= 12 && b > 12;
    return checked(year, monthFirst ? a : b);
  }
  m = /^(\d{4})$/.exec(v);
  if (m) return checked(Number(m[1]));
  const year = /(?<!\d)(1[89]\d\d|20\d\d)(?!\d)/.exec(v);
  if (!year) return undefined;
  const word = v
    .toLowerCase()
    .match(/\p{L}+/gu)
    ?.find((w) => MONTH_NUMBERS[w] !== undefined);
  return checked(Number(year[1]), word ? MONTH_NUMBERS[word] : undefined);
}

function checked(year: number, month?: number): { year: number; month?: number } | undefined {
  if (year < 1800 || year > 2200) return undefined;
  if (month === undefined) return { year };
  return month >= 1 && month <= 12 ? { year, month } : undefined;
}

const generalizeOperator: Operator = {
  name: 'generalize',
  compile(env) {
    const o = env.options;
    const to = o.to === 'month' || o.to === 'year' ? o.to : undefined;
    const band = int(o.band);
    const prefix = int(o.prefix);
    if (to !== undefined || (band === undefined && prefix === undefined && env.entity === 'DATE_OF_BIRTH')) {
      const unit = to ?? 'year';
      return (value, region) => {
        const d = parseDateParts(value, region);
        if (!d || (unit === 'month' && d.month === undefined))
          throw new SanitisationError(`value is not a date that can be generalised to a ${unit}`, { rule: 'generalize-date' });
        return unit === 'year' || d.month === undefined ? String(d.year) : `${d.year}-${String(d.month).padStart(2, '0')}`;
      };
    }
    if (band !== undefined || (prefix === undefined && env.entity === 'AGE')) {
      const width = band ?? 10;
      return (value) => {
        const age = Number(value.trim().replace(',', '.'));
        if (!Number.isFinite(age) || age < 0 || age > 150) throw new SanitisationError('value is not an age', { rule: 'generalize-age' });
        const lo = Math.floor(age / width) * width;
        // Top-coded: the oldest ages are rare enough to single people out.
        return lo >= 90 ? '90+' : `${lo}-${lo + width - 1}`;
      };
    }
    if (prefix !== undefined || env.entity === 'POSTCODE') {
      const n = prefix ?? 3;
      return (value) => {
        const compact = value.replace(/\s+/g, '').toUpperCase();
        if (compact === '' || !/^[A-Z0-9-]+$/.test(compact))
          throw new SanitisationError('value is not a postcode', { rule: 'generalize-postcode' });
        return compact.slice(0, n);
      };
    }
    throw new SanitisationError(`generalize has no rule for ${env.entity} without options`, { rule: 'generalize-unsupported' });
  },
};

/** Every operator by name. */
export const OPERATORS: Readonly<Record<OperatorName, Operator>> = {
  token: tokenOperator,
  encrypt: encryptOperator,
  mask: maskOperator,
  redact: redactOperator,
  generalize: generalizeOperator,
  drop: dropOperator,
  keep: keepOperator,
};

/** Compiles an operator by name. */
export function compileOperator(name: OperatorName, env: OperatorEnv): OperatorFn {
  return OPERATORS[name].compile(env);
}
