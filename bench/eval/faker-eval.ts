/**
 * Evaluation on faker-generated data: structured columns (classification, survival of PII values,
 * byte-identity of the rest, token joins) and free-text notes (span recall / precision, leak rate,
 * untouched clean notes), plus the name hold-out split.
 */
import { createHash } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { type ColumnSample, classifyColumns } from '../../functions/core/detect/classify-columns.ts';
import { defaultNameLexicon, lexiconWithout } from '../../functions/core/detect/name-lexicon.ts';
import { PersonRecognizer } from '../../functions/core/detect/person-recognizer.ts';
import { createScannerWith, DEFAULT_RECOGNIZERS, type TextScanner } from '../../functions/core/detect/text-scanner.ts';
import type { SecretKey } from '../../functions/core/ports.ts';
import { DEFAULT_POLICY } from '../../functions/core/pseudonymise/policy.ts';
import { createRowTransformer } from '../../functions/core/pseudonymise/row-transformer.ts';
import type { Cell, ColumnDecision } from '../../functions/core/types.ts';
import { type CustomerRow, customerRows, LOCALES, type LocaleSpec, NON_PII_COLUMNS, type Note, notes, PII_COLUMNS } from './faker-data.ts';
import { isHeldOut } from './holdout.ts';
import { addCounts, type Counts, emptyCounts, scoreText } from './span-metrics.ts';

const key = (purpose: 'token-hmac' | 'token-siv'): SecretKey => ({
  material: new Uint8Array(createHash('sha256').update(`eval-${purpose}`).digest()),
  ref: { keyId: 'eval', version: '1', purpose },
});
export const HMAC_KEY = key('token-hmac');
export const SIV_KEY = key('token-siv');

/** The expected entity of each generated column (null: must stay untouched). */
const EXPECTED: Readonly<Record<string, string | null>> = {
  customer_id: 'SUBJECT_ID',
  full_name: 'PERSON',
  email: 'EMAIL_ADDRESS',
  phone: 'PHONE_NUMBER',
  iban: 'IBAN_CODE',
  credit_card: 'CREDIT_CARD',
  date_of_birth: 'DATE_OF_BIRTH',
  postcode: 'POSTCODE',
  street_address: 'STREET_ADDRESS',
  city: null,
  country: 'COUNTRY',
  gender: 'GENDER',
  age: 'AGE',
  signup_date: null,
  email_opt_in: null,
  product_sku: null,
  order_number: null,
  amount: null,
  status: null,
  ip_address: 'IP_ADDRESS',
  contact: 'EMAIL_ADDRESS',
  ref_code: 'IBAN_CODE',
  col_7: 'PHONE_NUMBER',
};

export interface StructuredResult {
  readonly rows: number;
  readonly columns: number;
  /** Columns whose decision matched the expected entity, over all locales. */
  readonly classifiedRight: number;
  readonly classifiedTotal: number;
  readonly misclassified: string[];
  /** PII cells whose raw value appears in the output row. */
  readonly piiCells: number;
  readonly piiSurvived: number;
  readonly nonPiiCells: number;
  readonly nonPiiIdentical: number;
  /** Rows of a second dataset (other case, spacing, phone format) whose tokens equal the first's. */
  readonly joinChecks: number;
  readonly joinHits: number;
}

function columnsOf(rows: readonly CustomerRow[]): { header: string[]; cells: Cell[][] } {
  const header = Object.keys(rows[0] as CustomerRow);
  return { header, cells: rows.map((r) => header.map((h) => (r as unknown as Record<string, string>)[h] ?? null)) };
}

/** Classifies, transforms and checks the customer rows of every locale. */
export function evaluateStructured(rowsPerLocale: number): StructuredResult & { decisions: Map<string, ColumnDecision[]> } {
  let classifiedRight = 0;
  let classifiedTotal = 0;
  const misclassified: string[] = [];
  let piiCells = 0;
  let piiSurvived = 0;
  let nonPiiCells = 0;
  let nonPiiIdentical = 0;
  let joinChecks = 0;
  let joinHits = 0;
  let rowsTotal = 0;
  let columns = 0;
  const decisions = new Map<string, ColumnDecision[]>();
  LOCALES.forEach((loc, li) => {
    const rows = customerRows(loc, rowsPerLocale, 1000 + li);
    const { header, cells } = columnsOf(rows);
    columns = header.length;
    const samples: ColumnSample[] = header.map((name, i) => ({
      name,
      values: cells
        .slice(0, 500)
        .map((r) => String(r[i]))
        .filter((v) => v !== ''),
    }));
    const plan = classifyColumns(samples, { policy: DEFAULT_POLICY, defaultRegion: loc.region });
    decisions.set(loc.id, plan);
    for (const d of plan) {
      classifiedTotal++;
      const expected = EXPECTED[d.column];
      if ((d.entity ?? null) === expected) classifiedRight++;
      else misclassified.push(`${loc.id}.${d.column}: ${d.entity} (${d.source}, ${d.confidence}) expected ${expected}`);
    }
    const tr = createRowTransformer(header, plan, {
      hmacKey: HMAC_KEY,
      sivKey: SIV_KEY,
      policy: DEFAULT_POLICY,
      defaultRegion: loc.region,
    });
    const outIdx = new Map(tr.outputColumns.map((c, i) => [c, i]));
    const tokensA: string[][] = [];
    for (const row of cells) {
      const toks: string[] = [];
      const out = tr.transform(row, toks);
      tokensA.push(toks);
      rowsTotal++;
      for (const c of PII_COLUMNS) {
        const raw = String(row[header.indexOf(c)]);
        if (raw === '') continue;
        piiCells++;
        // Survives: the raw value is still in its output cell (dropped columns cannot leak). A
        // generalised value survives only if unchanged ("30-39" does not reveal an age of 30).
        const o = outIdx.get(c);
        const generalised = ['age', 'date_of_birth', 'postcode'].includes(c);
        if (o !== undefined && (generalised ? String(out[o]) === raw.trim() : String(out[o]).includes(raw.trim()))) piiSurvived++;
      }
      for (const c of NON_PII_COLUMNS) {
        nonPiiCells++;
        const o = outIdx.get(c);
        if (o !== undefined && out[o] === row[header.indexOf(c)]) nonPiiIdentical++;
      }
    }
    // A second dataset about the same people, written differently: tokens must join.
    const variant = cells.map((row) => {
      const r = [...row];
      const e = header.indexOf('email');
      r[e] = ` ${String(r[e]).toUpperCase()} `;
      const p = header.indexOf('phone');
      r[p] = reformatPhone(String(r[p]), loc);
      return r;
    });
    const tr2 = createRowTransformer(header, plan, {
      hmacKey: HMAC_KEY,
      sivKey: SIV_KEY,
      policy: DEFAULT_POLICY,
      defaultRegion: loc.region,
    });
    const emailOut = outIdx.get('email') as number;
    const phoneOut = outIdx.get('phone') as number;
    const idOut = outIdx.get('customer_id') as number;
    variant.forEach((row, i) => {
      const a = tr.transform(cells[i] as Cell[]);
      const b = tr2.transform(row);
      for (const o of [emailOut, phoneOut, idOut]) {
        joinChecks++;
        if (a[o] === b[o]) joinHits++;
      }
    });
  });
  return {
    rows: rowsTotal,
    columns,
    classifiedRight,
    classifiedTotal,
    misclassified,
    piiCells,
    piiSurvived,
    nonPiiCells,
    nonPiiIdentical,
    joinChecks,
    joinHits,
    decisions,
  };
}

/** The same number in the other common writing (international ↔ national). */
function reformatPhone(v: string, loc: LocaleSpec): string {
  const p = parsePhoneNumberFromString(v, loc.region);
  if (!p) return v;
  // A foreign number written nationally loses its country: write it internationally, spaced differently.
  if (p.country !== loc.region) return v.trim().startsWith('+') && v.includes(' ') ? p.number : p.formatInternational();
  return v.trim().startsWith('+') ? p.formatNational() : p.number;
}

// ---------------------------------------------------------------- notes

export interface NotesResult {
  readonly perEntity: Map<string, Counts>;
  readonly all: Counts;
  /** PERSON spans whose name tokens are all held out of the scanner's lexicon. */
  readonly heldOutPerson: Counts;
  readonly inLexiconPerson: Counts;
  readonly piiNotes: number;
  readonly cleanNotes: number;
  readonly cleanUnchanged: number;
  /** Gold spans still present verbatim in the transformed note. */
  readonly verbatimSurvivors: number;
  readonly goldSpans: number;
  readonly examples: { kind: string; entity: string; text: string; note: string }[];
}

export interface GeneratedNotes {
  readonly pii: Note[];
  readonly clean: Note[];
  readonly regions: Map<string, string>;
}

export function generateNotes(perLocalePii: number, perLocaleClean: number): GeneratedNotes {
  const pii: Note[] = [];
  const clean: Note[] = [];
  const regions = new Map<string, string>();
  LOCALES.forEach((loc, li) => {
    const n = notes(loc, perLocalePii, perLocaleClean, 5000 + li);
    pii.push(...n.pii);
    clean.push(...n.clean);
    regions.set(loc.id, loc.region);
  });
  return { pii, clean, regions };
}

/** A scanner whose person recognizer lacks the held-out names (the non-circular configuration). */
export function heldOutScanner(region: string): TextScanner {
  const lexicon = lexiconWithout(defaultNameLexicon(), isHeldOut);
  const recognizers = DEFAULT_RECOGNIZERS.map((r) => (r.name === 'person' ? new PersonRecognizer({ lexicon }) : r));
  return createScannerWith(recognizers, { defaultRegion: region, minScore: DEFAULT_POLICY.minSpanScore });
}

/** Scores span detection on the notes with the given scanner per region; checks the transformer's output. */
export function evaluateNotes(data: GeneratedNotes, scannerFor: (region: string) => TextScanner): NotesResult {
  const perEntity = new Map<string, Counts>();
  const all = emptyCounts();
  const heldOutPerson = emptyCounts();
  const inLexiconPerson = emptyCounts();
  const examples: NotesResult['examples'] = [];
  let verbatimSurvivors = 0;
  let goldSpans = 0;
  const scanners = new Map<string, TextScanner>();
  const transformers = new Map<string, ReturnType<typeof createRowTransformer>>();
  const textPlan: ColumnDecision[] = [
    { column: 'note', entity: 'FREE_TEXT', operator: 'keep', confidence: 1, source: 'contract', freeText: true, identifiesSubject: false },
  ];
  const transformerFor = (region: string) => {
    let t = transformers.get(region);
    if (!t) {
      t = createRowTransformer(['note'], textPlan, { hmacKey: HMAC_KEY, sivKey: SIV_KEY, policy: DEFAULT_POLICY, defaultRegion: region });
      transformers.set(region, t);
    }
    return t;
  };
  for (const note of data.pii) {
    const region = data.regions.get(note.locale) ?? 'GB';
    let s = scanners.get(region);
    if (!s) {
      s = scannerFor(region);
      scanners.set(region, s);
    }
    const pred = s.scan(note.text).map((p) => ({ entity: p.entity, start: p.start, end: p.end }));
    const res = scoreText(note.text, note.spans, pred, { threshold: 0.5, typeAgnostic: false, ignoredGold: [] });
    for (const [entity, c] of res) {
      let acc = perEntity.get(entity);
      if (!acc) {
        acc = emptyCounts();
        perEntity.set(entity, acc);
      }
      addCounts(acc, c);
      addCounts(all, c);
      if ((c.fn > 0 || c.fp > 0) && examples.length < 400) {
        examples.push({
          kind: c.fn > 0 ? 'FN' : 'FP',
          entity,
          text:
            c.fn > 0
              ? note.spans
                  .filter((g) => g.entity === entity)
                  .map((g) => note.text.slice(g.start, g.end))
                  .join(' / ')
              : pred
                  .filter((p) => p.entity === entity)
                  .map((p) => note.text.slice(p.start, p.end))
                  .join(' / '),
          note: note.text,
        });
      }
    }
    for (const g of note.spans) {
      if (g.entity !== 'PERSON') continue;
      const single = scoreText(
        note.text,
        [g],
        pred.filter((p) => p.entity === 'PERSON'),
        { threshold: 0.5, typeAgnostic: false, ignoredGold: [] },
      ).get('PERSON');
      if (!single) continue;
      const target = (g.tokens ?? []).every((t) => isHeldOut(t)) ? heldOutPerson : inLexiconPerson;
      target.tp += single.tp;
      target.fn += single.fn;
      target.leaked += single.leaked;
    }
    // What the pipeline publishes: the note after span replacement.
    const out = String(transformerFor(region).transform([note.text])[0]);
    for (const g of note.spans) {
      goldSpans++;
      if (out.includes(note.text.slice(g.start, g.end))) verbatimSurvivors++;
    }
  }
  let cleanUnchanged = 0;
  for (const note of data.clean) {
    const region = data.regions.get(note.locale) ?? 'GB';
    const out = transformerFor(region).transform([note.text])[0];
    if (out === note.text) cleanUnchanged++;
    else if (examples.length < 500) examples.push({ kind: 'CLEAN-CHANGED', entity: '-', text: String(out), note: note.text });
  }
  return {
    perEntity,
    all,
    heldOutPerson,
    inLexiconPerson,
    piiNotes: data.pii.length,
    cleanNotes: data.clean.length,
    cleanUnchanged,
    verbatimSurvivors,
    goldSpans,
    examples,
  };
}

export { LOCALES };
