import { Duration, Lazy, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface PrivacyKeysProps {
  /**
   * Days KMS waits before deleting a key scheduled for deletion.
   * @default 30
   */
  readonly pendingWindowDays?: number;
  /**
   * What happens to the keys when the stack is deleted. Data encrypted under a deleted key is
   * lost, so keys are kept by default.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Crypto operations on the pseudonymisation key that only the pipeline's functions may call. */
const TOKEN_KEY_USE = [
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKey*',
  'kms:ReEncrypt*',
  'kms:GenerateMac',
  'kms:VerifyMac',
];

/**
 * The customer-managed KMS keys, all with yearly rotation:
 * - `dataKey` encrypts data at rest (buckets, tables, function logs);
 * - `messageKey` encrypts messages in flight between services (SQS queues, the alarm topic).
 *   Kept apart so the services that publish (S3, CloudWatch) get no use of the data key, and
 *   because S3's grant on a notification queue's key names the bucket, which would make the
 *   bucket and its own encryption key depend on each other;
 * - `tokenKey` wraps the pseudonymisation secrets and the per-subject keys. Its key policy
 *   denies every crypto operation to every principal except the roles registered with
 *   `allowTokenKeyUse` (the pipeline's functions) — not even account administrators can
 *   unwrap the secret that would let them recompute tokens.
 */
export class PrivacyKeys extends Construct {
  readonly dataKey: kms.Key;
  readonly messageKey: kms.Key;
  readonly tokenKey: kms.Key;
  private readonly tokenKeyUsers: iam.IRole[] = [];

  constructor(scope: Construct, id: string, props: PrivacyKeysProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const pendingWindow = Duration.days(props.pendingWindowDays ?? 30);
    this.dataKey = new kms.Key(this, 'DataKey', {
      description: 'privacy-pipeline: data at rest (S3, DynamoDB, logs)',
      enableKeyRotation: true,
      pendingWindow,
      removalPolicy,
    });
    this.messageKey = new kms.Key(this, 'MessageKey', {
      description: 'privacy-pipeline: messages in flight (SQS, SNS)',
      enableKeyRotation: true,
      pendingWindow,
      removalPolicy,
    });
    this.tokenKey = new kms.Key(this, 'TokenKey', {
      description: 'privacy-pipeline: wraps pseudonymisation secrets and per-subject keys',
      enableKeyRotation: true,
      pendingWindow,
      removalPolicy,
    });
    this.tokenKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyPipelineFunctionsUseTheTokenKey',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: TOKEN_KEY_USE,
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': Lazy.list({ produce: () => this.tokenKeyUsers.map((r) => r.roleArn) }) } },
      }),
    );
    this.node.addValidation({
      validate: () =>
        this.tokenKeyUsers.length === 0 ? ['PrivacyKeys: no function was allowed to use the token key (call allowTokenKeyUse)'] : [],
    });
  }

  /** Lets a pipeline function's role wrap and unwrap pseudonymisation and subject keys. */
  allowTokenKeyUse(role: iam.IRole): void {
    this.tokenKeyUsers.push(role);
  }

  /** Lets a service principal use one of the keys (CloudWatch Logs on the data key, CloudWatch on the message key). */
  allowServiceUse(key: kms.Key, principal: iam.IPrincipal, actions: readonly string[], conditions?: Record<string, unknown>): void {
    key.addToResourcePolicy(
      new iam.PolicyStatement({ principals: [principal], actions: [...actions], resources: ['*'], ...(conditions ? { conditions } : {}) }),
    );
  }
}
