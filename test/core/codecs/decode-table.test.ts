import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeTable } from '../../../functions/core/codecs/decode-table.ts';
import { InvalidFileError } from '../../../functions/core/errors.ts';
import { chunked, decodeAll } from './helpers.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/codecs/${name}`, import.meta.url));

/** Decodes and expects an InvalidFileError with that rule, whose message names the file and rule. */
async function expectFileError(data: Uint8Array | string, rule: string, fileName = 'bad.csv', opts: Parameters<typeof decodeAll>[2] = {}) {
  const err = await decodeAll(data, fileName, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidFileError);
  const e = err as InvalidFileError;
  expect(e.context.rule).toBe(rule);
  expect(e.context.file).toBe(fileName);
  expect(e.message).toContain(fileName);
  expect(e.message).toContain(rule);
  return e;
}

describe('decodeTable: CSV layout', () => {
  it.each([
    { name: 'comma, LF', text: 'id,name\n1,Ann\n', delimiter: ',', lineEnding: '\n' },
    { name: 'semicolon, CRLF', text: 'id;name\r\n1;Ann\r\n', delimiter: ';', lineEnding: '\r\n' },
    { name: 'tab', text: 'id\tname\n1\tAnn\n', delimiter: '\t', lineEnding: '\n' },
    {
      name: 'quoted header with commas, semicolon file',
      text: '"i,d";name\n1;Ann\n',
      delimiter: ';',
      lineEnding: '\n',
      columns: ['i,d', 'name'],
    },
  ])('$name', async ({ text, delimiter, lineEnding, columns }) => {
    const t = await decodeAll(text);
    expect(t.format).toEqual({ format: 'csv', compression: 'none', delimiter, bom: false, lineEnding });
    expect(t.columns).toEqual(columns ?? ['id', 'name']);
    expect(t.rows).toEqual([{ rowNumber: 1, cells: ['1', 'Ann'] }]);
  });

  it('strips and remembers a UTF-8 BOM (fixture: BOM, semicolon, CRLF, embedded newlines)', async () => {
    const t = await decodeAll(fixture('bom-semicolon-crlf.csv'), 'bom-semicolon-crlf.csv');
    expect(t.format).toMatchObject({ delimiter: ';', bom: true, lineEnding: '\r\n' });
    expect(t.columns).toEqual(['id', 'name', 'note']);
    expect(t.rows.map((r) => r.cells)).toEqual([
      ['1', 'Zoë', 'first line\r\nsecond; with "quotes"'],
      ['2', 'Åsa', ''],
    ]);
  });

  it('reads the same rows whatever the byte chunking (multi-byte characters split)', async () => {
    const text = 'a,b\n"é\n😀",ß\n東京,"x""y"\n';
    const whole = await decodeAll(text);
    for (const chunk of [1, 2, 3, 5]) expect((await decodeAll(text, 'x.csv', { chunk })).rows).toEqual(whole.rows);
  });

  it('header only gives columns and no rows', async () => {
    const t = await decodeAll('id,name\n');
    expect(t.columns).toEqual(['id', 'name']);
    expect(t.rows).toEqual([]);
  });

  it('trims header names', async () => {
    expect((await decodeAll('id, name \n1,2\n')).columns).toEqual(['id', 'name']);
  });

  it('detects gzip by magic bytes, whatever the extension says', async () => {
    const gz = gzipSync(Buffer.from('id,name\n1,Ann\n'));
    for (const name of ['data.csv.gz', 'data.csv']) {
      const t = await decodeAll(gz, name, { chunk: 7 });
      expect(t.format.compression).toBe('gzip');
      expect(t.rows.map((r) => r.cells)).toEqual([['1', 'Ann']]);
    }
    const plain = await decodeAll('id\n1\n', 'named.csv.gz');
    expect(plain.format.compression).toBe('none');
  });

  it('reports compressed bytes read', async () => {
    const gz = gzipSync(Buffer.from(`id\n${'1\n'.repeat(1000)}`));
    let last = 0;
    const table = await decodeTable(chunked(gz, 100), { fileName: 'x.csv.gz', onBytes: (n) => (last = n) });
    for await (const _ of table.rows);
    expect(last).toBe(gz.length);
  });
});

describe('decodeTable: row issues do not throw', () => {
  it('wrong field count keeps the fields and the raw record', async () => {
    const t = await decodeAll('a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n');
    expect(t.rows.map((r) => r.issue?.rule ?? 'ok')).toEqual(['ok', 'field-count', 'field-count', 'ok']);
    expect(t.rows[1]).toEqual({
      rowNumber: 2,
      cells: ['4', '5'],
      issue: { rule: 'field-count', message: 'row 2 has 2 fields, header has 3' },
      raw: '4,5',
    });
    expect(t.rows[2]?.raw).toBe('6,7,8,9');
  });

  it('malformed quotes are flagged', async () => {
    const t = await decodeAll('a,b\n"x"y,1\n');
    expect(t.rows[0]?.issue?.rule).toBe('csv-quotes');
    expect(t.rows[0]?.raw).toBe('"x"y,1');
  });

  it('cell longer than the limit is a row issue naming the column, not the value', async () => {
    const t = await decodeAll(`a,secret\n1,${'s'.repeat(20)}\n2,${'s'.repeat(10)}\n`, 'x.csv', { limits: { maxCellLength: 10 } });
    expect(t.rows.map((r) => r.issue?.rule)).toEqual(['cell-too-long', undefined]);
    expect(t.rows[0]?.issue?.message).toBe("row 1, column 'secret': value longer than 10 characters");
  });
});

describe('decodeTable: file errors', () => {
  it.each([
    ['empty', ''],
    ['only line breaks', '\n\r\n\n'],
    ['only a BOM', '\uFEFF'],
    ['only spaces', '   '],
  ])('empty file: %s', async (_name, text) => {
    await expectFileError(text, 'empty-file');
  });

  it('binary junk', async () => {
    const junk = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
    await expectFileError(junk, 'binary');
  });

  it('a NUL byte later in the file', async () => {
    const text = `id,name\n${'1,a\n'.repeat(5000)}2,b\0c\n`;
    await expectFileError(text, 'binary');
  });

  it('invalid UTF-8 (Latin-1 bytes) is rejected, not replaced', async () => {
    const latin1 = Buffer.concat([Buffer.from('id,name\n1,'), Buffer.from([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72]), Buffer.from('\n')]);
    await expectFileError(latin1, 'encoding');
  });

  it('a truncated multi-byte sequence at the very end', async () => {
    await expectFileError(Buffer.concat([Buffer.from('id\n1'), Buffer.from([0xe6, 0x9d])]), 'encoding');
  });

  it('UTF-16 is named', async () => {
    const e = await expectFileError(Buffer.from('\uFEFFid,name\n', 'utf16le'), 'encoding');
    expect(e.message).toContain('UTF-16');
  });

  it.each([
    ['a,a\n1,2\n', 'header-duplicate'],
    ['a,,b\n1,2,3\n', 'header-empty'],
    [',,\n1,2,3\n', 'header-empty'],
    ['a, a\n1,2\n', 'header-duplicate'],
  ])('header %j -> %s', async (text, rule) => {
    await expectFileError(text, rule);
  });

  it('case differs: not a duplicate', async () => {
    expect((await decodeAll('a,A\n1,2\n')).columns).toEqual(['a', 'A']);
  });

  it('10,000 columns is too many', async () => {
    const header = Array.from({ length: 10_000 }, (_, i) => `c${i}`).join(',');
    const e = await expectFileError(`${header}\n`, 'too-many-columns');
    expect(e.message).toContain('10000');
    expect((await decodeAll(`${header}\n`, 'ok.csv', { limits: { maxColumns: 10_000 } })).columns).toHaveLength(10_000);
  });

  it('an unclosed quote that swallows the file is record-too-long (thrown from the rows iterator)', async () => {
    const text = `a,b\n1,"oops\n${'2,x\n'.repeat(2000)}`;
    await expectFileError(text, 'record-too-long', 'bad.csv', { limits: { maxRecordBytes: 1000 } });
  });

  it('a header longer than the record limit', async () => {
    await expectFileError(`"${'h'.repeat(5000)}`, 'record-too-long', 'bad.csv', { limits: { maxRecordBytes: 1000 } });
  });

  it('truncated gzip surfaces from the rows iterator after the good rows', async () => {
    const gz = gzipSync(Buffer.from(`id,name\n${'1,Ann\n'.repeat(200_000)}`));
    const cut = gz.subarray(0, gz.length - 100);
    const table = await decodeTable(chunked(cut, 4096), { fileName: 'cut.csv.gz' });
    let rows = 0;
    const err = await (async () => {
      for await (const _ of table.rows) rows++;
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(rows).toBeGreaterThan(0);
    expect(err).toBeInstanceOf(InvalidFileError);
    expect((err as InvalidFileError).context.rule).toBe('gzip-truncated');
    expect((err as InvalidFileError).message).toContain('cut.csv.gz');
  });

  it('gzip missing its trailer is truncated; a damaged body is corrupt', async () => {
    const gz = gzipSync(Buffer.from('id\n1\n2\n'));
    await expectFileError(gz.subarray(0, gz.length - 4), 'gzip-truncated', 'x.csv.gz');
    const damaged = Buffer.from(gz);
    damaged[12] = (damaged[12] as number) ^ 0xff;
    damaged[13] = (damaged[13] as number) ^ 0xff;
    await expectFileError(damaged, 'gzip-corrupt', 'x.csv.gz');
  });

  it('gzip bomb: ratio limit once past 10 MiB of output', async () => {
    const bomb = gzipSync(Buffer.alloc(24 * 1024 * 1024, 0x41)); // "AAAA…": text, ratio ≈ 1000
    await expectFileError(bomb, 'compression-ratio', 'bomb.csv.gz');
  });

  it('gzip bomb: absolute decompressed size', async () => {
    const big = gzipSync(Buffer.from(`id\n${'12345\n'.repeat(100_000)}`));
    await expectFileError(big, 'decompressed-too-large', 'big.csv.gz', { limits: { maxDecompressedBytes: 100_000 } });
  });

  it('a .parquet file that is not Parquet is refused', async () => {
    await expectFileError('PAR1', 'parquet-invalid', 'x.parquet');
    await expectFileError('id,name\n1,a\n', 'parquet-invalid', 'x.parquet');
  });
});

describe('decodeTable: iteration', () => {
  it('stopping early releases the source', async () => {
    let finished = false;
    async function* body() {
      try {
        yield Buffer.from('id\n');
        for (let i = 0; i < 1000; i++) yield Buffer.from(`${'1\n'.repeat(100_000)}`);
      } finally {
        finished = true;
      }
    }
    const table = await decodeTable(body(), { fileName: 'x.csv' });
    let n = 0;
    for await (const _ of table.rows) if (++n === 10) break;
    expect(finished).toBe(true);
  });

  const rowsBlock = '1,2\n'.repeat(16_384);
  const gzBlock = gzipSync(Buffer.from(rowsBlock));
  it.each([
    ['a header error', 'x.csv', (i: number) => Buffer.from(i === 0 ? `a,a\n${rowsBlock}` : rowsBlock)],
    ['binary junk', 'x.csv', () => Buffer.alloc(4096, 0)],
    // Concatenated gzip members: the body is read lazily, block by block.
    ['a header error inside gzip', 'x.csv.gz', (i: number) => (i === 0 ? gzipSync(Buffer.from(`a,a\n${rowsBlock}`)) : gzBlock)],
  ])('%s releases the body', async (_name, fileName, chunk) => {
    let finished = false;
    async function* body() {
      try {
        for (let i = 0; i < 1000; i++) yield chunk(i);
      } finally {
        finished = true;
      }
    }
    await expect(decodeTable(body(), { fileName })).rejects.toBeInstanceOf(InvalidFileError);
    expect(finished).toBe(true);
  });

  it('the rows iterable continues after manual next() calls', async () => {
    const table = await decodeTable(chunked('id\n1\n2\n3\n'), { fileName: 'x.csv' });
    const it = table.rows[Symbol.asyncIterator]();
    expect((await it.next()).value?.cells).toEqual(['1']);
    const rest: string[] = [];
    for await (const r of table.rows) rest.push(r.cells[0] as string);
    expect(rest).toEqual(['2', '3']);
  });

  it('numbers rows across chunk boundaries', async () => {
    const n = 200_000;
    const t = await decodeAll(`id\n${Array.from({ length: n }, (_, i) => `${i + 1}\n`).join('')}`, 'x.csv', { chunk: 10_000 });
    expect(t.rows).toHaveLength(n);
    expect(t.rows.every((r) => r.cells[0] === String(r.rowNumber))).toBe(true);
  });
});

describe('decodeTable: JSON Lines', () => {
  it('columns in order of first appearance, types kept, nested values as JSON, blank lines skipped', async () => {
    const text = [
      '{"id":1,"name":"Ann","vip":true}',
      '',
      '   ',
      '{"id":2,"score":3.5,"tags":["a","b"],"addr":{"city":"Oslo"}}',
      '{"name":null,"id":3}',
    ].join('\r\n');
    const t = await decodeAll(text, 'people.jsonl');
    expect(t.format).toEqual({ format: 'jsonl', compression: 'none', delimiter: ',', bom: false, lineEnding: '\r\n' });
    expect(t.columns).toEqual(['id', 'name', 'vip', 'score', 'tags', 'addr']);
    expect(t.rows).toEqual([
      { rowNumber: 1, cells: [1, 'Ann', true, null, null, null] },
      { rowNumber: 2, cells: [2, null, null, 3.5, '["a","b"]', '{"city":"Oslo"}'] },
      { rowNumber: 3, cells: [3, null, null, null, null, null] },
    ]);
  });

  it('sniffs JSON Lines without an extension', async () => {
    expect((await decodeAll('{"a":1}\n', 'upload')).format.format).toBe('jsonl');
    expect((await decodeAll('a\n1\n', 'upload')).format.format).toBe('csv');
  });

  it('structural problems are row issues with the raw line', async () => {
    const lines = ['{"id":1,"name":"a"}', '{"id":2,', '[1,2]', '"text"', '{"id":5,"name":"e","extra":1}', '{"id":6}'];
    const t = await decodeAll(lines.join('\n'), 'x.ndjson');
    expect(t.rows.map((r) => r.issue?.rule ?? 'ok')).toEqual(['ok', 'json-parse', 'json-not-object', 'json-not-object', 'ok', 'ok']);
    expect(t.rows[1]).toMatchObject({ rowNumber: 2, raw: '{"id":2,', cells: [] });
    // 'extra' is among the first 1000 lines, so it is a column.
    expect(t.columns).toEqual(['id', 'name', 'extra']);
  });

  it('keys first seen after the first 1000 lines are unknown-field issues', async () => {
    const lines = Array.from({ length: 1500 }, (_, i) => (i === 1200 ? `{"id":${i},"late":"x"}` : `{"id":${i}}`));
    const t = await decodeAll(lines.join('\n'), 'x.jsonl', { chunk: 3000 });
    expect(t.columns).toEqual(['id']);
    expect(t.rows).toHaveLength(1500);
    expect(t.rows.map((r) => r.cells[0])).toEqual(Array.from({ length: 1500 }, (_, i) => i));
    const bad = t.rows.filter((r) => r.issue);
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ rowNumber: 1201, issue: { rule: 'unknown-field' }, raw: '{"id":1200,"late":"x"}' });
    expect(bad[0]?.issue?.message).toContain("'late'");
  });

  it('nesting depth limit', async () => {
    const deep = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`;
    const t = await decodeAll(`{"a":${deep(3)}}\n{"a":${deep(4)}}\n`, 'x.jsonl', { limits: { maxJsonDepth: 4 } });
    expect(t.rows.map((r) => r.issue?.rule)).toEqual([undefined, 'json-too-deep']);
    const hostile = await decodeAll(`{"a":1}\n{"a":${deep(50_000)}}\n`, 'x.jsonl');
    expect(hostile.rows[1]?.issue?.rule).toBe('json-too-deep');
  });

  it('integers beyond 2^53 are flagged, not silently rounded', async () => {
    const t = await decodeAll('{"id":9007199254740993}\n{"id":9007199254740991}\n', 'x.jsonl');
    expect(t.rows.map((r) => r.issue?.rule)).toEqual(['json-number-precision', undefined]);
  });

  it('inherited property names are not values', async () => {
    const t = await decodeAll('{"toString":"x"}\n{"other":1}\n', 'x.jsonl');
    expect(t.rows.map((r) => r.cells)).toEqual([
      ['x', null],
      [null, 1],
    ]);
  });

  it.each([
    ['', 'empty-file'],
    ['\n\n', 'empty-file'],
    ['{}\n{}\n', 'empty-file'],
    ['[\n  {"a": 1}\n]\n', 'json-array'],
  ])('file error %j -> %s', async (text, rule) => {
    await expectFileError(text, rule, 'x.jsonl');
  });

  it('a line over the record limit', async () => {
    await expectFileError(`{"a":"${'x'.repeat(3000)}"}\n`, 'record-too-long', 'x.jsonl', { limits: { maxRecordBytes: 1000 } });
  });

  it('gzip JSON Lines', async () => {
    const t = await decodeAll(gzipSync(Buffer.from('{"a":1}\n{"a":2}\n')), 'x.jsonl.gz');
    expect(t.format.compression).toBe('gzip');
    expect(t.rows.map((r) => r.cells)).toEqual([[1], [2]]);
  });
});
