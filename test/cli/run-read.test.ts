import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../support/cli.ts';

// A small CRM extract: direct identifiers, a free-text column and non-PII columns.
const CUSTOMERS = [
  'customer_id,full_name,email,phone,card_number,iban,segment,amount,signup_date,notes',
  'C100001,Alice Martin,alice.martin@example.com,+44 20 7946 0958,4539 1488 0343 6467,GB82 WEST 1234 5698 7654 32,smb,120.50,2024-03-01,Called Alice Martin about renewal',
  'C100002,Bernd Schmidt,bernd.schmidt@example.de,+49 30 901820,5425 2334 3010 9903,DE89 3704 0044 0532 0130 00,consumer,75.00,2024-04-11,Prefers email contact',
  'C100003,Chloé Dubois,chloe.dubois@example.fr,+33 1 42 68 53 00,3714 496353 98431,FR14 2004 1010 0505 0001 3M02 606,enterprise,1999.99,2023-12-24,No issues reported',
  'C100004,Diego García,diego.garcia@example.es,+34 912 345 678,4111 1111 1111 1111,ES91 2100 0418 4502 0005 1332,smb,0.00,2025-01-05,"Refund sent; wrote to diego.garcia@example.es"',
].join('\n');

const PII = [
  'Alice Martin',
  'alice.martin@example.com',
  '+44 20 7946 0958',
  '4539 1488 0343 6467',
  'GB82 WEST 1234 5698 7654 32',
  'Bernd Schmidt',
  'bernd.schmidt@example.de',
  '5425 2334 3010 9903',
  'DE89 3704 0044 0532 0130 00',
  'Chloé Dubois',
  'chloe.dubois@example.fr',
  'FR14 2004 1010 0505 0001 3M02 606',
  'Diego García',
  'diego.garcia@example.es',
  'ES91 2100 0418 4502 0005 1332',
];

function parseCsv(text: string): string[][] {
  // The fixture's curated output has no embedded newlines; a plain split is enough here.
  return text
    .trim()
    .split('\n')
    .map((l) => l.split(','));
}

describe('run then read', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let home: string;
  beforeAll(async () => {
    dir = await tempDir();
    home = join(dir.path, 'home');
    await writeFile(join(dir.path, 'customers.csv'), `${CUSTOMERS}\n`);
    await writeFile(join(dir.path, 'leads.csv'), 'lead_email,source\nALICE.MARTIN@example.com ,webinar\nnew.person@example.org,ads\n');
  });
  afterAll(() => dir[Symbol.asyncDispose]());

  it('publishes no structured PII, keeps non-PII columns byte-identical, and joins across datasets', async () => {
    const run = await runCli(['--home', home, 'run', 'customers.csv', 'leads.csv'], { cwd: dir.path });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('dataset customers');
    expect(run.stdout).toContain('✓ conserved');

    const read = await runCli(['--home', home, 'read', 'customers'], { cwd: dir.path });
    expect(read.code).toBe(0);
    for (const value of PII) expect(read.stdout).not.toContain(value);
    const rows = parseCsv(read.stdout);
    const header = rows[0] as string[];
    expect(header).toEqual([
      'customer_id',
      'full_name',
      'email',
      'phone',
      'card_number',
      'iban',
      'segment',
      'amount',
      'signup_date',
      'notes',
    ]);
    const raw = parseCsv(CUSTOMERS);
    for (const col of ['segment', 'amount', 'signup_date']) {
      const i = header.indexOf(col);
      expect(rows.slice(1).map((r) => r[i])).toEqual(raw.slice(1).map((r) => r[i]));
    }
    // Emails become tokens that join: the leads file has Alice's email in upper case with a space.
    const leads = parseCsv((await runCli(['--home', home, 'read', 'leads'], { cwd: dir.path })).stdout);
    const aliceToken = rows[1]?.[header.indexOf('email')];
    expect(aliceToken).toMatch(/^EMAIL_/);
    expect(leads[1]?.[0]).toBe(aliceToken);
    expect(leads[2]?.[0]).not.toBe(aliceToken);
  });

  it('does not duplicate data when the same file runs twice', async () => {
    const again = await runCli(['--home', home, 'run', 'customers.csv'], { cwd: dir.path });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already processed');
    const read = await runCli(['--home', home, 'read', 'customers', '--format', 'jsonl'], { cwd: dir.path });
    expect(read.stdout.trim().split('\n')).toHaveLength(4);
    expect(JSON.parse(read.stdout.split('\n')[0] as string)).toHaveProperty('segment', 'smb');
  });

  it('writes to a file with --out and prints JSON lineage', async () => {
    const out = join(dir.path, 'out.csv');
    expect((await runCli(['--home', home, 'read', 'customers', '--out', out], { cwd: dir.path })).code).toBe(0);
    expect((await readFile(out, 'utf8')).split('\n')[0]).toContain('customer_id');
    const lineage = await runCli(['--home', home, 'lineage', 'customers', '--json'], { cwd: dir.path });
    const records = JSON.parse(lineage.stdout) as {
      kind: string;
      counts: { conserved: boolean };
      plan: { column: string; entity: string | null }[];
    }[];
    const run = records.find((r) => r.kind === 'run');
    expect(run?.counts.conserved).toBe(true);
    expect(run?.plan.find((p) => p.column === 'email')?.entity).toBe('EMAIL_ADDRESS');
    for (const value of PII) expect(lineage.stdout).not.toContain(value);
  });
});

function truncatedGzip(): Buffer {
  const rows = Array.from({ length: 5000 }, (_, i) => `${i},${i % 2 ? 'placed' : 'shipped'},${i * 3}`).join('\n');
  const full = gzipSync(`order_id,status,amount\n${rows}\n`);
  return full.subarray(0, Math.floor(full.length / 2));
}

describe('bad input: a clear message, a quarantine entry, no row lost', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let home: string;
  const contract = [
    'version: 1',
    'dataset: orders',
    'columns:',
    '  - { name: order_id, type: string, nullable: false, unique: true }',
    '  - { name: status, type: string, enum: [placed, shipped] }',
    '  - { name: amount, type: number, min: 0 }',
    'maxInvalidRowShare: 0.5',
  ].join('\n');
  beforeAll(async () => {
    dir = await tempDir();
    home = join(dir.path, 'home');
    await writeFile(join(dir.path, 'orders.contract.yaml'), contract);
  });
  afterAll(() => dir[Symbol.asyncDispose]());

  const cases: { name: string; file: string; body: Buffer | string; rule: RegExp; wholeFile: boolean }[] = [
    { name: 'an empty file', file: 'orders.csv', body: '', rule: /empty/, wholeFile: true },
    {
      name: 'binary junk',
      file: 'orders.csv',
      body: Buffer.from([0x00, 0xff, 0x10, 0x80, 0x00, 0x01, 0xfe]),
      rule: /binary|encoding/,
      wholeFile: true,
    },
    { name: 'a wrong header', file: 'orders.csv', body: 'order_no,status,amount\n1,placed,3\n', rule: /header/, wholeFile: true },
    {
      name: 'a row with a missing field',
      file: 'orders.csv',
      body: 'order_id,status,amount\n1,placed,3\n2,shipped\n3,placed,4\n',
      rule: /field-count/,
      wholeFile: false,
    },
    {
      name: 'a value outside its enum',
      file: 'orders.csv',
      body: 'order_id,status,amount\n1,placed,3\n2,lost,5\n3,placed,4\n',
      rule: /enum/,
      wholeFile: false,
    },
    { name: 'a truncated gzip', file: 'orders.csv.gz', body: truncatedGzip(), rule: /gzip/, wholeFile: true },
  ];

  for (const c of cases) {
    it(`handles ${c.name}`, async () => {
      const path = join(dir.path, c.file);
      await writeFile(path, c.body);
      const res = await runCli(['--home', home, 'run', c.file, '--dataset', 'orders', '--contract', 'orders.contract.yaml', '--json'], {
        cwd: dir.path,
      });
      expect(res.code).toBe(1);
      expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace
      const [record] = JSON.parse(res.stdout) as {
        status: string;
        counts: { rowsIn: number; rowsQuarantined: number; rowsPublished: number; conserved: boolean };
        error?: { message: string; rule?: string };
        quarantineReasons: Record<string, number>;
        outputs: { bucket: string; role: string }[];
      }[];
      expect(record?.counts.conserved).toBe(true);
      if (c.wholeFile) {
        expect(record?.status).toBe('QUARANTINED');
        expect(`${record?.error?.rule} ${record?.error?.message}`).toMatch(c.rule);
        expect(record?.error?.message).toContain(c.file);
        expect(record?.outputs.some((o) => o.role === 'quarantine-file')).toBe(true);
        expect(record?.counts.rowsPublished).toBe(0);
      } else {
        expect(record?.status).toBe('COMPLETE');
        expect(Object.keys(record?.quarantineReasons ?? {}).join(' ')).toMatch(c.rule);
        expect(record?.counts.rowsQuarantined).toBe(1);
        expect(record?.counts.rowsPublished).toBe(2);
        expect(record?.outputs.some((o) => o.bucket === 'quarantine' && o.role === 'quarantine-rows')).toBe(true);
      }
    });
  }

  it('rejects usage errors with exit code 2', async () => {
    expect((await runCli(['--home', home, 'read'], { cwd: dir.path })).code).toBe(2);
    expect((await runCli(['--home', home, 'run', 'missing.csv'], { cwd: dir.path })).code).toBe(2);
    expect((await runCli(['--home', home, 'read', 'orders', '--format', 'xml'], { cwd: dir.path })).code).toBe(2);
    expect((await runCli(['--help'], { cwd: dir.path })).code).toBe(0);
  });
});
