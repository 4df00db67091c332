import type { DecodeLimits } from '../../../functions/core/codecs/decode-table.ts';
import { decodeTable } from '../../../functions/core/codecs/decode-table.ts';
import type { FileFormat } from '../../../functions/core/codecs/file-format.ts';
import type { DataFormat, Row } from '../../../functions/core/types.ts';

/** Splits bytes into chunks of `size` (1 exercises every boundary). */
export async function* chunked(data: Uint8Array | string, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

export interface Decoded {
  format: FileFormat;
  columns: readonly string[];
  rows: Row[];
}

export async function decodeAll(
  data: Uint8Array | string,
  fileName = 'test.csv',
  opts: { chunk?: number; limits?: Partial<DecodeLimits>; format?: DataFormat } = {},
): Promise<Decoded> {
  const table = await decodeTable(chunked(data, opts.chunk), {
    fileName,
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.format ? { format: opts.format } : {}),
  });
  const rows: Row[] = [];
  for await (const r of table.rows) rows.push(r);
  return { format: table.format, columns: table.columns, rows };
}

export async function collectBytes(bytes: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const b of bytes) parts.push(b);
  return Buffer.concat(parts);
}

export async function* asyncOf<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const i of items) yield i;
}

export const CSV_FORMAT: FileFormat = { format: 'csv', compression: 'none', delimiter: ',', bom: false, lineEnding: '\n' };
