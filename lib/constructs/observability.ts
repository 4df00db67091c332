import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { PrivacyKeys } from './privacy-keys.ts';

export interface ObservabilityProps {
  readonly keys: PrivacyKeys;
  /** Dead-letter queues whose depth must stay at zero. */
  readonly deadLetterQueues: readonly sqs.IQueue[];
  /** Queues whose oldest message must not get old (back-pressure). */
  readonly workQueues: readonly sqs.IQueue[];
  /** Functions watched for errors and throttles. */
  readonly functions: readonly lambda.IFunction[];
  /** Namespace, service and stage of the Powertools EMF metrics. */
  readonly metricsNamespace: string;
  readonly serviceName: string;
  readonly stage: string;
  /**
   * Share of processed files that were quarantined, over 15 minutes, above which the
   * quarantine-rate alarm fires.
   * @default 0.2
   */
  readonly quarantineRateThreshold?: number;
  /**
   * Age of the oldest queued upload that signals a backlog.
   * @default Duration.hours(1)
   */
  readonly maxQueueAge?: Duration;
  /**
   * Email address subscribed to the alarm topic; none when empty.
   * @default no subscription
   */
  readonly alarmEmail?: string;
}

/**
 * Alarms on what must never go unnoticed: messages in a dead-letter queue, function errors and
 * throttles, a backlog, and the quarantine rate computed from the pipeline's EMF metrics. All
 * notify one SNS topic (KMS-encrypted, TLS only), optionally subscribed by email.
 */
export class Observability extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    // CloudWatch publishes to the encrypted topic with the message key.
    props.keys.allowServiceUse(props.keys.messageKey, new iam.ServicePrincipal('cloudwatch.amazonaws.com'), [
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    ]);
    this.topic = new sns.Topic(this, 'AlarmTopic', { masterKey: props.keys.messageKey, enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const notify = new actions.SnsAction(this.topic);
    const add = (alarmId: string, alarmProps: cloudwatch.AlarmProps) => {
      const alarm = new cloudwatch.Alarm(this, alarmId, alarmProps);
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
      this.alarms.push(alarm);
    };
    const atLeastOnce = {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };

    for (const [i, q] of props.deadLetterQueues.entries()) {
      add(`DeadLetterDepth${i}`, {
        alarmDescription: 'Messages reached a dead-letter queue: an upload failed every retry and waits for a human',
        metric: q.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
        ...atLeastOnce,
      });
    }
    for (const [i, q] of props.workQueues.entries()) {
      add(`QueueBacklog${i}`, {
        alarmDescription: 'Uploads are waiting too long: the pipeline is behind',
        metric: q.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: (props.maxQueueAge ?? Duration.hours(1)).toSeconds(),
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    for (const [i, fn] of props.functions.entries()) {
      add(`FunctionErrors${i}`, {
        alarmDescription: 'A pipeline function failed (unhandled error or timeout)',
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        ...atLeastOnce,
      });
      add(`FunctionThrottles${i}`, {
        alarmDescription: 'A pipeline function was throttled (reserved concurrency reached)',
        metric: fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
        ...atLeastOnce,
      });
    }

    const emf = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: props.metricsNamespace,
        metricName,
        dimensionsMap: { service: props.serviceName, stage: props.stage },
        statistic: 'Sum',
        period: Duration.minutes(15),
      });
    add('QuarantineRate', {
      alarmDescription: 'Too many uploaded files were quarantined: a producer or a contract changed',
      metric: new cloudwatch.MathExpression({
        expression: 'IF(processed > 0, quarantined / processed, 0)',
        usingMetrics: { quarantined: emf('FilesQuarantined'), processed: emf('FilesProcessed') },
        period: Duration.minutes(15),
        label: 'Quarantined share of processed files',
      }),
      threshold: props.quarantineRateThreshold ?? 0.2,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
