/**
 * The container of the fan-out functions (plan-chunks, process-chunk, merge-chunks): env parsed
 * once, clients and ports created once per container and reused by every invocation.
 */
import { type AwsPorts, createAwsPorts, parseAwsEnv, powertoolsLogger } from '../adapters/aws/aws-ports.ts';
import { toCoreLogger } from '../adapters/aws/powertools-logger.ts';
import { UsageError } from '../core/errors.ts';
import type { FanOutSettings } from './fan-out-steps.ts';

export interface FanOutContainer {
  readonly ports: AwsPorts;
  readonly settings: FanOutSettings;
  readonly logger: ReturnType<typeof powertoolsLogger>;
}

let container: FanOutContainer | undefined;

/** Target chunk size and claim TTL from FAN_OUT_CHUNK_BYTES and FAN_OUT_CLAIM_TTL_MS. */
export function parseFanOutSettings(env: Record<string, string | undefined>): FanOutSettings {
  const int = (name: string, fallback: number, min: number): number => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < min)
      throw new UsageError(`invalid function environment: ${name} must be an integer ≥ ${min}`, { rule: 'environment' });
    return n;
  };
  return {
    targetChunkBytes: int('FAN_OUT_CHUNK_BYTES', 128 * 1024 * 1024, 1024 * 1024),
    claimTtlMs: int('FAN_OUT_CLAIM_TTL_MS', 6 * 60 * 60 * 1000, 60_000),
  };
}

export function fanOutContainer(): FanOutContainer {
  if (!container) {
    const env = parseAwsEnv(process.env);
    const logger = powertoolsLogger(env);
    container = { ports: createAwsPorts(env, { logger: toCoreLogger(logger) }), settings: parseFanOutSettings(process.env), logger };
  }
  return container;
}
