// RFC 4180 CSV, read and written. Reading keeps every field a string (options such as "0.5" or
// "007" must survive untouched) and records the physical line each record and field starts on,
// because quoted fields may hold newlines and an error must point at the line an editor shows.
// Accepted beyond the RFC: a UTF-8 byte-order mark, LF as well as CRLF line ends, a missing final
// line end, and blank lines (skipped). A quote inside an unquoted field is kept literally, as
// spreadsheet programs do; text between a closing quote and the next comma is an error.
import { CsvFormatError } from './errors.js';

/** One record: its fields and the physical line (1-based) each field starts on. */
export interface CsvRecord {
  fields: string[];
  /** The physical line the record starts on. */
  line: number;
  /** `fieldLines[i]` is the physical line field `i` starts on. */
  fieldLines: number[];
}

/** A parsed file: the header row and the data records after it. */
export interface CsvTable {
  file: string;
  header: string[];
  /** The physical line of the header (1 unless blank lines precede it). */
  headerLine: number;
  records: CsvRecord[];
}

const QUOTE = 34; // "
const COMMA = 44; // ,
const LF = 10;
const CR = 13;

/** Parses CSV text into records (the header is records[0]). `file` only names the source in errors. */
export function parseCsvRecords(text: string, file: string): CsvRecord[] {
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let line = 1;
  let i = 0;
  const n = s.length;
  while (i < n) {
    // A blank line (or the final line end) holds no record.
    const c0 = s.charCodeAt(i);
    if (c0 === LF || c0 === CR) {
      i += c0 === CR && s.charCodeAt(i + 1) === LF ? 2 : 1;
      line++;
      continue;
    }
    const fields: string[] = [];
    const fieldLines: number[] = [];
    const recordLine = line;
    for (;;) {
      fieldLines.push(line);
      let value: string;
      if (s.charCodeAt(i) === QUOTE) {
        const openLine = line;
        const openCol = fields.length;
        let out = '';
        let start = i + 1;
        let j = start;
        for (;;) {
          if (j >= n) {
            throw new CsvFormatError('unterminated quoted field', {
              file,
              line: openLine,
              column: columnName(records[0]?.fields, openCol),
              value: out + s.slice(start, Math.min(n, start + 40)),
            });
          }
          const c = s.charCodeAt(j);
          if (c === QUOTE) {
            if (s.charCodeAt(j + 1) === QUOTE) {
              out += s.slice(start, j + 1);
              j += 2;
              start = j;
              continue;
            }
            out += s.slice(start, j);
            j++;
            break;
          }
          if (c === LF) line++;
          else if (c === CR && s.charCodeAt(j + 1) !== LF) line++;
          j++;
        }
        i = j;
        const after = i < n ? s.charCodeAt(i) : LF;
        if (after !== COMMA && after !== LF && after !== CR) {
          throw new CsvFormatError('text after a closing quote (a quote inside a quoted field must be doubled)', {
            file,
            line,
            column: columnName(records[0]?.fields, openCol),
            value: out,
          });
        }
        value = out;
      } else {
        let j = i;
        while (j < n) {
          const c = s.charCodeAt(j);
          if (c === COMMA || c === LF || c === CR) break;
          j++;
        }
        value = s.slice(i, j);
        i = j;
      }
      fields.push(value);
      if (i >= n) break;
      const c = s.charCodeAt(i);
      if (c === COMMA) {
        i++;
        continue;
      }
      // End of record: consume the line end.
      i += c === CR && s.charCodeAt(i + 1) === LF ? 2 : 1;
      line++;
      break;
    }
    records.push({ fields, line: recordLine, fieldLines });
  }
  return records;
}

/** Parses CSV text whose first record is a header; every record must have the header's width. */
export function parseCsv(text: string, file: string): CsvTable {
  const records = parseCsvRecords(text, file);
  const head = records.shift();
  if (!head) throw new CsvFormatError('no header row (the file is empty)', { file, line: 1, column: '#1', value: '' });
  const header = head.fields.map((h) => h.trim());
  for (const r of records) {
    if (r.fields.length !== header.length) {
      const col = Math.min(r.fields.length, header.length);
      throw new CsvFormatError(`expected ${header.length} fields as in the header, found ${r.fields.length}`, {
        file,
        line: r.line,
        column: columnName(header, col),
        value: r.fields.join(','),
      });
    }
  }
  return { file, header, headerLine: head.line, records };
}

/** The header name of column `index`, or `#<index+1>` where the header has none. */
export function columnName(header: readonly string[] | undefined, index: number): string {
  const h = header?.[index]?.trim();
  return h ? h : `#${index + 1}`;
}

/** One field, quoted when it holds a comma, a quote, a line end, or leading/trailing space. */
export function formatCsvField(value: string): string {
  if (/[",\r\n]/.test(value) || value !== value.trim()) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

/** Rows to CSV text: LF line ends (what Kaggle's files use) and a final line end. */
export function formatCsv(rows: readonly (readonly string[])[]): string {
  let out = '';
  for (const row of rows) out += `${row.map(formatCsvField).join(',')}\n`;
  return out;
}
