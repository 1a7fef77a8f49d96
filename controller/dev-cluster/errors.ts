// API errors as the real apiserver reports them: each failure is its own class carrying the HTTP
// code, the `reason`, and the `details` that go into a `Status` object (kind: Status, status:
// Failure). Clients (kubectl, client-node) branch on `reason` and `code`, so those must match.
import { AblateError } from '../../common/mod.js';

export interface StatusCause {
  field?: string;
  message: string;
  reason?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** Base of every error the stand-in answers with; `toStatus()` is the wire form. */
export abstract class ApiStatusError extends AblateError {
  abstract readonly code: number;
  abstract readonly reason: string;
  readonly details: StatusDetails | undefined;
  constructor(message: string, details?: StatusDetails, options: { cause?: unknown } = {}) {
    super(message, options);
    this.details = details;
  }
  toStatus(): Record<string, unknown> {
    const s: Record<string, unknown> = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
    };
    if (this.details) s['details'] = this.details;
    s['code'] = this.code;
    return s;
  }
}

/** 400: malformed request (unparsable body, bad selector, wrong apiVersion in the body). */
export class BadRequestError extends ApiStatusError {
  readonly code = 400;
  readonly reason = 'BadRequest';
  readonly field: string | undefined;
  readonly value: unknown;
  constructor(message: string, opts: { field?: string; value?: unknown; cause?: unknown } = {}) {
    super(message, undefined, { cause: opts.cause });
    this.field = opts.field;
    this.value = opts.value;
  }
}

/** How the apiserver names a resource in messages: `jobs.batch`, or `pods` for the core group. */
function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

/** A failure about one named object: `details` identify it as the apiserver's do. */
abstract class ObjectStatusError extends ApiStatusError {
  constructor(
    readonly resource: string,
    readonly group: string,
    readonly objectName: string,
    message: string,
  ) {
    super(message, { name: objectName, ...(group ? { group } : {}), kind: resource });
  }
}

/** 404: the object, its namespace or the resource type does not exist. */
export class NotFoundError extends ObjectStatusError {
  readonly code = 404;
  readonly reason = 'NotFound';
  constructor(resource: string, group: string, objectName: string) {
    super(resource, group, objectName, `${qualified(resource, group)} "${objectName}" not found`);
  }
}

/** 409 AlreadyExists: create of a name that is taken. */
export class AlreadyExistsError extends ObjectStatusError {
  readonly code = 409;
  readonly reason = 'AlreadyExists';
  constructor(resource: string, group: string, objectName: string) {
    super(resource, group, objectName, `${qualified(resource, group)} "${objectName}" already exists`);
  }
}

/** 409 Conflict: optimistic-concurrency failure (stale `metadata.resourceVersion`). */
export class ConflictError extends ObjectStatusError {
  readonly code = 409;
  readonly reason = 'Conflict';
  constructor(resource: string, group: string, objectName: string, why = 'the object has been modified; please apply your changes to the latest version and try again') {
    super(resource, group, objectName, `Operation cannot be fulfilled on ${qualified(resource, group)} "${objectName}": ${why}`);
  }
}

/** 422 Invalid: admission (validation) refused the object; one cause per offending field. */
export class InvalidError extends ApiStatusError {
  readonly code = 422;
  readonly reason = 'Invalid';
  constructor(
    readonly kind: string,
    readonly group: string,
    readonly objectName: string,
    readonly causes: StatusCause[],
  ) {
    const text = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
    const joined = text.length === 1 ? text[0]! : `[${text.join(', ')}]`;
    super(`${qualified(kind, group)} "${objectName}" is invalid: ${joined}`, {
      name: objectName,
      ...(group ? { group } : {}),
      kind,
      causes,
    });
  }
}

/** 410 Gone (reason Expired): a resourceVersion or continue token older than the kept history. */
export class ExpiredError extends ApiStatusError {
  readonly code = 410;
  readonly reason = 'Expired';
  constructor(readonly resourceVersion: string) {
    super(`too old resource version: ${resourceVersion}`);
  }
}

/** 403 Forbidden: creating in a namespace that is being deleted (NamespaceLifecycle admission). */
export class NamespaceTerminatingError extends ApiStatusError {
  readonly code = 403;
  readonly reason = 'Forbidden';
  constructor(
    readonly resource: string,
    readonly group: string,
    readonly namespace: string,
  ) {
    super(`unable to create new content in namespace ${namespace} because it is being terminated`, { name: namespace, kind: 'namespaces' });
  }
}

/** 405: the verb is not served for this resource (e.g. PUT on a collection). */
export class MethodNotAllowedError extends ApiStatusError {
  readonly code = 405;
  readonly reason = 'MethodNotAllowed';
  constructor(readonly method: string, readonly path: string) {
    super(`the server does not allow this method on the requested resource: ${method} ${path}`);
  }
}

/** 415: a PATCH content type the resource does not accept (strategic merge on custom resources). */
export class UnsupportedMediaTypeError extends ApiStatusError {
  readonly code = 415;
  readonly reason = 'UnsupportedMediaType';
  constructor(readonly contentType: string) {
    super(`the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml; got ${contentType}`);
  }
}

/** Field-error helpers in the apiserver's wording (`field.Invalid`, `field.Required` …). */
export const fieldError = {
  invalid: (field: string, value: unknown, detail: string): StatusCause => ({
    field,
    reason: 'FieldValueInvalid',
    message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
  }),
  required: (field: string, detail = ''): StatusCause => ({
    field,
    reason: 'FieldValueRequired',
    message: detail ? `Required value: ${detail}` : 'Required value',
  }),
  forbidden: (field: string, detail: string): StatusCause => ({ field, reason: 'FieldValueForbidden', message: `Forbidden: ${detail}` }),
  notSupported: (field: string, value: unknown, allowed: string[]): StatusCause => ({
    field,
    reason: 'FieldValueNotSupported',
    message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`,
  }),
};
