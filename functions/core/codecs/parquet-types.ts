/**
 * How Parquet column types map to cells and back. Cells stay `string | number | boolean | null`
 * so validation, detection and pseudonymisation need no Parquet knowledge:
 *
 *   BOOLEAN → boolean   INT32, FLOAT, DOUBLE, DECIMAL → number   INT64 → number (string beyond 2^53)
 *   TIMESTAMP → ISO-8601 text with the column's precision (…Z, 3, 6 or 9 fraction digits)
 *   DATE → `YYYY-MM-DD`   STRING, ENUM, UUID → string   JSON, nested groups → JSON text
 *
 * On output a column that passed through unchanged gets its input schema element back (same
 * physical, converted and logical type, timestamps to the unit); a transformed column is a
 * nullable UTF-8 string.
 */
import type { SchemaElement } from 'hyparquet';

export type ParquetKind = 'BOOLEAN' | 'INT32' | 'INT64' | 'FLOAT' | 'DOUBLE' | 'DECIMAL' | 'STRING' | 'TIMESTAMP' | 'DATE' | 'JSON';

/** The type of one (top-level) column: what its cells hold, and the schema element to write it with. */
export interface ParquetColumnType {
  readonly kind: ParquetKind;
  /** The input's leaf schema element (absent for nested groups and inferred types). */
  readonly element?: SchemaElement;
  /** Timestamps: units per second (1e3, 1e6 or 1e9). */
  readonly unitsPerSecond?: number;
}

/** The column type of a top-level schema element (children: a nested group, carried as JSON text). */
export function columnTypeOf(element: SchemaElement, hasChildren: boolean): ParquetColumnType {
  if (hasChildren) return { kind: 'JSON' };
  const { type, converted_type: ct, logical_type: lt } = element;
  const plain = stripName(element);
  if (ct === 'DECIMAL' || lt?.type === 'DECIMAL') return { kind: 'DECIMAL', element: plain };
  switch (type) {
    case 'BOOLEAN':
      return { kind: 'BOOLEAN', element: plain };
    case 'INT32':
      return ct === 'DATE' || lt?.type === 'DATE' ? { kind: 'DATE', element: plain } : { kind: 'INT32', element: plain };
    case 'INT64': {
      if (ct === 'TIMESTAMP_MILLIS') return { kind: 'TIMESTAMP', element: plain, unitsPerSecond: 1e3 };
      if (ct === 'TIMESTAMP_MICROS') return { kind: 'TIMESTAMP', element: plain, unitsPerSecond: 1e6 };
      if (lt?.type === 'TIMESTAMP') {
        const unit = lt.unit === 'NANOS' ? 1e9 : lt.unit === 'MICROS' ? 1e6 : 1e3;
        return { kind: 'TIMESTAMP', element: plain, unitsPerSecond: unit };
      }
      return { kind: 'INT64', element: plain };
    }
    case 'INT96':
      // Legacy Impala timestamps: written back as standard nanosecond timestamps.
      return {
        kind: 'TIMESTAMP',
        element: {
          name: element.name,
          type: 'INT64',
          logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'NANOS' },
          repetition_type: element.repetition_type ?? 'OPTIONAL',
        },
        unitsPerSecond: 1e9,
      };
    case 'FLOAT':
      return { kind: 'FLOAT', element: plain };
    case 'DOUBLE':
      return { kind: 'DOUBLE', element: plain };
    default:
      if (ct === 'JSON' || lt?.type === 'JSON') return { kind: 'JSON', element: plain };
      // UTF-8 strings keep their element; enums, UUIDs and unannotated byte arrays (read as
      // UTF-8 text) are written back as plain UTF-8 strings.
      return ct === 'UTF8' || lt?.type === 'STRING' ? { kind: 'STRING', element: plain } : { kind: 'STRING' };
  }
}

function stripName(e: SchemaElement): SchemaElement {
  const { field_id: _ignored, ...rest } = e;
  return rest;
}

/** Epoch units (bigint) → ISO-8601 text with as many fraction digits as the unit has. */
export function isoFromUnits(units: bigint, unitsPerSecond: number): string {
  const per = BigInt(unitsPerSecond);
  let seconds = units / per;
  let frac = units % per;
  if (frac < 0n) {
    frac += per;
    seconds -= 1n;
  }
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  const digits = unitsPerSecond === 1e3 ? 3 : unitsPerSecond === 1e6 ? 6 : 9;
  return `${base}.${frac.toString().padStart(digits, '0')}Z`;
}

const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?$/;

/** ISO-8601 text → epoch units (exact for up to 9 fraction digits); undefined when not a timestamp. */
export function unitsFromIso(text: string, unitsPerSecond: number): bigint | undefined {
  const m = ISO.exec(text.trim());
  if (!m) {
    const ms = Date.parse(text);
    return Number.isFinite(ms) ? (BigInt(ms) * BigInt(unitsPerSecond)) / 1000n : undefined;
  }
  const ms = Date.parse(`${m[1]}${m[3] ?? 'Z'}`);
  if (!Number.isFinite(ms)) return undefined;
  const digits = unitsPerSecond === 1e3 ? 3 : unitsPerSecond === 1e6 ? 6 : 9;
  const frac = BigInt((m[2] ?? '').padEnd(digits, '0').slice(0, digits) || '0');
  return (BigInt(ms) / 1000n) * BigInt(unitsPerSecond) + frac;
}

/** `YYYY-MM-DD` of days since the epoch. */
export function isoDateFromDays(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}
