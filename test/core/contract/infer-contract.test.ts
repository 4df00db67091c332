import { describe, expect, it } from 'vitest';
import { inferContract } from '../../../functions/core/contract/infer-contract.ts';
import { parseContract, serializeContract } from '../../../functions/core/contract/parse-contract.ts';
import { createRowValidator } from '../../../functions/core/contract/row-validator.ts';
import { ContractError } from '../../../functions/core/errors.ts';
import type { Cell, Row } from '../../../functions/core/types.ts';

const rowsOf = (cells: Cell[][]): Row[] => cells.map((c, i) => ({ rowNumber: i + 1, cells: c }));

/** A one-column sample from a value generator. */
function column(name: string, n: number, value: (i: number) => Cell) {
  return inferContract('ds', [name], rowsOf(Array.from({ length: n }, (_, i) => [value(i)]))).columns[0];
}

describe('inferContract: types', () => {
  it.each([
    ['integers', (i: number) => String(i - 50), 'integer'],
    ['one decimal among integers makes number', (i: number) => (i === 7 ? '1.5' : String(i)), 'number'],
    ['decimals', (i: number) => `${i}.25`, 'number'],
    ['typed JSON numbers', (i: number) => i * 1.5, 'number'],
    ['typed JSON integers', (i: number) => i, 'integer'],
    ['booleans', (i: number) => (i % 2 ? 'true' : 'FALSE'), 'boolean'],
    ['dates', (i: number) => `2024-01-${String((i % 28) + 1).padStart(2, '0')}`, 'date'],
    ['datetimes', (i: number) => `2024-01-01T10:${String(i % 60).padStart(2, '0')}:00Z`, 'datetime'],
    ['json', (i: number) => `{"k":${i}}`, 'json'],
    ['text', (i: number) => `word ${i}`, 'string'],
    ['leading zeros stay strings', (i: number) => String(i).padStart(5, '0'), 'string'],
    ['long digit runs stay strings', (i: number) => `4111111111111${String(i).padStart(4, '0')}`, 'string'],
    ['1 bad value in 100 still integer (98% rule)', (i: number) => (i === 3 ? 'n/a' : String(i)), 'integer'],
    ['3 bad values in 100 is string', (i: number) => (i < 3 ? 'n/a' : String(i)), 'string'],
  ] as [string, (i: number) => Cell, string][])('%s', (_name, gen, type) => {
    expect(column('value', 100, gen)?.type).toBe(type);
  });

  it('nullable from the sample; required always; no min/max/pattern', () => {
    const c = inferContract(
      'ds',
      ['a', 'b'],
      rowsOf([
        ['1', ''],
        ['2', 'x'],
      ]),
    );
    expect(c.columns.map((x) => [x.name, x.nullable, x.required])).toEqual([
      ['a', false, true],
      ['b', true, true],
    ]);
    for (const col of c.columns) {
      expect(col.min).toBeUndefined();
      expect(col.max).toBeUndefined();
      expect(col.pattern).toBeUndefined();
    }
    expect(c.allowExtraColumns).toBe(false);
    expect(c.maxInvalidRowShare).toBe(0.05);
  });

  it('an empty sample gives nullable strings', () => {
    expect(inferContract('ds', ['a'], []).columns[0]).toMatchObject({ type: 'string', nullable: true });
  });

  it('rows with decoding issues are ignored', () => {
    const sample: Row[] = [
      ...rowsOf([['1'], ['2']]),
      { rowNumber: 3, cells: ['x', 'y'], issue: { rule: 'field-count', message: 'm' }, raw: 'x,y' },
    ];
    expect(inferContract('ds', ['a'], sample).columns[0]?.type).toBe('integer');
  });

  it('an invalid dataset name is a ContractError', () => {
    expect(() => inferContract('Bad Name', ['a'], [])).toThrow(ContractError);
  });

  it('the inferred contract accepts its own sample and survives serialisation', () => {
    const sample = rowsOf(
      Array.from({ length: 300 }, (_, i) => [
        String(i),
        ['gold', 'silver', 'bronze'][i % 3] as string,
        i % 10 ? `${i}.5` : '',
        `2024-02-${String((i % 28) + 1).padStart(2, '0')}`,
      ]),
    );
    const contract = inferContract('orders', ['order_id', 'tier', 'amount', 'day'], sample);
    const v = createRowValidator(contract, ['order_id', 'tier', 'amount', 'day']);
    expect(sample.flatMap((r) => v.validate(r))).toEqual([]);
    expect(parseContract(serializeContract(contract), 'inferred')).toEqual(contract);
  });
});

describe('inferContract: enums never carry personal data', () => {
  const categorical = (i: number) => ['active', 'churned', 'pending'][i % 3] as string;

  it('a categorical column with enough rows gets a sorted enum', () => {
    expect(column('status', 200, categorical)?.enum).toEqual(['active', 'churned', 'pending']);
  });

  it.each([
    ['too few rows', 'status', 199, categorical],
    ['13 distinct values', 'status', 300, (i: number) => `s${i % 13}`],
    ['a value seen only twice', 'status', 300, (i: number) => (i < 2 ? 'rare' : categorical(i))],
    ['header says email', 'email', 300, (i: number) => ['a@x.io', 'b@x.io'][i % 2] as string],
    ['header says customer name', 'customerName', 300, (i: number) => ['Ann', 'Bob'][i % 2] as string],
    ['header says first_name', 'first_name', 300, (i: number) => ['Ann', 'Bob'][i % 2] as string],
    ['header is an id', 'user_id', 300, (i: number) => ['u1', 'u2'][i % 2] as string],
    ['header says phone', 'PhoneNumber', 300, (i: number) => ['a', 'b'][i % 2] as string],
    ['values hold @', 'contact_kind', 300, (i: number) => ['x@y', 'z'][i % 2] as string],
    ['values hold digit runs', 'tier', 300, (i: number) => ['A-12345', 'B'][i % 2] as string],
    ['values look like tokens', 'tier', 300, (i: number) => ['abcdefghijklmnopqrstu', 'B'][i % 2] as string],
  ] as [string, string, number, (i: number) => Cell][])('no enum: %s', (_name, header, n, gen) => {
    expect(column(header, n, gen)?.enum).toBeUndefined();
  });
});
