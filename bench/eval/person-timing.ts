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
const rec = new PersonRecognizer();
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
for (let r = 0; r < 2; r++) {
  const c0 = process.cpuUsage();
  const n = pass();
  const c = process.cpuUsage(c0);
  const s = (c.user + c.system) / 1e6;
  console.log(
    `person recognizer: ${(s * 1000).toFixed(0)} ms, ${(bytes / 1e6 / s).toFixed(1)} MB/s (${cells.length} cells, ${(bytes / 1e6).toFixed(1)} MB, ${n} candidate spans)`,
  );
}
