import { parquetMetadata } from 'hyparquet';
import { ByteWriter, parquetWrite } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { decodeTable, PARQUET_FORMAT } from '../../../functions/core/codecs/decode-table.ts';
import { encodeTable } from '../../../functions/core/codecs/encode-table.ts';
import { isoFromUnits, unitsFromIso } from '../../../functions/core/codecs/parquet-types.ts';
import type { Cell } from '../../../functions/core/types.ts';

function randomAccess(bytes: Uint8Array) {
  const reads: [number, number][] = [];
  return {
    reads,
    source: {
      size: bytes.length,
      read: async (start: number, end: number) => {
        reads.push([start, end]);
        return bytes.subarray(start, end);
      },
    },
  };
}

async function* none(): AsyncGenerator<Uint8Array> {}

async function decodeAll(bytes: Uint8Array, rowGroups?: [number, number]) {
  const { source, reads } = randomAccess(bytes);
  const table = await decodeTable(none(), { fileName: 't.parquet', random: source, ...(rowGroups ? { rowGroups } : {}) });
  const rows: Cell[][] = [];
  for await (const r of table.rows) rows.push(r.cells);
  return { table, rows, reads };
}

async function encodeAll(
  columns: readonly string[],
  rows: readonly Cell[][],
  columnTypes?: NonNullable<Parameters<typeof encodeTable>[3]>['columnTypes'],
) {
  async function* it() {
    yield* rows;
  }
  const enc = encodeTable(columns, it(), PARQUET_FORMAT, columnTypes ? { columnTypes } : {});
  const parts: Uint8Array[] = [];
  for await (const b of enc.bytes) parts.push(b);
  return new Uint8Array(Buffer.concat(parts));
}

/** A file with one column of every supported kind, nulls included, written with explicit types. */
function typedFile(n: number, rowGroupSize = 1000): Uint8Array {
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    rowGroupSize,
    columnData: [
      { name: 'i32', data: Array.from({ length: n }, (_, i) => (i === 1 ? null : i - 5)), type: 'INT32' },
      { name: 'i64', data: Array.from({ length: n }, (_, i) => (i === 2 ? null : 2n ** 60n + BigInt(i))), type: 'INT64' },
      { name: 'small64', data: Array.from({ length: n }, (_, i) => BigInt(i * 1000)), type: 'INT64' },
      { name: 'dbl', data: Array.from({ length: n }, (_, i) => (i === 3 ? null : i / 3)), type: 'DOUBLE' },
      { name: 'flag', data: Array.from({ length: n }, (_, i) => (i === 4 ? null : i % 2 === 0)), type: 'BOOLEAN' },
      {
        name: 'ts',
        data: Array.from({ length: n }, (_, i) => (i === 5 ? null : new Date(Date.UTC(2024, 1, 29, 12, 0, 0, i)))),
        type: 'TIMESTAMP',
      },
      { name: 'txt', data: Array.from({ length: n }, (_, i) => (i === 6 ? null : `naïve ${i}, "q"\n`)), type: 'STRING' },
      { name: 'doc', data: Array.from({ length: n }, (_, i) => ({ k: i, tags: ['a', 'b'] })), type: 'JSON' },
    ],
  });
  return new Uint8Array(writer.getBuffer());
}

describe('Parquet codec (hyparquet + hyparquet-writer)', () => {
  it('decodes every kind to cells with exact values and nulls', async () => {
    const { table, rows } = await decodeAll(typedFile(10));
    expect(table.columns).toEqual(['i32', 'i64', 'small64', 'dbl', 'flag', 'ts', 'txt', 'doc']);
    expect(table.columnTypes?.map((t) => t.kind)).toEqual(['INT32', 'INT64', 'INT64', 'DOUBLE', 'BOOLEAN', 'TIMESTAMP', 'STRING', 'JSON']);
    expect(rows[0]).toEqual([
      -5,
      '1152921504606846976',
      0,
      0,
      true,
      '2024-02-29T12:00:00.000Z',
      'naïve 0, "q"\n',
      '{"k":0,"tags":["a","b"]}',
    ]);
    expect(rows[1]?.[0]).toBeNull();
    expect(rows[2]?.[1]).toBeNull();
    expect(rows[3]?.[3]).toBeNull();
    expect(rows[4]?.[4]).toBeNull();
    expect(rows[5]?.[5]).toBeNull();
    expect(rows[6]?.[6]).toBeNull();
  });

  it('round trip keeps types and values: decode → encode with the input types → decode', async () => {
    const first = await decodeAll(typedFile(250, 100));
    const again = await decodeAll(await encodeAll(first.table.columns, first.rows, first.table.columnTypes));
    expect(again.table.columnTypes?.map((t) => [t.kind, t.element?.type])).toEqual(
      first.table.columnTypes?.map((t) => [t.kind, t.element?.type]),
    );
    expect(again.rows).toEqual(first.rows);
  });

  it('timestamps keep their unit: micro- and nanosecond values survive exactly', () => {
    for (const [units, per] of [
      [1_709_208_000_123_456n, 1e6],
      [1_709_208_000_123_456_789n, 1e9],
      [-1_234n, 1e3],
    ] as const) {
      expect(unitsFromIso(isoFromUnits(units, per), per)).toBe(units);
    }
    expect(isoFromUnits(1_709_208_000_123_456n, 1e6)).toBe('2024-02-29T12:00:00.123456Z');
  });

  it('reads one row group at a time: a chunk reads only its row groups', async () => {
    const bytes = typedFile(300, 100);
    const all = await decodeAll(bytes);
    expect(all.table.rowGroups?.map((g) => g.rows)).toEqual([100, 100, 100]);
    const middle = await decodeAll(bytes, [1, 2]);
    expect(middle.rows).toEqual(all.rows.slice(100, 200));
    // After the footer, no read touches the column chunks of the other row groups.
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    const others = [0, 2].flatMap((g) =>
      (meta.row_groups[g]?.columns ?? []).map((c) => {
        const m = c.meta_data;
        const start = Number(m?.dictionary_page_offset ?? m?.data_page_offset ?? 0n);
        return [start, start + Number(m?.total_compressed_size ?? 0n)] as const;
      }),
    );
    const afterFooter = middle.reads.slice(1);
    expect(afterFooter.length).toBeGreaterThan(0);
    for (const [a, b] of afterFooter) for (const [s, e] of others) expect(a < e && s < b, `read ${a}-${b} overlaps ${s}-${e}`).toBe(false);
  });

  it('infers types from values when none are given (JSON Lines or CSV read as Parquet)', async () => {
    const rows: Cell[][] = [
      [1, 1.5, true, 'a', null],
      [2, 2, false, 'b', null],
    ];
    const { table, rows: back } = await decodeAll(await encodeAll(['n', 'x', 'b', 's', 'empty'], rows));
    expect(table.columnTypes?.map((t) => t.kind)).toEqual(['INT64', 'DOUBLE', 'BOOLEAN', 'STRING', 'STRING']);
    expect(back).toEqual(rows);
  });

  it('an empty table is still a valid file with its columns', async () => {
    const { table, rows } = await decodeAll(await encodeAll(['a', 'b'], [], [{ kind: 'INT32' }, { kind: 'STRING' }]));
    expect(table.columns).toEqual(['a', 'b']);
    expect(rows).toEqual([]);
  });
});
