/**
 * The ML team's view of a dataset: every published (curated) object in ingest order, one header,
 * columns aligned by name across runs. Lineage is the commit log: only runs recorded as COMPLETE
 * are read, so a run that failed half-way is never visible here.
 */
import { decodeTable } from '../codecs/decode-table.ts';
import type { FileFormat } from '../codecs/file-format.ts';
import { formatFromKey } from '../codecs/file-format.ts';
import type { ParquetColumnType } from '../codecs/parquet-types.ts';
import { UsageError } from '../errors.ts';
import type { RunRecord } from '../lineage/run-record.ts';
import type { Ports } from '../ports.ts';
import type { Cell, DataFormat } from '../types.ts';

export interface DatasetView {
  readonly columns: readonly string[];
  /** The format of the first published object (the ingest format). */
  readonly sourceFormat: FileFormat;
  readonly objects: readonly string[];
  readonly rows: AsyncIterable<Cell[]>;
  /** Parquet sources: the column types of the first object (for Parquet output). */
  readonly columnTypes?: readonly ParquetColumnType[];
}

/** Published runs of a dataset in ingest order. */
export async function publishedRuns(ports: Ports, dataset: string): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  for await (const r of ports.lineage.list({ dataset, kind: 'run' })) {
    const run = r as unknown as RunRecord;
    if (run.status === 'COMPLETE') runs.push(run);
  }
  return runs.sort((a, b) => (a.runKey < b.runKey ? -1 : a.runKey > b.runKey ? 1 : 0));
}

export async function readDataset(ports: Ports, dataset: string): Promise<DatasetView> {
  const keys: string[] = [];
  for (const run of await publishedRuns(ports, dataset)) {
    for (const o of run.outputs) if (o.role === 'curated') keys.push(o.key);
  }
  // Erasure may have removed an object whose every row belonged to erased subjects.
  const present: string[] = [];
  for (const key of keys) if (await ports.objects.head('curated', key)) present.push(key);
  if (present.length === 0) throw new UsageError(`dataset '${dataset}' has no published data`, { dataset });

  const first = await openTable(ports, present[0] as string);
  const columns = first.columns;
  async function* rows(): AsyncIterable<Cell[]> {
    for (let i = 0; i < present.length; i++) {
      const table = i === 0 ? first : await openTable(ports, present[i] as string);
      const map = table.columns.map((c) => columns.indexOf(c));
      const aligned = map.every((m, j) => m === j) && table.columns.length === columns.length;
      for await (const row of table.rows) {
        if (aligned) {
          yield row.cells;
          continue;
        }
        const out: Cell[] = new Array(columns.length).fill(null);
        map.forEach((m, j) => {
          if (m >= 0) out[m] = row.cells[j] ?? null;
        });
        yield out;
      }
    }
  }
  return {
    columns,
    sourceFormat: first.format,
    objects: present,
    rows: rows(),
    ...(first.columnTypes ? { columnTypes: first.columnTypes } : {}),
  };
}

async function openTable(ports: Ports, key: string) {
  const { info, body } = await ports.objects.get('curated', key);
  const readRange = ports.objects.readRange?.bind(ports.objects);
  // Parquet is read row group by row group from its footer when the store serves ranges.
  const random =
    formatFromKey(key)?.format === 'parquet' && readRange
      ? {
          size: info.size,
          read: (start: number, end: number) =>
            readRange('curated', key, start, end, info.versionId ? { versionId: info.versionId } : undefined),
        }
      : undefined;
  return decodeTable(body, { fileName: `curated/${key}`, ...(random ? { random } : {}) });
}

export function outputFormat(source: FileFormat, asked: DataFormat | undefined): FileFormat {
  const format = asked ?? source.format;
  if (format === 'parquet') return { format, compression: 'none', delimiter: ',', bom: false, lineEnding: '\n' };
  return {
    ...source,
    format,
    compression: 'none',
    ...(format === 'csv' && source.format !== 'csv' ? { delimiter: ',', lineEnding: '\n', bom: false } : {}),
  };
}
