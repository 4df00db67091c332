import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import type { IngestInput, IngestResult } from '../../functions/core/pipeline/ingest-types.ts';
import type { Logger, Ports } from '../../functions/core/ports.ts';
import { fanOutThreshold, processUpload } from '../../functions/handlers/process-upload.ts';

const BUCKET = 'pp-ingest-bucket';

function uploadEvent(...objects: { key: string; size: number }[]): SQSEvent {
  return {
    Records: objects.map((o, i) => ({
      messageId: `m${i}`,
      receiptHandle: `rh${i}`,
      body: JSON.stringify({
        Records: [
          {
            eventSource: 'aws:s3',
            eventName: 'ObjectCreated:Put',
            s3: { bucket: { name: BUCKET }, object: { key: o.key, size: o.size, eTag: 'e' } },
          },
        ],
      }),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1', SenderId: 's3', ApproximateFirstReceiveTimestamp: '1' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:111111111111:uploads',
      awsRegion: 'eu-west-1',
    })),
  };
}

describe('process-upload leaves large uploads to the fan-out workflow', () => {
  it('skips uploads at or above FAN_OUT_THRESHOLD_BYTES and runs the others', async () => {
    const seen: string[] = [];
    const ingest = vi.fn(async (_p: Ports, input: IngestInput) => {
      seen.push(input.key);
      return {
        status: 'COMPLETE',
        duplicate: false,
        record: { id: 'r', counts: { rowsIn: 1, rowsPublished: 1, rowsQuarantined: 0, rowsSuppressed: 0 } },
      } as unknown as IngestResult;
    });
    const logger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    const deps = {
      ports: { logger } as unknown as Ports,
      ingestBucketName: BUCKET,
      metrics: { addMetric: () => undefined, publishStoredMetrics: () => undefined },
      ingest,
      ...fanOutThreshold({ FAN_OUT_THRESHOLD_BYTES: '1000' }),
    };
    const res = await processUpload(
      deps,
      uploadEvent({ key: 'ds/small.csv', size: 999 }, { key: 'ds/large.csv', size: 1000 }, { key: 'ds/huge.csv', size: 5000 }),
    );
    expect(res.batchItemFailures).toEqual([]);
    expect(seen).toEqual(['ds/small.csv']);
  });

  it('reads the threshold only when it is a positive integer (no fan-out deployed: every upload runs here)', () => {
    expect(fanOutThreshold({ FAN_OUT_THRESHOLD_BYTES: '268435456' })).toEqual({ fanOutThresholdBytes: 268435456 });
    for (const v of [undefined, '', '0', '-5', '1.5', 'big']) expect(fanOutThreshold({ FAN_OUT_THRESHOLD_BYTES: v })).toEqual({});
  });
});
