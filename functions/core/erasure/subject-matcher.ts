/**
 * What belongs to the subject, record by record. The subject is a growing set of keyed tokens
 * (the token closure) plus, in memory only, the clear values seen in their rows; judges built
 * from it decide for each row of a candidate object: drop it (it is the subject's), replace it
 * (another subject's row that mentions them in free text: those spans become `[ERASED]`), or
 * keep it.
 *
 * Closure rule: a row is the subject's when one of its identifying cells (plan columns with
 * `identifiesSubject`) carries a token of the set. Its other identifying tokens then join the
 * set, so an order that names the customer only by customer_id is found through the email. Only
 * unique identifiers are followed (email, phone, ids, card, IBAN, national ids): a person's name
 * or address joins the set of values to redact where the subject is mentioned, never the set that
 * decides whose rows they are, so namesakes keep their rows. Free-text tokens are never followed.
 */
import type { DatasetContract } from '../contract/contract-schema.ts';
import { createTextScanner } from '../detect/text-scanner.ts';
import { SanitisationError } from '../errors.ts';
import type { RunRecord } from '../lineage/run-record.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../pipeline/ingest-types.ts';
import type { SecretKey } from '../ports.ts';
import type { Policy } from '../pseudonymise/policy.ts';
import { parseEncryptedToken } from '../pseudonymise/reversible.ts';
import { createRowTransformer } from '../pseudonymise/row-transformer.ts';
import { subjectTokenPlan } from '../pseudonymise/subject-token-plan.ts';
import { canonicalOrRaw, deriveEntityKey, type IdentifierType, pseudonymToken, TOKEN_PREFIX } from '../pseudonymise/token.ts';
import { type Cell, type ColumnDecision, type EntityType, UNIQUE_IDENTIFIER_ENTITIES } from '../types.ts';
import { DROP, KEEP, type LineJudge, type LineVerdict, type RowJudge, type RowVerdict } from './rewrite-object.ts';

/** What replaces a mention of the subject in text. */
export const ERASED = '[ERASED]';

/** Identifiers that single out one person: followed by the closure and suppressed at ingest. */
export const UNIQUE_IDENTIFIERS: ReadonlySet<EntityType> = new Set<EntityType>([...UNIQUE_IDENTIFIER_ENTITIES, 'SUBJECT_ID']);

/** Entity types an identifier type may denote. */
export const IDENTIFIER_ENTITIES: Readonly<Record<IdentifierType, readonly EntityType[]>> = {
  email: ['EMAIL_ADDRESS'],
  phone: ['PHONE_NUMBER'],
  'subject-id': ['SUBJECT_ID'],
  card: ['CREDIT_CARD'],
  iban: ['IBAN_CODE'],
  name: ['PERSON'],
  'national-id': ['UK_NINO', 'UK_NHS', 'ES_NIF', 'IT_FISCAL_CODE', 'PL_PESEL', 'IN_AADHAAR', 'DE_TAX_ID', 'US_SSN', 'SUBJECT_ID'],
};

/** Clear values shorter than this are never matched as literals (too many accidental hits). */
const MIN_LITERAL_LENGTH = 5;

/**
 * The subject: tokens and, in memory only, clear values. `generation` increases whenever the
 * set grows, so callers know when a scan must be repeated.
 */
export class SubjectClosure {
  /** Tokens that make a row the subject's. */
  readonly rowTokens = new Set<string>();
  /** rowTokens plus weak identifiers (names, addresses) of their rows: redacted where mentioned. */
  readonly allTokens = new Set<string>();
  /** Entity types of the tokens (for plan-less scans). */
  readonly entities = new Set<EntityType>();
  /**
   * Vault refs of reversible (`encrypt`) values in the subject's rows that are not tokens of the
   * closure (a non-identifying column such as an encrypted IP address): shredded with the tokens.
   */
  readonly keyRefs = new Set<string>();
  private readonly probeList: string[] = [];
  private readonly strong = new Set<string>();
  private readonly weak = new Set<string>();
  private strongPattern: RegExp | undefined;
  private allPattern: RegExp | undefined;
  generation = 0;

  /** Adds a token; `row` tokens decide whose rows are whose, `mention` tokens are only redacted. */
  addToken(token: string, kind: 'row' | 'mention', entity?: EntityType): boolean {
    if (token === '') return false;
    let grew = false;
    if (kind === 'row' && !this.rowTokens.has(token)) {
      this.rowTokens.add(token);
      grew = true;
    }
    if (!this.allTokens.has(token)) {
      this.allTokens.add(token);
      this.probeList.push(token);
      grew = true;
    }
    if (entity) this.entities.add(entity);
    if (grew) this.generation++;
    return grew;
  }

  /**
   * Adds a clear value (kept in memory only). A strong value that is a whole cell makes the row the
   * subject's; it must be distinctive (an `@`, letters with digits, or 8+ digits), otherwise it
   * only counts as weak: a customer number like `10001` must not claim another row's amount.
   */
  addLiteral(value: Cell, strength: 'strong' | 'weak', minLength = MIN_LITERAL_LENGTH): void {
    if (value === null || typeof value === 'boolean') return;
    const v = String(value).trim().toLowerCase();
    if (v.length < minLength) return;
    if (strength === 'strong' && !isDistinctive(v)) strength = 'weak';
    const set = strength === 'strong' ? this.strong : this.weak;
    if (set.has(v) || (strength === 'weak' && this.strong.has(v))) return;
    set.add(v);
    if (strength === 'strong') this.weak.delete(v);
    this.strongPattern = undefined;
    this.allPattern = undefined;
    this.generation++;
  }

  /** Every token in insertion order; append-only, for incremental index tests. */
  probe(): readonly string[] {
    return this.probeList;
  }

  /** The row tokens in insertion order. */
  rowTokenList(): string[] {
    return [...this.rowTokens];
  }

  /** True when the cell, as a whole, is a strong clear value of the subject. */
  isStrongValue(cell: Cell): boolean {
    if (this.strong.size === 0 || cell === null || typeof cell === 'boolean') return false;
    return this.strong.has(String(cell).trim().toLowerCase());
  }

  /** True when the text contains a strong clear value as a whole word. */
  containsStrong(text: string): boolean {
    const p = this.pattern('strong');
    if (!p) return false;
    p.lastIndex = 0;
    return p.test(text);
  }

  /** Replaces every clear value (strong and weak) found as a whole word. */
  redactLiterals(text: string): { text: string; count: number } {
    const p = this.pattern('all');
    if (!p) return { text, count: 0 };
    let count = 0;
    p.lastIndex = 0;
    const out = text.replace(p, () => {
      count++;
      return ERASED;
    });
    return { text: out, count };
  }

  /** Replaces every occurrence of a token of the closure (tokens are long random strings). */
  redactTokens(text: string): { text: string; count: number } {
    let count = 0;
    let out = text;
    for (const t of this.allTokens) {
      if (!out.includes(t)) continue;
      const parts = out.split(t);
      count += parts.length - 1;
      out = parts.join(ERASED);
    }
    return { text: out, count };
  }

  /** True when the text contains a row token. */
  containsRowToken(text: string): boolean {
    for (const t of this.rowTokens) if (text.includes(t)) return true;
    return false;
  }

  private pattern(which: 'strong' | 'all'): RegExp | undefined {
    if (which === 'strong' && this.strongPattern) return this.strongPattern;
    if (which === 'all' && this.allPattern) return this.allPattern;
    const values = which === 'strong' ? [...this.strong] : [...this.strong, ...this.weak];
    if (values.length === 0) return undefined;
    // Longest first, so a full name wins over a part of it; whole words only (no letter or digit around).
    values.sort((a, b) => b.length - a.length);
    const body = values.map(escapeRegExp).join('|');
    const re = new RegExp(`(?<![\\p{L}\\p{N}])(?:${body})(?![\\p{L}\\p{N}])`, 'giu');
    if (which === 'strong') this.strongPattern = re;
    else this.allPattern = re;
    return re;
  }
}

function isDistinctive(v: string): boolean {
  if (v.includes('@')) return true;
  const digits = v.replace(/\D/g, '').length;
  return digits >= 8 || (digits > 0 && /\p{L}/u.test(v));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------- tokens of clear values

/** canonicalise + keyed token, as pseudonymisation computes them, with per-entity keys cached. */
export class Tokeniser {
  constructor(
    private readonly hmacKey: Uint8Array,
    readonly tokenLength: number,
  ) {}

  /**
   * The token of a clear value exactly as the row transformer computes it: the canonical form,
   * or the trimmed value when it has none.
   */
  token(entity: EntityType, value: Cell, region?: string): string | undefined {
    if (value === null || typeof value === 'boolean') return undefined;
    const canonical = canonicalOrRaw(entity, String(value), region);
    return canonical === '' ? undefined : this.tokenOfCanonical(entity, canonical);
  }

  /** The token of a value already in the form pseudonymisation tokenises. */
  tokenOfCanonical(entity: EntityType, canonical: string): string {
    return pseudonymToken(entity, canonical, deriveEntityKey(this.hmacKey, entity), this.tokenLength);
  }
}

const PREFIX_ENTITY = new Map<string, EntityType>(Object.entries(TOKEN_PREFIX).map(([e, p]) => [p, e as EntityType]));

/**
 * Reads the tokens curated objects hold, in the form ingest indexed them (`EMAIL_<hex>`, the row
 * transformer's tokensOut): plain tokens as they are, reversible `ENC_…` tokens by the pseudonym
 * they carry (no decryption, so matching works the same before and after their keys are
 * shredded), tokens written with a column's own prefix or a longer length brought back to the
 * policy's form.
 */
export class CuratedTokens {
  private readonly pattern: RegExp;
  constructor(private readonly tokeniser: Tokeniser) {
    const prefixes = [...new Set(Object.values(TOKEN_PREFIX))].sort((a, b) => b.length - a.length).join('|');
    const L = tokeniser.tokenLength;
    this.pattern = new RegExp(
      `(?<![A-Za-z0-9_])(?:ENC_[A-Z]+_[0-9a-f]{8,64}_[A-Za-z0-9_-]{22,}|(?:${prefixes})_[0-9a-f]{${L}})(?![A-Za-z0-9_-])`,
      'g',
    );
  }

  /** Tokens inside a text, with their position. */
  find(text: string): { start: number; end: number; token: string }[] {
    const out: { start: number; end: number; token: string }[] = [];
    if (text.indexOf('_') < 0) return out;
    this.pattern.lastIndex = 0;
    for (let m = this.pattern.exec(text); m; m = this.pattern.exec(text)) {
      const token = m[0].startsWith('ENC_') ? this.fromEncrypted(m[0]) : m[0];
      if (token !== undefined) out.push({ start: m.index, end: m.index + m[0].length, token });
    }
    return out;
  }

  /** The token of an identifying cell pseudonymised as `entity`, or undefined. */
  cellToken(cell: Cell | undefined, entity: EntityType): string | undefined {
    if (typeof cell !== 'string' || cell === '') return undefined;
    const v = cell.trim();
    if (v.startsWith('ENC_')) return this.fromEncrypted(v);
    // Plain tokens, with the column's own prefix or the email shape (`EMAIL_…@example.invalid`) too.
    const m = /^[A-Za-z][A-Za-z0-9]{0,23}_([0-9a-f]{8,64})(?:@[a-z0-9.-]+)?$/.exec(v);
    const L = this.tokeniser.tokenLength;
    if (m && (m[1] as string).length >= L) return `${TOKEN_PREFIX[entity]}_${(m[1] as string).slice(0, L)}`;
    return undefined;
  }

  /** The pseudonym an `ENC_…` token was filed under (its vault ref), in the policy's length. */
  private fromEncrypted(token: string): string | undefined {
    const parsed = parseEncryptedToken(token);
    if (!parsed) return undefined;
    const L = this.tokeniser.tokenLength;
    const hex = parsed.ref.slice(parsed.ref.indexOf('_') + 1);
    return hex.length >= L ? `${TOKEN_PREFIX[parsed.entity]}_${hex.slice(0, L)}` : undefined;
  }
}

/** The entity a plain token names, from its prefix. */
export function entityOfToken(token: string): EntityType | undefined {
  const i = token.indexOf('_');
  return i > 0 ? PREFIX_ENTITY.get(token.slice(0, i)) : undefined;
}

// ---------------------------------------------------------------- judges

/** Everything a judge of raw rows needs, shared across the objects of one erasure. */
export interface MatchContext {
  readonly closure: SubjectClosure;
  readonly tokeniser: Tokeniser;
  readonly hmacKey: SecretKey;
  readonly sivKey: SecretKey;
  readonly policy: Policy;
  readonly scanner: { scan(text: string): readonly { entity: EntityType; start: number; end: number; score: number }[] };
  readonly curated: CuratedTokens;
  /** Adds what matched rows reveal to the closure (scan phase); off when verifying. */
  learn: boolean;
}

/** Region settings of the run that read an object (for phone numbers). */
export interface RunRegion {
  readonly defaultRegion: string;
  readonly regionColumn?: string;
}

/** The region settings a run used. */
export function runRegion(run: RunRecord): RunRegion {
  const contract = run.contract.body as DatasetContract | undefined;
  const defaultRegion = contract?.defaultRegion ?? DEFAULT_PIPELINE_CONFIG.defaultRegion;
  return contract?.regionColumn ? { defaultRegion, regionColumn: contract.regionColumn } : { defaultRegion };
}

/** Creates the scanner used for free text in raw objects. */
export function createErasureScanner(policy: Policy, defaultRegion: string): MatchContext['scanner'] {
  const scanner = createTextScanner({ defaultRegion, minScore: policy.minSpanScore });
  return {
    scan(text) {
      try {
        return scanner.scan(text);
      } catch (err) {
        // Longer than the scanner's bound: whole-word clear values and tokens still apply.
        if (err instanceof SanitisationError) return [];
        throw err;
      }
    },
  };
}

const NEUTRAL = (column: string): ColumnDecision => ({
  column,
  entity: null,
  operator: 'keep',
  confidence: 1,
  source: 'default',
  freeText: false,
  identifiesSubject: false,
});

/** Identifying columns of a plan, split into unique identifiers and weak ones (names...). */
function identifying(plan: readonly ColumnDecision[]): { strong: ColumnDecision[]; weak: ColumnDecision[] } {
  const strong: ColumnDecision[] = [];
  const weak: ColumnDecision[] = [];
  for (const d of plan) {
    if (!d.identifiesSubject || d.operator === 'drop') continue;
    // The row transformer tokenises an identifying column without an entity as SUBJECT_ID.
    const entity = d.entity ?? 'SUBJECT_ID';
    (UNIQUE_IDENTIFIERS.has(entity) ? strong : weak).push(d.entity === null ? { ...d, entity } : d);
  }
  return { strong, weak };
}

/**
 * Judge for raw rows (ingest objects, quarantine copies): identifying cells are tokenised with the
 * run's plan by the same row transformer ingest used, restricted to the identifying columns so
 * free-text tokens never decide whose row it is; free text of other rows is scanned for spans.
 */
export function createRawJudge(ctx: MatchContext, run: RunRecord, columns: readonly string[]): RowJudge {
  const plan = run.plan;
  if (plan.length === 0) return createPlanlessJudge(ctx, run);
  const region = runRegion(run);
  const { strong, weak } = identifying(plan);
  // Only the subject tokens of these transformers are read: `encrypt` needs no vault key here.
  const tokensOnly = subjectTokenPlan(plan, ctx.policy);
  const restrict = (keep: readonly ColumnDecision[]) => {
    const byColumn = new Map(subjectTokenPlan(keep, ctx.policy).plan.map((d) => [d.column, d]));
    return columns.map((c) => {
      const d = byColumn.get(c);
      return d ? { ...d, freeText: false } : NEUTRAL(c);
    });
  };
  const transformerOpts = {
    hmacKey: ctx.hmacKey,
    sivKey: ctx.sivKey,
    policy: tokensOnly.policy,
    defaultRegion: region.defaultRegion,
    ...(region.regionColumn ? { regionColumn: region.regionColumn } : {}),
  };
  const strongT = createRowTransformer(columns, restrict(strong), transformerOpts);
  const weakT = createRowTransformer(columns, restrict(weak), transformerOpts);
  const full = createRowTransformer(columns, tokensOnly.plan, transformerOpts);
  const index = (ds: readonly ColumnDecision[]) =>
    ds.map((d) => ({ i: columns.indexOf(d.column), entity: d.entity as EntityType })).filter((x) => x.i >= 0);
  const strongCols = index(strong);
  const weakCols = index(weak);
  const identifyingSet = new Set([...strongCols, ...weakCols].map((x) => x.i));
  const encryptCols = plan
    .filter((d) => d.operator === 'encrypt')
    .map((d) => ({ i: columns.indexOf(d.column), entity: d.entity ?? 'SUBJECT_ID' }))
    .filter((x) => x.i >= 0);
  const freeText = new Set(
    plan
      .filter((d) => d.freeText)
      .map((d) => columns.indexOf(d.column))
      .filter((i) => i >= 0),
  );
  const regionIndex = region.regionColumn ? columns.indexOf(region.regionColumn) : -1;
  const st: string[] = [];
  const wt: string[] = [];
  const { closure } = ctx;

  const rowRegion = (cells: readonly Cell[]): string => {
    const r = regionIndex >= 0 ? cells[regionIndex] : undefined;
    return typeof r === 'string' && /^[A-Za-z]{2}$/.test(r.trim()) ? r.trim().toUpperCase() : region.defaultRegion;
  };
  const tokensOf = (cells: readonly Cell[]) => {
    st.length = 0;
    wt.length = 0;
    try {
      strongT.transform(cells as Cell[], st);
      weakT.transform(cells as Cell[], wt);
    } catch (err) {
      if (!(err instanceof SanitisationError)) throw err;
      // A cell the transformer refuses (it was quarantined for that): tokenise cell by cell.
      st.length = 0;
      wt.length = 0;
      const r = rowRegion(cells);
      for (const { i, entity } of strongCols) pushDefined(st, ctx.tokeniser.token(entity, cells[i] ?? null, r));
      for (const { i, entity } of weakCols) pushDefined(wt, ctx.tokeniser.token(entity, cells[i] ?? null, r));
    }
  };

  return {
    judge(cells) {
      tokensOf(cells);
      let hit = st.some((t) => closure.rowTokens.has(t)) || wt.some((t) => closure.rowTokens.has(t));
      if (!hit) for (const c of cells) if (closure.isStrongValue(c)) hit = true;
      if (hit) {
        if (ctx.learn) {
          for (const t of st) closure.addToken(t, 'row');
          for (const t of wt) closure.addToken(t, 'mention');
          for (const { i, entity } of strongCols) {
            closure.entities.add(entity);
            closure.addLiteral(cells[i] ?? null, 'strong');
          }
          for (const { i } of weakCols) closure.addLiteral(cells[i] ?? null, 'weak');
          const r = encryptCols.length > 0 ? rowRegion(cells) : '';
          for (const { i, entity } of encryptCols) {
            const ref = ctx.tokeniser.token(entity, cells[i] ?? null, r);
            if (ref !== undefined) closure.keyRefs.add(ref);
          }
        }
        return DROP;
      }
      return redactRow(
        ctx,
        cells,
        (i) => !identifyingSet.has(i),
        (i) => freeText.has(i),
        rowRegion(cells),
      );
    },
    judgeText(text) {
      return judgeText(ctx, text, region.defaultRegion);
    },
    indexTokens(cells, out) {
      // The index of a quarantine object holds what ingest put there: every subject token of the row.
      try {
        full.transform(cells as Cell[], out);
      } catch (err) {
        if (!(err instanceof SanitisationError)) throw err;
      }
    },
  };
}

/**
 * Judge for raw rows without a column plan (a file rejected before its columns were classified):
 * every cell is tried as each entity type of the closure, and every text cell is scanned.
 */
export function createPlanlessJudge(ctx: MatchContext, run: RunRecord): RowJudge {
  const { closure } = ctx;
  const region = runRegion(run).defaultRegion;
  return {
    judge(cells) {
      for (const c of cells) {
        if (c === null || typeof c === 'boolean') continue;
        // Without a plan nothing says which cells identify the subject: the closure is not extended.
        if (closure.isStrongValue(c)) return DROP;
        for (const e of closure.entities) {
          const t = ctx.tokeniser.token(e, c, region);
          if (t !== undefined && closure.rowTokens.has(t)) return DROP;
        }
      }
      return redactRow(
        ctx,
        cells,
        () => true,
        () => true,
        region,
      );
    },
    judgeText(text) {
      return judgeText(ctx, text, region);
    },
  };
}

/**
 * Redacts, in a row that stays, the subject's mentions: scanner spans whose token is in the
 * closure (free-text columns) and whole-word clear values (all columns but identifying ones).
 */
function redactRow(
  ctx: MatchContext,
  cells: readonly Cell[],
  eligible: (i: number) => boolean,
  scan: (i: number) => boolean,
  region: string,
): RowVerdict {
  let out: Cell[] | undefined;
  let spans = 0;
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i];
    if (typeof c !== 'string' || c === '' || !eligible(i)) continue;
    const r = redactText(ctx, c, scan(i), region);
    if (r.count === 0) continue;
    out ??= [...cells];
    out[i] = r.text;
    spans += r.count;
  }
  return out ? { action: 'replace', cells: out, spans } : KEEP;
}

/** Scanner spans of the closure, then clear values and tokens. */
export function redactText(ctx: MatchContext, text: string, scan: boolean, region: string): { text: string; count: number } {
  let count = 0;
  let out = text;
  if (scan && ctx.closure.allTokens.size > 0) {
    const spans = ctx.scanner.scan(text);
    if (spans.length > 0) {
      let s = '';
      let last = 0;
      for (const span of [...spans].sort((a, b) => a.start - b.start)) {
        if (span.start < last) continue;
        const t = ctx.tokeniser.token(span.entity, text.slice(span.start, span.end), region);
        if (t === undefined || !ctx.closure.allTokens.has(t)) continue;
        s += text.slice(last, span.start) + ERASED;
        last = span.end;
        count++;
      }
      if (count > 0) out = s + text.slice(last);
    }
  }
  const lit = ctx.closure.redactLiterals(out);
  const tok = ctx.closure.redactTokens(lit.text);
  return { text: tok.text, count: count + lit.count + tok.count };
}

/**
 * A record known only as text (an unparseable quarantined row, a line of an undecodable file):
 * it is the subject's when it holds a strong clear value or a span whose token is a row token;
 * otherwise the subject's mentions in it are redacted.
 */
export function judgeText(ctx: MatchContext, text: string, region: string): LineVerdict {
  const { closure } = ctx;
  if (closure.containsStrong(text) || closure.containsRowToken(text)) return DROP;
  for (const span of ctx.scanner.scan(text)) {
    const t = ctx.tokeniser.token(span.entity, text.slice(span.start, span.end), region);
    if (t !== undefined && closure.rowTokens.has(t)) return DROP;
  }
  const r = redactText(ctx, text, true, region);
  return r.count > 0 ? { action: 'replace', line: r.text, spans: r.count } : KEEP;
}

/**
 * Judge for curated rows, which hold tokens already: a row is the subject's when an identifying
 * cell carries a row token (plain, or reversible and decrypted); in other rows, tokens of the
 * closure inside text become `[ERASED]`.
 */
export function createCuratedJudge(ctx: MatchContext, run: RunRecord, columns: readonly string[]): RowJudge {
  const { strong, weak } = identifying(run.plan);
  const pos = (ds: readonly ColumnDecision[]) =>
    ds.map((d) => ({ i: columns.indexOf(d.column), entity: d.entity as EntityType })).filter((x) => x.i >= 0);
  const strongCols = pos(strong);
  const weakCols = pos(weak);
  const idCols = [...strongCols, ...weakCols];
  const identifyingSet = new Set(idCols.map((x) => x.i));
  const { closure, curated } = ctx;
  const holds = (c: Cell | undefined, entity: EntityType): boolean => {
    if (typeof c !== 'string' || c === '') return false;
    const t = curated.cellToken(c, entity);
    return (t !== undefined && closure.rowTokens.has(t)) || closure.rowTokens.has(c) || closure.containsRowToken(c);
  };
  return {
    judge(cells) {
      let hit = idCols.some(({ i, entity }) => holds(cells[i], entity));
      if (!hit) for (const c of cells) if (closure.isStrongValue(c)) hit = true;
      if (hit) {
        if (ctx.learn) {
          for (const { i, entity } of strongCols) {
            const t = curated.cellToken(cells[i], entity);
            if (t !== undefined) closure.addToken(t, 'row', entity);
          }
          for (const { i, entity } of weakCols) {
            const t = curated.cellToken(cells[i], entity);
            if (t !== undefined) closure.addToken(t, 'mention', entity);
          }
          // Every reversible value of the row, by the exact ref its key is filed under.
          for (const c of cells) {
            const ref = typeof c === 'string' && c.startsWith('ENC_') ? parseEncryptedToken(c.trim())?.ref : undefined;
            if (ref !== undefined) closure.keyRefs.add(ref);
          }
        }
        return DROP;
      }
      let out: Cell[] | undefined;
      let spans = 0;
      for (let i = 0; i < cells.length; i++) {
        const c = cells[i];
        if (typeof c !== 'string' || c === '' || identifyingSet.has(i)) continue;
        const r = redactCurated(ctx, c);
        if (r.count === 0) continue;
        out ??= [...cells];
        out[i] = r.text;
        spans += r.count;
      }
      return out ? { action: 'replace', cells: out, spans } : KEEP;
    },
    indexTokens(cells, out) {
      for (const { i, entity } of idCols) {
        const t = curated.cellToken(cells[i], entity);
        if (t !== undefined) out.push(t);
      }
      for (let i = 0; i < cells.length; i++) {
        const c = cells[i];
        if (typeof c === 'string' && !identifyingSet.has(i)) for (const f of curated.find(c)) out.push(f.token);
      }
    },
  };
}

/** Tokens of the closure in a curated text (plain or reversible), then clear values, become `[ERASED]`. */
function redactCurated(ctx: MatchContext, text: string): { text: string; count: number } {
  let count = 0;
  let out = text;
  const found = ctx.curated.find(text).filter((f) => ctx.closure.allTokens.has(f.token));
  if (found.length > 0) {
    let s = '';
    let last = 0;
    for (const f of found) {
      s += text.slice(last, f.start) + ERASED;
      last = f.end;
    }
    out = s + text.slice(last);
    count += found.length;
  }
  const tok = ctx.closure.redactTokens(out);
  const lit = ctx.closure.redactLiterals(tok.text);
  return { text: lit.text, count: count + tok.count + lit.count };
}

/**
 * Judge for quarantine `rows.jsonl` lines (`{_row, _rules, _cells | _raw}`): `_cells` rows are
 * judged as raw rows with the run's plan, `_raw` records as text.
 */
export function createQuarantineRowsJudge(ctx: MatchContext, run: RunRecord): LineJudge {
  const judges = new Map<string, { judge: RowJudge; columns: string[] }>();
  const region = runRegion(run).defaultRegion;
  const judgeFor = (cells: Record<string, unknown>) => {
    const columns = Object.keys(cells).filter((k) => !k.startsWith('_extra_'));
    const sig = columns.join('\u0000');
    let j = judges.get(sig);
    if (!j) {
      j = { judge: createRawJudge(ctx, run, columns), columns };
      judges.set(sig, j);
    }
    return j;
  };
  const parse = (line: string): Record<string, unknown> | undefined => {
    try {
      const v: unknown = JSON.parse(line);
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    judge(line) {
      const record = parse(line);
      if (!record) return judgeText(ctx, line, region);
      const cellsObj = record._cells;
      if (cellsObj !== null && typeof cellsObj === 'object' && !Array.isArray(cellsObj)) {
        const obj = cellsObj as Record<string, unknown>;
        const { judge, columns } = judgeFor(obj);
        const cells = columns.map((c) => asCell(obj[c]));
        const extras = Object.keys(obj).filter((k) => k.startsWith('_extra_'));
        for (const k of extras) if (ctx.closure.isStrongValue(asCell(obj[k]))) return DROP;
        const v = judge.judge(cells);
        let spans = v.action === 'replace' ? v.spans : 0;
        if (v.action === 'drop') return DROP;
        const next: Record<string, unknown> = { ...obj };
        if (v.action === 'replace') {
          for (let i = 0; i < columns.length; i++) next[columns[i] as string] = v.cells[i] ?? null;
        }
        for (const k of extras) {
          const c = obj[k];
          if (typeof c !== 'string') continue;
          const r = redactText(ctx, c, true, region);
          if (r.count > 0) {
            next[k] = r.text;
            spans += r.count;
          }
        }
        return spans > 0 ? { action: 'replace', line: JSON.stringify({ ...record, _cells: next }), spans } : KEEP;
      }
      if (typeof record._raw === 'string') {
        const v = judgeText(ctx, record._raw, region);
        return v.action === 'replace' ? { action: 'replace', line: JSON.stringify({ ...record, _raw: v.line }), spans: v.spans } : v;
      }
      return KEEP;
    },
    indexTokens(line, out) {
      const record = parse(line);
      const cellsObj = record?._cells;
      if (cellsObj === null || typeof cellsObj !== 'object' || Array.isArray(cellsObj)) return;
      const obj = cellsObj as Record<string, unknown>;
      const { judge, columns } = judgeFor(obj);
      judge.indexTokens?.(
        columns.map((c) => asCell(obj[c])),
        out,
      );
    },
  };
}

/** Judge of whole lines for an object no table decoder can read (plain text at best). */
export function createTextLineJudge(ctx: MatchContext, run: RunRecord): LineJudge {
  const region = runRegion(run).defaultRegion;
  return { judge: (line) => judgeText(ctx, line, region) };
}

function asCell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}

function pushDefined(out: string[], t: string | undefined): void {
  if (t !== undefined) out.push(t);
}
