import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { PERMANENT_ERROR_NAMES } from '../../functions/core/pipeline/wire-error.ts';
import { DEFAULT_SETTINGS } from '../../lib/pipeline-settings.ts';
import { PrivacyPipelineStack } from '../../lib/privacy-pipeline-stack.ts';

/** Bundling is skipped: these tests look at the template, not the code asset. */
function build(threshold: number, env?: { account: string; region: string }) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new PrivacyPipelineStack(app, 'FanOut-test', {
    settings: { ...DEFAULT_SETTINGS, fanOutThresholdBytes: threshold },
    ...(env ? { env } : {}),
  });
  return { app, stack, template: Template.fromStack(stack) };
}

describe('fan-out of large uploads (CDK)', () => {
  let built: ReturnType<typeof build>;
  beforeAll(() => {
    built = build(512 * 1024 * 1024, { account: '111111111111', region: 'eu-west-1' });
  });

  it('starts the workflow from EventBridge for uploads at or above fanOutThresholdBytes, and tells process-upload to skip them', () => {
    const { template, stack } = built;
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: {
          bucket: { name: [{ Ref: stack.getLogicalId(stack.buckets.ingest.node.defaultChild as never) }] },
          object: { size: [{ numeric: ['>=', 536870912] }] },
        },
      },
      Targets: [Match.objectLike({ Arn: { Ref: stack.getLogicalId(stack.fanOut.stateMachine.node.defaultChild as never) } })],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('validate, pseudonymise and publish one uploaded file'),
      Environment: { Variables: Match.objectLike({ FAN_OUT_THRESHOLD_BYTES: '536870912' }) },
    });
  });

  it('plans, maps every chunk (Distributed Map, STANDARD children) and merges; permanent chunk errors are caught inside the map', () => {
    const { template } = built;
    const [machine] = Object.values(
      template.findResources('AWS::StepFunctions::StateMachine', { Properties: { StateMachineName: 'pp-dev-fan-out' } }),
    );
    const body = JSON.stringify((machine as { Properties: { DefinitionString: unknown } }).Properties.DefinitionString);
    // The definition is a Fn::Join of JSON fragments around the function ARNs.
    for (const state of ['PlanChunks', 'AlreadyDone', 'Chunks', 'ProcessChunk', 'ChunkRejected', 'MergeChunks'])
      expect(body).toContain(state);
    expect(body).toContain('\\"Mode\\":\\"DISTRIBUTED\\"');
    expect(body).toContain('\\"ExecutionType\\":\\"STANDARD\\"');
    expect(body).toContain('\\"ItemsPath\\":\\"$.plan.chunks\\"');
    for (const name of PERMANENT_ERROR_NAMES) expect(body).toContain(`\\"${name}\\"`);
  });

  it('runs the three steps as their own functions with the chunk size and a long claim', () => {
    const { template } = built;
    for (const description of ['cut a large upload into chunks', 'publish one chunk of a large upload', 'merge the chunks']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp(description),
        Timeout: 900,
        Environment: {
          Variables: Match.objectLike({ FAN_OUT_CHUNK_BYTES: String(128 * 1024 * 1024), FAN_OUT_CLAIM_TTL_MS: String(6 * 3600 * 1000) }),
        },
      });
    }
  });

  it('has no unacknowledged cdk-nag finding, with or without a fixed environment', () => {
    for (const { app, stack } of [built, build(300 * 1024 * 1024)]) {
      const findings = [new AwsSolutionsChecks(app), new NIST80053R5Checks(app)]
        .flatMap((pack) => pack.validateScope(stack).violations)
        .filter((v) => v.violatingResources.some((r) => r.constructPath?.includes('/FanOut/')))
        .map((v) => v.ruleName);
      expect(findings).toEqual([]);
    }
  });
});
