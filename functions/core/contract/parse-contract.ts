/**
 * Reading, hashing and writing dataset contracts. YAML or JSON in (JSON is YAML), the zod schema
 * decides, then checks the schema cannot express: patterns compile and cannot backtrack
 * catastrophically, ranges are ordered and only on numeric columns.
 */
import { createHash } from 'node:crypto';
import YAML from 'yaml';
import { ContractError } from '../errors.ts';
import { type DatasetContract, datasetContractSchema } from './contract-schema.ts';

/** Parses a contract. Throws ContractError naming the source and every bad path. */
export function parseContract(text: string, source: string): DatasetContract {
  let raw: unknown;
  try {
    raw = YAML.parse(text, { uniqueKeys: true, maxAliasCount: 100, prettyErrors: true });
  } catch (err) {
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ContractError(`${source}: not valid YAML or JSON: ${detail}`, { file: source, rule: 'contract-syntax' }, { cause: err });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ContractError(`${source}: a contract is a mapping with at least 'dataset' and 'columns'`, {
      file: source,
      rule: 'contract-schema',
    });
  }
  const parsed = datasetContractSchema.safeParse(raw);
  const problems: string[] = parsed.success
    ? semanticProblems(parsed.data)
    : parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`);
  if (problems.length > 0 || !parsed.success) {
    throw new ContractError(problems.map((p) => `${source}: ${p}`).join('\n'), { file: source, rule: 'contract-schema', problems });
  }
  return parsed.data;
}

/** Problems the zod schema cannot see, as `path: message`. */
export function semanticProblems(contract: DatasetContract): string[] {
  const out: string[] = [];
  contract.columns.forEach((col, i) => {
    const at = `columns.${i}`;
    const numeric = col.type === 'integer' || col.type === 'number';
    if (!numeric && col.min !== undefined) out.push(`${at}.min: only integer and number columns take min`);
    if (!numeric && col.max !== undefined) out.push(`${at}.max: only integer and number columns take max`);
    if (col.min !== undefined && col.max !== undefined && col.min > col.max) out.push(`${at}.min: greater than max`);
    if (col.minLength !== undefined && col.maxLength !== undefined && col.minLength > col.maxLength)
      out.push(`${at}.minLength: greater than maxLength`);
    if (col.enum !== undefined && col.enum.length === 0) out.push(`${at}.enum: empty list`);
    if (col.pattern !== undefined) {
      const problem = patternProblem(col.pattern);
      if (problem) out.push(`${at}.pattern: ${problem}`);
    }
  });
  return out;
}

/** Why a `pattern` cannot be used, or undefined. Rejects nested quantifiers such as `(a+)+`. */
export function patternProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
  } catch (err) {
    return `not a valid regular expression (${err instanceof Error ? err.message : String(err)})`;
  }
  if (hasNestedQuantifier(pattern))
    return 'nested quantifiers such as (a+)+ can take exponential time; rewrite without repeating a repeated group';
  return undefined;
}

/**
 * True when a quantified group contains a quantifier (star height above one), the shape behind
 * most catastrophic backtracking. Overlapping alternations like `(a|a)+` are not detected.
 */
export function hasNestedQuantifier(pattern: string): boolean {
  // Per open group: does it contain a repeating quantifier?
  const stack: boolean[] = [];
  let current = false;
  let i = 0;
  const n = pattern.length;
  /** Length of a repeating quantifier at j (`*`, `+`, `{n,}`, `{n,m}` with m > 1), else 0. */
  const repeatAt = (j: number): number => {
    const c = pattern[j];
    if (c === '*' || c === '+') return 1;
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(j));
      if (m) {
        const max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
        return max > 1 ? m[0].length : 0;
      }
    }
    return 0;
  };
  while (i < n) {
    const c = pattern[i];
    if (c === '\\') {
      i += 2;
    } else if (c === '[') {
      i++;
      if (pattern[i] === '^') i++;
      if (pattern[i] === ']') i++;
      while (i < n && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '(') {
      stack.push(current);
      current = false;
      i++;
      if (pattern[i] === '?') {
        // (?:, (?=, (?!, (?<=, (?<!, (?<name>
        i++;
        if (pattern[i] === '<' && pattern[i + 1] !== '=' && pattern[i + 1] !== '!') {
          const close = pattern.indexOf('>', i);
          i = close === -1 ? n : close + 1;
        } else i++;
      }
      continue;
    } else if (c === ')') {
      const inner = current;
      current = stack.pop() ?? false;
      i++;
      const q = repeatAt(i);
      if (q > 0) {
        if (inner) return true;
        current = true;
        i += q;
      } else if (inner) current = true;
      continue;
    } else {
      i++;
    }
    const q = repeatAt(i);
    if (q > 0) {
      current = true;
      i += q;
    }
  }
  return false;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = canonical(v);
    }
    return out;
  }
  return value;
}

/** Canonical JSON (sorted keys, no undefined) of a value. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value));
}

/** sha256 hex of the contract's canonical JSON: equal contracts hash equal whatever their layout. */
export function contractHash(contract: DatasetContract): string {
  return createHash('sha256').update(canonicalJson(contract)).digest('hex');
}

/** The contract as YAML (for `contract infer`); parseContract reads it back to an equal contract. */
export function serializeContract(contract: DatasetContract): string {
  const header = `# Dataset contract for '${contract.dataset}' (privacy-pipeline). Keep it beside the data as ${contract.dataset}.contract.yaml.\n`;
  // Schema order (dataset, columns, ...) reads better than sorted keys here.
  return header + YAML.stringify(contract, { lineWidth: 0 });
}
