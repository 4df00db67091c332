/**
 * Applies the column plan to rows: whole-cell operators on PII columns, span replacement inside
 * free-text columns, nothing at all on other columns. Built once per run; per row it allocates
 * only the output array.
 *
 * Repeated values (tokens, phone numbers, AES-SIV, masking) and free-text spans hit bounded
 * two-generation caches keyed by the raw cell, per region, so a repeat skips canonicalisation
 * and the HMAC; token columns whose values do not repeat turn theirs off for a while. When the
 * published token is the subject token (the default `token` operator), it is computed once, not
 * twice. Measured with bench/hot-path.ts on the bench CSV (20 columns, 8 PII, Zipf-distributed
 * customers; CPU time on a busy 2-core VM, so ±15%): transform went from 130 µs to about 40 µs
 * per row (both HMACs of subject columns → one; phone and span caches; text scanner fixes), then
 * without the notes column from 22 to 9-10 µs (token caches at 78 % hits, the phone fast path in
 * token.ts, HMAC over precomputed midstates).
 */
import { createTextScanner, MAX_SCAN_LENGTH, type TextScanner } from '../detect/text-scanner.ts';
import { PrivacyPipelineError, SanitisationError } from '../errors.ts';
import type { SecretKey } from '../ports.ts';
import { TwoGenerationCache } from '../two-generation-cache.ts';
import { type Cell, type ColumnDecision, type EntityType, type Span, UNIQUE_IDENTIFIER_ENTITIES } from '../types.ts';
import { compileOperator, type OperatorFn } from './operators.ts';
import { operatorFor, type Policy } from './policy.ts';
import { canonicalOrRaw, deriveEntityKey, pseudonymToken, TOKEN_PREFIX } from './token.ts';

/** Keys, policy and region settings of a run. */
export interface TransformContext {
  readonly hmacKey: SecretKey;
  readonly sivKey: SecretKey;
  readonly policy: Policy;
  readonly defaultRegion?: string;
  /** Column holding each row's ISO country, for national phone numbers. */
  readonly regionColumn?: string;
  /**
   * Vault keys of `encrypt` values by ref (the value's pseudonym), fetched by the caller before
   * the row (see reversibleRefs): the transformer stays synchronous. A value whose key is not
   * there fails closed (SanitisationError, rule subject-key-missing).
   */
  readonly reversibleKey?: (ref: string) => Uint8Array | undefined;
}

export interface RowTransformer {
  /** The output columns: the input columns less the dropped ones. */
  readonly outputColumns: readonly string[];
  /**
   * Sanitised cells in outputColumns order. Pushes the row's subject tokens (tokens of
   * identifiesSubject columns, plus identifying tokens found in free text) into tokensOut when
   * given. Throws SanitisationError {column, rule} when a cell cannot be sanitised.
   */
  transform(cells: readonly Cell[], tokensOut?: string[]): Cell[];
  /** True when rows may hold `encrypt` values (columns or free-text spans): call reversibleRefs first. */
  readonly reversible: boolean;
  /**
   * Pushes into `out` the vault refs that transforming this row needs and the transformer has not
   * cached yet; the caller fetches them (SubjectKeyVault.getOrCreate) before `transform`.
   */
  reversibleRefs(cells: readonly Cell[], out: string[]): void;
  stats(): {
    readonly cellsTransformed: number;
    readonly spans: Readonly<Partial<Record<EntityType, number>>>;
    readonly cacheHits: number;
    readonly cacheMisses: number;
    /** Values of columns whose operator is cheaper than a cache lookup (computed every time). */
    readonly uncached: number;
  };
}

/** Entities whose tokens identify a data subject (indexed for erasure and suppression). */
export const SUBJECT_ENTITIES: ReadonlySet<EntityType> = new Set<EntityType>([...UNIQUE_IDENTIFIER_ENTITIES, 'SUBJECT_ID', 'PERSON']);

/**
 * Entries per cache generation. Two generations per column: ≤ 2 × 16 Ki entries of ≈ 150 bytes
 * (detached value, token, map slot) ≈ 5 MiB per PII column, whatever the file size.
 */
export const TOKEN_CACHE_GENERATION = 16_384;
/** Phone numbers cost a libphonenumber parse (20-40 µs) per miss: their columns keep more. */
export const PHONE_CACHE_GENERATION = 16_384;

/**
 * Cached result of one value: the published cell and the subject token (when indexed), or just
 * the token when it is both (the default `token` operator on a subject column: no pair to keep).
 */
type Cached = string | readonly [string | null, string | undefined];

/** Lookups per window of an adaptive column cache (see RegionCaches.forValue). */
export const ADAPTIVE_WINDOW = 4096;
/** Below this hit rate over a window, a token column's values are computed without the cache... */
export const ADAPTIVE_MIN_HIT_RATE = 0.4;
/** ...for this many values, then the cache is tried again (the data may change along the file). */
export const ADAPTIVE_SKIP = 8 * ADAPTIVE_WINDOW;

/** Caches by region: a row's region decides how phone numbers and dates are read. */
class RegionCaches {
  private readonly byRegion = new Map<string, TwoGenerationCache<Cached>>();
  private window = 0;
  private windowHits = 0;
  private skip = 0;
  /**
   * @param adaptive when true (plain tokens, whose HMAC costs about two lookups), a column whose
   *   values rarely repeat (ids, event keys) stops paying a lookup and an insertion per value.
   */
  constructor(
    private readonly generation: number,
    private readonly adaptive = false,
  ) {}
  /** The cache for a value of this region, or undefined while the column is computed uncached. */
  forValue(region: string): TwoGenerationCache<Cached> | undefined {
    if (this.skip > 0) {
      this.skip--;
      return undefined;
    }
    return this.get(region);
  }
  /** Counts a lookup of forValue's cache; a window of mostly misses turns the cache off for a while. */
  record(hit: boolean): void {
    if (!this.adaptive) return;
    if (hit) this.windowHits++;
    if (++this.window < ADAPTIVE_WINDOW) return;
    if (this.windowHits < ADAPTIVE_WINDOW * ADAPTIVE_MIN_HIT_RATE) this.skip = ADAPTIVE_SKIP;
    this.window = 0;
    this.windowHits = 0;
  }
  get(region: string): TwoGenerationCache<Cached> {
    let c = this.byRegion.get(region);
    if (!c) {
      c = new TwoGenerationCache<Cached>(this.generation);
      this.byRegion.set(region, c);
    }
    return c;
  }
  stats(): { hits: number; misses: number } {
    let hits = 0;
    let misses = 0;
    for (const c of this.byRegion.values()) {
      hits += c.hits;
      misses += c.misses;
    }
    return { hits, misses };
  }
}

/**
 * True when a cache lookup is cheaper than the operator: a libphonenumber parse (20-40 µs),
 * AES-SIV, Unicode masking, and keyed tokens too: a token costs canonicalisation (NFC, case
 * folding) plus HMAC-SHA-256 (≈ 1.3-2 µs per value on a busy core), a hit one Map lookup
 * (≈ 0.3-0.8 µs in a run, cold memory), and identifying values repeat (customers come back:
 * 78 % hits on the bench CSV). Token columns whose values do not repeat (ids of events) turn
 * their cache off for a while (RegionCaches adaptive). Generalisation (a regular expression and a
 * slice) is computed every time.
 */
function worthCaching(entity: EntityType, operator: string): boolean {
  return entity === 'PHONE_NUMBER' || operator === 'encrypt' || operator === 'mask' || operator === 'token';
}

type Plan =
  | { readonly kind: 'keep' }
  | { readonly kind: 'drop' }
  | {
      readonly kind: 'value';
      readonly column: string;
      readonly entity: EntityType;
      readonly op: OperatorFn;
      readonly subject: boolean;
      /** The operator's output is the subject token itself: compute it once. */
      readonly opIsSubjectToken: boolean;
      /** `encrypt`: needs the vault key of the value's ref. */
      readonly encrypt: boolean;
      /** Per region (phone numbers and dates read differently by region), or none for cheap operators. */
      readonly caches: RegionCaches | undefined;
    }
  | { readonly kind: 'text'; readonly column: string };

/** Builds the transformer for a header and its column decisions. */
export function createRowTransformer(
  columns: readonly string[],
  decisions: readonly ColumnDecision[],
  ctx: TransformContext,
): RowTransformer {
  const policy = ctx.policy;
  const hmac = ctx.hmacKey.material;
  const siv = ctx.sivKey.material;
  const keyed = ctx.reversibleKey ? { reversibleKey: ctx.reversibleKey } : {};
  const byColumn = new Map(decisions.map((d) => [d.column, d]));
  const defaultRegion = (ctx.defaultRegion ?? 'GB').toUpperCase();
  const regionIndex = ctx.regionColumn === undefined ? -1 : columns.indexOf(ctx.regionColumn);

  const subjectToken = (entity: EntityType, value: string, region: string): string =>
    pseudonymToken(entity, canonicalOrRaw(entity, value, region), deriveEntityKey(hmac, entity), policy.tokenLength);

  const plans: Plan[] = columns.map((column) => {
    const d = byColumn.get(column);
    if (!d || d.operator === 'drop') return d ? { kind: 'drop' } : { kind: 'keep' };
    if (d.freeText && d.operator === 'keep') return { kind: 'text', column };
    if (d.operator === 'keep' && !d.identifiesSubject) return { kind: 'keep' };
    const entity = d.entity ?? 'SUBJECT_ID';
    const options = d.options ?? {};
    const op = compileOperator(d.operator, { entity, options, hmacKey: hmac, sivKey: siv, tokenLength: policy.tokenLength, ...keyed });
    // The default token operator computes exactly subjectToken(entity, value, region).
    const opIsSubjectToken =
      d.operator === 'token' &&
      (options.length === undefined || options.length === policy.tokenLength) &&
      (options.prefix === undefined || options.prefix === TOKEN_PREFIX[entity]) &&
      options.shape !== 'email';
    return {
      kind: 'value',
      column,
      entity,
      op,
      subject: d.identifiesSubject,
      opIsSubjectToken,
      encrypt: d.operator === 'encrypt',
      caches: worthCaching(entity, d.operator)
        ? entity === 'PHONE_NUMBER'
          ? new RegionCaches(PHONE_CACHE_GENERATION)
          : new RegionCaches(TOKEN_CACHE_GENERATION, d.operator === 'token')
        : undefined,
    };
  });
  const outputColumns = columns.filter((_, i) => plans[i]?.kind !== 'drop');

  // Free-text spans: one compiled operator per entity, one scanner per region.
  const spanOps = new Map<EntityType, OperatorFn>();
  const spanOp = (entity: EntityType): OperatorFn => {
    let op = spanOps.get(entity);
    if (!op) {
      const spec = operatorFor(policy, entity);
      // Dropping a span from a sentence is redacting it.
      const name = spec.operator === 'drop' ? 'redact' : spec.operator;
      op = compileOperator(name, {
        entity,
        options: spec.options ?? {},
        hmacKey: hmac,
        sivKey: siv,
        tokenLength: policy.tokenLength,
        ...keyed,
      });
      spanOps.set(entity, op);
    }
    return op;
  };
  const scanners = new Map<string, TextScanner>();
  const scannerFor = (region: string): TextScanner => {
    let s = scanners.get(region);
    if (!s) {
      s = createTextScanner({ defaultRegion: region, minScore: policy.minSpanScore });
      scanners.set(region, s);
    }
    return s;
  };

  let cellsTransformed = 0;
  let uncached = 0;
  const spanCounts: Partial<Record<EntityType, number>> = {};
  // Free-text spans: per entity and region, span text → replacement and subject token.
  const spanCaches = new Map<EntityType, RegionCaches>();
  const spanCacheFor = (entity: EntityType, region: string): TwoGenerationCache<Cached> => {
    let c = spanCaches.get(entity);
    if (!c) {
      c = new RegionCaches(entity === 'PHONE_NUMBER' ? PHONE_CACHE_GENERATION : TOKEN_CACHE_GENERATION);
      spanCaches.set(entity, c);
    }
    return c.get(region);
  };
  // Span operators that are the subject token itself (the default `token`): computed once.
  const spanOpIsSubjectToken = new Map<EntityType, boolean>();
  const spanIsSubjectToken = (entity: EntityType): boolean => {
    let v = spanOpIsSubjectToken.get(entity);
    if (v === undefined) {
      const spec = operatorFor(policy, entity);
      const o = spec.options ?? {};
      v =
        SUBJECT_ENTITIES.has(entity) &&
        spec.operator === 'token' &&
        (o.length === undefined || o.length === policy.tokenLength) &&
        (o.prefix === undefined || o.prefix === TOKEN_PREFIX[entity]) &&
        o.shape !== 'email';
      spanOpIsSubjectToken.set(entity, v);
    }
    return v;
  };

  // Free-text spans whose policy operator is `encrypt` need vault keys too.
  const spanEncrypt = new Map<EntityType, boolean>();
  const spanIsEncrypt = (entity: EntityType): boolean => {
    let v = spanEncrypt.get(entity);
    if (v === undefined) {
      v = operatorFor(policy, entity).operator === 'encrypt';
      spanEncrypt.set(entity, v);
    }
    return v;
  };
  const hasText = plans.some((p) => p.kind === 'text');
  const spansMayEncrypt =
    hasText && (policy.default.operator === 'encrypt' || Object.values(policy.entities).some((spec) => spec?.operator === 'encrypt'));
  const reversible = spansMayEncrypt || plans.some((p) => p.kind === 'value' && p.encrypt);
  const scanMemo = spansMayEncrypt ? new Map<string, { text: string; region: string; spans: Span[] }>() : undefined;

  const rowRegion = (cells: readonly Cell[]): string => {
    if (regionIndex < 0) return defaultRegion;
    const r = cells[regionIndex];
    return typeof r === 'string' && /^[A-Za-z]{2}$/.test(r.trim()) ? r.trim().toUpperCase() : defaultRegion;
  };

  const transformText = (text: string, column: string, region: string, tokensOut: string[] | undefined): string => {
    if (text.length > MAX_SCAN_LENGTH) {
      throw new SanitisationError(`column '${column}': text longer than ${MAX_SCAN_LENGTH} characters is not scanned`, {
        column,
        rule: 'cell-too-long',
      });
    }
    // reversibleRefs scanned this very text just before: reuse its spans.
    const memo = scanMemo?.get(column);
    const spans = memo !== undefined && memo.text === text && memo.region === region ? memo.spans : scannerFor(region).scan(text);
    if (memo !== undefined) scanMemo?.delete(column);
    if (spans.length === 0) return text;
    let out = '';
    let pos = 0;
    for (const s of spans) {
      const piece = text.slice(s.start, s.end);
      const cache = spanCacheFor(s.entity, region);
      let hit = cache.get(piece);
      if (hit === undefined) {
        const subject = SUBJECT_ENTITIES.has(s.entity) ? subjectToken(s.entity, piece, region) : undefined;
        hit =
          subject !== undefined && spanIsSubjectToken(s.entity) ? subject : [spanOp(s.entity)(piece, region) ?? `<${s.entity}>`, subject];
        cache.set(piece, hit);
      }
      const replacement = typeof hit === 'string' ? hit : hit[0];
      const token = typeof hit === 'string' ? hit : hit[1];
      out += text.slice(pos, s.start) + replacement;
      pos = s.end;
      spanCounts[s.entity] = (spanCounts[s.entity] ?? 0) + 1;
      if (tokensOut && token !== undefined) tokensOut.push(token);
    }
    return out + text.slice(pos);
  };

  return {
    outputColumns,
    reversible,
    reversibleRefs(cells, out) {
      if (!reversible) return;
      let region: string | undefined;
      for (let i = 0; i < plans.length; i++) {
        const plan = plans[i] as Plan;
        const cell = cells[i] ?? null;
        if (cell === null || cell === '' || (plan.kind !== 'text' && (plan.kind !== 'value' || !plan.encrypt))) continue;
        region ??= rowRegion(cells);
        try {
          if (plan.kind === 'value') {
            const value = typeof cell === 'string' ? cell : String(cell);
            if (plan.caches?.get(region).has(value)) continue;
            out.push(subjectToken(plan.entity, value, region));
          } else if (scanMemo && typeof cell === 'string' && cell.length <= MAX_SCAN_LENGTH) {
            const spans = scannerFor(region).scan(cell);
            scanMemo.set(plan.column, { text: cell, region, spans });
            for (const sp of spans) {
              if (!spanIsEncrypt(sp.entity)) continue;
              const piece = cell.slice(sp.start, sp.end);
              if (!spanCacheFor(sp.entity, region).has(piece)) out.push(subjectToken(sp.entity, piece, region));
            }
          }
        } catch {
          // transform reports this cell (fail closed); it needs no key.
        }
      }
    },
    transform(cells, tokensOut) {
      const out: Cell[] = new Array(outputColumns.length);
      let region: string | undefined;
      let o = 0;
      for (let i = 0; i < plans.length; i++) {
        const plan = plans[i] as Plan;
        const cell = cells[i] ?? null;
        if (plan.kind === 'drop') continue;
        if (plan.kind === 'keep' || cell === null || cell === '') {
          out[o++] = cell;
          continue;
        }
        region ??= rowRegion(cells);
        try {
          if (plan.kind === 'text') {
            out[o++] = typeof cell === 'string' ? transformText(cell, plan.column, region, tokensOut) : cell;
            cellsTransformed++;
            continue;
          }
          const value = typeof cell === 'string' ? cell : String(cell);
          const cache = plan.caches?.forValue(region);
          let hit = cache?.get(value);
          if (cache) plan.caches?.record(hit !== undefined);
          if (hit === undefined) {
            const subject = plan.subject ? subjectToken(plan.entity, value, region) : undefined;
            hit = subject !== undefined && plan.opIsSubjectToken ? subject : [plan.op(value, region), subject];
            if (cache) cache.set(value, hit);
            else uncached++;
          }
          if (typeof hit === 'string') {
            if (tokensOut) tokensOut.push(hit);
            out[o++] = hit;
          } else {
            if (hit[1] !== undefined && tokensOut) tokensOut.push(hit[1]);
            out[o++] = hit[0];
          }
          cellsTransformed++;
        } catch (err) {
          if (err instanceof SanitisationError && err.context.column !== undefined) throw err;
          const rule = err instanceof PrivacyPipelineError && typeof err.context.rule === 'string' ? err.context.rule : 'operator-failed';
          throw new SanitisationError(
            `column '${plan.column}': value could not be sanitised (${rule})`,
            { column: plan.column, rule },
            { cause: err },
          );
        }
      }
      return out;
    },
    stats() {
      let cacheHits = 0;
      let cacheMisses = 0;
      for (const c of [...spanCaches.values(), ...plans.flatMap((p) => (p.kind === 'value' && p.caches ? [p.caches] : []))]) {
        const st = c.stats();
        cacheHits += st.hits;
        cacheMisses += st.misses;
      }
      return { cellsTransformed, spans: { ...spanCounts }, cacheHits, cacheMisses, uncached };
    },
  };
}
