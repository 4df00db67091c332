/**
 * Errors across thread and process boundaries (worker messages, Lambda results): structured
 * clone and JSON keep neither the class nor `context`, and the pipeline decides on both
 * (permanent → quarantine, transient → retry, ChunkBoundaryError → sequential fallback).
 * Only the class name, message and context cross; messages and contexts never hold cell values.
 */
import {
  ChunkBoundaryError,
  ConflictError,
  ContractError,
  DatasetValidationError,
  InProgressError,
  IntegrityError,
  InvalidFileError,
  KeyError,
  ObjectNotFoundError,
  PreconditionFailedError,
  PrivacyPipelineError,
  SanitisationError,
  TransientError,
  UsageError,
} from '../errors.ts';

/** An error as plain data. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly context?: Readonly<Record<string, unknown>>;
  /** Known for pipeline errors; unknown errors are transient. */
  readonly permanent: boolean;
}

type ErrorClass = new (message: string, context?: Record<string, unknown>) => PrivacyPipelineError;

const CLASSES: Readonly<Record<string, ErrorClass>> = {
  ChunkBoundaryError,
  ConflictError,
  ContractError,
  InProgressError,
  IntegrityError,
  InvalidFileError,
  KeyError,
  ObjectNotFoundError,
  PreconditionFailedError,
  PrivacyPipelineError,
  SanitisationError,
  TransientError,
  UsageError,
  DatasetValidationError: class extends DatasetValidationError {
    constructor(message: string, context?: Record<string, unknown>) {
      super(message, [], context);
    }
  } as unknown as ErrorClass,
};

export function errorToWire(err: unknown): WireError {
  if (err instanceof PrivacyPipelineError) {
    return { name: err.name, message: err.message, context: { ...err.context }, permanent: err.permanent };
  }
  // Foreign errors can quote their input (JSON.parse does): keep only the class name.
  const name = err instanceof Error ? err.name : typeof err;
  return { name, message: `${name} in a chunk processor`, permanent: false };
}

/**
 * The error again, as its own class when it is one of the pipeline's; another permanent pipeline
 * error keeps its name and permanence; anything else becomes a transient error.
 */
export function errorFromWire(w: WireError): Error {
  const Cls = CLASSES[w.name];
  if (Cls) return new Cls(w.message, { ...w.context });
  if (w.permanent) {
    const err = new PrivacyPipelineError(w.message, { ...w.context });
    Object.defineProperty(err, 'name', { value: w.name });
    return err;
  }
  return new TransientError(w.message, { ...w.context, rule: 'chunk-processor-failed', errorClass: w.name });
}

/**
 * Names of the errors that are permanent whatever happens next (the input is at fault): the
 * fan-out workflow catches these inside its map by Lambda error name, and quarantines the file.
 */
export const PERMANENT_ERROR_NAMES: readonly string[] = [
  'InvalidFileError',
  'ContractError',
  'SanitisationError',
  'DatasetValidationError',
  'UsageError',
  'IntegrityError',
  'KeyError',
  'ObjectNotFoundError',
];
