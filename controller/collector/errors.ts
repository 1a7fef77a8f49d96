// The collector's own failures (bad messages are not errors: they are counted and dropped).
import { AblateError, type AblateErrorOptions } from '../../common/mod.js';

/** Waiting on a collector that closed before every run completed. */
export class CollectorClosedError extends AblateError {
  constructor(
    message: string,
    readonly durable: string,
    options: AblateErrorOptions = {},
  ) {
    super(message, options);
  }
}

/** `whenAllComplete(timeoutMs)` ran out of time; `missing` names the runs still not complete. */
export class CollectorTimeoutError extends AblateError {
  constructor(
    message: string,
    readonly durable: string,
    readonly missing: string[],
    options: AblateErrorOptions = {},
  ) {
    super(message, options);
  }
}
