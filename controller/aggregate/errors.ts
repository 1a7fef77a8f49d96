// The one error class of the aggregation: inputs whose shapes or values cannot be scored.
import { AblateError } from '../../common/mod.js';

/** An input to scoring or aggregation that is out of shape or range; names the field and value. */
export class AggregateInputError extends AblateError {
  readonly field: string;
  readonly value: unknown;
  /** What is wrong, without the field name (for callers that name the field their own way). */
  readonly problem: string;

  constructor(problem: string, field: string, value: unknown) {
    super(`${field}: ${problem} (got ${describe(value)})`);
    this.field = field;
    this.value = value;
    this.problem = problem;
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return Object.prototype.toString.call(v);
}
