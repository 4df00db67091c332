/**
 * `privacy-pipeline run <file...>`: what happens when a data engineer drops a file into the
 * ingest bucket, on the local embedded store.
 */
import { createReadStream, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { WorkerChunkExecutor } from '../../adapters/local/worker-chunk-executor.ts';
import { UsageError } from '../../core/errors.ts';
import { ingestObject } from '../../core/pipeline/ingest-object.ts';
import type { IngestOptions, IngestResult } from '../../core/pipeline/ingest-types.ts';
import { isValidDatasetName } from '../../core/pipeline/object-keys.ts';
import { parsePolicy } from '../../core/pseudonymise/policy.ts';
import type { CliContext } from '../cli-context.ts';
import { renderRunSummary } from '../format-run.ts';
import { EXIT, ExitCode } from '../main.ts';

interface RunOptions {
  dataset?: string;
  contract?: string;
  policy?: string;
  json?: boolean;
  progress?: boolean;
  workers?: string;
  chunkSize?: string;
}

export function registerRun(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('ingest files: validate, detect PII, pseudonymise, aggregate, encrypt and record lineage')
    .argument('<file...>', 'CSV or JSON Lines files (optionally .gz) or Parquet files')
    .option('-d, --dataset <name>', "dataset name (default: the file name's stem)")
    .option(
      '-c, --contract <file>',
      'dataset contract (YAML or JSON); default: <dataset>.contract.yaml beside the file, then the home folder',
    )
    .option('--policy <file>', 'privacy policy (YAML or JSON) mapping entities to operators')
    .option('--json', 'print the lineage records as JSON')
    .option('--no-progress', 'no progress bar')
    .option(
      '-w, --workers <n>',
      'worker threads for large files: chunks at record boundaries, one curated part per chunk (default 1: one pass)',
    )
    .option(
      '--chunk-size <size>',
      'chunk size with --workers, e.g. 32MiB (default: a share of what is left, 2-64 MiB, so workers finish together)',
    )
    .addHelpText('after', '\nExit codes: 0 all published, 1 a file or some rows were quarantined, 2 usage error.')
    .action(async (files: string[], opts: RunOptions, cmd: Command) => {
      const home = cmd.optsWithGlobals().home as string | undefined;
      const ports = await ctx.ports(home);
      const policy = opts.policy ? parsePolicy(await readFile(resolve(ctx.io.cwd, opts.policy), 'utf8'), opts.policy) : undefined;
      const workers = opts.workers === undefined ? 1 : parseWorkers(opts.workers);
      const chunkBytes = opts.chunkSize === undefined ? undefined : parseSize(opts.chunkSize);
      // One of the N slots is this thread (already loaded and warm), N - 1 are worker threads.
      const executor = workers > 1 ? new WorkerChunkExecutor({ home: ports.home, workers, inThread: ports }) : undefined;
      executor?.warm();
      const parallel: IngestOptions['parallel'] = executor
        ? { executor, ...(chunkBytes !== undefined ? { targetChunkBytes: chunkBytes, minBytes: 2 * chunkBytes } : {}) }
        : undefined;
      const results: { file: string; result: IngestResult }[] = [];
      try {
        for (const file of files) {
          const path = resolve(ctx.io.cwd, file);
          if (!existsSync(path)) throw new UsageError(`${file}: no such file`, { file });
          const dataset = opts.dataset ?? datasetFromFileName(file);
          const contract = await findContract(ctx, path, dataset, opts.contract);
          const size = (await stat(path)).size;
          const key = `${dataset}/${basename(path)}`;
          await ports.objects.put('ingest', key, createReadStream(path, { highWaterMark: 1 << 20 }), {
            metadata: { 'pp-source': 'cli' },
            encryptionContext: { dataset },
          });
          const bar = progressBar(ctx, size, opts);
          try {
            const result = await ingestObject(
              ports,
              { key, dataset, ...(contract ? { contract } : {}) },
              {
                ...(policy ? { policy } : {}),
                ...(bar ? { onProgress: (n: number) => bar.update(n) } : {}),
                ...(parallel ? { parallel } : {}),
              },
            );
            results.push({ file, result });
          } finally {
            bar?.stop();
          }
        }
      } finally {
        await executor?.close();
      }
      if (opts.json) {
        ctx.out(
          JSON.stringify(
            results.map(({ file, result }) => ({ file, duplicate: result.duplicate, ...result.record })),
            null,
            2,
          ),
        );
      } else {
        for (const { file, result } of results) {
          for (const line of renderRunSummary(ctx, file, result.record, { duplicate: result.duplicate })) ctx.out(line);
          ctx.out();
        }
      }
      const rejected = results.some(({ result: r }) => r.record.status !== 'COMPLETE' || r.record.counts.rowsQuarantined > 0);
      if (rejected) throw new ExitCode(EXIT.rejected);
    });
}

function parseWorkers(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new UsageError(`--workers must be an integer from 1 to 256, not '${text}'`, { rule: 'workers' });
  return n;
}

const UNITS: Readonly<Record<string, number>> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };

/** `64MiB`, `500KB`, `1048576` → bytes. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = UNITS[(m?.[2] || 'b').toLowerCase()];
  const bytes = m && unit ? Math.round(Number(m[1]) * unit) : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1)
    throw new UsageError(`--chunk-size must be a size such as 64MiB, not '${text}'`, { rule: 'chunk-size' });
  return bytes;
}

/** `Customers 2024.csv.gz` → `customers-2024`. */
export function datasetFromFileName(file: string): string {
  const stem = basename(file).split('.')[0] ?? '';
  const name = stem
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|-+$/g, '')
    .slice(0, 63);
  if (!isValidDatasetName(name))
    throw new UsageError(`${file}: cannot derive a dataset name from the file name; pass --dataset NAME`, { file });
  return name;
}

async function findContract(ctx: CliContext, path: string, dataset: string, explicit: string | undefined) {
  if (explicit) {
    const file = resolve(ctx.io.cwd, explicit);
    if (!existsSync(file)) throw new UsageError(`${explicit}: contract file not found`, { file: explicit });
    return { text: await readFile(file, 'utf8'), source: explicit };
  }
  for (const ext of ['yaml', 'yml', 'json']) {
    const beside = join(dirname(path), `${dataset}.contract.${ext}`);
    if (existsSync(beside)) return { text: await readFile(beside, 'utf8'), source: beside };
  }
  return undefined; // the pipeline then asks the home folder's contract store, then infers
}

function progressBar(ctx: CliContext, size: number, opts: RunOptions): SingleBar | undefined {
  if (opts.json || opts.progress === false || !ctx.io.stderr.isTTY || size < 8 * 1024 * 1024) return undefined;
  const bar = new SingleBar({
    format: '  {bar} {percentage}% | {value}/{total} bytes | {eta_formatted} left',
    stream: ctx.io.stderr as NodeJS.WritableStream,
    hideCursor: true,
    clearOnComplete: true,
  });
  bar.start(size, 0);
  return bar;
}
