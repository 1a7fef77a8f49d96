// The one error class of the aggregation: inputs whose shapes or values cannot be scored.
import { AblateError } from '../../common/mod.js';

/** An input to scoring or aggregation that is out of shape or range; names the field and value. */
export class AggregateInputError extends AblateError {
  readonly field: string;
  readonly value: unknown;

  constructor(message: string, field: string, value: unknown) {
    super(`${field}: ${message} (got ${describe(value)})`);
    this.field = field;
    this.value = value;
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return Object.prototype.toString.call(v);
}
