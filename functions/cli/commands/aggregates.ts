/**
 * `privacy-pipeline aggregates <dataset>`: DP releases made so far and the remaining budget.
 */
import type { Command } from 'commander';
import { type DatasetContract, DEFAULT_PRIVACY_BUDGET } from '../../core/contract/contract-schema.ts';
import { publishedRuns } from '../../core/pipeline/read-dataset.ts';
import type { CliContext } from '../cli-context.ts';

export function registerAggregates(program: Command, ctx: CliContext): void {
  program
    .command('aggregates')
    .description('list the DP releases of a dataset and its remaining privacy budget')
    .argument('<dataset>')
    .option('--json')
    .action(async (dataset: string, opts: { json?: boolean }, cmd: Command) => {
      const ports = await ctx.ports(cmd.optsWithGlobals().home as string | undefined);
      const runs = await publishedRuns(ports, dataset);
      const contract = runs.at(-1)?.contract.body as DatasetContract | undefined;
      const total = contract?.privacyBudget ?? DEFAULT_PRIVACY_BUDGET;
      const budget = await ports.budget.get(dataset, total);
      const releases = [];
      for await (const r of ports.lineage.list({ dataset, kind: 'release' })) {
        const outputs = (r.outputs as { key: string }[] | undefined) ?? [];
        const json = outputs.find((o) => o.key.endsWith('.json'));
        let values: unknown;
        if (json) {
          const { body } = await ports.objects.get('aggregates', json.key);
          const chunks: Uint8Array[] = [];
          for await (const ch of body) chunks.push(ch);
          values = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { releases: unknown }).releases;
        }
        releases.push({
          releaseId: r.releaseId,
          at: r.at,
          spent: r.spent,
          outputs: outputs.map((o) => `aggregates/${o.key}`),
          releases: values,
        });
      }
      if (opts.json) {
        ctx.out(JSON.stringify({ dataset, budget, releases }, null, 2));
        return;
      }
      const c = ctx.colors;
      ctx.out(
        `${c.bold(dataset)}: privacy budget ε ${fmt(budget.spent.epsilon)} of ${fmt(budget.total.epsilon)} spent, ${c.bold(`ε ${fmt(budget.remaining.epsilon)}`)} left` +
          (budget.total.delta ? ` (δ ${budget.spent.delta} of ${budget.total.delta})` : ''),
      );
      if (releases.length === 0) ctx.out('  no releases yet');
      for (const r of releases) {
        ctx.out(
          `  ${c.cyan(String(r.releaseId))}  ${r.at}  ε ${fmt((r.spent as { epsilon: number }).epsilon)}  ${c.dim(r.outputs.join(' '))}`,
        );
        for (const q of (r.releases as
          | { id: string; kind: string; value?: number; values?: Record<string, number>; ci95?: [number, number]; privacyUnit: string }[]
          | undefined) ?? []) {
          const v = q.values
            ? Object.entries(q.values)
                .slice(0, 8)
                .map(([k, x]) => `${k}=${fmt(x)}`)
                .join(' ')
            : fmt(q.value ?? Number.NaN);
          ctx.out(
            `    ${q.id.padEnd(24)} ${q.kind.padEnd(9)} ${v}${q.ci95 ? c.dim(`  95% CI [${fmt(q.ci95[0])}, ${fmt(q.ci95[1])}]`) : ''}  ${c.dim(`per ${q.privacyUnit}`)}`,
          );
        }
      }
    });
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}
