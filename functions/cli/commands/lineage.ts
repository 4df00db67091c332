/**
 * `privacy-pipeline lineage [dataset]`: the history as a tree, JSON, or OpenLineage events.
 */
import type { Command } from 'commander';
import { lineageRecordToOpenLineage, toOpenLineageEvents } from '../../core/lineage/openlineage.ts';
import { renderLineageTree } from '../../core/lineage/render-tree.ts';
import type { RunRecord } from '../../core/lineage/run-record.ts';
import type { LineageRecord } from '../../core/ports.ts';
import type { CliContext } from '../cli-context.ts';

/** Erasures span datasets (`dataset: '*'`) and list the ones they touched. */
function concerns(r: LineageRecord, dataset: string): boolean {
  return r.dataset === dataset || (r.dataset === '*' && Array.isArray(r.datasets) && r.datasets.includes(dataset));
}

export const OPENLINEAGE_PRODUCER = 'https://github.com/privacy-pipeline/privacy-pipeline/tree/v0.1.0';

export function registerLineage(program: Command, ctx: CliContext): void {
  program
    .command('lineage')
    .description('show lineage: runs, inputs, outputs, column decisions, counts, keys, budget, erasures')
    .argument('[dataset]', 'only this dataset')
    .option('--json', 'print the lineage records as JSON')
    .option('--openlineage', 'print OpenLineage RunEvents (JSON Lines)')
    .option('--namespace <ns>', 'OpenLineage namespace', 'privacy-pipeline://local')
    .action(async (dataset: string | undefined, opts: { json?: boolean; openlineage?: boolean; namespace: string }, cmd: Command) => {
      const ports = await ctx.ports(cmd.optsWithGlobals().home as string | undefined);
      const records: LineageRecord[] = [];
      for await (const r of ports.lineage.list()) if (!dataset || concerns(r, dataset)) records.push(r);
      if (opts.openlineage) {
        const o = { namespace: opts.namespace, producer: OPENLINEAGE_PRODUCER };
        for (const r of records) {
          const events = r.kind === 'run' ? toOpenLineageEvents(r as unknown as RunRecord, o) : lineageRecordToOpenLineage(r, o);
          for (const e of events) ctx.out(JSON.stringify(e));
        }
        return;
      }
      if (opts.json) {
        ctx.out(JSON.stringify(records, null, 2));
        return;
      }
      if (records.length === 0) {
        ctx.out(
          dataset ? `no lineage for dataset '${dataset}'` : 'no lineage yet: run `privacy-pipeline run <file>` or `privacy-pipeline demo`',
        );
        return;
      }
      ctx.out(renderLineageTree(records, { color: ctx.color, ...(dataset ? { dataset } : {}) }));
    });
}
