import { describe, expect, it } from 'vitest';
import { inferQuasiIdentifiers, KAnonymityCounter } from '../../../functions/core/detect/k-anonymity.ts';
import type { Cell, ColumnDecision } from '../../../functions/core/types.ts';

const columns = ['id', 'dob', 'zip', 'gender', 'amount'];
const plan: ColumnDecision[] = [
  { column: 'id', entity: 'SUBJECT_ID', operator: 'token', confidence: 1, source: 'header', freeText: false, identifiesSubject: true },
  {
    column: 'dob',
    entity: 'DATE_OF_BIRTH',
    operator: 'generalize',
    options: { to: 'year' },
    confidence: 1,
    source: 'header',
    freeText: false,
    identifiesSubject: false,
  },
  {
    column: 'zip',
    entity: 'POSTCODE',
    operator: 'generalize',
    options: { prefix: 3 },
    confidence: 1,
    source: 'header',
    freeText: false,
    identifiesSubject: false,
  },
  { column: 'gender', entity: 'GENDER', operator: 'keep', confidence: 1, source: 'header', freeText: false, identifiesSubject: false },
  { column: 'amount', entity: null, operator: 'keep', confidence: 1, source: 'default', freeText: false, identifiesSubject: false },
];
const rows: Cell[][] = [
  ['a', '1985-01-02', 'SW1A 1AA', 'F', 1],
  ['b', '1985-07-30', 'SW1A 2BB', 'F', 2], // same class as a after generalisation (1985, SW1, F)
  ['c', '1985-12-31', 'SW1P 3CC', 'F', 3], // SW1 as well
  ['d', '1990-05-05', 'M1 1AE', 'M', 4],
  ['e', '1990-06-06', 'M1 1BB', 'M', 5], // same class as d (1990, M11, M)
  ['f', '1972-03-03', 'EC1A 1BB', 'X', 6], // alone
];

describe('k-anonymity', () => {
  it('infers the quasi-identifiers of a plan', () => {
    expect(inferQuasiIdentifiers(plan)).toEqual(['dob', 'zip', 'gender']);
    expect(inferQuasiIdentifiers([{ ...plan[1]!, operator: 'drop' }])).toEqual([]);
  });

  it("counts classes after the plan's generalisation", () => {
    const k = new KAnonymityCounter(columns, ['dob', 'zip', 'gender'], plan);
    for (const r of rows) k.add(r);
    expect(k.report(3, 'report')).toEqual({
      quasiIdentifiers: ['dob', 'zip', 'gender'],
      k: 3,
      smallestClass: 1,
      rowsBelowK: 3,
      shareBelowK: 0.5,
      classes: 3,
      action: 'report',
    });
    expect(k.classSizeOf(rows[0]!)).toBe(3);
  });

  it('without a plan, generalises QI columns recognised by header as the default policy does', () => {
    const k = new KAnonymityCounter(['date_of_birth', 'postcode'], ['date_of_birth', 'postcode']);
    k.add(['1985-01-02', 'SW1A 1AA']);
    k.add(['1985-09-09', 'SW1P 9ZZ']);
    expect(k.report(2, 'report').smallestClass).toBe(2);
  });

  it('merges chunks and round-trips its state without raw values', () => {
    const a = new KAnonymityCounter(columns, ['dob', 'zip', 'gender'], plan);
    const b = new KAnonymityCounter(columns, ['dob', 'zip', 'gender'], plan);
    for (const r of rows.slice(0, 3)) a.add(r);
    for (const r of rows.slice(3)) b.add(r);
    const restored = KAnonymityCounter.fromState(columns, JSON.parse(JSON.stringify(b.toState())), plan);
    a.merge(restored);
    expect(a.report(2, 'suppress')).toMatchObject({ smallestClass: 1, rowsBelowK: 1, classes: 3, action: 'suppress' });
    const state = JSON.stringify(a.toState());
    for (const v of ['1985', 'SW1', 'M1 1AE']) expect(state).not.toContain(v);
  });

  it('reports an empty file', () => {
    expect(new KAnonymityCounter(columns, ['dob'], plan).report(5, 'report')).toMatchObject({
      smallestClass: 0,
      rowsBelowK: 0,
      shareBelowK: 0,
      classes: 0,
    });
  });
});

describe('KAnonymityCounter memory bound', () => {
  it('caps the classes it holds and counts the rest as classes of one (never less risk)', () => {
    const columns = ['postcode', 'age'];
    const capped = new KAnonymityCounter(columns, ['postcode', 'age'], undefined, 10);
    const full = new KAnonymityCounter(columns, ['postcode', 'age'], undefined, 1000);
    for (let i = 0; i < 200; i++) {
      const row = [`P${i % 40}`, String(20 + (i % 40) * 2)];
      capped.add(row);
      full.add(row);
    }
    const a = capped.report(5, 'report');
    const b = full.report(5, 'report');
    expect(b).toMatchObject({ classes: 40, rowsBelowK: 0, smallestClass: 5 });
    expect(a.classes).toBeGreaterThanOrEqual(b.classes);
    expect(a.rowsBelowK).toBeGreaterThan(b.rowsBelowK);
    expect(a.smallestClass).toBe(1);
    // Merged states keep the bound and the conservative count.
    const other = new KAnonymityCounter(columns, ['postcode', 'age'], undefined, 10);
    other.add(['P1', '22']);
    capped.merge(other);
    expect(capped.report(5, 'report').rowsBelowK).toBeGreaterThanOrEqual(a.rowsBelowK);
  });
});
