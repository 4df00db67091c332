import { spawnSync } from 'node:child_process';
import { readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  atomicWriteFile,
  createFileExclusive,
  decodeName,
  encodeName,
  overwriteAndUnlink,
  withFileLock,
} from '../../../functions/adapters/local/fs-utils.ts';
import { TransientError, UsageError } from '../../../functions/core/errors.ts';
import { tempHome } from './helpers/temp-home.ts';

describe('encodeName', () => {
  it.each([
    ['customers', 'customers'],
    ['a b', 'a%20b'],
    ['A', '%41'],
    ['.hidden', '%2Ehidden'],
    ['a.b', 'a.b'],
    ['..', '%2E.'],
    ['x/y', 'x%2Fy'],
    ['ü', '%C3%BC'],
    ['%41', '%2541'],
    ['~x', '%7Ex'],
  ])('%j -> %j and back', (name, encoded) => {
    expect(encodeName(name)).toBe(encoded);
    expect(decodeName(encoded)).toBe(name);
  });

  it('is reversible, distinct per case, and safe for every well-formed string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (name) => {
        const enc = encodeName(name);
        if (enc.startsWith('~')) {
          // Only names whose escaped form would not fit in a file name get hashed.
          expect(enc).toMatch(/^~[0-9a-f]{64}$/);
          expect(Buffer.byteLength(name) * 3).toBeGreaterThan(200);
          return;
        }
        expect(enc).toMatch(/^(?:[a-z0-9_-]|%[0-9A-F]{2})(?:[a-z0-9._-]|%[0-9A-F]{2})*$|^$/);
        expect(decodeName(enc)).toBe(name);
        if (name.toLowerCase() !== name) expect(enc).not.toBe(encodeName(name.toLowerCase()));
      }),
      { numRuns: 300 },
    );
  });

  it('hashes names too long for a file name, and rejects lone surrogates', () => {
    const long = 'k'.repeat(300);
    expect(encodeName(long)).toMatch(/^~[0-9a-f]{64}$/);
    expect(encodeName(long)).not.toBe(encodeName(`${long}x`));
    expect(decodeName(encodeName(long))).toBeUndefined();
    expect(() => encodeName('a\uD800b')).toThrow(UsageError);
  });
});

describe('atomic file writes', () => {
  it('atomicWriteFile replaces content with mode 0600 and leaves no temp file', async () => {
    const dir = await tempHome();
    const file = path.join(dir, 'sub', 'f.json');
    await atomicWriteFile(file, 'one');
    await atomicWriteFile(file, 'two');
    expect(await readFile(file, 'utf8')).toBe('two');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(path.dirname(file))).toEqual(['f.json']);
  });

  it('createFileExclusive lets exactly one of many concurrent creators win', async () => {
    const dir = await tempHome();
    const file = path.join(dir, 'once');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => createFileExclusive(file, `writer ${i}`)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await readFile(file, 'utf8')).toBe(`writer ${results.indexOf(true)}`);
    expect(await readdir(dir)).toEqual(['once']);
  });

  it('overwriteAndUnlink removes the file and reports whether it existed', async () => {
    const dir = await tempHome();
    const file = path.join(dir, 'secret');
    await writeFile(file, 'material');
    expect(await overwriteAndUnlink(file)).toBe(true);
    expect(await readdir(dir)).toEqual([]);
    expect(await overwriteAndUnlink(file)).toBe(false);
  });
});

describe('withFileLock', () => {
  it('serialises critical sections (no lost updates)', async () => {
    const dir = await tempHome();
    const counter = path.join(dir, 'counter');
    await writeFile(counter, '0');
    await Promise.all(
      Array.from({ length: 30 }, () =>
        withFileLock(path.join(dir, 'counter.lock'), async () => {
          const n = Number(await readFile(counter, 'utf8'));
          await new Promise((r) => setImmediate(r));
          await writeFile(counter, String(n + 1));
        }),
      ),
    );
    expect(await readFile(counter, 'utf8')).toBe('30');
    expect(await readdir(dir)).toEqual(['counter']);
  });

  it('breaks a lock left by a process that no longer exists', async () => {
    const dir = await tempHome();
    const lock = path.join(dir, 'x.lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    await writeFile(lock, JSON.stringify({ pid: Number(dead), host: os.hostname(), token: 'old' }));
    expect(await withFileLock(lock, async () => 'got it', { timeoutMs: 2_000 })).toBe('got it');
  });

  it('breaks a lock whose heartbeat stopped (old mtime), but waits for a fresh one', async () => {
    const dir = await tempHome();
    const lock = path.join(dir, 'y.lock');
    // Held by a live process (ours, seen from "another host"): only age can make it stale.
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: 'elsewhere', token: 'fresh' }));
    await expect(withFileLock(lock, async () => 'no', { timeoutMs: 200, staleMs: 10_000 })).rejects.toThrow(TransientError);
    const past = new Date(Date.now() - 60_000);
    await utimes(lock, past, past);
    expect(await withFileLock(lock, async () => 'yes', { timeoutMs: 2_000, staleMs: 10_000 })).toBe('yes');
  });

  it('releases the lock when the critical section throws', async () => {
    const dir = await tempHome();
    const lock = path.join(dir, 'z.lock');
    await expect(withFileLock(lock, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await withFileLock(lock, async () => 1, { timeoutMs: 500 })).toBe(1);
  });
});
