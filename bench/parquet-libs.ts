/**
 * Which Parquet library should the codecs use (not a test)? The same 100,000 × 10 table
 * (INT32, 4 × STRING, INT32, DOUBLE, BOOLEAN, TIMESTAMP, nullable STRING) written and read back
 * with hyparquet + hyparquet-writer and with @duckdb/node-api (appender in, COPY out; COPY in,
 * streaming reader out). Reads and writes go through a file in a temp dir for both, and every
 * run checks the row count and a checksum over the values.
 *
 *   npx tsx bench/parquet-libs.ts [rows=100000] [runs=3]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, DuckDBTimestampValue } from '@duckdb/node-api';
import { parquetReadObjects } from 'hyparquet';
import { ByteWriter, parquetWrite } from 'hyparquet-writer';

const ROWS = Number(process.argv[2] ?? 100_000);
const RUNS = Number(process.argv[3] ?? 3);
const CITIES = ['London', 'Paris', 'Berlin', 'Madrid', 'Rome', 'Warsaw', 'Lisbon', 'Dublin'];

interface Table {
  id: number[];
  name: string[];
  email: string[];
  city: string[];
  status: string[];
  qty: number[];
  price: number[];
  active: boolean[];
  at: Date[];
  note: (string | null)[];
}

function table(): Table {
  const t: Table = { id: [], name: [], email: [], city: [], status: [], qty: [], price: [], active: [], at: [], note: [] };
  for (let i = 0; i < ROWS; i++) {
    t.id.push(i);
    t.name.push(`Person ${i % 5000}`);
    t.email.push(`person${i}@example.com`);
    t.city.push(CITIES[i % CITIES.length] as string);
    t.status.push(i % 3 === 0 ? 'active' : 'churned');
    t.qty.push(i % 17);
    t.price.push((i % 1000) / 7);
    t.active.push(i % 2 === 0);
    t.at.push(new Date(Date.UTC(2024, 0, 1) + i * 60_000));
    t.note.push(i % 4 === 0 ? null : `note ${i % 100}`);
  }
  return t;
}

function checksum(rows: { id: unknown; qty: unknown; price: unknown }[]): number {
  let s = 0;
  for (const r of rows) s += Number(r.id) + Number(r.qty) + Number(r.price);
  return Math.round(s);
}

async function best(label: string, fn: () => Promise<string>): Promise<number> {
  const times: number[] = [];
  let note = '';
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    note = await fn();
    times.push(performance.now() - t);
  }
  const ms = Math.min(...times);
  console.log(`  ${label.padEnd(48)} ${ms.toFixed(0).padStart(6)} ms  ${note}`);
  return ms;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pp-parquet-'));
  const t = table();
  const expected = checksum(t.id.map((id, i) => ({ id, qty: t.qty[i], price: t.price[i] })));
  const hyFile = join(dir, 'hy.parquet');
  const duckFile = join(dir, 'duck.parquet');
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await conn.run('SET threads = 1');
  console.log(`${ROWS} rows × 10 columns, best of ${RUNS}, Node ${process.version}, DuckDB at 1 thread`);
  try {
    console.log('write:');
    await best('hyparquet-writer parquetWrite (snappy)', async () => {
      const writer = new ByteWriter();
      parquetWrite({
        writer,
        columnData: [
          { name: 'id', data: t.id, type: 'INT32' },
          { name: 'name', data: t.name, type: 'STRING' },
          { name: 'email', data: t.email, type: 'STRING' },
          { name: 'city', data: t.city, type: 'STRING' },
          { name: 'status', data: t.status, type: 'STRING' },
          { name: 'qty', data: t.qty, type: 'INT32' },
          { name: 'price', data: t.price, type: 'DOUBLE' },
          { name: 'active', data: t.active, type: 'BOOLEAN' },
          { name: 'at', data: t.at, type: 'TIMESTAMP' },
          { name: 'note', data: t.note, type: 'STRING' },
        ],
      });
      await writeFile(hyFile, new Uint8Array(writer.getBuffer()));
      return `${((await stat(hyFile)).size / 1e6).toFixed(2)} MB`;
    });
    await best('duckdb appender + COPY TO parquet (snappy)', async () => {
      await conn.run('DROP TABLE IF EXISTS t');
      await conn.run(
        'CREATE TABLE t (id INTEGER, name VARCHAR, email VARCHAR, city VARCHAR, status VARCHAR, qty INTEGER, price DOUBLE, active BOOLEAN, "at" TIMESTAMP, note VARCHAR)',
      );
      const app = await conn.createAppender('t');
      for (let i = 0; i < ROWS; i++) {
        app.appendInteger(t.id[i] as number);
        app.appendVarchar(t.name[i] as string);
        app.appendVarchar(t.email[i] as string);
        app.appendVarchar(t.city[i] as string);
        app.appendVarchar(t.status[i] as string);
        app.appendInteger(t.qty[i] as number);
        app.appendDouble(t.price[i] as number);
        app.appendBoolean(t.active[i] as boolean);
        app.appendTimestamp(new DuckDBTimestampValue(BigInt((t.at[i] as Date).getTime()) * 1000n));
        const note = t.note[i];
        if (note === null || note === undefined) app.appendNull();
        else app.appendVarchar(note);
        app.endRow();
      }
      app.closeSync();
      await conn.run(`COPY t TO '${duckFile}' (FORMAT parquet)`);
      return `${((await stat(duckFile)).size / 1e6).toFixed(2)} MB`;
    });
    console.log('read (all rows to JS objects):');
    await best('hyparquet parquetReadObjects', async () => {
      const bytes = readFileSync(hyFile);
      const rows = (await parquetReadObjects({
        file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      })) as { id: number; qty: number; price: number }[];
      return `${rows.length} rows, checksum ${checksum(rows) === expected ? 'ok' : 'MISMATCH'}`;
    });
    await best('duckdb read_parquet → getRowObjects (streaming chunks)', async () => {
      const result = await conn.stream(`SELECT * FROM read_parquet('${hyFile}')`);
      const rows: { id: unknown; qty: unknown; price: unknown }[] = [];
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        const cols = chunk.getColumns();
        for (let i = 0; i < chunk.rowCount; i++) rows.push({ id: cols[0]?.[i], qty: cols[5]?.[i], price: cols[6]?.[i] });
      }
      return `${rows.length} rows, checksum ${checksum(rows) === expected ? 'ok' : 'MISMATCH'}`;
    });
  } finally {
    conn.closeSync();
    db.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
