/**
 * The local Logger: one JSON object per line on stderr (or a given sink), only at or above a
 * level. Quiet by default ('warn') so CLI output stays readable. Callers never pass PII (see
 * the Logger port); this logger adds nothing but level, time and message.
 */
import { UsageError } from '../../core/errors.ts';
import type { Logger } from '../../core/ports.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** True for the accepted level names. */
export function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(RANK, value);
}

/** Logger writing JSON lines at or above `level`. */
export class JsonLinesLogger implements Logger {
  private readonly threshold: number;

  constructor(
    level: LogLevel | string = 'warn',
    private readonly write: (line: string) => void = (line) => {
      process.stderr.write(line);
    },
  ) {
    const normalised = level.toLowerCase();
    if (!isLogLevel(normalised))
      throw new UsageError(`unknown log level '${level}' (use debug, info, warn, error or silent)`, { rule: 'log-level' });
    this.threshold = RANK[normalised];
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.log('debug', message, fields);
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.log('info', message, fields);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.log('warn', message, fields);
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.log('error', message, fields);
  }

  private log(level: Exclude<LogLevel, 'silent'>, message: string, fields: Record<string, unknown> | undefined): void {
    if (RANK[level] < this.threshold) return;
    let line: string;
    try {
      line = JSON.stringify({ level, time: new Date().toISOString(), message, ...fields }, errorsAsObjects);
    } catch {
      // A field that cannot be serialised (cycle, BigInt) must not turn a log call into a crash.
      line = JSON.stringify({ level, time: new Date().toISOString(), message, fieldsDropped: true });
    }
    this.write(`${line}\n`);
  }
}

function errorsAsObjects(_key: string, value: unknown): unknown {
  // Error messages of this project never carry values; stacks stay out of logs.
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}
