// The tokenizer the trainer and data pipeline use: text → pieces → ids, and DeBERTa's multiple-choice
// pair layout `[CLS] prompt [SEP] option [SEP]`. Both model formats (spm.model, tokenizer.json)
// build one of these from a unigram model, a normalizer and the added (special) tokens.
import { SPACE_SYMBOL } from './normalizer.js';
import type { UnigramModel } from './unigram.js';
import { EncodeArgumentError } from './errors.js';

export interface SpecialIds {
  pad: number;
  cls: number;
  sep: number;
  unk: number;
  /** Absent when the model has no [MASK] token. */
  mask?: number;
}

/** One pair encoding, unpadded: every array has the same length, at most `maxLength`. */
export interface PairEncoding {
  inputIds: number[];
  /** 0 through the first [SEP], 1 after it. */
  tokenTypeIds: number[];
  attentionMask: number[];
  /** Tokens dropped from the end of the prompt and of the option to fit `maxLength`. */
  truncated: { prompt: number; option: number };
}

export interface Tokenizer {
  /** Ids are below this: the model's pieces plus any added tokens after them. */
  readonly vocabSize: number;
  readonly specialIds: SpecialIds;
  /** The raw pieces (SentencePiece's `encode(text, out_type=str)`); a run of unknown characters is one piece. */
  pieces(text: string): string[];
  /** Piece ids, no special tokens added. */
  encode(text: string): number[];
  /**
   * `[CLS] prompt [SEP] option [SEP]`, truncated 'only_first' to `maxLength`: the prompt loses
   * tokens from its end; if the option alone does not fit, it is cut from its end too.
   */
  encodePair(prompt: string, option: string, maxLength: number): PairEncoding;
}

/** A token matched in raw text before normalization, as Hugging Face's added tokens are. */
export interface AddedToken {
  content: string;
  id: number;
  /** Also swallow the whitespace before the token. @default false */
  lstrip: boolean;
  /** Also swallow the whitespace after the token. @default false */
  rstrip: boolean;
}

export interface TokenizerParts {
  /** Where the model came from, for messages. */
  source: string;
  model: UnigramModel;
  /** The bytes to segment for one stretch of text between added tokens; `first` says it starts the text. */
  normalize(text: string, first: boolean): Uint8Array;
  /** Segment each U+2581-led word on its own (Hugging Face's Metaspace pre-tokenizer). */
  splitWords: boolean;
  addedTokens: AddedToken[];
  specialIds: SpecialIds;
  vocabSize: number;
}

/** [CLS], and the two [SEP]s of a pair. */
const PAIR_SPECIALS = 3;

interface Segment {
  text: string;
  start: number;
  token?: AddedToken;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class UnigramTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly specialIds: SpecialIds;
  readonly source: string;
  private readonly parts: TokenizerParts;
  private readonly addedPattern: RegExp | undefined;
  private readonly addedByContent: Map<string, AddedToken>;

  constructor(parts: TokenizerParts) {
    this.parts = parts;
    this.source = parts.source;
    this.vocabSize = parts.vocabSize;
    this.specialIds = parts.specialIds;
    this.addedByContent = new Map(parts.addedTokens.filter((t) => t.content !== '').map((t) => [t.content, t]));
    // Longest first, so the regex's leftmost match is also the longest token there.
    const contents = [...this.addedByContent.keys()].sort((a, b) => b.length - a.length);
    this.addedPattern = contents.length > 0 ? new RegExp(contents.map(escapeRegExp).join('|'), 'g') : undefined;
  }

  pieces(text: string): string[] {
    const pieces: string[] = [];
    this.run(text, [], pieces);
    return pieces;
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    this.run(text, ids);
    return ids;
  }

  encodePair(prompt: string, option: string, maxLength: number): PairEncoding {
    checkMaxLength(maxLength);
    return pairFromIds(this.specialIds, this.encode(prompt), this.encode(option), maxLength);
  }

  private run(text: string, ids: number[], pieces?: string[]): void {
    for (const seg of this.split(text)) {
      if (seg.token !== undefined) {
        ids.push(seg.token.id);
        pieces?.push(seg.token.content);
        continue;
      }
      const bytes = this.parts.normalize(seg.text, seg.start === 0);
      if (!this.parts.splitWords) {
        this.parts.model.encodeInto(bytes, 0, bytes.length, ids, pieces);
        continue;
      }
      let wordStart = 0;
      for (let i = 1; i + SPACE_SYMBOL.length <= bytes.length; i++) {
        if (bytes[i] === SPACE_SYMBOL[0] && bytes[i + 1] === SPACE_SYMBOL[1] && bytes[i + 2] === SPACE_SYMBOL[2]) {
          this.parts.model.encodeInto(bytes, wordStart, i, ids, pieces);
          wordStart = i;
        }
      }
      this.parts.model.encodeInto(bytes, wordStart, bytes.length, ids, pieces);
    }
  }

  /** Cuts the text around added tokens (with the whitespace their lstrip/rstrip flags claim). */
  private split(text: string): Segment[] {
    if (this.addedPattern === undefined) return [{ text, start: 0 }];
    const out: Segment[] = [];
    let cut = 0;
    this.addedPattern.lastIndex = 0;
    for (let m = this.addedPattern.exec(text); m !== null; m = this.addedPattern.exec(text)) {
      const token = this.addedByContent.get(m[0])!;
      let s = m.index;
      let e = s + m[0].length;
      if (token.lstrip) while (s > cut && /\s/u.test(text[s - 1]!)) s--;
      if (token.rstrip) while (e < text.length && /\s/u.test(text[e]!)) e++;
      if (s > cut) out.push({ text: text.slice(cut, s), start: cut });
      out.push({ text: m[0], start: s, token });
      cut = e;
      this.addedPattern.lastIndex = e;
    }
    if (cut < text.length) out.push({ text: text.slice(cut), start: cut });
    return out;
  }
}

function checkMaxLength(maxLength: number): void {
  if (!Number.isInteger(maxLength) || maxLength < PAIR_SPECIALS) {
    throw new EncodeArgumentError('maxLength', maxLength, `must be an integer of at least ${PAIR_SPECIALS} ([CLS] and two [SEP])`);
  }
}

/** Lays out `[CLS] a [SEP] b [SEP]`, truncating 'only_first' (then b) to `maxLength`. */
function pairFromIds(specialIds: SpecialIds, promptIds: number[], optionIds: number[], maxLength: number): PairEncoding {
  let a = promptIds;
  let b = optionIds;
  const truncated = { prompt: 0, option: 0 };
  const excess = a.length + b.length - (maxLength - PAIR_SPECIALS);
  if (excess > 0) {
    truncated.prompt = Math.min(excess, a.length);
    a = a.slice(0, a.length - truncated.prompt);
    truncated.option = excess - truncated.prompt;
    if (truncated.option > 0) b = b.slice(0, b.length - truncated.option);
  }
  const inputIds = [specialIds.cls, ...a, specialIds.sep, ...b, specialIds.sep];
  const firstLength = a.length + 2;
  const tokenTypeIds = inputIds.map((_, i) => (i < firstLength ? 0 : 1));
  const attentionMask = inputIds.map(() => 1);
  return { inputIds, tokenTypeIds, attentionMask, truncated };
}

/** A whole question encoded for the model: C option rows of S ids each, row-major. */
export interface QuestionEncoding {
  /** [C*S] ids, padded with the pad id; reshape to [1, C, S] (or stack questions) for tf.tensor3d. */
  inputIds: Int32Array;
  /** [C*S], 1 for real tokens, 0 for padding. */
  attentionMask: Int32Array;
  /** S: the longest row (pad 'longest') or maxLength (pad 'max'). */
  seqLength: number;
  /** How many options' rows lost tokens to truncation. */
  truncated: number;
}

/**
 * Every option paired with the prompt (`[CLS] prompt [SEP] option [SEP]`), padded to the longest
 * row, or to `maxLength` when pad is 'max' (fixed shapes, so TF.js compiles one graph).
 */
export function encodeQuestion(
  tok: Tokenizer,
  prompt: string,
  options: string[],
  maxLength: number,
  pad: 'longest' | 'max' = 'longest',
): QuestionEncoding {
  if (options.length === 0) throw new EncodeArgumentError('options', options, 'a question needs at least one option');
  if (pad !== 'longest' && pad !== 'max') throw new EncodeArgumentError('pad', pad, "must be 'longest' or 'max'");
  checkMaxLength(maxLength);
  // The prompt is encoded once for all options; each row is then what encodePair would give.
  const promptIds = tok.encode(prompt);
  const rows = options.map((o) => pairFromIds(tok.specialIds, promptIds, tok.encode(o), maxLength));
  const seqLength = pad === 'max' ? maxLength : Math.max(...rows.map((r) => r.inputIds.length));
  const inputIds = new Int32Array(rows.length * seqLength).fill(tok.specialIds.pad);
  const attentionMask = new Int32Array(rows.length * seqLength);
  let truncated = 0;
  rows.forEach((r, c) => {
    inputIds.set(r.inputIds, c * seqLength);
    attentionMask.fill(1, c * seqLength, c * seqLength + r.inputIds.length);
    if (r.truncated.prompt + r.truncated.option > 0) truncated++;
  });
  return { inputIds, attentionMask, seqLength, truncated };
}
