/**
 * `privacy-pipeline contract infer|schema|check`: write and check dataset contracts.
 */
import { createReadStream, existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { decodeTable } from '../../core/codecs/decode-table.ts';
import { formatFromKey } from '../../core/codecs/file-format.ts';
import { contractJsonSchema } from '../../core/contract/contract-schema.ts';
import { inferContract } from '../../core/contract/infer-contract.ts';
import { parseContract, serializeContract } from '../../core/contract/parse-contract.ts';
import { checkHeaderNames } from '../../core/detect/check-header-names.ts';
import { UsageError } from '../../core/errors.ts';
import type { Row } from '../../core/types.ts';
import type { CliContext } from '../cli-context.ts';
import { datasetFromFileName } from './run.ts';

export function registerContract(program: Command, ctx: CliContext): void {
  const contract = program.command('contract').description('write and check dataset contracts');
  contract
    .command('infer')
    .description('infer a contract from a sample of a file (review it, then keep it beside the file)')
    .argument('<file>')
    .option('-d, --dataset <name>')
    .option('-o, --out <file>', 'write the contract here instead of stdout')
    .option('--sample <rows>', 'rows to sample', '1000')
    .action(async (file: string, opts: { dataset?: string; out?: string; sample: string }) => {
      const path = resolve(ctx.io.cwd, file);
      if (!existsSync(path)) throw new UsageError(`${file}: no such file`, { file });
      const hinted = formatFromKey(file);
      const table = await decodeTable(createReadStream(path), {
        fileName: file,
        ...(hinted ? { format: hinted.format, compression: hinted.compression } : {}),
      });
      checkHeaderNames(table.columns, file); // a contract naming columns after someone's email would be kept in plain text
      const sample: Row[] = [];
      for await (const row of table.rows) {
        sample.push(row);
        if (sample.length >= Number(opts.sample)) break;
      }
      const text = serializeContract(inferContract(opts.dataset ?? datasetFromFileName(file), table.columns, sample));
      if (opts.out) await writeFile(resolve(ctx.io.cwd, opts.out), text);
      else ctx.out(text);
    });
  contract
    .command('schema')
    .description('print the JSON Schema of contracts (for editors: yaml-language-server $schema)')
    .action(() => ctx.out(JSON.stringify(contractJsonSchema(), null, 2)));
  contract
    .command('check')
    .description('check that a contract file is valid')
    .argument('<file>')
    .action(async (file: string) => {
      const c = parseContract(await readFile(resolve(ctx.io.cwd, file), 'utf8'), file);
      ctx.out(
        `${file}: valid contract for dataset '${c.dataset}' (version ${c.version}, ${c.columns.length} columns, ${c.aggregates.length} DP queries)`,
      );
    });
  contract
    .command('put')
    .description('store a contract in the home folder, for files ingested without one beside them')
    .argument('<file>')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const text = await readFile(resolve(ctx.io.cwd, file), 'utf8');
      const c = parseContract(text, file);
      const ports = await ctx.ports(cmd.optsWithGlobals().home as string | undefined);
      await ports.contracts.put(c.dataset, text);
      ctx.out(`stored the contract of dataset '${c.dataset}'`);
    });
}
