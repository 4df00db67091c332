/**
 * Lambda handler (EventBridge schedule, daily): deletes orphaned outputs, the objects of runs that
 * never committed, which erasure could not see, through the same `sweepOrphans` the CLI's `sweep`
 * runs. Reports counts as metrics and logs; never a key's contents.
 *
 * Env: SWEEP_GRACE_HOURS (default 24), besides the pipeline's usual variables.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { DEFAULT_SWEEP_GRACE_MS, type SweepReport, sweepOrphans } from '../core/pipeline/sweep-orphans.ts';
import type { Ports } from '../core/ports.ts';
import { containerPorts } from './container-ports.ts';

/** Grace period from the environment: whole hours, at least 1 (runs in flight must be left alone). */
export function graceFromEnv(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.SWEEP_GRACE_HOURS;
  if (raw === undefined || raw === '') return DEFAULT_SWEEP_GRACE_MS;
  const hours = Number(raw);
  if (!Number.isInteger(hours) || hours < 1) throw new Error(`SWEEP_GRACE_HOURS must be a whole number of hours >= 1, got '${raw}'`);
  return hours * 3_600_000;
}

export interface SweepSummary {
  readonly orphansDeleted: number;
  readonly versionsDeleted: number;
  readonly bytesFreed: number;
  readonly unprocessedRaw: number;
  readonly recordIds: readonly string[];
}

/** Runs one sweep with the given ports and reports it (counts only). */
export async function sweep(ports: Ports, olderThanMs: number, metrics?: Metrics): Promise<SweepSummary> {
  const report: SweepReport = await sweepOrphans(ports, { olderThanMs });
  metrics?.addMetric('OrphansDeleted', MetricUnit.Count, report.orphans.length);
  metrics?.addMetric('UnprocessedRawObjects', MetricUnit.Count, report.unprocessedRaw.length);
  if (report.unprocessedRaw.length > 0) {
    ports.logger.warn('raw objects no committed run has read: erasure cannot search them until they are re-driven', {
      objects: report.unprocessedRaw.length,
    });
  }
  return {
    orphansDeleted: report.orphans.length,
    versionsDeleted: report.versionsDeleted,
    bytesFreed: report.bytesFreed,
    unprocessedRaw: report.unprocessedRaw.length,
    recordIds: report.recordIds,
  };
}

export const handler = async (_event: unknown, context: Context): Promise<SweepSummary> => {
  const { env, ports } = containerPorts(context);
  const metrics = new Metrics({ namespace: env.metricsNamespace, serviceName: env.serviceName, defaultDimensions: { stage: env.stage } });
  try {
    return await sweep(ports, graceFromEnv(process.env), metrics);
  } finally {
    metrics.publishStoredMetrics();
  }
};
