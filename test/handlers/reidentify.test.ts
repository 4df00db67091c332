/**
 * The re-identification endpoint on emulated AWS: a contract column with `operator: encrypt` is
 * ingested through the real process-upload handler; the reidentify handler reverses its tokens
 * for a signed caller after writing the audit record to the DynamoDB lineage table.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLineageStore } from '../../functions/adapters/aws/dynamodb-lineage-store.ts';
import type { LineageRecord } from '../../functions/core/ports.ts';
import { tokenHash } from '../../functions/core/pseudonymise/reidentify.ts';
import { handler } from '../../functions/handlers/reidentify.ts';
import { type EmulatedStack, functionUrlEvent, resultBody, startEmulatedStack, TEST_CONTEXT } from '../support/emulated-stack.ts';

const CONTRACT = `
dataset: claims
columns:
  - { name: claim_id, type: string }
  - { name: policyholder_email, type: string, privacy: { entity: EMAIL_ADDRESS, operator: encrypt } }
  - { name: amount, type: number }
aggregates: []
`;
const EMAILS = ['greta.nilsson@example.se', 'omar.haddad@example.com'];
const CSV = `claim_id,policyholder_email,amount\nK1,${EMAILS[0]},100\nK2,${EMAILS[1]},250.5\n`;
const CALLER = 'arn:aws:sts::111111111111:assumed-role/PrivacyPipeline-test-Reidentifier/carol';
const REASON = 'fraud investigation, case FR-2026-118';

describe('reidentify handler on s3rver + dynalite + fake KMS', () => {
  let stack: EmulatedStack;
  let tokens: string[] = [];
  let lineage: DynamoDbLineageStore;

  beforeAll(async () => {
    stack = await startEmulatedStack('reid');
    lineage = new DynamoDbLineageStore({ doc: stack.db.doc, tableName: stack.tables.LINEAGE_TABLE_NAME });
    await stack.s3.client.send(
      new PutObjectCommand({ Bucket: stack.buckets.ingest, Key: '_contracts/claims.contract.yaml', Body: CONTRACT }),
    );
    expect(await stack.ingest('claims/batch-1.csv', CSV)).toEqual([]);
    const listed = await stack.s3.client.send(new ListObjectsV2Command({ Bucket: stack.buckets.curated, Prefix: 'claims/' }));
    const part = listed.Contents?.find((o) => o.Key?.endsWith('.csv'))?.Key;
    const text =
      (await (await stack.s3.client.send(new GetObjectCommand({ Bucket: stack.buckets.curated, Key: part }))).Body?.transformToString()) ??
      '';
    for (const e of EMAILS) expect(text).not.toContain(e);
    tokens = text
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[1] as string);
  });
  afterAll(() => stack.close());

  const call = async (body: unknown, caller?: string | null) =>
    resultBody(await handler(functionUrlEvent(body, caller === undefined ? { caller: CALLER } : { caller }), TEST_CONTEXT));

  async function audits(): Promise<LineageRecord[]> {
    const out: LineageRecord[] = [];
    for await (const r of lineage.list({ kind: 'reidentification' })) out.push(r);
    return out;
  }

  it('reveals the values to the signed caller and records the request first', async () => {
    const { statusCode, body } = await call({ tokens, reason: REASON, dataset: 'claims' });
    expect(statusCode).toBe(200);
    expect(body.values).toEqual(EMAILS.map((value, i) => ({ token: tokens[i], entity: 'EMAIL_ADDRESS', value })));
    const [audit, ...more] = await audits();
    expect(more).toEqual([]);
    expect(audit).toMatchObject({
      dataset: 'claims',
      requestedBy: CALLER,
      reason: REASON,
      tokenCount: 2,
      tokenHashes: tokens.map(tokenHash),
      entities: ['EMAIL_ADDRESS'],
    });
    expect(JSON.stringify(audit)).not.toMatch(/greta|omar/);
  });

  it('refuses without a reason (403) and on an altered token (403), recording nothing', async () => {
    const before = (await audits()).length;
    const noReason = await call({ tokens });
    expect(noReason.statusCode).toBe(403);
    expect(noReason.body).toMatchObject({ error: 'ReidentificationError', rule: 'reason-required' });
    const t = tokens[0] as string;
    // A character of the ciphertext (the ref before it names the vault key: left intact).
    const i = t.length - 5;
    const altered = await call({ tokens: [`${t.slice(0, i)}${t[i] === 'A' ? 'B' : 'A'}${t.slice(i + 1)}`], reason: REASON });
    expect(altered.statusCode).toBe(403);
    expect(altered.body).toMatchObject({ rule: 'token-auth' });
    expect(JSON.stringify(altered.body)).not.toContain(t.slice(10));
    expect((await audits()).length).toBe(before);
  });

  it('refuses an unsigned request and a body that is not a token list', async () => {
    expect((await call({ tokens, reason: REASON }, null)).statusCode).toBe(403);
    expect((await call({ tokens: 'ENC_EMAIL_x', reason: REASON })).statusCode).toBe(400);
    expect((await call({ tokens: [], reason: REASON })).statusCode).toBe(400);
  });

  it('never logged a revealed value or a token', () => {
    const all = stack.output.join('');
    expect(all).toContain('re-identification');
    for (const e of EMAILS) expect(all).not.toContain(e);
    for (const t of tokens) expect(all).not.toContain(t);
  });
});
