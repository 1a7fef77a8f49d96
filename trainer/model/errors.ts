// The model's failures, one class per kind, each carrying the offending place and value.
import { AblateError } from '../../common/mod.js';

/** A `config.json` field is malformed or names a feature this implementation lacks. */
export class ModelConfigError extends AblateError {
  readonly source: string;
  readonly field: string;
  readonly value: unknown;
  constructor(message: string, opts: { source: string; field: string; value: unknown; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.source = opts.source;
    this.field = opts.field;
    this.value = opts.value;
  }
}

/** A safetensors file is unreadable: bad header, offsets out of range, unsupported dtype. */
export class SafetensorsError extends AblateError {
  readonly file: string;
  /** The tensor at fault, or undefined when the file as a whole is. */
  readonly tensor: string | undefined;
  constructor(message: string, opts: { file: string; tensor?: string; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.file = opts.file;
    this.tensor = opts.tensor;
  }
}

/** A checkpoint does not fit the model: a missing or unexpected tensor, or a wrong shape. */
export class CheckpointMismatchError extends AblateError {
  readonly tensor: string;
  readonly problem: 'missing' | 'unexpected' | 'shape';
  readonly expected: number[] | undefined;
  readonly actual: number[] | undefined;
  constructor(message: string, opts: { tensor: string; problem: 'missing' | 'unexpected' | 'shape'; expected?: number[]; actual?: number[] }) {
    super(message);
    this.tensor = opts.tensor;
    this.problem = opts.problem;
    this.expected = opts.expected;
    this.actual = opts.actual;
  }
}

/** Model inputs have the wrong rank, shapes that disagree, or labels out of range. */
export class ModelInputError extends AblateError {
  readonly input: string;
  readonly value: unknown;
  constructor(message: string, opts: { input: string; value: unknown }) {
    super(message);
    this.input = opts.input;
    this.value = opts.value;
  }
}

/** A name that is not a parameter of this model (e.g. asked for its layer depth). */
export class UnknownParameterError extends AblateError {
  readonly parameter: string;
  constructor(message: string, opts: { parameter: string }) {
    super(message);
    this.parameter = opts.parameter;
  }
}
