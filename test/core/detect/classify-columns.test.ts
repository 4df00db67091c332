import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { datasetContractSchema } from '../../../functions/core/contract/contract-schema.ts';
import { type ColumnSample, classifyColumns } from '../../../functions/core/detect/classify-columns.ts';
import { headerHint } from '../../../functions/core/detect/header-synonyms.ts';
import { DEFAULT_POLICY } from '../../../functions/core/pseudonymise/policy.ts';

const csv = readFileSync(fileURLToPath(new URL('../../fixtures/detect/customers.csv', import.meta.url)), 'utf8');
const rows = Papa.parse<string[]>(csv.trim()).data;
const header = rows[0] as string[];
const samples: ColumnSample[] = header.map((name, i) => ({
  name,
  values: rows
    .slice(1)
    .map((r) => r[i] ?? '')
    .filter((v) => v !== ''),
}));
const plan = classifyColumns(samples, { policy: DEFAULT_POLICY, defaultRegion: 'GB' });
const decision = (column: string) => plan.find((d) => d.column === column);

describe('column classification', () => {
  it('keeps one decision per column, in order', () => {
    expect(plan.map((d) => d.column)).toEqual(header);
  });

  it.each([
    ['customer_id', 'SUBJECT_ID', 'token', true],
    ['full_name', 'PERSON', 'token', true],
    ['email', 'EMAIL_ADDRESS', 'token', true],
    ['contact', 'PHONE_NUMBER', 'token', true],
    ['ref_code', 'IBAN_CODE', 'token', true],
    ['col_7', 'CREDIT_CARD', 'token', true],
    ['date_of_birth', 'DATE_OF_BIRTH', 'generalize', false],
    ['zip', 'POSTCODE', 'generalize', false],
    ['age', 'AGE', 'generalize', false],
    ['country', 'COUNTRY', 'keep', false],
    ['notes', 'FREE_TEXT', 'keep', false],
  ] as const)('%s → %s (%s)', (column, entity, operator, subject) => {
    const d = decision(column);
    expect(d?.entity).toBe(entity);
    expect(d?.operator).toBe(operator);
    expect(d?.identifiesSubject).toBe(subject);
    expect(d?.confidence).toBeGreaterThanOrEqual(DEFAULT_POLICY.minColumnConfidence);
  });

  it.each(['email_opt_in', 'signup_date', 'product_sku', 'order_number', 'amount', 'status'])('look-alike %s stays untouched', (column) => {
    const d = decision(column);
    expect(d?.entity).toBeNull();
    expect(d?.operator).toBe('keep');
    expect(d?.freeText).toBe(false);
  });

  it('classifies header-less columns from content', () => {
    expect(decision('contact')?.source).toBe('content');
    expect(decision('col_7')?.source).toBe('content');
  });

  it('lets the contract override and names the subject key', () => {
    const contract = datasetContractSchema.parse({
      dataset: 'customers',
      subjectKey: 'email',
      columns: [
        ...header.map((name) => ({ name })).filter((c) => c.name !== 'status' && c.name !== 'col_7' && c.name !== 'notes'),
        { name: 'status', privacy: { entity: 'SUBJECT_ID', operator: 'encrypt' } },
        { name: 'col_7', privacy: { operator: 'mask', options: { keepLast: 4 } } },
        { name: 'notes', privacy: { operator: 'drop' } },
      ],
    });
    const withContract = classifyColumns(samples, { policy: DEFAULT_POLICY, contract });
    const d = (c: string) => withContract.find((x) => x.column === c);
    expect(d('email')).toMatchObject({ entity: 'EMAIL_ADDRESS', identifiesSubject: true, source: 'contract' });
    expect(d('status')).toMatchObject({ entity: 'SUBJECT_ID', operator: 'encrypt', source: 'contract' });
    expect(d('col_7')).toMatchObject({ entity: 'CREDIT_CARD', operator: 'mask', options: { keepLast: 4 } });
    expect(d('notes')?.operator).toBe('drop');
    expect(d('amount')?.entity).toBeNull();
  });

  it('marks a subject key without a PII entity as SUBJECT_ID', () => {
    const contract = datasetContractSchema.parse({
      dataset: 'orders',
      subjectKey: 'order_number',
      columns: header.map((name) => ({ name })),
    });
    expect(classifyColumns(samples, { policy: DEFAULT_POLICY, contract }).find((d) => d.column === 'order_number')).toMatchObject({
      entity: 'SUBJECT_ID',
      identifiesSubject: true,
      operator: 'token',
    });
  });

  it('falls back to the header when no values were sampled', () => {
    expect(classifyColumns([{ name: 'e_mail', values: [] }], { policy: DEFAULT_POLICY })[0]?.entity).toBe('EMAIL_ADDRESS');
    expect(classifyColumns([{ name: 'col_9', values: [] }], { policy: DEFAULT_POLICY })[0]?.entity).toBeNull();
  });
});

describe('header synonyms', () => {
  it.each([
    ['E-Mail', 'EMAIL_ADDRESS'],
    ['correo_electronico', 'EMAIL_ADDRESS'],
    ['courriel', 'EMAIL_ADDRESS'],
    ['Telefonnummer', 'PHONE_NUMBER'],
    ['téléphone', 'PHONE_NUMBER'],
    ['telefono_cellulare', 'PHONE_NUMBER'],
    ['nombre', 'PERSON'],
    ['Nachname', 'PERSON'],
    ['cognome', 'PERSON'],
    ['Kundennummer', 'SUBJECT_ID'],
    ['member_no', 'SUBJECT_ID'],
    ['patient_id', 'SUBJECT_ID'],
    ['employeeId', 'SUBJECT_ID'],
    ['account_number', 'SUBJECT_ID'],
    ['numero_cliente', 'SUBJECT_ID'],
    ['geburtsdatum', 'DATE_OF_BIRTH'],
    ['fecha_nacimiento', 'DATE_OF_BIRTH'],
    ['PLZ', 'POSTCODE'],
    ['codice_fiscale', 'IT_FISCAL_CODE'],
    ['iban', 'IBAN_CODE'],
    ['api_key', 'API_TOKEN'],
  ])('%s → %s', (header, entity) => {
    expect(headerHint(header)?.entity).toBe(entity);
  });

  it.each([
    'email_opt_in',
    'signup_date',
    'product_sku',
    'order_id',
    'product_name',
    'company_name',
    'email_verified',
    'phone_type',
    'ref_code',
    'col_7',
  ])('%s names no PII', (header) => {
    expect(headerHint(header)).toBeUndefined();
  });
});
