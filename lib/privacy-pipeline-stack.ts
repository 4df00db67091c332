import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { DataBuckets } from './constructs/data-buckets.ts';
import { ErasureWorkflow } from './constructs/erasure-workflow.ts';
import { FanOut } from './constructs/fan-out.ts';
import { IngestPipeline, METRICS_NAMESPACE } from './constructs/ingest-pipeline.ts';
import { Observability } from './constructs/observability.ts';
import { OnDemandFunctions } from './constructs/on-demand-functions.ts';
import { OrphanSweeper } from './constructs/orphan-sweeper.ts';
import { Personas } from './constructs/personas.ts';
import { PipelineTables } from './constructs/pipeline-tables.ts';
import { PrivacyKeys } from './constructs/privacy-keys.ts';
import { acknowledgeNagFindings, acknowledgeOnDemandFindings } from './nag-acknowledgements.ts';
import type { PipelineSettings } from './pipeline-settings.ts';

export interface PrivacyPipelineStackProps extends StackProps {
  /** Stage and settings, usually from readPipelineSettings(app). */
  readonly settings: PipelineSettings;
}

/** The whole pipeline in one stack: keys, buckets, tables, the ingest path, personas, alarms. */
export class PrivacyPipelineStack extends Stack {
  readonly keys: PrivacyKeys;
  readonly buckets: DataBuckets;
  readonly tables: PipelineTables;
  readonly ingest: IngestPipeline;
  readonly personas: Personas;
  readonly observability: Observability;
  /** Ad-hoc DP queries and re-identification (IAM function URLs). */
  readonly onDemand: OnDemandFunctions;
  /** GDPR erasure: request endpoint, starter pipe, Step Functions workflow. */
  readonly erasure: ErasureWorkflow;
  /** Large uploads in chunks: EventBridge → plan → Distributed Map → merge (lib/constructs/fan-out.ts). */
  readonly fanOut: FanOut;
  /** Daily deletion of outputs of runs that never committed (lib/constructs/orphan-sweeper.ts). */
  readonly sweeper: OrphanSweeper;

  constructor(scope: Construct, id: string, props: PrivacyPipelineStackProps) {
    super(scope, id, props);
    const { settings } = props;
    this.keys = new PrivacyKeys(this, 'Keys');
    this.buckets = new DataBuckets(this, 'Buckets', {
      encryptionKey: this.keys.dataKey,
      rawRetentionDays: settings.rawRetentionDays,
      quarantineRetentionDays: settings.quarantineRetentionDays,
      noncurrentVersionRetentionDays: settings.noncurrentVersionRetentionDays,
    });
    this.tables = new PipelineTables(this, 'Tables', { encryptionKey: this.keys.dataKey });
    this.ingest = new IngestPipeline(this, 'Ingest', {
      buckets: this.buckets,
      tables: this.tables,
      keys: this.keys,
      stage: settings.stage,
      reservedConcurrency: settings.processUploadReservedConcurrency,
    });
    this.personas = new Personas(this, 'Personas', { buckets: this.buckets, tables: this.tables, keys: this.keys });
    this.observability = new Observability(this, 'Observability', {
      keys: this.keys,
      deadLetterQueues: [this.ingest.deadLetterQueue],
      workQueues: [this.ingest.queue],
      functions: [this.ingest.processUpload],
      metricsNamespace: METRICS_NAMESPACE,
      serviceName: 'privacy-pipeline',
      stage: settings.stage,
      ...(settings.alarmEmail ? { alarmEmail: settings.alarmEmail } : {}),
    });

    // On-demand endpoints and the erasure workflow (lib/constructs/on-demand-functions.ts, erasure-workflow.ts).
    this.onDemand = new OnDemandFunctions(this, 'OnDemand', {
      buckets: this.buckets,
      tables: this.tables,
      keys: this.keys,
      stage: settings.stage,
      queryInvokers: [this.personas.mlConsumer],
      alarmTopic: this.observability.topic,
    });
    this.erasure = new ErasureWorkflow(this, 'Erasure', {
      buckets: this.buckets,
      tables: this.tables,
      keys: this.keys,
      stage: settings.stage,
      complianceOfficer: this.personas.complianceOfficer,
      alarmTopic: this.observability.topic,
    });

    // Fan-out of large uploads (issue 7): uploads ≥ fanOutThresholdBytes go through the
    // Distributed Map workflow, and process-upload skips them.
    this.fanOut = new FanOut(this, 'FanOut', {
      buckets: this.buckets,
      tables: this.tables,
      keys: this.keys,
      stage: settings.stage,
      alarmTopic: this.observability.topic,
      thresholdBytes: settings.fanOutThresholdBytes,
    });
    this.ingest.processUpload.addEnvironment('FAN_OUT_THRESHOLD_BYTES', String(settings.fanOutThresholdBytes));
    this.sweeper = new OrphanSweeper(this, 'Sweeper', {
      buckets: this.buckets,
      tables: this.tables,
      keys: this.keys,
      stage: settings.stage,
      alarmTopic: this.observability.topic,
    });

    const outputs: Record<string, string> = {
      IngestBucketName: this.buckets.ingest.bucketName,
      CuratedBucketName: this.buckets.curated.bucketName,
      QuarantineBucketName: this.buckets.quarantine.bucketName,
      AggregatesBucketName: this.buckets.aggregates.bucketName,
      LineageTableName: this.tables.lineage.tableName,
      DataEngineerRoleArn: this.personas.dataEngineer.roleArn,
      MlConsumerRoleArn: this.personas.mlConsumer.roleArn,
      ComplianceOfficerRoleArn: this.personas.complianceOfficer.roleArn,
      AlarmTopicArn: this.observability.topic.topicArn,
      RunQueryUrl: this.onDemand.runQueryUrl.url,
      ReidentifyUrl: this.onDemand.reidentifyUrl.url,
      ReidentifierRoleArn: this.onDemand.reidentifier.roleArn,
      SubmitErasureUrl: this.erasure.submitUrl.url,
      ErasureStateMachineArn: this.erasure.stateMachine.stateMachineArn,
      ErasureRequestsTableName: this.tables.erasureRequests.tableName,
      FanOutStateMachineArn: this.fanOut.stateMachine.stateMachineArn,
    };
    for (const [outputId, value] of Object.entries(outputs)) new CfnOutput(this, outputId, { value });

    acknowledgeNagFindings(this);
    acknowledgeOnDemandFindings(this);
  }
}
