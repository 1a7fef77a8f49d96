// The tokenizer's public face: DeBERTa-v3's SentencePiece unigram tokenizer (spm.model or
// tokenizer.json) and the multiple-choice encodings the trainer and data pipeline feed the model.
export { loadTokenizer, TOKENIZER_FILES } from './load.js';
export { loadSentencePiece, MASK_TOKEN } from './sentencepiece.js';
export { loadTokenizerJson } from './tokenizer-json.js';
export {
  encodeQuestion,
  type Tokenizer,
  type SpecialIds,
  type PairEncoding,
  type QuestionEncoding,
} from './tokenizer.js';
export {
  SentencePieceModelError,
  UnsupportedTokenizerError,
  TokenizerJsonError,
  TokenizerNotFoundError,
  MissingSpecialTokenError,
  EncodeArgumentError,
} from './errors.js';
export { decodeModelProto, PieceType, type ModelProto, type SentencePiece } from './sentencepiece-model.js';
