import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ERASURE_REQUESTS_TABLE, LINEAGE_TABLE } from '../../functions/adapters/aws/table-layout.ts';
import { type DataBuckets, QUARANTINE_REPORTS } from './data-buckets.ts';
import type { PipelineTables } from './pipeline-tables.ts';
import type { PrivacyKeys } from './privacy-keys.ts';

export interface PersonasProps {
  readonly buckets: DataBuckets;
  readonly tables: PipelineTables;
  readonly keys: PrivacyKeys;
  /**
   * Who may assume the persona roles. The account root delegates the decision to IAM
   * policies in the account (identity center permission sets, groups).
   * @default new iam.AccountRootPrincipal()
   */
  readonly trustedPrincipal?: iam.IPrincipal;
  /**
   * Require MFA on AssumeRole.
   * @default true
   */
  readonly requireMfa?: boolean;
  /**
   * Longest session of a persona role.
   * @default Duration.hours(1)
   */
  readonly maxSessionDuration?: Duration;
}

/**
 * The three personas as IAM roles, each with one customer-managed policy:
 * - DataEngineer: put files into ingest; read quarantine reports (not quarantined rows);
 * - MlConsumer: read curated data and aggregates, nothing else;
 * - ComplianceOfficer: read lineage and erasure requests (submitting requests comes with the
 *   erasure workflow).
 * Nobody here reads raw ingest: there is no grant, and the bucket policy denies it anyway.
 */
export class Personas extends Construct {
  readonly dataEngineer: iam.Role;
  readonly mlConsumer: iam.Role;
  readonly complianceOfficer: iam.Role;

  constructor(scope: Construct, id: string, props: PersonasProps) {
    super(scope, id);
    const { buckets, tables, keys } = props;
    const stack = Stack.of(this);
    const base = props.trustedPrincipal ?? new iam.AccountRootPrincipal();
    const assumedBy =
      (props.requireMfa ?? true) ? new iam.PrincipalWithConditions(base, { Bool: { 'aws:MultiFactorAuthPresent': 'true' } }) : base;
    const maxSessionDuration = props.maxSessionDuration ?? Duration.hours(1);
    const role = (roleId: string, description: string, statements: iam.PolicyStatement[]) => {
      const r = new iam.Role(this, roleId, { assumedBy, description, maxSessionDuration });
      new iam.ManagedPolicy(this, `${roleId}Policy`, { roles: [r], statements });
      return r;
    };
    // Objects are SSE-KMS: readers and writers need the data key, but only through S3/DynamoDB.
    const dataKeyVia = (service: 's3' | 'dynamodb', actions: string[]) =>
      new iam.PolicyStatement({
        actions,
        resources: [keys.dataKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `${service}.${stack.region}.amazonaws.com` } },
      });

    this.dataEngineer = role('DataEngineer', 'privacy-pipeline: drops files into ingest, reads quarantine reports', [
      new iam.PolicyStatement({
        sid: 'UploadToIngest',
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [buckets.ingest.arnForObjects('*')],
      }),
      new iam.PolicyStatement({
        sid: 'ReadQuarantineReports',
        actions: ['s3:GetObject'],
        resources: [buckets.quarantine.arnForObjects(QUARANTINE_REPORTS)],
      }),
      new iam.PolicyStatement({
        sid: 'ListIngestAndQuarantine',
        actions: ['s3:ListBucket'],
        resources: [buckets.ingest.bucketArn, buckets.quarantine.bucketArn],
      }),
      dataKeyVia('s3', ['kms:GenerateDataKey', 'kms:Decrypt']),
    ]);

    this.mlConsumer = role('MlConsumer', 'privacy-pipeline: reads sanitised datasets and DP aggregates', [
      new iam.PolicyStatement({
        sid: 'ReadCuratedAndAggregates',
        actions: ['s3:GetObject'],
        resources: [buckets.curated.arnForObjects('*'), buckets.aggregates.arnForObjects('*')],
      }),
      new iam.PolicyStatement({
        sid: 'ListCuratedAndAggregates',
        actions: ['s3:ListBucket'],
        resources: [buckets.curated.bucketArn, buckets.aggregates.bucketArn],
      }),
      dataKeyVia('s3', ['kms:Decrypt']),
    ]);

    this.complianceOfficer = role('ComplianceOfficer', 'privacy-pipeline: reads lineage and erasure requests', [
      new iam.PolicyStatement({
        sid: 'ReadLineageAndErasureRequests',
        actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:DescribeTable'],
        resources: [
          tables.lineage.tableArn,
          ...tables.indexArns(tables.lineage, LINEAGE_TABLE),
          tables.erasureRequests.tableArn,
          ...tables.indexArns(tables.erasureRequests, ERASURE_REQUESTS_TABLE),
        ],
      }),
      dataKeyVia('dynamodb', ['kms:Decrypt', 'kms:DescribeKey']),
    ]);
  }
}
