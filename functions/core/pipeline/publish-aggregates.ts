/**
 * Spends privacy budget, then releases and publishes DP aggregates. The spend comes first and is
 * atomic: if it is refused nothing is computed or written; if publishing fails afterwards the
 * budget stays spent (the conservative side).
 *
 * Exactly once per releaseId: a retry after a crash finds the release's lineage record and
 * returns it, or finds the noisy values an earlier attempt already wrote and publishes those. It
 * never draws fresh noise for a release that may have been seen: two independent noisy answers
 * for one charge would leak more than the budget says.
 */
import { encodeTable } from '../codecs/encode-table.ts';
import type { ReleasedAggregate } from '../dp/aggregator.ts';
import type { BudgetSpend, ObjectDigest } from '../lineage/run-record.ts';
import type { BudgetAmount, Ports } from '../ports.ts';
import type { Cell } from '../types.ts';
import { digesting } from './digest.ts';

export interface PublishRequest {
  readonly dataset: string;
  readonly releaseId: string;
  readonly amount: BudgetAmount;
  readonly total: BudgetAmount;
  /** Computes the noisy values; called only after the budget was spent. */
  readonly release: () => ReleasedAggregate[] | Promise<ReleasedAggregate[]>;
  readonly keys: { readonly json: string; readonly csv: string };
  /** The ingest run, for ingest-time releases. */
  readonly runId?: string;
  /** Who asked, for ad-hoc releases (recorded in lineage). */
  readonly requestedBy?: string;
}

export interface PublishResult {
  readonly spend: BudgetSpend;
  readonly outputs: ObjectDigest[];
  readonly releases: ReleasedAggregate[];
}

const CSV_COLUMNS = [
  'release_id',
  'query_id',
  'kind',
  'column',
  'by',
  'key',
  'value',
  'ci95_low',
  'ci95_high',
  'mechanism',
  'noise_scale',
  'epsilon',
  'delta',
  'privacy_unit',
];

export async function publishAggregates(ports: Ports, req: PublishRequest): Promise<PublishResult> {
  const recorded = await ports.lineage.get(`release-${req.releaseId}`);
  if (recorded) return replay(ports, req, recorded as unknown as RecordedRelease);
  // Idempotent per releaseId in the ledger: a retry is not charged again.
  const state = await ports.budget.spend(req.dataset, req.amount, req.total, req.releaseId);
  const releases = (await releasedBefore(ports, req)) ?? (await req.release());
  const at = ports.clock.now().toISOString();
  const spend: BudgetSpend = {
    releaseId: req.releaseId,
    epsilon: req.amount.epsilon,
    delta: req.amount.delta,
    remainingEpsilon: state.remaining.epsilon,
    remainingDelta: state.remaining.delta,
  };
  const document = {
    dataset: req.dataset,
    releaseId: req.releaseId,
    at,
    ...(req.runId ? { runId: req.runId } : {}),
    budget: { spent: req.amount, remaining: state.remaining, total: state.total },
    releases,
  };
  const json = new TextEncoder().encode(`${JSON.stringify(document, null, 2)}\n`);
  const outputs: ObjectDigest[] = [];
  outputs.push(await put(ports, req, req.keys.json, json, 'application/json'));
  const csv = encodeTable(
    CSV_COLUMNS,
    toAsync(csvRows(req.releaseId, releases)),
    { format: 'csv', compression: 'none', delimiter: ',', bom: false, lineEnding: '\n' },
    { neutraliseFormulas: true },
  );
  outputs.push(await put(ports, req, req.keys.csv, csv.bytes, 'text/csv; charset=utf-8'));
  await ports.lineage.append({
    id: `release-${req.releaseId}`,
    kind: 'release',
    dataset: req.dataset,
    at,
    releaseId: req.releaseId,
    ...(req.runId ? { runId: req.runId } : {}),
    ...(req.requestedBy ? { requestedBy: req.requestedBy } : {}),
    spent: req.amount,
    remaining: state.remaining,
    total: state.total,
    queries: releases.map((r) => ({
      id: r.id,
      kind: r.kind,
      column: r.column ?? null,
      by: r.by ?? null,
      mechanism: r.mechanism,
      epsilon: r.epsilon,
      delta: r.delta,
      privacyUnit: r.privacyUnit,
    })),
    outputs,
  });
  return { spend, outputs, releases };
}

interface RecordedRelease {
  readonly spent: BudgetAmount;
  readonly remaining: BudgetAmount;
  readonly outputs: ObjectDigest[];
}

/** The result of a release whose lineage record exists: nothing is charged, drawn or written. */
async function replay(ports: Ports, req: PublishRequest, recorded: RecordedRelease): Promise<PublishResult> {
  return {
    spend: {
      releaseId: req.releaseId,
      epsilon: recorded.spent.epsilon,
      delta: recorded.spent.delta,
      remainingEpsilon: recorded.remaining.epsilon,
      remainingDelta: recorded.remaining.delta,
    },
    outputs: recorded.outputs,
    releases: (await releasedBefore(ports, req)) ?? [],
  };
}

/** The noisy values an earlier attempt of this release wrote, if it got that far. */
async function releasedBefore(ports: Ports, req: PublishRequest): Promise<ReleasedAggregate[] | undefined> {
  const info = await ports.objects.head('aggregates', req.keys.json);
  if (!info || info.metadata['pp-release-id'] !== req.releaseId) return undefined;
  const { body } = await ports.objects.get('aggregates', req.keys.json);
  const chunks: Uint8Array[] = [];
  for await (const c of body) chunks.push(c);
  const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { releaseId?: unknown; releases?: unknown };
  return doc.releaseId === req.releaseId && Array.isArray(doc.releases) ? (doc.releases as ReleasedAggregate[]) : undefined;
}

function* csvRows(releaseId: string, releases: readonly ReleasedAggregate[]): Iterable<Cell[]> {
  for (const r of releases) {
    const common = [r.mechanism, r.noiseScale, r.epsilon, r.delta, r.privacyUnit];
    if (r.values) {
      for (const [key, value] of Object.entries(r.values)) {
        const ci = r.ci95ByKey?.[key];
        yield [releaseId, r.id, r.kind, r.column ?? '', r.by ?? '', key, value, ci?.[0] ?? '', ci?.[1] ?? '', ...common];
      }
    } else {
      yield [releaseId, r.id, r.kind, r.column ?? '', r.by ?? '', '', r.value ?? '', r.ci95?.[0] ?? '', r.ci95?.[1] ?? '', ...common];
    }
  }
}

async function* toAsync<T>(items: Iterable<T>): AsyncIterable<T> {
  yield* items;
}

async function put(
  ports: Ports,
  req: PublishRequest,
  key: string,
  body: Uint8Array | AsyncIterable<Uint8Array>,
  contentType: string,
): Promise<ObjectDigest> {
  const d = body instanceof Uint8Array ? digesting(toAsync([body])) : digesting(body);
  const info = await ports.objects.put('aggregates', key, d.bytes, {
    contentType,
    metadata: { 'pp-release-id': req.releaseId, 'pp-dataset': req.dataset },
    encryptionContext: { dataset: req.dataset },
  });
  const { size, sha256 } = d.digest();
  return { bucket: 'aggregates', key, size, sha256, role: 'aggregates', ...(info.versionId ? { versionId: info.versionId } : {}) };
}
