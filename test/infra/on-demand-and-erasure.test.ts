/**
 * CDK assertions on the on-demand endpoints (ad-hoc query, re-identification) and the erasure
 * workflow: IAM-only function URLs with exactly one invoking persona each, least-privilege
 * function roles, the state machine's retries and failure path, the starter pipe. cdk-nag runs
 * over the whole stack in privacy-pipeline-stack.test.ts.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../lib/pipeline-settings.ts';
import { PrivacyPipelineStack } from '../../lib/privacy-pipeline-stack.ts';

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };
/** A value that must be there (a missing resource fails the test here, not later). */
function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('missing');
  return value;
}

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, unknown> };

describe('on-demand endpoints and the erasure workflow', () => {
  let stack: PrivacyPipelineStack;
  let resources: Record<string, Resource>;
  const id = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
  /** Managed and inline policy statements, with the roles they are attached to. */
  const grants = () =>
    [...ofType('AWS::IAM::ManagedPolicy'), ...ofType('AWS::IAM::Policy')].flatMap(([, r]) =>
      ((r.Properties.PolicyDocument as { Statement: Statement[] }).Statement ?? []).map((s) => ({
        statement: s,
        roles: ((r.Properties.Roles as { Ref: string }[] | undefined) ?? []).map((x) => x.Ref),
      })),
    );
  const fnArn = (fn: { node: { defaultChild?: unknown } }) => ({ 'Fn::GetAtt': [id(fn), 'Arn'] });
  /** Roles granted any lambda invoke action on a function. */
  const invokersOf = (fn: { node: { defaultChild?: unknown } }) =>
    new Set(
      grants()
        .filter(
          ({ statement }) =>
            actionsOf(statement).some((a) => a.startsWith('lambda:Invoke')) &&
            JSON.stringify(statement.Resource).includes(JSON.stringify(fnArn(fn))),
        )
        .flatMap((g) => g.roles),
    );
  const policyOf = (fn: { policy: { node: { defaultChild?: unknown } } }) =>
    (must(resources[id(fn.policy)]).Properties.PolicyDocument as { Statement: Statement[] }).Statement;

  beforeAll(() => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    stack = new PrivacyPipelineStack(app, 'PrivacyPipeline-test', {
      settings: DEFAULT_SETTINGS,
      env: { account: '111111111111', region: 'eu-west-1' },
    });
    resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
  });

  describe('function URLs', () => {
    it('exist for the query, re-identification and erasure endpoints, all with AuthType AWS_IAM', () => {
      const urls = ofType('AWS::Lambda::Url').map(([, r]) => r.Properties);
      expect(urls).toHaveLength(3);
      for (const u of urls) expect(u.AuthType).toBe('AWS_IAM');
      expect(urls.map((u) => JSON.stringify(u.TargetFunctionArn)).sort()).toEqual(
        [stack.onDemand.runQuery, stack.onDemand.reidentify, stack.erasure.submit].map((f) => JSON.stringify(fnArn(f.function))).sort(),
      );
    });

    it('lets only ComplianceOfficer submit erasure requests, and only through the URL', () => {
      expect(invokersOf(stack.erasure.submit.function)).toEqual(new Set([id(stack.personas.complianceOfficer)]));
      const statements = grants()
        .filter((g) => g.roles.includes(id(stack.personas.complianceOfficer)))
        .map((g) => g.statement)
        .filter((s) => actionsOf(s).some((a) => a.startsWith('lambda:')));
      expect(statements).toEqual([
        expect.objectContaining({
          Action: 'lambda:InvokeFunctionUrl',
          Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
        }),
        expect.objectContaining({ Action: 'lambda:InvokeFunction', Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } } }),
      ]);
      // No resource-based permission opens any of the functions to another principal.
      expect(
        ofType('AWS::Lambda::Permission').filter(([, r]) => JSON.stringify(r.Properties.FunctionName).match(/OnDemand|Erasure/)),
      ).toEqual([]);
    });

    it('lets MlConsumer run queries and only the Reidentifier role reverse tokens', () => {
      expect(invokersOf(stack.onDemand.runQuery.function)).toEqual(new Set([id(stack.personas.mlConsumer)]));
      expect(invokersOf(stack.onDemand.reidentify.function)).toEqual(new Set([id(stack.onDemand.reidentifier)]));
      // Near misses: the compliance officer cannot reverse tokens, the ML consumer cannot erase.
      expect(invokersOf(stack.onDemand.reidentify.function).has(id(stack.personas.complianceOfficer))).toBe(false);
      expect(invokersOf(stack.erasure.submit.function).has(id(stack.personas.mlConsumer))).toBe(false);
      expect(resources[id(stack.onDemand.reidentifier)]?.Properties).toMatchObject({
        MaxSessionDuration: 3600,
        AssumeRolePolicyDocument: {
          Statement: [expect.objectContaining({ Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } })],
        },
      });
    });
  });

  describe('functions', () => {
    const all = () => [stack.onDemand.runQuery, stack.onDemand.reidentify, stack.erasure.submit, stack.erasure.erase];

    it('run on Node.js 24 arm64 with reserved concurrency, an encrypted log group and one managed policy', () => {
      for (const f of all()) {
        expect(resources[id(f.function)]?.Properties).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          ReservedConcurrentExecutions: expect.any(Number),
          LoggingConfig: { LogGroup: { Ref: id(f.logGroup) } },
        });
        expect(resources[id(f.logGroup)]?.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [id(stack.keys.dataKey), 'Arn'] });
        expect(resources[id(f.function)]?.DependsOn).toContain(id(f.policy));
        // No inline policy was added to the role by any construct.
        expect(JSON.stringify(ofType('AWS::IAM::Policy'))).not.toContain(id(f.role));
        expect(
          policyOf(f)
            .flatMap(actionsOf)
            .filter((a) => a.endsWith('*')),
        ).toEqual([]);
      }
      expect(resources[id(stack.erasure.erase.function)]?.Properties).toMatchObject({ Timeout: 900, MemorySize: 2048 });
    });

    it('submit-erasure only records requests and seals identifiers: no bucket, no token key', () => {
      const statements = policyOf(stack.erasure.submit);
      const actions = statements.flatMap(actionsOf);
      expect(actions.filter((a) => !a.startsWith('logs:')).sort()).toEqual([
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'kms:Encrypt',
      ]);
      expect(statements.find((s) => s.Sid === 'SealIdentifiers')).toMatchObject({
        Resource: { 'Fn::GetAtt': [id(stack.keys.dataKey), 'Arn'] },
        Condition: { StringEquals: { 'kms:EncryptionContext:purpose': 'erasure-request' } },
      });
      expect(JSON.stringify(statements)).not.toContain(id(stack.keys.tokenKey));
    });

    it('reidentify reads no bucket and writes lineage only', () => {
      const statements = policyOf(stack.onDemand.reidentify);
      expect(statements.flatMap(actionsOf).some((a) => a.startsWith('s3:'))).toBe(false);
      const writes = statements.filter((s) => actionsOf(s).some((a) => /^(dynamodb|s3):(Put|Update|Delete|BatchWrite)/.test(a)));
      expect(writes).toEqual([
        expect.objectContaining({ Action: 'dynamodb:PutItem', Resource: { 'Fn::GetAtt': [id(stack.tables.lineage), 'Arn'] } }),
      ]);
    });

    it('run-query writes the aggregates bucket only, and reads raw ingest', () => {
      const statements = policyOf(stack.onDemand.runQuery);
      const puts = statements.filter((s) => actionsOf(s).includes('s3:PutObject'));
      expect(puts.map((s) => JSON.stringify(s.Resource))).toEqual([
        JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [id(stack.buckets.aggregates), 'Arn'] }, '/*']] }),
      ]);
      expect(JSON.stringify(statements)).not.toContain(id(stack.buckets.curated));
      expect(JSON.stringify(statements)).not.toContain(id(stack.tables.erasureRequests));
    });
  });

  describe('state machine', () => {
    const definition = () => {
      const sm = resources[id(stack.erasure.stateMachine)];
      const parts = (must(sm).Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      // Tokens (ARNs, table names) only ever sit inside JSON strings.
      return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('')) as {
        StartAt: string;
        States: Record<string, Record<string, unknown>>;
      };
    };
    const iteration = () =>
      (must(definition().States.EachRequest).ItemProcessor as { States: Record<string, Record<string, unknown>> }).States;

    it('is a standard workflow with X-Ray and full logging (no execution data) to a log group encrypted with the data key', () => {
      expect(resources[id(stack.erasure.stateMachine)]?.Properties).toMatchObject({
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: {
          Level: 'ALL',
          IncludeExecutionData: false,
          Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [id(stack.erasure.logGroup), 'Arn'] } } }],
        },
        RoleArn: { 'Fn::GetAtt': [id(stack.erasure.stateMachineRole), 'Arn'] },
      });
      expect(resources[id(stack.erasure.logGroup)]?.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [id(stack.keys.dataKey), 'Arn'] });
    });

    it('runs several requests at once: mark running, erase, record the certificate, or mark failed', () => {
      const d = definition();
      expect(d.StartAt).toBe('Batch');
      expect(d.States.EachRequest).toMatchObject({ Type: 'Map', ItemsPath: '$.requests', MaxConcurrency: 4 });
      const s = iteration();
      expect(Object.keys(s).sort()).toEqual([
        'Done',
        'EraseSubjectStep',
        'Failed',
        'MarkFailed',
        'MarkRunning',
        'RecordCertificate',
        'Skipped',
      ]);
      expect(s.MarkRunning).toMatchObject({ Type: 'Task', Next: 'EraseSubjectStep' });
      expect((must(s.MarkRunning).Parameters as Record<string, unknown>).ConditionExpression).toBe('#s = :submitted');
      expect(s.MarkRunning?.Catch).toEqual([
        { ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: null, Next: 'Skipped' },
      ]);
      expect(s.EraseSubjectStep).toMatchObject({
        Next: 'RecordCertificate',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'MarkFailed' }],
      });
      expect((must(s.RecordCertificate).Parameters as Record<string, string>).UpdateExpression).toContain('REMOVE payload');
      expect(s.MarkFailed?.Next).toBe('Failed');
      // The execution fails (and alarms) when any request failed.
      expect(d.States.AnyFailed).toMatchObject({
        Type: 'Choice',
        Choices: [expect.objectContaining({ Variable: '$.failed', BooleanEquals: true, Next: 'ErasureFailed' })],
      });
    });

    it('retries transient errors of the erase step with backoff and jitter, and Lambda service errors', () => {
      const retry = iteration().EraseSubjectStep?.Retry as {
        ErrorEquals: string[];
        MaxAttempts: number;
        BackoffRate: number;
        JitterStrategy?: string;
      }[];
      const transient = retry.find((r) => r.ErrorEquals.includes('TransientError'));
      expect(transient).toMatchObject({ MaxAttempts: 6, BackoffRate: 2, JitterStrategy: 'FULL' });
      expect(transient?.ErrorEquals).toEqual(
        expect.arrayContaining(['PreconditionFailedError', 'InProgressError', 'Lambda.TooManyRequestsException']),
      );
      expect(retry.some((r) => r.ErrorEquals.includes('Lambda.ServiceException'))).toBe(true);
      // Near miss: a failed verification is not retried.
      expect(retry.some((r) => r.ErrorEquals.includes('ErasureVerificationError') || r.ErrorEquals.includes('States.ALL'))).toBe(false);
      for (const name of ['MarkRunning', 'RecordCertificate', 'MarkFailed']) {
        expect((must(iteration()[name]).Retry as { ErrorEquals: string[] }[])[0]?.ErrorEquals).toContain('DynamoDB.ThrottlingException');
      }
    });

    it('gives its role only the erase function and request updates (plus log delivery and tracing)', () => {
      const doc = resources[id(stack.erasure.node.findChild('StateMachinePolicy') as never)]?.Properties.PolicyDocument as {
        Statement: Statement[];
      };
      const scoped = doc.Statement.filter((s) => s.Resource !== '*');
      expect(scoped.map((s) => [s.Action, s.Resource])).toEqual([
        ['lambda:InvokeFunction', fnArn(stack.erasure.erase.function)],
        ['dynamodb:UpdateItem', { 'Fn::GetAtt': [id(stack.tables.erasureRequests), 'Arn'] }],
      ]);
      expect(
        doc.Statement.filter((s) => s.Resource === '*')
          .flatMap(actionsOf)
          .every((a) => a.startsWith('logs:') || a.startsWith('xray:')),
      ).toBe(true);
    });
  });

  describe('starter', () => {
    it('streams new images of the request table to the workflow, submitted requests only, batched, with a DLQ', () => {
      expect(resources[id(stack.tables.erasureRequests)]?.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
      const pipe = resources[stack.getLogicalId(stack.erasure.starter)]?.Properties;
      expect(pipe).toMatchObject({
        Source: { 'Fn::GetAtt': [id(stack.tables.erasureRequests), 'StreamArn'] },
        Target: { Ref: id(stack.erasure.stateMachine) },
        TargetParameters: {
          StepFunctionStateMachineParameters: { InvocationType: 'FIRE_AND_FORGET' },
          InputTemplate: '{"requestId": <$.dynamodb.Keys.pk.S>}',
        },
        SourceParameters: {
          DynamoDBStreamParameters: {
            BatchSize: 10,
            MaximumBatchingWindowInSeconds: 30,
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [id(stack.erasure.starterDeadLetterQueue), 'Arn'] } },
          },
        },
      });
      const filter = JSON.parse(
        (
          (must(pipe).SourceParameters as { FilterCriteria: { Filters: { Pattern: string }[] } }).FilterCriteria.Filters[0] as {
            Pattern: string;
          }
        ).Pattern,
      );
      expect(filter).toEqual({ eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { status: { S: ['SUBMITTED'] } } } });
    });
  });
});
