/**
 * Lineage as a readable tree for `privacy-pipeline lineage [dataset]`: per dataset its runs in
 * ingest order (input, contract, plan, counts, outputs, keys, budget, drift, risk), then releases,
 * erasures (certificate summaries) and re-identifications. Only names, counts, hashes and ids:
 * lineage records never hold a cell value.
 */
import pc from 'picocolors';
import type { LineageRecord } from '../ports.ts';
import type { ColumnDecision } from '../types.ts';
import type { ObjectDigest, RunRecord } from './run-record.ts';

type Colors = ReturnType<typeof pc.createColors>;

interface Node {
  readonly text: string;
  readonly children?: readonly Node[];
}

const leaf = (text: string): Node => ({ text });

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** First string field among `names`. */
function str(r: Readonly<Record<string, unknown>>, ...names: string[]): string | undefined {
  for (const n of names) if (typeof r[n] === 'string' && r[n] !== '') return r[n] as string;
  return undefined;
}

/** First count among `names`: a number, or the length of an array. */
function count(r: Readonly<Record<string, unknown>>, ...names: string[]): number | undefined {
  for (const n of names) {
    const v = r[n];
    if (typeof v === 'number') return v;
    if (Array.isArray(v)) return v.length;
  }
  return undefined;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

function formatTime(iso: string): string {
  return Number.isFinite(Date.parse(iso)) ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : iso;
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function num(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(4)));
}

const prefix = (hash: string, n = 12): string => (hash ? hash.slice(0, n) : '—');

function statusColor(c: Colors, status: string): string {
  switch (status) {
    case 'COMPLETE':
      return c.green(status);
    case 'QUARANTINED':
      return c.yellow(status);
    case 'FAILED':
      return c.red(status);
    default:
      return c.dim(status);
  }
}

function objectLine(c: Colors, o: ObjectDigest): string {
  const unit = o.role === 'subject-index' ? 'token' : 'row';
  const rows = typeof o.rows === 'number' ? `  ${o.rows} ${unit}${o.rows === 1 ? '' : 's'}` : '';
  const version = o.versionId ? c.dim(`  version ${o.versionId}`) : '';
  return `${o.bucket}/${o.key}${rows}  ${formatBytes(o.size)}${c.dim(`  ${o.role}`)}${version}`;
}

function planNodes(c: Colors, plan: readonly ColumnDecision[]): Node[] {
  const width = Math.max(0, ...plan.map((d) => d.column.length));
  return plan.map((d) => {
    const entity = d.entity ?? '—';
    const op = d.operator === 'keep' && !d.freeText ? c.dim(d.operator) : c.cyan(d.operator);
    const flags = [d.identifiesSubject ? 'subject' : '', d.freeText ? 'free text' : ''].filter(Boolean).join(', ');
    return leaf(`${`${d.column}:`.padEnd(width + 1)} ${entity} → ${op} (${d.confidence.toFixed(2)})${flags ? c.dim(`  ${flags}`) : ''}`);
  });
}

function runNode(c: Colors, r: RunRecord, samePlanAs?: string): Node {
  const children: Node[] = [];
  const input = r.input;
  children.push(
    leaf(
      `${c.dim('input')}     ${input.bucket}/${input.key}  ${formatBytes(input.size)}  sha256 ${prefix(input.sha256)}  ${input.format}${input.compression === 'gzip' ? '+gzip' : ''}` +
        (input.versionId ? c.dim(`  version ${input.versionId}`) : ''),
    ),
  );
  const ct = r.contract;
  if (!ct.hash) children.push(leaf(`${c.dim('contract')}  ${c.dim('none resolved')}`));
  else {
    const source = ct.inferred && ct.source === 'inferred' ? '' : `  ${ct.source}`;
    const version = ct.version !== undefined ? ` v${ct.version}` : '';
    children.push(
      leaf(`${c.dim('contract')}  ${prefix(ct.hash)}${source}${version}  ${ct.inferred ? c.yellow('inferred from a sample') : 'declared'}`),
    );
  }
  children.push(leaf(`${c.dim('policy')}    ${prefix(r.policy.hash)}  ${r.policy.version}`));
  if (r.plan.length > 0) {
    // The same plan run after run is noise: say so once instead of repeating every column.
    children.push(
      samePlanAs
        ? leaf(`${c.dim('plan')}      ${c.dim(`same as run ${samePlanAs}`)}`)
        : { text: c.dim('plan'), children: planNodes(c, r.plan) },
    );
  }
  const k = r.counts;
  const conserved = k.conserved ? c.green('✓') : c.red('✗');
  children.push(
    leaf(
      `${c.dim('counts')}    in ${k.rowsIn} · published ${k.rowsPublished} · quarantined ${k.rowsQuarantined} · suppressed ${k.rowsSuppressed}` +
        (k.rowsKSuppressed > 0 ? ` · k-suppressed ${k.rowsKSuppressed}` : '') +
        `  conservation ${conserved}`,
    ),
  );
  const reasons = Object.entries(r.quarantineReasons);
  if (reasons.length > 0) children.push(leaf(`${c.dim('quarantine reasons')}  ${reasons.map(([rule, n]) => `${rule} ${n}`).join(', ')}`));
  if (r.formulaCellsNeutralised > 0) children.push(leaf(`${c.dim('formula cells neutralised')}  ${r.formulaCellsNeutralised}`));
  if (r.outputs.length > 0) children.push({ text: c.dim('outputs'), children: r.outputs.map((o) => leaf(objectLine(c, o))) });
  if (r.keys.length > 0)
    children.push(
      leaf(`${c.dim('keys')}      ${r.keys.map((key) => `${key.keyId}@${key.version} ${c.dim(`(${key.purpose})`)}`).join(', ')}`),
    );
  for (const b of r.budget) {
    children.push(
      leaf(
        `${c.dim('budget')}    ${b.releaseId}: spent ε ${num(b.epsilon)} δ ${num(b.delta)} → remaining ε ${num(b.remainingEpsilon)} δ ${num(b.remainingDelta)}`,
      ),
    );
  }
  if (r.drift.length > 0) {
    children.push({
      text: c.yellow('drift'),
      children: r.drift.map((d) => leaf(`${d.column} ${d.metric}: ${String(d.previous)} → ${String(d.current)}${c.dim(`  ${d.message}`)}`)),
    });
  }
  if (r.risk) {
    const x = r.risk;
    const ok = x.rowsBelowK === 0 ? c.green('✓') : c.yellow('!');
    children.push(
      leaf(
        `${c.dim('risk')}      k=${x.k} on ${x.quasiIdentifiers.join(', ')}: smallest class ${x.smallestClass}, ${x.rowsBelowK} rows below k (${(x.shareBelowK * 100).toFixed(1)}%), ${x.classes} classes, action ${x.action} ${ok}`,
      ),
    );
  }
  if (r.chunks && r.chunks.length > 0)
    children.push(leaf(`${c.dim('chunks')}    ${r.chunks.length} (${r.chunks.map((ch) => ch.rows).join(' + ')} rows)`));
  if (r.error)
    children.push(
      leaf(`${c.red('error')}     ${r.error.class}: ${r.error.message}${r.error.rule ? c.dim(` [rule ${r.error.rule}]`) : ''}`),
    );
  return {
    text: `${c.bold(`run ${r.runKey}`)}  ${statusColor(c, r.status)}  ${formatTime(r.timings.startedAt)}  ${c.dim(formatMs(r.timings.ms))}`,
    children,
  };
}

/** Objects (bucket + key) in a record's array field, tolerant of shapes written by other modules. */
function objectsOf(r: LineageRecord, field: string): ObjectDigest[] {
  const v = r[field];
  if (!Array.isArray(v)) return [];
  return v.filter(
    (o): o is ObjectDigest => isObject(o) && typeof o.bucket === 'string' && typeof o.key === 'string' && typeof o.size === 'number',
  );
}

function releaseNode(c: Colors, r: LineageRecord): Node {
  const children: Node[] = [];
  const spent = isObject(r.spent) ? r.spent : {};
  const remaining = isObject(r.remaining) ? r.remaining : {};
  if (typeof spent.epsilon === 'number') {
    children.push(
      leaf(
        `${c.dim('budget')}  spent ε ${num(spent.epsilon)} δ ${num(Number(spent.delta ?? 0))}` +
          (typeof remaining.epsilon === 'number' ? ` → remaining ε ${num(remaining.epsilon)} δ ${num(Number(remaining.delta ?? 0))}` : ''),
      ),
    );
  }
  const queries = Array.isArray(r.queries) ? r.queries.filter(isObject) : [];
  if (queries.length > 0) {
    children.push({
      text: c.dim('queries'),
      children: queries.map((q) =>
        leaf(
          `${String(q.id ?? '?')}: ${String(q.kind ?? '?')}${typeof q.column === 'string' ? ` of ${q.column}` : ''}${typeof q.by === 'string' ? ` by ${q.by}` : ''}` +
            c.dim(` (${String(q.mechanism ?? 'laplace')}, ε ${String(q.epsilon ?? '?')})`),
        ),
      ),
    });
  }
  const outputs = objectsOf(r, 'outputs');
  if (outputs.length > 0) children.push({ text: c.dim('outputs'), children: outputs.map((o) => leaf(objectLine(c, o))) });
  const by = str(r, 'requestedBy', 'actor', 'who');
  return { text: `${c.bold(`release ${str(r, 'releaseId') ?? r.id}`)}  ${formatTime(r.at)}${by ? `  by ${by}` : ''}`, children };
}

function verificationOf(r: LineageRecord): boolean | undefined {
  const v = r.verification ?? r.verified;
  if (typeof v === 'boolean') return v;
  if (v === 'passed') return true;
  if (v === 'failed') return false;
  if (isObject(v)) for (const k of ['passed', 'ok', 'success']) if (typeof v[k] === 'boolean') return v[k] as boolean;
  return undefined;
}

function erasureNode(c: Colors, r: LineageRecord): Node {
  const verified = verificationOf(r);
  const mark = verified === undefined ? c.dim('unverified') : verified ? c.green('✓ verified') : c.red('✗ verification failed');
  const hash = str(r, 'subjectRef', 'identifierHash', 'subjectHash');
  const type = str(r, 'identifierType', 'type');
  const facts: [string, number | undefined][] = [
    ['indexes tested', count(r, 'indexesTested', 'objectsIndexed')],
    ['candidates', count(r, 'objectsFound', 'candidates')],
    ['objects read', count(r, 'objectsRead')],
    ['rewritten', count(r, 'objectsRewritten')],
    ['versions deleted', count(r, 'versionsDeleted')],
    ['rows removed', count(r, 'rowsRemoved')],
    ['spans redacted', count(r, 'spansRedacted')],
    ['tokens suppressed', count(r, 'tokensSuppressed', 'suppressedTokens')],
  ];
  const children: Node[] = [
    leaf(
      `${c.dim('certificate')}  subject ${hash ? prefix(hash) : '—'}${type ? ` (${type})` : ''} · ` +
        facts
          .filter(([, n]) => n !== undefined)
          .map(([label, n]) => `${label} ${n}`)
          .join(' · '),
    ),
  ];
  const reason = str(r, 'reason');
  if (reason) children.push(leaf(`${c.dim('reason')}  ${reason}`));
  const found = [...objectsOf(r, 'objectsRewritten'), ...objectsOf(r, 'objectsFound')];
  const seen = new Set<string>();
  const objects = found.filter((o) => !seen.has(`${o.bucket}/${o.key}`) && seen.add(`${o.bucket}/${o.key}`));
  if (objects.length > 0) children.push({ text: c.dim('objects'), children: objects.map((o) => leaf(objectLine(c, o))) });
  return { text: `${c.bold(`erasure ${str(r, 'requestId') ?? r.id}`)}  ${formatTime(r.at)}  ${mark}`, children };
}

function reidentificationNode(c: Colors, r: LineageRecord): Node {
  const who = str(r, 'requestedBy', 'actor', 'who', 'principal', 'by') ?? 'unknown';
  const why = str(r, 'reason', 'why', 'purpose') ?? '—';
  const n = count(r, 'tokenCount', 'tokens', 'count');
  const entity = str(r, 'entity');
  return {
    text: `${c.bold('re-identification')}  ${formatTime(r.at)}  by ${c.magenta(who)}`,
    children: [
      leaf(`${c.dim('why')}  ${why}`),
      ...(n !== undefined ? [leaf(`${c.dim('tokens')}  ${n}${entity ? ` ${entity}` : ''}`)] : []),
    ],
  };
}

function otherNode(c: Colors, r: LineageRecord): Node {
  const scalars = Object.entries(r)
    .filter(
      ([k, v]) =>
        !['id', 'kind', 'dataset', 'at'].includes(k) && (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string'),
    )
    .map(([k, v]) => leaf(`${c.dim(k)}  ${String(v)}`));
  return { text: `${c.bold(`${r.kind} ${r.id}`)}  ${formatTime(r.at)}`, children: scalars };
}

function sweepNode(c: Colors, r: LineageRecord): Node {
  const objects = Array.isArray(r.objects) ? (r.objects as { bucket?: unknown; key?: unknown; size?: unknown }[]) : [];
  const bytes = objects.reduce((a, o) => a + (typeof o.size === 'number' ? o.size : 0), 0);
  return {
    text: `${c.bold(c.yellow('sweep'))} ${c.dim(r.id)}  ${formatTime(r.at)}  ${objects.length} orphaned object${objects.length === 1 ? '' : 's'} deleted (${bytes} bytes)`,
    children: objects.map((o) => leaf(`${c.dim(String(o.bucket))}/${String(o.key)}`)),
  };
}

function recordNode(c: Colors, r: LineageRecord, samePlanAs?: string): Node {
  switch (r.kind) {
    case 'run':
      return runNode(c, r as unknown as RunRecord, samePlanAs);
    case 'release':
      return releaseNode(c, r);
    case 'erasure':
      return erasureNode(c, r);
    case 'reidentification':
      return reidentificationNode(c, r);
    case 'sweep':
      return sweepNode(c, r);
    default:
      return otherNode(c, r);
  }
}

function draw(node: Node, lead: string, last: boolean, root: boolean, out: string[], c: Colors): void {
  out.push(root ? node.text : `${lead}${c.dim(last ? '└─ ' : '├─ ')}${node.text}`);
  const kids = node.children ?? [];
  const next = root ? '' : `${lead}${last ? '   ' : c.dim('│  ')}`;
  for (const [i, k] of kids.entries()) draw(k, next, i === kids.length - 1, false, out, c);
}

/** The lineage tree as text; runs in ingest order (runKey), other records in time order. */
export function renderLineageTree(records: readonly LineageRecord[], opts: { color: boolean; dataset?: string }): string {
  const c = pc.createColors(opts.color);
  const byDataset = new Map<string, LineageRecord[]>();
  for (const r of records) {
    // An erasure spans datasets (`dataset: '*'`): it shows under each dataset it touched.
    const datasets = r.dataset === '*' && Array.isArray(r.datasets) && r.datasets.length > 0 ? (r.datasets as string[]) : [r.dataset];
    for (const d of datasets) {
      if (opts.dataset !== undefined && d !== opts.dataset) continue;
      const list = byDataset.get(d) ?? [];
      list.push(r);
      byDataset.set(d, list);
    }
  }
  if (byDataset.size === 0) return opts.dataset !== undefined ? `no lineage for dataset '${opts.dataset}'` : 'no lineage records';
  const out: string[] = [];
  for (const dataset of [...byDataset.keys()].sort()) {
    const list = byDataset.get(dataset) ?? [];
    const runs = list.filter((r) => r.kind === 'run').sort((a, b) => String(a.runKey).localeCompare(String(b.runKey)));
    const others = list.filter((r) => r.kind !== 'run').sort((a, b) => a.at.localeCompare(b.at));
    const summary = [`${runs.length} run${runs.length === 1 ? '' : 's'}`];
    for (const [kind, label] of [
      ['release', 'release'],
      ['erasure', 'erasure'],
      ['reidentification', 're-identification'],
      ['rekey', 'rekey'],
      ['sweep', 'sweep'],
    ] as const) {
      const n = others.filter((r) => r.kind === kind).length;
      if (n > 0) summary.push(`${n} ${label}${n === 1 ? '' : 's'}`);
    }
    if (out.length > 0) out.push('');
    let previous: { plan: string; runKey: string } | undefined;
    const runNodes = runs.map((r) => {
      const run = r as unknown as RunRecord;
      const plan = JSON.stringify(run.plan);
      const same = previous && previous.plan === plan && run.plan.length > 0 ? previous.runKey : undefined;
      if (!same) previous = { plan, runKey: run.runKey };
      return recordNode(c, r, same);
    });
    const children = [...runNodes, ...others.map((r) => recordNode(c, r))];
    draw({ text: `${c.bold(c.cyan(dataset))}  ${c.dim(summary.join(', '))}`, children }, '', true, true, out, c);
  }
  return out.join('\n');
}
