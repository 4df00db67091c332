/**
 * Property-based fuzzing of the parsers (decodeTable: CSV, JSON Lines, gzip, raw bytes) and the
 * detector (text scanner, column classification, row transformer): no crash other than our
 * error classes, every call finishes, no value of the input in an error or row-issue message,
 * and results that do not depend on where the bytes were split.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTable } from '../../functions/core/codecs/decode-table.ts';
import { parseContract } from '../../functions/core/contract/parse-contract.ts';
import { classifyColumns } from '../../functions/core/detect/classify-columns.ts';
import { createTextScanner } from '../../functions/core/detect/text-scanner.ts';
import { InvalidFileError, PrivacyPipelineError, SanitisationError } from '../../functions/core/errors.ts';
import { DEFAULT_POLICY } from '../../functions/core/pseudonymise/policy.ts';
import { createRowTransformer } from '../../functions/core/pseudonymise/row-transformer.ts';
import type { Row } from '../../functions/core/types.ts';

/** Planted in cell values: it must never come back in a message. */
const SENTINEL = 'zq7SECRETq7z';
const RUNS = { numRuns: 150, seed: 20261122 };

/** Splits bytes at the given cut points (a transport's arbitrary chunking). */
async function* chunks(bytes: Uint8Array, cuts: readonly number[]): AsyncGenerator<Uint8Array> {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let at = 0;
  for (const p of points) {
    if (p > at) yield bytes.subarray(at, p);
    at = Math.max(at, p);
  }
  if (at < bytes.length) yield bytes.subarray(at);
}

interface Decoded {
  readonly columns?: readonly string[];
  readonly rows: Row[];
  readonly error?: unknown;
}

async function decodeAll(bytes: Uint8Array, cuts: readonly number[], fileName: string): Promise<Decoded> {
  const rows: Row[] = [];
  try {
    const table = await decodeTable(chunks(bytes, cuts), {
      fileName,
      limits: { maxRecordBytes: 4096, maxCellLength: 2048, maxColumns: 64 },
    });
    for await (const r of table.rows) rows.push(r);
    return { columns: table.columns, rows };
  } catch (error) {
    return { rows, error };
  }
}

/** Only our error classes, and never a value in a message. */
function expectWellBehaved(d: Decoded): void {
  if (d.error !== undefined) {
    expect(d.error).toBeInstanceOf(InvalidFileError);
    expect((d.error as Error).message).not.toContain(SENTINEL);
    expect(JSON.stringify((d.error as InvalidFileError).context)).not.toContain(SENTINEL);
  }
  let last = 0;
  for (const r of d.rows) {
    expect(r.rowNumber).toBeGreaterThan(last);
    last = r.rowNumber;
    if (r.issue) expect(r.issue.message).not.toContain(SENTINEL);
    else if (d.columns) expect(r.cells.length).toBe(d.columns.length);
  }
}

const strip = (d: Decoded) => ({
  columns: d.columns,
  rows: d.rows.map((r) => [r.rowNumber, r.cells, r.issue?.rule]),
  error: d.error === undefined ? undefined : (d.error as InvalidFileError).context.rule,
});

const cuts = fc.array(fc.nat({ max: 5000 }), { maxLength: 6 });

// CSV made of the characters that matter to a CSV parser, plus NULs, BOMs, high code points and the sentinel.
const csvUnit = fc.constantFrom(
  'a',
  'b',
  '1',
  ',',
  ';',
  '\t',
  '"',
  '""',
  '\r',
  '\n',
  '\r\n',
  ' ',
  'é',
  '日',
  '😀',
  '\u0000',
  '\ufeff',
  '=',
  SENTINEL,
);
const csvBody = fc.string({ unit: csvUnit, maxLength: 120 });

describe('fuzzing decodeTable', () => {
  it('CSV: only InvalidFileError, no value in messages, and the same result however the bytes are split', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('id,name,note\n', 'id;name;note\r\n', '\ufeffid\tname\tnote\n'),
        csvBody,
        cuts,
        async (header, body, cut) => {
          const bytes = new TextEncoder().encode(header + body);
          const whole = await decodeAll(bytes, [], 'f.csv');
          expectWellBehaved(whole);
          const split = await decodeAll(bytes, cut, 'f.csv');
          expectWellBehaved(split);
          expect(strip(split)).toEqual(strip(whole));
        },
      ),
      RUNS,
    );
  });

  it('JSON Lines: arbitrary JSON and garbage lines give rows or row issues, never a crash', async () => {
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.constant(SENTINEL),
      fc.constant({ deep: JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`) }),
    );
    const line = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.dictionary(fc.constantFrom('id', 'email', 'note', 'n'), value, { maxKeys: 4 }).map((o) => JSON.stringify(o)),
      },
      { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('{', '}', '"', ':', ',', '[', 'a', SENTINEL, '\\', ' '), maxLength: 30 }) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 20 }), fc.constantFrom('\n', '\r\n'), cuts, async (lines, eol, cut) => {
        const bytes = new TextEncoder().encode(`{"id":1,"email":"e","note":"n"}${eol}${lines.join(eol)}${eol}`);
        const whole = await decodeAll(bytes, [], 'f.jsonl');
        expectWellBehaved(whole);
        const split = await decodeAll(bytes, cut, 'f.jsonl');
        expect(strip(split)).toEqual(strip(whole));
      }),
      RUNS,
    );
  });

  it('arbitrary bytes, gzip-wrapped or not, truncated or bit-flipped gzip: only InvalidFileError', async () => {
    const gz = gzipSync(`id,email\n${Array.from({ length: 300 }, (_, i) => `${i},p${i}@example.com`).join('\n')}\n`);
    const mutated = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }).map((b) => new Uint8Array([0x1f, 0x8b, 0x08, 0x00, ...b])),
      fc.nat({ max: gz.length - 1 }).map((n) => gz.subarray(0, n)),
      fc.tuple(fc.nat({ max: gz.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
        const copy = Buffer.from(gz);
        copy[i] = (copy[i] as number) ^ x;
        return copy;
      }),
    );
    await fc.assert(
      fc.asyncProperty(mutated, cuts, async (bytes, cut) => {
        expectWellBehaved(await decodeAll(bytes, cut, 'f.csv.gz'));
      }),
      RUNS,
    );
    // A few big random bodies too.
    for (let i = 0; i < 5; i++) expectWellBehaved(await decodeAll(randomBytes(200_000), [], 'f.csv'));
  });
});

// Text built from fragments that wake the recognizers, so the fuzzer reaches their regexes and validators.
const piiUnit = fc.constantFrom(
  '1',
  '4',
  '0',
  '9',
  ' ',
  '-',
  '.',
  '@',
  '+',
  '(',
  ')',
  ':',
  '/',
  ',',
  "'",
  'a',
  'Z',
  'é',
  'ß',
  '日',
  '\n',
  '\t',
  'Mr ',
  'Smith',
  'Anna ',
  'Street',
  'Rd',
  'GB',
  'DE89',
  'eyJ',
  'AKIA',
  '-----BEGIN ',
  'www.',
  '://',
  'tel',
  'email',
  'example.com',
  '+44 ',
  '07',
  '192.168.',
  'ff:',
  'SW1A',
  'password=',
  SENTINEL,
);
const piiText = fc.string({ unit: piiUnit, maxLength: 200 });

describe('fuzzing the detector', () => {
  const scanners = ['GB', 'US', 'DE', 'FR', 'XX'].map((r) => createTextScanner({ defaultRegion: r }));

  it('the text scanner returns sorted, disjoint spans inside the text, for any text and region', () => {
    fc.assert(
      fc.property(piiText, fc.nat({ max: scanners.length - 1 }), (text, r) => {
        const spans = (scanners[r] as (typeof scanners)[number]).scan(text);
        let end = 0;
        for (const s of spans) {
          expect(s.start).toBeGreaterThanOrEqual(end);
          expect(s.end).toBeGreaterThan(s.start);
          expect(s.end).toBeLessThanOrEqual(text.length);
          expect(s.score).toBeGreaterThanOrEqual(0);
          expect(s.score).toBeLessThanOrEqual(1);
          end = s.end;
        }
      }),
      { ...RUNS, numRuns: 400 },
    );
  });

  it('the scanner finishes on texts built to make its patterns backtrack (64 KiB each)', () => {
    const scanner = createTextScanner();
    const units = [
      'a',
      '1',
      '1 ',
      '1-',
      'a@',
      'a.',
      '1.',
      'a:',
      'A ',
      'Aa ',
      'Mr Smith ',
      '1 High Street ',
      'a.b@c.de ',
      'eyJa.',
      'GB12 ',
      '+4',
      '(1) ',
    ];
    for (const unit of units) {
      for (const tail of ['', '!@']) {
        const text = unit.repeat(Math.ceil(65_000 / unit.length)).slice(0, 65_000 - tail.length) + tail;
        expect(() => scanner.scan(text)).not.toThrow();
      }
    }
    expect(() => scanner.scan('a'.repeat(70_000))).toThrow(SanitisationError);
  });

  it('classification and the row transformer handle any sample; failures are SanitisationError without the value', () => {
    const hmacKey = { material: new Uint8Array(32).fill(7), ref: { keyId: 'k', version: 'v1', purpose: 'token-hmac' as const } };
    const sivKey = { material: new Uint8Array(64).fill(9), ref: { keyId: 'k', version: 'v1', purpose: 'token-siv' as const } };
    const header = fc.constantFrom(
      'email',
      'phone',
      'name',
      'notes',
      'customer_id',
      'date_of_birth',
      'iban',
      'card',
      'ip',
      'x',
      'postcode',
      'country',
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(header, { minLength: 1, maxLength: 5 }),
        fc.array(fc.array(piiText, { minLength: 5, maxLength: 5 }), { minLength: 1, maxLength: 12 }),
        (columns, rows) => {
          const contract = parseContract(['dataset: fuzz', 'columns:', ...columns.map((c) => `  - { name: ${c} }`)].join('\n'), 'fuzz');
          const samples = columns.map((name, i) => ({ name, values: rows.map((r) => r[i] ?? '').filter((v) => v !== '') }));
          const plan = classifyColumns(samples, { contract, policy: DEFAULT_POLICY, defaultRegion: 'GB' });
          expect(plan.map((d) => d.column)).toEqual(columns);
          const transformer = createRowTransformer(columns, plan, { hmacKey, sivKey, policy: DEFAULT_POLICY, defaultRegion: 'GB' });
          for (const r of rows) {
            try {
              transformer.transform(r.slice(0, columns.length), []);
            } catch (err) {
              expect(err).toBeInstanceOf(PrivacyPipelineError);
              expect((err as Error).message).not.toContain(SENTINEL);
            }
          }
        },
      ),
      RUNS,
    );
  });
});
