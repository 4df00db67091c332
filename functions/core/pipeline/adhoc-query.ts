/**
 * An ad-hoc DP release over a dataset's ingested data. It reads the retained raw objects of the
 * published runs (current versions, so erasures apply), keeps only rows that pass the run's
 * contract and whose subject was not erased, spends budget, then releases.
 */
import { decodeTable } from '../codecs/decode-table.ts';
import { formatFromKey } from '../codecs/file-format.ts';
import { type AggregateQuery, type DatasetContract, DEFAULT_PRIVACY_BUDGET } from '../contract/contract-schema.ts';
import { createRowValidator } from '../contract/row-validator.ts';
import { Aggregator, budgetFor, type ReleasedAggregate, releaseAggregates, validateQueries } from '../dp/aggregator.ts';
import { UsageError } from '../errors.ts';
import type { BudgetSpend, ObjectDigest } from '../lineage/run-record.ts';
import type { Ports } from '../ports.ts';
import { DEFAULT_POLICY } from '../pseudonymise/policy.ts';
import { createRowTransformer } from '../pseudonymise/row-transformer.ts';
import { subjectTokenPlan } from '../pseudonymise/subject-token-plan.ts';
import { sha256Hex } from './digest.ts';
import { outputKeys } from './object-keys.ts';
import { publishAggregates } from './publish-aggregates.ts';
import { publishedRuns } from './read-dataset.ts';

export interface AdhocQuery {
  readonly kind: 'count' | 'sum' | 'mean' | 'median' | 'histogram';
  readonly column?: string;
  readonly by?: string;
  readonly epsilon: number;
  readonly delta?: number;
  readonly bounds?: readonly [number, number];
  readonly requestedBy?: string;
}

export interface AdhocResult {
  readonly releaseId: string;
  readonly release: ReleasedAggregate;
  readonly spend: BudgetSpend;
  readonly outputs: readonly ObjectDigest[];
}

/** Delta used for partition selection when a grouped query has no declared domain and none is given. */
export const DEFAULT_PARTITION_DELTA = 1e-7;

export async function runAdhocQuery(ports: Ports, dataset: string, q: AdhocQuery): Promise<AdhocResult> {
  const runs = await publishedRuns(ports, dataset);
  const last = runs.at(-1);
  if (!last) throw new UsageError(`dataset '${dataset}' has no published data to query`, { dataset });
  const contract = last.contract.body as DatasetContract;
  const columns = contract.columns.map((c) => c.name);
  const query = toAggregateQuery(q, contract);
  validateQueries([query], columns);

  const hmacKey = await ports.keys.pseudonymKey('token-hmac');
  const sivKey = await ports.keys.pseudonymKey('token-siv');
  const suppressed = await ports.suppression.all();
  const aggregator = new Aggregator({
    columns,
    queries: [query],
    integerColumns: contract.columns.filter((c) => c.type === 'integer').map((c) => c.name),
    subjectHashKey: hmacKey.material,
    ...(contract.subjectKey ? { subjectKey: contract.subjectKey } : {}),
    ...(contract.privacyUnit ? { privacyUnit: contract.privacyUnit } : {}),
  });
  const seen = new Set<string>();
  for (const run of runs) {
    // A key re-used by a later file holds that file now; count each current object once.
    if (seen.has(run.input.key) || !(await ports.objects.head('ingest', run.input.key))) continue;
    seen.add(run.input.key);
    const { body } = await ports.objects.get('ingest', run.input.key);
    const hinted = formatFromKey(run.input.key);
    const table = await decodeTable(body, {
      fileName: run.input.key,
      ...(hinted ? { format: hinted.format, compression: hinted.compression } : {}),
    });
    const runContract = (run.contract.body as DatasetContract | undefined) ?? contract;
    const validator = createRowValidator(runContract, table.columns);
    // Only subject tokens are needed (suppression): `encrypt` columns need no vault key here.
    const tokensOnly = subjectTokenPlan(run.plan, DEFAULT_POLICY);
    const transformer = createRowTransformer(table.columns, tokensOnly.plan, { hmacKey, sivKey, policy: tokensOnly.policy });
    const index = columns.map((c) => table.columns.indexOf(c));
    const tokens: string[] = [];
    for await (const row of table.rows) {
      if (validator.validate(row).length > 0) continue;
      if (suppressed.size > 0) {
        tokens.length = 0;
        try {
          transformer.transform(row.cells, tokens);
        } catch {
          continue; // the row was quarantined at ingest, so it is not part of the dataset
        }
        if (tokens.some((t) => suppressed.has(t))) continue;
      }
      aggregator.add(index.map((i) => (i >= 0 ? (row.cells[i] ?? null) : null)));
    }
  }
  const at = ports.clock.now();
  const releaseId = `adhoc-${at.toISOString().replace(/[-:.]/g, '')}-${sha256Hex(JSON.stringify(query), String(at.getTime()), Buffer.from(ports.random.bytes(8)).toString('hex')).slice(0, 8)}`;
  const result = await publishAggregates(ports, {
    dataset,
    releaseId,
    amount: budgetFor([query]),
    total: contract.privacyBudget ?? DEFAULT_PRIVACY_BUDGET,
    release: () => releaseAggregates(aggregator, ports.random),
    keys: { json: outputKeys.adhocAggregates(dataset, releaseId, 'json'), csv: outputKeys.adhocAggregates(dataset, releaseId, 'csv') },
    ...(q.requestedBy ? { requestedBy: q.requestedBy } : {}),
  });
  const release = result.releases[0];
  if (!release) throw new Error('the release produced no result');
  return { releaseId, release, spend: result.spend, outputs: result.outputs };
}

function toAggregateQuery(q: AdhocQuery, contract: DatasetContract): AggregateQuery {
  const column = q.column ? contract.columns.find((c) => c.name === q.column) : undefined;
  if (q.column && !column) throw new UsageError(`unknown column '${q.column}' in dataset '${contract.dataset}'`, { column: q.column });
  const groupColumn = q.kind === 'histogram' ? column : q.by ? contract.columns.find((c) => c.name === q.by) : undefined;
  if (q.by && !groupColumn) throw new UsageError(`unknown column '${q.by}' in dataset '${contract.dataset}'`, { column: q.by });
  // Bounds must not come from the data (that would leak it): flags first, then the contract.
  let bounds = q.bounds;
  if (!bounds && column && column.min !== undefined && column.max !== undefined) bounds = [column.min, column.max];
  if ((q.kind === 'sum' || q.kind === 'mean' || q.kind === 'median') && !bounds) {
    throw new UsageError(
      `--${q.kind} ${q.column} needs clamping bounds: pass --bounds LOW,HIGH or declare min and max on the column in the contract`,
      q.column ? { column: q.column } : {},
    );
  }
  const domain = groupColumn?.enum;
  const needsPartitionSelection = (q.kind === 'histogram' || q.by !== undefined) && !domain;
  const delta = q.delta ?? (needsPartitionSelection ? DEFAULT_PARTITION_DELTA : undefined);
  return {
    id: 'adhoc',
    kind: q.kind,
    mechanism: 'laplace',
    epsilon: q.epsilon,
    ...(q.column ? { column: q.column } : {}),
    ...(q.by ? { by: q.by } : {}),
    ...(domain ? { domain } : {}),
    ...(bounds ? { bounds: [bounds[0], bounds[1]] as [number, number] } : {}),
    ...(delta !== undefined ? { delta } : {}),
  };
}
