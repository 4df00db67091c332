/** Temp home folders for the local adapter tests, removed after each test. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';

const created: string[] = [];

afterEach(async () => {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh, empty directory under the OS temp folder (mode 0700). */
export async function tempHome(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pp-local-'));
  created.push(dir);
  return dir;
}

/** Concatenates an object body. */
export async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of body) parts.push(chunk);
  return Buffer.concat(parts);
}

export async function toArray<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
