import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { LINEAGE_TABLE } from '../../functions/adapters/aws/table-layout.ts';
import type { DataBuckets } from './data-buckets.ts';
import { PipelineFunction } from './pipeline-function.ts';
import type { PipelineTables } from './pipeline-tables.ts';
import type { PrivacyKeys } from './privacy-keys.ts';

export interface OrphanSweeperProps {
  readonly buckets: DataBuckets;
  readonly tables: PipelineTables;
  readonly keys: PrivacyKeys;
  readonly stage: string;
  readonly alarmTopic: sns.ITopic;
  /** Outputs younger than this are left to runs in flight. @default 24 */
  readonly graceHours?: number;
  /** @default every day at 03:17 UTC */
  readonly schedule?: events.Schedule;
}

/**
 * The daily orphan sweep (functions/handlers/sweep-orphans.ts): deletes the outputs of runs that
 * never committed, which erasure (working from lineage) could not see, and records each sweep in
 * lineage. It lists every bucket and deletes only in the three output buckets; it reads no object
 * body, so it holds no key grant and is not a raw reader.
 */
export class OrphanSweeper extends Construct {
  readonly sweeper: PipelineFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: OrphanSweeperProps) {
    super(scope, id);
    const { buckets, tables } = props;
    const outputBuckets = [buckets.curated, buckets.quarantine, buckets.aggregates];
    this.sweeper = new PipelineFunction(this, 'Sweep', {
      ...props,
      handlerFile: 'sweep-orphans.ts',
      description: 'privacy-pipeline: deletes orphaned outputs of runs that never committed (daily)',
      memorySize: 512,
      timeout: Duration.minutes(15),
      reservedConcurrency: 1,
      statements: [
        new iam.PolicyStatement({
          sid: 'ListEveryBucket',
          actions: ['s3:ListBucket', 's3:ListBucketVersions'],
          resources: [buckets.ingest.bucketArn, ...outputBuckets.map((b) => b.bucketArn)],
        }),
        new iam.PolicyStatement({
          sid: 'DeleteOrphanedOutputs',
          actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
          resources: outputBuckets.map((b) => b.arnForObjects('*')),
        }),
        new iam.PolicyStatement({
          sid: 'ReadLineageAppendSweeps',
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
          resources: [tables.lineage.tableArn, ...tables.indexArns(tables.lineage, LINEAGE_TABLE)],
        }),
      ],
    });
    this.sweeper.function.addEnvironment('SWEEP_GRACE_HOURS', String(props.graceHours ?? 24));
    this.rule = new events.Rule(this, 'Daily', {
      description: 'privacy-pipeline: daily orphan sweep',
      schedule: props.schedule ?? events.Schedule.cron({ minute: '17', hour: '3' }),
      targets: [new targets.LambdaFunction(this.sweeper.function, { retryAttempts: 2 })],
    });
  }
}
