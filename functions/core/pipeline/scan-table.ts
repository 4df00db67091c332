/**
 * The detection report alone: decode a bounded sample, resolve or infer the contract, classify
 * columns, count spans in free text and estimate re-identification risk. Nothing is written.
 */
import { decodeTable } from '../codecs/decode-table.ts';
import type { FileFormat } from '../codecs/file-format.ts';
import { formatFromKey } from '../codecs/file-format.ts';
import type { DatasetContract } from '../contract/contract-schema.ts';
import { inferContract } from '../contract/infer-contract.ts';
import { createRowValidator } from '../contract/row-validator.ts';
import { checkHeaderNames } from '../detect/check-header-names.ts';
import { classifyColumns } from '../detect/classify-columns.ts';
import { inferQuasiIdentifiers, KAnonymityCounter } from '../detect/k-anonymity.ts';
import { createTextScanner } from '../detect/text-scanner.ts';
import type { RiskReport } from '../lineage/run-record.ts';
import type { Policy } from '../pseudonymise/policy.ts';
import type { ColumnDecision, EntityType, Row } from '../types.ts';

export interface ScanReport {
  readonly file: string;
  readonly format: FileFormat;
  readonly columns: readonly string[];
  readonly rowsSampled: number;
  readonly contract: { readonly dataset: string; readonly inferred: boolean };
  readonly plan: readonly ColumnDecision[];
  /** Spans found in free-text columns of the sample, per column and entity. */
  readonly spans: readonly { readonly column: string; readonly entity: EntityType; readonly count: number }[];
  /** Sampled rows that break the contract, per rule. */
  readonly invalidRows: Readonly<Record<string, number>>;
  readonly risk?: RiskReport;
}

export async function scanTable(
  body: AsyncIterable<Uint8Array>,
  opts: { fileName: string; dataset: string; contract?: DatasetContract; policy: Policy; sampleRows: number; defaultRegion: string },
): Promise<ScanReport> {
  const hinted = formatFromKey(opts.fileName);
  const table = await decodeTable(body, {
    fileName: opts.fileName,
    ...(hinted ? { format: hinted.format, compression: hinted.compression } : {}),
  });
  checkHeaderNames(table.columns, opts.fileName);
  const sample: Row[] = [];
  for await (const row of table.rows) {
    sample.push(row);
    if (sample.length >= opts.sampleRows) break;
  }
  const contract = opts.contract ?? inferContract(opts.dataset, table.columns, sample);
  const validator = createRowValidator(contract, table.columns);
  const invalidRows: Record<string, number> = {};
  const valid: Row[] = [];
  for (const row of sample) {
    const issues = validator.validate(row);
    if (issues.length === 0) valid.push(row);
    for (const rule of new Set(issues.map((i) => i.rule))) invalidRows[rule] = (invalidRows[rule] ?? 0) + 1;
  }
  const samples = table.columns.map((name, i) => ({
    name,
    values: valid
      .map((r) => r.cells[i])
      .filter((v) => v !== null && v !== undefined && v !== '')
      .map(String),
  }));
  const region = contract.defaultRegion ?? opts.defaultRegion;
  const plan = classifyColumns(samples, { contract, policy: opts.policy, defaultRegion: region });
  const scanner = createTextScanner({ defaultRegion: region, minScore: opts.policy.minSpanScore });
  const spans: { column: string; entity: EntityType; count: number }[] = [];
  plan.forEach((d, i) => {
    if (!d.freeText) return;
    const counts = new Map<EntityType, number>();
    for (const value of samples[i]?.values ?? [])
      for (const s of scanner.scan(value)) counts.set(s.entity, (counts.get(s.entity) ?? 0) + 1);
    for (const [entity, count] of counts) spans.push({ column: d.column, entity, count });
  });
  const qis = contract.quasiIdentifiers ?? inferQuasiIdentifiers(plan);
  let risk: RiskReport | undefined;
  if (qis.length > 0) {
    const k = new KAnonymityCounter(table.columns, qis, plan);
    for (const row of valid) k.add(row.cells);
    risk = k.report(contract.kAnonymity?.k ?? 5, contract.kAnonymity?.action ?? 'report');
  }
  return {
    file: opts.fileName,
    format: table.format,
    columns: table.columns,
    rowsSampled: sample.length,
    contract: { dataset: contract.dataset, inferred: opts.contract === undefined },
    plan,
    spans,
    invalidRows,
    ...(risk ? { risk } : {}),
  };
}
