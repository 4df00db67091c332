/**
 * The scheduled orphan sweep on emulated AWS: a committed run's outputs stay, the parts of a run
 * that never committed (written straight to the curated bucket here) go.
 */
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ports } from '../../functions/core/ports.ts';
import { containerPorts } from '../../functions/handlers/container-ports.ts';
import { graceFromEnv, handler, sweep } from '../../functions/handlers/sweep-orphans.ts';
import { type EmulatedStack, startEmulatedStack, TEST_CONTEXT } from '../support/emulated-stack.ts';

const CSV = 'customer_id,email,segment\nC1,a@example.com,smb\nC2,b@example.com,consumer\n';
const ORPHAN = 'people/20200101T000000000Z-0123456789ab/part-00000.csv';
const HOUR = 3_600_000;

describe('sweep-orphans on s3rver + dynalite + fake KMS', () => {
  let stack: EmulatedStack;

  beforeAll(async () => {
    stack = await startEmulatedStack('sw');
    expect(await stack.ingest('people/a.csv', CSV)).toEqual([]);
    for (const body of ['first', 'second']) {
      await stack.s3.client.send(new PutObjectCommand({ Bucket: stack.buckets.curated, Key: ORPHAN, Body: body }));
    }
  });
  afterAll(() => stack.close());

  // s3rver keeps no versions: count current objects.
  const objectsIn = async (bucket: string, prefix: string) =>
    ((await stack.s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).length;

  it('leaves young orphans to runs in flight (the scheduled handler, default grace)', async () => {
    const summary = await handler({}, TEST_CONTEXT);
    expect(summary).toMatchObject({ orphansDeleted: 0, unprocessedRaw: 0 });
    expect(await objectsIn(stack.buckets.curated, ORPHAN)).toBe(1);
  });

  it('deletes an old orphan and keeps every output lineage lists', async () => {
    const { ports } = containerPorts();
    const later: Ports = { ...ports, clock: { now: () => new Date(Date.now() + 2 * HOUR) } };
    const before = await objectsIn(stack.buckets.curated, 'people/');
    const summary = await sweep(later, HOUR);
    expect(summary.orphansDeleted).toBe(1);
    expect(summary.recordIds).toHaveLength(1);
    expect(await objectsIn(stack.buckets.curated, ORPHAN)).toBe(0);
    expect(await objectsIn(stack.buckets.curated, 'people/')).toBe(before - 1);
    const record = await ports.lineage.get(summary.recordIds[0] ?? '');
    expect(record).toMatchObject({ kind: 'sweep', dataset: 'people' });
  });

  it.each([
    [undefined, 24 * HOUR],
    ['6', 6 * HOUR],
  ])('SWEEP_GRACE_HOURS=%s', (v, ms) => expect(graceFromEnv({ SWEEP_GRACE_HOURS: v })).toBe(ms));
  it.each(['0', '1.5', 'soon'])('refuses SWEEP_GRACE_HOURS=%s', (v) =>
    expect(() => graceFromEnv({ SWEEP_GRACE_HOURS: v })).toThrow(/SWEEP_GRACE_HOURS/),
  );
});
