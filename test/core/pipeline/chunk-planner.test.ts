import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTable } from '../../../functions/core/codecs/decode-table.ts';
import {
  type ChunkSizer,
  guidedChunkBytes,
  planCsvChunks,
  planJsonlChunks,
  planParquetChunks,
  targetChunkBytes,
} from '../../../functions/core/pipeline/chunk-planner.ts';
import type { ChunkSpec } from '../../../functions/core/pipeline/chunk-types.ts';
import type { Row } from '../../../functions/core/types.ts';

/** Feeds `bytes` to the planner in blocks of `block` bytes. */
async function* blocks(bytes: Uint8Array, block: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += block) yield bytes.subarray(i, Math.min(bytes.length, i + block));
}

async function plan(
  text: string | Uint8Array,
  opts: { target: number | ChunkSizer; block?: number; format?: 'csv' | 'jsonl'; delimiter?: string },
) {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const chunks: ChunkSpec[] = [];
  let headerEnd = 0;
  const onChunk = (c: ChunkSpec, h: number) => {
    chunks.push(c);
    headerEnd = h;
  };
  const body = blocks(bytes, opts.block ?? 1 << 20);
  const summary =
    opts.format === 'jsonl'
      ? await planJsonlChunks(body, { targetBytes: opts.target, onChunk })
      : await planCsvChunks(body, { delimiter: opts.delimiter ?? ',', targetBytes: opts.target, onChunk });
  return { chunks, summary, headerEnd, bytes };
}

async function rowsOf(body: Uint8Array, opts: Parameters<typeof decodeTable>[1]): Promise<Row[]> {
  const table = await decodeTable(blocks(body, body.length > 100_000 ? 256 * 1024 : 7), opts);
  const rows: Row[] = [];
  for await (const r of table.rows) rows.push(r);
  return rows;
}

/** Decodes every chunk the way a worker does and checks the rows equal one sequential decode. */
async function expectChunksEqualWhole(text: string, opts: { target: number | ChunkSizer; block?: number; format?: 'csv' | 'jsonl' }) {
  const { chunks, summary, headerEnd, bytes } = await plan(text, opts);
  const format = opts.format ?? 'csv';
  const whole = await rowsOf(bytes, { fileName: `x.${format}`, format });
  const parts: Row[] = [];
  let expectedStart = format === 'csv' ? headerEnd : 0;
  for (const c of chunks) {
    expect(c.start).toBe(expectedStart);
    expectedStart = c.end;
    const body =
      format === 'csv' ? Buffer.concat([bytes.subarray(0, headerEnd), bytes.subarray(c.start, c.end)]) : bytes.subarray(c.start, c.end);
    const columns = format === 'jsonl' ? { columns: (await decodeTable(blocks(bytes, 64), { fileName: 'x.jsonl', format })).columns } : {};
    const rows = await rowsOf(body, {
      fileName: `x.${format}`,
      format,
      firstRowNumber: c.firstRow,
      ...(format === 'csv' ? { requireRecordEnd: c.end < bytes.length } : columns),
    });
    expect(rows.length, `rows of chunk ${c.index}`).toBe(c.rows);
    parts.push(...rows);
  }
  expect(expectedStart).toBe(bytes.length);
  expect(summary.rows).toBe(whole.length);
  expect(parts).toEqual(whole);
  return chunks;
}

const HEADER = 'id,name,notes\n';

describe('chunk planner: CSV', () => {
  it.each([
    ['plain LF', `${HEADER}1,a,x\n2,b,y\n3,c,z\n4,d,w\n`],
    ['CRLF', `id,name,notes\r\n1,a,x\r\n2,b,y\r\n3,c,z\r\n`],
    [
      'quoted newlines across boundaries',
      `${HEADER}1,a,"line one\nline two\nline three"\n2,b,"x\r\ny"\n3,c,"a ""quoted"" word\n, with comma"\n4,d,e\n`,
    ],
    ['a quote inside an unquoted field is literal', `${HEADER}1,a 5" screen,x\n2,b,"q"\n3,c,d\n`],
    ['text after a closing quote (malformed) up to the next delimiter', `${HEADER}1,"a"b"c,x\n2,"z"\r,y\n3,c,d\n`],
    ['blank lines and a lone CR', `${HEADER}\n\n1,a,x\r\n\r\n2,b,y\n\r3,c,z\n`],
    ['no line break at the end', `${HEADER}1,a,x\n2,b,y`],
    ['an unterminated quote runs to the end', `${HEADER}1,a,x\n2,b,"never closed\n3,c,z\n4,d,w\n`],
    ['quoted header with a newline', `"i\nd",name,notes\n1,a,x\n2,b,y\n`],
    ['BOM', `\uFEFF${HEADER}1,a,x\n2,b,"y\n"\n3,c,z\n`],
    ['BOM then a quoted header field', `\uFEFF"id",name,notes\n1,a,x\n2,b,y\n`],
    ['multi-byte characters', `${HEADER}1,Zoë,"naïve\ncafé"\n2,Łukasz,日本語\n3,c,z\n`],
  ])('%s: chunks give the same rows as one pass, whatever the target and block size', async (_name, text) => {
    for (const target of [1, 3, 8, 64, 1 << 20]) {
      for (const block of [1, 2, 5, 1 << 20]) await expectChunksEqualWhole(text, { target, block });
    }
  });

  it('cuts only at record ends: a quoted newline is never a boundary', async () => {
    const text = `${HEADER}1,a,"x\ny\nz"\n2,b,c\n`;
    const { chunks } = await plan(text, { target: 1 });
    const boundaries = chunks.map((c) => c.end);
    const bytes = Buffer.from(text);
    const quoted = bytes.indexOf('"x\n') + 2;
    expect(boundaries).not.toContain(quoted + 1);
    expect(chunks.map((c) => c.rows)).toEqual([1, 1]);
    expect(chunks.map((c) => c.firstRow)).toEqual([1, 2]);
  });

  it('one huge record makes one large chunk (memory stays constant: the scan keeps no record text)', async () => {
    const huge = 'x'.repeat(3_000_000);
    const text = `${HEADER}1,a,"${huge}\n${huge}"\n2,b,c\n3,c,d\n`;
    const chunks = await expectChunksEqualWhole(text, { target: 1000, block: 64 * 1024 });
    expect(chunks[0]?.end).toBeGreaterThan(6_000_000);
    expect(chunks.map((c) => c.rows)).toEqual([1, 2]);
  });

  it('tiny files: header only, empty, header without line break', async () => {
    expect((await plan('', { target: 1 })).chunks).toEqual([{ index: 0, start: 0, end: 0, firstRow: 1, rows: 0 }]);
    const headerOnly = await plan(HEADER, { target: 1 });
    expect(headerOnly.chunks).toEqual([{ index: 0, start: HEADER.length, end: HEADER.length, firstRow: 1, rows: 0 }]);
    expect(headerOnly.headerEnd).toBe(HEADER.length);
    const noBreak = await plan('id,name', { target: 1 });
    expect(noBreak.chunks.map((c) => c.rows)).toEqual([0]);
    expect(noBreak.summary.rows).toBe(0);
  });

  it('semicolon and tab delimiters', async () => {
    const semi = 'id;name\n1;"a;b\nc"\n2;d\n';
    const { chunks } = await plan(semi, { target: 1, delimiter: ';' });
    expect(chunks.map((c) => c.rows)).toEqual([1, 1]);
  });

  it('reports size and sha256 of the whole object', async () => {
    const { summary } = await plan(`${HEADER}1,a,b\n`, { target: 1 });
    expect(summary.size).toBe(Buffer.byteLength(`${HEADER}1,a,b\n`));
    expect(summary.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('property: any text over a CSV alphabet splits into chunks that decode to the same rows', async () => {
    const alphabet = fc.constantFrom('a', 'b', ',', '"', '\n', '\r', ' ', 'é');
    await fc.assert(
      fc.asyncProperty(
        fc.array(alphabet, { maxLength: 120 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 9 }),
        async (chars, target, block) => {
          await expectChunksEqualWhole(`${HEADER}${chars.join('')}`, { target, block });
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('chunk planner: JSON Lines', () => {
  it.each([
    ['plain', '{"a":1,"b":"x"}\n{"a":2,"b":"y"}\n{"a":3,"b":"z"}\n'],
    ['CRLF and blank lines', '{"a":1}\r\n\r\n   \n{"a":2}\r\n{"a":3}'],
    ['Unicode whitespace lines are blank too', '{"a":1}\n\u00a0\u2003\n{"a":2}\n\uFEFF\n{"a":3}\n'],
    ['bad lines are rows (quarantined later)', '{"a":1}\nnot json\n[1,2]\n{"a":2}\n'],
    ['escaped newlines inside strings', '{"a":"x\\ny"}\n{"a":"z"}\n'],
  ])('%s', async (_name, text) => {
    for (const target of [1, 10, 1 << 20]) {
      for (const block of [1, 3, 1 << 20]) await expectChunksEqualWhole(text, { target, block, format: 'jsonl' });
    }
  });
});

describe('chunk planner: Parquet and sizing', () => {
  it('groups row groups up to the target and numbers rows across them', () => {
    const groups = [
      { rows: 100, bytes: 400 },
      { rows: 50, bytes: 700 },
      { rows: 10, bytes: 100 },
      { rows: 5, bytes: 50 },
    ];
    expect(planParquetChunks(groups, 500)).toEqual([
      { index: 0, start: 0, end: 2, firstRow: 1, rows: 150, rowGroups: [0, 2] },
      { index: 1, start: 2, end: 4, firstRow: 151, rows: 15, rowGroups: [2, 4] },
    ]);
    expect(planParquetChunks([], 500)).toHaveLength(1);
  });

  it('targets about four chunks per worker, within 4-64 MiB', () => {
    const MiB = 1024 * 1024;
    expect(targetChunkBytes(100 * MiB, 2)).toBe(12.5 * MiB);
    expect(targetChunkBytes(10 * MiB, 2)).toBe(4 * MiB);
    expect(targetChunkBytes(10_000 * MiB, 2)).toBe(64 * MiB);
  });

  it('guided sizes: a share of what is left, shrinking towards the end, within 2-64 MiB', () => {
    const MiB = 1024 * 1024;
    const size = 100 * MiB;
    const sizer = guidedChunkBytes(size, 2);
    expect(sizer(0)).toBe(25 * MiB);
    expect(sizer(50 * MiB)).toBe(12.5 * MiB);
    expect(sizer(size - 1)).toBe(2 * MiB); // near misses of the floor and the ceiling
    expect(sizer(size - 8 * MiB - 4)).toBe(2 * MiB + 1);
    expect(guidedChunkBytes(10_000 * MiB, 2)(0)).toBe(64 * MiB);
    expect(guidedChunkBytes(size, 0)(0)).toBe(50 * MiB); // no slots counts as one
    // Laid end to end: every chunk no larger than the one before, the last ones at the floor.
    const sizes: number[] = [];
    for (let at = 0; at < size; at += sizes[sizes.length - 1] as number) sizes.push(sizer(at));
    expect(sizes.every((s, i) => i === 0 || s <= (sizes[i - 1] as number))).toBe(true);
    expect(sizes.at(-1)).toBe(2 * MiB);
    expect(sizes.length).toBeGreaterThan(8);
    expect(sizes.length).toBeLessThan(20);
  });

  it('a size that depends on the chunk start: each chunk reaches the size asked at its start, same rows as one pass', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => `${i},name ${i},"note\n${i}"`).join('\n');
    const text = `${HEADER}${rows}\n`;
    const total = Buffer.byteLength(text);
    const sizer: ChunkSizer = (start) => Math.max(40, Math.ceil((total - start) / 4));
    for (const block of [7, 1 << 20]) {
      const chunks = await expectChunksEqualWhole(text, { target: sizer, block });
      for (const c of chunks.slice(0, -1)) expect(c.end - c.start).toBeGreaterThanOrEqual(sizer(c.start));
      expect(chunks.length).toBeGreaterThan(5);
    }
    const jsonl = Array.from({ length: 100 }, (_, i) => `{"a":${i}}`).join('\n');
    const j = await expectChunksEqualWhole(jsonl, { target: (start) => (start < 200 ? 100 : 1_000_000), format: 'jsonl' });
    // Two chunks of at least 100 bytes (started before 200), then the rest in one.
    expect(j).toHaveLength(3);
    expect(j.map((c) => c.end - c.start).slice(0, 2)).toEqual([107, 108]);
  });
});
