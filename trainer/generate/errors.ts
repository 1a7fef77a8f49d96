// The errors of `ablate data generate`. Run-level failures (bad options, a sidecar that does not
// match the run being resumed, an endpoint that refuses every request) stop the run; per-question
// failures never do: they become rejections with a reason in the sidecar (see reasons.ts).
import { AblateError, FileLineError, UsageError } from '../../common/mod.js';
import type { RejectReason } from './reasons.js';

/** A generator option out of range or in conflict with another; the CLI exits 2 on it. */
export class GenerateOptionError extends UsageError {
  readonly field: string;
  readonly value: unknown;

  constructor(field: string, value: unknown, problem: string) {
    super(`generate option ${field}: ${problem} (got ${JSON.stringify(value)})`);
    this.field = field;
    this.value = value;
  }
}

/** A line of a `--context` or `--topics` file that cannot be read. `line` is 1-based. */
export class PassageFormatError extends FileLineError {}

/** A sidecar line that is not a record this generator wrote. `line` is 1-based. */
export class SidecarFormatError extends FileLineError {}

/**
 * `--resume` against files written by a different run (another seed, model, examples …), or
 * output files that exist when `--resume` was not given. Continuing would not give the file an
 * uninterrupted run gives, so the run stops and names the field.
 */
export class ResumeMismatchError extends UsageError {
  readonly file: string;
  readonly field: string;
  readonly expected: unknown;
  readonly actual: unknown;

  constructor(file: string, field: string, expected: unknown, actual: unknown, problem: string) {
    super(`${file}: ${problem} (${field}: this run has ${JSON.stringify(expected)}, the file has ${JSON.stringify(actual)})`);
    this.file = file;
    this.field = field;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * The endpoint answered in a way no retry can fix for any question (401, 403, 404): every
 * request would fail the same way, so the run stops instead of rejecting every question.
 */
export class LlmEndpointError extends AblateError {
  readonly url: string;
  readonly status: number;

  constructor(url: string, status: number, body: string) {
    super(`${url}: HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`);
    this.url = url;
    this.status = status;
  }
}

/**
 * One request that failed for good (retries spent, or a failure no retry fixes). The generator
 * records it as a rejection with `reason`; it never ends the run.
 */
export class LlmRequestError extends AblateError {
  readonly reason: RejectReason;
  readonly attempts: number;

  constructor(reason: RejectReason, detail: string, attempts: number, options: { cause?: unknown } = {}) {
    super(detail, options);
    this.reason = reason;
    this.attempts = attempts;
  }
}

/** Fewer questions accepted than `--n` once `--max-requests` requests were spent. */
export class GenerateShortfallError extends AblateError {
  readonly accepted: number;
  readonly wanted: number;
  readonly requests: number;

  constructor(accepted: number, wanted: number, requests: number, out: string) {
    super(`${out}: accepted ${accepted} of ${wanted} questions after ${requests} requests (raise --max-requests and run again with --resume)`);
    this.accepted = accepted;
    this.wanted = wanted;
    this.requests = requests;
  }
}
