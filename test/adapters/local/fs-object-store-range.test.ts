import { randomBytes } from 'node:crypto';
import { open, readdir, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../functions/adapters/local/fs-object-store.ts';
import { encodeName } from '../../../functions/adapters/local/fs-utils.ts';
import { LocalKeyService } from '../../../functions/adapters/local/local-key-service.ts';
import { IntegrityError, ObjectNotFoundError } from '../../../functions/core/errors.ts';
import { tempHome } from './helpers/temp-home.ts';

async function setup(frameSize: number) {
  const home = await tempHome();
  const store = new FsObjectStore(home, new LocalKeyService(home), { frameSize });
  return { home, store };
}

async function binFile(home: string, key: string): Promise<string> {
  const dir = path.join(home, 'store', 'ingest', encodeName(key));
  const bins = (await readdir(dir)).filter((n) => n.endsWith('.bin')).sort();
  return path.join(dir, bins.at(-1) ?? 'missing');
}

describe('FsObjectStore.readRange', () => {
  it('property: any range equals the same slice of the whole object', async () => {
    const { store } = await setup(64);
    const data = randomBytes(1000);
    await store.put('ingest', 'd/a.bin', data);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 1100 }), fc.nat({ max: 1100 }), async (a, b) => {
        const [start, end] = a <= b ? [a, b] : [b, a];
        const got = await store.readRange('ingest', 'd/a.bin', start, end);
        expect(Buffer.from(got)).toEqual(data.subarray(start, end));
      }),
      { numRuns: 80 },
    );
  });

  it('edge sizes: empty object, exact multiple of the frame size, ranges at the end', async () => {
    const { store } = await setup(16);
    await store.put('ingest', 'd/empty', new Uint8Array(0));
    expect(await store.readRange('ingest', 'd/empty', 0, 10)).toHaveLength(0);
    const data = randomBytes(64);
    await store.put('ingest', 'd/four', data);
    expect(Buffer.from(await store.readRange('ingest', 'd/four', 48, 64))).toEqual(data.subarray(48));
    expect(Buffer.from(await store.readRange('ingest', 'd/four', 60, 1000))).toEqual(data.subarray(60));
    expect(await store.readRange('ingest', 'd/four', 64, 80)).toHaveLength(0);
  });

  it('reads a given version', async () => {
    const { store } = await setup(32);
    const v1 = await store.put('ingest', 'd/v', Buffer.from('first version of the object'));
    await store.put('ingest', 'd/v', Buffer.from('second'));
    expect(Buffer.from(await store.readRange('ingest', 'd/v', 6, 13, { versionId: v1.versionId as string })).toString()).toBe('version');
    expect(Buffer.from(await store.readRange('ingest', 'd/v', 0, 3)).toString()).toBe('sec');
  });

  it('authenticates the frames it reads: a flipped bit fails there, other frames still read', async () => {
    const { home, store } = await setup(16);
    const data = randomBytes(160);
    await store.put('ingest', 'd/t', data);
    const file = await binFile(home, 'd/t');
    const fh = await open(file, 'r+');
    const { size } = await fh.stat();
    // Frames are 16 + 16 bytes; flip a byte in the middle of the fourth frame from the end.
    const pos = size - 4 * 32 + 5;
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, pos);
    b[0] = (b[0] as number) ^ 1;
    await fh.write(b, 0, 1, pos);
    await fh.close();
    await expect(store.readRange('ingest', 'd/t', 100, 110)).rejects.toBeInstanceOf(IntegrityError);
    expect(Buffer.from(await store.readRange('ingest', 'd/t', 0, 32))).toEqual(data.subarray(0, 32));
  });

  it('refuses a truncated object and a missing one', async () => {
    const { home, store } = await setup(16);
    await store.put('ingest', 'd/cut', randomBytes(100));
    const file = await binFile(home, 'd/cut');
    await truncate(file, (await stat(file)).size - 20);
    await expect(store.readRange('ingest', 'd/cut', 0, 10)).rejects.toMatchObject({ context: { rule: 'truncated' } });
    await expect(store.readRange('ingest', 'd/none', 0, 10)).rejects.toBeInstanceOf(ObjectNotFoundError);
  });
});
