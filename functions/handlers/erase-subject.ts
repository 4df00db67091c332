/**
 * Lambda handler, a step of the erasure workflow (Step Functions): carries out one recorded
 * erasure request with the same `eraseSubject` the CLI's `erase` runs. Input `{ requestId }`;
 * the identifier is read from the ErasureRequests table and unsealed with KMS in memory only.
 * Returns a summary of the certificate (the full certificate is in lineage), never the
 * identifier. Raw ingest objects erasure rewrote get the `processed` tag again (a new version
 * carries no tags), so the retention lifecycle rule still expires them.
 *
 * Errors keep their class name, which is what the state machine's Retry/Catch match: transient
 * failures (throttling, conflicting writes, ingest in flight) are thrown as TransientError and
 * retried with backoff; anything else fails the request.
 */
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { awsClients } from '../adapters/aws/aws-ports.ts';
import { DynamoDbErasureRequests, openErasurePayload } from '../adapters/aws/dynamodb-erasure-requests.ts';
import { PROCESSED_TAG } from '../adapters/aws/lifecycle-tags.ts';
import { isTransientAwsError } from '../adapters/aws/map-aws-error.ts';
import { type ErasureCertificate, eraseSubject, erasureRecordId } from '../core/erasure/erase-subject.ts';
import { isTransient, PrivacyPipelineError, TransientError, UsageError } from '../core/errors.ts';
import type { Ports } from '../core/ports.ts';
import { containerPorts } from './container-ports.ts';

export const eraseSubjectInputSchema = z.object({ requestId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/) });

/** What the workflow records in the request item: counts and ids, no identifier. */
export interface CertificateSummary {
  readonly requestId: string;
  readonly lineageRecordId: string;
  readonly at: string;
  readonly identifierType: string;
  readonly datasets: readonly string[];
  readonly objectsRewritten: number;
  readonly rowsRemoved: number;
  readonly spansRedacted: number;
  readonly versionsDeleted: number;
  readonly tokensSuppressed: number;
  readonly subjectKeysShredded: number;
  readonly objectsVerified: number;
  readonly verification: 'passed';
}

export interface EraseSubjectDeps {
  readonly ports: Ports;
  readonly requests: DynamoDbErasureRequests;
  /** Tags a raw object version erasure wrote as processed; failures are logged, not fatal. */
  readonly markProcessed?: (key: string) => Promise<void>;
}

/** Runs one recorded request. */
export async function eraseRecordedRequest(deps: EraseSubjectDeps, input: unknown): Promise<CertificateSummary> {
  const parsed = eraseSubjectInputSchema.safeParse(input);
  if (!parsed.success) throw new UsageError('the input must be { requestId }', { rule: 'erasure-input' });
  const { requestId } = parsed.data;
  try {
    const request = await deps.requests.get(requestId);
    if (!request) throw new UsageError(`erasure request ${requestId} is not recorded`, { requestId, rule: 'erasure-request' });
    if (!request.payload) {
      // DONE requests drop their payload: the certificate in lineage is the answer.
      const recorded = await deps.ports.lineage.get(erasureRecordId(requestId));
      if (!recorded)
        throw new UsageError(`erasure request ${requestId} has no identifier left to erase`, { requestId, rule: 'erasure-request' });
      return summarise(recorded as unknown as ErasureCertificate);
    }
    const payload = await openErasurePayload(deps.ports.keys, requestId, request.payload);
    const certificate = await eraseSubject(deps.ports, {
      identifier: payload.identifier,
      requestId,
      requestedBy: request.requestedBy,
      ...(payload.type !== undefined ? { type: payload.type } : {}),
      ...(payload.reason !== undefined ? { reason: payload.reason } : {}),
      ...(payload.region !== undefined ? { region: payload.region } : {}),
    });
    if (deps.markProcessed) {
      for (const o of certificate.objectsRewritten) {
        if (o.bucket !== 'ingest' || o.action !== 'rewritten') continue;
        await deps.markProcessed(o.key).catch((err: unknown) => {
          deps.ports.logger.warn('could not tag a rewritten raw object as processed; it will not expire', {
            requestId,
            error: err instanceof Error ? err.name : 'Unknown',
          });
        });
      }
    }
    return summarise(certificate);
  } catch (err) {
    deps.ports.logger.error('erasure step failed', {
      requestId,
      error: err instanceof Error ? err.name : 'Unknown',
      transient: isTransient(err),
    });
    // AWS errors that may pass with time are retried under one name the workflow knows; their
    // message is replaced by the class name. Other foreign errors (bugs) fail the request.
    if (!(err instanceof PrivacyPipelineError) && isTransientAwsError(err)) {
      throw new TransientError(`erasure ${requestId}: ${err instanceof Error ? err.name : 'error'}; retry`, {
        requestId,
        rule: 'erasure-transient',
      });
    }
    throw err;
  }
}

function summarise(c: ErasureCertificate): CertificateSummary {
  return {
    requestId: c.requestId,
    lineageRecordId: erasureRecordId(c.requestId),
    at: c.at,
    identifierType: c.identifierType,
    datasets: c.datasets,
    objectsRewritten: c.objectsRewritten.length,
    rowsRemoved: c.rowsRemoved,
    spansRedacted: c.spansRedacted,
    versionsDeleted: c.versionsDeleted,
    tokensSuppressed: c.tokensSuppressed,
    subjectKeysShredded: c.subjectKeysShredded,
    objectsVerified: c.objectsVerified,
    verification: c.verification,
  };
}

let requests: DynamoDbErasureRequests | undefined;

export const handler = async (event: unknown, context: Context): Promise<CertificateSummary> => {
  const { env, ports } = containerPorts(context);
  if (!env.tables.erasure) throw new UsageError('ERASURE_TABLE_NAME is not set', { rule: 'environment' });
  requests ??= new DynamoDbErasureRequests({ doc: awsClients().doc, tableName: env.tables.erasure });
  return eraseRecordedRequest(
    { ports, requests, markProcessed: (key) => ports.objects.putTags('ingest', key, { [PROCESSED_TAG.key]: PROCESSED_TAG.value }) },
    event,
  );
};
