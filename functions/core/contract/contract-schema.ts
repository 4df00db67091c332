/**
 * The dataset contract: what a dataset's files must look like and how its columns are treated.
 * One zod schema is the source of truth; `contractJsonSchema()` exports it for editors.
 */
import * as z from 'zod';

export const ENTITY_TYPES = [
  'EMAIL_ADDRESS',
  'PHONE_NUMBER',
  'CREDIT_CARD',
  'IBAN_CODE',
  'US_SSN',
  'IP_ADDRESS',
  'MAC_ADDRESS',
  'URL',
  'DATE_OF_BIRTH',
  'PERSON',
  'STREET_ADDRESS',
  'POSTCODE',
  'UK_NINO',
  'UK_NHS',
  'ES_NIF',
  'IT_FISCAL_CODE',
  'PL_PESEL',
  'IN_AADHAAR',
  'DE_TAX_ID',
  'AWS_ACCESS_KEY',
  'AWS_SECRET_KEY',
  'PRIVATE_KEY',
  'JWT',
  'API_TOKEN',
  'SUBJECT_ID',
  'AGE',
  'GENDER',
  'COUNTRY',
  'FREE_TEXT',
] as const;

export const OPERATOR_NAMES = ['token', 'encrypt', 'mask', 'redact', 'generalize', 'drop', 'keep'] as const;

export const COLUMN_TYPES = ['string', 'integer', 'number', 'boolean', 'date', 'datetime', 'json'] as const;

const privacySchema = z
  .object({
    entity: z.enum(ENTITY_TYPES).optional().describe('Entity the column holds; overrides detection.'),
    operator: z.enum(OPERATOR_NAMES).optional().describe('Operator applied; overrides the policy.'),
    options: z.record(z.string(), z.unknown()).optional().describe('Operator options, e.g. { keepLast: 4 } or { to: "year" }.'),
    freeText: z.boolean().optional().describe('Detect and replace PII spans inside the values.'),
  })
  .strict();

export const columnContractSchema = z
  .object({
    name: z.string().min(1),
    type: z.enum(COLUMN_TYPES).default('string'),
    required: z.boolean().default(true).describe('The column must be present in the header.'),
    nullable: z.boolean().default(true).describe('Empty values are allowed.'),
    enum: z.array(z.string()).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    minLength: z.number().int().nonnegative().optional(),
    maxLength: z.number().int().positive().optional(),
    pattern: z.string().optional().describe('A regular expression the whole value must match.'),
    format: z.enum(['email', 'date', 'datetime', 'uuid']).optional(),
    unique: z.boolean().default(false),
    quasiIdentifier: z.boolean().optional(),
    privacy: privacySchema.optional(),
  })
  .strict();

export const aggregateQuerySchema = z
  .object({
    id: z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/),
    kind: z.enum(['count', 'sum', 'mean', 'median', 'quantile', 'histogram']),
    column: z.string().optional().describe('Numeric column for sum/mean/median/quantile, categorical for histogram.'),
    by: z.string().optional().describe('Group-by column (categorical).'),
    domain: z.array(z.string()).optional().describe('Declared keys of the group-by column; without it partition selection applies.'),
    bounds: z.tuple([z.number(), z.number()]).optional().describe('Clamping bounds [lower, upper].'),
    quantile: z.number().gt(0).lt(1).optional(),
    epsilon: z.number().positive(),
    delta: z.number().min(0).lt(1).optional(),
    mechanism: z.enum(['laplace', 'gaussian']).default('laplace'),
  })
  .strict();

export const datasetContractSchema = z
  .object({
    $schema: z.string().optional(),
    version: z.number().int().positive().default(1).describe('Version of this contract; bump on change.'),
    dataset: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/),
    description: z.string().optional(),
    columns: z.array(columnContractSchema).min(1),
    allowExtraColumns: z.boolean().default(false),
    subjectKey: z.string().optional().describe('Column that identifies the data subject (erasure, DP privacy unit).'),
    maxInvalidRowShare: z.number().min(0).max(1).default(0.05).describe('Above this share of invalid rows the whole file is quarantined.'),
    defaultRegion: z.string().length(2).optional().describe('ISO country for national phone numbers.'),
    regionColumn: z.string().optional().describe("Column holding each row's ISO country, for phone parsing."),
    quasiIdentifiers: z.array(z.string()).optional(),
    kAnonymity: z
      .object({ k: z.number().int().min(2).default(5), action: z.enum(['report', 'suppress']).default('report') })
      .strict()
      .optional(),
    drift: z
      .object({
        fail: z.boolean().default(false).describe('Quarantine the file when drift is detected.'),
        nullShareDelta: z.number().min(0).max(1).default(0.2),
        meanShiftSigmas: z.number().positive().default(4),
      })
      .strict()
      .optional(),
    privacyBudget: z
      .object({ epsilon: z.number().positive(), delta: z.number().min(0).lt(1).default(0) })
      .strict()
      .optional()
      .describe('Total budget of the dataset. Default: epsilon 10, delta 1e-6.'),
    privacyUnit: z
      .object({
        maxRowsPerSubject: z.number().int().positive().default(1),
        maxPartitionsPerSubject: z.number().int().positive().default(1),
      })
      .strict()
      .optional(),
    aggregates: z.array(aggregateQuerySchema).default([]),
  })
  .strict()
  .superRefine((c, ctx) => {
    const names = new Set<string>();
    c.columns.forEach((col, i) => {
      if (names.has(col.name)) ctx.addIssue({ code: 'custom', path: ['columns', i, 'name'], message: `duplicate column '${col.name}'` });
      names.add(col.name);
    });
    const refs: [string, string | undefined][] = [
      ['subjectKey', c.subjectKey],
      ['regionColumn', c.regionColumn],
      ...(c.quasiIdentifiers ?? []).map((q, i) => [`quasiIdentifiers.${i}`, q] as [string, string]),
      ...c.aggregates.flatMap((a, i) => [
        [`aggregates.${i}.column`, a.column] as [string, string | undefined],
        [`aggregates.${i}.by`, a.by] as [string, string | undefined],
      ]),
    ];
    for (const [path, ref] of refs) {
      if (ref !== undefined && !names.has(ref)) ctx.addIssue({ code: 'custom', path: path.split('.'), message: `unknown column '${ref}'` });
    }
  });

export type ColumnType = (typeof COLUMN_TYPES)[number];
export type ColumnContract = z.infer<typeof columnContractSchema>;
export type AggregateQuery = z.infer<typeof aggregateQuerySchema>;
export type DatasetContract = z.infer<typeof datasetContractSchema>;
/** What a user writes (defaults not yet applied). */
export type DatasetContractInput = z.input<typeof datasetContractSchema>;

export const DEFAULT_PRIVACY_BUDGET = { epsilon: 10, delta: 1e-6 } as const;

/** JSON Schema of the contract, for editors (`privacy-pipeline contract schema`). */
export function contractJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(datasetContractSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
