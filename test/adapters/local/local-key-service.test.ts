import { chmod, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalKeyService } from '../../../functions/adapters/local/local-key-service.ts';
import { IntegrityError, KeyError, UsageError } from '../../../functions/core/errors.ts';
import { runTogether, startWorker } from './helpers/spawn-worker.ts';
import { tempHome } from './helpers/temp-home.ts';

const ctx = { dataset: 'customers', bucket: 'curated' };

/** Every encoding of key material an error could leak. */
function encodings(bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes);
  return [b.toString('hex'), b.toString('base64'), b.toString('base64url'), b.toString('latin1')];
}

function expectNoLeak(err: unknown, secrets: Uint8Array[]): void {
  const e = err as Error & { context?: unknown; cause?: unknown };
  const text = `${e.message}\n${JSON.stringify(e.context)}\n${String(e.stack)}\n${JSON.stringify(e.cause ?? null)}`;
  for (const secret of secrets) for (const enc of encodings(secret)) expect(text).not.toContain(enc);
}

describe('LocalKeyService', () => {
  it('creates the keyring on first use with owner-only permissions', async () => {
    const home = path.join(await tempHome(), 'new-home');
    const keys = new LocalKeyService(home);
    await keys.generateDataKey(ctx);
    expect((await stat(keys.keyringPath)).mode & 0o777).toBe(0o600);
    expect((await stat(home)).mode & 0o777).toBe(0o700);
    const ring = JSON.parse(await readFile(keys.keyringPath, 'utf8')) as Record<string, unknown>;
    expect(ring.current).toBe('v1');
    expect(Object.keys(ring.masterKeys as object)).toEqual(['v1']);
  });

  it('refuses a keyring that group or others can read', async () => {
    const home = await tempHome();
    const keys = new LocalKeyService(home);
    await keys.describe();
    await chmod(keys.keyringPath, 0o644);
    await expect(new LocalKeyService(home).describe()).rejects.toThrow(KeyError);
  });

  it('generates fresh 256-bit data keys that unwrap only with the same context', async () => {
    const keys = new LocalKeyService(await tempHome());
    const a = await keys.generateDataKey(ctx);
    const b = await keys.generateDataKey(ctx);
    expect(a.plaintext).toHaveLength(32);
    expect(Buffer.from(a.plaintext).equals(Buffer.from(b.plaintext))).toBe(false);
    expect(a.ref).toEqual({ keyId: 'local/master', version: 'v1', purpose: 'data' });
    // Key order of the context does not matter (canonical JSON).
    expect(Buffer.from(await keys.decryptDataKey(a.wrapped, { bucket: 'curated', dataset: 'customers' }))).toEqual(
      Buffer.from(a.plaintext),
    );
  });

  it.each([
    ['a changed value', { dataset: 'orders', bucket: 'curated' }],
    ['a missing entry', { dataset: 'customers' }],
    ['an extra entry', { ...ctx, extra: '' }],
    ['a differently cased name', { Dataset: 'customers', bucket: 'curated' }],
    ['an empty context', {}],
  ])('rejects unwrapping with %s, without leaking material', async (_case, wrong) => {
    const keys = new LocalKeyService(await tempHome());
    const dk = await keys.generateDataKey(ctx);
    const err = await keys.decryptDataKey(dk.wrapped, wrong).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyError);
    expectNoLeak(err, [dk.plaintext, dk.wrapped]);
  });

  it.each([
    ['a flipped ciphertext bit', (b: Uint8Array) => b.map((x, i) => (i === b.length - 20 ? x ^ 1 : x))],
    ['a flipped tag bit', (b: Uint8Array) => b.map((x, i) => (i === b.length - 1 ? x ^ 0x80 : x))],
    ['a truncated blob', (b: Uint8Array) => b.subarray(0, b.length - 1)],
    ['a wrong magic', (b: Uint8Array) => b.map((x, i) => (i === 0 ? 0 : x))],
    ['an unknown version', (b: Uint8Array) => b.map((x, i) => (i === 5 ? '9'.charCodeAt(0) : x))],
  ])('rejects %s', async (_case, tamper) => {
    const keys = new LocalKeyService(await tempHome());
    const dk = await keys.generateDataKey(ctx);
    await expect(keys.decryptDataKey(tamper(new Uint8Array(dk.wrapped)), ctx)).rejects.toThrow(KeyError);
  });

  it('encrypts small payloads bound to their context', async () => {
    const keys = new LocalKeyService(await tempHome());
    const secret = Buffer.from('a small secret payload');
    const sealed = await keys.encrypt(secret, ctx);
    expect(Buffer.from(sealed).includes(secret)).toBe(false);
    expect(Buffer.from(await keys.decrypt(sealed, ctx))).toEqual(secret);
    const err = await keys.decrypt(sealed, { ...ctx, dataset: 'orders' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expectNoLeak(err, [secret]);
    await expect(keys.encrypt(new Uint8Array(4097), ctx)).rejects.toThrow(UsageError);
    await expect(keys.encrypt(new Uint8Array(4096), ctx)).resolves.toBeInstanceOf(Uint8Array);
    await expect(keys.encrypt(secret, { n: 1 } as unknown as Record<string, string>)).rejects.toThrow(UsageError);
  });

  it('keeps pseudonym keys wrapped on disk and stable per process', async () => {
    const home = await tempHome();
    const keys = new LocalKeyService(home);
    const hmac = await keys.pseudonymKey('token-hmac');
    const siv = await keys.pseudonymKey('token-siv');
    expect(hmac.material).toHaveLength(32);
    expect(hmac.ref).toEqual({ keyId: 'local/token-hmac', version: 'v1', purpose: 'token-hmac' });
    expect(Buffer.from(hmac.material).equals(Buffer.from(siv.material))).toBe(false);
    const ring = await readFile(keys.keyringPath, 'utf8');
    for (const enc of [...encodings(hmac.material), ...encodings(siv.material)]) expect(ring).not.toContain(enc);
    // Zeroing a returned key does not corrupt the cached one.
    hmac.material.fill(0);
    const again = await keys.pseudonymKey('token-hmac');
    expect(Buffer.from(again.material)).toEqual(Buffer.from((await new LocalKeyService(home).pseudonymKey('token-hmac')).material));
    expect(again.material.some((x) => x !== 0)).toBe(true);
  });

  it('rotates: new wraps use v2, v1 blobs still open, pseudonym keys keep material and version', async () => {
    const home = await tempHome();
    const keys = new LocalKeyService(home);
    const before = await keys.generateDataKey(ctx);
    const sealed = await keys.encrypt(Buffer.from('payload'), ctx);
    const hmacBefore = await keys.pseudonymKey('token-hmac');
    const sivBefore = await new LocalKeyService(home).pseudonymKey('token-siv');

    expect(await keys.rotate()).toEqual({ keyId: 'local/master', version: 'v2', purpose: 'data' });

    expect(await keys.describeDataKey()).toEqual({ keyId: 'local/master', version: 'v2', purpose: 'data' });
    const after = await keys.generateDataKey(ctx);
    expect(after.ref.version).toBe('v2');
    expect(Buffer.from(after.wrapped).subarray(4, 6).toString('ascii')).toBe('v2');
    expect(Buffer.from(await keys.decryptDataKey(before.wrapped, ctx))).toEqual(Buffer.from(before.plaintext));
    expect(Buffer.from(await keys.decrypt(sealed, ctx)).toString()).toBe('payload');

    // A fresh process (new instance) unwraps the pseudonym keys re-wrapped under v2: same material, same version.
    const fresh = new LocalKeyService(home);
    const hmacAfter = await fresh.pseudonymKey('token-hmac');
    expect(Buffer.from(hmacAfter.material)).toEqual(Buffer.from(hmacBefore.material));
    expect(hmacAfter.ref).toEqual(hmacBefore.ref);
    expect(Buffer.from((await fresh.pseudonymKey('token-siv')).material)).toEqual(Buffer.from(sivBefore.material));
    const ring = JSON.parse(await readFile(keys.keyringPath, 'utf8')) as { pseudonymKeys: Record<string, { wrapped: string }> };
    expect(
      Buffer.from(ring.pseudonymKeys['token-hmac']?.wrapped ?? '', 'base64')
        .subarray(4, 6)
        .toString('ascii'),
    ).toBe('v2');

    const described = await fresh.describe();
    expect(described.master.version).toBe('v2');
    expect(described.masterVersions).toEqual(['v1', 'v2']);
    expect(described.pseudonym['token-hmac'].version).toBe('v1');
    expect(JSON.stringify(described)).not.toContain(Buffer.from(hmacBefore.material).toString('base64'));
  });

  it('picks up a rotation made by another instance (another process)', async () => {
    const home = await tempHome();
    const stale = new LocalKeyService(home);
    await stale.generateDataKey(ctx);
    const other = new LocalKeyService(home);
    await other.rotate();
    const v2 = await other.generateDataKey(ctx);
    // The stale instance unwraps v2 blobs and wraps new keys under v2.
    expect(Buffer.from(await stale.decryptDataKey(v2.wrapped, ctx))).toEqual(Buffer.from(v2.plaintext));
    expect((await stale.generateDataKey(ctx)).ref.version).toBe('v2');
    await Promise.all([stale.rotate(), other.rotate()]);
    expect((await new LocalKeyService(home).describe()).masterVersions).toEqual(['v1', 'v2', 'v3', 'v4']);
  });

  it('ends up with one keyring when instances race on first use', async () => {
    const home = await tempHome();
    const instances = Array.from({ length: 8 }, () => new LocalKeyService(home));
    const got = await Promise.all(instances.map((k) => k.pseudonymKey('token-hmac')));
    for (const g of got) expect(Buffer.from(g.material)).toEqual(Buffer.from(got[0]?.material ?? []));
  });

  it('ends up with one keyring when two processes race on first use', async () => {
    const home = await tempHome();
    const results = await runTogether<{ hmac: string; master: string }>([
      startWorker('keyring-first-use', home),
      startWorker('keyring-first-use', home),
    ]);
    expect(results[0]?.hmac).toMatch(/^[0-9a-f]{64}$/);
    expect(results[1]?.hmac).toBe(results[0]?.hmac);
    const local = await new LocalKeyService(home).pseudonymKey('token-hmac');
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(local.material).digest('hex')).toBe(results[0]?.hmac);
  });
});
