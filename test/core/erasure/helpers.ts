/** Shared setup of the erasure tests: temp homes on the local adapters, ingest, full store dumps. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach } from 'vitest';
import { createLocalPorts, type LocalPortsOptions } from '../../../functions/adapters/local/local-ports.ts';
import { ingestObject } from '../../../functions/core/pipeline/ingest-object.ts';
import type { IngestResult } from '../../../functions/core/pipeline/ingest-types.ts';
import type { Ports } from '../../../functions/core/ports.ts';
import { BUCKET_ROLES, type BucketRole } from '../../../functions/core/types.ts';

const homes: string[] = [];
afterEach(async () => {
  await Promise.all(homes.splice(0).map((h) => rm(h, { recursive: true, force: true })));
});

export type TestPorts = Awaited<ReturnType<typeof createLocalPorts>>;

/** Local ports over a fresh temp home, removed after the test. */
export async function tempPorts(opts: LocalPortsOptions = {}): Promise<TestPorts> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'pp-erasure-'));
  homes.push(home);
  return createLocalPorts(home, { logLevel: 'error', ...opts });
}

/** Drops a file into the ingest bucket (as `privacy-pipeline run` does) and ingests it. */
export async function ingest(ports: Ports, key: string, content: string, contract?: string): Promise<IngestResult> {
  const dataset = key.slice(0, key.indexOf('/'));
  const body = key.endsWith('.gz') ? gzipSync(Buffer.from(content)) : Buffer.from(content);
  await ports.objects.put('ingest', key, body, { metadata: { 'pp-source': 'test' }, encryptionContext: { dataset } });
  return ingestObject(ports, { key, dataset, ...(contract ? { contract: { text: contract, source: `${dataset}.contract.yaml` } } : {}) });
}

/** Plain text of a body (gunzipped when it is gzip). */
export async function bodyText(body: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const c of body) parts.push(c);
  const buf = Buffer.concat(parts);
  return (buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf).toString('utf8');
}

export interface StoredVersion {
  readonly bucket: BucketRole;
  readonly key: string;
  readonly versionId: string | undefined;
  readonly isLatest: boolean;
  readonly text: string;
}

/** Every version of every object in every bucket, decrypted and gunzipped. */
export async function everyVersion(ports: Ports): Promise<StoredVersion[]> {
  const out: StoredVersion[] = [];
  for (const bucket of BUCKET_ROLES) {
    for await (const v of ports.objects.listVersions(bucket, '')) {
      if (v.isDeleteMarker) continue;
      const { body } = await ports.objects.get(bucket, v.key, v.versionId ? { versionId: v.versionId } : undefined);
      out.push({ bucket, key: v.key, versionId: v.versionId, isLatest: v.isLatest, text: await bodyText(body) });
    }
  }
  return out;
}

/** The current text of an object. */
export async function currentText(ports: Ports, bucket: BucketRole, key: string): Promise<string> {
  return bodyText((await ports.objects.get(bucket, key)).body);
}

/** Data lines of a CSV (header excluded) or JSON Lines text. */
export function dataLines(text: string, csv: boolean): string[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return csv ? lines.slice(1) : lines;
}
