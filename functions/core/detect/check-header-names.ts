/**
 * A header row that holds data values (a file exported without its header, so the first record
 * is read as column names) would carry one subject's email, phone or card number into column
 * names: into the curated header, the plan, the profile and the inferred contract in lineage,
 * and scan reports. Header names are scanned for identifiers that are never column names; such a
 * file is rejected without echoing the name.
 */
import { InvalidFileError } from '../errors.ts';
import { type EntityType, UNIQUE_IDENTIFIER_ENTITIES } from '../types.ts';
import { createTextScanner } from './text-scanner.ts';

/** Identifiers a column name never is. Names of people are left out: `Mark` or `Will` are real column names. */
const HEADER_DATA_ENTITIES: readonly EntityType[] = [
  ...UNIQUE_IDENTIFIER_ENTITIES,
  'IP_ADDRESS',
  'MAC_ADDRESS',
  'AWS_ACCESS_KEY',
  'AWS_SECRET_KEY',
  'PRIVATE_KEY',
  'JWT',
  'API_TOKEN',
];

const scanner = createTextScanner({ entities: HEADER_DATA_ENTITIES });
/** Longer names are data (a free-text first record), and would be costly to scan. */
const MAX_NAME_LENGTH = 1024;

/**
 * Throws InvalidFileError `header-looks-like-data` when a column name holds an identifier. The
 * message names the column by position and the entity, never the name itself.
 */
export function checkHeaderNames(columns: readonly string[], fileName: string): void {
  for (let i = 0; i < columns.length; i++) {
    const name = columns[i] as string;
    if (name.length > MAX_NAME_LENGTH) {
      throw new InvalidFileError(
        `${fileName}: header column ${i + 1} is longer than ${MAX_NAME_LENGTH} characters, not a column name [rule header-looks-like-data]`,
        { file: fileName, rule: 'header-looks-like-data', columnIndex: i + 1 },
      );
    }
    const span = scanner.scan(name)[0];
    if (span) {
      throw new InvalidFileError(
        `${fileName}: header column ${i + 1} holds a data value (${span.entity}), not a column name; is the header row missing? [rule header-looks-like-data]`,
        { file: fileName, rule: 'header-looks-like-data', columnIndex: i + 1, entity: span.entity },
      );
    }
  }
}
