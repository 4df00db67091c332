/**
 * Faults at every port the ingest path uses (object store, keys, lineage, idempotency, budget,
 * suppression list, contracts), injected by call: after retries the system converges to exactly
 * one publication with its lineage, readers never see a failed attempt, rows are conserved, and
 * no curated object exists outside lineage.
 */
import { describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../functions/adapters/local/fs-object-store.ts';
import { ConflictError, PreconditionFailedError, TransientError } from '../../functions/core/errors.ts';
import type { LineageRecord } from '../../functions/core/ports.ts';
import { type Fault, type FaultRule, faultyPorts, throttled } from '../support/faulty-ports.ts';
import { CONTRACT, DATASET, dropText, expectConverged, ingestWithRetries, peopleCsv, publishedRows, skewedHome } from './helpers.ts';

/** More rows than the pipeline's output channel holds (2048): a writer that stalls before reading would hang the loop. */
const BIG = 2200;
const SMALL = 400;
const BAD = new Set([10, 390]);
const KEY = `${DATASET}/export.csv`;

const transient = (what: string) => () => new TransientError(`${what} failed; retry`, { rule: 'unavailable' });
const args = {
  bucket: (b: string) => (a: readonly unknown[]) => a[0] === b,
  object: (b: string, suffix: string) => (a: readonly unknown[]) => a[0] === b && String(a[1]).endsWith(suffix),
  record: (kind: LineageRecord['kind']) => (a: readonly unknown[]) => (a[0] as LineageRecord).kind === kind,
};

interface Case {
  readonly name: string;
  readonly rules: readonly FaultRule[];
  /** A writer refuses before reading its body: the file must outgrow the channel to show a hang. */
  readonly big?: boolean;
}

const rule = (port: FaultRule['port'], op: string, fault: Fault, extra: Partial<FaultRule> = {}): FaultRule => ({
  port,
  op,
  fault,
  ...extra,
});

const CASES: readonly Case[] = [
  // Object store (S3)
  {
    name: 'S3 read error in mid-stream of the input',
    rules: [
      rule(
        'objects',
        'get',
        { kind: 'body-breaks', afterChunks: 1, error: transient('GetObject stream') },
        { match: args.bucket('ingest') },
      ),
    ],
  },
  {
    name: 'S3 read error on the first byte, twice',
    rules: [
      rule(
        'objects',
        'get',
        { kind: 'body-breaks', afterChunks: 0, error: transient('GetObject') },
        { match: args.bucket('ingest'), times: 2 },
      ),
    ],
  },
  {
    name: 'S3 GetObject throttled (SlowDown)',
    rules: [rule('objects', 'get', { kind: 'reject', error: throttled('GetObject') }, { match: args.bucket('ingest') })],
  },
  {
    name: 'failed multipart upload of the curated part',
    rules: [
      rule(
        'objects',
        'put',
        { kind: 'put-aborts', afterChunks: 1, error: transient('UploadPart') },
        { match: args.object('curated', '.csv') },
      ),
    ],
  },
  {
    name: 'curated upload refused before the first part',
    big: true,
    rules: [
      rule('objects', 'put', { kind: 'reject', error: transient('CreateMultipartUpload') }, { match: args.object('curated', '.csv') }),
    ],
  },
  {
    name: 'failed upload of the quarantined rows',
    rules: [
      rule(
        'objects',
        'put',
        { kind: 'put-aborts', afterChunks: 1, error: transient('UploadPart') },
        { match: args.object('quarantine', 'rows.jsonl') },
      ),
    ],
  },
  {
    name: 'failed write of the subject index',
    rules: [rule('objects', 'put', { kind: 'reject', error: transient('PutObject') }, { match: args.object('curated', '_subjects.idx') })],
  },
  {
    name: 'failed write of the DP aggregates',
    rules: [rule('objects', 'put', { kind: 'reject', error: transient('PutObject') }, { match: args.object('aggregates', '.csv') })],
  },
  {
    name: 'failed write of the manifest (the last output)',
    rules: [rule('objects', 'put', { kind: 'reject', error: transient('PutObject') }, { match: args.object('curated', '_manifest.json') })],
  },
  {
    name: 'precondition failure on an output write',
    big: true,
    rules: [
      rule(
        'objects',
        'put',
        { kind: 'reject', error: () => new PreconditionFailedError('precondition failed', { rule: 'if-match' }) },
        { match: args.bucket('quarantine') },
      ),
    ],
  },
  // Keys (KMS)
  {
    name: 'KMS throttling on the first data key',
    big: true,
    rules: [rule('keys', 'generateDataKey', { kind: 'reject', error: throttled('GenerateDataKey') })],
  },
  {
    name: 'KMS throttling on three data keys in a row',
    big: true,
    rules: [rule('keys', 'generateDataKey', { kind: 'reject', error: throttled('GenerateDataKey') }, { nth: 2, times: 3 })],
  },
  {
    name: 'KMS throttling when unwrapping the input data key',
    rules: [rule('keys', 'decryptDataKey', { kind: 'reject', error: throttled('Decrypt') })],
  },
  {
    name: 'KMS throttling on the pseudonymisation key',
    rules: [rule('keys', 'pseudonymKey', { kind: 'reject', error: throttled('Decrypt') }, { nth: 2 })],
  },
  // Lineage (DynamoDB)
  {
    name: 'DynamoDB throttling on the run record',
    rules: [rule('lineage', 'append', { kind: 'reject', error: throttled('PutItem') }, { match: args.record('run'), times: 2 })],
  },
  {
    name: 'run record written, response lost',
    rules: [rule('lineage', 'append', { kind: 'after', error: transient('PutItem response') }, { match: args.record('run') })],
  },
  {
    name: 'release record written, then a conditional-check failure on the SDK retry',
    rules: [
      rule(
        'lineage',
        'append',
        { kind: 'after', error: () => new ConflictError('record exists', { rule: 'conditional-check' }) },
        { match: args.record('release') },
      ),
    ],
  },
  {
    name: 'DynamoDB throttling on lineage reads (drift history, commit check)',
    rules: [
      rule('lineage', 'list', { kind: 'reject', error: throttled('Query') }),
      rule('lineage', 'get', { kind: 'reject', error: throttled('GetItem') }),
    ],
  },
  // Idempotency (DynamoDB)
  {
    name: 'DynamoDB throttling on the idempotency claim',
    rules: [rule('idempotency', 'claim', { kind: 'reject', error: throttled('PutItem') })],
  },
  {
    name: 'claim completion lost after the lineage commit',
    rules: [rule('idempotency', 'complete', { kind: 'reject', error: transient('UpdateItem') })],
  },
  {
    name: 'conditional-check failure on claim completion',
    rules: [
      rule('idempotency', 'complete', {
        kind: 'reject',
        error: () => new ConflictError('claim taken over', { rule: 'idempotency-owner' }),
      }),
    ],
  },
  // Budget ledger (DynamoDB)
  {
    name: 'DynamoDB throttling on the budget',
    rules: [rule('budget', 'spend', { kind: 'reject', error: throttled('TransactWriteItems') }, { times: 2 })],
  },
  {
    name: 'budget charged, response lost',
    rules: [rule('budget', 'spend', { kind: 'after', error: transient('UpdateItem response') })],
  },
  {
    name: 'conditional-check failure on the budget (a concurrent spend)',
    rules: [rule('budget', 'spend', { kind: 'reject', error: () => new ConflictError('budget changed', { rule: 'conditional-check' }) })],
  },
  // Suppression list and contracts
  {
    name: 'throttling on the suppression list',
    rules: [rule('suppression', 'all', { kind: 'reject', error: throttled('Query') })],
  },
  {
    name: 'throttling on the contract store',
    rules: [rule('contracts', 'get', { kind: 'reject', error: throttled('GetObject') })],
  },
  // Crashes: nothing cleans up, the claim stays until it expires
  { name: 'crash right after the claim', rules: [rule('idempotency', 'claim', { kind: 'crash', when: 'after' })] },
  {
    name: 'crash in mid-upload of the curated part',
    rules: [rule('objects', 'put', { kind: 'crash', when: 'before' }, { match: args.object('curated', '.csv') })],
  },
  {
    name: 'crash after the curated part was written',
    rules: [rule('objects', 'put', { kind: 'crash', when: 'after' }, { match: args.object('curated', '.csv') })],
  },
  { name: 'crash after the budget was charged, before the aggregates', rules: [rule('budget', 'spend', { kind: 'crash', when: 'after' })] },
  {
    name: 'crash after the aggregates, before the release record',
    rules: [rule('lineage', 'append', { kind: 'crash', when: 'before' }, { match: args.record('release') })],
  },
  {
    name: 'crash between the output writes and the run record',
    rules: [rule('lineage', 'append', { kind: 'crash', when: 'before' }, { match: args.record('run') })],
  },
  {
    name: 'crash after the run record, before the claim completes',
    rules: [rule('idempotency', 'complete', { kind: 'crash', when: 'before' })],
  },
];

describe('fault injection at every port of the ingest path', () => {
  it.each(CASES)('$name: retries converge to one publication with its lineage', async ({ rules, big }) => {
    await using home = await skewedHome();
    const ROWS = big ? BIG : SMALL;
    const { csv, emails } = peopleCsv(ROWS, BAD);
    await home.ports.contracts.put(DATASET, CONTRACT);
    await dropText(home.ports, KEY, csv);
    // The local store wraps each object's data key itself: rebuild it over the faulty key service.
    const faulty = faultyPorts(home.ports, rules, { objects: (keys) => new FsObjectStore(home.ports.home, keys, { clock: home.clock }) });
    const { result, attempts } = await ingestWithRetries(faulty, home.clock, home.ports, { key: KEY }, ROWS - BAD.size);
    expect(
      faulty.fired.every((n) => n > 0),
      'every fault was injected',
    ).toBe(true);
    expect(attempts).toBeGreaterThan(1);
    expect(result.record.status).toBe('COMPLETE');
    await expectConverged(home.ports, { rowsIn: ROWS, quarantined: BAD.size, emails });
  });

  it('readers see nothing of a run until its lineage commit, even with every output already written', async () => {
    const ROWS = SMALL;
    await using home = await skewedHome();
    const { csv } = peopleCsv(ROWS, BAD);
    await home.ports.contracts.put(DATASET, CONTRACT);
    await dropText(home.ports, KEY, csv);
    const faulty = faultyPorts(home.ports, []);
    const seenBeforeCommit: number[] = [];
    faulty.onCall = async (call) => {
      if (call.port === 'lineage' && call.op === 'append' && (call.args[0] as LineageRecord).kind === 'run') {
        seenBeforeCommit.push(await publishedRows(home.ports));
      }
    };
    await ingestWithRetries(faulty, home.clock, home.ports, { key: KEY }, ROWS - BAD.size);
    expect(seenBeforeCommit).toEqual([0]);
    expect(await publishedRows(home.ports)).toBe(ROWS - BAD.size);
  });

  it('a permanent failure after outputs were written (drift gate) leaves no curated object at all', async () => {
    await using home = await skewedHome();
    const strict = `${CONTRACT}\ndrift: { fail: true }\n`;
    await home.ports.contracts.put(DATASET, strict);
    await dropText(home.ports, `${DATASET}/a.csv`, peopleCsv(300).csv);
    await ingestWithRetries(faultyPorts(home.ports, []), home.clock, home.ports, { key: `${DATASET}/a.csv` }, 300);
    // Half the amounts missing: a drift in null share, found only after every row was written.
    const drifted = peopleCsv(300).csv.replace(/,(\d+)\n/g, (m, v: string) => (Number(v) % 2 ? ',\n' : m));
    await dropText(home.ports, `${DATASET}/b.csv`, drifted);
    const { result } = await ingestWithRetries(faultyPorts(home.ports, []), home.clock, home.ports, { key: `${DATASET}/b.csv` }, 300);
    expect(result.record.status).toBe('QUARANTINED');
    expect(result.record.error?.rule).toBe('drift');
    const curated: string[] = [];
    for await (const v of home.ports.objects.listVersions('curated', `${DATASET}/${result.record.runKey}/`)) curated.push(v.key);
    expect(curated).toEqual([]);
    expect(result.record.outputs.map((o) => o.role)).toEqual(['quarantine-file', 'quarantine-report']);
  });
});
