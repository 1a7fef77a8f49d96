// The unigram language-model segmenter: the Viterbi path through every piece that matches the
// normalized bytes, as SentencePiece's optimized encoder (unigram_model.cc, EncodeOptimized) finds
// it. Scores are summed in float32 like SentencePiece's so near-ties break the same way; a
// character no piece covers becomes the unknown piece at (lowest score − 10); runs of unknown
// pieces merge into one, as SentencePiece's processor merges them before DebertaV2Tokenizer maps
// pieces to ids (so "é!" is one [UNK], not two).
import { ByteTrie, oneCharLen } from './byte-trie.js';
import { PieceType } from './sentencepiece-model.js';

/** SentencePiece's kUnkPenalty: how far below the worst piece an unknown character scores. */
export const UNK_PENALTY = 10;
/**
 * FLT_MIN, where SentencePiece starts its running maximum over normal scores. Scores are
 * log-probabilities (≤ 0), so it stays there and a user-defined symbol scores about −0.1.
 */
const FLT_MIN = 1.1754943508222875e-38;

export interface UnigramVocab {
  pieces: readonly string[];
  scores: ArrayLike<number>;
  types: ArrayLike<number>;
  unkId: number;
  /** Unknown characters become their UTF-8 bytes as `<0xXX>` pieces instead of the unknown piece. */
  byteFallback: boolean;
  /** Sum path scores in float32 (SentencePiece) rather than float64 (Hugging Face tokenizers). */
  float32: boolean;
}

const utf8 = new TextDecoder('utf-8');
const identity = (x: number): number => x;

export class UnigramModel {
  readonly pieces: readonly string[];
  private readonly trie: ByteTrie;
  private readonly ids = new Map<string, number>();
  private readonly reserved = new Map<string, number>();
  private readonly scores: Float64Array;
  private readonly types: Uint8Array;
  private readonly unkId: number;
  private readonly unkScore: number;
  private readonly maxScore: number;
  private readonly round: (x: number) => number;
  private readonly byteIds: Int32Array | undefined;

  constructor(vocab: UnigramVocab) {
    this.pieces = vocab.pieces;
    this.round = vocab.float32 ? Math.fround : identity;
    this.unkId = vocab.unkId;
    const n = vocab.pieces.length;
    this.scores = new Float64Array(n);
    this.types = new Uint8Array(n);
    let min = Infinity;
    let max = vocab.float32 ? FLT_MIN : -Infinity;
    const encoder = new TextEncoder();
    const matched: [Uint8Array, number][] = [];
    for (let id = 0; id < n; id++) {
      const type = vocab.types[id] ?? PieceType.NORMAL;
      const score = this.round(vocab.scores[id] ?? 0);
      this.scores[id] = score;
      this.types[id] = type;
      const piece = vocab.pieces[id]!;
      if (type === PieceType.NORMAL) {
        min = Math.min(min, score);
        max = Math.max(max, score);
      }
      // Only these types are matched in text; control, unknown and byte pieces are looked up by name.
      if (type === PieceType.NORMAL || type === PieceType.USER_DEFINED || type === PieceType.UNUSED) {
        if (!this.ids.has(piece)) this.ids.set(piece, id);
        matched.push([encoder.encode(piece), id]);
      } else if (!this.reserved.has(piece)) {
        this.reserved.set(piece, id);
      }
    }
    this.trie = ByteTrie.from(matched);
    if (min === Infinity) min = 0;
    this.unkScore = this.round(min - UNK_PENALTY);
    this.maxScore = max;
    if (vocab.byteFallback) {
      this.byteIds = new Int32Array(256);
      for (let b = 0; b < 256; b++) {
        this.byteIds[b] = this.pieceToId(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
      }
    }
  }

  /** SentencePiece's PieceToId: reserved (control/unknown/byte) pieces, then the rest, else the unknown id. */
  pieceToId(piece: string): number {
    return this.reserved.get(piece) ?? this.ids.get(piece) ?? this.unkId;
  }

  /** The user-defined pieces, which normalization must leave alone. */
  userDefinedTrie(): ByteTrie | undefined {
    const encoder = new TextEncoder();
    const entries: [Uint8Array, number][] = [];
    this.types.forEach((t, id) => {
      if (t === PieceType.USER_DEFINED) entries.push([encoder.encode(this.pieces[id]!), id]);
    });
    return entries.length > 0 ? ByteTrie.from(entries) : undefined;
  }

  /**
   * Segments normalized bytes[start, end) and appends the piece ids to `ids` (and, when given,
   * the piece strings to `pieces`).
   */
  encodeInto(bytes: Uint8Array, start: number, end: number, ids: number[], pieces?: string[]): void {
    const size = end - start;
    if (size <= 0) return;
    const round = this.round;
    // Best path ending at each byte offset (relative to start): its score, where its last piece starts, and that piece.
    const best = new Float64Array(size + 1);
    const from = new Int32Array(size + 1).fill(-1);
    const pieceAt = new Int32Array(size + 1).fill(-1);

    for (let s = 0; s < size; ) {
      const till = best[s]!;
      const mblen = Math.min(oneCharLen(bytes[start + s]!), size - s);
      let hasSingle = false;
      let node = 0;
      for (let k = s; k < size; ) {
        node = this.trie.child(node, bytes[start + k]!);
        if (node < 0) break;
        k++;
        const id = this.trie.value(node);
        if (id < 0 || this.types[id] === PieceType.UNUSED) continue;
        const length = k - s;
        // A user-defined symbol outscores any split of it, so it is always kept whole.
        const candidate = this.types[id] === PieceType.USER_DEFINED
          ? round(length * this.maxScore) - 0.1 + till
          : round(this.scores[id]! + till);
        if (from[k] === -1 || candidate > best[k]!) {
          best[k] = round(candidate);
          from[k] = s;
          pieceAt[k] = id;
        }
        if (length === mblen) hasSingle = true;
      }
      if (!hasSingle) {
        const k = s + mblen;
        const candidate = round(this.unkScore + till);
        if (from[k] === -1 || candidate > best[k]!) {
          best[k] = candidate;
          from[k] = s;
          pieceAt[k] = this.unkId;
        }
      }
      s += mblen;
    }

    // Backtrack, then emit in order.
    const ends: number[] = [];
    for (let e = size; e > 0; e = from[e]!) ends.push(e);
    let prevUnk = false;
    for (let j = ends.length - 1; j >= 0; j--) {
      const e = ends[j]!;
      const b = from[e]!;
      const id = pieceAt[e]!;
      const isUnk = id === this.unkId;
      if (isUnk && this.byteIds !== undefined) {
        for (let k = b; k < e; k++) {
          const byte = bytes[start + k]!;
          ids.push(this.byteIds[byte]!);
          pieces?.push(this.pieces[this.byteIds[byte]!]!);
        }
      } else if (isUnk && prevUnk) {
        if (pieces !== undefined) pieces[pieces.length - 1] += utf8.decode(bytes.subarray(start + b, start + e));
      } else {
        ids.push(id);
        pieces?.push(isUnk ? utf8.decode(bytes.subarray(start + b, start + e)) : this.pieces[id]!);
      }
      prevUnk = isUnk;
    }
  }
}
