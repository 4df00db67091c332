/**
 * Lambda handler (Function URL, AWS_IAM, ComplianceOfficer only): records GDPR erasure requests.
 * Each request is written to the ErasureRequests table with its identifier sealed by KMS (data
 * key, encryption context bound to the request id) and status SUBMITTED; the table's stream
 * starts the erasure workflow (an EventBridge Pipe batches new requests into one Step Functions
 * execution). The identifier is never stored, logged or returned in clear, and the requester is
 * the IAM principal that signed the request.
 *
 *   POST {"identifier":"jane@example.com","type":"email","reason":"Art. 17 request 2026-118"}
 *   POST {"requests":[{…},{…}]}                     (up to 25 at once)
 *   → 202 {"requests":[{"requestId":"20261122T101500Z-…","status":"SUBMITTED","accepted":true}]}
 *
 * Submitting an existing request id again returns its status; a FAILED request is resubmitted.
 */
import type { Context, LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import * as z from 'zod';
import { awsClients } from '../adapters/aws/aws-ports.ts';
import { DynamoDbErasureRequests, sealErasurePayload } from '../adapters/aws/dynamodb-erasure-requests.ts';
import { UsageError } from '../core/errors.ts';
import type { Ports } from '../core/ports.ts';
import { guessIdentifierType, type IdentifierType } from '../core/pseudonymise/token.ts';
import { containerPorts } from './container-ports.ts';
import { handleUrlRequest } from './function-url-request.ts';

const TYPES = ['email', 'phone', 'subject-id', 'card', 'iban', 'name', 'national-id'] as const satisfies readonly IdentifierType[];
/** The request id format erase-subject accepts. */
const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const MAX_REQUESTS_PER_CALL = 25;

const requestSchema = z
  .object({
    identifier: z.string().trim().min(1).max(1024),
    type: z.enum(TYPES).optional(),
    reason: z.string().max(500).optional(),
    region: z
      .string()
      .regex(/^[A-Za-z]{2}$/)
      .optional(),
    requestId: z.string().regex(REQUEST_ID).optional(),
  })
  .strict();

/** One request, or a batch of them. */
export const submitErasureSchema = z.union([
  requestSchema,
  z.object({ requests: z.array(requestSchema).min(1).max(MAX_REQUESTS_PER_CALL) }).strict(),
]);

export interface SubmitErasureDeps {
  readonly ports: Ports;
  readonly requests: DynamoDbErasureRequests;
}

/** Handles one submission with the given ports and request store. */
export function submitErasure(deps: SubmitErasureDeps, event: LambdaFunctionURLEvent): Promise<LambdaFunctionURLResult> {
  const { ports } = deps;
  return handleUrlRequest(event, submitErasureSchema, ports.logger, async ({ body, caller }) => {
    const list = 'requests' in body ? body.requests : [body];
    const at = ports.clock.now();
    const ids = list.map((r) => r.requestId ?? newRequestId(at, ports.random.bytes(6)));
    if (new Set(ids).size !== ids.length) throw new UsageError('request ids must be distinct within a call', { rule: 'request-id' });
    // Check every request before recording any: a batch is accepted or refused as a whole.
    const typed = list.map((r, i) => {
      const type = r.type ?? guessIdentifierType(r.identifier);
      if (!type)
        throw new UsageError(`request ${i + 1}: cannot tell what kind of identifier this is; pass its type`, { rule: 'identifier-type' });
      return { ...r, type };
    });
    const out: { requestId: string; status: string; accepted: boolean }[] = [];
    for (const [i, r] of typed.entries()) {
      const requestId = ids[i] as string;
      const payload = await sealErasurePayload(ports.keys, requestId, {
        identifier: r.identifier,
        type: r.type,
        ...(r.reason !== undefined ? { reason: r.reason } : {}),
        ...(r.region !== undefined ? { region: r.region.toUpperCase() } : {}),
      });
      const outcome = await deps.requests.submit({ requestId, requestedAt: at.toISOString(), requestedBy: caller, payload });
      out.push({ requestId, status: outcome.status, accepted: outcome.accepted });
      ports.logger.info('erasure request recorded', {
        requestId,
        accepted: outcome.accepted,
        status: outcome.status,
        identifierType: r.type,
      });
    }
    return { requests: out };
  }).then((result) => (typeof result === 'object' && result.statusCode === 200 ? { ...result, statusCode: 202 } : result));
}

function newRequestId(at: Date, random: Uint8Array): string {
  return `${at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${Buffer.from(random).toString('hex')}`;
}

let requests: DynamoDbErasureRequests | undefined;

export const handler = async (event: LambdaFunctionURLEvent, context: Context): Promise<LambdaFunctionURLResult> => {
  const { env, ports } = containerPorts(context);
  if (!env.tables.erasure) throw new UsageError('ERASURE_TABLE_NAME is not set', { rule: 'environment' });
  requests ??= new DynamoDbErasureRequests({ doc: awsClients().doc, tableName: env.tables.erasure });
  return submitErasure({ ports, requests }, event);
};
