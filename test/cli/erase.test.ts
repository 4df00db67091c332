import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli, tempDir } from '../support/cli.ts';

const CUSTOMERS = [
  'customer_id,full_name,email,phone,notes',
  'C100001,Alice Martin,alice.martin@example.com,+44 20 7946 0958,Prefers email',
  'C100002,Bernd Schmidt,bernd.schmidt@example.de,+49 30 901820,Referred by alice.martin@example.com',
  'C100003,Chloé Dubois,chloe.dubois@example.fr,+33 1 42 68 53 00,No issues reported',
].join('\n');
const ORDERS = ['{"order_id":"O-1","customer_id":"C100001","amount":12}', '{"order_id":"O-2","customer_id":"C100003","amount":5}'].join(
  '\n',
);

// Lets one test make the core report a failed verification; the others run the real erasure.
const failVerification = vi.hoisted(() => ({ on: false }));
vi.mock('../../functions/core/erasure/erase-subject.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../functions/core/erasure/erase-subject.ts')>();
  const { ErasureVerificationError } = await import('../../functions/core/errors.ts');
  return {
    ...real,
    eraseSubject: (async (...args: Parameters<typeof real.eraseSubject>) => {
      if (failVerification.on) {
        throw new ErasureVerificationError(
          'erasure r1 verification failed: 1 object(s) still hold the subject: curated/customers/x/part-00000.csv: 1 record(s)',
          {},
        );
      }
      return real.eraseSubject(...args);
    }) as typeof real.eraseSubject,
  };
});

describe('privacy-pipeline erase', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let home: string;
  beforeAll(async () => {
    dir = await tempDir();
    home = join(dir.path, 'home');
    await writeFile(join(dir.path, 'customers.csv'), `${CUSTOMERS}\n`);
    await writeFile(join(dir.path, 'orders.jsonl'), `${ORDERS}\n`);
    const run = await runCli(['--home', home, 'run', 'customers.csv', 'orders.jsonl'], {
      cwd: dir.path,
      env: { PRIVACY_PIPELINE_DEBUG: '1' },
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });
  afterAll(() => dir[Symbol.asyncDispose]());

  it('erases by email, prints a JSON certificate without the identifier, and the data no longer holds it', async () => {
    const res = await runCli(
      ['--home', home, 'erase', 'Alice.Martin@example.com', '--reason', 'ticket 42', '--requested-by', 'dpo', '--json'],
      { cwd: dir.path },
    );
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout.toLowerCase()).not.toContain('alice');
    const cert = JSON.parse(res.stdout);
    expect(cert).toMatchObject({ identifierType: 'email', verification: 'passed', requestedBy: 'dpo', reason: 'ticket 42' });
    expect(cert.subjectRef).toMatch(/^EMAIL_[0-9a-f]{16}$/);
    // Customer row and the order that names them by customer id, in curated and raw.
    expect(cert.rowsRemoved).toBe(4);
    for (const [dataset, others] of [
      ['customers', 2],
      ['orders', 1],
    ] as const) {
      const read = await runCli(['--home', home, 'read', dataset], { cwd: dir.path });
      expect(read.code).toBe(0);
      expect(read.stdout.trim().split('\n')).toHaveLength(others + (dataset === 'customers' ? 1 : 0));
    }
    const lineage = await runCli(['--home', home, 'lineage', '--json'], { cwd: dir.path });
    expect(lineage.stdout).toContain(`"erasure-${cert.requestId}"`);
    expect(lineage.stdout.toLowerCase()).not.toContain('alice');
  });

  it('prints a readable summary; a second erasure finds nothing', async () => {
    const res = await runCli(['--home', home, 'erase', 'alice.martin@example.com', '--type', 'email'], { cwd: dir.path });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('erasure verified and certified');
    expect(res.stdout).toContain('0 row(s)');
    expect(res.stdout).toContain('nothing held the subject');
    expect(res.stdout.toLowerCase()).not.toContain('alice');
  });

  it.each([
    [['erase'], 'missing identifier'],
    [['erase', 'x@example.com', '--type', 'passport'], 'unknown type'],
    [['erase', 'x@example.com', '--request-id', 'has spaces'], 'bad request id'],
  ])('exits 2 on usage errors: %j (%s)', async (args, _why) => {
    const res = await runCli(['--home', home, ...args], { cwd: dir.path });
    expect(res.code).toBe(2);
    expect(res.stderr).not.toContain('x@example.com');
  });

  it('exits 1 when verification fails, naming the object, not the subject', async () => {
    failVerification.on = true;
    try {
      const res = await runCli(['--home', home, 'erase', 'bernd.schmidt@example.de'], { cwd: dir.path });
      expect(res.code).toBe(1);
      expect(res.stderr).toContain('verification failed');
      expect(res.stderr).toContain('curated/customers/x/part-00000.csv');
      expect(res.stderr + res.stdout).not.toContain('bernd');
    } finally {
      failVerification.on = false;
    }
  });
});
