/**
 * Lambda handler: S3 ObjectCreated notifications, delivered through SQS, run through the same
 * `ingestObject` the CLI runs. Permanent problems are handled inside ingestObject (quarantine
 * and lineage; it returns normally); anything it throws that is transient is reported as a
 * batch item failure so SQS redelivers only that message, and after maxReceiveCount the DLQ
 * holds it. Keys are logged as a sha256 prefix: they are not PII by contract, but people put
 * names in file names.
 */
import { createHash } from 'node:crypto';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type AwsPorts, createAwsPorts, parseAwsEnv, powertoolsLogger } from '../adapters/aws/aws-ports.ts';
import { PROCESSED_TAG } from '../adapters/aws/lifecycle-tags.ts';
import { toCoreLogger } from '../adapters/aws/powertools-logger.ts';
import { isTransient, PrivacyPipelineError } from '../core/errors.ts';
import { ingestObject } from '../core/pipeline/ingest-object.ts';
import type { IngestInput, IngestOptions, IngestResult } from '../core/pipeline/ingest-types.ts';
import { datasetFromKey, isReservedKey } from '../core/pipeline/object-keys.ts';
import type { Ports } from '../core/ports.ts';
import { parseS3EventMessage, type UploadedObject } from './parse-s3-event-message.ts';

/** What the handler needs from Powertools Metrics (EMF). */
export interface MetricsSink {
  addMetric(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): unknown;
  publishStoredMetrics(): void;
}

export interface ProcessUploadDeps {
  readonly ports: Ports;
  /** Physical name of the ingest bucket: events from any other bucket are ignored. */
  readonly ingestBucketName: string;
  readonly metrics: MetricsSink;
  /** Marks a raw object as processed (lifecycle expiry); failures are logged, not retried. */
  readonly markProcessed?: (key: string, versionId: string | undefined) => Promise<void>;
  readonly ingest?: (ports: Ports, input: IngestInput, options?: IngestOptions) => Promise<IngestResult>;
  readonly ingestOptions?: IngestOptions;
  /** No new message is started with less time than this left; it is retried instead. @default 60000 */
  readonly reserveMs?: number;
  /**
   * Uploads of at least this many bytes run as a fan-out (lib/constructs/fan-out.ts: EventBridge
   * starts that workflow); this function skips them. Unset: every upload runs here.
   */
  readonly fanOutThresholdBytes?: number;
}

/** A sha256 prefix of an object key, for logs. */
export function keyHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16);
}

type Outcome = 'done' | 'retry';

/** Processes one SQS batch; returns the messages to redeliver. */
export async function processUpload(
  deps: ProcessUploadDeps,
  event: SQSEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<SQSBatchResponse> {
  const { ports, metrics } = deps;
  const log = ports.logger;
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  const reserveMs = deps.reserveMs ?? 60_000;
  try {
    for (const record of event.Records) {
      if (context && context.getRemainingTimeInMillis() < reserveMs) {
        // Not enough time to finish another file: hand it back rather than be cut off mid-write.
        failures.push({ itemIdentifier: record.messageId });
        continue;
      }
      const message = parseS3EventMessage(record.body);
      if (message.kind === 'test-event') {
        log.info('ignoring s3:TestEvent', { messageId: record.messageId });
        continue;
      }
      if (message.kind === 'invalid') {
        // Never silently dropped: it goes back, and after maxReceiveCount to the DLQ for a human.
        log.error('unreadable message', { messageId: record.messageId, reason: message.reason });
        failures.push({ itemIdentifier: record.messageId });
        continue;
      }
      for (const s of message.skipped)
        log.warn('skipping event record', { messageId: record.messageId, eventName: s.eventName, reason: s.reason });
      let outcome: Outcome = 'done';
      for (const object of message.objects) {
        outcome = await processObject(deps, object);
        if (outcome === 'retry') break;
      }
      if (outcome === 'retry') failures.push({ itemIdentifier: record.messageId });
    }
  } finally {
    metrics.publishStoredMetrics();
  }
  return { batchItemFailures: failures };
}

async function processObject(deps: ProcessUploadDeps, object: UploadedObject): Promise<Outcome> {
  const { ports, metrics } = deps;
  const log = ports.logger;
  const hash = keyHash(object.key);
  if (object.bucket !== deps.ingestBucketName) {
    log.warn('skipping an object outside the ingest bucket', { keyHash: hash });
    return 'done';
  }
  if (object.key.endsWith('/')) return 'done'; // a console "folder" marker
  if (isReservedKey(object.key)) {
    log.info('skipping a reserved key (contracts, indexes)', { keyHash: hash });
    return 'done';
  }
  try {
    datasetFromKey(object.key);
  } catch (err) {
    // `../`, absolute paths, no <dataset>/ prefix: permanent, nothing to retry.
    log.warn('skipping an object whose key is not <dataset>/<file>', { keyHash: hash, rule: ruleOf(err) });
    metrics.addMetric('FilesRejected', MetricUnit.Count, 1);
    return 'done';
  }
  if (deps.fanOutThresholdBytes !== undefined && object.size !== undefined && object.size >= deps.fanOutThresholdBytes) {
    log.info('large upload: the fan-out workflow processes it', { keyHash: hash, size: object.size });
    return 'done';
  }
  const input: IngestInput = {
    key: object.key,
    ...(object.versionId ? { versionId: object.versionId } : {}),
    ...(object.etag ? { etag: object.etag } : {}),
  };
  let result: IngestResult;
  try {
    result = await (deps.ingest ?? ingestObject)(deps.ports, input, deps.ingestOptions ?? {});
  } catch (err) {
    const fields = { keyHash: hash, error: errorName(err), rule: ruleOf(err), detail: redact(errorMessage(err), object.key, hash) };
    if (isTransient(err)) {
      log.error('transient failure; the message will be retried', fields);
      metrics.addMetric('TransientFailures', MetricUnit.Count, 1);
      return 'retry';
    }
    log.warn('object rejected', fields);
    metrics.addMetric('FilesRejected', MetricUnit.Count, 1);
    return 'done';
  }
  recordMetrics(metrics, result);
  log.info('object processed', {
    keyHash: hash,
    runId: result.record.id,
    dataset: result.record.dataset,
    status: result.status,
    duplicate: result.duplicate,
  });
  if (deps.markProcessed) {
    await deps.markProcessed(object.key, object.versionId).catch((err: unknown) => {
      log.warn('could not tag the raw object as processed; it will not expire', { keyHash: hash, error: errorName(err) });
    });
  }
  return 'done';
}

function recordMetrics(metrics: MetricsSink, result: IngestResult): void {
  metrics.addMetric('FilesProcessed', MetricUnit.Count, 1);
  if (result.duplicate) {
    metrics.addMetric('Duplicates', MetricUnit.Count, 1);
    return;
  }
  const c = result.record.counts;
  metrics.addMetric('RowsIn', MetricUnit.Count, c.rowsIn);
  metrics.addMetric('RowsPublished', MetricUnit.Count, c.rowsPublished);
  metrics.addMetric('RowsQuarantined', MetricUnit.Count, c.rowsQuarantined);
  metrics.addMetric('RowsSuppressed', MetricUnit.Count, c.rowsSuppressed);
  metrics.addMetric('FilesQuarantined', MetricUnit.Count, result.status === 'QUARANTINED' || result.status === 'FAILED' ? 1 : 0);
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'Unknown';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function ruleOf(err: unknown): string | undefined {
  return err instanceof PrivacyPipelineError && typeof err.context.rule === 'string' ? err.context.rule : undefined;
}

/** Core messages name the file; in logs the key is replaced by its hash. */
function redact(message: string, key: string, hash: string): string {
  return key ? message.split(key).join(`<key ${hash}>`) : message;
}

// ---------------------------------------------------------------- the Lambda entry point

/** FAN_OUT_THRESHOLD_BYTES, when the fan-out workflow is deployed. */
export function fanOutThreshold(env: Record<string, string | undefined>): { fanOutThresholdBytes?: number } {
  const raw = env.FAN_OUT_THRESHOLD_BYTES?.trim();
  const n = raw ? Number(raw) : Number.NaN;
  return Number.isSafeInteger(n) && n > 0 ? { fanOutThresholdBytes: n } : {};
}

interface Container {
  readonly deps: ProcessUploadDeps;
  readonly logger: ReturnType<typeof powertoolsLogger>;
}

let container: Container | undefined;

/** Built on the first invocation, then reused: env parsed once, clients created once. */
function containerDeps(): Container {
  if (!container) {
    const env = parseAwsEnv(process.env);
    const logger = powertoolsLogger(env);
    const ports: AwsPorts = createAwsPorts(env, { logger: toCoreLogger(logger) });
    const metrics = new Metrics({ namespace: env.metricsNamespace, serviceName: env.serviceName, defaultDimensions: { stage: env.stage } });
    container = {
      logger,
      deps: {
        ports,
        ingestBucketName: env.buckets.ingest,
        metrics,
        ...fanOutThreshold(process.env),
        markProcessed: (key, versionId) =>
          ports.objects.putTags('ingest', key, { [PROCESSED_TAG.key]: PROCESSED_TAG.value }, versionId ? { versionId } : undefined),
      },
    };
  }
  return container;
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const { deps, logger } = containerDeps();
  logger.addContext(context);
  return processUpload(deps, event, context);
};
