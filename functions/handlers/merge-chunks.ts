/**
 * Lambda handler: merges the chunks of a fan-out, adds DP noise once, writes indexes, releases and
 * the manifest, commits lineage (fan-out step 3). The logic is in fan-out-steps.ts.
 */
import type { Context } from 'aws-lambda';
import { fanOutContainer } from './fan-out-container.ts';
import { type MergeStepEvent, mergeStep } from './fan-out-steps.ts';

export const handler = async (event: MergeStepEvent, context: Context): Promise<{ runId: string; status: string }> => {
  const { ports, settings, logger } = fanOutContainer();
  logger.addContext(context);
  return mergeStep(ports, settings, event);
};
