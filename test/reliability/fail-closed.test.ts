/**
 * Fail closed: when detection or pseudonymisation fails for a column or a row, that data is
 * quarantined, never published as it came. Failures are forced four ways: a contract that asks
 * an operator for what it cannot do, a column whose every value defeats its operator, a
 * recognizer that throws on every cell of a free-text column, and column classification that
 * throws (a detector bug).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as classify from '../../functions/core/detect/classify-columns.ts';
import { phoneRecognizer } from '../../functions/core/detect/phone-recognizer.ts';
import type { RunRecord } from '../../functions/core/lineage/run-record.ts';
import { ingestObject } from '../../functions/core/pipeline/ingest-object.ts';
import { drop, everyObjectText, localHome, type TestPorts } from '../support/local-home.ts';

vi.mock('../../functions/core/detect/classify-columns.ts', async (original) => {
  const real = await original<typeof import('../../functions/core/detect/classify-columns.ts')>();
  return { ...real, classifyColumns: vi.fn(real.classifyColumns) };
});

afterEach(() => {
  vi.restoreAllMocks();
});

const NOTES = ['Call Ana on +44 7700 900123', 'Ring back 020 7946 0958 today', 'Mobile +33 6 12 34 56 78', 'Tel 030 123456 ext 9'];
const EMAILS = ['ana.k@example.com', 'bo.r@example.com', 'cy.z@example.com', 'di.q@example.com'];

function csv(extra: (i: number) => string, header: string): string {
  const lines = [`customer_id,email,${header}`];
  for (let i = 0; i < 40; i++) lines.push(`C${1000 + i},${EMAILS[i % 4]},"${extra(i)}"`);
  return `${lines.join('\n')}\n`;
}

/** Nothing of `raw` in any curated object (all versions), and only quarantine holds the rows. */
async function expectNotPublished(ports: TestPorts, raw: readonly string[]): Promise<void> {
  for (const o of await everyObjectText(ports)) {
    if (o.bucket !== 'curated') continue;
    for (const v of raw) expect(o.text, `${o.key} holds a raw value`).not.toContain(v);
  }
}

function contract(dataset: string, columns: string, share = 0.05): { text: string; source: string } {
  return { source: `${dataset}.yaml`, text: `dataset: ${dataset}\nmaxInvalidRowShare: ${share}\ncolumns:\n${columns}` };
}

describe('fail closed', () => {
  it('a contract asking an operator for what it cannot do quarantines the file (pseudonymisation fails for the column)', async () => {
    await using home = await localHome();
    await drop(
      home.ports,
      'a/x.csv',
      csv((i) => `v${i}`, 'note'),
    );
    const c = contract(
      'a',
      '  - { name: customer_id }\n  - { name: email, privacy: { entity: EMAIL_ADDRESS, operator: generalize } }\n  - { name: note }',
    );
    const { record } = await ingestObject(home.ports, { key: 'a/x.csv', contract: c });
    expect(record.status).toBe('QUARANTINED');
    expect(record.error).toMatchObject({ class: 'SanitisationError', rule: 'generalize-unsupported' });
    await expectNotPublished(home.ports, EMAILS);
  });

  it('a column whose every value defeats its operator quarantines every row, even with the invalid-row gate wide open', async () => {
    await using home = await localHome();
    await drop(
      home.ports,
      'b/x.csv',
      csv((i) => `born in spring, week ${i}`, 'date_of_birth'),
    );
    const c = contract(
      'b',
      '  - { name: customer_id }\n  - { name: email }\n  - { name: date_of_birth, privacy: { entity: DATE_OF_BIRTH, operator: generalize, options: { to: year } } }',
      1,
    );
    const { record } = await ingestObject(home.ports, { key: 'b/x.csv', contract: c });
    expect(record.status).toBe('COMPLETE');
    expect(record.counts).toMatchObject({ rowsIn: 40, rowsPublished: 0, rowsQuarantined: 40, conserved: true });
    expect(record.quarantineReasons).toEqual({ sanitisation: 40 });
    await expectNotPublished(home.ports, [...EMAILS, 'born in spring']);
  });

  it('a recognizer that throws on every cell of a free-text column: each row is quarantined, none published raw', async () => {
    await using home = await localHome();
    await drop(
      home.ports,
      'c/x.csv',
      csv((i) => NOTES[i % 4] as string, 'notes'),
    );
    // The recognizer breaks once the plan is made (the pseudonym keys are fetched right after it).
    let broken = false;
    const ports = { ...home.ports, keys: Object.create(home.ports.keys) as TestPorts['keys'] };
    ports.keys.pseudonymKey = (purpose) => {
      broken = true;
      return home.ports.keys.pseudonymKey(purpose);
    };
    const real = phoneRecognizer.analyze.bind(phoneRecognizer);
    const spy = vi.spyOn(phoneRecognizer, 'analyze').mockImplementation((...args) => {
      if (broken) throw new TypeError('recognizer bug');
      real(...args);
    });
    const c = contract('c', '  - { name: customer_id }\n  - { name: email }\n  - { name: notes, privacy: { freeText: true } }', 1);
    const { record } = await ingestObject(ports, { key: 'c/x.csv', contract: c });
    expect(spy).toHaveBeenCalled();
    expect(record.counts).toMatchObject({ rowsIn: 40, rowsPublished: 0, rowsQuarantined: 40, conserved: true });
    expect(record.quarantineReasons).toEqual({ sanitisation: 40 });
    expect(JSON.stringify(record)).not.toContain('recognizer bug');
    await expectNotPublished(home.ports, [...EMAILS, '7700 900123', '7946 0958']);
    // With the default gate the same failure quarantines the whole file.
    await drop(
      home.ports,
      'c/y.csv',
      csv((i) => `${NOTES[i % 4]} (copy)`, 'notes'),
    );
    broken = false;
    const strict = contract('c', '  - { name: customer_id }\n  - { name: email }\n  - { name: notes, privacy: { freeText: true } }');
    const second = await ingestObject(ports, { key: 'c/y.csv', contract: strict });
    expect(second.record.status).toBe('QUARANTINED');
    expect(second.record.error?.rule).toBe('invalid-row-share');
  });

  it('a recognizer that throws while the plan is made quarantines the file (detection fails for the column)', async () => {
    await using home = await localHome();
    await drop(
      home.ports,
      'e/x.csv',
      csv((i) => NOTES[i % 4] as string, 'notes'),
    );
    vi.spyOn(phoneRecognizer, 'analyze').mockImplementation(() => {
      throw new TypeError('recognizer bug');
    });
    const { record } = await ingestObject(home.ports, { key: 'e/x.csv' });
    expect(record.status).toBe('QUARANTINED');
    expect(record.error).toMatchObject({ class: 'SanitisationError', rule: 'detection-failed' });
    await expectNotPublished(home.ports, [...EMAILS, '7700 900123']);
  });

  it('column classification that throws (a detector bug) quarantines the file with a reason instead of retrying forever', async () => {
    await using home = await localHome();
    await drop(
      home.ports,
      'd/x.csv',
      csv((i) => NOTES[i % 4] as string, 'notes'),
    );
    vi.mocked(classify.classifyColumns).mockImplementationOnce(() => {
      throw new RangeError('detector bug on +44 7700 900123');
    });
    const { record } = await ingestObject(home.ports, { key: 'd/x.csv' });
    expect(record.status).toBe('QUARANTINED');
    expect(record.error).toMatchObject({ class: 'SanitisationError', rule: 'detection-failed' });
    expect(record.error?.message).toContain('d/x.csv');
    expect(record.error?.message).not.toContain('7700');
    await expectNotPublished(home.ports, [...EMAILS, '7700 900123']);
    const runs: RunRecord[] = [];
    for await (const r of home.ports.lineage.list({ dataset: 'd' })) runs.push(r as unknown as RunRecord);
    expect(runs.map((r) => r.status)).toEqual(['QUARANTINED']);
  });
});
