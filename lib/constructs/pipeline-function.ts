import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { DataBuckets } from './data-buckets.ts';
import { LAMBDA_ESBUILD_OPTIONS } from './lambda-bundling.ts';
import type { PipelineTables } from './pipeline-tables.ts';
import type { PrivacyKeys } from './privacy-keys.ts';

const HANDLERS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'functions', 'handlers');

export interface PipelineFunctionProps {
  readonly buckets: DataBuckets;
  readonly tables: PipelineTables;
  readonly keys: PrivacyKeys;
  /** File name in functions/handlers, e.g. 'run-query.ts'. */
  readonly handlerFile: string;
  readonly description: string;
  readonly stage: string;
  /** The whole grant of the function (log writes are added). */
  readonly statements: readonly iam.PolicyStatement[];
  /** Registers the role as a user of the pseudonymisation key (its key policy denies everyone else). */
  readonly usesTokenKey?: boolean;
  /** Registers the role as a reader of raw ingest objects and quarantined rows (bucket policies deny everyone else). */
  readonly readsRawData?: boolean;
  /** @default 1024 */
  readonly memorySize?: number;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /** @default 5 */
  readonly reservedConcurrency?: number;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** Errors and throttles of the function notify this topic. */
  readonly alarmTopic: sns.ITopic;
}

/**
 * NodejsFunction bundling of every handler: LAMBDA_ESBUILD_OPTIONS (which `npm run bench`
 * measures), plus a source map without sources for stack traces.
 */
export function nodejsBundling(): nodejs.BundlingOptions {
  const o = LAMBDA_ESBUILD_OPTIONS;
  return {
    format: nodejs.OutputFormat.ESM, // o.format
    target: o.target,
    mainFields: [...o.mainFields],
    banner: o.banner.js,
    externalModules: [...o.external],
    minify: o.minify,
    keepNames: o.keepNames,
    sourceMap: true,
    sourcesContent: false,
  };
}

/**
 * One of the pipeline's on-demand functions (ad-hoc query, re-identification, erasure), built
 * like process-upload: Node.js 24 on arm64, an ESM esbuild bundle, a log group encrypted with the
 * data key, reserved concurrency, and its own role whose only grant is one customer-managed
 * policy (the role is passed `withoutPolicyUpdates`, so no construct adds to it behind our back).
 *
 * Class names are kept in the bundle (`keepNames`): error names are what logs report and what
 * Step Functions' Retry and Catch match, and minification would rename them.
 */
export class PipelineFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly policy: iam.ManagedPolicy;
  readonly logGroup: logs.LogGroup;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    const { buckets, tables, keys } = props;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: keys.dataKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: props.description });
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      roles: [this.role],
      statements: [
        ...props.statements,
        new iam.PolicyStatement({
          sid: 'WriteLogs',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [this.logGroup.logGroupArn],
        }),
      ],
    });
    if (props.usesTokenKey) keys.allowTokenKeyUse(this.role);
    if (props.readsRawData) buckets.restrictRawReads(this.role);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: join(HANDLERS, props.handlerFile),
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.minutes(1),
      reservedConcurrentExecutions: props.reservedConcurrency ?? 5,
      role: this.role.withoutPolicyUpdates(),
      logGroup: this.logGroup,
      environment: {
        INGEST_BUCKET_NAME: buckets.ingest.bucketName,
        CURATED_BUCKET_NAME: buckets.curated.bucketName,
        QUARANTINE_BUCKET_NAME: buckets.quarantine.bucketName,
        AGGREGATES_BUCKET_NAME: buckets.aggregates.bucketName,
        ...tables.environment(),
        DATA_KEY_ID: keys.dataKey.keyArn,
        TOKEN_KEY_ID: keys.tokenKey.keyArn,
        STAGE: props.stage,
        LOG_LEVEL: 'INFO',
        POWERTOOLS_SERVICE_NAME: 'privacy-pipeline',
        POWERTOOLS_METRICS_NAMESPACE: 'PrivacyPipeline',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: nodejsBundling(),
    });
    this.function.node.addDependency(this.policy);

    const notify = new actions.SnsAction(props.alarmTopic);
    const watch = (alarmId: string, alarmDescription: string, metric: cloudwatch.IMetric) => {
      const alarm = new cloudwatch.Alarm(this, alarmId, {
        alarmDescription,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
      this.alarms.push(alarm);
    };
    watch(
      'Errors',
      `${props.handlerFile}: unhandled error or timeout`,
      this.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
    );
    watch(
      'Throttles',
      `${props.handlerFile}: throttled (reserved concurrency reached)`,
      this.function.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
    );
  }

  /**
   * An AWS_IAM Function URL and a customer-managed policy letting only `invokers` call it:
   * lambda:InvokeFunctionUrl (IAM auth type) and lambda:InvokeFunction only through the URL, so a
   * direct Invoke cannot forge the authenticated caller the handler records.
   */
  addIamUrl(invokers: readonly iam.IRole[], policyId = 'InvokePolicy'): lambda.FunctionUrl {
    const url = this.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    new iam.ManagedPolicy(this, policyId, {
      description: `invoke ${this.node.id} through its IAM-authenticated function URL`,
      roles: [...invokers],
      statements: [
        new iam.PolicyStatement({
          sid: 'InvokeThroughUrl',
          actions: ['lambda:InvokeFunctionUrl'],
          resources: [this.function.functionArn],
          conditions: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
        }),
        new iam.PolicyStatement({
          sid: 'InvokeOnlyViaUrl',
          actions: ['lambda:InvokeFunction'],
          resources: [this.function.functionArn],
          conditions: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
        }),
      ],
    });
    return url;
  }
}
