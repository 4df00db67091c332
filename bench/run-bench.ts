/**
 * `npm run bench`: the issue 7 benchmark (not a test). Generates the bench CSV (20 columns, 8 PII,
 * a free-text notes column; see generate-csv.ts) at each size, then measures on the same file,
 * each in its own process (peak RSS is that process's max RSS, worker threads included):
 *
 *   run            `privacy-pipeline run` (the CLI, one pass), MB/s, rows/s, peak RSS
 *   run -w 2       the same with `--workers 2`
 *   parquet        `run` on the same rows as Parquet (DuckDB-converted, typed, 100k-row groups):
 *                  Parquet in and out
 *   csv-parse      csv-parse + csv-stringify, no privacy work: the floor
 *   papaparse      the fastest maintained JS parser, streaming parse + unparse
 *   codec          the pipeline's own CSV decoder + encoder, no privacy work
 *   duckdb 1t/2t   a DuckDB SQL job: 8 PII columns → truncated sha256, emails and digit runs
 *                  replaced in notes, CSV out, at 1 and 2 threads
 *
 * and the size of each Lambda handler bundle (the CDK's esbuild options, lib/constructs/lambda-bundling.ts). Prints
 * a table and writes it as JSON.
 *
 *   npm run bench                          sizes 100 MB and 1 GB
 *   BENCH_SIZES=100 npm run bench          quick run
 *   npm run bench -- --sizes 100,1000 --out results.json
 *   npm run bench -- --bundles-only        only the Lambda bundle sizes
 * Env: BENCH_DIR (keep generated files there and reuse them), BENCH_CUSTOMERS (pool, default 200000).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { LAMBDA_BUNDLE_LIMIT_BYTES, LAMBDA_ESBUILD_OPTIONS } from '../lib/constructs/lambda-bundling.ts';
import { generateCsv } from './generate-csv.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HANDLERS = join(ROOT, 'functions', 'handlers');

interface Flags {
  sizes: number[];
  out: string;
}

function flags(): Flags {
  const argv = process.argv.slice(2);
  const get = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const sizes = (get('--sizes') ?? process.env.BENCH_SIZES ?? '100,1000')
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isFinite(n) && n > 0);
  if (sizes.length === 0) throw new Error('no sizes: use --sizes 100,1000 or BENCH_SIZES=100');
  return { sizes, out: resolve(get('--out') ?? join(ROOT, 'bench', 'results', 'bench-latest.json')) };
}

interface ChildResult {
  mode: string;
  ms: number;
  cpuMs: number;
  maxRssMb: number;
  rows: number;
  extra?: Record<string, unknown>;
}

/** Runs one measurement in a fresh Node process and returns its JSON line. */
function child(args: string[]): Promise<ChildResult> {
  return new Promise((res, rej) => {
    // `run` gets the heap limit the CLI's entry (bin/privacy-pipeline.mjs) sets; baselines run as they are.
    const heap = args[0] === 'run' ? ['--max-old-space-size=1024'] : [];
    const p = spawn(process.execPath, [...heap, '--import', 'tsx', join(ROOT, 'bench', 'bench-child.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', PRIVACY_PIPELINE_LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.on('error', rej);
    p.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        res(JSON.parse(line) as ChildResult);
      } catch {
        rej(new Error(`bench child ${args[0]} exited ${code}: ${out.slice(-500)}`));
      }
    });
  });
}

interface Row {
  size: string;
  measure: string;
  mb: number;
  seconds: number;
  mbPerS: number;
  rowsPerS: number;
  peakRssMb: number;
  cpuS: number;
  /** run (1 worker) MB/s divided by this measurement's MB/s (baselines only). */
  runRatio?: number;
  note?: string;
}

async function measureSize(sizeMb: number, dir: string): Promise<Row[]> {
  const csv = join(dir, `bench-${sizeMb}MB.csv`);
  if (!existsSync(csv)) {
    const t = performance.now();
    const g = await generateCsv(csv, sizeMb * 1e6, { customers: Number(process.env.BENCH_CUSTOMERS ?? 200_000) });
    console.error(
      `generated ${basename(csv)}: ${g.rows} rows, ${(g.bytes / 1e6).toFixed(1)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
  }
  const parquet = join(dir, `bench-${sizeMb}MB.parquet`);
  if (!existsSync(parquet)) await child(['to-parquet', csv, parquet, '2']);
  const csvMb = (await stat(csv)).size / 1e6;
  const parquetMb = (await stat(parquet)).size / 1e6;
  const out = join(dir, 'out');
  await mkdir(out, { recursive: true });
  const label = `${sizeMb} MB`;
  const row = (measure: string, r: ChildResult, mb: number, note?: string): Row => ({
    size: label,
    measure,
    mb: round(mb, 1),
    seconds: round(r.ms / 1000, 2),
    mbPerS: round(mb / (r.ms / 1000), 2),
    rowsPerS: Math.round(r.rows / (r.ms / 1000)),
    peakRssMb: Math.round(r.maxRssMb),
    cpuS: round(r.cpuMs / 1000, 1),
    ...(note ? { note } : {}),
  });
  const rows: Row[] = [];
  const step = async (name: string, args: string[], mb: number, note?: (r: ChildResult) => string) => {
    console.error(`  ${label}: ${name} ...`);
    const r = await child(args);
    const x = row(name, r, mb, note?.(r));
    console.error(`    ${x.mbPerS} MB/s, ${x.rowsPerS} rows/s, peak RSS ${x.peakRssMb} MB`);
    rows.push(x);
    return x;
  };
  const home = (n: string) => join(dir, `home-${sizeMb}-${n}-${Date.now()}`);
  const status = (r: ChildResult) => `${r.extra?.status ?? ''}, ${r.extra?.chunks ?? 1} chunk(s)`;
  const run1 = await step('run (1 worker)', ['run', home('1'), csv, '1'], csvMb, status);
  await step('run --workers 2', ['run', home('2'), csv, '2'], csvMb, status);
  await step(
    'run, Parquet in and out',
    ['run', home('p'), parquet, '1'],
    parquetMb,
    (r) => `${status(r)}; MB/s of the Parquet file (${round(parquetMb, 1)} MB)`,
  );
  const baselines: [string, string[], string][] = [
    ['csv-parse + csv-stringify (floor)', ['csv-parse', csv, join(out, 'csv-parse.csv')], ''],
    ['papaparse parse + unparse', ['papaparse', csv, join(out, 'papaparse.csv')], ''],
    ['own codec decode + encode', ['codec', csv, join(out, 'codec.csv')], 'the CSV codec the pipeline uses'],
    ['DuckDB SQL job, 1 thread', ['duckdb', csv, join(out, 'duckdb1.csv'), '1'], ''],
    ['DuckDB SQL job, 2 threads', ['duckdb', csv, join(out, 'duckdb2.csv'), '2'], ''],
  ];
  for (const [name, args, note] of baselines) {
    const x = await step(name, args, csvMb, () => note);
    x.runRatio = round(run1.mbPerS / x.mbPerS, 2);
  }
  for (const f of await readdir(dir)) if (f.startsWith(`home-${sizeMb}-`)) await rm(join(dir, f), { recursive: true, force: true });
  await rm(out, { recursive: true, force: true });
  return rows;
}

async function bundles(): Promise<{ handler: string; kb: number; withinTarget: boolean; largest: string[] }[]> {
  const out: { handler: string; kb: number; withinTarget: boolean; largest: string[] }[] = [];
  for (const f of (await readdir(HANDLERS)).sort()) {
    if (!f.endsWith('.ts')) continue;
    const src = await readFile(join(HANDLERS, f), 'utf8');
    if (!/export (const|async function|function) handler\b/.test(src)) continue;
    // The very options the CDK constructs bundle with (lib/constructs/lambda-bundling.ts).
    const r = await build({
      ...LAMBDA_ESBUILD_OPTIONS,
      mainFields: [...LAMBDA_ESBUILD_OPTIONS.mainFields],
      external: [...LAMBDA_ESBUILD_OPTIONS.external],
      entryPoints: [join(HANDLERS, f)],
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const bytes = r.outputFiles[0]?.contents.length ?? 0;
    out.push({
      handler: f.replace(/\.ts$/, ''),
      kb: Math.round(bytes / 1024),
      withinTarget: bytes <= LAMBDA_BUNDLE_LIMIT_BYTES,
      largest: largestInputs(r.metafile),
    });
  }
  return out;
}

/** The biggest contributors to a bundle, by package (node_modules) or source folder, in KB. */
function largestInputs(meta: Metafile, n = 4): string[] {
  const by = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? dirname(path);
      by.set(pkg, (by.get(pkg) ?? 0) + bytesInOutput);
    }
  }
  return [...by]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${k} ${Math.round(v / 1024)}`);
}

function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

function table(rows: Row[]): string {
  const head = ['size', 'measure', 'MB/s', 'rows/s', 'peak RSS MB', 's', 'CPU s', 'run ÷ this', 'note'];
  const body = rows.map((r) => [
    r.size,
    r.measure,
    String(r.mbPerS),
    String(r.rowsPerS),
    String(r.peakRssMb),
    String(r.seconds),
    String(r.cpuS),
    r.runRatio === undefined ? '' : String(r.runRatio),
    r.note ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i >= 2 && i <= 7 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join('  ');
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(fmt)].join('\n');
}

function targets(rows: Row[]): string[] {
  const lines: string[] = [];
  const by = (size: string, m: string) => rows.find((r) => r.size === size && r.measure === m);
  const sizes = [...new Set(rows.map((r) => r.size))];
  for (const size of sizes) {
    const run1 = by(size, 'run (1 worker)');
    const run2 = by(size, 'run --workers 2');
    const floor = by(size, 'csv-parse + csv-stringify (floor)');
    const duck = by(size, 'DuckDB SQL job, 1 thread');
    if (!run1) continue;
    const check = (ok: boolean) => (ok ? 'met' : 'MISSED');
    if (floor) lines.push(`${size}: one worker ÷ csv-parse floor = ${floor.runRatio} (target ≥ 1.0: ${check((floor.runRatio ?? 0) >= 1)})`);
    if (duck) lines.push(`${size}: one worker ÷ DuckDB 1 thread = ${duck.runRatio} (target ≥ 0.5: ${check((duck.runRatio ?? 0) >= 0.5)})`);
    if (run2)
      lines.push(
        `${size}: --workers 2 ÷ one worker = ${round(run2.mbPerS / run1.mbPerS, 2)} (target ≥ 1.7: ${check(run2.mbPerS / run1.mbPerS >= 1.7)})`,
      );
    lines.push(`${size}: peak RSS one worker = ${run1.peakRssMb} MB (target ≤ 300: ${check(run1.peakRssMb <= 300)})`);
  }
  const rss = sizes.map((s) => by(s, 'run (1 worker)')?.peakRssMb).filter((x): x is number => x !== undefined);
  if (rss.length >= 2) {
    const spread = (Math.max(...rss) - Math.min(...rss)) / Math.min(...rss);
    lines.push(`peak RSS spread across sizes = ${round(spread * 100, 1)}% (target ≤ 10%: ${spread <= 0.1 ? 'met' : 'MISSED'})`);
  }
  return lines;
}

function printBundles(lambda: Awaited<ReturnType<typeof bundles>>): void {
  console.log(
    `Lambda bundles (the CDK's esbuild options: minified ESM, keepNames, @aws-sdk/* external; target ≤ ${LAMBDA_BUNDLE_LIMIT_BYTES / 1024} KB):`,
  );
  for (const b of lambda) {
    console.log(
      `  ${b.handler.padEnd(24)} ${String(b.kb).padStart(6)} KB  ${b.withinTarget ? 'ok  ' : 'OVER'}  largest KB: ${b.largest.join(', ')}`,
    );
  }
}

async function main(): Promise<void> {
  // `npm run bench -- --bundles-only`: the Lambda bundle sizes alone (a few seconds).
  if (process.argv.includes('--bundles-only')) return printBundles(await bundles());
  const f = flags();
  const dir = process.env.BENCH_DIR ? resolve(process.env.BENCH_DIR) : await mkdtemp(join(tmpdir(), 'pp-bench-'));
  await mkdir(dir, { recursive: true });
  const machine = {
    node: process.version,
    cpus: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    load: (await readFile('/proc/loadavg', 'utf8').catch(() => '')).trim(),
  };
  console.error(`bench in ${dir}; sizes ${f.sizes.join(', ')} MB; ${machine.cpus} cores (${machine.cpu}), Node ${machine.node}`);
  const rows: Row[] = [];
  try {
    for (const size of f.sizes) rows.push(...(await measureSize(size, dir)));
  } finally {
    if (!process.env.BENCH_DIR) await rm(dir, { recursive: true, force: true });
  }
  const lambda = await bundles();
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    } catch {
      return 'unknown';
    }
  })();
  console.log(table(rows));
  console.log();
  for (const l of targets(rows)) console.log(l);
  console.log();
  printBundles(lambda);
  await mkdir(dirname(f.out), { recursive: true });
  await writeFile(
    f.out,
    `${JSON.stringify({ at: new Date().toISOString(), commit, machine, rows, targets: targets(rows), lambda }, null, 2)}\n`,
  );
  console.log(`\nwritten to ${f.out}`);
}

await main();
