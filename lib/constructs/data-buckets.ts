import { Duration, Lazy, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PROCESSED_TAG } from '../../functions/adapters/aws/lifecycle-tags.ts';
import type { BucketRole } from '../../functions/core/types.ts';

export interface DataBucketsProps {
  /** Customer-managed key for SSE-KMS on the four data buckets. */
  readonly encryptionKey: kms.IKey;
  /**
   * Days a raw ingest object is kept after upload, once the pipeline has tagged it as processed.
   * Untagged objects (contracts, files that never went through) do not expire.
   * @default 30
   */
  readonly rawRetentionDays?: number;
  /**
   * Days a quarantined object is kept.
   * @default 30
   */
  readonly quarantineRetentionDays?: number;
  /**
   * Days a noncurrent object version (overwritten, deleted, erased) is kept before S3 removes it.
   * @default 1
   */
  readonly noncurrentVersionRetentionDays?: number;
  /**
   * Days server access logs are kept.
   * @default 365
   */
  readonly accessLogRetentionDays?: number;
  /**
   * What happens to the buckets when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The ingest, curated, quarantine and aggregates buckets plus their access-log bucket. Every
 * data bucket: SSE-KMS with the data key and an S3 Bucket Key, all public access blocked, TLS
 * only (1.2+), versioned, server access logs, bucket-owner-enforced ownership, lifecycle rules.
 *
 * Raw data stays with the pipeline: `restrictRawReads` adds bucket-policy denies so that only
 * the registered pipeline roles can read raw ingest objects or quarantined rows — an IAM policy
 * granting s3:GetObject elsewhere in the account does not override an explicit deny.
 */
export class DataBuckets extends Construct {
  readonly ingest: s3.Bucket;
  readonly curated: s3.Bucket;
  readonly quarantine: s3.Bucket;
  readonly aggregates: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  private readonly rawReaders: iam.IRole[] = [];

  constructor(scope: Construct, id: string, props: DataBucketsProps) {
    super(scope, id);
    // Grant log delivery through a bucket policy, not the legacy LogDeliveryWrite ACL, so the
    // log bucket can keep ACLs disabled (BucketOwnerEnforced) whatever the app's flags say.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const noncurrentDays = props.noncurrentVersionRetentionDays ?? 1;

    // Server access logs cannot be delivered to SSE-KMS buckets: this one uses SSE-S3.
    this.accessLogs = new s3.Bucket(this, 'AccessLogsBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy,
      lifecycleRules: [
        {
          id: 'ExpireAccessLogs',
          expiration: Duration.days(props.accessLogRetentionDays ?? 365),
          noncurrentVersionExpiration: Duration.days(noncurrentDays),
        },
      ],
    });

    const common = (role: BucketRole, extra: s3.LifecycleRule[] = []): s3.BucketProps => ({
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // aws-cdk-lib's Bucket class and IBucket differ under exactOptionalPropertyTypes.
      serverAccessLogsBucket: this.accessLogs as unknown as s3.IBucket,
      serverAccessLogsPrefix: `${role}/`,
      removalPolicy,
      lifecycleRules: [
        {
          id: 'RemoveOldVersions',
          noncurrentVersionExpiration: Duration.days(noncurrentDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        { id: 'RemoveExpiredDeleteMarkers', expiredObjectDeleteMarker: true },
        ...extra,
      ],
    });

    this.ingest = new s3.Bucket(
      this,
      'IngestBucket',
      common('ingest', [
        {
          id: 'ExpireProcessedRawObjects',
          tagFilters: { [PROCESSED_TAG.key]: PROCESSED_TAG.value },
          expiration: Duration.days(props.rawRetentionDays ?? 30),
        },
      ]),
    );
    this.curated = new s3.Bucket(this, 'CuratedBucket', common('curated'));
    this.quarantine = new s3.Bucket(
      this,
      'QuarantineBucket',
      common('quarantine', [{ id: 'ExpireQuarantine', expiration: Duration.days(props.quarantineRetentionDays ?? 30) }]),
    );
    this.aggregates = new s3.Bucket(this, 'AggregatesBucket', common('aggregates'));

    const readers = Lazy.list({ produce: () => this.rawReaders.map((r) => r.roleArn) });
    const rawRead = ['s3:GetObject', 's3:GetObjectVersion'];
    this.ingest.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyThePipelineReadsRawIngest',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: rawRead,
        resources: [this.ingest.arnForObjects('*')],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': readers } },
      }),
    );
    // Quarantined rows are raw rows: everything but the reports stays with the pipeline.
    this.quarantine.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyThePipelineReadsQuarantinedRows',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: rawRead,
        notResources: [this.quarantine.arnForObjects(QUARANTINE_REPORTS)],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': readers } },
      }),
    );
    this.node.addValidation({
      validate: () => (this.rawReaders.length === 0 ? ['DataBuckets: no role may read raw ingest objects (call restrictRawReads)'] : []),
    });
  }

  /** The bucket of a logical role. */
  bucket(role: BucketRole): s3.Bucket {
    return { ingest: this.ingest, curated: this.curated, quarantine: this.quarantine, aggregates: this.aggregates }[role];
  }

  /** Registers a pipeline role as one of the only principals that may read raw objects. */
  restrictRawReads(role: iam.IRole): void {
    this.rawReaders.push(role);
  }
}

/** Object-key pattern of quarantine reports (functions/core/pipeline/object-keys.ts). */
export const QUARANTINE_REPORTS = '*/_report.json';
