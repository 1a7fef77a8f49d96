// A Tokenizer from a SentencePiece `spm.model`, behaving as transformers' slow DebertaV2Tokenizer:
// special-token strings in the text are cut out first, each stretch between them goes through
// SentencePiece (normalize, unigram Viterbi), and pieces map to ids with PieceToId.
import { MissingSpecialTokenError, SentencePieceModelError, UnsupportedTokenizerError } from './errors.js';
import { PrecompiledCharsMap, SentencePieceNormalizer } from './normalizer.js';
import { decodeModelProto, ModelType, PieceType } from './sentencepiece-model.js';
import { UnigramTokenizer, type AddedToken, type SpecialIds, type Tokenizer } from './tokenizer.js';
import { UnigramModel } from './unigram.js';

/**
 * The [MASK] token's name. DeBERTa-v3's spm.model has no such piece; DebertaV2Tokenizer appends it
 * as an added token right after the vocabulary (id 128000), and this loader does the same.
 */
export const MASK_TOKEN = '[MASK]';

/** Decodes an `spm.model` file's bytes into a Tokenizer; `source` (the path) names the file in errors. */
export function loadSentencePiece(bytes: Uint8Array, source = 'spm.model'): Tokenizer {
  const proto = decodeModelProto(bytes, source);
  const spec = proto.trainerSpec;
  if (spec.modelType !== ModelType.UNIGRAM) {
    throw new UnsupportedTokenizerError(source, 'trainer_spec.model_type', spec.modelType, 'only unigram models (type 1) are supported');
  }
  const unkId = proto.pieces.findIndex((p) => p.type === PieceType.UNKNOWN);
  if (unkId < 0) throw new SentencePieceModelError(source, -1, 'no piece has type UNKNOWN; SentencePiece requires one');

  const model = new UnigramModel({
    pieces: proto.pieces.map((p) => p.piece),
    scores: proto.pieces.map((p) => p.score),
    types: proto.pieces.map((p) => p.type),
    unkId,
    byteFallback: spec.byteFallback,
    float32: true,
  });
  const ns = proto.normalizerSpec;
  const normalizer = new SentencePieceNormalizer({
    charsMap: ns.precompiledCharsmap.length > 0 ? PrecompiledCharsMap.decode(ns.precompiledCharsmap, source) : undefined,
    userDefined: model.userDefinedTrie(),
    addDummyPrefix: ns.addDummyPrefix,
    removeExtraWhitespaces: ns.removeExtraWhitespaces,
    escapeWhitespaces: ns.escapeWhitespaces,
    treatWhitespaceAsSuffix: spec.treatWhitespaceAsSuffix,
  });

  const n = proto.pieces.length;
  const byName = new Map<string, number>();
  proto.pieces.forEach((p, id) => {
    if (!byName.has(p.piece)) byName.set(p.piece, id);
  });
  // DeBERTa's names first; other models name them by the trainer spec's ids.
  const pick = (name: string, specId: number): number => {
    const id = byName.get(name) ?? (specId >= 0 && specId < n ? specId : undefined);
    if (id === undefined) throw new MissingSpecialTokenError(source, name);
    return id;
  };
  const specialIds: SpecialIds = {
    pad: pick('[PAD]', spec.padId),
    cls: pick('[CLS]', spec.bosId),
    sep: pick('[SEP]', spec.eosId),
    unk: unkId,
    mask: byName.get(MASK_TOKEN) ?? n,
  };
  const vocabSize = specialIds.mask === n ? n + 1 : n;
  const addedTokens: AddedToken[] = Object.values(specialIds).map((id: number) => ({
    content: id < n ? proto.pieces[id]!.piece : MASK_TOKEN,
    id,
    lstrip: false,
    rstrip: false,
  }));

  const encoder = new TextEncoder();
  return new UnigramTokenizer({
    source,
    model,
    normalize: (text) => normalizer.normalize(encoder.encode(text)),
    splitWords: false,
    addedTokens,
    specialIds,
    vocabSize,
  });
}
