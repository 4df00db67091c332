/**
 * An incremental RFC 4180 record parser over text chunks. Chosen over papaparse and csv-parse by
 * measurement (bench/csv-parsers.ts): it is faster on quoted multi-line data and it accepts CRLF,
 * LF and mixed line endings in one file without altering line breaks inside quoted fields, which
 * papaparse (one newline per file) cannot.
 *
 * Lenient where real files need it: a quote inside an unquoted field is literal; text after a
 * closing quote is kept and the record is flagged `malformed`; blank lines are skipped.
 */

const QUOTE = 34;
const LF = 10;
const CR = 13;

/** Receives each complete record; `start`/`end` delimit its raw text in `buf` (terminator excluded). */
export type CsvRecordSink = (fields: string[], malformed: boolean, buf: string, start: number, end: number) => void;

export class CsvRecordParser {
  private readonly delimiter: string;
  private readonly delimCode: number;
  private carry = '';
  private pending: string[] = [];
  private pendingLength = 0;

  /** @param onTooLong called (and must throw) when one record exceeds maxRecordChars. */
  constructor(
    delimiter: string,
    private readonly maxRecordChars: number,
    private readonly onTooLong: () => never,
  ) {
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') throw new Error(`unsupported delimiter`);
    this.delimiter = delimiter;
    this.delimCode = delimiter.charCodeAt(0);
  }

  /** Parses every complete record in the text seen so far; an incomplete tail waits for more. */
  push(text: string, sink: CsvRecordSink): void {
    let buf = text;
    if (this.carry.length > 0) {
      // A long record spanning chunks is re-scanned only once its buffered text doubled: linear overall.
      this.pending.push(text);
      this.pendingLength += text.length;
      if (this.carry.length + this.pendingLength > this.maxRecordChars) this.onTooLong();
      if (this.pendingLength < this.carry.length) return;
      buf = this.carry + this.pending.join('');
      this.pending = [];
      this.pendingLength = 0;
    }
    const consumed = this.parse(buf, false, sink);
    this.carry = consumed < buf.length ? buf.slice(consumed) : '';
    if (this.carry.length > this.maxRecordChars) this.onTooLong();
  }

  /**
   * Parses every complete record still buffered (a long record's tail waits until its text
   * doubled, see push) and returns the characters of the incomplete record left: 0 when the text
   * so far ended right after a record.
   */
  settle(sink: CsvRecordSink): number {
    if (this.pendingLength > 0) {
      const buf = this.carry + this.pending.join('');
      this.pending = [];
      this.pendingLength = 0;
      const consumed = this.parse(buf, false, sink);
      this.carry = consumed < buf.length ? buf.slice(consumed) : '';
    }
    return this.carry.length;
  }

  /** Parses what is left at end of input (a last record without a line break, or an unterminated quote). */
  end(sink: CsvRecordSink): void {
    const buf = this.carry + this.pending.join('');
    this.carry = '';
    this.pending = [];
    this.pendingLength = 0;
    if (buf.length > 0) this.parse(buf, true, sink);
  }

  /** Returns the offset up to which records were complete. */
  private parse(buf: string, final: boolean, sink: CsvRecordSink): number {
    const d = this.delimCode;
    const delimiter = this.delimiter;
    const max = this.maxRecordChars;
    const len = buf.length;
    let pos = 0;
    // Cached positions of the next delimiter / LF; -2 means "search again", -1 means "none left".
    let nextDelim = -2;
    let nextNl = -2;
    records: while (pos < len) {
      const recordStart = pos;
      let c = buf.charCodeAt(pos);
      if (c === LF) {
        pos++;
        continue;
      }
      if (c === CR) {
        if (pos + 1 === len && !final) return recordStart;
        if (buf.charCodeAt(pos + 1) === LF) {
          pos += 2;
          continue;
        }
      }
      const fields: string[] = [];
      let malformed = false;
      for (;;) {
        c = buf.charCodeAt(pos);
        if (c === QUOTE) {
          let segStart = pos + 1;
          let value = '';
          for (;;) {
            const q = buf.indexOf('"', segStart);
            if (q === -1) {
              if (!final) return recordStart;
              // Unterminated quote at end of input: keep the text, flag the record.
              value += buf.slice(segStart);
              malformed = true;
              pos = len;
              break;
            }
            if (q + 1 === len && !final) return recordStart; // could be the first half of ""
            if (buf.charCodeAt(q + 1) === QUOTE) {
              value += buf.slice(segStart, q + 1);
              segStart = q + 2;
              continue;
            }
            value += buf.slice(segStart, q);
            pos = q + 1;
            break;
          }
          c = buf.charCodeAt(pos);
          if (pos < len && c !== d && c !== LF && !(c === CR && buf.charCodeAt(pos + 1) === LF)) {
            if (c === CR && pos + 1 === len && !final) return recordStart;
            // Text after the closing quote: keep it up to the next delimiter or line end.
            malformed = true;
            let stop = stopOf(buf, pos, delimiter);
            if (stop === -1) {
              if (!final) return recordStart;
              stop = len;
            }
            let end = stop;
            if (end < len && buf.charCodeAt(end) === LF && end > pos && buf.charCodeAt(end - 1) === CR) end--;
            value += buf.slice(pos, end);
            pos = end;
            c = buf.charCodeAt(pos);
          }
          fields.push(value);
          if (c === d) {
            pos++;
            continue;
          }
          const recordEnd = pos;
          if (c === CR) pos += 2;
          else if (c === LF) pos += 1;
          if (recordEnd - recordStart > max) this.onTooLong();
          sink(fields, malformed, buf, recordStart, recordEnd);
          continue records;
        }
        if (nextDelim !== -1 && nextDelim < pos) nextDelim = buf.indexOf(delimiter, pos);
        if (nextNl !== -1 && nextNl < pos) nextNl = buf.indexOf('\n', pos);
        if (nextDelim !== -1 && (nextDelim < nextNl || nextNl === -1)) {
          fields.push(buf.slice(pos, nextDelim));
          pos = nextDelim + 1;
          continue;
        }
        let end: number;
        if (nextNl === -1) {
          if (!final) return recordStart;
          end = len;
          if (end > pos && buf.charCodeAt(end - 1) === CR) end--;
          fields.push(buf.slice(pos, end));
          pos = len;
        } else {
          end = nextNl;
          if (end > pos && buf.charCodeAt(end - 1) === CR) end--;
          fields.push(buf.slice(pos, end));
          pos = nextNl + 1;
        }
        if (end - recordStart > max) this.onTooLong();
        sink(fields, malformed, buf, recordStart, end);
        continue records;
      }
    }
    return pos;
  }
}

function stopOf(buf: string, from: number, delimiter: string): number {
  const a = buf.indexOf(delimiter, from);
  const b = buf.indexOf('\n', from);
  if (a === -1) return b;
  if (b === -1) return a;
  return Math.min(a, b);
}

/**
 * Picks the delimiter of a CSV file from its header record (pass only that record): the most frequent of comma,
 * semicolon and tab outside quotes (comma on ties or when none occurs).
 */
export function sniffDelimiter(text: string): ',' | ';' | '\t' {
  let comma = 0;
  let semicolon = 0;
  let tab = 0;
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) inQuotes = !inQuotes;
    else if (inQuotes) continue;
    else if (c === 44) comma++;
    else if (c === 59) semicolon++;
    else if (c === 9) tab++;
  }
  if (semicolon > comma && semicolon >= tab) return ';';
  if (tab > comma && tab > semicolon) return '\t';
  return ',';
}

/** Scan state of {@link firstRecordEnd}, so that growing text is scanned once. */
export interface RecordEndScan {
  pos: number;
  inQuotes: boolean;
  started: boolean;
}

/**
 * Offset just past the first record terminator outside quotes (leading blank lines skipped), or
 * undefined when the text holds none yet. Pass the same `scan` again after appending text.
 */
export function firstRecordEnd(
  text: string,
  scan: RecordEndScan = { pos: 0, inQuotes: false, started: false },
): { end: number; lineEnding: '\n' | '\r\n' } | undefined {
  let { inQuotes, started } = scan;
  for (let i = scan.pos; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      inQuotes = !inQuotes;
      started = true;
    } else if (!inQuotes && c === LF) {
      if (started) return { end: i + 1, lineEnding: i > 0 && text.charCodeAt(i - 1) === CR ? '\r\n' : '\n' };
    } else if (c !== CR) started = true;
  }
  scan.pos = text.length;
  scan.inQuotes = inQuotes;
  scan.started = started;
  return undefined;
}
