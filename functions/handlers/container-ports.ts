/**
 * The AWS ports of a function container, built on the first invocation and reused: the
 * environment is parsed once, SDK clients and the logger are created once. Used by the
 * on-demand handlers (run-query, reidentify, submit-erasure, erase-subject).
 */
import type { Context } from 'aws-lambda';
import { type AwsEnv, type AwsPorts, createAwsPorts, parseAwsEnv, powertoolsLogger } from '../adapters/aws/aws-ports.ts';
import { toCoreLogger } from '../adapters/aws/powertools-logger.ts';

export interface Container {
  readonly env: AwsEnv;
  readonly ports: AwsPorts;
  readonly logger: ReturnType<typeof powertoolsLogger>;
}

let container: Container | undefined;

/** The container's env and ports; adds the invocation's context to the logger when given. */
export function containerPorts(context?: Context): Container {
  if (!container) {
    const env = parseAwsEnv(process.env);
    const logger = powertoolsLogger(env);
    container = { env, logger, ports: createAwsPorts(env, { logger: toCoreLogger(logger) }) };
  }
  if (context) container.logger.addContext(context);
  return container;
}
