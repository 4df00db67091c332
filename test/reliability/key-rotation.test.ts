/**
 * Key rotation through the CLI: `keys rotate` puts new data under the new master key version,
 * data written before stays readable (also after a second rotation), pseudonyms do not change,
 * lineage names key ids and versions only, and a keyring missing an old version fails with a
 * clear error that carries no material.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../functions/core/lineage/run-record.ts';
import { runCli, tempDir } from '../support/cli.ts';

const HEADER = 'customer_id,email,segment';
const file = (from: number, to: number) =>
  `${HEADER}\n${Array.from({ length: to - from }, (_, k) => `C${1000 + from + k},person${from + k}@example.com,smb`).join('\n')}\n`;

/** The key version in the header of an encrypted object file ("PPOB" | u32 length | JSON header). */
async function objectKeyVersion(home: string, bucket: string, keyPrefix: string): Promise<string[]> {
  const versions: string[] = [];
  for (const e of await readdir(join(home, 'store', bucket), { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('.bin')) continue;
    const manifest = JSON.parse(await readFile(join(e.parentPath, e.name.replace(/\.bin$/, '.json')), 'utf8')) as { key: string };
    if (!manifest.key.startsWith(keyPrefix) || !/part-\d+\.csv$/.test(manifest.key)) continue;
    const bytes = await readFile(join(e.parentPath, e.name));
    const header = JSON.parse(bytes.subarray(8, 8 + bytes.readUInt32BE(4)).toString('utf8')) as { keyRef: { version: string } };
    versions.push(header.keyRef.version);
  }
  return versions;
}

function tokensByEmail(csv: string): Map<string, string> {
  const rows = csv.trim().split('\n').slice(1);
  return new Map(rows.map((r) => r.split(',')).map(([id, email]) => [id as string, email as string]));
}

describe('key rotation through the CLI', () => {
  it('new data under the new version, old data readable, pseudonyms stable, lineage without material', async () => {
    await using dir = await tempDir();
    const home = join(dir.path, 'home');
    const cli = (...args: string[]) => runCli(['--home', home, ...args], { cwd: dir.path });
    await writeFile(join(dir.path, 'people.csv'), file(0, 20));
    expect((await cli('run', 'people.csv')).code).toBe(0);
    const before = await cli('read', 'people');
    expect(before.code).toBe(0);
    const list1 = JSON.parse((await cli('keys', 'list', '--json')).stdout) as { master: { version: string }; masterVersions: string[] };
    expect(list1.master.version).toBe('v1');

    const rotated = await cli('keys', 'rotate');
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toContain('local/master@v2');
    await writeFile(join(dir.path, 'people.csv'), file(10, 30)); // overlaps persons 10..19
    expect((await cli('run', 'people.csv')).code).toBe(0);

    // New data under v2, old data still under v1, both readable.
    expect(await objectKeyVersion(home, 'curated', 'people/')).toEqual(expect.arrayContaining(['v1', 'v2']));
    const after = await cli('read', 'people', '--format', 'csv');
    expect(after.code).toBe(0);
    const lines = after.stdout.trim().split('\n');
    expect(lines).toHaveLength(1 + 20 + 20);
    // Pseudonyms stable: the same person gets the same id and email tokens in both runs.
    const rows = lines.slice(1).map((l) => l.split(','));
    const first = new Map(rows.slice(0, 20).map(([id, email]) => [email, id]));
    const second = new Map(rows.slice(20).map(([id, email]) => [email, id]));
    const shared = [...second.keys()].filter((t) => first.has(t));
    expect(shared).toHaveLength(10);
    for (const t of shared) expect(second.get(t)).toBe(first.get(t));
    expect(tokensByEmail(before.stdout).size).toBe(20);

    // Lineage names the key versions used, never material.
    const runs = JSON.parse((await cli('lineage', 'people', '--json')).stdout) as RunRecord[];
    const keys = runs.filter((r) => r.kind === 'run').map((r) => r.keys.map((k) => `${k.keyId}@${k.version}`).sort());
    expect(keys).toEqual([
      ['local/master@v1', 'local/token-hmac@v1', 'local/token-siv@v1'],
      ['local/master@v2', 'local/token-hmac@v1', 'local/token-siv@v1'],
    ]);

    // A second rotation: everything written under v1 and v2 is still readable.
    expect((await cli('keys', 'rotate')).stdout).toContain('local/master@v3');
    expect((await cli('read', 'people')).stdout.trim().split('\n')).toHaveLength(41);
    const list3 = JSON.parse((await cli('keys', 'list', '--json')).stdout) as { masterVersions: string[] };
    expect(list3.masterVersions).toEqual(['v1', 'v2', 'v3']);
  });

  it('a keyring that lost an old version fails to read that data with a clear error and no material', async () => {
    await using dir = await tempDir();
    const home = join(dir.path, 'home');
    const cli = (...args: string[]) => runCli(['--home', home, ...args], { cwd: dir.path });
    await writeFile(join(dir.path, 'people.csv'), file(0, 5));
    expect((await cli('run', 'people.csv')).code).toBe(0);
    expect((await cli('keys', 'rotate')).code).toBe(0);
    const path = join(home, 'keyring.json');
    const ring = JSON.parse(await readFile(path, 'utf8')) as { masterKeys: Record<string, string> };
    const lost = ring.masterKeys.v1 as string;
    delete ring.masterKeys.v1;
    await writeFile(path, JSON.stringify(ring), { mode: 0o600 });
    const res = await cli('read', 'people');
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/curated\/people\/.*failed integrity check \(data-key\)/);
    expect(res.stderr).not.toMatch(/^\s+at /m);
    for (const form of [lost, Buffer.from(lost, 'base64').toString('hex'), ring.masterKeys.v2 as string]) {
      expect(`${res.stdout}${res.stderr}`).not.toContain(form);
    }
  });
});
