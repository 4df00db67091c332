import { describe, expect, it } from 'vitest';
import { checkHeaderNames } from '../../../functions/core/detect/check-header-names.ts';
import { InvalidFileError } from '../../../functions/core/errors.ts';

const NAMES = [
  'customer_id',
  'email',
  'email_address',
  'E-Mail',
  'phone',
  'phone_number',
  'Tel.',
  'iban',
  'card_number',
  'ip_address',
  'IP',
  'ssn',
  'Name',
  'Mark',
  'Will',
  '2024',
  'Q1 2024',
  '2024-01-01',
  'amount_eur',
  'col_123456789',
  'order #4521',
  'v1.2.3.4',
  'version 2.0.1',
  'aws_access_key_id',
  'api_key',
  'MAC address',
  '@handle',
  'price (€)',
  'zip 90210',
  'phone_2',
  'contact +44',
];

const VALUES: [string, string][] = [
  ['alice@example.com', 'EMAIL_ADDRESS'],
  ['+44 7700 900123', 'PHONE_NUMBER'],
  ['020 7946 0958', 'PHONE_NUMBER'],
  ['4111 1111 1111 1111', 'CREDIT_CARD'],
  ['GB82 WEST 1234 5698 7654 32', 'IBAN_CODE'],
  ['192.168.0.1', 'IP_ADDRESS'],
  ['AB123456C', 'UK_NINO'],
  ['00:1A:2B:3C:4D:5E', 'MAC_ADDRESS'],
  ['AKIAIOSFODNN7EXAMPLE', 'AWS_ACCESS_KEY'],
];

describe('checkHeaderNames', () => {
  it('accepts real column names, including near misses with digits, dots and @', () => {
    expect(() => checkHeaderNames(NAMES, 'f.csv')).not.toThrow();
  });

  it.each(VALUES)('rejects a header holding %s (%s) by position and entity, without echoing it', (value, entity) => {
    let error: unknown;
    try {
      checkHeaderNames(['id', value, 'segment'], 'in/f.csv');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidFileError);
    const e = error as InvalidFileError;
    expect(e.context).toMatchObject({ file: 'in/f.csv', rule: 'header-looks-like-data', columnIndex: 2, entity });
    expect(e.message).toContain('in/f.csv');
    expect(e.message).toContain('header column 2');
    expect(e.message).not.toContain(value);
    expect(JSON.stringify(e.context)).not.toContain(value);
  });

  it('rejects a name too long to be one (a free-text first record)', () => {
    expect(() => checkHeaderNames(['id', 'x'.repeat(1025)], 'f.csv')).toThrow(/header column 2 is longer than 1024/);
    expect(() => checkHeaderNames(['id', 'x'.repeat(1024)], 'f.csv')).not.toThrow();
  });
});
