/**
 * No PII outside the encrypted stores, and no key material anywhere: the whole demo (small), an
 * erasure, and every read-only command run with debug logs; then every log line (local JSON
 * logger, Powertools logger and EMF metrics of the Lambda path), every CLI output, every lineage
 * record, every quarantine report and aggregate, and every plaintext file of the home folder are
 * searched for every ground-truth PII value of the demo data and for the keys' material. The
 * encrypted object files must not hold plaintext either (raw bytes searched).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { toCoreLogger } from '../../functions/adapters/aws/powertools-logger.ts';
import { createLocalPorts } from '../../functions/adapters/local/local-ports.ts';
import { createCliContext } from '../../functions/cli/cli-context.ts';
import { runDemo } from '../../functions/cli/commands/demo.ts';
import { generateDemoData } from '../../functions/cli/demo/demo-data.ts';
import { processUpload } from '../../functions/handlers/process-upload.ts';
import { runCli, tempDir } from '../support/cli.ts';
import { everyObjectText } from '../support/local-home.ts';

const SIZE = { customers: 200, orders: 300 };
const LOG_ENV = { PRIVACY_PIPELINE_LOG_LEVEL: 'debug', PRIVACY_PIPELINE_DEBUG: '1' };

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** Where each searched text came from, for readable failures. */
interface Source {
  readonly where: string;
  readonly text: string;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Ground truth as one search: every value, and the compact forms a canonicaliser could produce
 * (digits only, no spaces, lower case). A hit must be bounded by non-alphanumerics, so that `Li`
 * does not hit inside a token or `Max` inside `maxRowsPerSubject`.
 */
interface Needles {
  readonly any: RegExp;
  readonly size: number;
}

function needles(truth: ReadonlySet<string>): Needles {
  const values = new Set<string>();
  for (const v of truth) {
    values.add(v);
    if (/\d/.test(v) && !v.includes('@')) {
      const digits = v.replace(/\D/g, '');
      if (digits.length >= 9) values.add(digits);
      values.add(v.replace(/\s+/g, ''));
    }
    if (v.includes('@')) values.add(v.toLowerCase());
  }
  const list = [...values].filter((v) => v.length >= 2).sort((a, b) => b.length - a.length);
  return { any: new RegExp(`(?<![\\p{L}\\p{N}])(?:${list.map(escapeRegExp).join('|')})(?![\\p{L}\\p{N}])`, 'gu'), size: list.length };
}

function hits(sources: readonly Source[], n: Needles): string[] {
  const found: string[] = [];
  for (const s of sources) for (const m of s.text.matchAll(n.any)) found.push(`${s.where}: ${m[0]}`);
  return found;
}

/** The ASCII values of six characters or more: what can be looked for in binary content without chance hits. */
function longAscii(truth: ReadonlySet<string>): Needles {
  return needles(new Set([...truth].filter((v) => /^[\x20-\x7e]+$/.test(v) && v.length >= 6)));
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out;
}

describe('no PII outside the encrypted stores, no key material anywhere', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let home: string;
  const sources: Source[] = [];
  const stderrLines: string[] = [];
  const stdoutLines: string[] = [];
  const data = generateDemoData({ customers: SIZE.customers, orders: SIZE.orders, brokenShare: 0.01 });
  const subject = data.customers[4] as (typeof data.customers)[number];

  beforeAll(async () => {
    dir = await tempDir('pp-leak-');
    home = join(dir.path, 'demo', 'home');
    // The local logger and Powertools write to the process streams: keep every line.
    for (const [stream, lines] of [
      [process.stderr, stderrLines],
      [process.stdout, stdoutLines],
    ] as const) {
      const write = stream.write.bind(stream) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
        const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        if (!text.startsWith('{')) return write(chunk, ...rest);
        lines.push(text);
        return true;
      });
    }

    // 1. The demo, in process, logs at debug level.
    const out = new Capture();
    const err = new Capture();
    const ctx = createCliContext({ stdout: out, stderr: err, env: { NO_COLOR: '1', ...LOG_ENV }, cwd: dir.path });
    await runDemo(ctx, join(dir.path, 'demo'), SIZE);
    sources.push({ where: 'demo stdout', text: out.text }, { where: 'demo stderr', text: err.text });

    // 2. Every command a user runs next, an erasure among them.
    const cli = async (...args: string[]) => {
      const res = await runCli(['--home', home, ...args], { cwd: dir.path, env: LOG_ENV });
      sources.push({ where: `${args.join(' ')} (stdout)`, text: res.stdout }, { where: `${args.join(' ')} (stderr)`, text: res.stderr });
      return res;
    };
    const erased = await cli('erase', subject.email, '--json');
    expect(erased.code, erased.stderr).toBe(0);
    expect((await cli('erase', subject.phone, '--type', 'phone', '--region', subject.country)).code).toBe(0);
    for (const args of [
      ['lineage'],
      ['lineage', '--json'],
      ['lineage', '--openlineage'],
      ['aggregates', 'customers', '--json'],
      ['aggregates', 'customers'],
      ['scan', join(dir.path, 'demo', 'input', 'customers.csv'), '--json'],
      ['scan', join(dir.path, 'demo', 'input', 'orders.jsonl')],
      ['query', 'customers', '--count', '--by', 'segment', '--epsilon', '0.5', '--json'],
      ['keys', 'list', '--json'],
      ['read', 'orders'],
      ['run', join(dir.path, 'demo', 'input', 'customers.csv'), '--contract', join(dir.path, 'demo', 'input', 'customers.contract.yaml')],
    ]) {
      const res = await cli(...args);
      expect(res.stderr).not.toMatch(/^\s+at /m);
    }
    expect((await cli('keys', 'rotate')).code).toBe(0);

    // 3. The Lambda path over the same stores: Powertools logs at DEBUG and EMF metrics.
    const ports = await createLocalPorts(home, {
      logger: toCoreLogger(new PowertoolsLogger({ serviceName: 'leak-test', logLevel: 'DEBUG' })),
    });
    await ports.objects.put(
      'ingest',
      'customers/again.csv',
      new TextEncoder().encode(data.customersCsv.replace('customer_id', 'customer_id')),
      {
        encryptionContext: { dataset: 'customers' },
      },
    );
    const metrics = new Metrics({ namespace: 'LeakTest', serviceName: 'leak-test' });
    const body = JSON.stringify({
      Records: [
        {
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: 'ingest' }, object: { key: 'customers/again.csv', eTag: 'x' } },
        },
      ],
    });
    const response = await processUpload(
      { ports, ingestBucketName: 'ingest', metrics },
      {
        Records: [
          {
            messageId: 'm1',
            receiptHandle: 'r',
            body,
            attributes: {} as never,
            messageAttributes: {},
            md5OfBody: '',
            eventSource: 'aws:sqs',
            eventSourceARN: 'a',
            awsRegion: 'eu-west-1',
          },
        ],
      },
    );
    expect(response).toEqual({ batchItemFailures: [] });
    sources.push(
      { where: 'log lines and EMF (stdout)', text: stdoutLines.join('') },
      { where: 'log lines (stderr)', text: stderrLines.join('') },
    );
  }, 120_000);

  afterAll(async () => {
    vi.restoreAllMocks();
    await dir[Symbol.asyncDispose]();
  });

  it('captured debug logs, EMF metrics and the output of every command', () => {
    expect(stderrLines.some((l) => l.includes('"level":"debug"') || l.includes('"level":"info"'))).toBe(true);
    expect(stdoutLines.some((l) => l.includes('"_aws"'))).toBe(true); // EMF
    expect(stdoutLines.some((l) => l.includes('"level":"DEBUG"') || l.includes('"level":"INFO"'))).toBe(true); // Powertools
    expect(sources.length).toBeGreaterThan(25);
  });

  it('finds no ground-truth PII value in any log line, metric, CLI output or error', () => {
    expect(data.groundTruth.size).toBeGreaterThan(1000);
    // The search works: the raw input is full of hits.
    expect(hits([{ where: 'raw input', text: data.customersCsv }], needles(data.groundTruth)).length).toBeGreaterThan(1000);
    expect(hits(sources, needles(data.groundTruth))).toEqual([]);
  });

  it('finds none in lineage, quarantine reports, aggregates or any plaintext file of the home folder', async () => {
    const ports = await createLocalPorts(home, { logLevel: 'silent' });
    const stored: Source[] = [];
    // Binary content (subject indexes, wrapped keys) is searched for the long values only: two random bytes can spell `Wm`.
    const binary: Source[] = [];
    const add = (where: string, bytes: Buffer) => {
      const text = bytes.toString('utf8');
      if (text.includes('\uFFFD') || text.includes('\u0000')) binary.push({ where, text: bytes.toString('latin1') });
      else stored.push({ where, text });
    };
    for (const o of await everyObjectText(ports)) {
      // Raw input and quarantined rows/files hold PII by design (encrypted at rest, checked below).
      if (o.bucket === 'ingest' || (o.bucket === 'quarantine' && !o.key.endsWith('_report.json'))) continue;
      // Curated free text is as good as detection; its structured columns are checked in the CLI tests.
      if (o.bucket === 'curated' && o.key.startsWith('customers/') && /part-\d+/.test(o.key)) continue;
      add(`${o.bucket}/${o.key}`, o.bytes);
    }
    for (const file of await filesUnder(home)) {
      if (file.endsWith('.bin')) continue; // encrypted object bodies: raw bytes checked in the next test
      add(file.slice(home.length), await readFile(file));
    }
    expect(stored.some((s) => s.where.includes('lineage.jsonl'))).toBe(true);
    expect(stored.some((s) => s.where.endsWith('_report.json'))).toBe(true);
    expect(binary.some((s) => s.where.endsWith('_subjects.idx'))).toBe(true);
    expect(hits(stored, needles(data.groundTruth))).toEqual([]);
    expect(hits(binary, longAscii(data.groundTruth))).toEqual([]);
  });

  it('holds no plaintext in the encrypted object files, raw bytes searched', async () => {
    const bins = (await filesUnder(join(home, 'store'))).filter((f) => f.endsWith('.bin'));
    expect(bins.length).toBeGreaterThan(20);
    const raw: Source[] = [];
    for (const f of bins) raw.push({ where: f.slice(home.length), text: (await readFile(f)).toString('latin1') });
    // Latin-1 keeps every byte: an ASCII value present in the file would show as itself.
    const ascii = longAscii(data.groundTruth);
    expect(hits([{ where: 'raw input', text: data.customersCsv }], ascii).length).toBeGreaterThan(500);
    expect(hits(raw, ascii)).toEqual([]);
  });

  it('leaks no key material: master keys, pseudonymisation keys, in hex or base64, anywhere', async () => {
    const ring = JSON.parse(await readFile(join(home, 'keyring.json'), 'utf8')) as { masterKeys: Record<string, string> };
    const ports = await createLocalPorts(home, { logLevel: 'silent' });
    const secrets: Buffer[] = Object.values(ring.masterKeys).map((b) => Buffer.from(b, 'base64'));
    for (const purpose of ['token-hmac', 'token-siv'] as const)
      secrets.push(Buffer.from((await ports.keys.pseudonymKey(purpose)).material));
    expect(secrets.length).toBeGreaterThanOrEqual(4); // two master versions after the rotation, two pseudonym keys
    const forms = secrets.flatMap((s) => [
      s.toString('hex'),
      s.toString('base64'),
      s.toString('base64url'),
      s.subarray(0, 12).toString('hex'),
    ]);
    const everywhere: Source[] = [...sources];
    for (const file of await filesUnder(home)) {
      if (file.endsWith('keyring.json')) continue;
      everywhere.push({ where: file.slice(home.length), text: (await readFile(file)).toString('latin1') });
    }
    const found: string[] = [];
    for (const s of everywhere) for (const f of forms) if (s.text.includes(f)) found.push(s.where);
    expect(found).toEqual([]);
    // The raw bytes of the master keys are not in any object file either.
    for (const s of everywhere) for (const k of secrets) expect(s.text.includes(k.toString('latin1')), s.where).toBe(false);
  });
});
