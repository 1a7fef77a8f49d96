// The optimizer's failures, one class per failure, each carrying the offending place and value so
// a caller (the trainer's config check, the CLI) can branch on the class and name the culprit.
import { AblateError, type AblateErrorOptions } from '../../common/mod.js';

/** An optimizer, schedule, grouping or data-order option is outside its allowed range. */
export class InvalidOptimOptionError extends AblateError {
  constructor(
    /** Dotted option path, e.g. `adamw.betas[1]` or `schedule.warmupSteps`. */
    readonly field: string,
    readonly value: unknown,
    reason: string,
    options: AblateErrorOptions = {},
  ) {
    super(`${field}: ${reason} (got ${JSON.stringify(value)})`, options);
  }
}

/** A parameter group names a parameter the model does not have. */
export class UnknownOptimParameterError extends AblateError {
  constructor(
    readonly parameter: string,
    /** Where the name was used: `group 3`, `gradients`, `state`. */
    readonly place: string,
    options: AblateErrorOptions = {},
  ) {
    super(`${place}: no parameter named '${parameter}'`, options);
  }
}

/** A parameter appears in two groups, so its learning rate and decay would be ambiguous. */
export class DuplicateParameterError extends AblateError {
  constructor(
    readonly parameter: string,
    readonly groups: [number, number],
    options: AblateErrorOptions = {},
  ) {
    super(`parameter '${parameter}' is in both group ${groups[0]} and group ${groups[1]}`, options);
  }
}

/** A gradient arrived for a parameter that no group optimizes (it would be silently ignored). */
export class UngroupedGradientError extends AblateError {
  constructor(
    readonly parameter: string,
    options: AblateErrorOptions = {},
  ) {
    super(`gradient for '${parameter}', which is in no parameter group`, options);
  }
}

/** Saved optimizer state does not fit the optimizer it is loaded into. */
export class OptimizerStateError extends AblateError {
  constructor(
    /** The state key, e.g. `classifier.weight.exp_avg`. */
    readonly key: string,
    reason: string,
    options: AblateErrorOptions = {},
  ) {
    super(`optimizer state '${key}': ${reason}`, options);
  }
}
