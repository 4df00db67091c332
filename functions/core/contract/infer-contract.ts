/**
 * Infers a tolerant contract from a bounded sample when a dataset has none. The result is
 * recorded in lineage, so it must never carry a personal value: enums are only inferred for
 * clearly categorical, non-personal columns, and patterns, min and max never.
 */
import { ContractError } from '../errors.ts';
import type { Row } from '../types.ts';
import { type ColumnContract, type ColumnType, type DatasetContract, datasetContractSchema } from './contract-schema.ts';
import { kindOf, type ValueKind } from './value-types.ts';

/** Share of non-empty sample values that must parse as a type for the column to get that type. */
export const TYPE_SHARE = 0.98;
/** Enums need at least this many sample rows ... */
export const ENUM_MIN_ROWS = 200;
/** ... at most this many distinct values ... */
export const ENUM_MAX_VALUES = 12;
/** ... each seen at least this often (a value seen once or twice may be someone's). */
export const ENUM_MIN_OCCURRENCES = 3;
const ENUM_MAX_VALUE_LENGTH = 40;

/** Header words that suggest personal data or identifiers: never an enum for them. */
const PII_HEADER_WORDS = new Set([
  'id',
  'uid',
  'uuid',
  'guid',
  'key',
  'ssn',
  'nino',
  'nhs',
  'passport',
  'license',
  'licence',
  'iban',
  'bic',
  'card',
  'pan',
  'cvv',
  'address',
  'street',
  'house',
  'city',
  'town',
  'zip',
  'zipcode',
  'postcode',
  'postal',
  'dob',
  'birth',
  'birthday',
  'born',
  'ip',
  'mac',
  'device',
  'imei',
  'token',
  'secret',
  'password',
  'note',
  'notes',
  'comment',
  'comments',
  'remark',
  'remarks',
  'description',
  'text',
  'message',
  'ref',
  'reference',
  'number',
  'no',
  'nr',
  'lat',
  'latitude',
  'lon',
  'lng',
  'longitude',
  'geo',
  'location',
  'user',
  'username',
  'login',
  'account',
  'first',
  'last',
  'surname',
  'given',
  'family',
  'tel',
  'telephone',
  'fax',
  'mobile',
  'phone',
  'email',
  'mail',
  'name',
  'contact',
  'customer',
  'patient',
  'employee',
  'member',
  'person',
  'owner',
  'subject',
  'client',
]);
/** Glued forms such as `customername` or `emailaddress`. */
const PII_HEADER_PARTS = /mail|phone|name|addr|birth|passport|password|secret|token|user|patient|person/;

function headerLooksPersonal(header: string): boolean {
  const lower = header.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return PII_HEADER_PARTS.test(lower) || lower.split(/[^a-z0-9]+/).some((w) => PII_HEADER_WORDS.has(w));
}

/** Values that look personal or identifying: e-mail-ish, digit runs, URLs, long tokens. */
function looksPersonal(v: string): boolean {
  return (
    v.includes('@') || /\d{4,}/.test(v) || /https?:|www\./i.test(v) || v.length > ENUM_MAX_VALUE_LENGTH || /^[A-Za-z0-9_-]{16,}$/.test(v)
  );
}

interface ColumnStats {
  nulls: number;
  values: number;
  kinds: Record<ValueKind, number>;
  /** Integers that are really codes: leading zeros or more than 15 digits. */
  codeLike: number;
  distinct: Map<string, number> | undefined;
}

/** Infers a contract for `dataset` from sample rows (rows with decoding issues are ignored). */
export function inferContract(dataset: string, columns: readonly string[], sample: readonly Row[]): DatasetContract {
  const rows = sample.filter((r) => r.issue === undefined);
  const stats: ColumnStats[] = columns.map(() => ({
    nulls: 0,
    values: 0,
    kinds: { integer: 0, number: 0, boolean: 0, date: 0, datetime: 0, json: 0, string: 0 },
    codeLike: 0,
    distinct: new Map<string, number>(),
  }));
  for (const row of rows) {
    for (let i = 0; i < columns.length; i++) {
      const st = stats[i] as ColumnStats;
      const v = row.cells[i];
      if (v === null || v === undefined || v === '') {
        st.nulls++;
        continue;
      }
      st.values++;
      const kind = kindOf(v);
      st.kinds[kind]++;
      if (kind === 'integer' && typeof v === 'string' && isCodeLike(v)) st.codeLike++;
      if (st.distinct !== undefined) {
        const s = String(v);
        st.distinct.set(s, (st.distinct.get(s) ?? 0) + 1);
        if (st.distinct.size > ENUM_MAX_VALUES) st.distinct = undefined;
      }
    }
  }
  const inferred: ColumnContract[] = columns.map((name, i) => {
    const st = stats[i] as ColumnStats;
    const type = typeOf(st);
    const col: ColumnContract = { name, type, required: true, nullable: rows.length === 0 || st.nulls > 0, unique: false };
    const values = type === 'string' ? enumValues(name, st, rows.length) : undefined;
    return values ? { ...col, enum: values } : col;
  });
  const parsed = datasetContractSchema.safeParse({
    version: 1,
    dataset,
    description: `Inferred from a sample of ${rows.length} row(s).`,
    columns: inferred,
    allowExtraColumns: false,
    maxInvalidRowShare: 0.05,
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ContractError(`cannot infer a contract for dataset '${dataset}': ${problems.join('; ')}`, {
      rule: 'contract-infer',
      problems,
    });
  }
  return parsed.data;
}

function isCodeLike(v: string): boolean {
  const digits = v.charCodeAt(0) === 45 || v.charCodeAt(0) === 43 ? v.slice(1) : v;
  return (digits.length > 1 && digits.charCodeAt(0) === 48) || digits.length > 15;
}

function typeOf(st: ColumnStats): ColumnType {
  const n = st.values;
  if (n === 0) return 'string';
  const k = st.kinds;
  const share = (count: number) => count / n >= TYPE_SHARE;
  if (share(k.boolean)) return 'boolean';
  // Codes with leading zeros or very long digit runs stay strings: numbers would lose them.
  if (st.codeLike === 0) {
    // Any decimal makes it a number: later non-integer values must not invalidate rows.
    if (k.number === 0 && share(k.integer)) return 'integer';
    if (share(k.integer + k.number)) return 'number';
  }
  if (share(k.date)) return 'date';
  if (share(k.datetime)) return 'datetime';
  if (share(k.json)) return 'json';
  return 'string';
}

function enumValues(name: string, st: ColumnStats, rows: number): string[] | undefined {
  if (rows < ENUM_MIN_ROWS || st.distinct === undefined || st.distinct.size === 0 || headerLooksPersonal(name)) return undefined;
  const entries = [...st.distinct];
  // When in doubt, no enum.
  if (entries.some(([v, count]) => count < ENUM_MIN_OCCURRENCES || looksPersonal(v))) return undefined;
  return entries.map(([v]) => v).sort();
}
