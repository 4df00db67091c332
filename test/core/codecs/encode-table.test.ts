import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeTable } from '../../../functions/core/codecs/encode-table.ts';
import type { FileFormat } from '../../../functions/core/codecs/file-format.ts';
import type { Cell } from '../../../functions/core/types.ts';
import { asyncOf, CSV_FORMAT, collectBytes, decodeAll } from './helpers.ts';

async function encode(columns: string[], rows: Cell[][], format: FileFormat = CSV_FORMAT, opts?: { neutraliseFormulas?: boolean }) {
  const enc = encodeTable(columns, asyncOf(rows), format, opts);
  const bytes = await collectBytes(enc.bytes);
  return { bytes, text: bytes.toString('utf8'), stats: enc.stats() };
}

describe('encodeTable: CSV', () => {
  it('minimal RFC 4180 quoting, nulls empty, booleans and numbers as text', async () => {
    const { text, stats } = await encode(
      ['a', 'b', 'c', 'd'],
      [
        ['plain', 'x,y', 'say "hi"', 'two\nlines'],
        [null, true, false, 12.5],
        [' lead', 'trail ', 'cr\rin', ''],
      ],
    );
    expect(text).toBe('a,b,c,d\nplain,"x,y","say ""hi""","two\nlines"\n,true,false,12.5\n lead,trail ,"cr\rin",\n');
    expect(stats).toEqual({ rows: 3, bytes: Buffer.byteLength(text), formulaCellsNeutralised: 0 });
  });

  it('keeps the input layout: semicolon, CRLF, BOM', async () => {
    const format: FileFormat = { format: 'csv', compression: 'none', delimiter: ';', bom: true, lineEnding: '\r\n' };
    const { bytes } = await encode(['a', 'b'], [['x;y', 'z,w']], format);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.subarray(3).toString()).toBe('a;b\r\n"x;y";z,w\r\n');
  });

  it('tab delimiter quotes tabs', async () => {
    const { text } = await encode(['a', 'b'], [['x\ty', 'z']], { ...CSV_FORMAT, delimiter: '\t' }, { neutraliseFormulas: false });
    expect(text).toBe('a\tb\n"x\ty"\tz\n');
  });

  it('a one-column table quotes an empty cell so it is not a blank line', async () => {
    const { text } = await encode(['a'], [[''], [null], ['x']]);
    expect(text).toBe('a\n""\n""\nx\n');
    expect((await decodeAll(text)).rows.map((r) => r.cells)).toEqual([[''], [''], ['x']]);
  });

  it.each([
    ['=SUM(A1:A9)', "'=SUM(A1:A9)"],
    ['+44 20 7946 0958', "'+44 20 7946 0958"],
    ['+447911123456', "'+447911123456"],
    ['+12', "'+12"],
    ['-cmd|calc', "'-cmd|calc"],
    ['@SUM(1)', "'@SUM(1)"],
    ['\t=1', "'\t=1"],
    ['\r=1', `"'\r=1"`],
    ['-', "'-"],
    ['-12.5', '-12.5'],
    ['-3', '-3'],
    ['-1e5', '-1e5'],
    ['-.5', '-.5'],
    ['12', '12'],
    ['a=b', 'a=b'],
    [' =1', ' =1'],
    ['', ''],
  ])('formula neutralisation %j -> %j', async (cell, out) => {
    const { text, stats } = await encode(['x', 'y'], [[cell, 'k']]);
    expect(text).toBe(`x,y\n${out},k\n`);
    expect(stats.formulaCellsNeutralised).toBe(out === cell ? 0 : 1);
  });

  it('numbers and booleans are never neutralised; neutralisation can be turned off', async () => {
    expect((await encode(['x'], [[-12], [true]])).text).toBe('x\n-12\ntrue\n');
    const off = await encode(['x'], [['=1']], CSV_FORMAT, { neutraliseFormulas: false });
    expect(off.text).toBe('x\n=1\n');
    expect(off.stats.formulaCellsNeutralised).toBe(0);
  });

  it('gzip output', async () => {
    const { bytes, stats } = await encode(['a'], [['1'], ['2']], { ...CSV_FORMAT, compression: 'gzip' });
    expect(bytes[0]).toBe(0x1f);
    expect(gunzipSync(bytes).toString()).toBe('a\n1\n2\n');
    expect(stats.bytes).toBe(bytes.length);
  });

  it('batches output into chunks of about 256 KiB', async () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => [`row-${i}`, 'x'.repeat(20)]);
    const enc = encodeTable(['a', 'b'], asyncOf(rows), CSV_FORMAT);
    const sizes: number[] = [];
    for await (const b of enc.bytes) sizes.push(b.length);
    expect(sizes.length).toBeGreaterThan(3);
    expect(sizes.length).toBeLessThan(10);
    for (const s of sizes.slice(0, -1)) expect(s).toBeGreaterThanOrEqual(256 * 1024);
  });
});

describe('encodeTable: JSON Lines', () => {
  const JSONL: FileFormat = { format: 'jsonl', compression: 'none', delimiter: ',', bom: false, lineEnding: '\n' };
  it('one object per line in column order, types kept', async () => {
    const { text } = await encode(
      ['id', 'name', 'ok', 'n"q'],
      [
        [1, 'Ann "A"', true, null],
        [2.5, '=x', false, 'é'],
      ],
      JSONL,
    );
    expect(text).toBe('{"id":1,"name":"Ann \\"A\\"","ok":true,"n\\"q":null}\n{"id":2.5,"name":"=x","ok":false,"n\\"q":"é"}\n');
    const back = await decodeAll(text, 'x.jsonl');
    expect(back.rows.map((r) => r.cells)).toEqual([
      [1, 'Ann "A"', true, null],
      [2.5, '=x', false, 'é'],
    ]);
  });

  it('gzip JSON Lines', async () => {
    const { bytes } = await encode(['a'], [[1]], { ...JSONL, compression: 'gzip' });
    expect(gunzipSync(bytes).toString()).toBe('{"a":1}\n');
  });
});

const HOSTILE: string[] = [
  '',
  ' ',
  '"',
  '""',
  '","',
  'a,b',
  'a;b',
  'tab\there',
  'line\nbreak',
  'crlf\r\nbreak',
  'cr\ronly',
  'trailing cr\r',
  '\n',
  '\r\n',
  'Zoë 😀 東京 Ω',
  "O'Brien",
  '  padded  ',
  '\uFEFFbom inside',
  'x"y"z',
  '=1+1',
];

describe('round trip decode(encode(table))', () => {
  for (const format of [
    CSV_FORMAT,
    { ...CSV_FORMAT, delimiter: ';', lineEnding: '\r\n', bom: true },
    { ...CSV_FORMAT, delimiter: '\t', compression: 'gzip' },
  ] as FileFormat[]) {
    it(`hostile cells, ${JSON.stringify(format)}`, async () => {
      const columns = ['first', 'second', 'third'];
      const rows = HOSTILE.map((h, i) => [h, HOSTILE[(i + 7) % HOSTILE.length] as string, `${i}`]);
      const { bytes } = await encode(columns, rows, format, { neutraliseFormulas: false });
      const back = await decodeAll(bytes, 'rt.csv');
      expect(back.format).toEqual(format);
      expect(back.columns).toEqual(columns);
      expect(back.rows.map((r) => r.cells)).toEqual(rows);
      expect(back.rows.every((r) => r.issue === undefined)).toBe(true);
    });
  }

  it('property: arbitrary string tables survive CSV encode then decode', async () => {
    const cell = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.constantFrom(...HOSTILE),
      fc.string({ unit: fc.constantFrom('a', ',', ';', '\t', '"', '\r', '\n', ' ', 'é'), maxLength: 8 }),
    );
    const table = fc.integer({ min: 1, max: 5 }).chain((width) =>
      fc.record({
        width: fc.constant(width),
        rows: fc.array(fc.array(cell, { minLength: width, maxLength: width }), { maxLength: 12 }),
        delimiter: fc.constantFrom(',', ';', '\t'),
        lineEnding: fc.constantFrom('\n', '\r\n'),
        bom: fc.boolean(),
      }),
    );
    await fc.assert(
      fc.asyncProperty(table, async ({ width, rows, delimiter, lineEnding, bom }) => {
        const columns = Array.from({ length: width }, (_, i) => `c${i}`);
        const format: FileFormat = { format: 'csv', compression: 'none', delimiter, lineEnding: lineEnding as '\n' | '\r\n', bom };
        const { bytes } = await encode(columns, rows, format, { neutraliseFormulas: false });
        const back = await decodeAll(bytes, 'p.csv');
        expect(back.columns).toEqual(columns);
        expect(back.rows.map((r) => r.cells)).toEqual(rows);
        // The sniffer agrees with the writer's layout (a one-column file has no delimiter to see).
        expect(back.format).toEqual(width > 1 ? format : { ...format, delimiter: ',' });
      }),
      { numRuns: 300, seed: 4180 },
    );
  });

  it('property: arbitrary JSON Lines tables survive encode then decode', async () => {
    const cell = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 10 }),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(cell, cell), { minLength: 1, maxLength: 10 }), async (rows) => {
        // The first row carries values in both columns so that both are discovered.
        const table: Cell[][] = [['x', 1], ...rows];
        const { bytes } = await encode(['a', 'b'], table, {
          format: 'jsonl',
          compression: 'none',
          delimiter: ',',
          bom: false,
          lineEnding: '\n',
        });
        const back = await decodeAll(bytes, 'p.jsonl');
        expect(back.rows.map((r) => r.cells)).toEqual(table.map((r) => r.map((c) => (Object.is(c, -0) ? 0 : c))));
      }),
      { numRuns: 200, seed: 7 },
    );
  });
});
