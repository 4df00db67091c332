import { describe, expect, it } from 'vitest';
import { formatBytes, renderLineageTree } from '../../../functions/core/lineage/render-tree.ts';
import type { RunRecord } from '../../../functions/core/lineage/run-record.ts';
import type { LineageRecord } from '../../../functions/core/ports.ts';
import {
  completeRun,
  erasureRecord,
  failedRun,
  quarantinedRun,
  rawStringCells,
  reidentificationRecord,
  releaseRecord,
  skippedRun,
} from './run-record-fixtures.ts';

const asRecord = (r: RunRecord): LineageRecord => r as unknown as LineageRecord;
// Appended out of ingest order on purpose: the tree sorts runs by runKey.
const RECORDS: LineageRecord[] = [
  asRecord(quarantinedRun()),
  releaseRecord(),
  asRecord(completeRun()),
  asRecord(failedRun()),
  erasureRecord(),
  asRecord(skippedRun()),
  reidentificationRecord(),
];
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ANSI = /\u001b\[[0-9;]*m/g;

function lines(text: string): string[] {
  return text.split('\n');
}
function lineWith(text: string, ...parts: string[]): string | undefined {
  return lines(text).find((l) => parts.every((p) => l.includes(p)));
}

describe('renderLineageTree', () => {
  const plain = renderLineageTree(RECORDS, { color: false });

  it.each<[string, string[]]>([
    ['dataset header with a summary', ['customers', '3 runs', '1 release', '1 erasure', '1 re-identification']],
    ['run with status, start time and duration', ['run 20250301T101500123Z-3f9a1c2b7d4e', 'COMPLETE', '2025-03-01 10:15:00Z', '2.3 s']],
    ['input key, size and sha256 prefix', ['input', 'ingest/customers/customers-2025-03-01.csv', '47 KiB', 'sha256 3f9a1c2b7d4e', 'csv']],
    ['declared contract with hash prefix and version', ['contract', 'c0ffee123456', 'customers.contract.yaml v3', 'declared']],
    ['policy', ['policy', 'a11ce5a11ce5', '2025-01']],
    ['plan: column, entity, operator, confidence', ['email:', 'EMAIL_ADDRESS → token (0.98)', 'subject']],
    ['plan: a kept column without PII', ['amount:', '— → keep (1.00)']],
    ['plan: free text', ['notes:', 'FREE_TEXT → keep (0.60)', 'free text']],
    ['counts with conservation', ['counts', 'in 4 · published 3 · quarantined 1 · suppressed 0', 'conservation ✓']],
    ['quarantine reasons', ['quarantine reasons', 'format 1']],
    ['curated output with rows and size', ['curated/customers/20250301T101500123Z-3f9a1c2b7d4e/part-00000.csv', '3 rows', '1.7 KiB']],
    ['subject index output', ['_subjects.idx', '9 tokens', '88 B']],
    ['keys as id@version', ['keys', 'local/token-hmac@1', 'local/master@2 (data)']],
    ['budget spent', ['budget', 'spent ε 1 δ 0 → remaining ε 9']],
    ['drift finding', ['notes nullShare: 0.02 → 0.33']],
    ['risk report', ['risk', 'k=5 on age, country', 'smallest class 1', '3 rows below k (100.0%)']],
    ['quarantined run and its error', ['error', 'DatasetValidationError', '[rule max-invalid-share]']],
    ['a repeated plan is collapsed', ['plan', 'same as run 20250301T101500123Z-3f9a1c2b7d4e']],
    ['release with budget', ['release adhoc-01', 'by ml-team']],
    ['release query', ['q1: count by country', 'laplace, ε 0.5']],
    ['erasure with verification', ['erasure req-5521', '✓ verified']],
    [
      'erasure certificate summary',
      ['certificate', 'subject EMAIL_e3b0c4 (email)', 'candidates 2', 'objects read 2', 'versions deleted 2', 'rows removed 2'],
    ],
    ['re-identification: who', ['re-identification', 'by compliance-officer-2']],
    ['re-identification: why', ['why', 'fraud investigation FR-2291']],
    ['failed run with no contract', ['contract', 'none resolved']],
    ['failed run error', ['InvalidFileError: orders/orders.csv.gz: gzip stream is truncated']],
  ])('shows %s', (_name, parts) => {
    expect(lineWith(plain, ...parts), parts.join(' | ')).toBeDefined();
  });

  it('orders runs by runKey and puts other records after them in time order', () => {
    const customers = plain.split('\n\n')[0] as string;
    const heads = lines(customers).filter((l) => /^[├└]─ /.test(l));
    expect(heads.map((l) => l.slice(3).split('  ')[0])).toEqual([
      'run 20250301T101500123Z-3f9a1c2b7d4e',
      'run 20250301T101600000Z-3f9a1c2b7d4e',
      'run 20250302T080000000Z-0a1b2c3d4e5f',
      'release adhoc-01',
      'erasure req-5521',
      're-identification',
    ]);
    // Datasets are separate trees, sorted by name.
    expect(
      lines(plain)
        .filter((l) => /^[^\s│├└]/.test(l))
        .map((l) => l.split('  ')[0]),
    ).toEqual(['customers', 'orders']);
  });

  it('marks a broken conservation and a failed verification', () => {
    const broken = completeRun({
      counts: { rowsIn: 5, rowsPublished: 3, rowsQuarantined: 1, rowsSuppressed: 0, rowsKSuppressed: 0, conserved: false },
    });
    const text = renderLineageTree([asRecord(broken), erasureRecord(false)], { color: false });
    expect(lineWith(text, 'counts', 'conservation ✗')).toBeDefined();
    expect(lineWith(text, 'erasure req-5521', '✗ verification failed')).toBeDefined();
  });

  it('filters by dataset', () => {
    const text = renderLineageTree(RECORDS, { color: false, dataset: 'orders' });
    expect(text).toContain('run 20250303T120000000Z-99aa88bb77cc');
    expect(text).not.toContain('customers');
    expect(renderLineageTree(RECORDS, { color: false, dataset: 'nope' })).toBe("no lineage for dataset 'nope'");
    expect(renderLineageTree([], { color: false })).toBe('no lineage records');
  });

  it('colours only when asked, with the same text underneath', () => {
    expect(plain).not.toMatch(ANSI);
    const coloured = renderLineageTree(RECORDS, { color: true });
    expect(coloured).toMatch(ANSI);
    expect(coloured.replace(ANSI, '')).toBe(plain);
  });

  it('draws a well-formed tree: every child line hangs from a branch', () => {
    for (const l of lines(plain)) {
      if (l === '' || /^[^\s│├└]/.test(l)) continue; // blank separator or dataset root
      expect(l, l).toMatch(/^(?:(?:│ {2}| {3})*)[├└]─ \S/);
    }
  });

  it('never shows a cell value', () => {
    for (const cell of rawStringCells()) expect(plain, cell).not.toContain(cell);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [48_213, '47 KiB'],
    [5 * 1024 * 1024, '5.0 MiB'],
    [3 * 1024 ** 4, '3.0 TiB'],
  ])('%d → %s', (n, s) => expect(formatBytes(n)).toBe(s));
});
