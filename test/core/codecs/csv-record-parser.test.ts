import { describe, expect, it } from 'vitest';
import { CsvRecordParser, firstRecordEnd, sniffDelimiter } from '../../../functions/core/codecs/csv-record-parser.ts';

interface Rec {
  fields: string[];
  malformed: boolean;
  raw: string;
}

function parseChunks(chunks: readonly string[], delimiter = ',', max = 1 << 20): Rec[] {
  const out: Rec[] = [];
  const p = new CsvRecordParser(delimiter, max, () => {
    throw new Error('too long');
  });
  const sink = (fields: string[], malformed: boolean, buf: string, start: number, end: number) => {
    out.push({ fields, malformed, raw: buf.slice(start, end) });
  };
  for (const c of chunks) p.push(c, sink);
  p.end(sink);
  return out;
}

const fieldsOf = (recs: Rec[]) => recs.map((r) => r.fields);

// RFC 4180 and the real-world variations the decoder must accept.
const cases: { name: string; text: string; records: string[][]; malformed?: number[]; delimiter?: string }[] = [
  {
    name: 'simple LF',
    text: 'a,b\n1,2\n',
    records: [
      ['a', 'b'],
      ['1', '2'],
    ],
  },
  {
    name: 'no final line break',
    text: 'a,b\n1,2',
    records: [
      ['a', 'b'],
      ['1', '2'],
    ],
  },
  {
    name: 'CRLF',
    text: 'a,b\r\n1,2\r\n',
    records: [
      ['a', 'b'],
      ['1', '2'],
    ],
  },
  {
    name: 'mixed CRLF and LF',
    text: 'a,b\r\n1,2\n3,4\r\n5,6',
    records: [
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
      ['5', '6'],
    ],
  },
  {
    name: 'quoted field with delimiter',
    text: 'a,b\n"x,y",2\n',
    records: [
      ['a', 'b'],
      ['x,y', '2'],
    ],
  },
  { name: 'doubled quotes', text: 'a\n"say ""hi"""\n', records: [['a'], ['say "hi"']] },
  {
    name: 'only a doubled quote',
    text: 'a,b\n"""",x\n',
    records: [
      ['a', 'b'],
      ['"', 'x'],
    ],
  },
  {
    name: 'embedded LF in quotes',
    text: 'a,b\n"line1\nline2",2\n',
    records: [
      ['a', 'b'],
      ['line1\nline2', '2'],
    ],
  },
  {
    name: 'embedded CRLF kept in quotes',
    text: 'a,b\r\n"line1\r\nline2",2\r\n',
    records: [
      ['a', 'b'],
      ['line1\r\nline2', '2'],
    ],
  },
  {
    name: 'quoted CR at end of last field',
    text: 'a,b\n1,"x\r"\n',
    records: [
      ['a', 'b'],
      ['1', 'x\r'],
    ],
  },
  {
    name: 'empty fields',
    text: 'a,b,c\n,,\n',
    records: [
      ['a', 'b', 'c'],
      ['', '', ''],
    ],
  },
  {
    name: 'empty quoted field',
    text: 'a,b\n"",x\n',
    records: [
      ['a', 'b'],
      ['', 'x'],
    ],
  },
  {
    name: 'trailing delimiter at EOF',
    text: 'a,b\n1,',
    records: [
      ['a', 'b'],
      ['1', ''],
    ],
  },
  {
    name: 'blank lines skipped',
    text: 'a,b\n\n1,2\r\n\r\n3,4\n\n',
    records: [
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
    ],
  },
  { name: 'quoted empty line is a record', text: 'a\n""\n1\n', records: [['a'], [''], ['1']] },
  {
    name: 'quote inside unquoted field is literal',
    text: 'a,b\nab"c,2\n',
    records: [
      ['a', 'b'],
      ['ab"c', '2'],
    ],
  },
  {
    name: 'spaces preserved',
    text: 'a,b\n  x , y \n',
    records: [
      ['a', 'b'],
      ['  x ', ' y '],
    ],
  },
  {
    name: 'unicode',
    text: 'név,città\nÅsa 😀,東京\n',
    records: [
      ['név', 'città'],
      ['Åsa 😀', '東京'],
    ],
  },
  {
    name: 'semicolon',
    text: 'a;b\n"x;y";2\n',
    records: [
      ['a', 'b'],
      ['x;y', '2'],
    ],
    delimiter: ';',
  },
  {
    name: 'tab',
    text: 'a\tb\n"x\ty"\t2\n',
    records: [
      ['a', 'b'],
      ['x\ty', '2'],
    ],
    delimiter: '\t',
  },
  {
    name: 'comma is data when tab-delimited',
    text: 'a\tb\nx,y\t2\n',
    records: [
      ['a', 'b'],
      ['x,y', '2'],
    ],
    delimiter: '\t',
  },
  {
    name: 'text after closing quote',
    text: 'a,b\n"ab"c,2\n',
    records: [
      ['a', 'b'],
      ['abc', '2'],
    ],
    malformed: [1],
  },
  {
    name: 'unterminated quote at EOF',
    text: 'a,b\n1,"open\n2,3\n',
    records: [
      ['a', 'b'],
      ['1', 'open\n2,3\n'],
    ],
    malformed: [1],
  },
  {
    name: 'bare CR after closing quote',
    text: 'a,b\n"x"\ry,2\n',
    records: [
      ['a', 'b'],
      ['x\ry', '2'],
    ],
    malformed: [1],
  },
];

describe('CsvRecordParser', () => {
  it.each(cases)('$name (one chunk)', ({ text, records, malformed = [], delimiter }) => {
    const recs = parseChunks([text], delimiter);
    expect(fieldsOf(recs)).toEqual(records);
    expect(recs.flatMap((r, i) => (r.malformed ? [i] : []))).toEqual(malformed);
  });

  it.each(cases)('$name (split at every position, and char by char)', ({ text, records, delimiter }) => {
    for (let cut = 1; cut < text.length; cut++) {
      expect(fieldsOf(parseChunks([text.slice(0, cut), text.slice(cut)], delimiter)), `cut at ${cut}`).toEqual(records);
    }
    expect(fieldsOf(parseChunks([...text], delimiter))).toEqual(records);
  });

  it('gives the raw text of each record without its terminator', () => {
    const recs = parseChunks(['a,b\r\n"x\ny",2\r\n3,4']);
    expect(recs.map((r) => r.raw)).toEqual(['a,b', '"x\ny",2', '3,4']);
  });

  it('rejects a record longer than the limit, complete or still open', () => {
    expect(() => parseChunks(['a\n', `${'x'.repeat(50)}\n`], ',', 40)).toThrow('too long');
    expect(() => parseChunks(['a\n"', 'x'.repeat(30), 'x'.repeat(30)], ',', 40)).toThrow('too long');
    expect(fieldsOf(parseChunks(['a\n', `${'x'.repeat(40)}\n`], ',', 40))).toHaveLength(2);
  });

  it('stays linear on a record spanning many chunks', () => {
    const parts = ['a,b\n"', ...Array.from({ length: 2000 }, () => 'y'.repeat(500)), '",1\n'];
    const recs = parseChunks(parts, ',', 2 << 20);
    expect(recs[1]?.fields[0]).toHaveLength(1_000_000);
  });
});

describe('sniffDelimiter', () => {
  it.each([
    ['a,b,c', ','],
    ['a;b;c', ';'],
    ['a\tb\tc', '\t'],
    ['"x;y",b', ','],
    ['"a,b";"c,d";e', ';'],
    ['single', ','],
    ['a;b,c', ','],
    ['a\tb;c;d', ';'],
  ])('%j -> %j', (header, expected) => {
    expect(sniffDelimiter(header)).toBe(expected);
  });
});

describe('firstRecordEnd', () => {
  it.each([
    ['a,b\n1', { end: 4, lineEnding: '\n' }],
    ['a,b\r\n1', { end: 5, lineEnding: '\r\n' }],
    ['"a\nb",c\n', { end: 8, lineEnding: '\n' }],
    ['\n\na\n', { end: 4, lineEnding: '\n' }],
    ['"a\nb', undefined],
  ])('%j', (text, expected) => {
    expect(firstRecordEnd(text)).toEqual(expected);
  });
});
