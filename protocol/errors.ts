// The protocol's failures, one class per case, gathered here so callers branch on the class.
import { AblateError, type AblateErrorOptions } from '../common/mod.js';

/** Any failure raised by the trainer ↔ controller protocol or its transports. */
export class ProtocolError extends AblateError {}

/** A subject (or one of its tokens) that is not `<prefix>.<ns>.<job>.<ablation>.<seed>.<kind>`. */
export class SubjectError extends ProtocolError {
  constructor(
    message: string,
    readonly subject: string,
    readonly field: string,
    readonly value: unknown,
    options: AblateErrorOptions = {},
  ) {
    super(message, options);
  }
}

/** A message that is not JSON or does not match its schema; `field` is a JSON path like `probs[3][1]`. */
export class MessageValidationError extends ProtocolError {
  constructor(
    message: string,
    readonly kind: string,
    readonly field: string,
    readonly value: unknown,
    options: AblateErrorOptions = {},
  ) {
    super(message, options);
  }
}

/** Predictions that cannot be cut into chunks under the payload limit (e.g. one row is too big). */
export class ChunkingError extends ProtocolError {
  constructor(
    message: string,
    readonly field: string,
    readonly value: unknown,
    options: AblateErrorOptions = {},
  ) {
    super(message, options);
  }
}

/** A NATS server that cannot be reached, or a stream/consumer that cannot be set up. */
export class NatsConnectionError extends ProtocolError {
  constructor(
    message: string,
    readonly servers: string,
    options: AblateErrorOptions = {},
  ) {
    super(message, options);
  }
}

/** A `nats-server` child process that did not start or did not accept connections in time. */
export class NatsServerStartError extends ProtocolError {
  constructor(
    message: string,
    readonly executable: string,
    options: AblateErrorOptions = {},
  ) {
    super(message, options);
  }
}

/** An operation on a transport that has been closed. */
export class TransportClosedError extends ProtocolError {
  constructor(
    message: string,
    readonly operation: string,
    options: AblateErrorOptions = {},
  ) {
    super(message, options);
  }
}

/** A publish the stream did not accept (too large, no stream for the subject, connection lost). */
export class PublishError extends ProtocolError {
  constructor(
    message: string,
    readonly subject: string,
    options: AblateErrorOptions = {},
  ) {
    super(message, options);
  }
}
