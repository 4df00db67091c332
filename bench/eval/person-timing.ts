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
// PERSON_MODULE=path times another version of the recognizer (a before/after comparison).
const mod = (process.env.PERSON_MODULE ? await import(process.env.PERSON_MODULE) : { PersonRecognizer }) as {
  PersonRecognizer: typeof PersonRecognizer;
};
const rec = new mod.PersonRecognizer();
const out: Span[] = [];
const pass = (): number => {
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
pass();
// Each figure is the fastest of five passes: other processes on a shared machine only slow a pass down.
for (let r = 0; r < 2; r++) {
  let best = Number.POSITIVE_INFINITY;
  let n = 0;
  for (let k = 0; k < 5; k++) {
    const c0 = process.cpuUsage();
    n = pass();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1e6);
  }
  console.log(
    `person recognizer: ${(best * 1000).toFixed(0)} ms, ${(bytes / 1e6 / best).toFixed(1)} MB/s (${cells.length} cells, ${(bytes / 1e6).toFixed(1)} MB, ${n} candidate spans; fastest of 5 passes)`,
  );
}
