import { describe, expect, it } from 'vitest';
import { type ErasureCertificate, eraseSubject } from '../../../functions/core/erasure/erase-subject.ts';
import { ErasureVerificationError, TransientError, UsageError } from '../../../functions/core/errors.ts';
import type { RunRecord } from '../../../functions/core/lineage/run-record.ts';
import { ingestObject } from '../../../functions/core/pipeline/ingest-object.ts';
import { readDataset } from '../../../functions/core/pipeline/read-dataset.ts';
import type { ObjectStore, Ports } from '../../../functions/core/ports.ts';
import { DEFAULT_POLICY } from '../../../functions/core/pseudonymise/policy.ts';
import { identifierTokens } from '../../../functions/core/pseudonymise/token.ts';
import { currentText, dataLines, everyVersion, ingest, type TestPorts, tempPorts } from './helpers.ts';

const CUSTOMERS_CONTRACT = `
dataset: customers
subjectKey: customer_id
maxInvalidRowShare: 0.5
columns:
  - { name: customer_id, privacy: { entity: SUBJECT_ID } }
  - { name: email, privacy: { entity: EMAIL_ADDRESS } }
  - { name: name, privacy: { entity: PERSON } }
  - { name: phone, privacy: { entity: PHONE_NUMBER } }
  - { name: tier, enum: [gold, silver, bronze] }
  - { name: notes, privacy: { entity: FREE_TEXT } }
`;

const ORDERS_CONTRACT = `
dataset: orders
subjectKey: customer_id
columns:
  - { name: order_id, privacy: { operator: keep } }
  - { name: customer_id, privacy: { entity: SUBJECT_ID } }
  - { name: email, required: false, privacy: { entity: EMAIL_ADDRESS } }
  - { name: amount, type: number }
  - { name: note, privacy: { entity: FREE_TEXT } }
`;

const HEADER = 'customer_id,email,name,phone,tier,notes';
const FILES = {
  'customers/customers-1.csv': [
    HEADER,
    'CUST-4711,jane.doe@example.com,Jane Doe,+44 7700 900123,gold,Prefers email',
    'CUST-5001,bob.roe@example.org,Bob Roe,+44 7700 900456,silver,Referred by jane.doe@example.com',
    'CUST-5002,carol.poe@example.net,Carol Poe,+44 7700 900789,bronze,Called Jane Doe about a parcel',
    'CUST-5003,dan.moe@example.com,Dan Moe,+44 7700 900321,gold,',
  ],
  // Two invalid tiers: the subject's row and another customer's go to quarantine, 3 rows publish.
  'customers/customers-2.csv': [
    HEADER,
    'CUST-4711,JANE.DOE@EXAMPLE.COM,Jane Doe,07700 900123,platinum,duplicate signup',
    'CUST-5006,hal.soe@example.com,Hal Soe,+44 7700 900222,platinum,',
    'CUST-5004,eve.loe@example.com,Eve Loe,+44 7700 900654,silver,',
    'CUST-5005,fay.koe@example.com,Fay Koe,+44 7700 900987,gold,',
    'CUST-5008,ida.zoe@example.com,Ida Zoe,+44 7700 900333,bronze,',
  ],
  // Wrong header (no notes column): the whole file is quarantined before any column is classified.
  'customers/customers-3.csv': [
    'customer_id,email,name,phone,tier',
    'CUST-4711,jane.doe@example.com,Jane Doe,+447700900123,gold',
    'CUST-5007,gil.hoe@example.com,Gil Hoe,+44 7700 900111,gold',
  ],
  // Too many invalid rows: quarantined whole, after classification.
  'customers/customers-4.csv': [
    HEADER,
    'CUST-4711,jane.doe@example.com,Jane Doe,+44 7700 900123,tin,',
    'CUST-5010,kim.voe@example.com,Kim Voe,+44 7700 900444,lead,',
    'CUST-5011,lee.woe@example.com,Lee Woe,+44 7700 900555,zinc,',
  ],
  'orders/orders-1.jsonl': [
    '{"order_id":"O-1","customer_id":"CUST-4711","email":"jane.doe@example.com","amount":12.5,"note":"leave at door"}',
    '{"order_id":"O-2","customer_id":"CUST-4711","email":null,"amount":40,"note":"gift"}',
    '{"order_id":"O-3","customer_id":"CUST-5001","email":"bob.roe@example.org","amount":7,"note":"call Jane Doe if absent"}',
    '{"order_id":"O-4","customer_id":"CUST-5002","email":"carol.poe@example.net","amount":3,"note":""}',
  ],
  // Orders that name the customer by customer_id only (gzip).
  'orders/orders-2.jsonl.gz': [
    '{"order_id":"O-5","customer_id":"CUST-4711","amount":1,"note":"x"}',
    '{"order_id":"O-6","customer_id":"CUST-5003","amount":2,"note":"y"}',
  ],
} as const;

const SUBJECT_EMAIL = 'jane.doe@example.com';

async function subjectTokens(ports: Ports): Promise<string[]> {
  const hmac = (await ports.keys.pseudonymKey('token-hmac')).material;
  const opts = { tokenLength: DEFAULT_POLICY.tokenLength, region: 'GB' };
  return [
    ...identifierTokens(SUBJECT_EMAIL, 'email', hmac, opts),
    ...identifierTokens('CUST-4711', 'subject-id', hmac, opts),
    ...identifierTokens('Jane Doe', 'name', hmac, opts),
    ...identifierTokens('+44 7700 900123', 'phone', hmac, opts),
  ];
}

/** Everything that would identify the subject in any stored text. */
function leaks(text: string, tokens: readonly string[]): string[] {
  const found: string[] = [];
  const lower = text.toLowerCase();
  for (const v of [SUBJECT_EMAIL, 'jane doe', 'cust-4711']) if (lower.includes(v)) found.push(v);
  if (text.replace(/[\s-]/g, '').includes('7700900123')) found.push('phone');
  for (const t of tokens) if (text.includes(t)) found.push(t);
  return found;
}

async function setup(): Promise<TestPorts> {
  const ports = await tempPorts();
  for (const [key, lines] of Object.entries(FILES)) {
    await ingest(ports, key, `${lines.join('\n')}\n`, key.startsWith('customers/') ? CUSTOMERS_CONTRACT : ORDERS_CONTRACT);
  }
  return ports;
}

async function countRows(ports: Ports, dataset: string): Promise<number> {
  let n = 0;
  for await (const _ of (await readDataset(ports, dataset)).rows) n++;
  return n;
}

describe('eraseSubject end to end on the local store', () => {
  it('removes the subject from raw, curated and quarantine objects and their old versions, keeps every other row, and keeps them out', async () => {
    const ports = await setup();
    const runs: RunRecord[] = [];
    for await (const r of ports.lineage.list({ kind: 'run' })) runs.push(r as unknown as RunRecord);
    // The fixture is what it claims to be.
    expect(runs.map((r) => [r.input.key, r.status, r.counts.rowsPublished, r.counts.rowsQuarantined])).toEqual([
      ['customers/customers-1.csv', 'COMPLETE', 4, 0],
      ['customers/customers-2.csv', 'COMPLETE', 3, 2],
      ['customers/customers-3.csv', 'QUARANTINED', 0, 0],
      ['customers/customers-4.csv', 'QUARANTINED', 0, 3],
      ['orders/orders-1.jsonl', 'COMPLETE', 4, 0],
      ['orders/orders-2.jsonl.gz', 'COMPLETE', 2, 0],
    ]);
    expect(runs[2]?.plan).toEqual([]);
    expect(runs[3]?.plan.length).toBeGreaterThan(0);
    expect(await countRows(ports, 'customers')).toBe(7);
    expect(await countRows(ports, 'orders')).toBe(6);
    const tokens = await subjectTokens(ports);
    const before = await everyVersion(ports);
    expect(before.filter((v) => leaks(v.text, tokens).length > 0).length).toBeGreaterThanOrEqual(10);

    const cert = await eraseSubject(ports, {
      identifier: 'Jane.Doe@example.com ',
      reason: 'Art. 17 request from jane.doe@example.com',
      requestedBy: 'dpo-1',
      requestId: 'req-1',
    });

    // Nothing of the subject anywhere, in any version of any object.
    const after = await everyVersion(ports);
    const leaking = after
      .filter((v) => leaks(v.text, tokens).length > 0)
      .map((v) => `${v.bucket}/${v.key}@${v.versionId}: ${leaks(v.text, tokens).join(',')}`);
    expect(leaking).toEqual([]);
    // Old versions of rewritten objects are gone: one version per key left.
    const perKey = new Map<string, number>();
    for (const v of after) perKey.set(`${v.bucket}/${v.key}`, (perKey.get(`${v.bucket}/${v.key}`) ?? 0) + 1);
    expect([...perKey.entries()].filter(([, n]) => n > 1)).toEqual([]);

    // Every other row is still there.
    expect(await countRows(ports, 'customers')).toBe(6);
    expect(await countRows(ports, 'orders')).toBe(3);
    const rawCounts = Object.fromEntries(
      await Promise.all(
        Object.keys(FILES).map(async (k) => [k, dataLines(await currentText(ports, 'ingest', k), k.includes('.csv')).length]),
      ),
    );
    expect(rawCounts).toEqual({
      'customers/customers-1.csv': 3,
      'customers/customers-2.csv': 4,
      'customers/customers-3.csv': 1,
      'customers/customers-4.csv': 2,
      'orders/orders-1.jsonl': 2,
      'orders/orders-2.jsonl.gz': 1,
    });
    const q = await currentText(ports, 'quarantine', `customers/${runs[1]?.runKey}/rows.jsonl`);
    expect(dataLines(q, false).map((l) => JSON.parse(l)._cells.customer_id)).toEqual(['CUST-5006']);
    expect(dataLines(await currentText(ports, 'quarantine', `customers/${runs[2]?.runKey}/file/customers-3.csv`), true)).toEqual([
      'CUST-5007,gil.hoe@example.com,Gil Hoe,+44 7700 900111,gold',
    ]);
    // Mentions in other people's rows are erased, the rest of their text survives.
    const raw1 = await currentText(ports, 'ingest', 'customers/customers-1.csv');
    expect(raw1).toContain('CUST-5001,bob.roe@example.org,Bob Roe,+44 7700 900456,silver,Referred by [ERASED]');
    expect(raw1).toContain('Called [ERASED] about a parcel');
    expect(await currentText(ports, 'ingest', 'orders/orders-1.jsonl')).toContain('"note":"call [ERASED] if absent"');
    const curatedCustomers = await currentText(ports, 'curated', runs[0]?.outputs.find((o) => o.role === 'curated')?.key as string);
    expect(curatedCustomers).toMatch(/Referred by \[ERASED\]/);

    // The certificate says what happened and never names the subject.
    expect(cert).toMatchObject({
      requestId: 'req-1',
      identifierType: 'email',
      subjectRef: tokens[0],
      verification: 'passed',
      requestedBy: 'dpo-1',
      datasets: ['customers', 'orders'],
    });
    expect(cert.rowsRemoved).toBe(14);
    expect(cert.objectsRewritten.reduce((n, o) => n + o.rowsRemoved, 0)).toBe(14);
    for (const o of cert.objectsRewritten) expect(o.rowsAfter).toBe(o.rowsBefore - o.rowsRemoved);
    expect(cert.spansRedacted).toBeGreaterThanOrEqual(6);
    expect(cert.versionsDeleted).toBeGreaterThanOrEqual(cert.objectsRewritten.length);
    expect(cert.tokensMatched).toBeGreaterThanOrEqual(4);
    // 4 COMPLETE runs with a curated index, one of them with a quarantine index too.
    expect(cert.indexesTested).toBe(5);
    expect(cert.objectsRead).toBe(cert.objectsFound);
    expect(cert.reason).toBe('Art. 17 request from [ERASED]');
    const record = await ports.lineage.get('erasure-req-1');
    expect(record).toMatchObject({ kind: 'erasure', dataset: '*', rowsRemoved: 14 });
    expect(JSON.stringify(record).toLowerCase()).not.toContain('jane');

    // Erasure-rewritten raw objects are not ingested again.
    expect((await ingestObject(ports, { key: 'customers/customers-1.csv' })).status).toBe('SKIPPED');

    // Idempotent: a second request finds nothing; repeating a request id returns its certificate.
    const again = await eraseSubject(ports, { identifier: SUBJECT_EMAIL });
    expect(again).toMatchObject({ rowsRemoved: 0, objectsRewritten: [], verification: 'passed' });
    expect(await eraseSubject(ports, { identifier: SUBJECT_EMAIL, requestId: 'req-1' })).toEqual(cert);

    // Keep-out: new files holding the subject drop their rows, counted as suppressed.
    const c5 = await ingest(
      ports,
      'customers/customers-5.csv',
      `${HEADER}\nCUST-4711,jane.doe@example.com,Jane Doe,+44 7700 900123,gold,back again\nCUST-5020,max.yoe@example.com,Max Yoe,+44 7700 900666,gold,\n`,
      CUSTOMERS_CONTRACT,
    );
    expect(c5.record.counts).toMatchObject({ rowsIn: 2, rowsPublished: 1, rowsSuppressed: 1, conserved: true });
    // Orders that name them only by customer_id too (the closure's tokens are on the list).
    const o3 = await ingest(
      ports,
      'orders/orders-3.jsonl',
      '{"order_id":"O-7","customer_id":"CUST-4711","amount":5,"note":""}\n{"order_id":"O-8","customer_id":"CUST-5001","amount":6,"note":""}\n',
      ORDERS_CONTRACT,
    );
    expect(o3.record.counts).toMatchObject({ rowsPublished: 1, rowsSuppressed: 1 });
    const curated = await everyVersion(ports);
    expect(curated.filter((v) => v.bucket === 'curated' && leaks(v.text, tokens).length > 0)).toEqual([]);
  });

  it('refuses what it cannot do, without naming the identifier', async () => {
    const ports = await tempPorts();
    await expect(eraseSubject(ports, { identifier: '  ' })).rejects.toBeInstanceOf(UsageError);
    await expect(eraseSubject(ports, { identifier: 'a@b.example', requestId: 'bad id with spaces' })).rejects.toBeInstanceOf(UsageError);
    await expect(eraseSubject(ports, { identifier: 'a@b.example', requestId: 'r' }, { maxPasses: 0 })).rejects.toBeInstanceOf(UsageError);
    // On an empty store erasure certifies that nothing was found, and still shreds the subject's keys.
    const hmac = (await ports.keys.pseudonymKey('token-hmac')).material;
    const [ref] = identifierTokens('a@b.example', 'email', hmac, { tokenLength: DEFAULT_POLICY.tokenLength });
    await ports.subjectKeys.getOrCreate(ref as string);
    await ports.subjectKeys.getOrCreate('EMAIL_someone-else');
    const cert: ErasureCertificate = await eraseSubject(ports, { identifier: 'a@b.example' });
    expect(cert).toMatchObject({
      rowsRemoved: 0,
      objectsRead: 0,
      indexesTested: 0,
      verification: 'passed',
      subjectRef: ref,
      subjectKeysShredded: 1,
    });
    expect(await ports.subjectKeys.get(ref as string)).toBeUndefined();
    expect(await ports.subjectKeys.get('EMAIL_someone-else')).toBeDefined();
  });

  it('fails verification loudly when a rewrite did not stick, and writes no certificate', async () => {
    const ports = await tempPorts();
    await ingest(ports, 'customers/customers-1.csv', `${FILES['customers/customers-1.csv'].join('\n')}\n`, CUSTOMERS_CONTRACT);
    // A store that acknowledges writes of curated objects but drops them.
    const objects: ObjectStore = Object.create(ports.objects) as ObjectStore;
    objects.put = async (bucket, key, body, opts) => {
      if (bucket !== 'curated' || !key.includes('/part-')) return ports.objects.put(bucket, key, body, opts);
      for await (const _ of body as AsyncIterable<Uint8Array>) {
        // swallow
      }
      const head = await ports.objects.head(bucket, key);
      return head as NonNullable<typeof head>;
    };
    objects.delete = async () => undefined;
    const err = await eraseSubject({ ...ports, objects }, { identifier: SUBJECT_EMAIL, requestId: 'req-lost' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ErasureVerificationError);
    expect((err as Error).message).toMatch(/curated\/customers\/.*part-00000\.csv/);
    expect((err as Error).message.toLowerCase()).not.toContain('jane');
    expect(await ports.lineage.get('erasure-req-lost')).toBeUndefined();
  });
});

describe('raw drops waiting for their ingest', () => {
  it('are not rewritten under their ingest (the request asks to be retried), and are cleaned on the retry', async () => {
    const ports = await tempPorts();
    const text = (extra: string) =>
      `${HEADER}\nCUST-4711,jane.doe@example.com,Jane Doe,+44 7700 900123,gold,\nCUST-5001,bob.roe@example.org,Bob Roe,+44 7700 900456,gold,\n${extra}`;
    await ingest(ports, 'customers/c.csv', text(''), CUSTOMERS_CONTRACT);
    // The same key is uploaded again and its ingest has not run yet.
    const pendingText = text('CUST-5002,carol.poe@example.net,Carol Poe,+44 7700 900789,gold,\n');
    await ports.objects.put('ingest', 'customers/c.csv', Buffer.from(pendingText), { encryptionContext: { dataset: 'customers' } });

    const first = await eraseSubject(ports, { identifier: SUBJECT_EMAIL, requestId: 'req-p' }, { maxPasses: 2 }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(TransientError);
    expect((first as TransientError).context.rule).toBe('raw-pending');
    expect(await ports.lineage.get('erasure-req-p')).toBeUndefined();
    // Its ingest still sees it whole, and drops the subject on the way (the keep-out list is in place).
    expect(await currentText(ports, 'ingest', 'customers/c.csv')).toBe(pendingText);
    const late = await ingestObject(ports, { key: 'customers/c.csv', contract: { text: CUSTOMERS_CONTRACT, source: 'c' } });
    expect(late.record.counts).toMatchObject({ rowsPublished: 2, rowsSuppressed: 1 });

    const cert = await eraseSubject(ports, { identifier: SUBJECT_EMAIL, requestId: 'req-p' });
    expect(cert.verification).toBe('passed');
    const tokens = await subjectTokens(ports);
    expect((await everyVersion(ports)).filter((v) => leaks(v.text, tokens).length > 0).map((v) => `${v.bucket}/${v.key}`)).toEqual([]);
    expect(dataLines(await currentText(ports, 'ingest', 'customers/c.csv'), true).map((l) => l.split(',')[0])).toEqual([
      'CUST-5001',
      'CUST-5002',
    ]);
  });
});
