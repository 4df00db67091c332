import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { LINEAGE_TABLE } from '../../functions/adapters/aws/table-layout.ts';
import { PERMANENT_ERROR_NAMES } from '../../functions/core/pipeline/wire-error.ts';
import type { DataBuckets } from './data-buckets.ts';
import { PipelineFunction } from './pipeline-function.ts';
import type { PipelineTables } from './pipeline-tables.ts';
import type { PrivacyKeys } from './privacy-keys.ts';

export interface FanOutProps {
  readonly buckets: DataBuckets;
  readonly tables: PipelineTables;
  readonly keys: PrivacyKeys;
  readonly stage: string;
  readonly alarmTopic: sns.ITopic;
  /** Uploads of at least this many bytes start the workflow (cdk.json `fanOutThresholdBytes`); process-upload skips them. */
  readonly thresholdBytes: number;
  /**
   * Target bytes per chunk (a chunk must finish in one 15-minute invocation with margin).
   * @default 128 MiB
   */
  readonly targetChunkBytes?: number;
  /**
   * Chunks processed at once (the Distributed Map's MaxConcurrency, also the chunk function's reserved concurrency).
   * @default 20
   */
  readonly maxConcurrency?: number;
}

/**
 * Uploads of at least `fanOutThresholdBytes` (cdk.json) do not run in one process-upload
 * invocation. The ingest bucket also sends its events to EventBridge; a rule matching
 * `Object Created` with `object.size >= threshold` starts this workflow, and process-upload skips
 * those objects (FAN_OUT_THRESHOLD_BYTES):
 *
 *   PlanChunks (plan-chunks) ── done? ──────────────────────────► Done
 *     │                          (duplicate, rejected, not an upload, or one pass was enough)
 *     ▼
 *   Chunks: Distributed Map over the plan's chunks, one process-chunk invocation each
 *     │      (STANDARD child workflows: a chunk may take up to 15 minutes)
 *     ▼
 *   MergeChunks (merge-chunks): partial states merged, DP noise added once, indexes,
 *     manifest, lineage; a chunk that failed for good (caught inside the map by error name)
 *     makes the merge remove every part and quarantine the file instead.
 *
 * Transient errors are retried with back-off; if they persist the execution fails (alarmed) and
 * can be redriven: the run's idempotency claim outlives it (6 h), and a redriven merge that finds
 * its own lineage record only completes the claim.
 *
 * The same steps run without AWS in test/handlers/fan-out-steps.test.ts.
 */
export class FanOut extends Construct {
  readonly plan: PipelineFunction;
  readonly chunk: PipelineFunction;
  readonly merge: PipelineFunction;
  readonly stateMachine: sfn.StateMachine;
  readonly stateMachineRole: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly trigger: events.Rule;
  /** The role EventBridge starts executions with. */
  readonly triggerRole: iam.Role;

  constructor(scope: Construct, id: string, props: FanOutProps) {
    super(scope, id);
    const { buckets, tables, keys } = props;
    const maxConcurrency = props.maxConcurrency ?? 20;
    const env = {
      FAN_OUT_CHUNK_BYTES: String(props.targetChunkBytes ?? 128 * 1024 * 1024),
      FAN_OUT_CLAIM_TTL_MS: String(6 * 60 * 60 * 1000),
    };
    const common = { buckets, tables, keys, stage: props.stage, alarmTopic: props.alarmTopic, usesTokenKey: true, readsRawData: true };

    this.plan = new PipelineFunction(this, 'Plan', {
      ...common,
      handlerFile: 'plan-chunks.ts',
      description: 'privacy-pipeline fan-out: claim, prepare and cut a large upload into chunks (or run it in one pass)',
      statements: runStatements(props, { writesOutputs: true, commits: true }),
      memorySize: 2048,
      timeout: Duration.minutes(15),
      reservedConcurrency: 5,
    });
    this.chunk = new PipelineFunction(this, 'Chunk', {
      ...common,
      handlerFile: 'process-chunk.ts',
      description: 'privacy-pipeline fan-out: validate, pseudonymise and publish one chunk of a large upload',
      statements: runStatements(props, { writesOutputs: true, commits: false }),
      memorySize: 2048,
      timeout: Duration.minutes(15),
      reservedConcurrency: maxConcurrency,
    });
    this.merge = new PipelineFunction(this, 'Merge', {
      ...common,
      handlerFile: 'merge-chunks.ts',
      description: 'privacy-pipeline fan-out: merge the chunks, release DP aggregates once, commit lineage',
      statements: runStatements(props, { writesOutputs: true, commits: true }),
      memorySize: 2048,
      timeout: Duration.minutes(15),
      reservedConcurrency: 5,
    });
    for (const fn of [this.plan, this.chunk, this.merge]) {
      for (const [k, v] of Object.entries(env)) fn.function.addEnvironment(k, v);
    }

    const transient = [
      'TransientError',
      'PreconditionFailedError',
      'ConflictError',
      'InProgressError',
      'Lambda.ServiceException',
      'Lambda.TooManyRequestsException',
      'Lambda.SdkClientException',
      'Lambda.AWSLambdaException',
    ];
    const retry: sfn.RetryProps = {
      errors: transient,
      interval: Duration.seconds(5),
      maxAttempts: 4,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    };

    const planStep = new tasks.LambdaInvoke(this, 'PlanChunks', {
      lambdaFunction: this.plan.function,
      payload: sfn.TaskInput.fromObject({ 'key.$': '$.object.key', 'versionId.$': '$.object.versionId', 'etag.$': '$.object.etag' }),
      payloadResponseOnly: true,
      resultPath: '$.plan',
      taskTimeout: sfn.Timeout.duration(Duration.minutes(16)),
    });
    planStep.addRetry(retry);

    const chunkStep = new tasks.LambdaInvoke(this, 'ProcessChunk', {
      lambdaFunction: this.chunk.function,
      payloadResponseOnly: true,
      taskTimeout: sfn.Timeout.duration(Duration.minutes(16)),
    });
    chunkStep.addRetry(retry);
    // A chunk that fails for good is an item result, not a map failure: the merge quarantines the file.
    chunkStep.addCatch(
      new sfn.Pass(this, 'ChunkRejected', { parameters: { 'index.$': '$$.Map.Item.Value.index', 'error.$': '$.error' } }),
      { errors: [...PERMANENT_ERROR_NAMES], resultPath: '$.error' },
    );
    const chunks = new sfn.DistributedMap(this, 'Chunks', {
      comment: 'one process-chunk invocation per chunk of the plan',
      itemsPath: '$.plan.chunks',
      itemSelector: { 'planKey.$': '$.plan.planKey', 'index.$': '$$.Map.Item.Value.index' },
      maxConcurrency,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      resultPath: '$.results',
    });
    chunks.itemProcessor(chunkStep);

    const mergeStep = new tasks.LambdaInvoke(this, 'MergeChunks', {
      lambdaFunction: this.merge.function,
      payload: sfn.TaskInput.fromObject({ 'planKey.$': '$.plan.planKey', 'results.$': '$.results' }),
      payloadResponseOnly: true,
      resultPath: '$.outcome',
      taskTimeout: sfn.Timeout.duration(Duration.minutes(16)),
    });
    mergeStep.addRetry(retry);

    const done = new sfn.Succeed(this, 'Done');
    const definition = planStep.next(
      new sfn.Choice(this, 'AlreadyDone')
        .when(sfn.Condition.booleanEquals('$.plan.done', true), done)
        .otherwise(chunks.next(mergeStep).next(new sfn.Succeed(this, 'Merged'))),
    );

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: keys.dataKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.triggerRole = new iam.Role(this, 'TriggerRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: 'privacy-pipeline: EventBridge starts fan-outs of large uploads',
    });
    this.stateMachineRole = new iam.Role(this, 'StateMachineRole', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: 'privacy-pipeline fan-out workflow: runs the plan, chunk and merge functions',
    });
    const stack = Stack.of(this);
    const name = `pp-${props.stage}-fan-out`;
    const arn = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'states', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const stateMachineArn = arn('stateMachine', name);
    const smPolicy = new iam.ManagedPolicy(this, 'StateMachinePolicy', {
      roles: [this.stateMachineRole],
      statements: [
        new iam.PolicyStatement({
          sid: 'InvokeSteps',
          actions: ['lambda:InvokeFunction'],
          resources: [this.plan.function.functionArn, this.chunk.function.functionArn, this.merge.function.functionArn],
        }),
        new iam.PolicyStatement({
          sid: 'RunMapChildren',
          actions: ['states:StartExecution', 'states:DescribeExecution', 'states:StopExecution'],
          // The Distributed Map's child executions: execution:<name>/<map run>:<child>.
          resources: [stateMachineArn, arn('execution', `${name}/*`), arn('execution', `${name}:*`)],
        }),
        new iam.PolicyStatement({
          sid: 'DeliverLogs',
          actions: [
            'logs:CreateLogDelivery',
            'logs:GetLogDelivery',
            'logs:UpdateLogDelivery',
            'logs:DeleteLogDelivery',
            'logs:ListLogDeliveries',
            'logs:PutResourcePolicy',
            'logs:DescribeResourcePolicies',
            'logs:DescribeLogGroups',
          ],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'Tracing',
          actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
          resources: ['*'],
        }),
      ],
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: name,
      comment: 'privacy-pipeline: large uploads in chunks (plan → Distributed Map → merge)',
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      role: this.stateMachineRole.withoutPolicyUpdates(),
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
      timeout: Duration.hours(6),
    });
    this.stateMachine.node.addDependency(smPolicy);
    // CDK adds its own policy for the Distributed Map's child executions; the role's grant is the
    // managed policy above (RunMapChildren), so there is one place to read and review it.
    this.stateMachine.node.tryRemoveChild('DistributedMapPolicy');
    new iam.ManagedPolicy(this, 'TriggerPolicy', {
      roles: [this.triggerRole],
      statements: [
        new iam.PolicyStatement({ sid: 'StartFanOut', actions: ['states:StartExecution'], resources: [this.stateMachine.stateMachineArn] }),
      ],
    });

    // Large uploads: S3 → EventBridge → this workflow (the SQS path skips them).
    buckets.ingest.enableEventBridgeNotification();
    this.trigger = new events.Rule(this, 'LargeUploads', {
      description: `privacy-pipeline: uploads of at least ${props.thresholdBytes} bytes run as a fan-out`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: { bucket: { name: [buckets.ingest.bucketName] }, object: { size: [{ numeric: ['>=', props.thresholdBytes] }] } },
      },
      targets: [
        new targets.SfnStateMachine(this.stateMachine, {
          input: events.RuleTargetInput.fromObject({
            object: {
              key: events.EventField.fromPath('$.detail.object.key'),
              versionId: events.EventField.fromPath('$.detail.object.version-id'),
              etag: events.EventField.fromPath('$.detail.object.etag'),
            },
          }),
          role: this.triggerRole.withoutPolicyUpdates(),
        }),
      ],
    });

    const ack = (s: Construct, nagId: string, reason: string) => Validations.of(s).acknowledge({ id: nagId, reason });
    ack(
      smPolicy,
      'AwsSolutions-IAM5[Resource::*]',
      'CloudWatch Logs vended log delivery and X-Ray trace submission do not support resource-level permissions',
    );
    for (const fn of [this.plan, this.chunk, this.merge]) {
      for (const b of [buckets.ingest, buckets.curated, buckets.quarantine, buckets.aggregates]) {
        ack(
          fn.policy,
          `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(b.node.defaultChild as never)}.Arn>/*]`,
          'the fan-out functions read and write objects under data-driven keys (<dataset>/<runKey>/...) like process-upload; raw reads are fenced by the bucket policy',
        );
      }
      ack(
        fn.function,
        'NIST.800.53.R5-LambdaDLQ',
        'invoked synchronously by Step Functions only: failures return to the workflow, which retries, cleans up and hands the upload to the ingest dead-letter queue',
      );
      ack(
        fn.function,
        'NIST.800.53.R5-LambdaInsideVPC',
        'talks only to S3, DynamoDB and KMS over TLS with IAM authorisation and has no VPC resources',
      );
    }
    // The finding names the resource as cdk-nag renders it: tokens as <AWS::…>, literals as they are.
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    for (const pattern of [`${name}/*`, `${name}:*`]) {
      ack(
        smPolicy,
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${region}:${account}:execution:${pattern}]`,
        'the Distributed Map starts and watches child executions of this state machine only; their names are generated',
      );
    }
  }
}

/** What the plan, chunk and merge functions may do: process-upload's grant, minus queue and tagging. */
function runStatements(props: FanOutProps, opts: { writesOutputs: boolean; commits: boolean }): iam.PolicyStatement[] {
  const { buckets, tables, keys } = props;
  const outputs = [buckets.curated, buckets.quarantine, buckets.aggregates];
  const statements = [
    new iam.PolicyStatement({
      sid: 'ReadRawIngest',
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resources: [buckets.ingest.arnForObjects('*')],
    }),
    new iam.PolicyStatement({
      sid: 'WriteOutputs',
      actions: [
        's3:GetObject',
        's3:GetObjectVersion',
        's3:PutObject',
        's3:DeleteObject',
        's3:DeleteObjectVersion',
        's3:AbortMultipartUpload',
      ],
      resources: outputs.map((b) => b.arnForObjects('*')),
    }),
    new iam.PolicyStatement({
      sid: 'ListBuckets',
      actions: ['s3:ListBucket', 's3:ListBucketVersions'],
      resources: [buckets.ingest, ...outputs].map((b) => b.bucketArn),
    }),
    new iam.PolicyStatement({
      sid: 'UseDataKey',
      actions: ['kms:GenerateDataKey', 'kms:Decrypt', 'kms:Encrypt', 'kms:DescribeKey'],
      resources: [keys.dataKey.keyArn],
    }),
    new iam.PolicyStatement({ sid: 'UseTokenKey', actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [keys.tokenKey.keyArn] }),
    new iam.PolicyStatement({
      sid: 'ReadSuppression',
      actions: ['dynamodb:GetItem', 'dynamodb:Query'],
      resources: [tables.control.tableArn],
    }),
  ];
  if (opts.commits) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'Lineage',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
        resources: [tables.lineage.tableArn, ...tables.indexArns(tables.lineage, LINEAGE_TABLE)],
      }),
      new iam.PolicyStatement({
        sid: 'Budget',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
        resources: [tables.budget.tableArn],
      }),
      new iam.PolicyStatement({
        sid: 'Claims',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [tables.control.tableArn],
      }),
    );
  }
  return statements;
}
