/**
 * `privacy-pipeline demo` (what `npm start` runs): generated multi-locale data through the whole
 * local pipeline, with a guided tour of what happened.
 */
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { renderLineageTree } from '../../core/lineage/render-tree.ts';
import type { RunRecord } from '../../core/lineage/run-record.ts';
import { ingestObject } from '../../core/pipeline/ingest-object.ts';
import { readDataset } from '../../core/pipeline/read-dataset.ts';
import type { Cell } from '../../core/types.ts';
import type { CliContext } from '../cli-context.ts';
import { fmtInt, renderRunSummary } from '../format-run.ts';

const MARKER = '.privacy-pipeline-demo';

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('generate realistic multi-locale data, run it through the whole local pipeline and explain what happened')
    .option('--dir <dir>', 'demo folder (input files and home); recreated on every run', '.privacy-pipeline-demo')
    .option('--customers <n>', 'customer rows', '2000')
    .option('--orders <n>', 'order rows', '5000')
    .action(async (opts: { dir: string; customers: string; orders: string }) => {
      const customers = Number(opts.customers);
      const orders = Number(opts.orders);
      if (!Number.isInteger(customers) || customers < 20 || !Number.isInteger(orders) || orders < 1) {
        throw new UsageError('--customers must be an integer ≥ 20 and --orders ≥ 1');
      }
      await runDemo(ctx, resolve(ctx.io.cwd, opts.dir), { customers, orders });
    });
}

export async function runDemo(ctx: CliContext, dir: string, size: { customers: number; orders: number }): Promise<void> {
  const c = ctx.colors;
  const started = performance.now();
  const section = (n: number, title: string) => {
    ctx.out();
    ctx.out(c.bold(c.magenta(`── ${n}. ${title} `.padEnd(78, '─'))));
  };
  await prepareDir(dir);
  // faker and its locales (≈ 30 MB of heap) load only when the demo runs, not with every command.
  const { CUSTOMERS_CONTRACT, generateDemoData } = await import('../demo/demo-data.ts');
  const inputDir = join(dir, 'input');
  const home = join(dir, 'home');
  await mkdir(inputDir, { recursive: true });

  section(1, 'Generated data');
  const data = generateDemoData({ customers: size.customers, orders: size.orders, brokenShare: 0.01 });
  const files = {
    customers: join(inputDir, 'customers.csv'),
    contract: join(inputDir, 'customers.contract.yaml'),
    orders: join(inputDir, 'orders.jsonl'),
    payments: join(inputDir, 'payments.csv.gz'),
  };
  await writeFile(files.customers, data.customersCsv);
  await writeFile(files.contract, CUSTOMERS_CONTRACT);
  await writeFile(files.orders, data.ordersJsonl);
  // A transfer cut short: the gzip stream ends mid-way. The pipeline must reject it, not half-publish it.
  const payments = gzipSync(
    `payment_id,customer_id,iban,amount\n${data.customers
      .slice(0, 200)
      .map((x, i) => `P${i},${x.customer_id},${x.iban.replace(/ /g, '')},${(i * 7.3).toFixed(2)}`)
      .join('\n')}\n`,
  );
  await writeFile(files.payments, payments.subarray(0, Math.floor(payments.length * 0.6)));
  const rel = (p: string) => relative(ctx.io.cwd, p) || '.';
  ctx.out(
    `  ${rel(files.customers)}  ${fmtInt(size.customers)} customers from ${data.locales.join(', ')} (names, emails, national phone numbers,`,
  );
  ctx.out('      IBANs, card numbers, IPs, birth dates, free-text notes in 8 languages; 1% of rows broken on purpose)');
  ctx.out(`  ${rel(files.contract)}  its contract: types, enums, subject key, quasi-identifiers, DP queries`);
  ctx.out(`  ${rel(files.orders)}  ${fmtInt(size.orders)} orders referencing the same customers by id and email (no contract: inferred)`);
  ctx.out(`  ${rel(files.payments)}  a gzip transfer cut short`);

  section(2, 'Ingest: validate → detect → pseudonymise → aggregate → encrypt → lineage');
  const ports = await ctx.ports(home);
  const runs: Record<string, RunRecord> = {};
  for (const [dataset, file] of [
    ['customers', files.customers],
    ['orders', files.orders],
    ['payments', files.payments],
  ] as const) {
    const key = `${dataset}/${file.slice(file.lastIndexOf('/') + 1)}`;
    await ports.objects.put('ingest', key, createReadStream(file), { encryptionContext: { dataset } });
    const contract = dataset === 'customers' ? { text: CUSTOMERS_CONTRACT, source: rel(files.contract) } : undefined;
    const result = await ingestObject(ports, { key, dataset, ...(contract ? { contract } : {}) });
    runs[dataset] = result.record;
    for (const line of renderRunSummary(ctx, rel(file), result.record, { duplicate: result.duplicate })) ctx.out(line);
    ctx.out();
  }

  section(3, 'Raw rows beside their sanitised versions (raw values shown masked)');
  const curated = await collect(ports, 'customers');
  const show = ['customer_id', 'email', 'phone', 'card_number', 'date_of_birth', 'notes'];
  const published = curated.rows;
  // Curated rows keep the order of the raw rows that were published.
  const rawPublished = data.customers.filter((_, i) => !data.brokenRows.some((b) => b.row === i + 1));
  const aligned = rawPublished.length === published.length;
  const picks = aligned
    ? rawPublished
        .map((x, i) => (/[@+]/.test(x.notes) ? i : -1))
        .filter((i) => i >= 0)
        .slice(0, 3)
    : [];
  for (const idx of picks) {
    const raw = rawPublished[idx] as unknown as Record<string, string>;
    const out = published[idx] as Cell[];
    ctx.out(c.dim(`  row ${idx + 1}`));
    for (const col of show) {
      const outValue = String(out[curated.columns.indexOf(col)] ?? '∅');
      ctx.out(
        `    ${col.padEnd(14)} ${c.red(
          maskForDisplay(raw[col] ?? '')
            .slice(0, 44)
            .padEnd(44),
        )} → ${c.green(outValue.slice(0, 90))}`,
      );
    }
  }

  section(4, 'Joins still work on pseudonymised keys');
  const ordersView = await collect(ports, 'orders');
  const custIds = new Set(published.map((r) => String(r[curated.columns.indexOf('customer_id')])));
  const custEmails = new Set(published.map((r) => String(r[curated.columns.indexOf('email')])));
  const oId = ordersView.columns.indexOf('customer_id');
  const oEmail = ordersView.columns.indexOf('customer_email');
  const publishedRawIds = new Set(rawPublished.map((x) => x.customer_id));
  const expected = data.ordersJsonl
    .trim()
    .split('\n')
    .filter((l) => publishedRawIds.has(JSON.parse(l).customer_id)).length;
  const joinedById = ordersView.rows.filter((r) => custIds.has(String(r[oId]))).length;
  const joinedByEmail = ordersView.rows.filter((r) => custEmails.has(String(r[oEmail]))).length;
  const ok = (n: number) => (n === expected ? c.green('✓') : c.red('✗'));
  ctx.out(`  orders whose customer was published: ${fmtInt(expected)} (raw join)`);
  ctx.out(`  ${ok(joinedById)} joined on customer_id token:    ${fmtInt(joinedById)}  (${pctOf(joinedById, expected)})`);
  ctx.out(
    `  ${ok(joinedByEmail)} joined on email token:          ${fmtInt(joinedByEmail)}  (${pctOf(joinedByEmail, expected)}; 1 in 7 order emails were upper-case)`,
  );
  const sampleToken = String(published[0]?.[curated.columns.indexOf('email')] ?? '');
  ctx.out(c.dim(`  tokens are HMAC-SHA-256 under a key held by the key service, per entity type, over a canonical form: ${sampleToken}`));

  section(5, 'Differentially private aggregates');
  const customersRun = runs.customers;
  const aggregateKey = customersRun?.outputs.find((o) => o.role === 'aggregates' && o.key.endsWith('.json'))?.key;
  if (aggregateKey) {
    const { body } = await ports.objects.get('aggregates', aggregateKey);
    const doc = JSON.parse(await text(body)) as {
      releases: { id: string; value?: number; values?: Record<string, number>; epsilon: number; ci95?: [number, number] }[];
      budget: { remaining: { epsilon: number } };
    };
    const truthBySegment = new Map<string, number>();
    for (const x of rawPublished) truthBySegment.set(x.segment, (truthBySegment.get(x.segment) ?? 0) + 1);
    for (const r of doc.releases) {
      if (r.values) {
        const parts = Object.entries(r.values)
          .slice(0, 6)
          .map(([k, v]) => `${k} ${fmtNum(v)}${r.id === 'customers_by_segment' ? c.dim(` (true ${truthBySegment.get(k) ?? 0})`) : ''}`);
        ctx.out(`  ${r.id.padEnd(24)} ε=${r.epsilon}  ${parts.join(', ')}`);
      } else {
        const ci = r.ci95 ? c.dim(` 95% CI [${fmtNum(r.ci95[0])}, ${fmtNum(r.ci95[1])}]`) : '';
        ctx.out(`  ${r.id.padEnd(24)} ε=${r.epsilon}  ${fmtNum(r.value ?? Number.NaN)}${ci}`);
      }
    }
    ctx.out(
      `  budget of dataset customers: ε ${doc.budget.remaining.epsilon} of 5 left. Noise is exact (discrete Laplace on integers / a 2^-k grid).`,
    );
  }

  section(6, 'Encrypted at rest');
  const storeFiles = await listFiles(join(home, 'store'));
  const probe = data.customers[0]?.email ?? '';
  let hits = 0;
  for (const f of storeFiles) if ((await readFile(f)).includes(probe)) hits++;
  ctx.out(`  ${fmtInt(storeFiles.length)} object files under ${rel(join(home, 'store'))}: every one is AES-256-GCM with its own data key,`);
  ctx.out(
    `  wrapped by the local key service (${rel(join(home, 'keyring.json'))}, mode 0600). Files containing a raw email: ${hits === 0 ? c.green('0') : c.red(String(hits))}`,
  );

  section(7, 'Lineage');
  const records = [];
  for await (const r of ports.lineage.list({ dataset: 'customers' })) records.push(r);
  const tree = renderLineageTree(records, { color: ctx.color, dataset: 'customers' }).split('\n');
  for (const line of tree.slice(0, 40)) ctx.out(`  ${line}`);
  if (tree.length > 40) ctx.out(c.dim(`  … ${tree.length - 40} more lines: privacy-pipeline --home ${rel(home)} lineage customers`));

  section(8, 'Try next');
  const pp = `npx privacy-pipeline --home ${rel(home)}`;
  ctx.out(`  ${pp} read customers | head            # the ML team's view`);
  ctx.out(`  ${pp} read orders --format csv | head`);
  ctx.out(`  ${pp} scan ${rel(files.customers)}        # detection report only`);
  ctx.out(`  ${pp} lineage --openlineage               # OpenLineage events`);
  ctx.out(`  ${pp} aggregates customers                # DP releases and remaining budget`);
  ctx.out(`  ${pp} query customers --count --by segment --epsilon 0.5`);
  ctx.out(`  ${pp} run ${rel(files.customers)}          # again: idempotent, nothing duplicated`);
  ctx.out();
  ctx.out(c.dim(`  demo finished in ${((performance.now() - started) / 1000).toFixed(1)} s`));
}

async function prepareDir(dir: string): Promise<void> {
  if (existsSync(dir)) {
    if (!existsSync(join(dir, MARKER))) {
      throw new UsageError(`${dir} exists and is not a demo folder; pass --dir with another path`, { file: dir });
    }
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, MARKER), 'created by `privacy-pipeline demo`; deleted and recreated on every demo run\n');
}

async function collect(ports: Awaited<ReturnType<CliContext['ports']>>, dataset: string) {
  const view = await readDataset(ports, dataset);
  const rows: Cell[][] = [];
  for await (const r of view.rows) rows.push(r);
  return { columns: view.columns, rows };
}

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const ch of body) chunks.push(ch);
  return Buffer.concat(chunks).toString('utf8');
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out;
}

/** `alice@example.com` → `a••••@e••••••.•••`: the first character of each word, to see the shape, not the value. */
export function maskForDisplay(value: string): string {
  let out = '';
  let keepNext = true;
  for (const ch of value) {
    const alnum = /[\p{L}\p{N}]/u.test(ch);
    out += alnum && !keepNext ? '•' : ch;
    keepNext = !alnum && (ch === '@' || ch === ' ');
  }
  return out;
}

function fmtNum(v: number): string {
  return Number.isInteger(v) ? fmtInt(v) : v.toFixed(2);
}

function pctOf(n: number, d: number): string {
  return d === 0 ? 'n/a' : `${((n / d) * 100).toFixed(1)}%`;
}
