/**
 * Sorting AWS SDK v3 failures into the core's error classes. Throttling, server faults and
 * network failures become TransientError (the platform retries); everything else is returned
 * unchanged so the adapter can map the service's own codes (NoSuchKey, ConditionalCheckFailed…).
 */
import { type ErrorContext, KeyError, PrivacyPipelineError, TransientError } from '../../core/errors.ts';

/** Error names AWS services use for throttling, overload and internal failures. */
const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'SlowDown',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'KMSInternalException',
  'DependencyTimeoutException',
  'KeyUnavailableException',
  'TransactionConflictException',
  'TimeoutError',
  'AbortError',
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ECONNABORTED',
]);

interface AwsLikeError {
  readonly name?: string;
  readonly code?: string;
  readonly $fault?: 'client' | 'server';
  readonly $retryable?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** The error's service code (`name` for SDK v3 service exceptions). */
export function awsErrorName(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as AwsLikeError;
    if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
    if (typeof e.code === 'string') return e.code;
  }
  return 'Error';
}

/** HTTP status of a service error, when the SDK recorded one. */
export function awsHttpStatus(err: unknown): number | undefined {
  if (err && typeof err === 'object') return (err as AwsLikeError).$metadata?.httpStatusCode;
  return undefined;
}

/** True for throttling, 5xx, retryable-marked and network errors. */
export function isTransientAwsError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as AwsLikeError;
  const name = awsErrorName(err);
  if (TRANSIENT_NAMES.has(name)) return true;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  return e.$fault === 'server';
}

/**
 * Core errors pass through; transient AWS errors become TransientError (with `cause`); other
 * errors are returned as they are. `what` names the operation ("S3 GetObject"), never a value.
 */
export function mapAwsError(err: unknown, what: string, context: ErrorContext = {}): unknown {
  if (err instanceof PrivacyPipelineError) return err;
  if (isTransientAwsError(err)) {
    return new TransientError(`${what} failed (${awsErrorName(err)}); retry later`, { ...context, rule: 'aws-transient' }, { cause: err });
  }
  return err;
}

/** KMS answers these when the key or ciphertext itself is at fault: retrying cannot help. */
const KMS_KEY_FAULTS = new Set([
  'InvalidCiphertextException',
  'IncorrectKeyException',
  'InvalidKeyUsageException',
  'DisabledException',
  'NotFoundException',
  'KMSInvalidStateException',
  'InvalidArnException',
  'InvalidGrantTokenException',
]);

/**
 * KMS failures: throttling and KMS-side faults → TransientError; a bad ciphertext, a wrong
 * encryption context or an unusable key → KeyError. The message names the operation and the
 * error code only, never key material or ciphertext.
 */
export function mapKmsError(err: unknown, operation: string, context: ErrorContext = {}): unknown {
  if (err instanceof PrivacyPipelineError) return err;
  const name = awsErrorName(err);
  if (KMS_KEY_FAULTS.has(name)) {
    return new KeyError(`KMS ${operation} failed (${name})`, { ...context, rule: 'kms-key' }, { cause: err });
  }
  return mapAwsError(err, `KMS ${operation}`, context);
}
