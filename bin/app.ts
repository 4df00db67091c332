/**
 * The CDK app. Settings come from context (cdk.json, `-c key=value`); account and region from
 * the CLI environment. cdk-nag (AwsSolutions + NIST 800-53 rev 5) runs on every synth unless
 * NAG=0; a finding that is not acknowledged in lib/nag-acknowledgements.ts fails the synth.
 */
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { readPipelineSettings } from '../lib/pipeline-settings.ts';
import { PrivacyPipelineStack } from '../lib/privacy-pipeline-stack.ts';

const app = new App();
const settings = readPipelineSettings(app);
const stack = new PrivacyPipelineStack(app, `PrivacyPipeline-${settings.stage}`, {
  settings,
  description: `privacy-pipeline (${settings.stage}): validate, pseudonymise, DP aggregates, lineage, erasure`,
  env: {
    ...(process.env.CDK_DEFAULT_ACCOUNT ? { account: process.env.CDK_DEFAULT_ACCOUNT } : {}),
    ...(process.env.CDK_DEFAULT_REGION ? { region: process.env.CDK_DEFAULT_REGION } : {}),
  },
});
Tags.of(stack).add('project', 'privacy-pipeline');
Tags.of(stack).add('stage', settings.stage);
if (process.env.NAG !== '0') {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app));
}
app.synth();
