/**
 * Lambda handler: processes one chunk (fan-out step 2, in the Distributed Map). The logic is in fan-out-steps.ts.
 */
import type { Context } from 'aws-lambda';
import { fanOutContainer } from './fan-out-container.ts';
import { type ChunkStepEvent, type ChunkStepResult, chunkStep } from './fan-out-steps.ts';

export const handler = async (event: ChunkStepEvent, context: Context): Promise<ChunkStepResult> => {
  const { ports, logger } = fanOutContainer();
  logger.addContext(context);
  return chunkStep(ports, event);
};
