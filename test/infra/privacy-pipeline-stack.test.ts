import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROCESSED_TAG } from '../../functions/adapters/aws/lifecycle-tags.ts';
import { TABLES } from '../../functions/adapters/aws/table-layout.ts';
import { DEFAULT_SETTINGS, type PipelineSettings, readPipelineSettings } from '../../lib/pipeline-settings.ts';
import { PrivacyPipelineStack } from '../../lib/privacy-pipeline-stack.ts';

const ENV = { account: '111111111111', region: 'eu-west-1' };

/** Bundling is skipped: these tests look at the template, not the code asset. */
function build(settings: Partial<PipelineSettings> = {}, env: typeof ENV | 'agnostic' = ENV) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new PrivacyPipelineStack(app, 'PrivacyPipeline-test', {
    settings: { ...DEFAULT_SETTINGS, ...settings },
    ...(env === 'agnostic' ? {} : { env }),
  });
  return { app, stack, template: Template.fromStack(stack) };
}

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };
type Resources = Record<string, Resource>;

/** A resource that must exist. */
function must(resource: Resource | undefined): Resource {
  if (!resource) throw new Error('resource not found');
  return resource;
}

describe('PrivacyPipelineStack', () => {
  let stack: PrivacyPipelineStack;
  let app: App;
  let template: Template;
  let resources: Resources;
  const id = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);

  beforeAll(() => {
    ({ app, stack, template } = build({
      processUploadReservedConcurrency: 7,
      rawRetentionDays: 14,
      quarantineRetentionDays: 60,
      noncurrentVersionRetentionDays: 3,
    }));
    resources = template.toJSON().Resources as Resources;
  });

  describe('KMS', () => {
    it('has three customer-managed keys, all rotated', () => {
      template.resourceCountIs('AWS::KMS::Key', 3);
      template.allResourcesProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      template.allResources('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
    });

    it('lets only the pipeline function use the pseudonymisation key', () => {
      const tokenKey = resources[id(stack.keys.tokenKey)];
      const statements = (must(tokenKey).Properties.KeyPolicy as { Statement: Record<string, unknown>[] }).Statement;
      const deny = statements.find((s) => s.Effect === 'Deny');
      expect(deny).toMatchObject({
        Principal: { AWS: '*' },
        Action: expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey', 'kms:Encrypt', 'kms:ReEncrypt*']),
        // process-upload, the on-demand functions that need tokens (ad-hoc queries, re-identification,
        // erasure), and the fan-out's plan, chunk and merge functions.
        Condition: {
          ArnNotEquals: {
            'aws:PrincipalArn': [
              stack.ingest.role,
              stack.onDemand.runQuery.role,
              stack.onDemand.reidentify.role,
              stack.erasure.erase.role,
              stack.fanOut.plan.role,
              stack.fanOut.chunk.role,
              stack.fanOut.merge.role,
            ].map((r) => ({
              'Fn::GetAtt': [id(r), 'Arn'],
            })),
          },
        },
      });
      // Near miss: the data key has no such fence (S3 and DynamoDB use it on behalf of callers).
      const dataKey = resources[id(stack.keys.dataKey)];
      expect(JSON.stringify(dataKey?.Properties.KeyPolicy)).not.toContain('Deny');
    });
  });

  describe('S3', () => {
    const dataBuckets = () => [stack.buckets.ingest, stack.buckets.curated, stack.buckets.quarantine, stack.buckets.aggregates];

    it('encrypts every data bucket with the data key and a bucket key; logs to the access-log bucket', () => {
      for (const b of dataBuckets()) {
        expect(resources[id(b)]?.Properties).toMatchObject({
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              {
                BucketKeyEnabled: true,
                ServerSideEncryptionByDefault: {
                  SSEAlgorithm: 'aws:kms',
                  KMSMasterKeyID: { 'Fn::GetAtt': [id(stack.keys.dataKey), 'Arn'] },
                },
              },
            ],
          },
          LoggingConfiguration: { DestinationBucketName: { Ref: id(stack.buckets.accessLogs) } },
        });
      }
    });

    it('blocks public access, versions, enforces bucket-owner ownership on all five buckets', () => {
      template.resourceCountIs('AWS::S3::Bucket', 5);
      template.allResourcesProperties('AWS::S3::Bucket', {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        VersioningConfiguration: { Status: 'Enabled' },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      });
    });

    it('denies non-TLS and TLS < 1.2 access on every bucket', () => {
      const policies = Object.values(resources).filter((r) => r.Type === 'AWS::S3::BucketPolicy');
      expect(policies).toHaveLength(5);
      for (const p of policies) {
        const statements = (p.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
        expect(statements).toContainEqual(
          expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        );
        expect(statements).toContainEqual(
          expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        );
      }
    });

    it('expires processed raw objects, quarantine, old versions — with the settings from context', () => {
      const rules = (b: s3.Bucket) =>
        (must(resources[id(b)]).Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
      expect(rules(stack.buckets.ingest)).toContainEqual(
        expect.objectContaining({
          Id: 'ExpireProcessedRawObjects',
          ExpirationInDays: 14,
          TagFilters: [{ Key: PROCESSED_TAG.key, Value: PROCESSED_TAG.value }],
          Status: 'Enabled',
        }),
      );
      expect(rules(stack.buckets.quarantine)).toContainEqual(expect.objectContaining({ Id: 'ExpireQuarantine', ExpirationInDays: 60 }));
      for (const b of dataBuckets()) {
        expect(rules(b)).toContainEqual(
          expect.objectContaining({
            NoncurrentVersionExpiration: { NoncurrentDays: 3 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          }),
        );
      }
      // Near misses: curated data and aggregates never expire; contracts (untagged) never expire.
      for (const b of [stack.buckets.curated, stack.buckets.aggregates]) expect(rules(b).some((r) => 'ExpirationInDays' in r)).toBe(false);
      expect(rules(stack.buckets.ingest).filter((r) => 'ExpirationInDays' in r)).toHaveLength(1);
    });

    it('denies raw ingest and quarantined-row reads to everyone but the pipeline role', () => {
      const policyOf = (b: s3.Bucket) =>
        Object.values(resources).find(
          (r) => r.Type === 'AWS::S3::BucketPolicy' && JSON.stringify(r.Properties.Bucket) === JSON.stringify({ Ref: id(b) }),
        );
      // process-upload, ad-hoc queries (they read raw rows), erasure (it rewrites them) and the fan-out
      // functions (they read raw chunks); not re-identification or submission.
      const fence = {
        'aws:PrincipalArn': [
          stack.ingest.role,
          stack.onDemand.runQuery.role,
          stack.erasure.erase.role,
          stack.fanOut.plan.role,
          stack.fanOut.chunk.role,
          stack.fanOut.merge.role,
        ].map((r) => ({
          'Fn::GetAtt': [id(r), 'Arn'],
        })),
      };
      const ingest = (must(policyOf(stack.buckets.ingest)).Properties.PolicyDocument as { Statement: unknown[] }).Statement;
      expect(ingest).toContainEqual(
        expect.objectContaining({
          Sid: 'OnlyThePipelineReadsRawIngest',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: ['s3:GetObject', 's3:GetObjectVersion'],
          Condition: { ArnNotEquals: fence },
        }),
      );
      const quarantine = (must(policyOf(stack.buckets.quarantine)).Properties.PolicyDocument as { Statement: unknown[] }).Statement;
      expect(quarantine).toContainEqual(
        expect.objectContaining({
          Sid: 'OnlyThePipelineReadsQuarantinedRows',
          Effect: 'Deny',
          NotResource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id(stack.buckets.quarantine), 'Arn'] }, '/*/_report.json']] },
          Condition: { ArnNotEquals: fence },
        }),
      );
      // Near miss: curated data is readable by its grantees (no deny).
      expect(JSON.stringify(policyOf(stack.buckets.curated)?.Properties)).not.toContain('ArnNotEquals');
    });

    it('sends ObjectCreated events of the ingest bucket to the upload queue', () => {
      template.hasResourceProperties('Custom::S3BucketNotifications', {
        BucketName: { Ref: id(stack.buckets.ingest) },
        NotificationConfiguration: {
          QueueConfigurations: [{ Events: ['s3:ObjectCreated:*'], QueueArn: { 'Fn::GetAtt': [id(stack.ingest.queue), 'Arn'] } }],
        },
      });
    });
  });

  describe('DynamoDB', () => {
    it('builds each table from the shared layout, with PITR, the data key and deletion protection', () => {
      template.resourceCountIs('AWS::DynamoDB::Table', TABLES.length);
      const tables = {
        LineageTable: stack.tables.lineage,
        BudgetTable: stack.tables.budget,
        ControlTable: stack.tables.control,
        ErasureRequestsTable: stack.tables.erasureRequests,
      };
      for (const def of TABLES) {
        const props = resources[id(tables[def.id])]?.Properties ?? {};
        expect(props.KeySchema).toEqual([
          { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
          ...(def.sortKey ? [{ AttributeName: def.sortKey.name, KeyType: 'RANGE' }] : []),
        ]);
        expect(((props.GlobalSecondaryIndexes as { IndexName: string }[] | undefined) ?? []).map((g) => g.IndexName)).toEqual(
          def.globalSecondaryIndexes.map((g) => g.indexName),
        );
        expect(props).toMatchObject({
          BillingMode: 'PAY_PER_REQUEST',
          SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [id(stack.keys.dataKey), 'Arn'] } },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        });
        expect(props.TimeToLiveSpecification).toEqual(
          def.timeToLiveAttribute ? { AttributeName: def.timeToLiveAttribute, Enabled: true } : undefined,
        );
      }
      template.allResources('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
    });
  });

  describe('ingest path', () => {
    it('encrypts both queues, redrives to the DLQ and allows TLS only', () => {
      expect(resources[id(stack.ingest.queue)]?.Properties).toMatchObject({
        KmsMasterKeyId: { 'Fn::GetAtt': [id(stack.keys.messageKey), 'Arn'] },
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [id(stack.ingest.deadLetterQueue), 'Arn'] }, maxReceiveCount: 5 },
        VisibilityTimeout: 5400,
      });
      expect(resources[id(stack.ingest.deadLetterQueue)]?.Properties).toMatchObject({
        KmsMasterKeyId: { 'Fn::GetAtt': [id(stack.keys.messageKey), 'Arn'] },
        MessageRetentionPeriod: 1209600,
      });
      // The upload queue, its DLQ, and the erasure starter's DLQ.
      template.resourceCountIs('AWS::SQS::QueuePolicy', 3);
      template.allResourcesProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    });

    it('runs process-upload on the current Node.js runtime, arm64, with reserved concurrency from context', () => {
      expect(resources[id(stack.ingest.processUpload)]?.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 2048,
        Timeout: 900,
        ReservedConcurrentExecutions: 7,
        Handler: 'index.handler',
        LoggingConfig: { LogGroup: { Ref: id(stack.ingest.logGroup) } },
        Environment: {
          Variables: expect.objectContaining({
            INGEST_BUCKET_NAME: { Ref: id(stack.buckets.ingest) },
            CONTROL_TABLE_NAME: { Ref: id(stack.tables.control) },
            DATA_KEY_ID: { 'Fn::GetAtt': [id(stack.keys.dataKey), 'Arn'] },
            TOKEN_KEY_ID: { 'Fn::GetAtt': [id(stack.keys.tokenKey), 'Arn'] },
          }),
        },
      });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [id(stack.ingest.queue), 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: 4,
        ScalingConfig: { MaximumConcurrency: 7 },
      });
      template.hasResourceProperties('AWS::Logs::LogGroup', {
        RetentionInDays: 365,
        KmsKeyId: { 'Fn::GetAtt': [id(stack.keys.dataKey), 'Arn'] },
      });
    });

    it('gives the function one managed policy, attached before the event source is created', () => {
      const fn = resources[id(stack.ingest.processUpload)];
      const policyId = Object.keys(resources).find(
        (k) => resources[k]?.Type === 'AWS::IAM::ManagedPolicy' && k.startsWith('IngestProcessUploadPolicy'),
      );
      expect(policyId).toBeDefined();
      expect(fn?.DependsOn).toContain(policyId);
      // No inline default policy was added to the function role by any construct.
      const inline = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy');
      expect(JSON.stringify(inline)).not.toContain(id(stack.ingest.role));
      const statements = (must(resources[policyId as string]).Properties.PolicyDocument as { Statement: { Action: string | string[] }[] })
        .Statement;
      const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
      // Least privilege: no service-wide wildcards.
      expect(actions.filter((a) => a.endsWith('*'))).toEqual([]);
    });
  });

  describe('orphan sweep', () => {
    it('runs daily, deletes only in the output buckets, and holds no key grant', () => {
      const fnId = id(stack.sweeper.sweeper.function);
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'cron(17 3 * * ? *)',
        Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2 } })]),
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ SWEEP_GRACE_HOURS: '24' }) },
        ReservedConcurrentExecutions: 1,
      });
      const policy = must(resources[id(stack.sweeper.sweeper.policy)]);
      const statements = (
        policy.Properties.PolicyDocument as { Statement: { Sid: string; Action: string | string[]; Resource: unknown }[] }
      ).Statement;
      const text = JSON.stringify(statements);
      expect(text).not.toContain('kms:');
      expect(text).not.toContain('s3:GetObject');
      const deletes = JSON.stringify(statements.find((st) => st.Sid === 'DeleteOrphanedOutputs')?.Resource);
      for (const b of [stack.buckets.curated, stack.buckets.quarantine, stack.buckets.aggregates]) expect(deletes).toContain(id(b));
      expect(deletes).not.toContain(id(stack.buckets.ingest));
    });
  });

  describe('personas', () => {
    const policyOf = (role: { node: { defaultChild?: unknown } }) =>
      Object.values(resources).find(
        (r) => r.Type === 'AWS::IAM::ManagedPolicy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: id(role) }]),
      )?.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] };
    const reads = (doc: ReturnType<typeof policyOf>, logicalId: string) =>
      doc.Statement.filter((s) => JSON.stringify(s.Resource).includes(logicalId)).flatMap((s) =>
        Array.isArray(s.Action) ? s.Action : [s.Action],
      );

    it('MlConsumer reads curated and aggregates only — never ingest or quarantine', () => {
      const doc = policyOf(stack.personas.mlConsumer);
      expect(reads(doc, id(stack.buckets.curated))).toContain('s3:GetObject');
      expect(reads(doc, id(stack.buckets.aggregates))).toContain('s3:GetObject');
      expect(reads(doc, id(stack.buckets.ingest))).toEqual([]);
      expect(reads(doc, id(stack.buckets.quarantine))).toEqual([]);
      expect(JSON.stringify(doc)).not.toMatch(/dynamodb|PutObject|DeleteObject/);
    });

    it('DataEngineer puts into ingest and reads quarantine reports, but cannot read raw ingest', () => {
      const doc = policyOf(stack.personas.dataEngineer);
      const ingestActions = doc.Statement.filter((s) =>
        JSON.stringify(s.Resource).includes(`"${id(stack.buckets.ingest)}","Arn"]},"/*"`),
      ).flatMap((s) => s.Action);
      expect(ingestActions).toEqual(['s3:PutObject', 's3:AbortMultipartUpload']);
      expect(doc.Statement).toContainEqual(
        expect.objectContaining({
          Action: 's3:GetObject',
          Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id(stack.buckets.quarantine), 'Arn'] }, '/*/_report.json']] },
        }),
      );
      expect(reads(doc, id(stack.buckets.curated))).toEqual([]);
    });

    it('ComplianceOfficer reads lineage and erasure requests only', () => {
      const doc = policyOf(stack.personas.complianceOfficer);
      const actions = doc.Statement.flatMap((s) => s.Action);
      expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
      expect(actions.some((a) => String(a).startsWith('s3:'))).toBe(false);
      expect(actions).not.toContain('dynamodb:PutItem');
      expect(reads(doc, id(stack.tables.budget))).toEqual([]);
    });

    it('requires MFA to assume a persona', () => {
      expect(resources[id(stack.personas.mlConsumer)]?.Properties.AssumeRolePolicyDocument).toMatchObject({
        Statement: [expect.objectContaining({ Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } })],
      });
    });
  });

  describe('observability', () => {
    it('alarms on DLQ depth, backlog, errors, throttles and quarantine rate, all to the encrypted topic', () => {
      // 5 for the ingest path; errors and throttles of the 4 on-demand functions; 3 for the erasure
      // workflow; errors and throttles of the 3 fan-out functions and of the orphan sweep.
      template.resourceCountIs('AWS::CloudWatch::Alarm', 5 + 4 * 2 + 3 + 3 * 2 + 2);
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [id(stack.keys.messageKey), 'Arn'] } });
      template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: id(stack.observability.topic) }] });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id(stack.ingest.deadLetterQueue), 'QueueName'] } }],
        Threshold: 1,
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda' });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Throttles', Namespace: 'AWS/Lambda' });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Threshold: 0.2,
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'IF(processed > 0, quarantined / processed, 0)' }),
          Match.objectLike({
            MetricStat: Match.objectLike({
              Metric: {
                Namespace: 'PrivacyPipeline',
                MetricName: 'FilesQuarantined',
                Dimensions: [
                  { Name: 'service', Value: 'privacy-pipeline' },
                  { Name: 'stage', Value: 'dev' },
                ],
              },
            }),
          }),
        ]),
      });
      template.resourceCountIs('AWS::SNS::Subscription', 0);
    });

    it('subscribes the alarm email from context', () => {
      build({ alarmEmail: 'oncall@example.com' }).template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'oncall@example.com',
      });
    });
  });

  describe('portability', () => {
    it('names no physical resource and hard-codes no account or region', () => {
      const agnostic = build({}, 'agnostic').template.toJSON();
      const text = JSON.stringify(agnostic.Resources);
      expect(text).not.toMatch(/\b\d{12}\b/);
      expect(text).not.toMatch(/eu-west-1|us-east-1/);
      for (const r of Object.values(agnostic.Resources as Resources)) {
        for (const name of [
          'BucketName',
          'TableName',
          'RoleName',
          'QueueName',
          'FunctionName',
          'TopicName',
          'LogGroupName',
          'ManagedPolicyName',
        ]) {
          // These reference a function by its generated name or ARN; they do not name it.
          if (
            r.Type !== 'Custom::S3BucketNotifications' &&
            r.Type !== 'AWS::Lambda::EventSourceMapping' &&
            r.Type !== 'AWS::Lambda::Permission'
          )
            expect(r.Properties?.[name]).toBeUndefined();
        }
      }
    });
  });

  describe('cdk-nag', () => {
    it('AwsSolutions has no unacknowledged finding', () => {
      const report = new AwsSolutionsChecks(app).validateScope(stack);
      expect(report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(',')}`)).toEqual([]);
    });

    it('NIST 800-53 rev 5 has no unacknowledged finding', () => {
      const report = new NIST80053R5Checks(app).validateScope(stack);
      expect(report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(',')}`)).toEqual([]);
    });

    it('near miss: the packs do flag an unhardened bucket', () => {
      const probeApp = new App();
      const probe = new Stack(probeApp, 'Probe');
      new s3.Bucket(probe, 'Plain');
      const names = new AwsSolutionsChecks(probeApp).validateScope(probe).violations.map((v) => v.ruleName);
      expect(names).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
    });
  });
});

describe('readPipelineSettings', () => {
  it('reads cdk.json-style context with defaults', () => {
    const app = new App({ context: { stage: 'prod', rawRetentionDays: '7', processUploadReservedConcurrency: 25 } });
    expect(readPipelineSettings(app)).toEqual({
      ...DEFAULT_SETTINGS,
      stage: 'prod',
      rawRetentionDays: 7,
      processUploadReservedConcurrency: 25,
    });
  });

  it('names every bad key in one error', () => {
    const app = new App({ context: { stage: 'Prod!', rawRetentionDays: 0, quarantineRetentionDays: 'ten', alarmEmail: 'nobody' } });
    expect(() => readPipelineSettings(app)).toThrow(
      /stage must match.*alarmEmail must be.*rawRetentionDays must be an integer.*quarantineRetentionDays must be an integer/,
    );
  });
});
