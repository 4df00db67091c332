import { ByteWriter, parquetWrite } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { decodeTable } from '../../../functions/core/codecs/decode-table.ts';
import { InvalidFileError } from '../../../functions/core/errors.ts';
import type { RunRecord } from '../../../functions/core/lineage/run-record.ts';
import type { ChunkExecutor } from '../../../functions/core/pipeline/chunk-types.ts';
import { finishIngest, ingestObject, planIngest } from '../../../functions/core/pipeline/ingest-object.ts';
import {
  chunkResultFromJson,
  chunkResultToJson,
  inProcessExecutor,
  processChunk,
  toChunkResult,
} from '../../../functions/core/pipeline/process-chunk.ts';
import type { Cell } from '../../../functions/core/types.ts';
import { drop, localHome, readText, type TestPorts } from '../../support/local-home.ts';

const HEADER = 'customer_id,full_name,email,segment,amount,notes';
const contractFor = (dataset: string) => ({
  text: [
    `dataset: ${dataset}`,
    'subjectKey: customer_id',
    'columns:',
    '  - { name: customer_id, nullable: false }',
    '  - { name: full_name, privacy: { entity: PERSON } }',
    '  - { name: email, nullable: false }',
    '  - { name: segment, enum: [smb, consumer] }',
    '  - { name: amount, type: number }',
    '  - { name: notes, privacy: { freeText: true } }',
    'maxInvalidRowShare: 0.2',
    'privacyBudget: { epsilon: 5, delta: 1.0e-6 }',
    'privacyUnit: { maxRowsPerSubject: 2, maxPartitionsPerSubject: 1 }',
    'aggregates:',
    '  - { id: rows_by_segment, kind: count, by: segment, domain: [smb, consumer], epsilon: 0.5 }',
    '  - { id: mean_amount, kind: mean, column: amount, bounds: [0, 1000], epsilon: 0.5 }',
  ].join('\n'),
  source: 'test contract',
});

function csvText(n: number): string {
  const lines = [HEADER];
  for (let i = 0; i < n; i++) {
    const id = `C${1000 + (i % 37)}`; // subjects repeat across chunks
    const note =
      i % 5 === 0
        ? `"Call ${'Anna'} on +44 7700 900${String(i % 1000).padStart(3, '0')},\nthen email anna${i}@example.com"`
        : i % 7 === 0
          ? '"said ""ok"", fine"'
          : 'plain note';
    const segment = i % 23 === 11 ? 'gold' : i % 2 === 0 ? 'smb' : 'consumer'; // gold: enum breach, quarantined
    lines.push(`${id},Anna Smith${i % 3},anna${i}@example.com,${segment},${(i * 7.5) % 900},${note}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

async function partRows(ports: TestPorts, record: RunRecord): Promise<Cell[][]> {
  const rows: Cell[][] = [];
  for (const o of record.outputs.filter((x) => x.role === 'curated')) {
    const { body } = await ports.objects.get('curated', o.key);
    const random = ports.objects.readRange
      ? {
          size: o.size,
          read: (a: number, b: number) => (ports.objects.readRange as NonNullable<typeof ports.objects.readRange>)('curated', o.key, a, b),
        }
      : undefined;
    const table = await decodeTable(body, { fileName: o.key, ...(random ? { random } : {}) });
    for await (const r of table.rows) rows.push(r.cells);
  }
  return rows;
}

async function quarantined(ports: TestPorts, record: RunRecord): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const o of record.outputs.filter((x) => x.role === 'quarantine-rows')) {
    for (const line of (await readText(ports, 'quarantine', o.key)).trim().split('\n')) {
      const { _row, _rules } = JSON.parse(line) as { _row: number; _rules: string[] };
      out.push([_row, _rules]);
    }
  }
  return out;
}

/** Runs the same bytes once sequentially and once in chunks (in this thread, same code as the workers). */
async function both(ports: TestPorts, name: string, bytes: string | Uint8Array, executor: ChunkExecutor, contract = true) {
  await drop(ports, `seq/${name}`, bytes);
  await drop(ports, `par/${name}`, bytes);
  const seq = await ingestObject(ports, { key: `seq/${name}`, ...(contract ? { contract: contractFor('seq') } : {}) });
  const par = await ingestObject(
    ports,
    { key: `par/${name}`, ...(contract ? { contract: contractFor('par') } : {}) },
    { parallel: { executor, targetChunkBytes: 700, minBytes: 0 } },
  );
  return { seq: seq.record, par: par.record };
}

describe('parallel runs give the same output as one pass', () => {
  it('CSV with quoted newlines, CRLF, invalid rows, DP aggregates and subjects across chunks', async () => {
    await using home = await localHome();
    const { seq, par } = await both(home.ports, 'a.csv', csvText(300), inProcessExecutor(home.ports, 2));
    expect(par.status).toBe('COMPLETE');
    expect(par.chunks?.length).toBeGreaterThan(5);
    expect(seq.chunks).toBeUndefined();
    // Same rows, in the same order, split into one part per chunk.
    expect(await partRows(home.ports, par)).toEqual(await partRows(home.ports, seq));
    const parts = par.outputs.filter((o) => o.role === 'curated').map((o) => o.key.split('/').pop());
    expect(parts).toEqual(par.chunks?.map((c) => `part-${String(c.index).padStart(5, '0')}.csv`));
    // Conservation across chunks, and the same quarantined rows with the same row numbers.
    expect(par.counts).toEqual(seq.counts);
    expect(par.counts.conserved).toBe(true);
    expect(par.chunks?.reduce((n, c) => n + c.rows, 0)).toBe(par.counts.rowsIn);
    expect(await quarantined(home.ports, par)).toEqual(await quarantined(home.ports, seq));
    expect(par.quarantineReasons).toEqual(seq.quarantineReasons);
    // Merged states: profile counts and distinct estimates, k-anonymity classes, subject index.
    const pick = (r: RunRecord) => r.profile.map((p) => [p.column, p.count, p.nullShare, p.distinctEstimate, p.types, p.min, p.max]);
    expect(pick(par)).toEqual(pick(seq));
    expect(par.risk).toEqual(seq.risk);
    const index = (r: RunRecord) => r.outputs.filter((o) => o.role === 'subject-index').map((o) => [o.bucket, o.rows, o.sha256]);
    expect(index(par)).toEqual(index(seq));
    // DP noise once, on the merged aggregates: one release, one budget spend.
    expect(par.budget).toHaveLength(1);
    expect(par.outputs.filter((o) => o.role === 'aggregates')).toHaveLength(2);
  });

  it("slots on the caller's thread wait until the scan is over; the scan never waits for a slot", async () => {
    await using home = await localHome();
    const { ports } = home;
    // The second read of the par/ input is the planner's scan (the first one sampled it).
    let scanned = false;
    let parReads = 0;
    const get = ports.objects.get.bind(ports.objects);
    ports.objects.get = async (bucket, key, opts) => {
      const object = await get(bucket, key, opts);
      if (bucket !== 'ingest' || !key.startsWith('par/') || ++parReads !== 2) return object;
      async function* watched() {
        yield* object.body;
        scanned = true;
      }
      return { ...object, body: watched() };
    };
    const inner = inProcessExecutor(ports, 2);
    let inFlight = 0;
    const starts: { index: number; inFlight: number; scanned: boolean }[] = [];
    const executor: ChunkExecutor = {
      concurrency: 2,
      inThreadSlots: 1,
      async run(setup, chunk) {
        inFlight++;
        starts.push({ index: chunk.index, inFlight, scanned });
        try {
          return await inner.run(setup, chunk);
        } finally {
          inFlight--;
        }
      },
    };
    const { seq, par } = await both(ports, 'slots.csv', csvText(300), executor);
    expect(par.counts).toEqual(seq.counts);
    expect(await partRows(ports, par)).toEqual(await partRows(ports, seq));
    // The other slot started during the scan; the second slot only after it; both were used.
    expect(starts[0]).toEqual({ index: 0, inFlight: 1, scanned: false });
    expect(starts.filter((s) => s.inFlight === 2).length).toBeGreaterThan(0);
    expect(starts.filter((s) => s.inFlight === 2 && !s.scanned)).toEqual([]);
    expect(starts.map((s) => s.index)).toEqual(par.chunks?.map((c) => c.index));
  });

  it('JSON Lines', async () => {
    await using home = await localHome();
    const lines = Array.from({ length: 120 }, (_, i) =>
      JSON.stringify({
        customer_id: `C${i % 40}`,
        full_name: 'Bo Li',
        email: `b${i}@example.com`,
        segment: i % 2 ? 'smb' : 'consumer',
        amount: i,
        notes: `mail b${i}@example.com`,
      }),
    );
    lines.splice(50, 0, '', 'not json');
    const { seq, par } = await both(home.ports, 'b.jsonl', `${lines.join('\n')}\n`, inProcessExecutor(home.ports, 3));
    expect(par.chunks?.length).toBeGreaterThan(3);
    expect(await partRows(home.ports, par)).toEqual(await partRows(home.ports, seq));
    expect(par.counts).toEqual(seq.counts);
    expect(await quarantined(home.ports, par)).toEqual(await quarantined(home.ports, seq));
  });

  it('Parquet, by row group, with types preserved in the curated parts', async () => {
    await using home = await localHome();
    const n = 90;
    const writer = new ByteWriter();
    parquetWrite({
      writer,
      rowGroupSize: 20,
      columnData: [
        { name: 'customer_id', data: Array.from({ length: n }, (_, i) => `C${i % 30}`), type: 'STRING' },
        { name: 'email', data: Array.from({ length: n }, (_, i) => `p${i}@example.com`), type: 'STRING' },
        { name: 'quantity', data: Array.from({ length: n }, (_, i) => i), type: 'INT32' },
        { name: 'big', data: Array.from({ length: n }, (_, i) => 9_007_199_254_740_993n + BigInt(i)), type: 'INT64' },
        { name: 'price', data: Array.from({ length: n }, (_, i) => i / 4), type: 'DOUBLE' },
        { name: 'active', data: Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : i % 2 === 0)), type: 'BOOLEAN' },
        { name: 'at', data: Array.from({ length: n }, (_, i) => new Date(Date.UTC(2024, 0, 1, 0, 0, i))), type: 'TIMESTAMP' },
      ],
    });
    const bytes = new Uint8Array(writer.getBuffer());
    const { seq, par } = await both(home.ports, 'c.parquet', bytes, inProcessExecutor(home.ports, 2), false);
    expect(par.status).toBe('COMPLETE');
    expect(par.chunks?.map((c) => c.rows)).toEqual([20, 20, 20, 20, 10]);
    const rows = await partRows(home.ports, par);
    expect(rows).toEqual(await partRows(home.ports, seq));
    expect(rows).toHaveLength(n);
    const [first] = rows;
    expect(first?.slice(2)).toEqual([0, '9007199254740993', 0, null, '2024-01-01T00:00:00.000Z']);
    expect(String(first?.[1])).toMatch(/^EMAIL_[0-9a-f]{16}$/);
  });

  it('falls back to one pass when a chunk does not end at a record boundary', async () => {
    await using home = await localHome();
    const inner = inProcessExecutor(home.ports, 2);
    // A planner bug simulated: every chunk boundary moved one byte into the next record.
    const skewed: ChunkExecutor = {
      concurrency: 2,
      run: (setup, chunk) =>
        inner.run(setup, {
          ...chunk,
          end: Math.min(chunk.end + 1, setup.input.size),
          start: chunk.index === 0 ? chunk.start : chunk.start + 1,
        }),
    };
    const { seq, par } = await both(home.ports, 'd.csv', csvText(200), skewed);
    expect(par.status).toBe('COMPLETE');
    expect(par.chunks).toBeUndefined();
    expect(await partRows(home.ports, par)).toEqual(await partRows(home.ports, seq));
    // Nothing of the rejected chunks is left behind.
    const keys: string[] = [];
    for await (const o of home.ports.objects.list('curated', 'par/')) keys.push(o.key);
    expect(keys.filter((k) => /part-0000[1-9]/.test(k))).toEqual([]);
  });

  it('a chunk that fails for good quarantines the whole file and leaves no curated part', async () => {
    await using home = await localHome();
    const inner = inProcessExecutor(home.ports, 2);
    const failing: ChunkExecutor = {
      concurrency: 2,
      run: (setup, chunk) =>
        chunk.index === 2 ? Promise.reject(new InvalidFileError('x: broken chunk', { rule: 'test-broken' })) : inner.run(setup, chunk),
    };
    await drop(home.ports, 'par/e.csv', csvText(200));
    const { record } = await ingestObject(
      home.ports,
      { key: 'par/e.csv', contract: contractFor('par') },
      { parallel: { executor: failing, targetChunkBytes: 700, minBytes: 0 } },
    );
    expect(record.status).toBe('QUARANTINED');
    expect(record.error?.rule).toBe('test-broken');
    const curated: string[] = [];
    for await (const o of home.ports.objects.listVersions('curated', 'par/')) if (!o.isDeleteMarker) curated.push(o.key);
    expect(curated).toEqual([]);
  });
});

describe('fan-out: the AWS workflow steps (plan → chunks → merge) called in sequence, without AWS', () => {
  it('gives the same output as one pass, through JSON between the steps', async () => {
    await using home = await localHome();
    const { ports } = home;
    const text = csvText(300);
    await drop(ports, 'seq/f.csv', text);
    await drop(ports, 'par/f.csv', text);
    const seq = (await ingestObject(ports, { key: 'seq/f.csv', contract: contractFor('seq') })).record;
    const planned = await planIngest(ports, { key: 'par/f.csv', contract: contractFor('par') }, { targetChunkBytes: 700 });
    if (planned.kind !== 'fan-out') throw new Error('expected a fan-out plan');
    // Each step sees only what the workflow passes on: JSON.
    const plan = JSON.parse(JSON.stringify(planned.plan)) as typeof planned.plan;
    expect(plan.chunks.length).toBeGreaterThan(5);
    const results = [];
    for (const chunk of [...plan.chunks].reverse()) {
      results.push(chunkResultFromJson(chunkResultToJson(toChunkResult(await processChunk(ports, plan.setup, chunk)))));
    }
    const { record } = await finishIngest(ports, plan, results);
    expect(record.status).toBe('COMPLETE');
    expect(record.chunks?.map((c) => c.index)).toEqual(plan.chunks.map((c) => c.index));
    expect(await partRows(ports, record)).toEqual(await partRows(ports, seq));
    expect(record.counts).toEqual(seq.counts);
    expect(record.input.sha256).toBe(seq.input.sha256);
    expect(await quarantined(ports, record)).toEqual(await quarantined(ports, seq));
    const index = (r: RunRecord) => r.outputs.filter((o) => o.role === 'subject-index').map((o) => [o.bucket, o.rows, o.sha256]);
    expect(index(record)).toEqual(index(seq));
    expect(record.budget).toHaveLength(1);
    // Committed: the same input again is a duplicate.
    const again = await planIngest(ports, { key: 'par/f.csv', contract: contractFor('par') }, { targetChunkBytes: 700 });
    expect(again.kind === 'done' && again.result.duplicate).toBe(true);
  });

  it('a failed chunk: what the others wrote is removed and the file is quarantined', async () => {
    await using home = await localHome();
    const { ports } = home;
    await drop(ports, 'par/g.csv', csvText(200));
    const planned = await planIngest(ports, { key: 'par/g.csv', contract: contractFor('par') }, { targetChunkBytes: 700 });
    if (planned.kind !== 'fan-out') throw new Error('expected a fan-out plan');
    const done = [toChunkResult(await processChunk(ports, planned.plan.setup, planned.plan.chunks[0] as (typeof planned.plan.chunks)[0]))];
    const failure = new InvalidFileError('x: chunk 1 is broken', { rule: 'test-broken' });
    const { record } = await finishIngest(ports, planned.plan, done, { failure });
    expect(record.status).toBe('QUARANTINED');
    const curated: string[] = [];
    for await (const o of ports.objects.listVersions('curated', 'par/')) if (!o.isDeleteMarker) curated.push(o.key);
    expect(curated).toEqual([]);
  });

  it('files that cannot be split run in one pass in the plan step', async () => {
    await using home = await localHome();
    const { gzipSync } = await import('node:zlib');
    await drop(home.ports, 'par/h.csv.gz', gzipSync(csvText(100)));
    const planned = await planIngest(home.ports, { key: 'par/h.csv.gz', contract: contractFor('par') }, { targetChunkBytes: 700 });
    expect(planned.kind).toBe('done');
    if (planned.kind === 'done') expect(planned.result.record).toMatchObject({ status: 'COMPLETE', counts: { rowsIn: 100 } });
  });
});
