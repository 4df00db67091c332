import { describe, expect, it } from 'vitest';
import { extensionOf, formatFromKey } from '../../../functions/core/codecs/file-format.ts';

describe('formatFromKey', () => {
  it.each([
    ['incoming/customers.csv', { format: 'csv', compression: 'none' }],
    ['customers.CSV.GZ', { format: 'csv', compression: 'gzip' }],
    ['a/b/data.tsv', { format: 'csv', compression: 'none' }],
    ['data.txt.gz', { format: 'csv', compression: 'gzip' }],
    ['events.jsonl', { format: 'jsonl', compression: 'none' }],
    ['events.ndjson.gz', { format: 'jsonl', compression: 'gzip' }],
    ['events.json', { format: 'jsonl', compression: 'none' }],
    ['t.parquet', { format: 'parquet', compression: 'none' }],
    ['dir.csv/readme', undefined],
    ['noext', undefined],
    ['.csv', undefined],
    ['archive.zip', undefined],
    ['data.gz', undefined],
  ])('%s', (key, expected) => {
    expect(formatFromKey(key)).toEqual(expected);
  });
});

describe('extensionOf', () => {
  it.each([
    [{ format: 'csv', compression: 'gzip' }, '.csv.gz'],
    [{ format: 'jsonl', compression: 'none' }, '.jsonl'],
    [{ format: 'parquet', compression: 'none' }, '.parquet'],
  ] as const)('%j', (f, ext) => {
    expect(extensionOf(f)).toBe(ext);
  });
});
