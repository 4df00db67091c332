import { describe, expect, it } from 'vitest';
import { ContractError } from '../../../functions/core/errors.ts';
import { DEFAULT_POLICY, operatorFor, parsePolicy, policyHash } from '../../../functions/core/pseudonymise/policy.ts';

describe('policy', () => {
  it('default: identifiers tokenised, credentials redacted, birth dates to the year, quasi-identifiers kept', () => {
    expect(operatorFor(DEFAULT_POLICY, 'EMAIL_ADDRESS').operator).toBe('token');
    expect(operatorFor(DEFAULT_POLICY, 'AWS_SECRET_KEY').operator).toBe('redact');
    expect(operatorFor(DEFAULT_POLICY, 'DATE_OF_BIRTH')).toEqual({ operator: 'generalize', options: { to: 'year' } });
    expect(operatorFor(DEFAULT_POLICY, 'COUNTRY').operator).toBe('keep');
    expect(Object.isFrozen(DEFAULT_POLICY.entities)).toBe(true);
  });

  it('parses YAML and merges over the defaults', () => {
    const p = parsePolicy(
      'version: "2026-12-01.1"\nentities:\n  EMAIL_ADDRESS: { operator: encrypt }\n  CREDIT_CARD: { operator: mask, options: { keepLast: 4 } }\ntokenLength: 24\n',
      'policy.yaml',
    );
    expect(p.version).toBe('2026-12-01.1');
    expect(operatorFor(p, 'EMAIL_ADDRESS').operator).toBe('encrypt');
    expect(operatorFor(p, 'CREDIT_CARD')).toEqual({ operator: 'mask', options: { keepLast: 4 } });
    expect(operatorFor(p, 'PHONE_NUMBER').operator).toBe('token');
    expect(p.tokenLength).toBe(24);
    expect(p.minSpanScore).toBe(DEFAULT_POLICY.minSpanScore);
  });

  it('parses JSON', () => {
    expect(parsePolicy('{"version":"1","default":{"operator":"redact"}}', 'p.json').default.operator).toBe('redact');
  });

  it.each([
    ['not YAML', 'version: [1, 2'],
    ['no version', 'entities: {}'],
    ['unknown entity', 'version: "1"\nentities:\n  SHOE_SIZE: { operator: keep }'],
    ['unknown operator', 'version: "1"\nentities:\n  EMAIL_ADDRESS: { operator: shred }'],
    ['bad options', 'version: "1"\nentities:\n  CREDIT_CARD: { operator: mask, options: { keepLast: -1 } }'],
    ['unknown key', 'version: "1"\ncolour: blue'],
    ['token length out of range', 'version: "1"\ntokenLength: 4'],
  ])('rejects %s with ContractError', (_n, text) => {
    expect(() => parsePolicy(text, 'bad.yaml')).toThrow(ContractError);
  });

  it('hashes canonically: key order does not matter, content does', () => {
    const a = parsePolicy('{"version":"1","tokenLength":20,"minSpanScore":0.6}', 'a');
    const b = parsePolicy('{"minSpanScore":0.6,"tokenLength":20,"version":"1"}', 'b');
    expect(policyHash(a)).toBe(policyHash(b));
    expect(policyHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(policyHash(a)).not.toBe(policyHash(DEFAULT_POLICY));
  });
});
