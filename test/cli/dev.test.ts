/**
 * `privacy-pipeline dev`, in-process: the environment starts s3rver and dynalite on 127.0.0.1;
 * a CSV put into the ingest bucket with the S3 SDK flows through process-upload; the curated
 * object and the lineage record are read back from the emulators. An optional case drives it
 * with the Debian AWS CLI v2 when that is installed.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '../../functions/adapters/aws/aws-ports.ts';
import { DynamoDbLineageStore } from '../../functions/adapters/aws/dynamodb-lineage-store.ts';
import {
  type DevEnvironment,
  type DevProcessed,
  encodeS3EventKey,
  hasLegacyCiphers,
  legacyProviderCommand,
  startDevEnvironment,
} from '../../functions/cli/dev/dev-environment.ts';
import type { RunRecord } from '../../functions/core/lineage/run-record.ts';
import { tempDir } from '../support/cli.ts';

const CSV = 'customer_id,email,plan\nC1,anna.berg@example.se,pro\nC2,ravi.patel@example.in,free\nC3,lea.roux@example.fr,pro\n';
/** The Debian awscli v2 binary, by full path (a pyenv awscli v1 may come first on PATH); '' when absent. */
const AWS_CLI = (() => {
  try {
    return (
      execFileSync('dpkg', ['-L', 'awscli'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .split('\n')
        .find((l) => l.endsWith('/bin/aws')) ?? ''
    );
  } catch {
    return '';
  }
})();

describe('privacy-pipeline dev', () => {
  let env: DevEnvironment;
  let s3: S3Client;
  const processed: DevProcessed[] = [];

  beforeAll(async () => {
    env = await startDevEnvironment({ prefix: 'devtest', logLevel: 'silent', onProcessed: (p) => processed.push(p) });
    s3 = new S3Client({
      region: env.region,
      endpoint: env.s3Endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  });
  afterAll(async () => {
    s3?.destroy();
    await env?.stop();
  });

  async function keys(bucket: string, prefix: string): Promise<string[]> {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (out.Contents ?? []).map((o) => o.Key as string);
  }
  async function text(bucket: string, key: string): Promise<string> {
    return (await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString()) ?? '';
  }

  it('serves the stack buckets and tables on 127.0.0.1 and prints ready-to-paste commands', async () => {
    expect(env.s3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.dynamoEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.buckets).toEqual({
      ingest: 'devtest-ingest',
      curated: 'devtest-curated',
      quarantine: 'devtest-quarantine',
      aggregates: 'devtest-aggregates',
    });
    const db = new DynamoDBClient({
      region: env.region,
      endpoint: env.dynamoEndpoint,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    expect((await db.send(new ListTablesCommand({}))).TableNames?.sort()).toEqual(Object.values(env.tables).sort());
    db.destroy();
    expect(env.commands).toContain(
      `AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER aws --endpoint-url ${env.s3Endpoint} s3 cp customers.csv s3://devtest-ingest/customers/`,
    );
    expect(env.commands.some((c) => c.includes(`dynamodb scan --table-name ${env.tables.LINEAGE_TABLE_NAME}`))).toBe(true);
  });

  it('runs an upload through process-upload: curated object without emails, lineage in DynamoDB', async () => {
    const key = 'customers/export 2026 été.csv';
    await s3.send(new PutObjectCommand({ Bucket: env.buckets.ingest, Key: key, Body: CSV }));
    await env.idle();
    const done = processed.find((p) => p.key === key);
    expect(done?.outcome).toBe('processed');
    const curated = await keys(env.buckets.curated, 'customers/');
    const part = curated.find((k) => k.endsWith('.csv')) as string;
    expect(part).toBeDefined();
    const published = await text(env.buckets.curated, part);
    expect(published.split('\n')[0]).toBe('customer_id,email,plan');
    for (const e of ['anna.berg@example.se', 'ravi.patel@example.in', 'lea.roux@example.fr']) expect(published).not.toContain(e);

    const doc = documentClient(
      new DynamoDBClient({ region: env.region, endpoint: env.dynamoEndpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
    );
    const lineage = new DynamoDbLineageStore({ doc, tableName: env.tables.LINEAGE_TABLE_NAME });
    const runs: RunRecord[] = [];
    for await (const r of lineage.list({ dataset: 'customers', kind: 'run' })) runs.push(r as unknown as RunRecord);
    expect(runs).toHaveLength(1);
    // The unicode key with spaces survived the S3-style encoding and decoding.
    expect(runs[0]).toMatchObject({ status: 'COMPLETE', input: { key }, counts: { rowsIn: 3, rowsPublished: 3, conserved: true } });
    doc.destroy();
  });

  it('ignores objects outside <dataset>/ and writes to other buckets, and treats a re-upload as a duplicate', async () => {
    await s3.send(new PutObjectCommand({ Bucket: env.buckets.ingest, Key: 'loose.csv', Body: CSV }));
    await s3.send(new PutObjectCommand({ Bucket: env.buckets.curated, Key: 'customers/manual.csv', Body: CSV }));
    await s3.send(new PutObjectCommand({ Bucket: env.buckets.ingest, Key: 'customers/export 2026 été.csv', Body: CSV }));
    await env.idle();
    expect(processed.find((p) => p.key === 'loose.csv')?.outcome).toBe('skipped');
    expect(processed.some((p) => p.key === 'customers/manual.csv')).toBe(false);
    const again = processed.filter((p) => p.key === 'customers/export 2026 été.csv').at(-1);
    expect(again?.outcome === 'processed' && again.result.duplicate).toBe(true);
  });

  it('keeps its data in a given folder across restarts', async () => {
    await using dir = await tempDir('pp-dev-keep-');
    const first = await startDevEnvironment({ dir: dir.path, prefix: 'keep', logLevel: 'silent' });
    const client = new S3Client({
      region: first.region,
      endpoint: first.s3Endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    await client.send(new PutObjectCommand({ Bucket: first.buckets.ingest, Key: 'plans/a.csv', Body: 'plan,price\npro,10\n' }));
    await first.idle();
    client.destroy();
    const firstRuns: string[] = [];
    for await (const r of first.ports.lineage.list({ dataset: 'plans' })) firstRuns.push(r.id);
    await first.stop();
    expect(existsSync(join(dir.path, 'keys', 'keyring.json'))).toBe(true);
    const second = await startDevEnvironment({ dir: dir.path, prefix: 'keep', logLevel: 'silent' });
    const again: string[] = [];
    for await (const r of second.ports.lineage.list({ dataset: 'plans' })) again.push(r.id);
    await second.stop();
    expect(firstRuns).toHaveLength(1);
    expect(again).toEqual(firstRuns);
  });

  it('encodes event keys as S3 does and knows how to re-run itself with the legacy provider', () => {
    expect(encodeS3EventKey('customers/a b+c/é.csv')).toBe('customers/a+b%2Bc/%C3%A9.csv');
    // vitest runs with --openssl-legacy-provider (vitest.config.ts).
    expect(hasLegacyCiphers()).toBe(true);
    expect(
      legacyProviderCommand(
        '/usr/bin/node',
        ['--enable-source-maps'],
        ['/usr/bin/node', '/app/bin/privacy-pipeline.mjs', 'dev', '--dir', 'x'],
      ),
    ).toEqual({
      command: '/usr/bin/node',
      args: ['--openssl-legacy-provider', '--enable-source-maps', '/app/bin/privacy-pipeline.mjs', 'dev', '--dir', 'x'],
    });
  });

  it.skipIf(AWS_CLI === '' || !existsSync(AWS_CLI))('works with the AWS CLI commands it prints (Debian awscli v2)', async () => {
    await using dir = await tempDir('pp-dev-cli-');
    await writeFile(join(dir.path, 'customers.csv'), CSV.replace(/C(\d)/g, 'K$1'));
    const run = promisify(execFile);
    const cliEnv = {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_DEFAULT_REGION: env.region,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
      AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
    };
    const before = processed.length;
    await run(
      AWS_CLI,
      [
        '--endpoint-url',
        env.s3Endpoint,
        's3',
        'cp',
        '--only-show-errors',
        join(dir.path, 'customers.csv'),
        `s3://${env.buckets.ingest}/cli/`,
      ],
      { env: cliEnv },
    );
    for (let i = 0; i < 100 && processed.length === before; i++) await new Promise((r) => setTimeout(r, 50));
    await env.idle();
    expect(processed.at(-1)).toMatchObject({ key: 'cli/customers.csv', outcome: 'processed' });
    const listed = await run(AWS_CLI, ['--endpoint-url', env.s3Endpoint, 's3', 'ls', '--recursive', `s3://${env.buckets.curated}/cli/`], {
      env: cliEnv,
    });
    expect(listed.stdout).toMatch(/part-00000\.csv/);
    const scan = await run(
      AWS_CLI,
      [
        '--endpoint-url',
        env.dynamoEndpoint,
        'dynamodb',
        'scan',
        '--table-name',
        env.tables.LINEAGE_TABLE_NAME,
        '--projection-expression',
        'pk, kind, dataset',
      ],
      { env: cliEnv },
    );
    expect(JSON.parse(scan.stdout).Items.some((i: { dataset?: { S: string } }) => i.dataset?.S === 'cli')).toBe(true);
  });
});
