import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalPorts } from '../../../functions/adapters/local/local-ports.ts';
import {
  DROP,
  KEEP,
  type LineJudge,
  type ObjectLayout,
  processObject,
  purgeVersions,
  type RowJudge,
  rewriteObject,
} from '../../../functions/core/erasure/rewrite-object.ts';
import { PreconditionFailedError } from '../../../functions/core/errors.ts';
import type { ObjectStore, Ports } from '../../../functions/core/ports.ts';
import type { Cell } from '../../../functions/core/types.ts';

const homes: string[] = [];
afterEach(async () => {
  await Promise.all(homes.splice(0).map((h) => rm(h, { recursive: true, force: true })));
});

async function ports(): Promise<Ports> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'pp-erasure-rw-'));
  homes.push(home);
  return createLocalPorts(home);
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const c of body) parts.push(c);
  const buf = Buffer.concat(parts);
  return (buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf).toString('utf8');
}

/** Drops rows whose `id` is in `drop`; replaces "secret" in text cells. */
function rowJudge(drop: ReadonlySet<string>): (columns: readonly string[]) => RowJudge {
  return (columns) => {
    const id = columns.indexOf('id');
    return {
      judge(cells) {
        if (drop.has(String(cells[id]))) return DROP;
        let spans = 0;
        const out = cells.map((c) => {
          if (typeof c !== 'string' || !c.includes('secret')) return c;
          spans++;
          return c.replaceAll('secret', '[ERASED]');
        });
        return spans > 0 ? { action: 'replace', cells: out, spans } : KEEP;
      },
      indexTokens(cells: readonly Cell[], out: string[]) {
        out.push(`tok-${String(cells[id])}`);
      },
    };
  };
}

async function run(bytes: Uint8Array, layout: ObjectLayout) {
  const tokens: string[] = [];
  const p = await processObject(once(bytes), layout, { fileName: 't', write: true, tokens });
  const out = await text(p.bytes);
  return { out, stats: p.stats(), tokens };
}

describe('processObject', () => {
  it('drops and redacts CSV rows, keeping the dialect (semicolon, CRLF, BOM) and quoting', async () => {
    const csv = '\uFEFFid;name;note\r\n1;Ann;"a; secret"\r\n2;Bob;plain\r\n3;Cy;"multi\nline"\r\n';
    const { out, stats, tokens } = await run(Buffer.from(csv), { shape: 'csv', judge: rowJudge(new Set(['2'])) });
    expect(out).toBe('\uFEFFid;name;note\r\n1;Ann;"a; [ERASED]"\r\n3;Cy;"multi\nline"\r\n');
    expect(stats).toEqual({ rowsBefore: 3, rowsAfter: 2, rowsRemoved: 1, spansRedacted: 1 });
    expect(tokens).toEqual(['tok-1', 'tok-3']);
  });

  it('keeps gzip compression of CSV', async () => {
    const gz = gzipSync(Buffer.from('id,v\n1,a\n2,b\n'));
    const p = await processObject(once(gz), { shape: 'csv', judge: rowJudge(new Set(['1'])) }, { fileName: 't.csv.gz', write: true });
    const parts: Uint8Array[] = [];
    for await (const c of p.bytes) parts.push(c);
    const buf = Buffer.concat(parts);
    expect(buf[0]).toBe(0x1f);
    expect(gunzipSync(buf).toString()).toBe('id,v\n2,b\n');
    expect(p.contentType).toBe('application/gzip');
  });

  it('rewrites JSON Lines line by line: untouched lines stay byte-identical (nested values, absent keys, invalid lines)', async () => {
    const lines = [
      '{"id":"1", "nested":{"a":[1,2]},"note":"x"}',
      '{"id":"2","note":"drop me"}',
      'not json at all',
      '',
      '{"note":"a secret here","id":"3","late":true}',
    ];
    const { out, stats } = await run(Buffer.from(`${lines.join('\n')}\n`), { shape: 'jsonl', judge: rowJudge(new Set(['2'])) });
    expect(out).toBe(
      ['{"id":"1", "nested":{"a":[1,2]},"note":"x"}', 'not json at all', '', '{"note":"a [ERASED] here","id":"3","late":true}', ''].join(
        '\n',
      ),
    );
    expect(stats).toEqual({ rowsBefore: 4, rowsAfter: 3, rowsRemoved: 1, spansRedacted: 1 });
  });

  it('gives JSON Lines judges the columns of the first lines, in order of appearance', async () => {
    let seen: readonly string[] = [];
    const judge = (columns: readonly string[]): RowJudge => {
      seen = columns;
      return { judge: () => KEEP };
    };
    await run(Buffer.from('{"b":1}\n{"a":2,"b":3}\n{"c":4}\n'), { shape: 'jsonl', judge });
    expect(seen).toEqual(['b', 'a', 'c']);
  });

  it('judges whole lines in the lines layout and keeps CR line endings', async () => {
    const judge: LineJudge = {
      judge: (line) =>
        line.includes('drop')
          ? DROP
          : line.includes('secret')
            ? { action: 'replace', line: line.replace('secret', 'X').replace('\r', ''), spans: 1 }
            : KEEP,
    };
    const { out, stats } = await run(Buffer.from('keep\r\ndrop\r\nsecret\r\n'), { shape: 'lines', judge });
    expect(out).toBe('keep\r\nX\r\n');
    expect(stats).toEqual({ rowsBefore: 3, rowsAfter: 2, rowsRemoved: 1, spansRedacted: 1 });
  });

  it('scans without writing when asked', async () => {
    const p = await processObject(
      once(Buffer.from('id\n1\n2\n')),
      { shape: 'csv', judge: rowJudge(new Set(['2'])) },
      { fileName: 't', write: false },
    );
    const chunks: Uint8Array[] = [];
    for await (const c of p.bytes) chunks.push(c);
    expect(chunks).toHaveLength(0);
    expect(p.stats()).toMatchObject({ rowsBefore: 2, rowsRemoved: 1 });
  });
});

describe('rewriteObject', () => {
  const csvLayout: ObjectLayout = { shape: 'csv', judge: rowJudge(new Set(['2'])) };

  it('writes a new version conditionally, marks its origin, and deletes every noncurrent version', async () => {
    const p = await ports();
    await p.objects.put('curated', 'd/part.csv', Buffer.from('id,v\n1,a\n2,b\n'), {
      encryptionContext: { dataset: 'd' },
      metadata: { 'pp-run-id': 'r1' },
    });
    await p.objects.put('curated', 'd/part.csv', Buffer.from('id,v\n1,a\n2,b\n3,c\n'), {
      encryptionContext: { dataset: 'd' },
      metadata: { 'pp-run-id': 'r1' },
    });
    // A sibling key sharing the prefix is never touched.
    await p.objects.put('curated', 'd/part.csv.bak', Buffer.from('id\n2\n'), { encryptionContext: { dataset: 'd' } });
    const res = await rewriteObject(
      p,
      { bucket: 'curated', key: 'd/part.csv', dataset: 'd', prepare: async () => ({ layout: csvLayout }) },
      { originKey: 'pp-origin', requestId: 'req-1' },
    );
    expect(res).toMatchObject({ rowsBefore: 3, rowsAfter: 2, rowsRemoved: 1, versionsDeleted: 2, removed: false, attempts: 1 });
    const versions = [];
    for await (const v of p.objects.listVersions('curated', 'd/part.csv')) if (v.key === 'd/part.csv') versions.push(v);
    expect(versions).toHaveLength(1);
    const cur = await p.objects.get('curated', 'd/part.csv');
    expect(await text(cur.body)).toBe('id,v\n1,a\n3,c\n');
    expect(cur.info.metadata).toMatchObject({ 'pp-origin': 'erasure', 'pp-erasure-request': 'req-1', 'pp-run-id': 'r1' });
    expect(await text((await p.objects.get('curated', 'd/part.csv.bak')).body)).toBe('id\n2\n');
  });

  it("retries when another write lands between read and write, and keeps that write's rows", async () => {
    const p = await ports();
    await p.objects.put('curated', 'd/part.csv', Buffer.from('id,v\n1,a\n2,b\n'), { encryptionContext: { dataset: 'd' } });
    let raced = false;
    const objects: ObjectStore = Object.create(p.objects) as ObjectStore;
    objects.put = async (bucket, key, body, opts) => {
      if (!raced && opts?.ifMatch) {
        raced = true;
        // Someone else appends a row just before our conditional write.
        await p.objects.put(bucket, key, Buffer.from('id,v\n1,a\n2,b\n4,d\n'), { encryptionContext: { dataset: 'd' } });
      }
      return p.objects.put(bucket, key, body, opts);
    };
    const racing: Ports = { ...p, objects };
    const res = await rewriteObject(
      racing,
      { bucket: 'curated', key: 'd/part.csv', dataset: 'd', prepare: async () => ({ layout: csvLayout }) },
      { originKey: 'pp-origin', requestId: 'req-2' },
    );
    expect(res?.attempts).toBe(2);
    expect(await text((await p.objects.get('curated', 'd/part.csv')).body)).toBe('id,v\n1,a\n4,d\n');
  });

  it('gives up after the bounded number of attempts', async () => {
    const p = await ports();
    await p.objects.put('curated', 'd/part.csv', Buffer.from('id\n2\n3\n'), { encryptionContext: { dataset: 'd' } });
    const objects: ObjectStore = Object.create(p.objects) as ObjectStore;
    objects.put = async () => {
      throw new PreconditionFailedError('changed', {});
    };
    await expect(
      rewriteObject(
        { ...p, objects },
        { bucket: 'curated', key: 'd/part.csv', dataset: 'd', prepare: async () => ({ layout: csvLayout }) },
        { originKey: 'pp-origin', requestId: 'r', maxAttempts: 3 },
      ),
    ).rejects.toBeInstanceOf(PreconditionFailedError);
  });

  it('removes a curated object whose every row went, with all its versions; keeps an emptied raw object', async () => {
    const p = await ports();
    await p.objects.put('curated', 'd/p.csv', Buffer.from('id\n2\n'), { encryptionContext: { dataset: 'd' } });
    await p.objects.put('ingest', 'd/f.csv', Buffer.from('id\n2\n'), { encryptionContext: { dataset: 'd' } });
    const target = (bucket: 'curated' | 'ingest', key: string) => ({
      bucket,
      key,
      dataset: 'd',
      prepare: async () => ({ layout: csvLayout }),
    });
    const curated = await rewriteObject(p, target('curated', 'd/p.csv'), { originKey: 'pp-origin', requestId: 'r' });
    expect(curated).toMatchObject({ removed: true, rowsAfter: 0 });
    const left = [];
    for await (const v of p.objects.listVersions('curated', 'd/p.csv')) left.push(v);
    expect(left).toHaveLength(0);
    const raw = await rewriteObject(p, target('ingest', 'd/f.csv'), { originKey: 'pp-origin', requestId: 'r' });
    expect(raw).toMatchObject({ removed: false, rowsAfter: 0 });
    expect(await text((await p.objects.get('ingest', 'd/f.csv')).body)).toBe('id\n');
  });

  it('leaves the object alone when prepare declines', async () => {
    const p = await ports();
    const put = await p.objects.put('ingest', 'd/f.csv', Buffer.from('id\n2\n'), { encryptionContext: { dataset: 'd' } });
    const res = await rewriteObject(
      p,
      { bucket: 'ingest', key: 'd/f.csv', dataset: 'd', prepare: async () => undefined },
      { originKey: 'pp-origin', requestId: 'r' },
    );
    expect(res?.skipped).toBe('declined');
    expect((await p.objects.head('ingest', 'd/f.csv'))?.versionId).toBe(put.versionId);
  });
});

describe('purgeVersions', () => {
  it('deletes noncurrent versions and delete markers of exactly one key', async () => {
    const p = await ports();
    for (const v of ['a', 'b', 'c']) await p.objects.put('ingest', 'd/x.csv', Buffer.from(v));
    await p.objects.delete('ingest', 'd/x.csv');
    await p.objects.put('ingest', 'd/x.csv', Buffer.from('d'));
    await p.objects.put('ingest', 'd/x.csv2', Buffer.from('other'));
    expect(await purgeVersions(p, 'ingest', 'd/x.csv', { keepCurrent: true })).toBe(4);
    expect(await text((await p.objects.get('ingest', 'd/x.csv')).body)).toBe('d');
    expect(await text((await p.objects.get('ingest', 'd/x.csv2')).body)).toBe('other');
    expect(await purgeVersions(p, 'ingest', 'd/x.csv', { keepCurrent: false })).toBe(1);
    expect(await p.objects.head('ingest', 'd/x.csv')).toBeUndefined();
  });
});
