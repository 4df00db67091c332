/**
 * Crypto-shredding end to end on the local adapters: `encrypt` columns ingested from two files
 * join, re-identify with an audit record, and after the subject's erasure the tokens copied out
 * before it can no longer be reversed by anyone: the vault keys they need are gone, and the
 * `token-siv` key alone decrypts nothing. Other subjects still reverse.
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eraseSubject } from '../../../functions/core/erasure/erase-subject.ts';
import { ReidentificationError } from '../../../functions/core/errors.ts';
import { reidentify, tokenHash } from '../../../functions/core/pseudonymise/reidentify.ts';
import { decryptToken, parseEncryptedToken } from '../../../functions/core/pseudonymise/reversible.ts';
import { currentText, dataLines, ingest, type TestPorts, tempPorts } from './helpers.ts';

const CONTRACT = `dataset: accounts
subjectKey: customer_id
columns:
  - { name: customer_id, privacy: { entity: SUBJECT_ID, operator: encrypt } }
  - { name: email, privacy: { entity: EMAIL_ADDRESS, operator: encrypt } }
  - { name: last_ip, privacy: { entity: IP_ADDRESS, operator: encrypt } }
  - { name: plan, enum: [free, pro] }
`;
const FILE_1 = `customer_id,email,last_ip,plan
C-1001,Ana.Silva@Example.com,203.0.113.7,pro
C-1002,bo.lindqvist@example.org,198.51.100.23,free
C-1003,chiara.rossi@example.net,192.0.2.44,pro
`;
// Ana again (another spelling of her email), Dan, 30 more customers, and a row of Ana that is
// quarantined (invalid plan; under the 5% share that would reject the file).
const MORE = Array.from({ length: 30 }, (_, i) => `C-2${String(i).padStart(3, '0')},user${i}@example.com,198.51.100.${i + 100},free`);
const FILE_2 = `customer_id,email,last_ip,plan
C-1001,  ana.silva@example.com ,203.0.113.7,free
C-1004,dan.okafor@example.com,198.51.100.99,pro
${MORE.join('\n')}
C-1001,ana.silva@example.com,203.0.113.8,enterprise
`;
const REASON = 'Art. 15 access request, ticket DPO-4711';

type Row = Record<'customer_id' | 'email' | 'last_ip' | 'plan', string>;

async function curatedRows(ports: TestPorts, key: string): Promise<Row[]> {
  const result = await ingest(ports, key, key.endsWith('1.csv') ? FILE_1 : FILE_2, CONTRACT);
  expect(result.record.status).toBe('COMPLETE');
  const text = await currentText(ports, 'curated', result.record.outputs.find((o) => o.role === 'curated')?.key ?? '');
  const [header] = text.split('\n');
  const columns = (header ?? '').split(',');
  return dataLines(text, true).map((l) => Object.fromEntries(l.split(',').map((c, i) => [columns[i], c])) as Row);
}

const refOf = (token: string) => parseEncryptedToken(token)?.ref as string;

async function refused(ports: TestPorts, token: string): Promise<unknown> {
  return reidentify(ports, { tokens: [token], reason: REASON, requestedBy: 'dpo@corp' }).catch((e: unknown) => e);
}

describe('crypto-shredding of reversible tokens', () => {
  it('tokens join across files and reverse; after erasure the saved copies can never be decrypted again', async () => {
    const ports = await tempPorts();
    const jan = await curatedRows(ports, 'accounts/2026-01.csv');
    const feb = await curatedRows(ports, 'accounts/2026-02.csv');
    expect(jan).toHaveLength(3);
    expect(feb).toHaveLength(32); // Ana's third row was quarantined (plan: enterprise)

    // Deterministic: Ana's email and id give the same tokens in both files (joins work).
    const [ana, bo, chiara] = jan as [Row, Row, Row];
    const dan = feb[1] as Row;
    expect(feb[0]?.email).toBe(ana.email);
    expect(feb[0]?.customer_id).toBe(ana.customer_id);
    for (const r of [...jan, ...feb]) {
      expect(r.email).toMatch(/^ENC_EMAIL_[0-9a-f]{16}_[A-Za-z0-9_-]{22,}$/);
      expect(r.customer_id).toMatch(/^ENC_ID_[0-9a-f]{16}_/);
      expect(r.last_ip).toMatch(/^ENC_IP_[0-9a-f]{16}_/);
    }
    expect(new Set([ana, bo, chiara, dan].map((r) => r.email)).size).toBe(4);

    // Re-identification reverses them, after an audit record in lineage.
    const revealed = await reidentify(ports, { tokens: [ana.email, ana.customer_id], reason: REASON, requestedBy: 'dpo@corp' });
    expect(revealed.map((r) => r.value)).toEqual(['ana.silva@example.com', 'C-1001']);
    const audits: unknown[] = [];
    for await (const r of ports.lineage.list({ kind: 'reidentification' })) audits.push(r);
    expect(audits).toEqual([
      expect.objectContaining({ requestedBy: 'dpo@corp', tokenHashes: [tokenHash(ana.email), tokenHash(ana.customer_id)] }),
    ]);

    // What an analyst copied out before the erasure, and the keys that decrypt it today.
    const saved = [ana.email, ana.customer_id, ana.last_ip];
    const siv = (await ports.keys.pseudonymKey('token-siv')).material;
    for (const t of saved) {
      const vaultKey = await ports.subjectKeys.get(refOf(t));
      expect(vaultKey).toBeDefined();
      expect(decryptToken(t, siv, vaultKey as Uint8Array).value).not.toBe('');
    }
    const keyDir = path.join(ports.home, 'subject-keys');
    const keyFiles = (await readdir(keyDir)).length;

    const cert = await eraseSubject(ports, { identifier: 'ana.silva@example.com', reason: 'Art. 17 request' });
    // Her email, her customer id (followed from her rows) and both her IP addresses: the one of
    // her quarantined row had its key made too (keys are fetched before rows are validated).
    expect(cert.subjectKeysShredded).toBe(4);
    expect((await readdir(keyDir)).length).toBe(keyFiles - 4);

    for (const t of saved) {
      // Re-identification refuses: the key is gone.
      const err = await refused(ports, t);
      expect(err).toBeInstanceOf(ReidentificationError);
      expect((err as ReidentificationError).context).toMatchObject({ rule: 'subject-erased' });
      // And no one can decrypt it any more, even holding the token-siv key: decryption needs the
      // vault key, which no longer exists; a key made now for the same ref is another key.
      expect(await ports.subjectKeys.get(refOf(t))).toBeUndefined();
      for (const guess of [new Uint8Array(32), new Uint8Array(randomBytes(32)), await ports.subjectKeys.getOrCreate(refOf(t))]) {
        expect(() => decryptToken(t, siv, guess)).toThrow(expect.objectContaining({ context: { rule: 'token-auth' } }));
      }
    }

    // Other subjects are untouched: their saved tokens still reverse.
    const others = await reidentify(ports, {
      tokens: [bo.email, chiara.customer_id, dan.last_ip],
      reason: REASON,
      requestedBy: 'dpo@corp',
    });
    expect(others.map((r) => r.value)).toEqual(['bo.lindqvist@example.org', 'C-1003', '198.51.100.99']);
  });

  it('a subject re-ingested after erasure is suppressed, and no key is left behind for their old tokens', async () => {
    const ports = await tempPorts();
    const [ana] = (await curatedRows(ports, 'accounts/2026-01.csv')) as [Row];
    await eraseSubject(ports, { identifier: 'C-1001', type: 'subject-id' });
    const again = await ingest(ports, 'accounts/2026-03.csv', FILE_1, CONTRACT);
    expect(again.record.counts).toMatchObject({ rowsSuppressed: 1 });
    expect(await ports.subjectKeys.get(refOf(ana.email))).toBeUndefined();
    expect(await refused(ports, ana.email)).toMatchObject({ context: { rule: 'subject-erased' } });
  });
});
