/**
 * Applies the column plan to rows: whole-cell operators on PII columns, span replacement inside
 * free-text columns, nothing at all on other columns. Built once per run; per row it allocates
 * only the output array. Repeated values hit a bounded per-column cache (HMAC ≈ 2 µs a value).
 */
import { MAX_SCAN_LENGTH, type TextScanner, createTextScanner } from '../detect/text-scanner.ts';
import { PrivacyPipelineError, SanitisationError } from '../errors.ts';
import type { SecretKey } from '../ports.ts';
import type { Cell, ColumnDecision, EntityType } from '../types.ts';
import { type OperatorFn, compileOperator } from './operators.ts';
import { type Policy, operatorFor } from './policy.ts';
import { canonicalOrRaw, deriveEntityKey, pseudonymToken } from './token.ts';

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
  stats(): { readonly cellsTransformed: number; readonly spans: Readonly<Partial<Record<EntityType, number>>>; readonly cacheHits: number };
}

/** Entities whose tokens identify a data subject (indexed for erasure and suppression). */
export const SUBJECT_ENTITIES: ReadonlySet<EntityType> = new Set<EntityType>([
  'EMAIL_ADDRESS', 'PHONE_NUMBER', 'SUBJECT_ID', 'CREDIT_CARD', 'IBAN_CODE', 'US_SSN', 'UK_NINO', 'UK_NHS', 'ES_NIF',
  'IT_FISCAL_CODE', 'PL_PESEL', 'IN_AADHAAR', 'DE_TAX_ID', 'PERSON',
]);

const CACHE_MAX = 8192;

type Plan =
  | { readonly kind: 'keep' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'value'; readonly column: string; readonly entity: EntityType; readonly op: OperatorFn; readonly subject: boolean; readonly cache: Map<string, readonly [string | null, string | undefined]> }
  | { readonly kind: 'text'; readonly column: string };

/** Builds the transformer for a header and its column decisions. */
export function createRowTransformer(columns: readonly string[], decisions: readonly ColumnDecision[], ctx: TransformContext): RowTransformer {
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
    const op = compileOperator(d.operator, { entity, options: d.options ?? {}, hmacKey: hmac, sivKey: siv, tokenLength: policy.tokenLength });
    return { kind: 'value', column, entity, op, subject: d.identifiesSubject, cache: new Map() };
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
  let cacheHits = 0;
  const spanCounts: Partial<Record<EntityType, number>> = {};

  const rowRegion = (cells: readonly Cell[]): string => {
    if (regionIndex < 0) return defaultRegion;
    const r = cells[regionIndex];
    return typeof r === 'string' && /^[A-Za-z]{2}$/.test(r.trim()) ? r.trim().toUpperCase() : defaultRegion;
  };

  const transformText = (text: string, column: string, region: string, tokensOut: string[] | undefined): string => {
    if (text.length > MAX_SCAN_LENGTH) {
      throw new SanitisationError(`column '${column}': text longer than ${MAX_SCAN_LENGTH} characters is not scanned`, { column, rule: 'cell-too-long' });
    }
    const spans = scannerFor(region).scan(text);
    if (spans.length === 0) return text;
    let out = '';
    let pos = 0;
    for (const s of spans) {
      const piece = text.slice(s.start, s.end);
      const replaced = spanOp(s.entity)(piece, region) ?? `<${s.entity}>`;
      out += text.slice(pos, s.start) + replaced;
      pos = s.end;
      spanCounts[s.entity] = (spanCounts[s.entity] ?? 0) + 1;
      if (tokensOut && SUBJECT_ENTITIES.has(s.entity)) tokensOut.push(subjectToken(s.entity, piece, region));
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
          if (hit) cacheHits++;
          else {
            const subject = plan.subject ? subjectToken(plan.entity, value, region) : undefined;
            hit = [plan.op(value, region), subject];
            if (plan.cache.size >= CACHE_MAX) plan.cache.clear();
            plan.cache.set(key, hit);
          }
          if (hit[1] !== undefined && tokensOut) tokensOut.push(hit[1]);
          out[o++] = hit[0];
          cellsTransformed++;
        } catch (err) {
          if (err instanceof SanitisationError && err.context.column !== undefined) throw err;
          const rule = err instanceof PrivacyPipelineError && typeof err.context.rule === 'string' ? err.context.rule : 'operator-failed';
          throw new SanitisationError(`column '${plan.column}': value could not be sanitised (${rule})`, { column: plan.column, rule }, { cause: err });
        }
      }
      return out;
    },
    stats() {
      return { cellsTransformed, spans: { ...spanCounts }, cacheHits };
    },
  };
}
