import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as pipes from 'aws-cdk-lib/aws-pipes';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ERASURE_PAYLOAD_PURPOSE } from '../../functions/adapters/aws/dynamodb-erasure-requests.ts';
import { LINEAGE_TABLE } from '../../functions/adapters/aws/table-layout.ts';
import type { DataBuckets } from './data-buckets.ts';
import { PipelineFunction } from './pipeline-function.ts';
import type { PipelineTables } from './pipeline-tables.ts';
import type { PrivacyKeys } from './privacy-keys.ts';

export interface ErasureWorkflowProps {
  readonly buckets: DataBuckets;
  readonly tables: PipelineTables;
  readonly keys: PrivacyKeys;
  readonly stage: string;
  /** The only persona allowed to submit erasure requests. */
  readonly complianceOfficer: iam.IRole;
  /** Alarms on failed erasures and on the starter's dead-letter queue notify this topic. */
  readonly alarmTopic: sns.ITopic;
  /**
   * Requests carried out at once within one execution.
   * @default 4
   */
  readonly maxConcurrency?: number;
  /**
   * New requests gathered into one execution, and how long the starter waits to gather them.
   * @default { size: 10, window: Duration.seconds(30) }
   */
  readonly batching?: { readonly size: number; readonly window: Duration };
}

/** Error names (class names of functions/core/errors.ts) that a later attempt can get past. */
export const RETRYABLE_ERASURE_ERRORS = [
  'TransientError',
  'PreconditionFailedError',
  'InProgressError',
  'ConflictError',
  'Lambda.TooManyRequestsException',
];
const DYNAMODB_TRANSIENT = [
  'DynamoDB.ProvisionedThroughputExceededException',
  'DynamoDB.ThrottlingException',
  'DynamoDB.InternalServerErrorException',
  'DynamoDB.RequestLimitExceeded',
];

/**
 * GDPR erasure on AWS (issue 6 item 1):
 *
 *   ComplianceOfficer ──SigV4──▶ submit-erasure (Function URL, AWS_IAM)
 *        └─▶ ErasureRequests item {status SUBMITTED, identifier sealed by KMS under the data key}
 *   table stream (NEW_IMAGE, status = SUBMITTED) ──▶ EventBridge Pipe (batches up to 10 / 30 s)
 *        └─▶ Step Functions (standard): for each request, at most `maxConcurrency` at once:
 *            MarkRunning (conditional SUBMITTED → RUNNING; a duplicate delivery is skipped)
 *            → EraseSubject (Lambda: eraseSubject with AWS ports; transient errors retried with
 *              backoff and jitter) → RecordCertificate (DONE, certificate summary, sealed
 *              identifier removed) | MarkFailed (FAILED, error class)
 *            → the execution fails when any request failed (alarmed).
 *
 * The execution's input and history hold request ids and certificate summaries only: the
 * identifier stays sealed in the table until the erase function unseals it in memory. The pipe
 * starts the workflow (rather than the submit function calling StartExecution) so the submit
 * path needs no Step Functions permission and requests submitted together run as one batch.
 * Logs go to a log group encrypted with the data key, execution data excluded; X-Ray is on.
 */
export class ErasureWorkflow extends Construct {
  readonly submit: PipelineFunction;
  readonly erase: PipelineFunction;
  readonly submitUrl: lambda.FunctionUrl;
  readonly stateMachine: sfn.StateMachine;
  readonly stateMachineRole: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly starter: pipes.CfnPipe;
  readonly starterRole: iam.Role;
  readonly starterDeadLetterQueue: sqs.Queue;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ErasureWorkflowProps) {
    super(scope, id);
    const { buckets, tables, keys } = props;
    const stack = Stack.of(this);
    const requestsTable = tables.erasureRequests;
    const allBuckets = [buckets.ingest, buckets.curated, buckets.quarantine, buckets.aggregates];

    // ---------------------------------------------------------------- the request endpoint
    this.submit = new PipelineFunction(this, 'SubmitErasure', {
      ...props,
      handlerFile: 'submit-erasure.ts',
      description: 'privacy-pipeline: records GDPR erasure requests (identifier sealed with KMS)',
      memorySize: 512,
      timeout: Duration.seconds(30),
      reservedConcurrency: 2,
      statements: [
        new iam.PolicyStatement({
          sid: 'RecordRequests',
          actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem'],
          resources: [requestsTable.tableArn],
        }),
        new iam.PolicyStatement({
          sid: 'SealIdentifiers',
          actions: ['kms:Encrypt'],
          resources: [keys.dataKey.keyArn],
          conditions: { StringEquals: { 'kms:EncryptionContext:purpose': ERASURE_PAYLOAD_PURPOSE } },
        }),
      ],
    });
    this.submitUrl = this.submit.addIamUrl([props.complianceOfficer], 'ComplianceOfficerInvokePolicy');

    // ---------------------------------------------------------------- the erasure step
    this.erase = new PipelineFunction(this, 'EraseSubject', {
      ...props,
      handlerFile: 'erase-subject.ts',
      description: 'privacy-pipeline: carries out one recorded erasure request (find, forget, verify, certify)',
      memorySize: 2048,
      timeout: Duration.minutes(15),
      reservedConcurrency: props.maxConcurrency ?? 4,
      usesTokenKey: true,
      readsRawData: true,
      statements: [
        new iam.PolicyStatement({
          sid: 'RewriteObjects',
          actions: [
            's3:GetObject',
            's3:GetObjectVersion',
            's3:PutObject',
            's3:DeleteObject',
            's3:DeleteObjectVersion',
            's3:AbortMultipartUpload',
          ],
          resources: allBuckets.map((b) => b.arnForObjects('*')),
        }),
        new iam.PolicyStatement({
          sid: 'TagRewrittenRawObjects',
          actions: ['s3:PutObjectTagging'],
          resources: [buckets.ingest.arnForObjects('*')],
        }),
        new iam.PolicyStatement({
          sid: 'ListVersions',
          actions: ['s3:ListBucket', 's3:ListBucketVersions'],
          resources: allBuckets.map((b) => b.bucketArn),
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
          resources: [tables.lineage.tableArn, ...tables.indexArns(tables.lineage, LINEAGE_TABLE)],
        }),
        new iam.PolicyStatement({
          sid: 'SuppressAndShred',
          actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
          resources: [tables.control.tableArn],
        }),
        new iam.PolicyStatement({ sid: 'ReadRequest', actions: ['dynamodb:GetItem'], resources: [requestsTable.tableArn] }),
      ],
    });

    // ---------------------------------------------------------------- the state machine
    const key = { pk: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.requestId')) };
    const str = (v: string) => tasks.DynamoAttributeValue.fromString(v);
    // Each request ends in its outcome as a plain string, so the tally is one intrinsic call.
    const outcome = (outcomeId: string, value: 'DONE' | 'FAILED' | 'SKIPPED') =>
      new sfn.Pass(this, outcomeId, { result: sfn.Result.fromString(value) });
    const dynamoRetry: sfn.RetryProps = {
      errors: DYNAMODB_TRANSIENT,
      interval: Duration.seconds(2),
      maxAttempts: 5,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    };

    const markRunning = new tasks.DynamoUpdateItem(this, 'MarkRunning', {
      comment: 'SUBMITTED → RUNNING, once: a duplicate delivery of the same request is skipped',
      table: requestsTable,
      key,
      updateExpression: 'SET #s = :running, startedAt = :at, executionArn = :exec',
      conditionExpression: '#s = :submitted',
      expressionAttributeNames: { '#s': 'status' },
      expressionAttributeValues: {
        ':running': str('RUNNING'),
        ':submitted': str('SUBMITTED'),
        ':at': str(sfn.JsonPath.stringAt('$$.State.EnteredTime')),
        ':exec': str(sfn.JsonPath.stringAt('$$.Execution.Id')),
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    markRunning.addRetry(dynamoRetry);
    markRunning.addCatch(outcome('Skipped', 'SKIPPED'), {
      errors: ['DynamoDB.ConditionalCheckFailedException'],
      resultPath: sfn.JsonPath.DISCARD,
    });

    const erase = new tasks.LambdaInvoke(this, 'EraseSubjectStep', {
      comment: 'find, forget, verify and certify one subject (functions/handlers/erase-subject.ts)',
      lambdaFunction: this.erase.function,
      payload: sfn.TaskInput.fromObject({ requestId: sfn.JsonPath.stringAt('$.requestId') }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
      resultPath: '$.certificate',
      taskTimeout: sfn.Timeout.duration(Duration.minutes(16)),
    });
    erase.addRetry({
      errors: RETRYABLE_ERASURE_ERRORS,
      interval: Duration.seconds(30),
      maxAttempts: 6,
      backoffRate: 2,
      maxDelay: Duration.minutes(10),
      jitterStrategy: sfn.JitterType.FULL,
    });
    // A run cut off by the function timeout resumes: erasure is idempotent and the next attempt
    // finds what is left.
    erase.addRetry({ errors: ['Sandbox.Timedout', sfn.Errors.TIMEOUT], interval: Duration.seconds(10), maxAttempts: 2, backoffRate: 1 });

    const recordCertificate = new tasks.DynamoUpdateItem(this, 'RecordCertificate', {
      comment: 'DONE: the certificate summary is kept, the sealed identifier is removed',
      table: requestsTable,
      key,
      updateExpression: 'SET #s = :done, completedAt = :at, certificate = :cert REMOVE payload',
      expressionAttributeNames: { '#s': 'status' },
      expressionAttributeValues: {
        ':done': str('DONE'),
        ':at': str(sfn.JsonPath.stringAt('$$.State.EnteredTime')),
        ':cert': str(sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.certificate'))),
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    recordCertificate.addRetry(dynamoRetry);

    const markFailed = new tasks.DynamoUpdateItem(this, 'MarkFailed', {
      comment: 'FAILED with the error class; the request may be submitted again',
      table: requestsTable,
      key,
      updateExpression: 'SET #s = :failed, failedAt = :at, #e = :error',
      expressionAttributeNames: { '#s': 'status', '#e': 'error' },
      expressionAttributeValues: {
        ':failed': str('FAILED'),
        ':at': str(sfn.JsonPath.stringAt('$$.State.EnteredTime')),
        ':error': str(sfn.JsonPath.stringAt('$.error.Error')),
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    markFailed.addRetry(dynamoRetry);
    erase.addCatch(markFailed.next(outcome('Failed', 'FAILED')), { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    recordCertificate.addCatch(markFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

    const perRequest = markRunning.next(erase).next(recordCertificate).next(outcome('Done', 'DONE'));
    const eachRequest = new sfn.Map(this, 'EachRequest', {
      comment: 'requests of the batch, a few at once',
      itemsPath: '$.requests',
      itemSelector: { 'requestId.$': '$$.Map.Item.Value.requestId' },
      maxConcurrency: props.maxConcurrency ?? 4,
      resultPath: '$.outcomes',
    });
    eachRequest.itemProcessor(perRequest);
    const definition = new sfn.Pass(this, 'Batch', {
      comment: 'the pipe delivers a JSON array of { requestId }',
      parameters: { 'requests.$': '$' },
    })
      .next(eachRequest)
      .next(
        new sfn.Pass(this, 'Tally', {
          parameters: { 'outcomes.$': '$.outcomes', 'requests.$': '$.requests', 'failed.$': "States.ArrayContains($.outcomes, 'FAILED')" },
        }),
      )
      .next(
        new sfn.Choice(this, 'AnyFailed')
          .when(
            sfn.Condition.booleanEquals('$.failed', true),
            new sfn.Fail(this, 'ErasureFailed', {
              error: 'ErasureFailed',
              cause: 'at least one erasure request failed; see the ErasureRequests table',
            }),
          )
          .otherwise(new sfn.Succeed(this, 'AllErased')),
      );

    // Vended-log delivery is granted to the state machine's role; logs are encrypted with the data key.
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: keys.dataKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachineRole = new iam.Role(this, 'StateMachineRole', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: 'privacy-pipeline erasure workflow: runs the erase function and updates erasure requests',
    });
    const smPolicy = new iam.ManagedPolicy(this, 'StateMachinePolicy', {
      roles: [this.stateMachineRole],
      statements: [
        new iam.PolicyStatement({
          sid: 'InvokeErase',
          actions: ['lambda:InvokeFunction'],
          resources: [this.erase.function.functionArn],
        }),
        new iam.PolicyStatement({ sid: 'UpdateRequests', actions: ['dynamodb:UpdateItem'], resources: [requestsTable.tableArn] }),
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
      comment: 'privacy-pipeline: GDPR erasure requests, batched',
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      role: this.stateMachineRole.withoutPolicyUpdates(),
      timeout: Duration.hours(24),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    this.stateMachine.node.addDependency(smPolicy);

    // ---------------------------------------------------------------- the starter
    // The request table's stream (escape hatch: the shared table layout knows no streams).
    const cfnRequests = requestsTable.node.defaultChild as dynamodb.CfnTable;
    cfnRequests.streamSpecification = { streamViewType: 'NEW_IMAGE' };
    const streamArn = cfnRequests.attrStreamArn;
    this.starterDeadLetterQueue = new sqs.Queue(this, 'StarterDeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: keys.messageKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.starterRole = new iam.Role(this, 'StarterRole', {
      assumedBy: new iam.ServicePrincipal('pipes.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: 'privacy-pipeline erasure starter: reads new requests from the table stream, starts the workflow',
    });
    const starterPolicy = new iam.ManagedPolicy(this, 'StarterPolicy', {
      roles: [this.starterRole],
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadRequestStream',
          actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
          resources: [streamArn],
        }),
        // Stream records are encrypted with the table's key.
        new iam.PolicyStatement({ sid: 'DecryptStream', actions: ['kms:Decrypt'], resources: [keys.dataKey.keyArn] }),
        new iam.PolicyStatement({
          sid: 'StartWorkflow',
          actions: ['states:StartExecution'],
          resources: [this.stateMachine.stateMachineArn],
        }),
        new iam.PolicyStatement({ sid: 'DeadLetters', actions: ['sqs:SendMessage'], resources: [this.starterDeadLetterQueue.queueArn] }),
        new iam.PolicyStatement({
          sid: 'DeadLetterEncryption',
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [keys.messageKey.keyArn],
        }),
      ],
    });
    const batching = props.batching ?? { size: 10, window: Duration.seconds(30) };
    this.starter = new pipes.CfnPipe(this, 'Starter', {
      description: 'privacy-pipeline: starts the erasure workflow for submitted requests, in batches',
      roleArn: this.starterRole.roleArn,
      source: streamArn,
      sourceParameters: {
        dynamoDbStreamParameters: {
          startingPosition: 'TRIM_HORIZON',
          batchSize: batching.size,
          maximumBatchingWindowInSeconds: batching.window.toSeconds(),
          maximumRetryAttempts: 10,
          deadLetterConfig: { arn: this.starterDeadLetterQueue.queueArn },
        },
        filterCriteria: {
          filters: [
            { pattern: JSON.stringify({ eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { status: { S: ['SUBMITTED'] } } } }) },
          ],
        },
      },
      target: this.stateMachine.stateMachineArn,
      targetParameters: {
        stepFunctionStateMachineParameters: { invocationType: 'FIRE_AND_FORGET' },
        // Only the key travels: the item's sealed payload stays in the table.
        inputTemplate: '{"requestId": <$.dynamodb.Keys.pk.S>}',
      },
    });
    this.starter.node.addDependency(starterPolicy);

    // ---------------------------------------------------------------- alarms
    const notify = new actions.SnsAction(props.alarmTopic);
    const alarm = (alarmId: string, alarmProps: cloudwatch.AlarmProps) => {
      const a = new cloudwatch.Alarm(this, alarmId, alarmProps);
      a.addAlarmAction(notify);
      a.addOkAction(notify);
      this.alarms.push(a);
    };
    const once = {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    alarm('ExecutionsFailed', {
      alarmDescription: 'An erasure request failed (or the workflow timed out): the request waits for a compliance officer',
      metric: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      ...once,
    });
    alarm('ExecutionsTimedOut', {
      alarmDescription: 'An erasure workflow timed out',
      metric: this.stateMachine.metricTimedOut({ period: Duration.minutes(5), statistic: 'Sum' }),
      ...once,
    });
    alarm('StarterDeadLetters', {
      alarmDescription: 'Submitted erasure requests could not start the workflow (starter dead-letter queue)',
      metric: this.starterDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      ...once,
    });
  }

  /** The functions, for alarms. */
  get functions(): lambda.IFunction[] {
    return [this.submit.function, this.erase.function];
  }
}
