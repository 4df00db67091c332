/**
 * One measurement of `npm run bench`, in its own process so its peak RSS is its own. Prints one
 * JSON line: wall time of the work (module loading excluded), CPU time, max RSS of the process
 * (worker threads included), rows.
 *
 *   node --import tsx bench/bench-child.ts <mode> <args...>
 *     run <home> <file> [workers]          privacy-pipeline run (the CLI, as a user runs it)
 *     csv-parse <file> <out>               csv-parse + csv-stringify, no privacy work (the floor)
 *     papaparse <file> <out>               papaparse streaming parse + unparse
 *     codec <file> <out>                   the pipeline's own CSV decoder + encoder
 *     duckdb <file> <out> <threads>        the SQL job a user would write instead
 *     to-parquet <csv> <parquet>           DuckDB COPY, to make the Parquet input (not timed)
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const [mode, ...args] = process.argv.slice(2);

interface Measure {
  rows: number;
  extra?: Record<string, unknown>;
}

async function measure(fn: () => Promise<Measure>): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await fn();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ mode, ms, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMb, ...r })}\n`);
}

/** Writes strings to a file with back-pressure. */
async function writeAll(path: string, chunks: AsyncIterable<string | Uint8Array>): Promise<void> {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  for await (const c of chunks) if (!out.write(c)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

async function run(): Promise<void> {
  switch (mode) {
    case 'run': {
      const [home, file, workers = '1'] = args as [string, string, string?];
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const { main } = await import('../functions/cli/main.ts');
      let stdout = '';
      const sink = {
        write: (s: string) => {
          stdout += s;
          return true;
        },
      } as unknown as NodeJS.WritableStream;
      return measure(async () => {
        const code = await main(['--home', home, 'run', file, '--json', '--no-progress', '--workers', workers], {
          stdout: sink,
          stderr: process.stderr,
        });
        const [record] = JSON.parse(stdout) as { counts: { rowsIn: number }; status: string; chunks?: unknown[]; timings: unknown }[];
        if (!record) throw new Error(`run printed no record (exit ${code})`);
        return { rows: record.counts.rowsIn, extra: { exit: code, status: record.status, chunks: record.chunks?.length ?? 1 } };
      });
    }
    case 'csv-parse': {
      const [file, out] = args as [string, string];
      const { parse } = await import('csv-parse');
      const { stringify } = await import('csv-stringify');
      return measure(async () => {
        let rows = -1;
        const parser = parse({ relax_column_count: true, skip_empty_lines: true });
        parser.on('data', () => rows++);
        await pipeline(
          createReadStream(file, { highWaterMark: 1 << 20 }),
          parser,
          stringify({ cast: { boolean: (v: boolean) => String(v) } }),
          createWriteStream(out),
        );
        return { rows };
      });
    }
    case 'papaparse': {
      const [file, out] = args as [string, string];
      const Papa = (await import('papaparse')).default;
      return measure(async () => {
        let rows = -1;
        let batch: string[][] = [];
        async function* lines(): AsyncGenerator<string> {
          const stream = Papa.parse(Papa.NODE_STREAM_INPUT, { delimiter: ',' });
          createReadStream(file, { highWaterMark: 1 << 20 }).pipe(stream);
          for await (const r of stream as AsyncIterable<string[]>) {
            rows++;
            batch.push(r);
            if (batch.length >= 2000) {
              yield `${Papa.unparse(batch, { newline: '\n' })}\n`;
              batch = [];
            }
          }
          if (batch.length > 0) yield `${Papa.unparse(batch, { newline: '\n' })}\n`;
        }
        await writeAll(out, lines());
        return { rows };
      });
    }
    case 'codec': {
      const [file, out] = args as [string, string];
      const { decodeTable } = await import('../functions/core/codecs/decode-table.ts');
      const { encodeTable } = await import('../functions/core/codecs/encode-table.ts');
      return measure(async () => {
        const table = await decodeTable(createReadStream(file, { highWaterMark: 1 << 20 }), { fileName: file });
        let rows = 0;
        async function* cells() {
          for await (const r of table.rows) {
            rows++;
            yield r.cells;
          }
        }
        const enc = encodeTable(table.columns, cells(), table.format);
        await pipeline(Readable.from(enc.bytes), createWriteStream(out));
        return { rows };
      });
    }
    case 'duckdb':
    case 'to-parquet': {
      const [file, out, threads = '1'] = args as [string, string, string?];
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const { BENCH_PII_COLUMNS, BENCH_COLUMNS } = await import('./generate-csv.ts');
      const db = await DuckDBInstance.create(':memory:');
      const conn = await db.connect();
      await conn.run(`SET threads = ${Number(threads)}`);
      await conn.run('SET preserve_insertion_order = true');
      if (mode === 'to-parquet') {
        // Typed columns (DuckDB's sniffing), row groups of 100k rows: a typical analytics export.
        await conn.run(`COPY (SELECT * FROM read_csv('${file}', header = true)) TO '${out}' (FORMAT parquet, ROW_GROUP_SIZE 100000)`);
        const n = (await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_parquet('${out}')`)).getRowObjectsJson();
        process.stdout.write(`${JSON.stringify({ mode, rows: Number(n[0]?.n) })}\n`);
        conn.closeSync();
        db.closeSync();
        return;
      }
      // What a user would write instead: the same 8 PII columns hashed (truncated sha256, not
      // keyed), emails and digit runs replaced in the notes, everything else copied.
      const pii = new Set<string>(BENCH_PII_COLUMNS);
      const select = BENCH_COLUMNS.map((c) => {
        if (pii.has(c)) return `left(sha256(${c}), 16) AS ${c}`;
        if (c === 'notes') {
          return `regexp_replace(regexp_replace(notes, '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}', '<EMAIL>', 'g'), '[0-9][0-9 ]{5,}[0-9]', '<NUMBER>', 'g') AS notes`;
        }
        return c;
      }).join(', ');
      await measure(async () => {
        // COPY returns the number of rows it wrote.
        const written = await conn.runAndReadAll(
          `COPY (SELECT ${select} FROM read_csv('${file}', header = true, all_varchar = true)) TO '${out}' (HEADER, DELIMITER ',')`,
        );
        return { rows: Number(written.getRows()[0]?.[0]) };
      });
      conn.closeSync();
      db.closeSync();
      return;
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

await run();
