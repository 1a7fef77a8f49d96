// The one error class of the data files: every problem with a CSV names the file, the physical
// line (1-based, counting embedded newlines, so an editor jumps to it), the column and the value.
import { AblateError } from '../../common/mod.js';

/** A CSV file that does not follow its format. `line` is the physical line, 1-based. */
export class CsvFormatError extends AblateError {
  readonly file: string;
  readonly line: number;
  /** The column's header name, or `#<n>` (1-based) where the header has none. */
  readonly column: string;
  readonly value: string;
  /** What is wrong, without the place (the message adds the place). */
  readonly problem: string;

  constructor(problem: string, place: { file: string; line: number; column: string; value: string }, options: { cause?: unknown } = {}) {
    super(`${place.file}:${place.line}: column ${place.column}: ${problem} (value ${JSON.stringify(truncate(place.value))})`, options);
    this.file = place.file;
    this.line = place.line;
    this.column = place.column;
    this.value = place.value;
    this.problem = problem;
  }
}

/** Long prompts would bury the message; the full value stays on the error's `value` field. */
function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Data handed to a writer whose shapes disagree (ids vs rows, options vs letters). */
export class DataShapeError extends AblateError {
  readonly field: string;
  readonly value: unknown;

  constructor(message: string, field: string, value: unknown) {
    super(message);
    this.field = field;
    this.value = value;
  }
}
