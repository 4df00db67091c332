import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../functions/adapters/local/fs-object-store.ts';
import { encodeName } from '../../../functions/adapters/local/fs-utils.ts';
import { LocalKeyService } from '../../../functions/adapters/local/local-key-service.ts';
import { IntegrityError, ObjectNotFoundError, PreconditionFailedError, UsageError } from '../../../functions/core/errors.ts';
import type { Clock } from '../../../functions/core/ports.ts';
import type { BucketRole } from '../../../functions/core/types.ts';
import { runTogether, startWorker } from './helpers/spawn-worker.ts';
import { collect, tempHome, toArray } from './helpers/temp-home.ts';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function setup(frameSize?: number, clock?: Clock) {
  const home = await tempHome();
  const keys = new LocalKeyService(home);
  const store = new FsObjectStore(home, keys, { ...(frameSize ? { frameSize } : {}), ...(clock ? { clock } : {}) });
  return { home, keys, store };
}

async function read(store: FsObjectStore, bucket: BucketRole, key: string, versionId?: string): Promise<Buffer> {
  const { body } = await store.get(bucket, key, versionId ? { versionId } : {});
  return collect(body);
}

function keyDir(home: string, bucket: string, key: string): string {
  return path.join(home, 'store', bucket, encodeName(key));
}

async function binFile(home: string, bucket: string, key: string): Promise<string> {
  const dir = keyDir(home, bucket, key);
  const bins = (await readdir(dir)).filter((n) => n.endsWith('.bin')).sort();
  return path.join(dir, bins.at(-1) ?? 'missing');
}

/** Yields `data` in chunks of the given sizes (cycled). */
async function* chunked(data: Buffer, sizes: number[]): AsyncIterable<Uint8Array> {
  let offset = 0;
  for (let i = 0; offset < data.length; i++) {
    const n = sizes[i % sizes.length] ?? 1;
    yield data.subarray(offset, offset + n);
    offset += n;
  }
}

describe('FsObjectStore round trips', () => {
  it.each([
    ['empty', 0],
    ['one byte', 1],
    ['one frame minus one', 1023],
    ['exactly one frame', 1024],
    ['one frame plus one', 1025],
    ['exactly three frames', 3072],
    ['several frames', 5000],
  ])('%s (%i bytes, 1 KiB frames)', async (_case, size) => {
    const { store } = await setup(1024);
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i++) data[i] = (i * 31 + 7) & 0xff;
    const info = await store.put('curated', 'ds/obj.csv', chunked(data, [1, 700, 3000, 13]));
    expect(info).toMatchObject({ bucket: 'curated', key: 'ds/obj.csv', size, etag: sha256(data) });
    expect(info.versionId).toMatch(/^[0-9a-f]{24}$/);
    expect(await read(store, 'curated', 'ds/obj.csv')).toEqual(data);
  });

  it('streams a 5 MB object through 64 KiB frames', async () => {
    const { store, home } = await setup();
    const data = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(i, i);
    const info = await store.put('ingest', 'big/file.bin', chunked(data, [100_000, 65_536, 1]));
    expect(info.size).toBe(data.length);
    let chunks = 0;
    const hash = createHash('sha256');
    let largest = 0;
    for await (const chunk of (await store.get('ingest', 'big/file.bin')).body) {
      chunks++;
      largest = Math.max(largest, chunk.length);
      hash.update(chunk);
    }
    expect(hash.digest('hex')).toBe(sha256(data));
    expect(chunks).toBe(Math.ceil(data.length / 65_536));
    expect(largest).toBe(65_536);
    // Ciphertext on disk: frames plus tags plus a small header.
    const onDisk = (await stat(await binFile(home, 'ingest', 'big/file.bin'))).size;
    expect(onDisk - data.length).toBeGreaterThan(chunks * 16);
    expect(onDisk - data.length).toBeLessThan(chunks * 16 + 2048);
  });

  it('round-trips arbitrary bodies split arbitrarily (property)', async () => {
    const { store } = await setup(32);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.integer({ min: 1, max: 70 }), { minLength: 1, maxLength: 5 }),
        async (bytes, sizes) => {
          const data = Buffer.from(bytes);
          const key = `p/${n++}`;
          const info = await store.put('curated', key, chunked(data, sizes));
          expect(info.etag).toBe(sha256(data));
          expect(await read(store, 'curated', key)).toEqual(data);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('keeps metadata and accepts a Uint8Array body; refuses oversized metadata and non-byte chunks', async () => {
    const { store } = await setup();
    const info = await store.put('aggregates', 'ds/agg.json', new TextEncoder().encode('{}'), {
      metadata: { dataset: 'ds', rows: '12' },
      contentType: 'application/json',
    });
    expect(info.metadata).toEqual({ dataset: 'ds', rows: '12' });
    expect((await store.head('aggregates', 'ds/agg.json'))?.metadata).toEqual({ dataset: 'ds', rows: '12' });
    await expect(store.put('aggregates', 'x', Buffer.from('a'), { metadata: { big: 'v'.repeat(2100) } })).rejects.toThrow(UsageError);
    const strings = (async function* () {
      yield 'text' as unknown as Uint8Array;
    })();
    await expect(store.put('aggregates', 'y', strings)).rejects.toThrow(UsageError);
    expect(await store.head('aggregates', 'y')).toBeUndefined();
  });

  it('encrypts at rest: no plaintext anywhere under the home folder', async () => {
    const { store, home } = await setup();
    const secret = 'alice.smith@example.com,4111111111111111';
    await store.put('ingest', 'ds/pii.csv', Buffer.from(secret.repeat(50)), { encryptionContext: { dataset: 'ds' } });
    const files: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(path.join(dir, e.name));
        else files.push(path.join(dir, e.name));
      }
    };
    await walk(home);
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) expect((await readFile(f)).includes('alice.smith')).toBe(false);
  });
});

describe('FsObjectStore keys', () => {
  it.each([
    ['empty', ''],
    ['parent segment', '../etc/passwd'],
    ['inner parent segment', 'a/../../b'],
    ['backslash parent segment', 'a\\..\\b'],
    ['dot segment', 'a/./b'],
    ['absolute', '/etc/passwd'],
    ['windows absolute', 'C:\\Windows'],
    ['NUL', 'a\u0000b'],
    ['newline', 'a\nb'],
    ['lone surrogate', 'a\uD800'],
    ['too long', 'k'.repeat(1025)],
  ])('rejects %s', async (_case, key) => {
    const { store } = await setup();
    await expect(store.put('ingest', key, Buffer.from('x'))).rejects.toThrow(UsageError);
    await expect(store.get('ingest', key)).rejects.toThrow(UsageError);
  });

  it('rejects unknown buckets and malformed version ids', async () => {
    const { store } = await setup();
    await expect(store.put('raw' as BucketRole, 'k', Buffer.from('x'))).rejects.toThrow(UsageError);
    await expect(store.get('ingest', 'k', { versionId: '../../keyring' })).rejects.toThrow(UsageError);
    await expect(store.delete('ingest', 'k', { versionId: 'abc' })).rejects.toThrow(UsageError);
  });

  it('stores near-miss keys separately and lists them in S3 (UTF-8 byte) order', async () => {
    const { store } = await setup();
    const keys = [
      'a',
      'A',
      'a/b',
      'a b',
      'a%20b',
      '.hidden',
      'a..b',
      'ds/ü.csv',
      'x\uFFFF',
      'x\u{10000}',
      `long/${'é'.repeat(500)}`,
      'k'.repeat(1024),
    ];
    for (const key of keys) await store.put('curated', key, Buffer.from(`body of ${key}`));
    for (const key of keys) expect((await read(store, 'curated', key)).toString()).toBe(`body of ${key}`);
    const listed = (await toArray(store.list('curated', ''))).map((o) => o.key);
    expect(listed).toEqual([...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    // UTF-8 order puts U+FFFF before U+10000 (UTF-16 order would not).
    expect(listed.indexOf('x\uFFFF')).toBeLessThan(listed.indexOf('x\u{10000}'));
    expect((await toArray(store.list('curated', 'a'))).map((o) => o.key)).toEqual(['a', 'a b', 'a%20b', 'a..b', 'a/b']);
    expect((await toArray(store.list('curated', 'long/'))).map((o) => o.key)).toEqual([`long/${'é'.repeat(500)}`]);
    expect(await toArray(store.list('quarantine', ''))).toEqual([]);
  });
});

describe('FsObjectStore tamper detection', () => {
  async function stored() {
    const ctx = await setup(1024);
    const data = Buffer.alloc(4000, 0x61);
    await ctx.store.put('curated', 'ds/t.csv', data, { encryptionContext: { dataset: 'ds' } });
    const file = await binFile(ctx.home, 'curated', 'ds/t.csv');
    const bytes = await readFile(file);
    const headerEnd = 8 + bytes.readUInt32BE(4);
    return { ...ctx, data, file, bytes, headerEnd };
  }

  const flip = (b: Buffer, at: number): Buffer => {
    const c = Buffer.from(b);
    c[at] = (c[at] ?? 0) ^ 0x01;
    return c;
  };

  it.each([
    ['a bit in the first frame', (b: Buffer, h: number) => flip(b, h + 10)],
    ['a bit in a middle frame', (b: Buffer, h: number) => flip(b, h + 1040 + 500)],
    ['a bit in the final tag', (b: Buffer) => flip(b, b.length - 1)],
    ['a bit in the header', (b: Buffer, h: number) => flip(b, h - 3)],
    ['the magic', (b: Buffer) => flip(b, 0)],
    [
      'two frames swapped',
      (b: Buffer, h: number) =>
        Buffer.concat([b.subarray(0, h), b.subarray(h + 1040, h + 2080), b.subarray(h, h + 1040), b.subarray(h + 2080)]),
    ],
    ['garbage appended', (b: Buffer) => Buffer.concat([b, Buffer.alloc(20)])],
    [
      'a frame appended',
      (b: Buffer, h: number) => Buffer.concat([b.subarray(0, h + 1040 * 3), b.subarray(h + 1040, h + 2080), b.subarray(h + 1040 * 3)]),
    ],
  ])('detects %s', async (_case, tamper) => {
    const { store, file, bytes, headerEnd } = await stored();
    await writeFile(file, tamper(bytes, headerEnd));
    await expect(read(store, 'curated', 'ds/t.csv')).rejects.toThrow(IntegrityError);
  });

  it.each([
    ['at a frame boundary', (h: number) => h + 1040 * 3],
    ['inside a frame', (h: number) => h + 1040 + 100],
    ['inside the header', (h: number) => h - 10],
    ['after the final frame tag', (h: number) => h + 1040 * 3 + 944 + 16 - 1],
  ])('detects truncation %s', async (_case, at) => {
    const { store, file, headerEnd } = await stored();
    await truncate(file, at(headerEnd));
    await expect(read(store, 'curated', 'ds/t.csv')).rejects.toThrow(IntegrityError);
  });

  it('refuses an object file copied under another key', async () => {
    const { store, home } = await stored();
    await store.put('curated', 'ds/other.csv', Buffer.from('other'), { encryptionContext: { dataset: 'ds' } });
    const from = keyDir(home, 'curated', 'ds/t.csv');
    const to = keyDir(home, 'curated', 'ds/other.csv');
    // Copy the version (data and manifest) into the other key's folder as its newest version.
    const [json] = (await readdir(from)).filter((n) => n.endsWith('.json'));
    const newer = 'ffffffffffff0000aaaaaaaa';
    await copyFile(path.join(from, json ?? ''), path.join(to, `${newer}.json`));
    await copyFile(path.join(from, (json ?? '').replace('.json', '.bin')), path.join(to, `${newer}.bin`));
    await expect(read(store, 'curated', 'ds/other.csv')).rejects.toThrow(IntegrityError);
    // Also when the manifest is edited to claim the new location.
    const manifest = JSON.parse(await readFile(path.join(to, `${newer}.json`), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(to, `${newer}.json`), JSON.stringify({ ...manifest, key: 'ds/other.csv' }));
    await expect(read(store, 'curated', 'ds/other.csv')).rejects.toThrow(IntegrityError);
    // And in another bucket.
    await mkdir(keyDir(home, 'aggregates', 'ds/t.csv'), { recursive: true });
    for (const name of await readdir(from)) await copyFile(path.join(from, name), path.join(keyDir(home, 'aggregates', 'ds/t.csv'), name));
    await expect(read(store, 'aggregates', 'ds/t.csv')).rejects.toThrow(IntegrityError);
  });

  it('refuses a manifest whose etag or size was changed', async () => {
    const { store, home, data } = await stored();
    const dir = keyDir(home, 'curated', 'ds/t.csv');
    const [json] = (await readdir(dir)).filter((n) => n.endsWith('.json'));
    const file = path.join(dir, json ?? '');
    const manifest = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...manifest, etag: sha256(Buffer.from('forged')) }));
    await expect(read(store, 'curated', 'ds/t.csv')).rejects.toThrow(IntegrityError);
    await writeFile(file, JSON.stringify({ ...manifest, size: data.length - 1 }));
    await expect(read(store, 'curated', 'ds/t.csv')).rejects.toThrow(IntegrityError);
  });
});

describe('FsObjectStore versions', () => {
  it('keeps every version, lists them, and reads old ones', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const clock = { now: () => new Date(now) };
    const { store } = await setup(undefined, clock);
    const v1 = await store.put('curated', 'ds/a.csv', Buffer.from('one'));
    const v2 = await store.put('curated', 'ds/a.csv', Buffer.from('two')); // same millisecond
    now += 1000;
    const v3 = await store.put('curated', 'ds/a.csv', Buffer.from('three'));
    await store.put('curated', 'ds/b.csv', Buffer.from('b'));
    expect(v1.versionId! < v2.versionId! && v2.versionId! < v3.versionId!).toBe(true);
    expect((await read(store, 'curated', 'ds/a.csv')).toString()).toBe('three');
    expect((await read(store, 'curated', 'ds/a.csv', v1.versionId)).toString()).toBe('one');
    expect((await store.head('curated', 'ds/a.csv'))?.lastModified.toISOString()).toBe('2026-01-01T00:00:01.000Z');
    const versions = await toArray(store.listVersions('curated', 'ds/'));
    expect(versions.map((v) => [v.key, v.versionId, v.isLatest, v.isDeleteMarker])).toEqual([
      ['ds/a.csv', v3.versionId, true, false],
      ['ds/a.csv', v2.versionId, false, false],
      ['ds/a.csv', v1.versionId, false, false],
      ['ds/b.csv', expect.any(String), true, false],
    ]);
  });

  it('a delete writes a marker; deleting the marker version brings the object back; a version delete is final', async () => {
    const { store, home } = await setup();
    const v1 = await store.put('curated', 'k', Buffer.from('one'));
    const v2 = await store.put('curated', 'k', Buffer.from('two'));
    await store.delete('curated', 'k');
    expect(await store.head('curated', 'k')).toBeUndefined();
    await expect(store.get('curated', 'k')).rejects.toThrow(ObjectNotFoundError);
    expect(await toArray(store.list('curated', ''))).toEqual([]);
    const versions = await toArray(store.listVersions('curated', 'k'));
    expect(versions.map((v) => [v.isLatest, v.isDeleteMarker])).toEqual([
      [true, true],
      [false, false],
      [false, false],
    ]);
    await expect(store.get('curated', 'k', { versionId: versions[0]?.versionId ?? '' })).rejects.toThrow(ObjectNotFoundError);
    expect((await read(store, 'curated', 'k', v2.versionId)).toString()).toBe('two');

    await store.delete('curated', 'k', { versionId: versions[0]?.versionId ?? '' });
    expect((await read(store, 'curated', 'k')).toString()).toBe('two');

    await store.delete('curated', 'k', { versionId: v2.versionId ?? '' });
    expect((await read(store, 'curated', 'k')).toString()).toBe('one');
    await expect(store.get('curated', 'k', { versionId: v2.versionId ?? '' })).rejects.toThrow(ObjectNotFoundError);
    await store.delete('curated', 'k', { versionId: v2.versionId ?? '' }); // already gone: no error, like S3
    await store.delete('curated', 'k', { versionId: v1.versionId ?? '' });
    expect(await toArray(store.listVersions('curated', ''))).toEqual([]);
    // Nothing of the object is left on disk (a purged version is unrecoverable here).
    expect((await readdir(path.join(home, 'store', 'curated'))).filter((n) => !n.startsWith('.'))).toEqual([]);
  });
});

describe('FsObjectStore conditional puts', () => {
  it.each([
    ['ifNoneMatch on a missing key', undefined, { ifNoneMatch: '*' as const }, true],
    ['ifNoneMatch on an existing key', 'x', { ifNoneMatch: '*' as const }, false],
    ['ifNoneMatch after a delete marker', 'deleted', { ifNoneMatch: '*' as const }, true],
    ['ifMatch with the current etag', 'x', { ifMatch: 'current' }, true],
    ['ifMatch with the current etag quoted', 'x', { ifMatch: '"current"' }, true],
    ['ifMatch with another etag', 'x', { ifMatch: sha256(Buffer.from('y')) }, false],
    ['ifMatch with an etag of an older version', 'x', { ifMatch: 'older' }, false],
    ['ifMatch on a missing key', undefined, { ifMatch: sha256(Buffer.from('x')) }, false],
    ['ifMatch after a delete marker', 'deleted', { ifMatch: sha256(Buffer.from('x')) }, false],
  ])('%s', async (_case, existing, condition, succeeds) => {
    const { store, home } = await setup();
    let etag = '';
    let older = '';
    if (existing !== undefined) {
      older = (await store.put('curated', 'k', Buffer.from('old'))).etag;
      etag = (await store.put('curated', 'k', Buffer.from('x'))).etag;
      if (existing === 'deleted') await store.delete('curated', 'k');
    }
    const opts = 'ifMatch' in condition ? { ifMatch: condition.ifMatch.replace('current', etag).replace('older', older) } : condition;
    const before = (await toArray(store.listVersions('curated', 'k'))).length;
    const attempt = store.put('curated', 'k', Buffer.from('new'), opts);
    if (succeeds) {
      await attempt;
      expect((await read(store, 'curated', 'k')).toString()).toBe('new');
    } else {
      await expect(attempt).rejects.toThrow(PreconditionFailedError);
      expect(await toArray(store.listVersions('curated', 'k'))).toHaveLength(before);
    }
    expect(await readdir(path.join(home, 'store', 'curated', '.tmp')).catch(() => [])).toEqual([]);
  });

  it('lets exactly one of many concurrent ifNoneMatch puts win (in process)', async () => {
    const { store } = await setup();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => store.put('ingest', 'once', Buffer.from(`w${i}`), { ifNoneMatch: '*' })),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(PreconditionFailedError);
    expect(await toArray(store.listVersions('ingest', 'once'))).toHaveLength(1);
  });

  it('lets exactly one of two processes win each ifNoneMatch race', async () => {
    const home = await tempHome();
    const results = await runTogether<{ wins: string[] }>([
      startWorker('put-if-none-match', home, 'race/', '25'),
      startWorker('put-if-none-match', home, 'race/', '25'),
    ]);
    const wins = results.flatMap((r) => r.wins).sort();
    expect(wins).toEqual(Array.from({ length: 25 }, (_, i) => `race/${i}`).sort());
    const store = new FsObjectStore(home, new LocalKeyService(home));
    const versions = await toArray(store.listVersions('ingest', 'race/'));
    expect(versions).toHaveLength(25);
  });
});

describe('FsObjectStore atomicity', () => {
  it('a reader racing an overwriting writer sees one whole version, never a mix', async () => {
    const { store } = await setup(4096);
    const bodies = ['A', 'B', 'C'].map((c) => Buffer.alloc(50_000, c));
    await store.put('curated', 'hot', bodies[0] ?? Buffer.alloc(0));
    const seen = new Set<string>([String.fromCharCode((await read(store, 'curated', 'hot'))[0] ?? 0)]);
    let writing = true;
    const writer = (async () => {
      // 31 writes: the last one leaves 'B', so the reads after it differ from the first one.
      for (let i = 1; i <= 31; i++) await store.put('curated', 'hot', chunked(bodies[i % 3] ?? Buffer.alloc(0), [3000]));
      writing = false;
    })();
    let reads = 0;
    while (writing || reads < 5) {
      const { info, body } = await store.get('curated', 'hot');
      const got = await collect(body);
      expect(got.length).toBe(50_000);
      expect(new Set(got).size).toBe(1);
      expect(sha256(got)).toBe(info.etag);
      seen.add(String.fromCharCode(got[0] ?? 0));
      reads++;
    }
    await writer;
    expect(seen.size).toBeGreaterThan(1);
  });

  it('a writer killed mid-write leaves the old version intact and nothing visible', async () => {
    const home = await tempHome();
    const store = new FsObjectStore(home, new LocalKeyService(home));
    const old = await store.put('curated', 'ds/part.csv', Buffer.from('the old version'));
    const worker = startWorker('slow-put', home, 'ds/part.csv');
    await worker.waitFor('writing');
    await worker.kill();
    const versions = await toArray(store.listVersions('curated', 'ds/'));
    expect(versions.map((v) => v.versionId)).toEqual([old.versionId]);
    expect((await read(store, 'curated', 'ds/part.csv')).toString()).toBe('the old version');
    // The dead writer's partial file sits only in .tmp, and the next write succeeds.
    expect((await readdir(path.join(home, 'store', 'curated', '.tmp'))).length).toBe(1);
    await store.put('curated', 'ds/part.csv', Buffer.from('new'));
    expect((await read(store, 'curated', 'ds/part.csv')).toString()).toBe('new');
  });

  it('recovers the commit lock of a writer that died holding it', async () => {
    const home = await tempHome();
    const store = new FsObjectStore(home, new LocalKeyService(home), { lock: { timeoutMs: 5_000 } });
    const worker = startWorker('hold-object-lock', home, 'curated', 'ds/locked.csv');
    await worker.waitFor('locked');
    await worker.kill();
    await store.put('curated', 'ds/locked.csv', Buffer.from('after the crash'));
    expect((await read(store, 'curated', 'ds/locked.csv')).toString()).toBe('after the crash');
  });
});

describe('FsObjectStore leftovers', () => {
  it('removes a data file whose manifest was never written (writer killed between its renames)', async () => {
    const { store, home } = await setup();
    await store.put('curated', 'k', Buffer.from('one'));
    const dir = keyDir(home, 'curated', 'k');
    const [bin] = (await readdir(dir)).filter((n) => n.endsWith('.bin'));
    await copyFile(path.join(dir, bin ?? ''), path.join(dir, 'ffffffffffff0000aaaaaaaa.bin'));
    await writeFile(path.join(dir, '.tmp-123-abc'), 'half a manifest');
    expect((await toArray(store.listVersions('curated', 'k'))).length).toBe(1);
    await store.put('curated', 'k', Buffer.from('two'));
    const names = await readdir(dir);
    expect(names.filter((n) => n.endsWith('.bin'))).toHaveLength(2);
    expect(names).not.toContain('ffffffffffff0000aaaaaaaa.bin');
    expect(names.filter((n) => n.startsWith('.'))).toEqual([]);
  });
});
