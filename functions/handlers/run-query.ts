/**
 * Lambda handler (Function URL, AWS_IAM): an ad-hoc differentially private release over a
 * dataset's ingested data, through the same `runAdhocQuery` the CLI's `query` runs. The release
 * spends privacy budget atomically in the DynamoDB ledger; a request beyond the budget is refused
 * with 409 and nothing is published. Invokable by the MlConsumer persona.
 *
 *   POST {"dataset":"customers","kind":"count","epsilon":0.1}
 *   POST {"dataset":"customers","kind":"mean","column":"age","bounds":[0,120],"epsilon":0.2}
 *   → 200 {"releaseId":…, "value":…, "ci95":[…], "budget":{"remainingEpsilon":…}, …}
 */
import type { Context, LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import * as z from 'zod';
import { runAdhocQuery } from '../core/pipeline/adhoc-query.ts';
import type { Ports } from '../core/ports.ts';
import { containerPorts } from './container-ports.ts';
import { handleUrlRequest } from './function-url-request.ts';

const column = z.string().min(1).max(128);

/** The request body. */
export const runQueryRequestSchema = z
  .object({
    dataset: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/),
    kind: z.enum(['count', 'sum', 'mean', 'median', 'histogram']),
    column: column.optional(),
    by: column.optional(),
    epsilon: z.number().positive().max(10),
    delta: z.number().min(0).lt(1).optional(),
    bounds: z
      .tuple([z.number(), z.number()])
      .refine(([lo, hi]) => lo < hi, 'bounds must be [low, high] with low < high')
      .optional(),
  })
  .strict()
  .refine((q) => (q.kind === 'count' ? q.column === undefined : q.column !== undefined), {
    message: 'count takes no column; sum, mean, median and histogram need one',
    path: ['column'],
  });

export type RunQueryRequest = z.infer<typeof runQueryRequestSchema>;

/** Handles one query request with the given ports. */
export function runQuery(ports: Ports, event: LambdaFunctionURLEvent): Promise<LambdaFunctionURLResult> {
  return handleUrlRequest(event, runQueryRequestSchema, ports.logger, async ({ body, caller }) => {
    const { dataset, ...q } = body;
    const result = await runAdhocQuery(ports, dataset, {
      kind: q.kind,
      epsilon: q.epsilon,
      requestedBy: caller,
      ...(q.column !== undefined ? { column: q.column } : {}),
      ...(q.by !== undefined ? { by: q.by } : {}),
      ...(q.delta !== undefined ? { delta: q.delta } : {}),
      ...(q.bounds !== undefined ? { bounds: q.bounds } : {}),
    });
    ports.logger.info('ad-hoc release', { dataset, releaseId: result.releaseId, kind: q.kind, epsilon: q.epsilon });
    return {
      dataset,
      releaseId: result.releaseId,
      ...result.release,
      budget: { remainingEpsilon: result.spend.remainingEpsilon, remainingDelta: result.spend.remainingDelta },
      outputs: result.outputs.map((o) => ({ bucket: o.bucket, key: o.key })),
    };
  });
}

export const handler = async (event: LambdaFunctionURLEvent, context: Context): Promise<LambdaFunctionURLResult> =>
  runQuery(containerPorts(context).ports, event);
