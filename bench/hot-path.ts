/**
 * Where the per-row time goes (not a test): decodes a CSV from memory and times the ingest stages
 * cumulatively (decode → validate → transform → profile → k-anonymity → subject index → encode),
 * then the row transformer per column and the HMAC alternatives, so each hot-path change can be
 * measured on its own.
 *
 *   npx tsx bench/hot-path.ts FILE.csv [MB=20]
 */
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { decodeTable } from '../functions/core/codecs/decode-table.ts';
import { encodeTable } from '../functions/core/codecs/encode-table.ts';
import { inferContract } from '../functions/core/contract/infer-contract.ts';
import { createRowValidator } from '../functions/core/contract/row-validator.ts';
import { classifyColumns } from '../functions/core/detect/classify-columns.ts';
import { inferQuasiIdentifiers, KAnonymityCounter } from '../functions/core/detect/k-anonymity.ts';
import { createScannerWith, createTextScanner, DEFAULT_RECOGNIZERS } from '../functions/core/detect/text-scanner.ts';
import { SubjectIndexBuilder } from '../functions/core/erasure/subject-index.ts';
import { DEFAULT_POLICY } from '../functions/core/pseudonymise/policy.ts';
import { createRowTransformer } from '../functions/core/pseudonymise/row-transformer.ts';
import { hmacSha256Hex } from '../functions/core/pseudonymise/token.ts';
import { ProfileBuilder } from '../functions/core/quality/profile-builder.ts';
import type { Cell, Row } from '../functions/core/types.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: hot-path.ts FILE.csv [MB]');
const mb = Number(process.argv[3] ?? 20);
const fh = await open(file, 'r');
const buf = Buffer.alloc(mb * 1e6);
const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
await fh.close();
// Cut at the last line break that is a record end, by decoding and dropping the last row.
const bytes = buf.subarray(0, bytesRead);

async function* body(): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += 1 << 20) yield bytes.subarray(i, Math.min(bytes.length, i + (1 << 20)));
}

async function decodeAll(): Promise<{ columns: readonly string[]; rows: Row[] }> {
  const t = await decodeTable(body(), { fileName: 'bench.csv' });
  const rows: Row[] = [];
  for await (const r of t.rows) rows.push(r);
  rows.pop();
  return { columns: t.columns, rows };
}

const t0 = cpuMs();
const { columns, rows } = await decodeAll();
const decodeMs = cpuMs() - t0;
const mbOf = (ms: number) => (bytesRead / 1e6 / (ms / 1000)).toFixed(1);
console.log(`${rows.length} rows, decode ${decodeMs.toFixed(0)} ms (${mbOf(decodeMs)} MB/s)`);

const sample = rows.slice(0, 1000);
const contract = inferContract('bench', columns, sample);
const plan = classifyColumns(
  columns.map((name, i) => ({ name, values: sample.map((r) => String(r.cells[i] ?? '')).filter((v) => v !== '') })),
  { contract, policy: DEFAULT_POLICY, defaultRegion: 'GB' },
);
const key = { material: new Uint8Array(randomBytes(32)), ref: { keyId: 'k', version: '1', purpose: 'token-hmac' as const } };
const siv = { material: new Uint8Array(randomBytes(64)), ref: { keyId: 's', version: '1', purpose: 'token-siv' as const } };

/** CPU time of this process (user + system), less sensitive than wall time to a busy machine. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function timeIt(label: string, fn: () => void): number {
  const t = cpuMs();
  fn();
  const ms = cpuMs() - t;
  console.log(
    `${label.padEnd(34)} ${ms.toFixed(0).padStart(6)} ms  ${(((ms * 1000) / rows.length) as number).toFixed(2).padStart(6)} µs/row  ${mbOf(ms).padStart(7)} MB/s`,
  );
  return ms;
}

const validator = createRowValidator(contract, columns);
timeIt('validate', () => {
  for (const r of rows) validator.validate(r);
});
const transformer = createRowTransformer(columns, plan, { hmacKey: key, sivKey: siv, policy: DEFAULT_POLICY, defaultRegion: 'GB' });
const outRows: Cell[][] = new Array(rows.length);
const tokens: string[] = [];
timeIt('transform (cold caches)', () => {
  for (let i = 0; i < rows.length; i++) {
    tokens.length = 0;
    outRows[i] = transformer.transform((rows[i] as Row).cells, tokens);
  }
});
console.log('  transformer stats', JSON.stringify(transformer.stats()));
const piiColumns = new Set(plan.filter((d) => d.entity !== null && d.entity !== 'FREE_TEXT').map((d) => d.column));
const profile = new ProfileBuilder(columns, { piiColumns });
timeIt('profile', () => {
  for (const r of rows) profile.add(r.cells);
});
const qis = inferQuasiIdentifiers(plan);
const k = new KAnonymityCounter(columns, qis);
timeIt(`k-anonymity (${qis.join(',')})`, () => {
  for (const r of rows) k.add(r.cells);
});
const idx = new SubjectIndexBuilder();
const t2 = createRowTransformer(columns, plan, { hmacKey: key, sivKey: siv, policy: DEFAULT_POLICY, defaultRegion: 'GB' });
timeIt('transform (new) + subject index', () => {
  for (const r of rows) {
    tokens.length = 0;
    t2.transform(r.cells, tokens);
    for (const t of tokens) idx.add(t);
  }
});
let encoded = 0;
const tEnc = cpuMs();
async function* outIter() {
  for (const r of outRows) yield r;
}
const enc = encodeTable(transformer.outputColumns, outIter(), {
  format: 'csv',
  compression: 'none',
  delimiter: ',',
  bom: false,
  lineEnding: '\n',
});
for await (const b of enc.bytes) encoded += b.length;
const encMs = cpuMs() - tEnc;
console.log(
  `${'encode'.padEnd(34)} ${encMs.toFixed(0).padStart(6)} ms  ${((encMs * 1000) / rows.length).toFixed(2).padStart(6)} µs/row  (${(encoded / 1e6).toFixed(1)} MB out)`,
);

// Per column: one transformer per column with only that column transformed.
console.log('per column (fresh transformer, cold cache):');
for (const d of plan) {
  if (d.operator === 'keep' && !d.freeText && !d.identifiesSubject) continue;
  const only = plan.map((p) =>
    p.column === d.column ? p : { ...p, entity: null, operator: 'keep' as const, freeText: false, identifiesSubject: false },
  );
  const tr = createRowTransformer(columns, only, { hmacKey: key, sivKey: siv, policy: DEFAULT_POLICY, defaultRegion: 'GB' });
  timeIt(`  ${d.column} ${d.entity} ${d.operator}`, () => {
    for (const r of rows) {
      tokens.length = 0;
      tr.transform(r.cells, tokens);
    }
  });
}
const notesIdx = columns.indexOf('notes');
if (notesIdx >= 0) {
  const notes = rows.map((r) => r.cells[notesIdx]).filter((v): v is string => typeof v === 'string' && v !== '');
  const scanner = createTextScanner({ defaultRegion: 'GB', minScore: DEFAULT_POLICY.minSpanScore });
  timeIt('  notes scan only', () => {
    for (const v of notes) scanner.scan(v);
  });
  for (const r of DEFAULT_RECOGNIZERS) {
    const one = createScannerWith([r], { defaultRegion: 'GB', minScore: DEFAULT_POLICY.minSpanScore });
    timeIt(`    recognizer ${r.name}`, () => {
      for (const v of notes) one.scan(v);
    });
  }
}

// HMAC alternatives over the email column's values.
const emailIdx = columns.indexOf('email');
const values = rows.map((r) => String(r.cells[emailIdx] ?? ''));
const ko = createSecretKey(key.material);
const a: string[] = [];
timeIt('hmac createHmac (email values)', () => {
  for (const v of values) a.push(createHmac('sha256', ko).update(v, 'utf8').digest('hex'));
});
const b: string[] = [];
timeIt('hmac precomputed pads (email values)', () => {
  for (const v of values) b.push(hmacSha256Hex(key.material, v));
});
if (a.some((x, i) => x !== b[i])) throw new Error('HMAC implementations disagree');
