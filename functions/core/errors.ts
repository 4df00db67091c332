/**
 * Errors of the core. Messages name files, rows, columns and rules, never cell values or key
 * material. `permanent` errors quarantine the object and end the run normally; the others are
 * transient and rethrown so the platform retries.
 */

export interface ErrorContext {
  readonly file?: string;
  readonly row?: number;
  readonly column?: string;
  readonly rule?: string;
  readonly [key: string]: unknown;
}

export class PrivacyPipelineError extends Error {
  /** True when retrying cannot help: the input or the request is at fault. */
  readonly permanent: boolean = true;
  readonly context: ErrorContext;
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.context = context;
  }
}

/** The file as a whole cannot be read: encoding, structure, header, compression, limits. */
export class InvalidFileError extends PrivacyPipelineError {}

/** The file parsed but breaks its dataset contract too often (or at file level). */
export class DatasetValidationError extends PrivacyPipelineError {
  readonly issues: readonly RowIssue[];
  constructor(message: string, issues: readonly RowIssue[], context: ErrorContext = {}) {
    super(message, context);
    this.issues = issues;
  }
}

/** One contract violation in one row. `rule` is a stable id such as `enum`, `required`, `range`. */
export interface RowIssue {
  readonly row: number;
  readonly column?: string;
  readonly rule: string;
  readonly message: string;
}

/** The contract file itself is invalid. */
export class ContractError extends PrivacyPipelineError {}

/** Bad CLI or API usage (exit code 2). */
export class UsageError extends PrivacyPipelineError {}

export class ObjectNotFoundError extends PrivacyPipelineError {}

/** A conditional write found a different current object (ETag / version / existence). */
export class PreconditionFailedError extends PrivacyPipelineError {
  override readonly permanent = false;
}

/** A record with that id already exists. */
export class ConflictError extends PrivacyPipelineError {
  override readonly permanent = false;
}

export class PrivacyBudgetExceededError extends PrivacyPipelineError {
  readonly requested: { epsilon: number; delta: number };
  readonly remaining: { epsilon: number; delta: number };
  constructor(dataset: string, requested: { epsilon: number; delta: number }, remaining: { epsilon: number; delta: number }) {
    super(
      `privacy budget of dataset '${dataset}' exceeded: requested epsilon ${requested.epsilon}` +
        (requested.delta ? ` delta ${requested.delta}` : '') +
        `, remaining epsilon ${remaining.epsilon}` +
        (remaining.delta || requested.delta ? ` delta ${remaining.delta}` : ''),
      { dataset },
    );
    this.requested = requested;
    this.remaining = remaining;
  }
}

/** Detection or pseudonymisation failed: the affected data is quarantined, never published raw. */
export class SanitisationError extends PrivacyPipelineError {}

/** Another invocation is processing the same input; retry later. */
export class InProgressError extends PrivacyPipelineError {
  override readonly permanent = false;
}

/** A key could not be used (missing, wrong context, tampered ciphertext). Never carries material. */
export class KeyError extends PrivacyPipelineError {}

/** Ciphertext failed authentication (tampering or wrong context). */
export class IntegrityError extends PrivacyPipelineError {}

/** A dependency is unavailable or throttling; retry. */
export class TransientError extends PrivacyPipelineError {
  override readonly permanent = false;
}

/** An erasure verification pass found the subject still present. */
export class ErasureVerificationError extends PrivacyPipelineError {}

/** Re-identification refused (no reason given, token from another key, shredded subject). */
export class ReidentificationError extends PrivacyPipelineError {}

/** True when the error is one the platform should retry. Unknown errors count as transient. */
export function isTransient(err: unknown): boolean {
  if (err instanceof PrivacyPipelineError) return !err.permanent;
  return true;
}

/**
 * A chunk of a parallel run did not end at a record boundary or held another number of rows
 * than planned: the chunk plan and the decoder disagree, so the run falls back to one
 * sequential pass. Not permanent: if it ever escapes, a retry is right, not a quarantine.
 */
export class ChunkBoundaryError extends PrivacyPipelineError {
  override readonly permanent = false;
}
