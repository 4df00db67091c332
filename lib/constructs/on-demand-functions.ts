import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { LINEAGE_TABLE } from '../../functions/adapters/aws/table-layout.ts';
import type { DataBuckets } from './data-buckets.ts';
import { PipelineFunction } from './pipeline-function.ts';
import type { PipelineTables } from './pipeline-tables.ts';
import type { PrivacyKeys } from './privacy-keys.ts';

export interface OnDemandFunctionsProps {
  readonly buckets: DataBuckets;
  readonly tables: PipelineTables;
  readonly keys: PrivacyKeys;
  readonly stage: string;
  /** The persona allowed to make ad-hoc DP releases (MlConsumer). */
  readonly queryInvokers: readonly iam.IRole[];
  /** Function errors and throttles notify this topic. */
  readonly alarmTopic: sns.ITopic;
  /**
   * Who may assume the Reidentifier role.
   * @default the account root, with MFA
   */
  readonly reidentifierTrust?: iam.IPrincipal;
}

/**
 * The on-demand endpoints, each an AWS_IAM Function URL whose handler records the signed caller:
 * - `run-query`: ad-hoc DP releases (functions/handlers/run-query.ts). Invokable by the
 *   MlConsumer persona: the release spends privacy budget, so ML consumers get DP answers over
 *   the raw data without ever reading a row. It reads raw ingest, so it is one of the registered
 *   raw readers and token-key users.
 * - `reidentify`: reverses `encrypt` tokens (functions/handlers/reidentify.ts). Invokable only by
 *   a dedicated `Reidentifier` role, not by ComplianceOfficer: reversing pseudonyms is the most
 *   sensitive power in the system, so it is kept apart from the erasure duties (separation of
 *   duties), requires MFA, lasts one hour per session, and every use is in lineage with the
 *   caller's ARN and the reason. Its function reads no bucket: only the token key, the control
 *   table (the wrapped key and the suppression list of erased subjects) and lineage appends.
 */
export class OnDemandFunctions extends Construct {
  readonly runQuery: PipelineFunction;
  readonly reidentify: PipelineFunction;
  readonly reidentifier: iam.Role;
  readonly runQueryUrl: lambda.FunctionUrl;
  readonly reidentifyUrl: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: OnDemandFunctionsProps) {
    super(scope, id);
    const { buckets, tables, keys } = props;
    const lineageArns = [tables.lineage.tableArn, ...tables.indexArns(tables.lineage, LINEAGE_TABLE)];

    this.runQuery = new PipelineFunction(this, 'RunQuery', {
      ...props,
      handlerFile: 'run-query.ts',
      description: 'privacy-pipeline: ad-hoc differentially private release over a dataset (spends privacy budget)',
      memorySize: 2048,
      timeout: Duration.minutes(5),
      reservedConcurrency: 4,
      usesTokenKey: true,
      readsRawData: true,
      statements: [
        new iam.PolicyStatement({ sid: 'ReadRawIngest', actions: ['s3:GetObject'], resources: [buckets.ingest.arnForObjects('*')] }),
        new iam.PolicyStatement({
          sid: 'PublishReleases',
          actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
          resources: [buckets.aggregates.arnForObjects('*')],
        }),
        new iam.PolicyStatement({
          sid: 'ListBuckets',
          actions: ['s3:ListBucket'],
          resources: [buckets.ingest.bucketArn, buckets.aggregates.bucketArn],
        }),
        new iam.PolicyStatement({
          sid: 'UseDataKey',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
          resources: [keys.dataKey.keyArn],
        }),
        new iam.PolicyStatement({ sid: 'UnwrapTokenSecrets', actions: ['kms:Decrypt'], resources: [keys.tokenKey.keyArn] }),
        new iam.PolicyStatement({
          sid: 'Lineage',
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
          resources: lineageArns,
        }),
        new iam.PolicyStatement({
          sid: 'Budget',
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
          resources: [tables.budget.tableArn],
        }),
        new iam.PolicyStatement({
          sid: 'KeysAndSuppressionList',
          actions: ['dynamodb:GetItem', 'dynamodb:Query'],
          resources: [tables.control.tableArn],
        }),
      ],
    });
    this.runQueryUrl = this.runQuery.addIamUrl(props.queryInvokers);

    const trust = props.reidentifierTrust ?? new iam.AccountRootPrincipal();
    this.reidentifier = new iam.Role(this, 'Reidentifier', {
      assumedBy: new iam.PrincipalWithConditions(trust, { Bool: { 'aws:MultiFactorAuthPresent': 'true' } }),
      description: 'privacy-pipeline: reverses encrypt tokens through the reidentify endpoint (every use recorded in lineage)',
      maxSessionDuration: Duration.hours(1),
    });
    this.reidentify = new PipelineFunction(this, 'Reidentify', {
      ...props,
      handlerFile: 'reidentify.ts',
      description: 'privacy-pipeline: reverses encrypt tokens for the Reidentifier role, audited in lineage',
      memorySize: 512,
      timeout: Duration.seconds(30),
      reservedConcurrency: 2,
      usesTokenKey: true,
      statements: [
        new iam.PolicyStatement({ sid: 'UnwrapTokenSecrets', actions: ['kms:Decrypt'], resources: [keys.tokenKey.keyArn] }),
        new iam.PolicyStatement({
          sid: 'KeysAndSuppressionList',
          actions: ['dynamodb:GetItem', 'dynamodb:Query'],
          resources: [tables.control.tableArn],
        }),
        new iam.PolicyStatement({ sid: 'AppendAuditRecord', actions: ['dynamodb:PutItem'], resources: [tables.lineage.tableArn] }),
      ],
    });
    this.reidentifyUrl = this.reidentify.addIamUrl([this.reidentifier]);
  }

  /** The functions, for alarms. */
  get functions(): lambda.IFunction[] {
    return [this.runQuery.function, this.reidentify.function];
  }
}
