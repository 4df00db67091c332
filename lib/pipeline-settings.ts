/**
 * Stage and settings of a deployment, read once from CDK context (cdk.json or `-c key=value`).
 * No account or region is hard-coded anywhere: they come from the CLI environment.
 */
import type { Construct } from 'constructs';

export interface PipelineSettings {
  /** Deployment stage, e.g. dev or prod; part of the stack name and the metrics dimensions. */
  readonly stage: string;
  /** Days a processed raw ingest object is kept before it expires. */
  readonly rawRetentionDays: number;
  /** Days a quarantined object is kept. */
  readonly quarantineRetentionDays: number;
  /** Days a noncurrent object version is kept before it is removed for good. */
  readonly noncurrentVersionRetentionDays: number;
  /** Uploads of at least this size fan out over chunks (lib/constructs/fan-out.ts: Distributed Map). */
  readonly fanOutThresholdBytes: number;
  /** Reserved concurrency of the process-upload function. */
  readonly processUploadReservedConcurrency: number;
  /** Address that receives alarm notifications; empty for none. */
  readonly alarmEmail: string;
}

export const DEFAULT_SETTINGS: PipelineSettings = {
  stage: 'dev',
  rawRetentionDays: 30,
  quarantineRetentionDays: 30,
  noncurrentVersionRetentionDays: 1,
  fanOutThresholdBytes: 256 * 1024 * 1024,
  processUploadReservedConcurrency: 10,
  alarmEmail: '',
};

const STAGE = /^[a-z][a-z0-9-]{0,19}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Reads and checks every setting; one error names every bad key. */
export function readPipelineSettings(scope: Construct): PipelineSettings {
  const problems: string[] = [];
  const ctx = (key: keyof PipelineSettings): unknown => scope.node.tryGetContext(key);
  const int = (key: keyof PipelineSettings, min: number, max: number): number => {
    const raw = ctx(key);
    if (raw === undefined || raw === '') return DEFAULT_SETTINGS[key] as number;
    const n = typeof raw === 'number' ? raw : Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${key} must be an integer from ${min} to ${max}`);
      return DEFAULT_SETTINGS[key] as number;
    }
    return n;
  };
  const stage = String(ctx('stage') ?? DEFAULT_SETTINGS.stage);
  if (!STAGE.test(stage)) problems.push(`stage must match ${STAGE.source}`);
  const alarmEmail = String(ctx('alarmEmail') ?? '').trim();
  if (alarmEmail && !EMAIL.test(alarmEmail)) problems.push('alarmEmail must be an email address or empty');
  const settings: PipelineSettings = {
    stage,
    rawRetentionDays: int('rawRetentionDays', 1, 3650),
    quarantineRetentionDays: int('quarantineRetentionDays', 1, 3650),
    noncurrentVersionRetentionDays: int('noncurrentVersionRetentionDays', 1, 365),
    fanOutThresholdBytes: int('fanOutThresholdBytes', 1024 * 1024, Number.MAX_SAFE_INTEGER),
    processUploadReservedConcurrency: int('processUploadReservedConcurrency', 1, 1000),
    alarmEmail,
  };
  if (problems.length > 0) throw new Error(`invalid CDK context: ${problems.join('; ')}`);
  return Object.freeze(settings);
}
