import { describe, expect, it } from 'vitest';
import type { DatasetContractInput } from '../../../functions/core/contract/contract-schema.ts';
import { datasetContractSchema } from '../../../functions/core/contract/contract-schema.ts';
import { checkHeader, createRowValidator } from '../../../functions/core/contract/row-validator.ts';
import { ContractError, InvalidFileError } from '../../../functions/core/errors.ts';
import type { Cell, Row } from '../../../functions/core/types.ts';

const contractOf = (input: DatasetContractInput) => datasetContractSchema.parse(input);

/** Validates one value of a one-column contract; returns the rule ids raised. */
function rulesFor(column: DatasetContractInput['columns'][number], value: Cell): string[] {
  const v = createRowValidator(contractOf({ dataset: 't', columns: [column] }), [column.name]);
  return v.validate({ rowNumber: 1, cells: [value] }).map((i) => i.rule);
}

describe('row validator rules, each with near misses', () => {
  it.each([
    // required (nullable false): empty string and null are empty
    [{ name: 'c', nullable: false }, '', ['required']],
    [{ name: 'c', nullable: false }, null, ['required']],
    [{ name: 'c', nullable: false }, ' ', []],
    [{ name: 'c', nullable: false }, 0, []],
    [{ name: 'c', nullable: true, type: 'integer' }, '', []],
    // type
    [{ name: 'c', type: 'integer' }, '42', []],
    [{ name: 'c', type: 'integer' }, '-7', []],
    [{ name: 'c', type: 'integer' }, '007', []],
    [{ name: 'c', type: 'integer' }, '4.2', ['type']],
    [{ name: 'c', type: 'integer' }, '4 2', ['type']],
    [{ name: 'c', type: 'integer' }, 42, []],
    [{ name: 'c', type: 'integer' }, 4.5, ['type']],
    [{ name: 'c', type: 'number' }, '4.5e3', []],
    [{ name: 'c', type: 'number' }, '.5', []],
    [{ name: 'c', type: 'number' }, '1,5', ['type']],
    [{ name: 'c', type: 'number' }, 'NaN', ['type']],
    [{ name: 'c', type: 'boolean' }, 'TRUE', []],
    [{ name: 'c', type: 'boolean' }, false, []],
    [{ name: 'c', type: 'boolean' }, 'yes', ['type']],
    [{ name: 'c', type: 'boolean' }, '1', ['type']],
    [{ name: 'c', type: 'date' }, '2024-02-29', []],
    [{ name: 'c', type: 'date' }, '2023-02-29', ['type']],
    [{ name: 'c', type: 'date' }, '2024-13-01', ['type']],
    [{ name: 'c', type: 'date' }, '2024-1-01', ['type']],
    [{ name: 'c', type: 'datetime' }, '2024-05-01T10:30:00Z', []],
    [{ name: 'c', type: 'datetime' }, '2024-05-01 10:30', []],
    [{ name: 'c', type: 'datetime' }, '2024-05-01T10:30:00.123+02:00', []],
    [{ name: 'c', type: 'datetime' }, '2024-05-01T24:00:00Z', ['type']],
    [{ name: 'c', type: 'datetime' }, '2024-05-01', ['type']],
    [{ name: 'c', type: 'json' }, '{"a":[1]}', []],
    [{ name: 'c', type: 'json' }, '{"a":', ['type']],
    [{ name: 'c', type: 'json' }, 3, []],
    // enum
    [{ name: 'c', enum: ['a', 'b', 'c'] }, 'b', []],
    [{ name: 'c', enum: ['a', 'b', 'c'] }, 'B', ['enum']],
    [{ name: 'c', enum: ['a', 'b', 'c'] }, 'b ', ['enum']],
    [{ name: 'c', type: 'integer', enum: ['1', '2'] }, 2, []],
    // min / max, bounds inclusive
    [{ name: 'c', type: 'integer', min: 0, max: 10 }, '0', []],
    [{ name: 'c', type: 'integer', min: 0, max: 10 }, '10', []],
    [{ name: 'c', type: 'integer', min: 0, max: 10 }, '-1', ['min']],
    [{ name: 'c', type: 'integer', min: 0, max: 10 }, '11', ['max']],
    [{ name: 'c', type: 'number', max: 1.5 }, 1.5000001, ['max']],
    // lengths
    [{ name: 'c', minLength: 2, maxLength: 4 }, 'ab', []],
    [{ name: 'c', minLength: 2, maxLength: 4 }, 'abcd', []],
    [{ name: 'c', minLength: 2, maxLength: 4 }, 'a', ['min-length']],
    [{ name: 'c', minLength: 2, maxLength: 4 }, 'abcde', ['max-length']],
    // pattern: the whole value must match
    [{ name: 'c', pattern: 'C[0-9]{3}' }, 'C123', []],
    [{ name: 'c', pattern: 'C[0-9]{3}' }, 'C1234', ['pattern']],
    [{ name: 'c', pattern: 'C[0-9]{3}' }, 'xC123', ['pattern']],
    [{ name: 'c', pattern: 'a|b' }, 'ab', ['pattern']],
    [{ name: 'c', pattern: 'a|b' }, 'b', []],
    // format
    [{ name: 'c', format: 'email' }, 'ann@example.com', []],
    [{ name: 'c', format: 'email' }, 'ann@example', ['format']],
    [{ name: 'c', format: 'email' }, 'ann example@x.com', ['format']],
    [{ name: 'c', format: 'uuid' }, '123e4567-e89b-12d3-a456-426614174000', []],
    [{ name: 'c', format: 'uuid' }, '123e4567-e89b-12d3-a456-42661417400', ['format']],
    [{ name: 'c', format: 'date' }, '2024-04-31', ['format']],
    // several rules at once
    [{ name: 'c', minLength: 5, pattern: '[a-z]+' }, 'AB', ['min-length', 'pattern']],
  ] as [DatasetContractInput['columns'][number], Cell, string[]][])('%j with %j -> %j', (column, value, rules) => {
    expect(rulesFor(column, value)).toEqual(rules);
  });

  it('messages name row, column and rule but never the value', () => {
    const contract = contractOf({
      dataset: 't',
      columns: [
        { name: 'status', enum: ['active', 'churned', 'pending'] },
        { name: 'email', format: 'email', nullable: false },
        { name: 'age', type: 'integer', max: 120 },
        { name: 'code', pattern: '[A-Z]{3}' },
      ],
    });
    const v = createRowValidator(contract, ['status', 'email', 'age', 'code']);
    const issues = v.validate({ rowNumber: 17, cells: ['secret-status', 'secret@nowhere', '999', 'secret'] });
    expect(issues.map((i) => i.message)).toEqual([
      "row 17, column 'status': value not in enum (3 allowed)",
      "row 17, column 'email': not a valid email",
      "row 17, column 'age': above the maximum 120",
      "row 17, column 'code': does not match the pattern",
    ]);
    expect(issues.map((i) => i.column)).toEqual(['status', 'email', 'age', 'code']);
    for (const i of issues) expect(i.message).not.toMatch(/secret|999/);
  });

  it('row decoding issues pass through unchanged', () => {
    const v = createRowValidator(contractOf({ dataset: 't', columns: [{ name: 'a' }] }), ['a']);
    const row: Row = {
      rowNumber: 3,
      cells: ['1', '2'],
      issue: { rule: 'field-count', message: 'row 3 has 2 fields, header has 1' },
      raw: '1,2',
    };
    expect(v.validate(row)).toEqual([{ row: 3, rule: 'field-count', message: 'row 3 has 2 fields, header has 1' }]);
  });

  it('unique: repeats are flagged, empties ignored, quarantined rows do not count', () => {
    const contract = contractOf({
      dataset: 't',
      columns: [
        { name: 'id', unique: true },
        { name: 'n', type: 'integer' },
      ],
    });
    const v = createRowValidator(contract, ['id', 'n']);
    const rules = (cells: Cell[], rowNumber: number) => v.validate({ rowNumber, cells }).map((i) => i.rule);
    expect(rules(['a', '1'], 1)).toEqual([]);
    expect(rules(['b', '1'], 2)).toEqual([]);
    expect(rules(['a', '1'], 3)).toEqual(['unique']);
    expect(rules(['', '1'], 4)).toEqual([]);
    expect(rules(['', '1'], 5)).toEqual([]);
    expect(rules(['c', 'x'], 6)).toEqual(['type']); // quarantined: 'c' is not remembered
    expect(rules(['c', '2'], 7)).toEqual([]);
    expect(rules(['A', '2'], 8)).toEqual([]);
    expect(rules([1, '2'], 9)).toEqual([]);
    expect(rules(['1', '2'], 10)).toEqual(['unique']);
  });

  it('unique holds over 200k distinct values without false repeats', () => {
    const v = createRowValidator(contractOf({ dataset: 't', columns: [{ name: 'id', unique: true }] }), ['id']);
    let flagged = 0;
    for (let i = 0; i < 200_000; i++) flagged += v.validate({ rowNumber: i + 1, cells: [`C${i}`] }).length;
    expect(flagged).toBe(0);
    expect(v.validate({ rowNumber: 200_001, cells: ['C123456'] }).map((i) => i.rule)).toEqual(['unique']);
  });

  it('maps by name: file order and extra columns do not matter', () => {
    const contract = contractOf({
      dataset: 't',
      columns: [
        { name: 'a', type: 'integer' },
        { name: 'b', type: 'boolean' },
      ],
      allowExtraColumns: true,
    });
    const v = createRowValidator(contract, ['x', 'b', 'a']);
    expect(v.validate({ rowNumber: 1, cells: ['anything', 'true', '5'] })).toEqual([]);
    expect(v.validate({ rowNumber: 2, cells: ['anything', '5', 'true'] }).map((i) => i.column)).toEqual(['b', 'a']);
  });

  it('a catastrophic pattern in a hand-built contract is refused at compile time', () => {
    const contract = contractOf({ dataset: 't', columns: [{ name: 'a', pattern: '(a+)+b' }] });
    expect(() => createRowValidator(contract, ['a'])).toThrow(ContractError);
  });
});

describe('checkHeader', () => {
  const contract = contractOf({
    dataset: 't',
    columns: [{ name: 'id' }, { name: 'email' }, { name: 'nickname', required: false }],
  });

  it('maps file columns to contract columns', () => {
    expect(checkHeader(contract, ['email', 'id'], 'f.csv').contractIndex).toEqual([1, 0]);
    expect(checkHeader(contract, ['id', 'email', 'nickname'], 'f.csv').contractIndex).toEqual([0, 1, 2]);
  });

  it.each([
    [['id'], 'header-missing-column', "'email'"],
    [['id', 'email', 'phone'], 'header-unexpected-column', "'phone'"],
    [['ID', 'email'], 'header-missing-column', "'id'"],
  ])('%j -> %s', (columns, rule, named) => {
    try {
      checkHeader(contract, columns, 'in/f.csv');
      throw new Error('expected a throw');
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidFileError);
      const e = err as InvalidFileError;
      expect(e.context.rule).toBe(rule);
      expect(e.message).toContain('in/f.csv');
      expect(e.message).toContain(named);
      expect(e.message).toContain(rule);
    }
  });

  it('extra columns pass when the contract allows them', () => {
    expect(checkHeader({ ...contract, allowExtraColumns: true }, ['id', 'email', 'phone'], 'f.csv').contractIndex).toEqual([0, 1, -1]);
  });
});
