import { readdir, rename } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { LocalKeyService } from '../../../functions/adapters/local/local-key-service.ts';
import { LocalSubjectKeyVault } from '../../../functions/adapters/local/local-subject-key-vault.ts';
import { IntegrityError } from '../../../functions/core/errors.ts';
import { runTogether, startWorker } from './helpers/spawn-worker.ts';
import { tempHome } from './helpers/temp-home.ts';

const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex');

describe('LocalSubjectKeyVault', () => {
  it('creates one stable key per subject, stored wrapped', async () => {
    const home = await tempHome();
    const vault = new LocalSubjectKeyVault(home, new LocalKeyService(home));
    expect(await vault.get('tok_alice')).toBeUndefined();
    const alice = await vault.getOrCreate('tok_alice');
    expect(alice).toHaveLength(32);
    expect(hex(await vault.getOrCreate('tok_alice'))).toBe(hex(alice));
    expect(hex(await vault.getOrCreate('tok_bob'))).not.toBe(hex(alice));
    const other = new LocalSubjectKeyVault(home, new LocalKeyService(home));
    expect(hex(await other.get('tok_alice'))).toBe(hex(alice));
    const files = await readdir(vault.dir);
    expect(files).toHaveLength(2);
    expect(files.join()).not.toContain('alice');
  });

  it('shreds: the key is gone for every instance and cannot be recovered', async () => {
    const home = await tempHome();
    const keys = new LocalKeyService(home);
    const vault = new LocalSubjectKeyVault(home, keys);
    const other = new LocalSubjectKeyVault(home, keys, { cacheSize: 0 });
    const alice = await vault.getOrCreate('tok_alice');
    await vault.getOrCreate('tok_bob');
    expect(await vault.shred('tok_alice')).toBe(true);
    expect(await vault.get('tok_alice')).toBeUndefined();
    expect(await other.get('tok_alice')).toBeUndefined();
    expect(await vault.shred('tok_alice')).toBe(false);
    expect(await vault.get('tok_bob')).toHaveLength(32);
    expect(await readdir(vault.dir)).toHaveLength(1);
    // A later getOrCreate makes a new, unrelated key: old reversible tokens stay undecryptable.
    expect(hex(await vault.getOrCreate('tok_alice'))).not.toBe(hex(alice));
  });

  it('get never serves a cached key: a key shredded by another vault object is gone at once', async () => {
    const home = await tempHome();
    const keys = new LocalKeyService(home);
    const ingest = new LocalSubjectKeyVault(home, keys);
    const erasure = new LocalSubjectKeyVault(home, keys);
    const alice = await ingest.getOrCreate('tok_alice');
    expect(hex(await ingest.get('tok_alice'))).toBe(hex(alice));
    expect(await erasure.shred('tok_alice')).toBe(true);
    expect(await ingest.get('tok_alice')).toBeUndefined();
    // The vault that shredded drops its own cached copy as well.
    await erasure.getOrCreate('tok_bob');
    await erasure.shred('tok_bob');
    expect(await erasure.get('tok_bob')).toBeUndefined();
  });

  it('refuses a key file moved to another subject', async () => {
    const home = await tempHome();
    const vault = new LocalSubjectKeyVault(home, new LocalKeyService(home), { cacheSize: 0 });
    await vault.getOrCreate('tok_alice');
    const [file] = await readdir(vault.dir);
    await vault.getOrCreate('tok_bob');
    const bobFile = (await readdir(vault.dir)).find((f) => f !== file) ?? '';
    await rename(`${vault.dir}/${file}`, `${vault.dir}/${bobFile}`);
    await expect(vault.get('tok_bob')).rejects.toThrow(IntegrityError);
  });

  it('concurrent first use gives one key (instances in process and two processes)', async () => {
    const home = await tempHome();
    const keys = new LocalKeyService(home);
    const got = await Promise.all(Array.from({ length: 8 }, () => new LocalSubjectKeyVault(home, keys).getOrCreate('tok_carol')));
    expect(new Set(got.map(hex)).size).toBe(1);
    const results = await runTogether<{ key: string }>([
      startWorker('subject-key', home, 'tok_dave'),
      startWorker('subject-key', home, 'tok_dave'),
    ]);
    expect(results[0]?.key).toBe(results[1]?.key);
    const { createHash } = await import('node:crypto');
    expect(
      createHash('sha256')
        .update((await new LocalSubjectKeyVault(home, keys).get('tok_dave')) ?? new Uint8Array())
        .digest('hex'),
    ).toBe(results[0]?.key);
  });
});
