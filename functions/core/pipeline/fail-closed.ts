/**
 * Detection and pseudonymisation are pure computations: an unexpected error there (a recognizer
 * or operator bug, an option no operator can honour) fails the same way on every retry. Left as
 * an unknown error it would count as transient and be retried until the dead-letter queue; as a
 * SanitisationError the file is quarantined with a reason, and nothing is published as it came.
 */
import { PrivacyPipelineError, SanitisationError } from '../errors.ts';

/** Runs a detection or pseudonymisation step; a foreign error becomes a permanent SanitisationError. */
export function failClosed<T>(step: 'detection' | 'pseudonymisation', file: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof PrivacyPipelineError) throw err;
    // The foreign message is left out: it may quote the value being processed.
    const name = err instanceof Error ? err.name : typeof err;
    throw new SanitisationError(
      `${file}: ${step} failed (${name}); the file is not published [rule ${step}-failed]`,
      {
        file,
        rule: `${step}-failed`,
      },
      { cause: err },
    );
  }
}
