import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { PrivacyPipelineStack } from './privacy-pipeline-stack.ts';

/**
 * Every cdk-nag finding (AwsSolutions, NIST 800-53 rev 5) the stack accepts, on the narrowest
 * construct, with its reason. Anything not listed here fails `cdk synth`.
 */
export function acknowledgeNagFindings(stack: PrivacyPipelineStack): void {
  const ack = (scope: IConstruct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });
  const { buckets, ingest, personas, tables } = stack;
  const objects = (bucket: { node: IConstruct['node'] }, suffix = '/*') =>
    `AwsSolutions-IAM5[Resource::<${logicalIdOf(stack, bucket)}.Arn>${suffix}]`;

  // Object-level grants: keys are data-driven (<dataset>/<runKey>/...), so object ARNs end in /*.
  const pipelinePolicy = ingest.node.findChild('ProcessUploadPolicy');
  for (const b of [buckets.ingest, buckets.curated, buckets.quarantine, buckets.aggregates]) {
    ack(
      pipelinePolicy,
      objects(b),
      'process-upload reads and writes objects under data-driven keys (<dataset>/<runKey>/...) in this bucket only; raw reads are also fenced by the bucket policy and SSE-KMS',
    );
  }
  const engineerPolicy = personas.node.findChild('DataEngineerPolicy');
  ack(
    engineerPolicy,
    objects(buckets.ingest),
    'data engineers drop files under any <dataset>/ prefix: PutObject only, reads of ingest are denied by the bucket policy',
  );
  ack(
    engineerPolicy,
    objects(buckets.quarantine, '/*/_report.json'),
    'only the _report.json objects of any dataset and run; quarantined rows next to them stay denied by the bucket policy',
  );
  const mlPolicy = personas.node.findChild('MlConsumerPolicy');
  ack(mlPolicy, objects(buckets.curated), 'ML consumers read every sanitised dataset; GetObject only');
  ack(mlPolicy, objects(buckets.aggregates), 'ML consumers read every differentially private release; GetObject only');

  // CDK's singleton that writes the bucket notification configuration at deploy time.
  const notificationsHandler = stack.node.children.find((c) => c.node.id.startsWith('BucketNotificationsHandler'));
  if (notificationsHandler) {
    ack(
      notificationsHandler,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'CDK-managed custom resource that only runs during deployments to set the ingest bucket notification; it touches no data',
    );
  }
  ack(
    buckets.ingest.node.findChild('Notifications'),
    'NIST.800.53.R5-IAMNoInlinePolicy',
    'inline policy of the CDK-managed notification custom resource (s3:PutBucketNotification at deploy time only)',
  );

  for (const b of [buckets.accessLogs, buckets.ingest, buckets.curated, buckets.quarantine, buckets.aggregates]) {
    ack(
      b,
      'NIST.800.53.R5-S3BucketReplicationEnabled',
      'single-region by design: replication would copy personal data to a second region (data residency); durability comes from S3, versioning and PITR on the tables',
    );
  }
  ack(
    buckets.accessLogs,
    'NIST.800.53.R5-S3DefaultEncryptionKMS',
    'S3 server access logging cannot deliver to SSE-KMS buckets; the log bucket uses SSE-S3 and holds request metadata, no object contents',
  );

  for (const t of [tables.lineage, tables.budget, tables.control, tables.erasureRequests]) {
    ack(
      t,
      'NIST.800.53.R5-DynamoDBInBackupPlan',
      "point-in-time recovery (35 days) is on; longer-lived AWS Backup copies would keep erased subjects' keys and records beyond the GDPR erasure window",
    );
  }
  ack(
    ingest.processUpload,
    'NIST.800.53.R5-LambdaDLQ',
    "invoked by an SQS event source mapping: failed messages go to the queue's dead-letter queue (alarmed); a function DLQ applies to asynchronous invocations only",
  );
  ack(
    ingest.processUpload,
    'NIST.800.53.R5-LambdaInsideVPC',
    'talks only to S3, DynamoDB and KMS over TLS with IAM authorisation and has no VPC resources; the data perimeter is enforced by key, bucket and IAM policies',
  );
}

/** The CloudFormation logical id of a construct's default resource, as cdk-nag prints it. */
function logicalIdOf(stack: PrivacyPipelineStack, construct: { node: IConstruct['node'] }): string {
  const resource = construct.node.defaultChild;
  if (!resource) throw new Error(`${construct.node.path} has no default resource`);
  return stack.resolve((resource as unknown as { logicalId: string }).logicalId) as string;
}

/** cdk-nag findings of the on-demand endpoints and the erasure workflow, with their reasons. */
export function acknowledgeOnDemandFindings(stack: PrivacyPipelineStack): void {
  const ack = (scope: IConstruct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });
  const { buckets, onDemand, erasure, sweeper } = stack;
  const objects = (bucket: { node: IConstruct['node'] }) => `AwsSolutions-IAM5[Resource::<${logicalIdOf(stack, bucket)}.Arn>/*]`;

  ack(
    onDemand.runQuery.policy,
    objects(buckets.ingest),
    'ad-hoc releases read the retained raw objects of any dataset (<dataset>/...), GetObject only; the bucket policy fences raw reads to registered pipeline roles',
  );
  ack(
    onDemand.runQuery.policy,
    objects(buckets.aggregates),
    'ad-hoc releases are published under data-driven keys (<dataset>/adhoc/<releaseId>.*) in the aggregates bucket only',
  );
  for (const b of [buckets.ingest, buckets.curated, buckets.quarantine, buckets.aggregates]) {
    ack(
      erasure.erase.policy,
      objects(b),
      "erasure finds a subject through lineage and subject indexes anywhere under <dataset>/ and rewrites or deletes those objects' versions; which keys is data-driven",
    );
  }
  ack(
    erasure.node.findChild('StateMachinePolicy'),
    'AwsSolutions-IAM5[Resource::*]',
    'CloudWatch Logs vended log delivery (logs:*LogDelivery, resource policies) and X-Ray trace submission do not support resource-level permissions',
  );
  ack(
    erasure.starterDeadLetterQueue,
    'AwsSolutions-SQS3',
    'this queue is itself the dead-letter queue of the erasure starter pipe (alarmed on depth); a dead-letter queue of a dead-letter queue adds nothing',
  );
  for (const b of [buckets.curated, buckets.quarantine, buckets.aggregates]) {
    ack(
      sweeper.sweeper.policy,
      objects(b),
      'the sweep deletes outputs of runs that never committed, anywhere under <dataset>/<runKey>/; which keys is data-driven (whatever lineage does not list)',
    );
  }
  ack(
    sweeper.sweeper.function,
    'NIST.800.53.R5-LambdaDLQ',
    'invoked by a daily schedule with two retries; a failed sweep alarms (errors) and the next day sweeps the same orphans again, so a dead-letter queue would hold nothing to act on',
  );
  ack(
    sweeper.sweeper.function,
    'NIST.800.53.R5-LambdaInsideVPC',
    'talks only to S3 and DynamoDB over TLS with IAM authorisation and has no VPC resources; the data perimeter is enforced by key, bucket and IAM policies',
  );
  for (const fn of [onDemand.runQuery, onDemand.reidentify, erasure.submit, erasure.erase]) {
    ack(
      fn.function,
      'NIST.800.53.R5-LambdaDLQ',
      'invoked synchronously only (IAM function URL or Step Functions task): failures return to the caller or to the workflow, which retries and records them; a function DLQ applies to asynchronous invocations',
    );
    ack(
      fn.function,
      'NIST.800.53.R5-LambdaInsideVPC',
      'talks only to S3, DynamoDB and KMS over TLS with IAM authorisation and has no VPC resources; the data perimeter is enforced by key, bucket and IAM policies',
    );
  }
}
