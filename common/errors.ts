// The base of every error ablate raises on purpose. Each part defines its own subclasses (one per
// failure) with the offending place and value as fields; callers branch on the class.

export interface AblateErrorOptions {
  cause?: unknown;
}

export class AblateError extends Error {
  constructor(message: string, options: AblateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

/** A command-line usage problem: the CLI prints the message and exits 2. */
export class UsageError extends AblateError {}

/**
 * A line of a text file that cannot be read: names the file, the line (1-based) and the line's
 * offending value. The message shortens the value to 80 characters (a long prompt would bury it);
 * the `value` field keeps it whole.
 */
export class FileLineError extends AblateError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly value: string,
    problem: string,
    options: AblateErrorOptions = {},
  ) {
    super(`${file}:${line}: ${problem} (value ${JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value)})`, options);
  }
}

/** Renders any thrown value with its cause chain, for a CLI's last line. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 5; depth++) {
    parts.push(cur instanceof Error ? cur.message : String(cur));
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join(': caused by: ');
}
