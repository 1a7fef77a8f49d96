// One error class per way reading a results folder can fail; each names the file and, where
// there is one, the offending field and value.
import { AblateError, UsageError } from '../../common/mod.js';

/** The report target is not a folder (and no cluster was named to read a FineTuneJob from). A
 * usage error: the user named the wrong thing, so the CLI exits 2. */
export class ReportTargetError extends UsageError {
  readonly path: string;
  constructor(path: string, options: { cause?: unknown } = {}) {
    super(`${path} is not a directory; \`ablate report\` reads the folder \`ablate run\` wrote (for a FineTuneJob on a cluster, give its name with --kubeconfig or --namespace)`, options);
    this.path = path;
  }
}

/** `results.json` (or a `curves.json`) is missing or unreadable. */
export class ResultsNotFoundError extends AblateError {
  readonly path: string;
  constructor(path: string, options: { cause?: unknown } = {}) {
    super(`cannot read ${path}`, options);
    this.path = path;
  }
}

/** The file is not JSON. */
export class ResultsParseError extends AblateError {
  readonly path: string;
  constructor(path: string, options: { cause?: unknown } = {}) {
    super(`${path} is not valid JSON`, options);
    this.path = path;
  }
}

/** The JSON does not have the documented shape: `field` (a JSON path) holds `value`. */
export class ResultsShapeError extends AblateError {
  readonly path: string;
  readonly field: string;
  readonly value: unknown;
  constructor(path: string, field: string, expected: string, value: unknown) {
    super(`${path}: ${field} must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`);
    this.path = path;
    this.field = field;
    this.value = value;
  }
}
