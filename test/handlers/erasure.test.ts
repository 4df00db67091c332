/**
 * Erasure on emulated AWS, step by step as the workflow runs it: files are ingested through the
 * real process-upload handler; submit-erasure records a request (identifier sealed by KMS,
 * requester from the signature); erase-subject carries it out against s3rver + dynalite; the
 * state machine's own DynamoDB updates are played by the test (Step Functions has no emulator
 * here; its definition is checked in test/infra).
 */
import { GetObjectCommand, GetObjectTaggingCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsPorts, parseAwsEnv } from '../../functions/adapters/aws/aws-ports.ts';
import { DynamoDbErasureRequests, openErasurePayload } from '../../functions/adapters/aws/dynamodb-erasure-requests.ts';
import { DynamoDbLineageStore } from '../../functions/adapters/aws/dynamodb-lineage-store.ts';
import { PROCESSED_TAG } from '../../functions/adapters/aws/lifecycle-tags.ts';
import { KeyError, TransientError, UsageError } from '../../functions/core/errors.ts';
import type { RunRecord } from '../../functions/core/lineage/run-record.ts';
import type { Logger } from '../../functions/core/ports.ts';
import { handler as eraseHandler, eraseRecordedRequest } from '../../functions/handlers/erase-subject.ts';
import { handler as submitHandler } from '../../functions/handlers/submit-erasure.ts';
import { type EmulatedStack, functionUrlEvent, resultBody, startEmulatedStack, TEST_CONTEXT } from '../support/emulated-stack.ts';

const CONTRACT = `
dataset: members
subjectKey: member_id
columns:
  - { name: member_id, type: string }
  - { name: email, type: string, format: email }
  - { name: city, type: string }
aggregates: []
`;
const OFFICER = 'arn:aws:sts::111111111111:assumed-role/PrivacyPipeline-test-ComplianceOfficer/dana';
const SUBJECT = 'ines.ferreira@example.pt';
const OTHERS = ['tom.baker@example.co.uk', 'li.wei@example.cn', 'sara.cohen@example.il'];
const csv = (emails: string[], offset: number) =>
  `member_id,email,city\n${emails.map((e, i) => `M${offset + i},${e},${['Lisbon', 'Leeds', 'Lyon'][i % 3]}`).join('\n')}\n`;
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

describe('erasure endpoint and step on s3rver + dynalite + fake KMS', () => {
  let stack: EmulatedStack;
  let requests: DynamoDbErasureRequests;
  let requestId = '';

  beforeAll(async () => {
    stack = await startEmulatedStack('erase');
    requests = new DynamoDbErasureRequests({ doc: stack.db.doc, tableName: stack.tables.ERASURE_TABLE_NAME });
    await stack.s3.client.send(
      new PutObjectCommand({ Bucket: stack.buckets.ingest, Key: '_contracts/members.contract.yaml', Body: CONTRACT }),
    );
    expect(await stack.ingest('members/a.csv', csv([SUBJECT, OTHERS[0] as string], 1))).toEqual([]);
    expect(await stack.ingest('members/b.csv', csv([OTHERS[1] as string, OTHERS[2] as string], 10))).toEqual([]);
  });
  afterAll(() => stack.close());

  const submit = async (body: unknown, opts: Parameters<typeof functionUrlEvent>[1] = {}) =>
    resultBody(await submitHandler(functionUrlEvent(body, { caller: OFFICER, ...opts }), TEST_CONTEXT));
  const item = async (id: string) =>
    (await stack.db.doc.send(new GetCommand({ TableName: stack.tables.ERASURE_TABLE_NAME, Key: { pk: id } }))).Item as
      | Record<string, unknown>
      | undefined;
  const text = async (bucket: string, key: string) =>
    (await (await stack.s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString()) ?? '';

  it('records a request with the identifier sealed, the signed caller as requester, and answers 202', async () => {
    const { statusCode, body } = await submit({ identifier: SUBJECT, reason: `Art. 17 request from ${SUBJECT}` });
    expect(statusCode).toBe(202);
    const [r, ...more] = body.requests as { requestId: string; status: string; accepted: boolean }[];
    expect(more).toEqual([]);
    expect(r).toMatchObject({ status: 'SUBMITTED', accepted: true });
    requestId = r?.requestId as string;
    expect(requestId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{12}$/);
    expect(JSON.stringify(body)).not.toContain('ines');

    const stored = await item(requestId);
    expect(stored).toMatchObject({ pk: requestId, status: 'SUBMITTED', requestedBy: OFFICER });
    expect(stored?.payload).toBeInstanceOf(Uint8Array);
    // Nothing of the identifier or the reason in clear, anywhere in the item.
    const raw = Buffer.from(JSON.stringify(stored, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v)));
    expect(raw.includes('ines')).toBe(false);
    expect(raw.includes('ferreira')).toBe(false);
  });

  it('binds the sealed identifier to its request id (KMS encryption context)', async () => {
    const ports = createAwsPorts(parseAwsEnv(stack.env), { clients: { s3: stack.s3.client, dynamodb: stack.db.client }, logger: quiet });
    const stored = await requests.get(requestId);
    expect(await openErasurePayload(ports.keys, requestId, stored?.payload as Uint8Array)).toEqual({
      identifier: SUBJECT,
      type: 'email',
      reason: `Art. 17 request from ${SUBJECT}`,
    });
    await expect(openErasurePayload(ports.keys, 'another-request', stored?.payload as Uint8Array)).rejects.toBeInstanceOf(KeyError);
  });

  it('leaves a known request alone, accepts a batch with its own ids, and refuses bad requests as a whole', async () => {
    const again = await submit({ identifier: SUBJECT, requestId });
    expect(again.body.requests).toEqual([{ requestId, status: 'SUBMITTED', accepted: false }]);
    const batch = await submit({
      requests: [
        { identifier: OTHERS[2], requestId: 'batch-1' },
        { identifier: '+44 20 7946 0958', type: 'phone', region: 'gb', requestId: 'batch-2' },
      ],
    });
    expect(batch.statusCode).toBe(202);
    expect((batch.body.requests as { requestId: string }[]).map((r) => r.requestId)).toEqual(['batch-1', 'batch-2']);
    const cases: [string, unknown, Parameters<typeof functionUrlEvent>[1], number][] = [
      ['no identifier', { reason: 'x' }, {}, 400],
      ['blank identifier', { identifier: '   ' }, {}, 400],
      ['unknown type', { identifier: SUBJECT, type: 'passport' }, {}, 400],
      ['bad request id', { identifier: SUBJECT, requestId: '../x' }, {}, 400],
      ['extra field', { identifier: SUBJECT, dataset: 'members' }, {}, 400],
      [
        'duplicate ids in a batch',
        {
          requests: [
            { identifier: 'a@b.co', requestId: 'd1' },
            { identifier: 'c@d.co', requestId: 'd1' },
          ],
        },
        {},
        400,
      ],
      ['26 requests', { requests: Array.from({ length: 26 }, (_, i) => ({ identifier: `p${i}@example.com` })) }, {}, 400],
      ['unsigned', { identifier: SUBJECT }, { caller: null }, 403],
    ];
    for (const [what, body, opts, status] of cases) {
      const r = await submit(body, opts);
      expect(r.statusCode, what).toBe(status);
      expect(JSON.stringify(r.body), what).not.toContain('ines.ferreira');
    }
    expect(await item('d1')).toBeUndefined();
  });

  it('erases the subject everywhere when the workflow runs the erase step', async () => {
    // MarkRunning, as the state machine does it.
    await stack.db.doc.send(
      new UpdateCommand({
        TableName: stack.tables.ERASURE_TABLE_NAME,
        Key: { pk: requestId },
        UpdateExpression: 'SET #s = :r',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':r': 'RUNNING' },
      }),
    );
    const summary = await eraseHandler({ requestId }, TEST_CONTEXT);
    expect(summary).toMatchObject({
      requestId,
      lineageRecordId: `erasure-${requestId}`,
      identifierType: 'email',
      datasets: ['members'],
      verification: 'passed',
    });
    expect(summary.rowsRemoved).toBeGreaterThanOrEqual(2); // the raw row and the curated row
    expect(JSON.stringify(summary)).not.toContain('ines');

    for (const bucket of [stack.buckets.ingest, stack.buckets.curated, stack.buckets.quarantine]) {
      const listed = await stack.s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'members/' }));
      for (const o of listed.Contents ?? []) expect(await text(bucket, o.Key as string), `${bucket}/${o.Key}`).not.toContain(SUBJECT);
    }
    // The other members are all still there, raw.
    expect(await text(stack.buckets.ingest, 'members/a.csv')).toContain(OTHERS[0]);
    expect(await text(stack.buckets.ingest, 'members/b.csv')).toContain(OTHERS[1]);
    // The rewritten raw object keeps expiring with the lifecycle rule.
    const tags = await stack.s3.client.send(new GetObjectTaggingCommand({ Bucket: stack.buckets.ingest, Key: 'members/a.csv' }));
    expect(tags.TagSet).toEqual([{ Key: PROCESSED_TAG.key, Value: PROCESSED_TAG.value }]);
  });

  it('is idempotent: the step again, or after the payload was dropped, answers from the certificate', async () => {
    const first = await eraseHandler({ requestId }, TEST_CONTEXT);
    // RecordCertificate, as the state machine does it: DONE, payload removed.
    await stack.db.doc.send(
      new UpdateCommand({
        TableName: stack.tables.ERASURE_TABLE_NAME,
        Key: { pk: requestId },
        UpdateExpression: 'SET #s = :d REMOVE payload',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':d': 'DONE' },
      }),
    );
    expect(await eraseHandler({ requestId }, TEST_CONTEXT)).toEqual(first);
    // Submitting the id again reports DONE and does not reopen it.
    expect((await submit({ identifier: SUBJECT, requestId })).body.requests).toEqual([{ requestId, status: 'DONE', accepted: false }]);
  });

  it('re-ingesting a file that holds the erased subject drops their row', async () => {
    expect(await stack.ingest('members/c.csv', csv([SUBJECT, 'new.member@example.org'], 50))).toEqual([]);
    const lineage = new DynamoDbLineageStore({ doc: stack.db.doc, tableName: stack.tables.LINEAGE_TABLE_NAME });
    let run: RunRecord | undefined;
    for await (const r of lineage.list({ dataset: 'members', kind: 'run' }))
      if ((r as unknown as RunRecord).input.key === 'members/c.csv') run = r as unknown as RunRecord;
    expect(run?.counts).toMatchObject({ rowsIn: 2, rowsPublished: 1, rowsSuppressed: 1, conserved: true });
  });

  it('fails permanently for unknown or malformed requests, and retries AWS throttling as TransientError', async () => {
    const ports = createAwsPorts(parseAwsEnv(stack.env), { clients: { s3: stack.s3.client, dynamodb: stack.db.client }, logger: quiet });
    await expect(eraseRecordedRequest({ ports, requests }, { requestId: 'never-submitted' })).rejects.toBeInstanceOf(UsageError);
    await expect(eraseRecordedRequest({ ports, requests }, { id: 'x' })).rejects.toBeInstanceOf(UsageError);
    const throttled = Object.assign(new Error('Rate exceeded for ines.ferreira@example.pt'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    const flaky = { get: async () => Promise.reject(throttled) } as unknown as DynamoDbErasureRequests;
    const err = await eraseRecordedRequest({ ports, requests: flaky }, { requestId: 'batch-1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).name).toBe('TransientError');
    expect((err as Error).message).not.toContain('ines');
    // Near miss: a bug is not retried under the transient name.
    const buggy = { get: async () => Promise.reject(new TypeError('x is undefined')) } as unknown as DynamoDbErasureRequests;
    await expect(eraseRecordedRequest({ ports, requests: buggy }, { requestId: 'batch-1' })).rejects.toBeInstanceOf(TypeError);
  });

  it('logged no identifier', () => {
    const all = stack.output.join('');
    expect(all).toContain('erasure request recorded');
    expect(all).not.toContain('ines');
    expect(all).not.toContain('7946');
  });
});
