/**
 * Lambda handler: plans the chunks of a large upload (fan-out step 1). The logic is in fan-out-steps.ts.
 */
import type { Context } from 'aws-lambda';
import { fanOutContainer } from './fan-out-container.ts';
import { type FanOutInput, type PlanStepResult, planStep } from './fan-out-steps.ts';

export const handler = async (event: FanOutInput, context: Context): Promise<PlanStepResult> => {
  const { ports, settings, logger } = fanOutContainer();
  logger.addContext(context);
  return planStep(ports, settings, event);
};
