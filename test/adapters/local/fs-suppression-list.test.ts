import { appendFile, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { FsSuppressionList } from '../../../functions/adapters/local/fs-suppression-list.ts';
import { LocalKeyService } from '../../../functions/adapters/local/local-key-service.ts';
import { IntegrityError, UsageError } from '../../../functions/core/errors.ts';
import { tempHome } from './helpers/temp-home.ts';

describe('FsSuppressionList', () => {
  it('adds tokens, returns the union, keeps them encrypted on disk, survives restart and rotation', async () => {
    const home = await tempHome();
    const keys = new LocalKeyService(home);
    const list = new FsSuppressionList(home, keys);
    expect(await list.all()).toEqual(new Set());
    await list.add(['tok_aaa111', 'tok_bbb222'], 'erase-1');
    await keys.rotate();
    await list.add(['tok_bbb222', 'tok_ccc333'], 'erase-2');
    await list.add([], 'erase-3');
    const fresh = new FsSuppressionList(home, new LocalKeyService(home));
    expect(await fresh.all()).toEqual(new Set(['tok_aaa111', 'tok_bbb222', 'tok_ccc333']));
    const text = await readFile(list.file, 'utf8');
    expect(text).not.toContain('tok_');
    expect(text).toContain('erase-2');
    expect(text.trim().split('\n')).toHaveLength(2);
  });

  it('splits a large batch over several lines and reads them all back', async () => {
    const home = await tempHome();
    const list = new FsSuppressionList(home, new LocalKeyService(home));
    const tokens = Array.from({ length: 600 }, (_, i) => `tok_${String(i).padStart(40, '0')}`);
    await list.add(tokens, 'bulk');
    expect((await readFile(list.file, 'utf8')).trim().split('\n').length).toBeGreaterThan(1);
    expect(await list.all()).toEqual(new Set(tokens));
  });

  it('survives a torn tail, detects a tampered line, and rejects bad input', async () => {
    const home = await tempHome();
    const list = new FsSuppressionList(home, new LocalKeyService(home));
    await list.add(['tok_1'], 'r1');
    await appendFile(list.file, '{"requestId":"r2","sea');
    expect(await list.all()).toEqual(new Set(['tok_1']));
    await list.add(['tok_2'], 'r3');
    expect(await list.all()).toEqual(new Set(['tok_1', 'tok_2']));
    // A line moved to another request id no longer decrypts.
    const lines = (await readFile(list.file, 'utf8')).split('\n');
    await appendFile(list.file, `${(lines[0] ?? '').replace('"r1"', '"r9"')}\n`);
    await expect(list.all()).rejects.toThrow(IntegrityError);
    await expect(list.add([''], 'r4')).rejects.toThrow(UsageError);
    await expect(list.add(['tok'], '')).rejects.toThrow(UsageError);
  });
});
