/**
 * CPU time of the person recognizer alone on the faker notes corpus of `npm run eval` (100k cells,
 * 20% with PII), twice after a warm-up pass. Run: npx tsx bench/eval/person-timing.ts
 */

import { PersonRecognizer } from '../../functions/core/detect/person-recognizer.ts';
import { textFeatures } from '../../functions/core/detect/recognizer.ts';
import type { Span } from '../../functions/core/types.ts';
import { generateNotes } from './faker-eval.ts';

const data = generateNotes(600, 600);
const cells: string[] = [];
for (let i = 0; cells.length < 100_000; i++) {
  const pick = i % 5 === 0 ? data.pii[i % data.pii.length] : data.clean[i % data.clean.length];
  if (pick) cells.push(pick.text);
}
const envs = cells.map((c) => ({ region: 'GB', features: textFeatures(c), minScore: 0.5 }));
const bytes = cells.reduce((a, c) => a + Buffer.byteLength(c), 0);
// PERSON_MODULE=path also times another version of the recognizer, pass for pass interleaved with
// this one, so that load from other processes hits both alike (a before/after comparison).
const versions: [string, PersonRecognizer][] = [['person recognizer', new PersonRecognizer()]];
if (process.env.PERSON_MODULE) {
  const other = (await import(process.env.PERSON_MODULE)) as { PersonRecognizer: typeof PersonRecognizer };
  versions.push([process.env.PERSON_MODULE, new other.PersonRecognizer()]);
}
const out: Span[] = [];
const pass = (rec: PersonRecognizer): number => {
  let n = 0;
  for (let i = 0; i < cells.length; i++) {
    const env = envs[i] as (typeof envs)[number];
    if ((env.features & rec.requires) !== rec.requires) continue;
    out.length = 0;
    rec.analyze(cells[i] as string, env, out);
    n += out.length;
  }
  return n;
};
// The scanner calls every recognizer through one call site, which V8 therefore cannot inline: make
// this loop's call site megamorphic too, or the figures are those of an inlined loop (~1.5x apart).
const shapes = [class A {}, class B {}, class C {}, class D {}, class E {}].map((K) => {
  const r = new K() as unknown as PersonRecognizer;
  Object.assign(r, { requires: 0, analyze: () => undefined });
  return r;
});
for (const r of shapes) pass(r);
for (const [, rec] of versions) pass(rec);
// Each figure is the fastest of five passes: other processes on a shared machine only slow a pass down.
for (let r = 0; r < 2; r++) {
  const best = versions.map(() => Number.POSITIVE_INFINITY);
  const spans = versions.map(() => 0);
  for (let k = 0; k < 5; k++) {
    versions.forEach(([, rec], v) => {
      // Start each pass on a collected heap (node --expose-gc), so no pass pays for another's garbage.
      (globalThis as { gc?: () => void }).gc?.();
      const c0 = process.cpuUsage();
      spans[v] = pass(rec);
      const c = process.cpuUsage(c0);
      best[v] = Math.min(best[v] as number, (c.user + c.system) / 1e6);
    });
  }
  versions.forEach(([label], v) => {
    const s = best[v] as number;
    console.log(
      `${label}: ${(s * 1000).toFixed(0)} ms, ${(bytes / 1e6 / s).toFixed(1)} MB/s (${cells.length} cells, ${(bytes / 1e6).toFixed(1)} MB, ${spans[v]} candidate spans; fastest of 5 passes)`,
    );
  });
}
