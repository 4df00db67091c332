/**
 * `privacy-pipeline scan <file>`: the detection report alone; nothing is written.
 */
import { createReadStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseContract } from '../../core/contract/parse-contract.ts';
import { UsageError } from '../../core/errors.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../core/pipeline/ingest-types.ts';
import { scanTable } from '../../core/pipeline/scan-table.ts';
import { DEFAULT_POLICY, parsePolicy } from '../../core/pseudonymise/policy.ts';
import type { CliContext } from '../cli-context.ts';
import { fmtInt, renderPlan } from '../format-run.ts';
import { datasetFromFileName } from './run.ts';

export function registerScan(program: Command, ctx: CliContext): void {
  program
    .command('scan')
    .description('report the PII found in a file (column entities, free-text spans, re-identification risk); writes nothing')
    .argument('<file>', 'CSV or JSON Lines file, optionally .gz')
    .option('-d, --dataset <name>', "dataset name (default: the file name's stem)")
    .option('-c, --contract <file>', 'dataset contract (YAML or JSON)')
    .option('--policy <file>', 'privacy policy (YAML or JSON)')
    .option('--sample <rows>', 'rows to sample', String(DEFAULT_PIPELINE_CONFIG.sampleRows))
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: { dataset?: string; contract?: string; policy?: string; sample: string; json?: boolean }) => {
      const path = resolve(ctx.io.cwd, file);
      if (!existsSync(path)) throw new UsageError(`${file}: no such file`, { file });
      const sampleRows = Number(opts.sample);
      if (!Number.isInteger(sampleRows) || sampleRows < 1) throw new UsageError('--sample must be a positive integer');
      const contract = opts.contract ? parseContract(await readFile(resolve(ctx.io.cwd, opts.contract), 'utf8'), opts.contract) : undefined;
      const policy = opts.policy ? parsePolicy(await readFile(resolve(ctx.io.cwd, opts.policy), 'utf8'), opts.policy) : DEFAULT_POLICY;
      const report = await scanTable(createReadStream(path, { highWaterMark: 1 << 20 }), {
        fileName: file,
        dataset: opts.dataset ?? contract?.dataset ?? datasetFromFileName(file),
        ...(contract ? { contract } : {}),
        policy,
        sampleRows,
        defaultRegion: contract?.defaultRegion ?? DEFAULT_PIPELINE_CONFIG.defaultRegion,
      });
      if (opts.json) {
        ctx.out(JSON.stringify(report, null, 2));
        return;
      }
      const c = ctx.colors;
      ctx.out(
        `${c.bold(file)}: ${report.format.format}${report.format.compression === 'gzip' ? '.gz' : ''}, ${report.columns.length} columns, ${fmtInt(report.rowsSampled)} rows sampled, contract ${report.contract.inferred ? 'inferred' : 'given'}`,
      );
      ctx.out('columns:');
      for (const line of renderPlan(ctx, report.plan)) ctx.out(line);
      if (report.spans.length > 0) {
        ctx.out('free-text spans in the sample:');
        for (const s of report.spans) ctx.out(`  ${s.column}: ${s.entity} ×${s.count}`);
      }
      const invalid = Object.entries(report.invalidRows);
      if (invalid.length > 0) ctx.out(`sampled rows breaking the contract: ${invalid.map(([r, n]) => `${r} ×${n}`).join(', ')}`);
      if (report.risk) {
        const r = report.risk;
        ctx.out(
          `re-identification risk (k-anonymity over ${r.quasiIdentifiers.join(', ')}): smallest class ${r.smallestClass}, ${(r.shareBelowK * 100).toFixed(1)}% of sampled rows below k=${r.k}`,
        );
      }
    });
}
