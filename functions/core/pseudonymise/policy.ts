/**
 * The privacy policy: which operator each entity type gets. Versioned data; its hash goes into
 * every lineage record so a run can be traced to the exact rules it applied.
 */
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { ENTITY_TYPES, OPERATOR_NAMES } from '../contract/contract-schema.ts';
import { ContractError } from '../errors.ts';
import type { EntityType, OperatorName } from '../types.ts';

/** An operator and its options, e.g. `{ operator: 'mask', options: { keepLast: 4 } }`. */
export interface OperatorSpec {
  readonly operator: OperatorName;
  readonly options?: Readonly<Record<string, unknown>>;
}

/** Maps entity types to operators, with a default for detected entities without an entry. */
export interface Policy {
  readonly version: string;
  readonly entities: Readonly<Partial<Record<EntityType, OperatorSpec>>>;
  readonly default: OperatorSpec;
  /** Hex characters of the HMAC kept in a token. */
  readonly tokenLength: number;
  /** Column decisions below this confidence are not applied (the column is kept). */
  readonly minColumnConfidence: number;
  /** Spans in free text below this score are not replaced. */
  readonly minSpanScore: number;
}

const TOKEN: OperatorSpec = { operator: 'token' };
const REDACT: OperatorSpec = { operator: 'redact' };
const KEEP: OperatorSpec = { operator: 'keep' };

/**
 * Direct identifiers become tokens, credentials are redacted, birth dates are generalised to the
 * year, postcodes to their first 3 characters, ages to 10-year bands; free text keeps its words
 * and gets span tokens; gender and country are kept (quasi-identifiers, see k-anonymity).
 */
export const DEFAULT_POLICY: Policy = deepFreeze({
  version: '2026-11-22.1',
  entities: {
    EMAIL_ADDRESS: TOKEN,
    PHONE_NUMBER: TOKEN,
    CREDIT_CARD: TOKEN,
    IBAN_CODE: TOKEN,
    US_SSN: TOKEN,
    IP_ADDRESS: TOKEN,
    MAC_ADDRESS: TOKEN,
    URL: TOKEN,
    PERSON: TOKEN,
    STREET_ADDRESS: TOKEN,
    UK_NINO: TOKEN,
    UK_NHS: TOKEN,
    ES_NIF: TOKEN,
    IT_FISCAL_CODE: TOKEN,
    PL_PESEL: TOKEN,
    IN_AADHAAR: TOKEN,
    DE_TAX_ID: TOKEN,
    SUBJECT_ID: TOKEN,
    AWS_ACCESS_KEY: REDACT,
    AWS_SECRET_KEY: REDACT,
    PRIVATE_KEY: REDACT,
    JWT: REDACT,
    API_TOKEN: REDACT,
    DATE_OF_BIRTH: { operator: 'generalize', options: { to: 'year' } },
    POSTCODE: { operator: 'generalize', options: { prefix: 3 } },
    AGE: { operator: 'generalize', options: { band: 10 } },
    GENDER: KEEP,
    COUNTRY: KEEP,
    FREE_TEXT: KEEP,
  },
  default: TOKEN,
  tokenLength: 16,
  minColumnConfidence: 0.5,
  minSpanScore: 0.5,
});

// ---------------------------------------------------------------- parsing

const maskOptions = z.object({ keepLast: z.number().int().min(0).max(64).optional(), char: z.string().length(1).optional() }).strict();
const tokenOptions = z
  .object({
    prefix: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9]{0,23}$/)
      .optional(),
    length: z.number().int().min(8).max(64).optional(),
    shape: z.enum(['email']).optional(),
    domain: z
      .string()
      .regex(/^[a-z0-9.-]+\.(invalid|example|test)$/)
      .optional(),
  })
  .strict();
const generalizeOptions = z
  .object({
    to: z.enum(['year', 'month']).optional(),
    band: z.number().int().min(1).max(100).optional(),
    prefix: z.number().int().min(1).max(10).optional(),
  })
  .strict();
const noOptions = z.object({}).strict();

const operatorSpecSchema = z.discriminatedUnion('operator', [
  z.object({ operator: z.literal('token'), options: tokenOptions.optional() }).strict(),
  z.object({ operator: z.literal('encrypt'), options: noOptions.optional() }).strict(),
  z.object({ operator: z.literal('mask'), options: maskOptions.optional() }).strict(),
  z.object({ operator: z.literal('redact'), options: noOptions.optional() }).strict(),
  z.object({ operator: z.literal('generalize'), options: generalizeOptions.optional() }).strict(),
  z.object({ operator: z.literal('drop'), options: noOptions.optional() }).strict(),
  z.object({ operator: z.literal('keep'), options: noOptions.optional() }).strict(),
]);

const policySchema = z
  .object({
    version: z.string().min(1).max(64),
    entities: z.partialRecord(z.enum(ENTITY_TYPES), operatorSpecSchema).optional(),
    default: operatorSpecSchema.optional(),
    tokenLength: z.number().int().min(8).max(64).optional(),
    minColumnConfidence: z.number().min(0).max(1).optional(),
    minSpanScore: z.number().min(0).max(1).optional(),
  })
  .strict();

/** Validates the options of one operator; throws ContractError naming `where`. */
export function validateOperatorSpec(spec: OperatorSpec, where: string): OperatorSpec {
  if (!(OPERATOR_NAMES as readonly string[]).includes(spec.operator)) {
    throw new ContractError(`${where}: unknown operator '${spec.operator}'`, { rule: 'operator' });
  }
  const res = operatorSpecSchema.safeParse(spec.options === undefined ? { operator: spec.operator } : spec);
  if (!res.success) {
    throw new ContractError(`${where}: invalid options for operator '${spec.operator}': ${formatIssues(res.error)}`, {
      rule: 'operator-options',
    });
  }
  return spec;
}

/**
 * Parses a policy written in YAML or JSON. Entity entries are merged over DEFAULT_POLICY's, so a
 * policy only lists what it changes; omitted numbers take the default. Throws ContractError.
 */
export function parsePolicy(text: string, source: string): Policy {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ContractError(`policy ${source}: not valid YAML or JSON`, { file: source, rule: 'syntax' }, { cause: err });
  }
  const res = policySchema.safeParse(raw);
  if (!res.success) {
    throw new ContractError(`policy ${source}: ${formatIssues(res.error)}`, { file: source, rule: 'schema' });
  }
  const p = res.data;
  const entities: Partial<Record<EntityType, OperatorSpec>> = { ...DEFAULT_POLICY.entities };
  for (const [entity, spec] of Object.entries(p.entities ?? {})) {
    if (spec) entities[entity as EntityType] = toSpec(spec);
  }
  return deepFreeze({
    version: p.version,
    entities,
    default: p.default ? toSpec(p.default) : DEFAULT_POLICY.default,
    tokenLength: p.tokenLength ?? DEFAULT_POLICY.tokenLength,
    minColumnConfidence: p.minColumnConfidence ?? DEFAULT_POLICY.minColumnConfidence,
    minSpanScore: p.minSpanScore ?? DEFAULT_POLICY.minSpanScore,
  });
}

/** sha256 hex of the policy's canonical JSON (keys sorted), recorded in lineage. */
export function policyHash(policy: Policy): string {
  return createHash('sha256').update(canonicalJson(policy)).digest('hex');
}

/** The operator spec the policy gives an entity (its entry, else the default). */
export function operatorFor(policy: Policy, entity: EntityType): OperatorSpec {
  return policy.entities[entity] ?? policy.default;
}

function toSpec(spec: { operator: OperatorName; options?: Record<string, unknown> | undefined }): OperatorSpec {
  return spec.options && Object.keys(spec.options).length > 0
    ? { operator: spec.operator, options: spec.options }
    : { operator: spec.operator };
}

function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** JSON with object keys sorted at every level; undefined members omitted. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
