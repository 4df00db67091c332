/**
 * Span-level scoring in the manner of presidio-research's SpanEvaluator: adjacent spans of one
 * type separated only by whitespace are merged (gold and predicted alike); a gold
 * span is found when predictions of its type cover it with character IoU ≥ threshold; each
 * prediction counts once, credited when it took part in a match, else a false positive. A
 * prediction that only overlaps gold spans of unsupported types is ignored (neither TP nor FP).
 */

export interface LabelledSpan {
  readonly entity: string;
  readonly start: number;
  readonly end: number;
}

export interface Counts {
  tp: number;
  fn: number;
  /** Predictions (after merging). */
  predicted: number;
  /** Predictions credited by a match. */
  credited: number;
  fp: number;
  /** Gold spans not touched at all by any prediction (leak: survives verbatim). */
  leaked: number;
}

export function emptyCounts(): Counts {
  return { tp: 0, fn: 0, predicted: 0, credited: 0, fp: 0, leaked: 0 };
}

export function addCounts(a: Counts, b: Counts): void {
  a.tp += b.tp;
  a.fn += b.fn;
  a.predicted += b.predicted;
  a.credited += b.credited;
  a.fp += b.fp;
  a.leaked += b.leaked;
}

export interface Scores {
  precision: number;
  recall: number;
  f2: number;
}

/** Precision = credited / predicted; recall = TP / gold; F-beta with beta 2 (recall-weighted). */
export function scores(c: Counts, beta = 2): Scores {
  const predicted = c.credited + c.fp;
  const precision = predicted === 0 ? 1 : c.credited / predicted;
  const gold = c.tp + c.fn;
  const recall = gold === 0 ? 1 : c.tp / gold;
  const b2 = beta * beta;
  const f2 = precision + recall === 0 ? 0 : ((1 + b2) * precision * recall) / (b2 * precision + recall);
  return { precision, recall, f2 };
}

/**
 * Merges same-type spans separated only by whitespace or quote markers (`> `): a list "Anna, Ben"
 * stays two spans.
 */
export function mergeAdjacent<T extends LabelledSpan>(spans: readonly T[], text: string): LabelledSpan[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start || a.end - b.end);
  const out: { entity: string; start: number; end: number }[] = [];
  for (const s of sorted) {
    const last = out.length > 0 ? out[out.length - 1] : undefined;
    if (last && last.entity === s.entity && s.start >= last.end && /^[\s>?|]*$/.test(text.slice(last.end, s.start))) {
      last.end = Math.max(last.end, s.end);
    } else if (last && last.entity === s.entity && s.start < last.end) {
      last.end = Math.max(last.end, s.end);
    } else {
      out.push({ entity: s.entity, start: s.start, end: s.end });
    }
  }
  return out;
}

/** Trims whitespace and sentence punctuation off a span's ends (both sides are normalised alike). */
function trimSpan(text: string, s: LabelledSpan): LabelledSpan {
  let a = s.start;
  let b = s.end;
  while (a < b && /[\s,.;:!?"'()]/.test(text[a] as string)) a++;
  while (b > a && /[\s,.;:!?"'()]/.test(text[b - 1] as string)) b--;
  return { entity: s.entity, start: a, end: b };
}

function coveredLength(gold: LabelledSpan, preds: readonly LabelledSpan[]): { inter: number; union: number } {
  // Character sets: spans are short, so a mask is simplest and exact.
  const lo = Math.min(gold.start, ...preds.map((p) => p.start));
  const hi = Math.max(gold.end, ...preds.map((p) => p.end));
  const mask = new Uint8Array(hi - lo);
  for (let i = gold.start; i < gold.end; i++) mask[i - lo]! |= 1;
  for (const p of preds) for (let i = p.start; i < p.end; i++) mask[i - lo]! |= 2;
  let inter = 0;
  let union = 0;
  for (const m of mask) {
    if (m === 3) inter++;
    if (m !== 0) union++;
  }
  return { inter, union };
}

/**
 * Scores one text. `typeAgnostic` treats every supported entity as one type "PII" (Presidio's
 * pii_precision / pii_recall). Returns counts per gold/pred entity type.
 */
export function scoreText(
  text: string,
  goldIn: readonly LabelledSpan[],
  predIn: readonly LabelledSpan[],
  opts: { threshold: number; typeAgnostic: boolean; ignoredGold: readonly LabelledSpan[] },
): Map<string, Counts> {
  const relabel = (s: LabelledSpan): LabelledSpan => (opts.typeAgnostic ? { ...s, entity: 'PII' } : s);
  const gold = mergeAdjacent(goldIn.map(relabel), text)
    .map((s) => trimSpan(text, s))
    .filter((s) => s.end > s.start);
  const pred = mergeAdjacent(predIn.map(relabel), text)
    .map((s) => trimSpan(text, s))
    .filter((s) => s.end > s.start);
  const result = new Map<string, Counts>();
  const get = (e: string) => {
    let c = result.get(e);
    if (!c) {
      c = emptyCounts();
      result.set(e, c);
    }
    return c;
  };
  const credited = new Set<number>();
  for (const g of gold) {
    const overlapping = pred.map((p, i) => ({ p, i })).filter(({ p }) => p.entity === g.entity && p.start < g.end && g.start < p.end);
    const c = get(g.entity);
    if (!pred.some((p) => p.start < g.end && g.start < p.end)) c.leaked++;
    if (overlapping.length === 0) {
      c.fn++;
      continue;
    }
    // Best single prediction, else the group of same-type predictions together.
    let best = 0;
    let bestSet: number[] = [];
    for (const { p, i } of overlapping) {
      const { inter, union } = coveredLength(g, [p]);
      if (inter / union > best) {
        best = inter / union;
        bestSet = [i];
      }
    }
    const all = coveredLength(
      g,
      overlapping.map(({ p }) => p),
    );
    if (all.inter / all.union > best) {
      best = all.inter / all.union;
      bestSet = overlapping.map(({ i }) => i);
    }
    if (best >= opts.threshold) {
      c.tp++;
      for (const i of bestSet) credited.add(i);
    } else c.fn++;
  }
  pred.forEach((p, i) => {
    const c = get(p.entity);
    c.predicted++;
    if (credited.has(i)) {
      c.credited++;
      return;
    }
    // Overlapping a supported gold span of another type or too loosely: a false positive.
    const onGold = gold.some((g) => g.start < p.end && p.start < g.end);
    const onIgnored = opts.ignoredGold.some((g) => g.start < p.end && p.start < g.end);
    if (!onGold && onIgnored) {
      c.predicted--;
      return;
    }
    c.fp++;
  });
  return result;
}
