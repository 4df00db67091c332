/**
 * CSV parser benchmark (not a test): which parser should the codecs use?
 *
 *   npx tsx bench/csv-parsers.ts [sizeMB=50] [runs=3]
 *
 * Generates a deterministic ~50 MB, 20-column CSV where about a third of the rows carry a quoted,
 * multi-line free-text note with doubled quotes, then streams it in 1 MiB chunks through each
 * candidate and reports MB/s. Every candidate must produce the same row count and checksum.
 */
import { Readable } from 'node:stream';
import { parse as csvParse } from 'csv-parse';
import { parse as csvParseSync } from 'csv-parse/sync';
import Papa from 'papaparse';
import { CsvRecordParser } from '../functions/core/codecs/csv-record-parser.ts';
import { decodeTable } from '../functions/core/codecs/decode-table.ts';
import { encodeTable } from '../functions/core/codecs/encode-table.ts';

const sizeMb = Number(process.argv[2] ?? 50);
const runs = Number(process.argv[3] ?? 3);
const CHUNK = 1024 * 1024;

function generate(targetBytes: number): Buffer {
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const first = ['Anna', 'Bernd', 'Chloé', 'Dmitri', 'Eve', 'Fatima', 'Göran', 'Hiro', 'Inès', 'José'];
  const last = ['Müller', "O'Brien", 'Smith', 'Dupont', 'García', 'Kowalski', 'Nakamura', 'Rossi'];
  const words = ['call', 'back', 'about', 'the', 'invoice', 'customer', 'said', 'ok', 'refund', 'delivered', 'late', 'urgent'];
  const header = [
    'customer_id',
    'first_name',
    'last_name',
    'email',
    'phone',
    'iban',
    'card',
    'dob',
    'street',
    'postcode',
    'city',
    'country',
    'status',
    'segment',
    'amount',
    'quantity',
    'created_at',
    'score',
    'active',
    'notes',
  ];
  const lines: string[] = [header.join(',')];
  let bytes = lines[0]!.length + 1;
  for (let i = 0; bytes < targetBytes; i++) {
    const f = first[i % first.length]!;
    const l = last[(i * 7) % last.length]!;
    let note = '';
    if (rnd() < 0.33) {
      const n = 5 + Math.floor(rnd() * 30);
      const w: string[] = [];
      for (let k = 0; k < n; k++) w.push(words[Math.floor(rnd() * words.length)]!);
      if (rnd() < 0.3) w.push('\n"quoted", he said,');
      if (rnd() < 0.3) w.push(`\r\nmail ${f.toLowerCase()}@example.com`);
      note = `"${w.join(' ').replace(/"/g, '""')}"`;
    }
    const row = [
      `C${100000 + i}`,
      f,
      l.includes("'") ? l : l,
      `${f.toLowerCase()}.${i}@example.com`,
      `+44 7700 ${String(900000 + (i % 99999)).padStart(6, '0')}`,
      `GB82WEST1234569876${String(i % 10000).padStart(4, '0')}`,
      `4111 1111 1111 ${String(i % 10000).padStart(4, '0')}`,
      `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 10}`,
      `${i % 300} High Street`,
      `SW1A ${i % 10}AA`,
      'London',
      'GB',
      ['active', 'churned', 'pending'][i % 3]!,
      ['a', 'b', 'c', 'd'][i % 4]!,
      (rnd() * 1000).toFixed(2),
      String(i % 17),
      `2024-0${1 + (i % 9)}-1${i % 10}T10:${String(i % 60).padStart(2, '0')}:00Z`,
      rnd().toFixed(4),
      i % 2 ? 'true' : 'false',
      note,
    ].join(',');
    lines.push(row);
    bytes += Buffer.byteLength(row) + 1;
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

function chunks(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += CHUNK) out.push(buf.subarray(i, i + CHUNK));
  return out;
}

interface Result {
  rows: number;
  check: number;
}

type Candidate = { name: string; run: (parts: Buffer[]) => Promise<Result> };

const sumLengths = (fields: readonly unknown[]) => {
  let s = 0;
  for (const f of fields) s += typeof f === 'string' ? f.length : 0;
  return s;
};

const candidates: Candidate[] = [
  {
    name: 'papaparse NODE_STREAM_INPUT',
    run: (parts) =>
      new Promise((resolve, reject) => {
        let rows = -1;
        let check = 0;
        const stream = Papa.parse(Papa.NODE_STREAM_INPUT, { delimiter: ',', newline: '\n' });
        stream.on('data', (r: string[]) => {
          if (r.length === 1 && r[0] === '') return;
          rows++;
          check += sumLengths(r);
        });
        stream.on('end', () => resolve({ rows, check }));
        stream.on('error', reject);
        Readable.from(parts).pipe(stream);
      }),
  },
  {
    name: 'papaparse Parser, chunked',
    run: async (parts) => {
      const parser = new Papa.Parser({ delimiter: ',', newline: '\n' });
      const decoder = new TextDecoder('utf-8', { fatal: true });
      let partial = '';
      let rows = -1;
      let check = 0;
      for (let i = 0; i < parts.length; i++) {
        const last = i === parts.length - 1;
        const text = partial + decoder.decode(parts[i], { stream: !last });
        const res = parser.parse(text, 0, !last) as { data: string[][]; meta: { cursor: number } };
        partial = last ? '' : text.slice(res.meta.cursor);
        for (const r of res.data) {
          if (r.length === 1 && r[0] === '') continue;
          rows++;
          check += sumLengths(r);
        }
      }
      return { rows, check };
    },
  },
  {
    name: 'csv-parse stream',
    run: async (parts) => {
      let rows = -1;
      let check = 0;
      const parser = Readable.from(parts).pipe(csvParse({ relax_column_count: true, skip_empty_lines: true }));
      for await (const r of parser as AsyncIterable<string[]>) {
        rows++;
        check += sumLengths(r);
      }
      return { rows, check };
    },
  },
  {
    name: 'CsvRecordParser (hand-written)',
    run: async (parts) => {
      const decoder = new TextDecoder('utf-8', { fatal: true });
      let rows = -1;
      let check = 0;
      const parser = new CsvRecordParser(',', 16 << 20, () => {
        throw new Error('too long');
      });
      const sink = (fields: string[]) => {
        rows++;
        check += sumLengths(fields);
      };
      for (const p of parts) parser.push(decoder.decode(p, { stream: true }), sink);
      parser.end(sink);
      return { rows, check };
    },
  },
  {
    name: 'decodeTable (bytes -> Row, full codec)',
    run: async (parts) => {
      const table = await decodeTable(Readable.from(parts), { fileName: 'bench.csv' });
      let rows = 0;
      let check = sumLengths(table.columns);
      for await (const r of table.rows) {
        rows++;
        check += sumLengths(r.cells);
      }
      return { rows, check };
    },
  },
];

async function serializers(parts: Buffer[], totalMb: number): Promise<void> {
  const table = await decodeTable(Readable.from(parts), { fileName: 'bench.csv' });
  const rows: string[][] = [];
  for await (const r of table.rows) rows.push(r.cells as string[]);
  const cols = [...table.columns];
  async function* each() {
    for (const r of rows) yield r;
  }
  const writers: { name: string; run: () => Promise<number> }[] = [
    {
      name: 'encodeTable (hand-written, neutralise on)',
      run: async () => {
        let n = 0;
        const enc = encodeTable(cols, each(), table.format);
        for await (const b of enc.bytes) n += b.length;
        return n;
      },
    },
    {
      name: 'encodeTable (neutralise off)',
      run: async () => {
        let n = 0;
        const enc = encodeTable(cols, each(), table.format, { neutraliseFormulas: false });
        for await (const b of enc.bytes) n += b.length;
        return n;
      },
    },
    {
      name: 'papaparse unparse (batches of 2000 rows)',
      run: async () => {
        let n = 0;
        for (let i = 0; i < rows.length; i += 2000) n += Buffer.byteLength(Papa.unparse(rows.slice(i, i + 2000), { newline: '\n' })) + 1;
        return n;
      },
    },
    {
      name: 'csv-stringify stream',
      run: async () => {
        const { stringify } = await import('csv-stringify');
        let n = 0;
        const s = Readable.from(rows).pipe(stringify({ cast: { boolean: (v) => String(v) } }));
        for await (const b of s as AsyncIterable<Buffer>) n += b.length;
        return n;
      },
    },
  ];
  for (const w of writers) {
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      bytes = await w.run();
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(
      `  ${w.name.padEnd(44)} ${(totalMb / (times[0]! / 1000)).toFixed(1).padStart(7)} MB/s best, ${(totalMb / (times[Math.floor(times.length / 2)]! / 1000)).toFixed(1).padStart(7)} median  (${(bytes / 1e6).toFixed(1)} MB out)`,
    );
  }
}

/** RFC 4180 cases the codec must pass; each parser in its most lenient documented setup. */
const CONFORMANCE: { name: string; text: string; rows: string[][] }[] = [
  {
    name: 'mixed CRLF/LF line endings',
    text: 'a,b\r\n1,2\n3,4\r\n',
    rows: [
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
    ],
  },
  {
    name: 'CRLF kept inside quotes',
    text: 'a,b\n"x\r\ny",2\n',
    rows: [
      ['a', 'b'],
      ['x\r\ny', '2'],
    ],
  },
  { name: 'quoted empty line is a value', text: 'a\n""\n1\n', rows: [['a'], [''], ['1']] },
  {
    name: 'doubled quotes and delimiters',
    text: 'a,b\n"say ""hi"", ok",2\n',
    rows: [
      ['a', 'b'],
      ['say "hi", ok', '2'],
    ],
  },
];

function conformance(): void {
  const parsers: [string, (t: string) => string[][]][] = [
    ['papaparse (auto newline, skipEmptyLines)', (t) => Papa.parse<string[]>(t, { skipEmptyLines: true }).data],
    ['csv-parse (skip_empty_lines)', (t) => csvParseSync(t, { skip_empty_lines: true, relax_column_count: true }) as string[][]],
    [
      'CsvRecordParser',
      (t) => {
        const out: string[][] = [];
        const p = new CsvRecordParser(',', 1 << 20, () => {
          throw new Error('too long');
        });
        p.push(t, (f) => out.push(f));
        p.end((f) => out.push(f));
        return out;
      },
    ],
  ];
  console.log('RFC 4180 conformance:');
  for (const [name, parse] of parsers) {
    const failed = CONFORMANCE.filter((c) => {
      try {
        return JSON.stringify(parse(c.text)) !== JSON.stringify(c.rows);
      } catch {
        return true;
      }
    }).map((c) => c.name);
    console.log(
      `  ${name.padEnd(44)} ${CONFORMANCE.length - failed.length}/${CONFORMANCE.length}${failed.length ? `  fails: ${failed.join('; ')}` : ''}`,
    );
  }
}

async function main(): Promise<void> {
  conformance();
  const t0 = performance.now();
  const data = generate(sizeMb * 1e6);
  const totalMb = data.length / 1e6;
  console.log(
    `generated ${totalMb.toFixed(1)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${runs} runs each, 1 MiB chunks, Node ${process.version}`,
  );
  const parts = chunks(data);
  console.log('parse:');
  let reference: Result | undefined;
  for (const c of candidates) {
    const times: number[] = [];
    let res: Result = { rows: 0, check: 0 };
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      res = await c.run(parts);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    reference ??= res;
    const same =
      res.rows === reference.rows && res.check === reference.check
        ? 'same output'
        : `DIFFERENT output (${res.rows} rows, check ${res.check})`;
    console.log(
      `  ${c.name.padEnd(44)} ${(totalMb / (times[0]! / 1000)).toFixed(1).padStart(7)} MB/s best, ${(totalMb / (times[Math.floor(times.length / 2)]! / 1000)).toFixed(1).padStart(7)} median  ${res.rows} rows, ${same}`,
    );
  }
  console.log('serialise (rows already in memory):');
  await serializers(parts, totalMb);
}

await main();
