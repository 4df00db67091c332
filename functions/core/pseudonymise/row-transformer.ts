/**
 * Applies the column plan to rows: whole-cell operators on PII columns, span replacement inside
 * free-text columns, nothing at all on other columns. Built once per run; per row it allocates
 * only the output array.
 *
 * Repeated values hit a bounded two-generation cache per column (and one for free-text spans):
 * a value costs an HMAC (≈ 1-2 µs), and a phone number a libphonenumber parse (≈ 20-40 µs),
 * once per cache lifetime. When the published token is the subject token (the default `token`
 * operator), it is computed once, not twice. Measured with bench/hot-path.ts on the bench CSV
 * (Zipf-distributed customers, 8 PII columns): per-row transform CPU 130 µs → see the report
 * in bench/README.md.
 */
import { MAX_SCAN_LENGTH, type TextScanner, createTextScanner } from '../detect/text-scanner.ts';
import { PrivacyPipelineError, SanitisationError } from '../errors.ts';
import { TwoGenerationCache } from '../two-generation-cache.ts';
import type { SecretKey } from '../ports.ts';
import type { Cell, ColumnDecision, EntityType } from '../types.ts';
import { type OperatorFn, compileOperator } from './operators.ts';
import { type Policy, operatorFor } from './policy.ts';
import { TOKEN_PREFIX, canonicalOrRaw, deriveEntityKey, pseudonymToken } from './token.ts';

/** Keys, policy and region settings of a run. */
export interface TransformContext {
  readonly hmacKey: SecretKey;
  readonly sivKey: SecretKey;
  readonly policy: Policy;
  readonly defaultRegion?: string;
  /** Column holding each row's ISO country, for national phone numbers. */
  readonly regionColumn?: string;
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
  stats(): {
    readonly cellsTransformed: number;
    readonly spans: Readonly<Partial<Record<EntityType, number>>>;
    readonly cacheHits: number;
    readonly cacheMisses: number;
  };
}

/** Entities whose tokens identify a data subject (indexed for erasure and suppression). */
export const SUBJECT_ENTITIES: ReadonlySet<EntityType> = new Set<EntityType>([
  'EMAIL_ADDRESS',
  'PHONE_NUMBER',
  'SUBJECT_ID',
  'CREDIT_CARD',
  'IBAN_CODE',
  'US_SSN',
  'UK_NINO',
  'UK_NHS',
  'ES_NIF',
  'IT_FISCAL_CODE',
  'PL_PESEL',
  'IN_AADHAAR',
  'DE_TAX_ID',
  'PERSON',
]);

/**
 * Entries per cache generation. Two generations per column: ≤ 2 × 16 Ki entries of ≈ 150 bytes
 * (detached value, token, map slot) ≈ 5 MiB per PII column, whatever the file size.
 */
export const TOKEN_CACHE_GENERATION = 16_384;
/** Phone numbers cost a libphonenumber parse (20-40 µs) per miss: their columns keep more. */
export const PHONE_CACHE_GENERATION = 65_536;

/** Cached result of one value: the published cell and the subject token (when indexed). */
type Cached = readonly [string | null, string | undefined];

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
      readonly cache: TwoGenerationCache<Cached>;
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
    const op = compileOperator(d.operator, { entity, options, hmacKey: hmac, sivKey: siv, tokenLength: policy.tokenLength });
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
      cache: new TwoGenerationCache<Cached>(entity === 'PHONE_NUMBER' ? PHONE_CACHE_GENERATION : TOKEN_CACHE_GENERATION),
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
      op = compileOperator(name, { entity, options: spec.options ?? {}, hmacKey: hmac, sivKey: siv, tokenLength: policy.tokenLength });
      spanOps.set(entity, op);
    }
    return op;
  };
  const scanners = new Map<string, TextScanner>();
  const scannerFor = (region: string): TextScanner => {
    let s = scanners.get(region);
    if (!s) scanners.set(region, (s = createTextScanner({ defaultRegion: region, minScore: policy.minSpanScore })));
    return s;
  };

  let cellsTransformed = 0;
  const spanCounts: Partial<Record<EntityType, number>> = {};
  // Free-text spans: region, entity and span text → replacement and subject token.
  const spanCache = new TwoGenerationCache<Cached>(TOKEN_CACHE_GENERATION);

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
    const spans = scannerFor(region).scan(text);
    if (spans.length === 0) return text;
    let out = '';
    let pos = 0;
    for (const s of spans) {
      const piece = text.slice(s.start, s.end);
      const key = `${region}\u0000${s.entity}\u0000${piece}`;
      let hit = spanCache.get(key);
      if (hit === undefined) {
        const subject = SUBJECT_ENTITIES.has(s.entity) ? subjectToken(s.entity, piece, region) : undefined;
        hit = [spanOp(s.entity)(piece, region) ?? `<${s.entity}>`, subject];
        spanCache.set(key, hit);
      }
      out += text.slice(pos, s.start) + hit[0];
      pos = s.end;
      spanCounts[s.entity] = (spanCounts[s.entity] ?? 0) + 1;
      if (tokensOut && hit[1] !== undefined) tokensOut.push(hit[1]);
    }
    return out + text.slice(pos);
  };

  return {
    outputColumns,
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
          const key = plan.entity === 'PHONE_NUMBER' ? `${region}\u0000${value}` : value;
          let hit = plan.cache.get(key);
          if (hit === undefined) {
            const subject = plan.subject ? subjectToken(plan.entity, value, region) : undefined;
            hit = [subject !== undefined && plan.opIsSubjectToken ? subject : plan.op(value, region), subject];
            plan.cache.set(key, hit);
          }
          if (hit[1] !== undefined && tokensOut) tokensOut.push(hit[1]);
          out[o++] = hit[0];
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
      let cacheHits = spanCache.hits;
      let cacheMisses = spanCache.misses;
      for (const p of plans) {
        if (p.kind !== 'value') continue;
        cacheHits += p.cache.hits;
        cacheMisses += p.cache.misses;
      }
      return { cellsTransformed, spans: { ...spanCounts }, cacheHits, cacheMisses };
    },
  };
}
