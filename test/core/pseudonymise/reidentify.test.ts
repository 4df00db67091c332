import { describe, expect, it } from 'vitest';
import { eraseSubject } from '../../../functions/core/erasure/erase-subject.ts';
import { ReidentificationError, UsageError } from '../../../functions/core/errors.ts';
import type { LineageRecord } from '../../../functions/core/ports.ts';
import { reidentify, tokenHash } from '../../../functions/core/pseudonymise/reidentify.ts';
import { parseEncryptedToken } from '../../../functions/core/pseudonymise/reversible.ts';
import { readText } from '../../support/local-home.ts';
import { ingest, type TestPorts, tempPorts } from '../erasure/helpers.ts';

const CONTRACT = [
  'dataset: members',
  'columns:',
  '  - { name: member_id, privacy: { entity: SUBJECT_ID, operator: encrypt } }',
  '  - { name: email, privacy: { entity: EMAIL_ADDRESS, operator: encrypt } }',
  '  - { name: name, privacy: { entity: PERSON, operator: token } }',
  '  - { name: tier, enum: [gold, silver] }',
].join('\n');

const MEMBERS = [
  { id: 'M-1001', email: 'Ana.Silva@Example.com', name: 'Ana Silva', tier: 'gold' },
  { id: 'M-1002', email: 'bo.lindqvist@example.org', name: 'Bo Lindqvist', tier: 'silver' },
  { id: 'M-1003', email: 'chiara+news@example.net', name: 'Chiara Rossi', tier: 'gold' },
];
const CSV = `member_id,email,name,tier\n${MEMBERS.map((m) => `${m.id},${m.email},${m.name},${m.tier}`).join('\n')}\n`;
const REASON = 'Art. 15 access request, ticket DPO-4711';

/** Ingests the members file and returns the curated rows (header → cell). */
async function ingested(): Promise<{ ports: TestPorts; rows: Record<string, string>[] }> {
  const ports = await tempPorts();
  const { record } = await ingest(ports, 'members/2026-11.csv', CSV, CONTRACT);
  expect(record.status).toBe('COMPLETE');
  const curated = await readText(ports, 'curated', record.outputs.find((o) => o.role === 'curated')?.key ?? '');
  const [header, ...lines] = curated.trim().split('\n');
  const columns = (header ?? '').split(',');
  const rows = lines.map((l) => Object.fromEntries(l.split(',').map((c, i) => [columns[i] ?? '', c])));
  return { ports, rows };
}

async function lineageDump(ports: TestPorts): Promise<LineageRecord[]> {
  const out: LineageRecord[] = [];
  for await (const r of ports.lineage.list()) out.push(r);
  return out;
}

describe('reidentify', () => {
  it('reverses encrypt tokens written by ingest, after recording who, why and which tokens', async () => {
    const { ports, rows } = await ingested();
    expect(rows).toHaveLength(3);
    for (const r of rows) {
      expect(r.email).toMatch(/^ENC_EMAIL_/);
      expect(r.member_id).toMatch(/^ENC_/);
      expect(r.name).toMatch(/^PERSON_[0-9a-f]+$/);
    }
    const tokens = rows.map((r) => r.email as string);
    const revealed = await reidentify(ports, { tokens, reason: REASON, requestedBy: 'dpo@corp', dataset: 'members' });
    // Emails come back in their canonical (lowercased) form, in request order.
    expect(revealed).toEqual(MEMBERS.map((m, i) => ({ token: tokens[i], entity: 'EMAIL_ADDRESS', value: m.email.toLowerCase() })));
    const ids = await reidentify(ports, { tokens: [rows[1]?.member_id as string], reason: REASON, requestedBy: 'dpo@corp' });
    expect(ids.map((r) => [r.entity, r.value])).toEqual([['SUBJECT_ID', 'M-1002']]);

    const audits = (await lineageDump(ports)).filter((r) => r.kind === 'reidentification');
    expect(audits).toHaveLength(2);
    expect(audits[0]).toMatchObject({
      kind: 'reidentification',
      dataset: 'members',
      requestedBy: 'dpo@corp',
      reason: REASON,
      tokenCount: 3,
      tokenHashes: tokens.map(tokenHash),
      entities: ['EMAIL_ADDRESS'],
    });
    expect(audits[0]?.id).toMatch(/^reid-/);
    expect(audits[1]).toMatchObject({ dataset: '*', tokenCount: 1, entities: ['SUBJECT_ID'] });
    // Lineage holds no revealed value and no token in clear.
    const all = JSON.stringify(await lineageDump(ports)).toLowerCase();
    for (const m of MEMBERS) {
      expect(all).not.toContain(m.email.toLowerCase());
      expect(all).not.toContain(m.id.toLowerCase());
    }
    for (const t of tokens) expect(all).not.toContain(t.toLowerCase());
  });

  it.each([
    ['no reason', ''],
    ['blank reason', '          '],
    ['short reason', 'because'],
    ['near miss: 9 characters', '123456789'],
  ])('refuses without a real reason (%s) and records nothing', async (_case, reason) => {
    const { ports, rows } = await ingested();
    const before = (await lineageDump(ports)).length;
    const call = reidentify(ports, { tokens: [rows[0]?.email as string], reason, requestedBy: 'dpo@corp' });
    await expect(call).rejects.toBeInstanceOf(ReidentificationError);
    await expect(call).rejects.toMatchObject({ context: { rule: 'reason-required' } });
    expect((await lineageDump(ports)).length).toBe(before);
  });

  it('accepts a reason of exactly the minimum length', async () => {
    const { ports, rows } = await ingested();
    const out = await reidentify(ports, { tokens: [rows[0]?.email as string], reason: '1234567890', requestedBy: 'dpo@corp' });
    expect(out).toHaveLength(1);
  });

  it('refuses altered, truncated, foreign and non-tokens without echoing them, and reveals nothing', async () => {
    const { ports, rows } = await ingested();
    // A token whose byte length leaves spare bits in its last character.
    const bodyOf = (t: string) => parseEncryptedToken(t)?.body as string;
    const good = rows.map((r) => r.email as string).find((t) => Buffer.from(bodyOf(t), 'base64url').length % 3 !== 0) as string;
    const body = bodyOf(good);
    const head = good.slice(0, good.length - body.length); // ENC_EMAIL_<ref hex>_
    const hex = head.slice('ENC_EMAIL_'.length, -1);
    const otherRow = rows.map((r) => r.email as string).find((t) => t !== good) as string;
    const otherHead = otherRow.slice(0, otherRow.length - bodyOf(otherRow).length);
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const other = await ingested(); // another home: another key
    // The same bytes with the spare low bits of the last base64 character set (n % 3 = 1: 4 bits, 2: 2 bits).
    const sloppy = (b64: string) => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const spare = [0, 4, 2][Buffer.from(b64, 'base64url').length % 3] as number;
      const last = alphabet.indexOf(b64.at(-1) as string);
      return b64.slice(0, -1) + alphabet[last | ((1 << spare) - 1)];
    };
    const cases = [
      ['one character changed', `${head}${flip(body, 5)}`, 'token-auth'],
      ['second-to-last character changed', `${head}${flip(body, body.length - 2)}`, 'token-auth'],
      ['truncated by 3 bytes', `${head}${Buffer.from(body, 'base64url').subarray(0, -3).toString('base64url')}`, 'token-auth'],
      // Another subject's ref: its key exists, but the ciphertext was sealed under this one's.
      ['moved to another subject', `${otherHead}${body}`, 'token-auth'],
      // No key is filed under these refs here, so nothing can even be tried.
      ['moved to another entity', `ENC_PERSON_${hex}_${body}`, 'subject-erased'],
      ['made under another deployment', other.rows[0]?.email as string, 'subject-erased'],
      ['unknown prefix', `ENC_NOPE_${hex}_${body}`, 'token-format'],
      ['non-canonical spelling of the same bytes', `${head}${sloppy(body)}`, 'token-format'],
      ['a plain HMAC token', rows[0]?.name as string, 'token-format'],
      ['a value pasted by mistake', 'ana.silva@example.com', 'token-format'],
    ] as const;
    for (const [what, bad, rule] of cases) {
      const err = await reidentify(ports, { tokens: [good, bad], reason: REASON, requestedBy: 'dpo@corp' }).catch((e: unknown) => e);
      expect(err, what).toBeInstanceOf(ReidentificationError);
      expect((err as ReidentificationError).context, what).toMatchObject({ rule, token: 2 });
      expect((err as Error).message, what).not.toContain(bad);
    }
    expect((await lineageDump(ports)).filter((r) => r.kind === 'reidentification')).toEqual([]);
  });

  it('checks the request: tokens, requester, dataset', async () => {
    const { ports, rows } = await ingested();
    const t = rows[0]?.email as string;
    await expect(reidentify(ports, { tokens: [], reason: REASON, requestedBy: 'x' })).rejects.toBeInstanceOf(UsageError);
    await expect(reidentify(ports, { tokens: [t], reason: REASON, requestedBy: '  ' })).rejects.toMatchObject({
      context: { rule: 'requester-required' },
    });
    await expect(reidentify(ports, { tokens: [t], reason: REASON, requestedBy: 'x', dataset: '../etc' })).rejects.toBeInstanceOf(
      UsageError,
    );
  });

  it('returns nothing when the audit record cannot be written', async () => {
    const { ports, rows } = await ingested();
    const failing = { ...ports, lineage: { ...ports.lineage, append: async () => Promise.reject(new Error('lineage store down')) } };
    await expect(reidentify(failing, { tokens: [rows[0]?.email as string], reason: REASON, requestedBy: 'dpo@corp' })).rejects.toThrow(
      'lineage store down',
    );
  });

  it('scrubs PII and the revealed values from the recorded reason', async () => {
    const { ports, rows } = await ingested();
    await reidentify(ports, {
      tokens: [rows[0]?.email as string],
      reason: 'customer ana.silva@example.com called +44 20 7946 0958 about her data',
      requestedBy: 'dpo@corp',
    });
    const [audit] = (await lineageDump(ports)).filter((r) => r.kind === 'reidentification');
    expect(audit?.reason).toBe('customer [REDACTED] called [REDACTED] about her data');
  });

  it('refuses tokens of an erased subject, including copies made before the erasure', async () => {
    const { ports, rows } = await ingested();
    const copied = rows.map((r) => r.email as string);
    await eraseSubject(ports, { identifier: 'ana.silva@example.com', reason: 'Art. 17 request' });
    const err = await reidentify(ports, { tokens: copied, reason: REASON, requestedBy: 'dpo@corp' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReidentificationError);
    expect((err as ReidentificationError).context).toMatchObject({ rule: 'subject-erased', token: 1 });
    // The member id token of the same person is refused too (erasure's closure suppressed it).
    await expect(
      reidentify(ports, { tokens: [rows[0]?.member_id as string], reason: REASON, requestedBy: 'dpo@corp' }),
    ).rejects.toMatchObject({
      context: { rule: 'subject-erased' },
    });
    // Near miss: the other subjects are still reversible.
    const rest = await reidentify(ports, { tokens: copied.slice(1), reason: REASON, requestedBy: 'dpo@corp' });
    expect(rest.map((r) => r.value)).toEqual([MEMBERS[1]?.email, MEMBERS[2]?.email]);
  });
});
