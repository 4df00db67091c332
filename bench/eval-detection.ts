/**
 * `npm run eval`: detection quality and speed.
 *
 *  (a) presidio-research's synthetic set, with an explicit entity mapping (span-level, IoU ≥ 0.5
 *      and ≥ 0.9, F2), compared with Presidio's published figures;
 *  (b) faker-generated data in nine locales: structured columns and free-text notes, scored with
 *      the shipped lexicon and with a lexicon that lacks a hash-based eighth of the names (the
 *      non-circular figure for PERSON);
 *  (c) speed: MB/s of free-text detection and of a structured CSV through parse + transform.
 *
 * Options: --quick (smaller data), --errors ENTITY (print misses and false positives), --speed-only
 * (skip (a) and (b)), --timing (CPU ms of each recognizer inside the scan, on 100k cells of the notes corpus).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Papa from 'papaparse';
import { classifyColumns } from '../functions/core/detect/classify-columns.ts';
import { createScannerWith, createTextScanner, DEFAULT_RECOGNIZERS } from '../functions/core/detect/text-scanner.ts';
import { DEFAULT_POLICY } from '../functions/core/pseudonymise/policy.ts';
import { createRowTransformer } from '../functions/core/pseudonymise/row-transformer.ts';
import { customerRows, LOCALES } from './eval/faker-data.ts';
import { evaluateNotes, evaluateStructured, generateNotes, HMAC_KEY, heldOutScanner, SIV_KEY } from './eval/faker-eval.ts';
import { evaluatePresidio, loadPresidio, PRESIDIO_UNSUPPORTED } from './eval/presidio-eval.ts';
import { type Counts, scores } from './eval/span-metrics.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const errorsFor = args.includes('--errors') ? args[args.indexOf('--errors') + 1] : undefined;
// --speed-only skips (a) and (b): the timings are then taken on a small heap.
const speedOnly = args.includes('--speed-only');
const timing = args.includes('--timing');
const here = dirname(fileURLToPath(import.meta.url));
const f3 = (x: number) => x.toFixed(3);
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

function row(label: string, c: Counts): string {
  const s = scores(c);
  return `${label.padEnd(18)} ${f3(s.precision).padStart(6)} ${f3(s.recall).padStart(6)} ${f3(s.f2).padStart(6)} ${String(c.tp + c.fn).padStart(6)} ${String(c.tp).padStart(5)} ${String(c.fn).padStart(5)} ${String(c.fp).padStart(5)} ${pct(c.tp + c.fn === 0 ? 0 : c.leaked / (c.tp + c.fn)).padStart(8)}`;
}
const HEADER = `${'entity'.padEnd(18)} ${'P'.padStart(6)} ${'R'.padStart(6)} ${'F2'.padStart(6)} ${'gold'.padStart(6)} ${'TP'.padStart(5)} ${'FN'.padStart(5)} ${'FP'.padStart(5)} ${'leak'.padStart(8)}`;

// ---------------------------------------------------------------- (a) Presidio
const presidioPath = join(here, '..', '..', 'shared', 'data', 'presidio-research', 'synth_dataset_v2.json');
if (speedOnly) {
  console.log('(a) skipped (--speed-only)');
} else if (existsSync(presidioPath)) {
  const records = loadPresidio(presidioPath);
  const scanner = createTextScanner({ defaultRegion: 'US', minScore: DEFAULT_POLICY.minSpanScore });
  console.log(`\n== (a) presidio-research synth_dataset_v2.json: ${records.length} sentences, default region US ==`);
  for (const threshold of [0.5, 0.9]) {
    const r = evaluatePresidio(records, scanner, threshold);
    console.log(`\nspan IoU >= ${threshold}`);
    console.log(HEADER);
    for (const [e, c] of [...r.perEntity].sort(([a], [b]) => a.localeCompare(b))) console.log(row(e, c));
    console.log(row('ALL (type-strict)', r.micro));
    console.log(row('PII (any type)', r.pii));
    if (threshold === 0.5) {
      console.log('\nunsupported Presidio types (excluded from recall; predictions on them not counted as FP):');
      for (const [t, n] of Object.entries(r.unsupportedByType).sort())
        console.log(`  ${t.padEnd(18)} ${String(n).padStart(4)}  ${PRESIDIO_UNSUPPORTED[t] ?? ''}`);
      if (errorsFor)
        for (const e of r.errors.filter((x) => x.entity === errorsFor).slice(0, 60))
          console.log(`  ${e.kind} ${JSON.stringify(e.text)} << ${JSON.stringify(e.context.slice(0, 160))}`);
    }
  }
  // The same scan with the span threshold lowered: tuned on this very set, so not a fair figure;
  // shown because Presidio's "tuned" 0.845 was also tuned on it. The default (0.5) is what ships:
  // at 0.4 the faker notes without PII are no longer left intact (see (b)).
  const tuned = evaluatePresidio(records, createTextScanner({ defaultRegion: 'US', minScore: 0.4 }), 0.5);
  console.log(`\nminSpanScore 0.4 instead of the policy's 0.5 (threshold tuned on this set), IoU >= 0.5:`);
  console.log(HEADER);
  console.log(row('ALL (type-strict)', tuned.micro));
  console.log(row('PII (any type)', tuned.pii));
  console.log(
    '\nPresidio (published, presidio-research notebooks): out of the box P 0.685 R 0.603 F2 0.618; tuned P 0.870 R 0.839 F2 0.845',
  );
} else {
  console.log(`(a) skipped: ${presidioPath} not found`);
}

// ---------------------------------------------------------------- (b) faker
const rowsPerLocale = quick ? 300 : 2000;
console.log(`\n== (b) faker data, ${LOCALES.length} locales (${LOCALES.map((l) => l.id).join(', ')}) ==`);
const st = evaluateStructured(speedOnly ? 50 : rowsPerLocale);
console.log(`structured: ${st.rows} rows x ${st.columns} columns`);
console.log(`  column classification right  ${st.classifiedRight}/${st.classifiedTotal}`);
for (const m of st.misclassified) console.log(`    ${m}`);
console.log(`  PII values surviving         ${st.piiSurvived}/${st.piiCells} (${pct(st.piiSurvived / st.piiCells)})   target 0`);
console.log(
  `  non-PII cells byte-identical ${st.nonPiiIdentical}/${st.nonPiiCells} (${pct(st.nonPiiIdentical / st.nonPiiCells)})   target >= 99.9%`,
);
console.log(`  token joins across datasets  ${st.joinHits}/${st.joinChecks} (${pct(st.joinHits / st.joinChecks)})   target 100%`);

const data = generateNotes(quick ? 150 : 600, quick ? 150 : 600);
const configs = [
  ['lexicon without held-out names (non-circular)', heldOutScanner],
  [
    'shipped lexicon (PERSON partly circular)',
    (region: string) => createTextScanner({ defaultRegion: region, minScore: DEFAULT_POLICY.minSpanScore }),
  ],
] as const;
for (const [label, scannerFor] of speedOnly ? [] : configs) {
  const nr = evaluateNotes(data, scannerFor);
  console.log(`\nnotes, ${label}: ${nr.piiNotes} with PII, ${nr.cleanNotes} without`);
  console.log(HEADER);
  for (const [e, c] of [...nr.perEntity].sort(([a], [b]) => a.localeCompare(b))) console.log(row(e, c));
  console.log(row('ALL', nr.all));
  console.log(row('PERSON held-out', nr.heldOutPerson));
  console.log(row('PERSON in-lexicon', nr.inLexiconPerson));
  const leak = nr.all.leaked / (nr.all.tp + nr.all.fn);
  console.log(`  PII spans not touched (leak)        ${pct(leak)}   target <= 2%`);
  console.log(
    `  PII spans verbatim in output        ${nr.verbatimSurvivors}/${nr.goldSpans} (${pct(nr.verbatimSurvivors / nr.goldSpans)})  (shipped transformer)`,
  );
  console.log(
    `  notes without PII left unchanged    ${nr.cleanUnchanged}/${nr.cleanNotes} (${pct(nr.cleanUnchanged / nr.cleanNotes)})   target >= 99%`,
  );
  if (errorsFor)
    for (const e of nr.examples
      .filter((x) => x.entity === errorsFor || errorsFor === 'all' || (errorsFor === 'clean' && x.kind === 'CLEAN-CHANGED'))
      .slice(0, 60))
      console.log(`  ${e.kind} ${e.entity} ${JSON.stringify(e.text)} << ${JSON.stringify(e.note)}`);
}

// ---------------------------------------------------------------- (c) speed
console.log('\n== (c) speed (one core: CPU seconds of this process, after a warm-up pass) ==');
const corpus = [...data.pii, ...data.clean].map((n) => n.text);
// ~20% of cells with PII, as in TOOLCHAIN's probe.
const cells: string[] = [];
for (let i = 0; cells.length < (quick ? 100_000 : 400_000); i++) {
  const pick = i % 5 === 0 ? data.pii[i % data.pii.length] : data.clean[i % data.clean.length];
  if (pick) cells.push(pick.text);
}
const bytes = cells.reduce((a, c) => a + Buffer.byteLength(c), 0);
const scanner = createTextScanner({ defaultRegion: 'GB', minScore: DEFAULT_POLICY.minSpanScore });
// CPU time of this process (user + system), so other work on the machine does not count.
const time = (fn: () => void) => {
  fn();
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
};
const tScan = time(() => {
  for (const c of cells) scanner.scan(c);
});
console.log(
  `free-text detection (scan)      ${(bytes / 1e6 / tScan).toFixed(1)} MB/s   (${cells.length} cells, ${(bytes / 1e6).toFixed(1)} MB, 20% with PII)   target >= 40`,
);
if (timing) {
  // What each recognizer costs inside the scan (features, word lists and digit runs are shared):
  // the CPU time of the full scan minus that of a scan without it, each the best of two passes.
  const sub = cells.slice(0, 100_000);
  const subBytes = sub.reduce((a, c) => a + Buffer.byteLength(c), 0);
  const scanTime = (recs: readonly (typeof DEFAULT_RECOGNIZERS)[number][]): number => {
    const sc = createScannerWith(recs, { defaultRegion: 'GB', minScore: DEFAULT_POLICY.minSpanScore });
    const pass = () => {
      for (const c of sub) sc.scan(c);
    };
    return Math.min(time(pass), time(pass));
  };
  const full = scanTime(DEFAULT_RECOGNIZERS);
  const none = scanTime([]);
  console.log(`  CPU ms on ${sub.length} notes cells (${(subBytes / 1e6).toFixed(1)} MB): full scan ${(full * 1000).toFixed(0)}`);
  console.log(`    ${'(features pass)'.padEnd(20)} ${(none * 1000).toFixed(0).padStart(5)}`);
  for (const r of DEFAULT_RECOGNIZERS) {
    const without = scanTime(DEFAULT_RECOGNIZERS.filter((x) => x !== r));
    console.log(`    ${r.name.padEnd(20)} ${((full - without) * 1000).toFixed(0).padStart(5)}`);
  }
  const noPerson = scanTime(DEFAULT_RECOGNIZERS.filter((x) => x.name !== 'person'));
  console.log(
    `    ${'all but person'.padEnd(20)} ${(noPerson * 1000).toFixed(0).padStart(5)}   ${(subBytes / 1e6 / noPerson).toFixed(1)} MB/s`,
  );
}
// A corpus like TOOLCHAIN.md's probe: faker lorem sentences, 20% of cells with an injected value.
const { fakerEN: lorem } = await import('@faker-js/faker');
lorem.seed(77);
const inject = [
  () => lorem.internet.email(),
  () => '+44 20 7946 0958',
  () => '4111 1111 1111 1111',
  () => lorem.internet.ipv4(),
  () => 'GB82 WEST 1234 5698 7654 32',
  () => '536-22-1234',
  () => 'AB 12 34 56 C',
];
const loremCells: string[] = [];
for (let i = 0; i < (quick ? 100_000 : 400_000); i++) {
  const base = lorem.lorem.sentence({ min: 8, max: 16 });
  loremCells.push(i % 5 === 0 ? `${base} ${lorem.helpers.arrayElement(inject)()}` : base);
}
const loremBytes = loremCells.reduce((a, c) => a + Buffer.byteLength(c), 0);
const tLorem = time(() => {
  for (const c of loremCells) scanner.scan(c);
});
console.log(
  `free-text detection, lorem cells ${(loremBytes / 1e6 / tLorem).toFixed(1)} MB/s   (TOOLCHAIN-like corpus: ${loremCells.length} cells, ${(loremBytes / 1e6).toFixed(1)} MB)`,
);

const textPlan = [
  {
    column: 'note',
    entity: 'FREE_TEXT' as const,
    operator: 'keep' as const,
    confidence: 1,
    source: 'contract' as const,
    freeText: true,
    identifiesSubject: false,
  },
];
const ttr = createRowTransformer(['note'], textPlan, { hmacKey: HMAC_KEY, sivKey: SIV_KEY, policy: DEFAULT_POLICY, defaultRegion: 'GB' });
const one: string[] = [''];
const tTr = time(() => {
  for (const c of cells) {
    one[0] = c;
    ttr.transform(one);
  }
});
console.log(`free-text detect + replace      ${(bytes / 1e6 / tTr).toFixed(1)} MB/s`);

const csvRows = LOCALES.flatMap((l, i) => customerRows(l, quick ? 1000 : 5000, 9000 + i));
const header = Object.keys(csvRows[0] as object);
const csv = Papa.unparse({ fields: header, data: csvRows.map((r) => header.map((h) => (r as unknown as Record<string, string>)[h])) });
const csvBytes = Buffer.byteLength(csv);
const parsed = Papa.parse<string[]>(csv, { skipEmptyLines: true }).data.slice(1);
const plan = classifyColumns(
  header.map((name, i) => ({ name, values: parsed.slice(0, 1000).map((r) => r[i] ?? '') })),
  { policy: DEFAULT_POLICY, defaultRegion: 'GB' },
);
const str = createRowTransformer(header, plan, { hmacKey: HMAC_KEY, sivKey: SIV_KEY, policy: DEFAULT_POLICY, defaultRegion: 'GB' });
const toks: string[] = [];
const tStruct = time(() => {
  for (const r of parsed) {
    toks.length = 0;
    str.transform(r, toks);
  }
});
const tParse = time(() => {
  Papa.parse<string[]>(csv, { skipEmptyLines: true });
});
console.log(
  `structured CSV transform        ${(csvBytes / 1e6 / tStruct).toFixed(1)} MB/s   (${parsed.length} rows x ${header.length} columns, ${(csvBytes / 1e6).toFixed(1)} MB, ${str.stats().cacheHits} cache hits)`,
);
console.log(`structured CSV parse+transform  ${(csvBytes / 1e6 / (tStruct + tParse)).toFixed(1)} MB/s   (papaparse)`);
void corpus;
