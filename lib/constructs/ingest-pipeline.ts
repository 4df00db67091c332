import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LINEAGE_TABLE } from '../../functions/adapters/aws/table-layout.ts';
import type { DataBuckets } from './data-buckets.ts';
import { nodejsBundling } from './pipeline-function.ts';
import type { PipelineTables } from './pipeline-tables.ts';
import type { PrivacyKeys } from './privacy-keys.ts';

const HANDLERS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'functions', 'handlers');

export interface IngestPipelineProps {
  readonly buckets: DataBuckets;
  readonly tables: PipelineTables;
  readonly keys: PrivacyKeys;
  /** Deployment stage, passed to the function for logs and metric dimensions. */
  readonly stage: string;
  /**
   * Concurrent executions reserved for process-upload (also the event source's maximum
   * concurrency, so SQS never hands it more batches than it may run).
   * @default 10
   */
  readonly reservedConcurrency?: number;
  /**
   * Messages per invocation; each is one uploaded file, processed one after the other.
   * @default 4
   */
  readonly batchSize?: number;
  /**
   * Deliveries before a message moves to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Function memory (MiB); CPU scales with it.
   * @default 2048
   */
  readonly memorySize?: number;
  /**
   * Function timeout.
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;
  /**
   * Powertools log level of the function.
   * @default 'INFO'
   */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /**
   * Retention of the function's log group.
   * @default RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The ingest path: ObjectCreated in the ingest bucket → SQS (KMS, TLS only, dead-letter queue
 * with redrive) → process-upload (Node.js 24, arm64, ESM bundle, partial batch failures,
 * reserved concurrency). S3 → SQS rather than a direct invoke gives back-pressure and retries.
 *
 * The function's role is built here with least privilege in one customer-managed policy; it
 * is the only role that may read raw ingest objects and use the token key.
 */
export class IngestPipeline extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly processUpload: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: IngestPipelineProps) {
    super(scope, id);
    const { buckets, tables, keys } = props;
    const timeout = props.timeout ?? Duration.minutes(15);
    const reservedConcurrency = props.reservedConcurrency ?? 10;
    const stack = Stack.of(this);

    this.deadLetterQueue = new sqs.Queue(this, 'UploadDeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: keys.messageKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'UploadQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: keys.messageKey,
      enforceSSL: true,
      // AWS guidance for Lambda event sources: at least six times the function timeout.
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
    buckets.ingest.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(this.queue));

    // Logs are encrypted with the data key: CloudWatch Logs must be allowed to use it.
    keys.allowServiceUse(
      keys.dataKey,
      new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`),
      ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` } },
    );
    this.logGroup = new logs.LogGroup(this, 'ProcessUploadLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: keys.dataKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.role = new iam.Role(this, 'ProcessUploadRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'privacy-pipeline process-upload: reads raw ingest, writes curated/quarantine/aggregates, lineage and budget',
    });
    const policy = new iam.ManagedPolicy(this, 'ProcessUploadPolicy', {
      roles: [this.role],
      statements: processUploadStatements(this, props),
    });
    keys.allowTokenKeyUse(this.role);
    buckets.restrictRawReads(this.role);

    this.processUpload = new nodejs.NodejsFunction(this, 'ProcessUploadFunction', {
      entry: join(HANDLERS, 'process-upload.ts'),
      handler: 'handler',
      description: 'privacy-pipeline: validate, pseudonymise and publish one uploaded file',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 2048,
      timeout,
      reservedConcurrentExecutions: reservedConcurrency,
      // The policy above is the whole grant: constructs must not add to it behind our back.
      role: this.role.withoutPolicyUpdates(),
      logGroup: this.logGroup,
      environment: {
        INGEST_BUCKET_NAME: buckets.ingest.bucketName,
        CURATED_BUCKET_NAME: buckets.curated.bucketName,
        QUARANTINE_BUCKET_NAME: buckets.quarantine.bucketName,
        AGGREGATES_BUCKET_NAME: buckets.aggregates.bucketName,
        LINEAGE_TABLE_NAME: tables.lineage.tableName,
        BUDGET_TABLE_NAME: tables.budget.tableName,
        CONTROL_TABLE_NAME: tables.control.tableName,
        DATA_KEY_ID: keys.dataKey.keyArn,
        TOKEN_KEY_ID: keys.tokenKey.keyArn,
        STAGE: props.stage,
        LOG_LEVEL: props.logLevel ?? 'INFO',
        POWERTOOLS_SERVICE_NAME: 'privacy-pipeline',
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
      // The same bundling as every handler (and as `npm run bench` measures).
      bundling: nodejsBundling(),
    });
    // The event source mapping checks the role's SQS permissions when it is created.
    this.processUpload.node.addDependency(policy);
    this.processUpload.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? 4,
        reportBatchItemFailures: true,
        maxConcurrency: Math.max(2, reservedConcurrency),
      }),
    );
  }
}

/** Namespace of the pipeline's EMF metrics. */
export const METRICS_NAMESPACE = 'PrivacyPipeline';

function processUploadStatements(self: IngestPipeline, props: IngestPipelineProps): iam.PolicyStatement[] {
  const { buckets, tables, keys } = props;
  const outputs = [buckets.curated, buckets.quarantine, buckets.aggregates];
  return [
    new iam.PolicyStatement({
      sid: 'ReadAndTagRawIngest',
      actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObjectTagging', 's3:PutObjectVersionTagging'],
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
    new iam.PolicyStatement({
      sid: 'ReadUploadMessages',
      actions: ['kms:Decrypt'],
      resources: [keys.messageKey.keyArn],
    }),
    new iam.PolicyStatement({
      sid: 'UseTokenKey',
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [keys.tokenKey.keyArn],
    }),
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
      sid: 'Control',
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
      resources: [tables.control.tableArn],
    }),
    new iam.PolicyStatement({
      sid: 'ConsumeUploads',
      actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
      resources: [self.queue.queueArn],
    }),
    new iam.PolicyStatement({
      sid: 'WriteLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [self.logGroup.logGroupArn],
    }),
  ];
}
