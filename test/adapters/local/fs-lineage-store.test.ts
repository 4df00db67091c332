import { appendFile, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { FsLineageStore } from '../../../functions/adapters/local/fs-lineage-store.ts';
import { ConflictError, UsageError } from '../../../functions/core/errors.ts';
import type { LineageRecord } from '../../../functions/core/ports.ts';
import { runTogether, startWorker } from './helpers/spawn-worker.ts';
import { tempHome, toArray } from './helpers/temp-home.ts';

const rec = (id: string, dataset = 'customers', kind: LineageRecord['kind'] = 'run'): LineageRecord => ({
  id,
  kind,
  dataset,
  at: '2026-01-01T00:00:00.000Z',
  counts: { rowsIn: 3 },
});

describe('FsLineageStore', () => {
  it('appends, gets and lists in append order with filters', async () => {
    const store = new FsLineageStore(await tempHome());
    expect(await toArray(store.list())).toEqual([]);
    expect(await store.get('nope')).toBeUndefined();
    await store.append(rec('r1'));
    await store.append(rec('r2', 'orders'));
    await store.append(rec('e1', 'customers', 'erasure'));
    await store.append(rec('r0'));
    expect((await toArray(store.list())).map((r) => r.id)).toEqual(['r1', 'r2', 'e1', 'r0']);
    expect((await toArray(store.list({ dataset: 'customers' }))).map((r) => r.id)).toEqual(['r1', 'e1', 'r0']);
    expect((await toArray(store.list({ dataset: 'customers', kind: 'run' }))).map((r) => r.id)).toEqual(['r1', 'r0']);
    expect((await toArray(store.list({ kind: 'release' }))).map((r) => r.id)).toEqual([]);
    expect(await store.get('r2')).toEqual(rec('r2', 'orders'));
  });

  it('rejects a duplicate id, also one appended by another instance, and invalid records', async () => {
    const home = await tempHome();
    const a = new FsLineageStore(home);
    const b = new FsLineageStore(home);
    await a.append(rec('same'));
    await expect(b.append(rec('same', 'other'))).rejects.toThrow(ConflictError);
    await expect(a.append(rec('same'))).rejects.toThrow(ConflictError);
    await expect(a.append({ ...rec('x'), kind: 'bogus' as LineageRecord['kind'] })).rejects.toThrow(UsageError);
    await expect(a.append({ ...rec(''), id: '' })).rejects.toThrow(UsageError);
    expect(await toArray(a.list())).toHaveLength(1);
  });

  it('survives a restart (a new instance reads what an old one wrote)', async () => {
    const home = await tempHome();
    const first = new FsLineageStore(home);
    for (let i = 0; i < 5; i++) await first.append(rec(`r${i}`));
    const second = new FsLineageStore(home);
    expect(await second.get('r3')).toEqual(rec('r3'));
    await second.append(rec('r5'));
    expect(await first.get('r5')).toEqual(rec('r5'));
    expect((await toArray(first.list())).map((r) => r.id)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
  });

  it('ignores, then cuts off, the torn tail of a writer that died mid-line', async () => {
    const home = await tempHome();
    const store = new FsLineageStore(home);
    await store.append(rec('ok'));
    await appendFile(store.file, '{"id":"torn","kind":"run","datas');
    const reader = new FsLineageStore(home);
    expect((await toArray(reader.list())).map((r) => r.id)).toEqual(['ok']);
    expect(await reader.get('torn')).toBeUndefined();
    await reader.append(rec('next'));
    expect((await toArray(store.list())).map((r) => r.id)).toEqual(['ok', 'next']);
    expect((await readFile(store.file, 'utf8')).includes('torn')).toBe(false);
  });

  it('two processes appending 200 records each: 400 records, none torn, each writer in order', async () => {
    const home = await tempHome();
    await runTogether([startWorker('lineage-append', home, 'p1', '200'), startWorker('lineage-append', home, 'p2', '200')]);
    const store = new FsLineageStore(home);
    const text = await readFile(store.file, 'utf8');
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(400);
    const records = lines.map((l) => JSON.parse(l) as LineageRecord & { writer: string; seq: number });
    expect(new Set(records.map((r) => r.id)).size).toBe(400);
    for (const writer of ['p1', 'p2']) {
      expect(records.filter((r) => r.writer === writer).map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    }
    expect((await toArray(store.list({ dataset: 'ds' }))).length).toBe(400);
  });
});
