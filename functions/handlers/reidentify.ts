/**
 * Lambda handler (Function URL, AWS_IAM): reverses `encrypt` tokens for the Reidentifier
 * persona, through the same `reidentify` the CLI runs. The requester recorded in lineage is the
 * IAM principal that signed the request; the audit record is written before any value is
 * returned. The response holds personal data: it is never logged.
 *
 *   POST {"tokens":["ENC_EMAIL_…"],"reason":"Art. 15 request, ticket 4711","dataset":"customers"}
 *   → 200 {"values":[{"token":…,"entity":"EMAIL_ADDRESS","value":…}]}
 */
import type { Context, LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import * as z from 'zod';
import type { Ports } from '../core/ports.ts';
import { MAX_TOKENS, reidentify } from '../core/pseudonymise/reidentify.ts';
import { containerPorts } from './container-ports.ts';
import { handleUrlRequest } from './function-url-request.ts';

/** The request body. The reason's length is checked by the core (refusals are 403, not 400). */
export const reidentifyRequestSchema = z
  .object({
    tokens: z.array(z.string().max(4096)).min(1).max(MAX_TOKENS),
    reason: z.string().max(2000).optional(),
    dataset: z.string().max(63).optional(),
  })
  .strict();

/** Handles one re-identification request with the given ports. */
export function reidentifyRequest(ports: Ports, event: LambdaFunctionURLEvent): Promise<LambdaFunctionURLResult> {
  return handleUrlRequest(event, reidentifyRequestSchema, ports.logger, async ({ body, caller }) => {
    const values = await reidentify(ports, {
      tokens: body.tokens,
      reason: body.reason ?? '',
      requestedBy: caller,
      ...(body.dataset !== undefined ? { dataset: body.dataset } : {}),
    });
    return { values };
  });
}

export const handler = async (event: LambdaFunctionURLEvent, context: Context): Promise<LambdaFunctionURLResult> =>
  reidentifyRequest(containerPorts(context).ports, event);
