/**
 * Shared vocabulary of the pure core. No AWS, no Lambda, no process.env here.
 */

/** Logical buckets. Adapters map them to physical buckets (S3) or folders (local). */
export type BucketRole = 'ingest' | 'curated' | 'quarantine' | 'aggregates';
export const BUCKET_ROLES: readonly BucketRole[] = ['ingest', 'curated', 'quarantine', 'aggregates'];

/** File formats the pipeline reads and writes. Compression is orthogonal. */
export type DataFormat = 'csv' | 'jsonl' | 'parquet';
export type Compression = 'none' | 'gzip';

/** One cell. CSV cells are strings; JSON Lines and Parquet keep their scalar types. */
export type Cell = string | number | boolean | null;

/** One data row with its 1-based position in the file (data rows, header excluded). */
export interface Row {
  readonly rowNumber: number;
  readonly cells: Cell[];
  /** A structural problem found while decoding (wrong field count, invalid JSON line...). */
  readonly issue?: { readonly rule: string; readonly message: string };
  /** The raw record text, kept only for rows that could not be decoded into cells. */
  readonly raw?: string;
}

/**
 * Entity types, Presidio-style SCREAMING_SNAKE names. `SUBJECT_ID` covers internal identifiers
 * of people (customer_id, patient_id, ...). Quasi-identifiers: POSTCODE, DATE_OF_BIRTH, AGE,
 * GENDER, COUNTRY.
 */
export type EntityType =
  | 'EMAIL_ADDRESS'
  | 'PHONE_NUMBER'
  | 'CREDIT_CARD'
  | 'IBAN_CODE'
  | 'US_SSN'
  | 'IP_ADDRESS'
  | 'MAC_ADDRESS'
  | 'URL'
  | 'DATE_OF_BIRTH'
  | 'PERSON'
  | 'STREET_ADDRESS'
  | 'POSTCODE'
  | 'UK_NINO'
  | 'UK_NHS'
  | 'ES_NIF'
  | 'IT_FISCAL_CODE'
  | 'PL_PESEL'
  | 'IN_AADHAAR'
  | 'DE_TAX_ID'
  | 'AWS_ACCESS_KEY'
  | 'AWS_SECRET_KEY'
  | 'PRIVATE_KEY'
  | 'JWT'
  | 'API_TOKEN'
  | 'SUBJECT_ID'
  | 'AGE'
  | 'GENDER'
  | 'COUNTRY'
  | 'FREE_TEXT';

/**
 * Identifiers that single out one person: validated by a checksum or unique by construction.
 * Header checks, the subject index and the erasure closure all start from this list.
 */
export const UNIQUE_IDENTIFIER_ENTITIES: readonly EntityType[] = [
  'EMAIL_ADDRESS',
  'PHONE_NUMBER',
  'CREDIT_CARD',
  'IBAN_CODE',
  'US_SSN',
  'UK_NINO',
  'UK_NHS',
  'ES_NIF',
  'IT_FISCAL_CODE',
  'PL_PESEL',
  'IN_AADHAAR',
  'DE_TAX_ID',
];

/** Operators a policy can map an entity to. */
export type OperatorName = 'token' | 'encrypt' | 'mask' | 'redact' | 'generalize' | 'drop' | 'keep';

/** A PII span inside a text value. Offsets are UTF-16 code unit offsets, end exclusive. */
export interface Span {
  readonly entity: EntityType;
  readonly start: number;
  readonly end: number;
  readonly score: number;
  /** Which recognizer produced it (for explainability in scan reports). */
  readonly recognizer: string;
}

/** The decision for one column: what it holds and what is done to it. Recorded in lineage. */
export interface ColumnDecision {
  readonly column: string;
  /** Entity found for the whole column, or null when the column holds no PII as a whole. */
  readonly entity: EntityType | null;
  readonly operator: OperatorName;
  /** Operator options, e.g. { keepLast: 4 } for mask, { to: 'year' } for generalize. */
  readonly options?: Readonly<Record<string, unknown>>;
  /** 0..1. */
  readonly confidence: number;
  /** Where the decision came from. */
  readonly source: 'contract' | 'header' | 'content' | 'header+content' | 'default';
  /** True when spans inside the values are detected and replaced one by one. */
  readonly freeText: boolean;
  /** True when this column identifies the data subject (indexed for erasure). */
  readonly identifiesSubject: boolean;
}

export type EncryptionContext = Readonly<Record<string, string>>;

/** A key reference recorded in lineage: ids and versions, never material. */
export interface KeyRef {
  readonly keyId: string;
  readonly version: string;
  readonly purpose: 'data' | 'token-hmac' | 'token-siv' | 'subject';
}
