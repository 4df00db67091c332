/**
 * The core's Logger port on Powertools Logger (JSON lines, one logger per container). Callers
 * pass names, counts and hashes only; this adapter adds nothing of its own.
 */
import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Logger } from '../../core/ports.ts';

/** Adapts a Powertools Logger to the core's Logger port. */
export function toCoreLogger(logger: PowertoolsLogger): Logger {
  const emit =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (fields) logger[level](message, fields);
      else logger[level](message);
    };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
