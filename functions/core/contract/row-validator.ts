/**
 * Header check and per-row validation against a dataset contract. Everything is compiled once per
 * file; `validate` runs on the hot path. Issue messages name the row, column and rule, never a value.
 */
import { ContractError, InvalidFileError, type RowIssue } from '../errors.ts';
import { Hash64Set, hash64 } from '../quality/hash.ts';
import type { Cell, Row } from '../types.ts';
import type { ColumnContract, DatasetContract } from './contract-schema.ts';
import { patternProblem } from './parse-contract.ts';
import { INTEGER_TEXT, isBooleanText, isDateText, isDateTimeText, isEmailText, isUuidText, NUMBER_TEXT } from './value-types.ts';

/** For each file column, its index in contract.columns, or -1 for a column the contract lacks. */
export interface HeaderMapping {
  readonly contractIndex: readonly number[];
}

const MAX_NAMES_LISTED = 20;

/**
 * Longest value tested against a contract `pattern`. JavaScript regexes backtrack, and patterns
 * without nested quantifiers can still be polynomial (`^\d+-?\d+$` is quadratic): a hostile
 * 1 MiB cell would stall the run for minutes. Longer values fail the rule (fail closed).
 */
export const MAX_PATTERN_INPUT = 1024;

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, MAX_NAMES_LISTED).map((n) => `'${n}'`);
  return names.length > MAX_NAMES_LISTED ? `${shown.join(', ')} and ${names.length - MAX_NAMES_LISTED} more` : shown.join(', ');
}

function mapHeader(contract: DatasetContract, columns: readonly string[]): number[] {
  const index = new Map<string, number>();
  contract.columns.forEach((c, i) => {
    index.set(c.name, i);
  });
  return columns.map((c) => index.get(c) ?? -1);
}

/**
 * Checks a file's header against the contract. Throws InvalidFileError `header-missing-column`
 * (required columns absent) or `header-unexpected-column` (extra columns not allowed).
 */
export function checkHeader(contract: DatasetContract, columns: readonly string[], fileName: string): HeaderMapping {
  const contractIndex = mapHeader(contract, columns);
  const present = new Set(columns);
  const missing = contract.columns.filter((c) => c.required && !present.has(c.name)).map((c) => c.name);
  const extra = columns.filter((_, i) => contractIndex[i] === -1);
  if (missing.length > 0) {
    const also = extra.length > 0 && !contract.allowExtraColumns ? `; it also has columns the contract lacks: ${listNames(extra)}` : '';
    throw new InvalidFileError(`${fileName}: header lacks required column(s) ${listNames(missing)}${also} [rule header-missing-column]`, {
      file: fileName,
      rule: 'header-missing-column',
      columns: missing,
    });
  }
  if (extra.length > 0 && !contract.allowExtraColumns) {
    throw new InvalidFileError(
      `${fileName}: header has column(s) the contract does not declare: ${listNames(extra)} [rule header-unexpected-column]`,
      {
        file: fileName,
        rule: 'header-unexpected-column',
        columns: extra,
      },
    );
  }
  return { contractIndex };
}

/** Validates rows; the returned array may be shared between rows: do not mutate it. */
export interface RowValidator {
  validate(row: Row): RowIssue[];
}

function append(list: RowIssue[] | undefined, issue: RowIssue): RowIssue[] {
  if (list === undefined) return [issue];
  list.push(issue);
  return list;
}

const NO_ISSUES: RowIssue[] = Object.freeze([]) as unknown as RowIssue[];

interface CompiledColumn {
  readonly fileIndex: number;
  readonly name: string;
  readonly nullable: boolean;
  readonly typeName: string;
  readonly typeOk: (v: string | number | boolean) => boolean;
  readonly numeric: boolean;
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly enumSet: ReadonlySet<string> | undefined;
  readonly minLength: number | undefined;
  readonly maxLength: number | undefined;
  readonly pattern: RegExp | undefined;
  readonly format: ((s: string) => boolean) | undefined;
  readonly formatName: string | undefined;
  readonly unique: Hash64Set | undefined;
}

const TYPE_CHECKS: Record<ColumnContract['type'], (v: string | number | boolean) => boolean> = {
  string: () => true,
  integer: (v) => (typeof v === 'number' ? Number.isInteger(v) : typeof v === 'string' && INTEGER_TEXT.test(v)),
  number: (v) => (typeof v === 'number' ? Number.isFinite(v) : typeof v === 'string' && NUMBER_TEXT.test(v)),
  boolean: (v) => typeof v === 'boolean' || (typeof v === 'string' && isBooleanText(v)),
  date: (v) => typeof v === 'string' && isDateText(v),
  datetime: (v) => typeof v === 'string' && isDateTimeText(v),
  // Typed JSON Lines scalars are JSON; text must parse (objects and arrays arrive as JSON text).
  json: (v) => typeof v !== 'string' || safeJson(v),
};

function safeJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

const FORMATS: Record<NonNullable<ColumnContract['format']>, (s: string) => boolean> = {
  email: isEmailText,
  date: isDateText,
  datetime: isDateTimeText,
  uuid: isUuidText,
};

function compileColumn(col: ColumnContract, fileIndex: number): CompiledColumn {
  let pattern: RegExp | undefined;
  if (col.pattern !== undefined) {
    const problem = patternProblem(col.pattern);
    if (problem) throw new ContractError(`column '${col.name}': pattern ${problem}`, { column: col.name, rule: 'contract-schema' });
    // The whole value must match.
    pattern = new RegExp(`^(?:${col.pattern})$`);
  }
  return {
    fileIndex,
    name: col.name,
    nullable: col.nullable,
    typeName: col.type,
    typeOk: TYPE_CHECKS[col.type],
    numeric: col.type === 'integer' || col.type === 'number',
    min: col.min,
    max: col.max,
    enumSet: col.enum ? new Set(col.enum) : undefined,
    minLength: col.minLength,
    maxLength: col.maxLength,
    pattern,
    format: col.format ? FORMATS[col.format] : undefined,
    formatName: col.format,
    unique: col.unique ? new Hash64Set() : undefined,
  };
}

/** Compiles the contract's rules for a file with these columns (extra columns are not checked). */
export function createRowValidator(contract: DatasetContract, columns: readonly string[]): RowValidator {
  const mapping = mapHeader(contract, columns);
  const compiled: CompiledColumn[] = [];
  mapping.forEach((ci, fileIndex) => {
    if (ci >= 0) compiled.push(compileColumn(contract.columns[ci] as ColumnContract, fileIndex));
  });
  const uniques = compiled.filter((c) => c.unique !== undefined);
  const hashes = new Int32Array(2 * uniques.length);
  const scratch = new Int32Array(2);

  const issue = (row: number, c: CompiledColumn, rule: string, what: string): RowIssue => ({
    row,
    column: c.name,
    rule,
    message: `row ${row}, column '${c.name}': ${what}`,
  });

  return {
    validate(row: Row): RowIssue[] {
      const n = row.rowNumber;
      if (row.issue !== undefined) return [{ row: n, rule: row.issue.rule, message: row.issue.message }];
      const cells = row.cells;
      let issues: RowIssue[] | undefined;
      for (let k = 0; k < compiled.length; k++) {
        const c = compiled[k] as CompiledColumn;
        const v: Cell | undefined = cells[c.fileIndex];
        if (v === null || v === undefined || v === '') {
          if (!c.nullable) issues = append(issues, issue(n, c, 'required', 'value is required'));
          continue;
        }
        if (!c.typeOk(v)) {
          issues = append(issues, issue(n, c, 'type', `not a valid ${c.typeName}`));
          continue;
        }
        if (c.numeric && (c.min !== undefined || c.max !== undefined)) {
          const x = typeof v === 'number' ? v : Number(v);
          if (c.min !== undefined && x < c.min) issues = append(issues, issue(n, c, 'min', `below the minimum ${c.min}`));
          else if (c.max !== undefined && x > c.max) issues = append(issues, issue(n, c, 'max', `above the maximum ${c.max}`));
        }
        const s = typeof v === 'string' ? v : String(v);
        if (c.enumSet !== undefined && !c.enumSet.has(s))
          issues = append(issues, issue(n, c, 'enum', `value not in enum (${c.enumSet.size} allowed)`));
        if (c.minLength !== undefined && s.length < c.minLength)
          issues = append(issues, issue(n, c, 'min-length', `shorter than ${c.minLength} characters`));
        if (c.maxLength !== undefined && s.length > c.maxLength)
          issues = append(issues, issue(n, c, 'max-length', `longer than ${c.maxLength} characters`));
        if (c.pattern !== undefined) {
          if (s.length > MAX_PATTERN_INPUT)
            issues = append(
              issues,
              issue(n, c, 'pattern', `longer than ${MAX_PATTERN_INPUT} characters, too long to check against the pattern`),
            );
          else if (!c.pattern.test(s)) issues = append(issues, issue(n, c, 'pattern', 'does not match the pattern'));
        }
        if (c.format !== undefined && !c.format(s)) issues = append(issues, issue(n, c, 'format', `not a valid ${c.formatName}`));
      }
      if (issues !== undefined) return issues;
      // Unique values are remembered only for rows that pass: a quarantined row does not block a later good one.
      if (uniques.length > 0) {
        let dup: CompiledColumn | undefined;
        for (let k = 0; k < uniques.length; k++) {
          const c = uniques[k] as CompiledColumn;
          const v = cells[c.fileIndex];
          if (v === null || v === undefined || v === '') {
            hashes[2 * k] = 0;
            hashes[2 * k + 1] = 0;
            continue;
          }
          hash64(typeof v === 'string' ? v : String(v), scratch);
          // (0, 0) stands for "no value" in this buffer; Hash64Set maps it the same way.
          hashes[2 * k] = scratch[0] as number;
          hashes[2 * k + 1] = scratch[0] === 0 && scratch[1] === 0 ? 1 : (scratch[1] as number);
          if ((c.unique as Hash64Set).has(hashes[2 * k] as number, hashes[2 * k + 1] as number)) {
            dup = c;
            break;
          }
        }
        if (dup !== undefined) return [issue(n, dup, 'unique', 'value repeats one in an earlier row')];
        for (let k = 0; k < uniques.length; k++) {
          const hi = hashes[2 * k] as number;
          const lo = hashes[2 * k + 1] as number;
          if (hi !== 0 || lo !== 0) ((uniques[k] as CompiledColumn).unique as Hash64Set).add(hi, lo);
        }
      }
      return NO_ISSUES;
    },
  };
}
