import { describe, expect, it } from 'vitest';
import { contractHash, hasNestedQuantifier, parseContract, serializeContract } from '../../../functions/core/contract/parse-contract.ts';
import { ContractError } from '../../../functions/core/errors.ts';

const YAML_CONTRACT = `
dataset: customers
columns:
  - name: customer_id
    type: string
    unique: true
    pattern: "C[0-9]{6}"
  - name: age
    type: integer
    min: 0
    max: 130
  - name: status
    enum: [active, churned]
  - name: email
    format: email
    privacy: { entity: EMAIL_ADDRESS, operator: token }
subjectKey: customer_id
`;

function contractError(text: string, source = 'customers.contract.yaml'): ContractError {
  try {
    parseContract(text, source);
  } catch (err) {
    expect(err).toBeInstanceOf(ContractError);
    return err as ContractError;
  }
  throw new Error('expected a ContractError');
}

describe('parseContract', () => {
  it('reads YAML and applies defaults', () => {
    const c = parseContract(YAML_CONTRACT, 'customers.contract.yaml');
    expect(c.dataset).toBe('customers');
    expect(c.version).toBe(1);
    expect(c.allowExtraColumns).toBe(false);
    expect(c.maxInvalidRowShare).toBe(0.05);
    expect(c.columns[2]).toMatchObject({
      name: 'status',
      type: 'string',
      required: true,
      nullable: true,
      unique: false,
      enum: ['active', 'churned'],
    });
    expect(c.columns[3]?.privacy).toEqual({ entity: 'EMAIL_ADDRESS', operator: 'token' });
  });

  it('reads JSON', () => {
    const c = parseContract(JSON.stringify({ dataset: 'orders', columns: [{ name: 'id', type: 'integer' }] }), 'orders.contract.json');
    expect(c.columns[0]?.type).toBe('integer');
  });

  it('names the source and each bad path', () => {
    const e = contractError(`
dataset: customers
columns:
  - name: id
  - name: age
    type: int
  - name: status
    nullable: maybe
    colour: red
`);
    const lines = e.message.split('\n');
    expect(lines.every((l) => l.startsWith('customers.contract.yaml: '))).toBe(true);
    expect(e.message).toContain('customers.contract.yaml: columns.1.type: Invalid option');
    expect(e.message).toContain('columns.2.nullable');
    expect(e.message).toContain('columns.2');
    expect(e.message).toMatch(/colour/);
    expect(e.context.file).toBe('customers.contract.yaml');
  });

  it.each([
    ['dataset: Bad Name\ncolumns: [{name: a}]', 'dataset'],
    ['dataset: x\ncolumns: []', 'columns'],
    ['dataset: x\ncolumns: [{name: a}, {name: a}]', 'columns.1.name'],
    ['dataset: x\ncolumns: [{name: a}]\nsubjectKey: b', 'subjectKey'],
    ['dataset: x\ncolumns: [{name: a, type: integer, min: 5, max: 1}]', 'columns.0.min: greater than max'],
    ['dataset: x\ncolumns: [{name: a, minLength: 5, maxLength: 1}]', 'columns.0.minLength: greater than maxLength'],
    ['dataset: x\ncolumns: [{name: a, type: string, min: 1}]', 'columns.0.min: only integer and number'],
    ['dataset: x\ncolumns: [{name: a, pattern: "(unclosed"}]', 'columns.0.pattern: not a valid regular expression'],
    ['dataset: x\ncolumns: [{name: a, pattern: "(a+)+$"}]', 'columns.0.pattern: nested quantifiers'],
    ['dataset: x\ncolumns: [{name: a, enum: []}]', 'columns.0.enum: empty list'],
  ])('rejects %j at %s', (text, path) => {
    const e = contractError(text, 'x.contract.yaml');
    expect(e.message).toContain(`x.contract.yaml: ${path}`);
  });

  it.each([
    ['dataset: x\ncolumns: [{name: a}', 'not valid YAML or JSON'],
    ['dataset: x\ndataset: y\ncolumns: [{name: a}]', 'not valid YAML or JSON'],
    ['- just\n- a list', 'a contract is a mapping'],
    ['', 'a contract is a mapping'],
  ])('syntax: %j', (text, what) => {
    const e = contractError(text, 'x.yaml');
    expect(e.message).toMatch(/^x\.yaml: /);
    expect(e.message).toContain(what);
  });

  it('accepts near misses: min equal to max, minLength equal to maxLength, a safe quantified group', () => {
    const c = parseContract(
      'dataset: x\ncolumns: [{name: a, type: number, min: 1, max: 1, pattern: "(ab)+"}, {name: b, minLength: 2, maxLength: 2}]',
      'x',
    );
    expect(c.columns).toHaveLength(2);
  });
});

describe('hasNestedQuantifier', () => {
  it.each([
    ['(a+)+', true],
    ['(a*)*', true],
    ['(\\d+)*$', true],
    ['((ab)+)+', true],
    ['(?:a|b+){2,}', true],
    ['(a{1,3})+', true],
    ['(?<x>a+)+', true],
    ['(a+)', false],
    ['(ab)+', false],
    ['[a+]+', false],
    ['\\(a+\\)+', false],
    ['(a{1})+', false],
    ['(a+)?', false],
    ['C[0-9]{6}', false],
    ['^[^@]+@[^@]+$', false],
    ['(?=a+)b', false],
  ])('%s -> %s', (pattern, nested) => {
    expect(hasNestedQuantifier(pattern)).toBe(nested);
  });
});

describe('contractHash and serializeContract', () => {
  it('hash ignores key order and layout, changes with content', () => {
    const a = parseContract(YAML_CONTRACT, 'a');
    const b = parseContract(
      JSON.stringify({ subjectKey: 'customer_id', columns: JSON.parse(JSON.stringify(a.columns)), dataset: 'customers' }),
      'b',
    );
    expect(contractHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(contractHash(b)).toBe(contractHash(a));
    const c = parseContract(YAML_CONTRACT.replace('max: 130', 'max: 131'), 'c');
    expect(contractHash(c)).not.toBe(contractHash(a));
  });

  it('serialised YAML parses back to an equal contract', () => {
    const a = parseContract(YAML_CONTRACT, 'a');
    const text = serializeContract(a);
    expect(text).toMatch(/^# Dataset contract for 'customers'/);
    expect(text.indexOf('dataset:')).toBeLessThan(text.indexOf('columns:'));
    expect(parseContract(text, 'again')).toEqual(a);
  });
});
