/**
 * The shared shape of the pipeline's on-demand endpoints (ad-hoc DP query, re-identification,
 * erasure requests): Lambda Function URLs with AWS_IAM auth. The caller's identity is the IAM
 * principal Lambda authenticated from the SigV4 signature (`requestContext.authorizer.iam`),
 * never a field of the body, so the audit trail cannot be spoofed; persona policies allow
 * `lambda:InvokeFunction` only with `lambda:InvokedViaFunctionUrl`, so a forged event cannot be
 * sent by a direct Invoke.
 *
 * Errors become status codes; bodies name fields and rules, never an input value, and foreign
 * errors are reduced to their class name.
 */
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import type * as z from 'zod';
import { isTransient, PrivacyBudgetExceededError, PrivacyPipelineError, ReidentificationError, UsageError } from '../core/errors.ts';
import type { Logger } from '../core/ports.ts';

/** An authenticated request: the validated body and who sent it. */
export interface UrlRequest<T> {
  readonly body: T;
  /** ARN of the IAM principal that signed the request. */
  readonly caller: string;
}

/** Largest accepted request body. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Runs `action` on a validated, authenticated Function URL request and renders the outcome. */
export async function handleUrlRequest<S extends z.ZodType>(
  event: LambdaFunctionURLEvent,
  schema: S,
  logger: Logger,
  action: (req: UrlRequest<z.infer<S>>) => Promise<unknown>,
): Promise<LambdaFunctionURLResult> {
  const caller = callerOf(event);
  if (!caller) {
    logger.warn('request without an IAM-authenticated caller refused');
    return respond(403, { error: 'Forbidden', message: 'requests must be signed (AWS_IAM function URL)' });
  }
  if (event.requestContext?.http?.method !== undefined && event.requestContext.http.method !== 'POST') {
    return respond(405, { error: 'MethodNotAllowed', message: 'use POST with a JSON body' });
  }
  const text = event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES)
    return respond(413, { error: 'PayloadTooLarge', message: `at most ${MAX_BODY_BYTES} bytes` });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return respond(400, { error: 'BadRequest', message: 'the body is not JSON' });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    // Paths and issue codes only: zod messages for unions and literals can quote the input.
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.code}`);
    return respond(400, { error: 'BadRequest', message: 'invalid request', issues });
  }
  try {
    return respond(200, await action({ body: parsed.data as z.infer<S>, caller }));
  } catch (err) {
    return errorResponse(err, logger);
  }
}

/** The authenticated caller's ARN, or undefined when the request did not come through IAM auth. */
export function callerOf(event: LambdaFunctionURLEvent): string | undefined {
  const ctx = event.requestContext as
    | (LambdaFunctionURLEvent['requestContext'] & { authorizer?: { iam?: { userArn?: unknown } } })
    | undefined;
  const arn = ctx?.authorizer?.iam?.userArn;
  return typeof arn === 'string' && arn.startsWith('arn:') ? arn : undefined;
}

function errorResponse(err: unknown, logger: Logger): LambdaFunctionURLResult {
  const name = err instanceof Error ? err.name : 'Unknown';
  const rule = err instanceof PrivacyPipelineError && typeof err.context.rule === 'string' ? err.context.rule : undefined;
  const fields = { error: name, ...(rule ? { rule } : {}) };
  if (err instanceof PrivacyBudgetExceededError) {
    logger.warn('request refused: privacy budget', fields);
    return respond(409, { error: name, message: err.message, requested: err.requested, remaining: err.remaining });
  }
  if (err instanceof UsageError) return respond(400, { error: name, message: err.message, ...(rule ? { rule } : {}) });
  if (err instanceof ReidentificationError) {
    logger.warn('re-identification refused', fields);
    return respond(403, { error: name, message: err.message, ...(rule ? { rule } : {}) });
  }
  if (err instanceof PrivacyPipelineError && !isTransient(err)) {
    logger.warn('request refused', fields);
    return respond(422, { error: name, message: err.message, ...(rule ? { rule } : {}) });
  }
  if (err instanceof PrivacyPipelineError) {
    logger.error('transient failure', fields);
    return respond(503, { error: name, message: 'temporarily unavailable, retry', ...(rule ? { rule } : {}) });
  }
  // SDK and runtime errors can quote their input: only the class name goes out.
  logger.error('internal error', { error: name });
  return respond(isTransient(err) && /Throttl|Timeout|ServiceUnavailable|TooManyRequests/.test(name) ? 503 : 500, {
    error: 'InternalError',
  });
}

function respond(statusCode: number, body: unknown): LambdaFunctionURLResult {
  return { statusCode, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(body) };
}
