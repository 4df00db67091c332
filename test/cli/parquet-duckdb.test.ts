import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ByteWriter, parquetWrite } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../support/cli.ts';

const N = 500;
const EMAILS = Array.from({ length: N }, (_, i) => `member${i}@example.com`);
const NAMES = Array.from({ length: N }, (_, i) => ['Alice Martin', 'Bernd Schmidt', 'Chloé Dubois'][i % 3] as string);

function membersParquet(): Uint8Array {
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    rowGroupSize: 100,
    columnData: [
      { name: 'member_id', data: Array.from({ length: N }, (_, i) => `M${100000 + i}`), type: 'STRING' },
      { name: 'full_name', data: NAMES, type: 'STRING' },
      { name: 'email', data: EMAILS, type: 'STRING' },
      { name: 'visits', data: Array.from({ length: N }, (_, i) => i % 17), type: 'INT32' },
      { name: 'spend', data: Array.from({ length: N }, (_, i) => (i % 50) * 1.25), type: 'DOUBLE' },
      { name: 'premium', data: Array.from({ length: N }, (_, i) => i % 4 === 0), type: 'BOOLEAN' },
      { name: 'joined_at', data: Array.from({ length: N }, (_, i) => new Date(Date.UTC(2023, i % 12, 1 + (i % 28)))), type: 'TIMESTAMP' },
    ],
  });
  return new Uint8Array(writer.getBuffer());
}

describe('the ML team reads curated Parquet with DuckDB', () => {
  it('run a Parquet file, read it back as Parquet, query it with read_parquet: right rows, types, no PII', async () => {
    await using dir = await tempDir();
    const home = join(dir.path, 'home');
    await writeFile(join(dir.path, 'members.parquet'), membersParquet());
    for (const workers of ['1', '2']) {
      const dataset = `members${workers}`;
      const run = await runCli(
        ['--home', home, 'run', 'members.parquet', '--dataset', dataset, '--workers', workers, '--chunk-size', '1KiB', '--json'],
        {
          cwd: dir.path,
        },
      );
      expect(run.code, run.stderr).toBe(0);
      const record = (JSON.parse(run.stdout) as { status: string; chunks?: unknown[] }[])[0];
      expect(record?.status).toBe('COMPLETE');
      if (workers === '2') expect(record?.chunks).toHaveLength(5);

      const out = join(dir.path, `${dataset}.parquet`);
      const read = await runCli(['--home', home, 'read', dataset, '--format', 'parquet', '--out', out], { cwd: dir.path });
      expect(read.code, read.stderr).toBe(0);

      const db = await DuckDBInstance.create(':memory:');
      const conn = await db.connect();
      try {
        const count = (
          await conn.runAndReadAll(`SELECT count(*)::INTEGER AS n, sum(visits)::INTEGER AS visits FROM read_parquet('${out}')`)
        ).getRowObjectsJson();
        expect(count).toEqual([{ n: N, visits: EMAILS.reduce((s, _e, i) => s + (i % 17), 0) }]);
        const types = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${out}')`)).getRowObjectsJson();
        expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toMatchObject({
          visits: 'INTEGER',
          spend: 'DOUBLE',
          premium: 'BOOLEAN',
          joined_at: expect.stringMatching(/^TIMESTAMP/),
          email: 'VARCHAR',
        });
        const rows = (await conn.runAndReadAll(`SELECT * FROM read_parquet('${out}')`)).getRowObjectsJson();
        const text = JSON.stringify(rows);
        for (const e of EMAILS.slice(0, 50)) expect(text).not.toContain(e);
        for (const name of new Set(NAMES)) expect(text).not.toContain(name);
        expect(String(rows[0]?.email)).toMatch(/^EMAIL_[0-9a-f]{16}$/);
      } finally {
        conn.closeSync();
        db.closeSync();
      }
    }
  });
});
