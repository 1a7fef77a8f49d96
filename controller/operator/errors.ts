// The operator's failures, one class each, carrying the offending place and value.
import { AblateError } from '../../common/mod.js';

/** A controller flag or setting is malformed (bad address, conflicting namespace options). */
export class OperatorConfigError extends AblateError {
  constructor(
    readonly field: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`controller: ${field}: ${reason} (value: ${JSON.stringify(value)})`);
  }
}

/**
 * A FineTuneJob the schema accepted but the operator cannot run (an unsupported URI scheme, a
 * Job name that cannot be built). Terminal: recorded as the Failed condition, never retried.
 */
export class InvalidSpecError extends AblateError {
  constructor(
    readonly field: string,
    readonly value: unknown,
    reason: string,
    options: { cause?: unknown } = {},
  ) {
    super(`${field}: ${reason} (value: ${JSON.stringify(value)})`, options);
  }
}

/** A call to the Kubernetes API failed; `code` is the HTTP status when there was a response. */
export class KubeApiError extends AblateError {
  constructor(
    readonly verb: string,
    readonly resource: string,
    readonly code: number | undefined,
    readonly reason: string | undefined,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(`${verb} ${resource}: ${code ?? 'no response'}${reason ? ` ${reason}` : ''}: ${message}`, options);
  }
}

/** `ablate status|watch|report NAME` named a FineTuneJob that does not exist. */
export class FineTuneJobNotFoundError extends AblateError {
  constructor(
    readonly namespace: string,
    readonly jobName: string,
  ) {
    super(`finetunejob ${namespace}/${jobName} not found`);
  }
}
