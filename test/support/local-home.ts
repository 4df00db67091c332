/**
 * A throwaway local home with real local adapters, and helpers to drop a file and read objects.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalPorts } from '../../functions/adapters/local/local-ports.ts';
import type { BucketRole } from '../../functions/core/types.ts';

export type TestPorts = Awaited<ReturnType<typeof createLocalPorts>>;

export async function localHome(): Promise<{ ports: TestPorts; dir: string; [Symbol.asyncDispose](): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'pp-home-'));
  const ports = await createLocalPorts(join(dir, 'home'), { logLevel: 'silent' });
  return { ports, dir, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) };
}

export async function drop(ports: TestPorts, key: string, body: string | Uint8Array): Promise<void> {
  const dataset = key.split('/')[0] ?? '';
  await ports.objects.put('ingest', key, typeof body === 'string' ? new TextEncoder().encode(body) : body, {
    encryptionContext: { dataset },
  });
}

export async function readText(ports: TestPorts, bucket: BucketRole, key: string): Promise<string> {
  const { body } = await ports.objects.get(bucket, key);
  const chunks: Uint8Array[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

/** Every object (all versions) of every bucket, decrypted, as one string per object. */
export async function everyObjectText(ports: TestPorts): Promise<{ bucket: BucketRole; key: string; text: string; bytes: Buffer }[]> {
  const out: { bucket: BucketRole; key: string; text: string; bytes: Buffer }[] = [];
  for (const bucket of ['ingest', 'curated', 'quarantine', 'aggregates'] as const) {
    for await (const v of ports.objects.listVersions(bucket, '')) {
      if (v.isDeleteMarker) continue;
      const { body } = await ports.objects.get(bucket, v.key, v.versionId ? { versionId: v.versionId } : undefined);
      const chunks: Uint8Array[] = [];
      for await (const c of body) chunks.push(c);
      const bytes = Buffer.concat(chunks);
      out.push({ bucket, key: v.key, text: bytes.toString('utf8'), bytes });
    }
  }
  return out;
}
