import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../functions/core/lineage/run-record.ts';
import { ingestObject } from '../../../functions/core/pipeline/ingest-object.ts';
import { drop, localHome, readText } from '../../support/local-home.ts';

const HEADER = 'customer_id,email,date_of_birth,segment,amount';
const row = (i: number, dob = '1980-05-17', segment = 'smb') => `C${100000 + i},person${i}@example.com,${dob},${segment},${i}.50`;
const csv = (rows: string[]) => `${HEADER}\n${rows.join('\n')}\n`;
const CONTRACT = {
  text: [
    'dataset: people',
    'columns:',
    '  - { name: customer_id, nullable: false, unique: true }',
    '  - { name: email, nullable: false }',
    '  - { name: date_of_birth, privacy: { entity: DATE_OF_BIRTH, operator: generalize, options: { to: year } } }',
    '  - { name: segment, enum: [smb, consumer] }',
    '  - { name: amount, type: number }',
    'maxInvalidRowShare: 0.2',
  ].join('\n'),
  source: 'test contract',
};

describe('ingestObject', () => {
  it('conserves rows: published + quarantined = in, and records why', async () => {
    await using home = await localHome();
    const rows = Array.from({ length: 20 }, (_, i) => row(i));
    rows[3] = row(3, '1980-05-17', 'gold'); // enum
    rows[7] = `C100007,,1980-05-17,smb,1`; // required
    await drop(home.ports, 'people/a.csv', csv(rows));
    const { record } = await ingestObject(home.ports, { key: 'people/a.csv', contract: CONTRACT });
    expect(record.status).toBe('COMPLETE');
    expect(record.counts).toMatchObject({ rowsIn: 20, rowsPublished: 18, rowsQuarantined: 2, conserved: true });
    expect(record.quarantineReasons).toEqual({ enum: 1, required: 1 });
    const quarantined = await readText(home.ports, 'quarantine', record.outputs.find((o) => o.role === 'quarantine-rows')?.key ?? '');
    const lines = quarantined
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { _row: number; _rules: string[] });
    expect(lines.map((l) => [l._row, l._rules])).toEqual([
      [4, ['enum']],
      [8, ['required']],
    ]);
    // The report names rows, columns and rules, never values.
    const report = await readText(home.ports, 'quarantine', record.outputs.find((o) => o.role === 'quarantine-report')?.key ?? '');
    expect(report).toContain('"rule": "enum"');
    expect(report).not.toContain('gold');
  });

  it('fails closed: a cell that cannot be sanitised quarantines its row, never publishes it', async () => {
    await using home = await localHome();
    const rows = Array.from({ length: 10 }, (_, i) => row(i));
    rows[5] = row(5, 'unknown'); // not a date: generalize-to-year cannot run
    await drop(home.ports, 'people/b.csv', csv(rows));
    const { record } = await ingestObject(home.ports, { key: 'people/b.csv', contract: CONTRACT });
    expect(record.counts).toMatchObject({ rowsPublished: 9, rowsQuarantined: 1, conserved: true });
    expect(record.quarantineReasons).toEqual({ sanitisation: 1 });
    const curated = await readText(home.ports, 'curated', record.outputs.find((o) => o.role === 'curated')?.key ?? '');
    expect(curated).not.toContain('unknown');
    expect(curated).not.toContain('person5@example.com');
  });

  it('quarantines the whole file above the invalid-row share and publishes nothing', async () => {
    await using home = await localHome();
    const rows = Array.from({ length: 10 }, (_, i) => row(i, '1980-05-17', i < 4 ? 'gold' : 'smb'));
    await drop(home.ports, 'people/c.csv', csv(rows));
    const { record } = await ingestObject(home.ports, { key: 'people/c.csv', contract: CONTRACT });
    expect(record.status).toBe('QUARANTINED');
    expect(record.error?.rule).toBe('invalid-row-share');
    expect(record.counts).toMatchObject({ rowsIn: 10, rowsPublished: 0, rowsQuarantined: 10, conserved: true });
    const curated = [];
    for await (const v of home.ports.objects.listVersions('curated', 'people/')) curated.push(v);
    expect(curated).toEqual([]);
    expect(record.outputs.map((o) => o.role)).toEqual(['quarantine-file', 'quarantine-report']);
  });

  it('is idempotent: the same bytes again are skipped, a different file is a new run', async () => {
    await using home = await localHome();
    await drop(home.ports, 'people/d.csv', csv([row(1), row(2)]));
    const first = await ingestObject(home.ports, { key: 'people/d.csv', contract: CONTRACT });
    await drop(home.ports, 'people/d.csv', csv([row(1), row(2)])); // a second upload: new version, same bytes
    const second = await ingestObject(home.ports, { key: 'people/d.csv', contract: CONTRACT });
    expect(second.duplicate).toBe(true);
    expect(second.record.id).toBe(first.record.id);
    await drop(home.ports, 'people/d.csv', csv([row(1), row(2), row(3)]));
    const third = await ingestObject(home.ports, { key: 'people/d.csv', contract: CONTRACT });
    expect(third.duplicate).toBe(false);
    const runs: RunRecord[] = [];
    for await (const r of home.ports.lineage.list({ dataset: 'people', kind: 'run' })) runs.push(r as unknown as RunRecord);
    expect(runs.map((r) => r.counts.rowsIn)).toEqual([2, 3]);
  });

  it('a retry after a crash between writing outputs and lineage publishes exactly once', async () => {
    await using home = await localHome();
    await drop(home.ports, 'people/e.csv', csv([row(1), row(2)]));
    // Crash: the lineage append fails once, after all outputs were written.
    const append = home.ports.lineage.append.bind(home.ports.lineage);
    let failures = 1;
    home.ports.lineage.append = async (r) => {
      if (failures-- > 0) throw new Error('simulated crash');
      return append(r);
    };
    await expect(ingestObject(home.ports, { key: 'people/e.csv', contract: CONTRACT })).rejects.toThrow('simulated crash');
    const retry = await ingestObject(home.ports, { key: 'people/e.csv', contract: CONTRACT });
    expect(retry.record.status).toBe('COMPLETE');
    const curatedKeys = new Set<string>();
    for await (const o of home.ports.objects.list('curated', 'people/')) if (o.key.includes('part-')) curatedKeys.add(o.key);
    expect(curatedKeys.size).toBe(1);
    const runs = [];
    for await (const r of home.ports.lineage.list({ dataset: 'people', kind: 'run' })) runs.push(r);
    expect(runs).toHaveLength(1);
  });

  it('drops rows of erased subjects and counts them as suppressed', async () => {
    await using home = await localHome();
    await drop(home.ports, 'people/f.csv', csv([row(1), row(2), row(3)]));
    const first = await ingestObject(home.ports, { key: 'people/f.csv', contract: CONTRACT });
    const curated = await readText(home.ports, 'curated', first.record.outputs.find((o) => o.role === 'curated')?.key ?? '');
    const token = curated.split('\n')[2]?.split(',')[1] ?? ''; // the email token of person2
    expect(token).toMatch(/^EMAIL_/);
    await home.ports.suppression.add([token], 'req-1');
    await drop(home.ports, 'people/g.csv', csv([row(1), row(2), row(4)]));
    const { record } = await ingestObject(home.ports, { key: 'people/g.csv', contract: CONTRACT });
    expect(record.counts).toMatchObject({ rowsIn: 3, rowsPublished: 2, rowsSuppressed: 1, conserved: true });
    const out = await readText(home.ports, 'curated', record.outputs.find((o) => o.role === 'curated')?.key ?? '');
    expect(out).not.toContain(token);
  });

  it('reports drift against earlier runs, and quarantines on drift when the contract says so', async () => {
    await using home = await localHome();
    const many = (n: number, amount: (i: number) => string) =>
      csv(Array.from({ length: n }, (_, i) => `C${200000 + i},p${i}@example.com,1980-01-01,smb,${amount(i)}`));
    for (const f of ['h1', 'h2']) {
      await drop(
        home.ports,
        `people/${f}.csv`,
        many(200, (i) => String(100 + (i % 10))),
      );
      await ingestObject(home.ports, { key: `people/${f}.csv`, contract: CONTRACT });
    }
    await drop(
      home.ports,
      'people/h3.csv',
      many(200, (i) => (i % 2 ? '' : String(100000 + i))),
    );
    const drifted = await ingestObject(home.ports, { key: 'people/h3.csv', contract: CONTRACT });
    expect(drifted.record.status).toBe('COMPLETE');
    expect(drifted.record.drift.map((d) => d.column)).toContain('amount');
    const strict = { ...CONTRACT, text: `${CONTRACT.text}\ndrift: { fail: true }` };
    await drop(
      home.ports,
      'people/h4.csv',
      many(200, (i) => (i % 2 ? '' : String(90000 + i))),
    );
    const failed = await ingestObject(home.ports, { key: 'people/h4.csv', contract: strict });
    expect(failed.record.status).toBe('QUARANTINED');
    expect(failed.record.error?.rule).toBe('drift');
  });

  it('rejects object keys outside <dataset>/ and contracts of another dataset', async () => {
    await using home = await localHome();
    await expect(ingestObject(home.ports, { key: '../etc/passwd' })).rejects.toThrow(/object key rejected/);
    await drop(home.ports, 'people/i.csv', csv([row(1)]));
    const { record } = await ingestObject(home.ports, {
      key: 'people/i.csv',
      contract: { text: CONTRACT.text.replace('dataset: people', 'dataset: other'), source: 'x.yaml' },
    });
    expect(record.status).toBe('QUARANTINED');
    expect(record.error?.message).toContain("contract is for dataset 'other'");
  });
});

describe('ingestObject and a concurrent erasure', () => {
  it('retries instead of publishing a subject suppressed while the file streamed', async () => {
    await using home = await localHome();
    await drop(home.ports, 'people/z.csv', csv([row(1), row(2)]));
    const first = await ingestObject(home.ports, { key: 'people/z.csv', contract: CONTRACT });
    const curated = await readText(home.ports, 'curated', first.record.outputs.find((o) => o.role === 'curated')?.key ?? '');
    const token = curated.split('\n')[2]?.split(',')[1] ?? '';
    // The erasure lands between the run's first look at the suppression list and its commit.
    const all = home.ports.suppression.all.bind(home.ports.suppression);
    let calls = 0;
    home.ports.suppression.all = async () => {
      if (++calls === 2) await home.ports.suppression.add([token], 'req-race');
      return all();
    };
    await drop(home.ports, 'people/z2.csv', csv([row(2), row(3)]));
    await expect(ingestObject(home.ports, { key: 'people/z2.csv', contract: CONTRACT })).rejects.toMatchObject({
      context: { rule: 'erasure-during-ingest' },
    });
    const retry = await ingestObject(home.ports, { key: 'people/z2.csv', contract: CONTRACT });
    expect(retry.record.counts).toMatchObject({ rowsPublished: 1, rowsSuppressed: 1 });
  });
});
