// The tokenizer's failures, one class each. Every error carries the file (or directory) it came
// from and the offending place, so a user with a broken checkpoint knows where to look.
import { AblateError } from '../../common/mod.js';

/** A SentencePiece `ModelProto` whose bytes do not decode: truncated, corrupt, or not a model. */
export class SentencePieceModelError extends AblateError {
  readonly source: string;
  /** Byte offset in the file where decoding failed (-1 when the whole model is at fault). */
  readonly offset: number;
  constructor(source: string, offset: number, problem: string, options: { cause?: unknown } = {}) {
    super(offset >= 0 ? `${source}: byte ${offset}: ${problem}` : `${source}: ${problem}`, options);
    this.source = source;
    this.offset = offset;
  }
}

/** A model that decodes but that this tokenizer does not implement (BPE, an unknown normalizer…). */
export class UnsupportedTokenizerError extends AblateError {
  readonly source: string;
  readonly field: string;
  readonly value: unknown;
  constructor(source: string, field: string, value: unknown, problem: string) {
    super(`${source}: ${field} = ${JSON.stringify(value)}: ${problem}`);
    this.source = source;
    this.field = field;
    this.value = value;
  }
}

/** A `tokenizer.json` that is not valid JSON or lacks a field the Unigram model needs. */
export class TokenizerJsonError extends AblateError {
  readonly source: string;
  readonly field: string;
  constructor(source: string, field: string, problem: string, options: { cause?: unknown } = {}) {
    super(`${source}: ${field}: ${problem}`, options);
    this.source = source;
    this.field = field;
  }
}

/** A model directory with neither `spm.model` nor `tokenizer.json`. */
export class TokenizerNotFoundError extends AblateError {
  readonly dir: string;
  constructor(dir: string, options: { cause?: unknown } = {}) {
    super(`${dir}: no spm.model or tokenizer.json to load a tokenizer from`, options);
    this.dir = dir;
  }
}

/** A special token ([CLS], [SEP], [PAD], [UNK]) the pair encoding needs that the model lacks. */
export class MissingSpecialTokenError extends AblateError {
  readonly source: string;
  readonly token: string;
  constructor(source: string, token: string) {
    super(`${source}: the model has no ${token} token (needed for [CLS] A [SEP] B [SEP] encodings)`);
    this.source = source;
    this.token = token;
  }
}

/** An encoding request the tokenizer cannot honour (a maxLength too small, no options). */
export class EncodeArgumentError extends AblateError {
  readonly field: string;
  readonly value: unknown;
  constructor(field: string, value: unknown, problem: string) {
    super(`tokenizer: ${field} = ${JSON.stringify(value)}: ${problem}`);
    this.field = field;
    this.value = value;
  }
}
