/**
 * `privacy-pipeline read <dataset>`: the ML team's view, decrypted, in ingest order.
 */
import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { encodeTable } from '../../core/codecs/encode-table.ts';
import { UsageError } from '../../core/errors.ts';
import { outputFormat, readDataset } from '../../core/pipeline/read-dataset.ts';
import type { DataFormat } from '../../core/types.ts';
import type { CliContext } from '../cli-context.ts';

export function registerRead(program: Command, ctx: CliContext): void {
  program
    .command('read')
    .description("print a dataset's sanitised rows (all published objects, in ingest order, header once)")
    .argument('<dataset>', 'dataset name')
    .option('-f, --format <format>', 'csv, jsonl or parquet (default: the format it was ingested in)')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action(async (dataset: string, opts: { format?: string; out?: string }, cmd: Command) => {
      if (opts.format !== undefined && opts.format !== 'csv' && opts.format !== 'jsonl' && opts.format !== 'parquet') {
        throw new UsageError(`--format must be csv, jsonl or parquet, not '${opts.format}'`);
      }
      const ports = await ctx.ports(cmd.optsWithGlobals().home as string | undefined);
      const view = await readDataset(ports, dataset);
      const format = outputFormat(view.sourceFormat, opts.format as DataFormat | undefined);
      // CSV output is always neutralised: Parquet sources were published without it (a binary
      // format runs no formulas), and a cell neutralised at publication starts with `'`, so it is
      // left alone. Parquet keeps the column types of Parquet sources; other sources get types
      // from their values.
      const { bytes } = encodeTable(view.columns, view.rows, format, {
        neutraliseFormulas: format.format === 'csv',
        ...(view.columnTypes && format.format === 'parquet' ? { columnTypes: view.columnTypes } : {}),
      });
      const target = opts.out ? createWriteStream(resolve(ctx.io.cwd, opts.out)) : ctx.io.stdout;
      await pipeline(Readable.from(bytes), target, { end: Boolean(opts.out) });
    });
}
