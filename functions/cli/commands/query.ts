/**
 * `privacy-pipeline query <dataset> --count|--sum|--mean|--median|--histogram --epsilon E`:
 * an ad-hoc DP release; it spends budget.
 */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { type AdhocQuery, runAdhocQuery } from '../../core/pipeline/adhoc-query.ts';
import type { CliContext } from '../cli-context.ts';

interface QueryOptions {
  count?: boolean;
  sum?: string;
  mean?: string;
  median?: string;
  histogram?: string;
  by?: string;
  epsilon?: string;
  delta?: string;
  bounds?: string;
  json?: boolean;
}

export function registerQuery(program: Command, ctx: CliContext): void {
  program
    .command('query')
    .description('make an ad-hoc differentially private release over a dataset (spends privacy budget)')
    .argument('<dataset>')
    .option('--count', 'number of rows (or subjects)')
    .option('--sum <column>', 'sum of a numeric column (needs bounds)')
    .option('--mean <column>', 'mean of a numeric column (needs bounds)')
    .option('--median <column>', 'median of a numeric column (needs bounds)')
    .option('--histogram <column>', 'counts per value of a categorical column')
    .option('--by <column>', 'group by a categorical column')
    .option('-e, --epsilon <e>', 'privacy loss to spend on this release')
    .option('--delta <d>', 'delta, for partition selection over undeclared keys')
    .option('--bounds <low,high>', "clamping bounds (default: the column's min and max in the contract)")
    .option('--json', 'print the release as JSON (`value`, or `values` for grouped queries)')
    .action(async (dataset: string, opts: QueryOptions, cmd: Command) => {
      const q = parseQuery(opts);
      const ports = await ctx.ports(cmd.optsWithGlobals().home as string | undefined);
      const result = await runAdhocQuery(ports, dataset, { ...q, requestedBy: ctx.io.env.USER ?? 'local-user' });
      const r = result.release;
      if (opts.json) {
        ctx.out(
          JSON.stringify(
            {
              dataset,
              releaseId: result.releaseId,
              ...r,
              budget: { remainingEpsilon: result.spend.remainingEpsilon, remainingDelta: result.spend.remainingDelta },
            },
            null,
            2,
          ),
        );
        return;
      }
      const c = ctx.colors;
      if (r.values) {
        for (const [k, v] of Object.entries(r.values)) {
          const ci = r.ci95ByKey?.[k];
          ctx.out(`  ${k.padEnd(20)} ${fmt(v)}${ci ? c.dim(`  95% CI [${fmt(ci[0])}, ${fmt(ci[1])}]`) : ''}`);
        }
        if (r.partitionSelection)
          ctx.out(c.dim(`  keys below the partition-selection threshold (${fmt(r.partitionSelection.threshold)}) are not released`));
      } else {
        ctx.out(
          `  ${r.kind}${r.column ? ` of ${r.column}` : ''}: ${c.bold(fmt(r.value ?? Number.NaN))}${r.ci95 ? c.dim(`  95% CI [${fmt(r.ci95[0])}, ${fmt(r.ci95[1])}]`) : ''}`,
        );
      }
      ctx.out(
        c.dim(
          `  ${r.mechanism}, scale ${fmt(r.noiseScale)}, ε ${r.epsilon}${r.delta ? ` δ ${r.delta}` : ''}, per ${r.privacyUnit}; ε ${fmt(result.spend.remainingEpsilon)} left; release ${result.releaseId}`,
        ),
      );
    });
}

function parseQuery(o: QueryOptions): Omit<AdhocQuery, 'requestedBy'> {
  const kinds = [
    o.count ? 'count' : undefined,
    o.sum ? 'sum' : undefined,
    o.mean ? 'mean' : undefined,
    o.median ? 'median' : undefined,
    o.histogram ? 'histogram' : undefined,
  ].filter(Boolean);
  if (kinds.length !== 1) throw new UsageError('give exactly one of --count, --sum COL, --mean COL, --median COL, --histogram COL');
  const epsilon = Number(o.epsilon);
  if (o.epsilon === undefined || !Number.isFinite(epsilon) || epsilon <= 0) throw new UsageError('--epsilon must be a positive number');
  const kind = kinds[0] as AdhocQuery['kind'];
  const column = o.sum ?? o.mean ?? o.median ?? o.histogram;
  let bounds: [number, number] | undefined;
  if (o.bounds !== undefined) {
    const parts = o.bounds.split(',').map(Number);
    if (parts.length !== 2 || parts.some((x) => !Number.isFinite(x)) || (parts[0] as number) >= (parts[1] as number))
      throw new UsageError('--bounds must be LOW,HIGH with LOW < HIGH');
    bounds = [parts[0] as number, parts[1] as number];
  }
  let delta: number | undefined;
  if (o.delta !== undefined) {
    delta = Number(o.delta);
    if (!Number.isFinite(delta) || delta < 0 || delta >= 1) throw new UsageError('--delta must be in [0, 1)');
  }
  return {
    kind,
    epsilon,
    ...(column ? { column } : {}),
    ...(o.by ? { by: o.by } : {}),
    ...(bounds ? { bounds } : {}),
    ...(delta !== undefined ? { delta } : {}),
  };
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}
