// SentencePiece's normalizer, over UTF-8 bytes. The rules (nmt_nfkc for DeBERTa-v3) ship compiled
// in the model as `precompiled_charsmap`: a little-endian u32 with the size of a Darts-clone
// double-array trie, the trie's u32 units, then NUL-terminated replacement strings that the trie's
// leaf values point into. At each position the longest matching rule wins; bytes that no rule
// matches are copied one UTF-8 character at a time. Whitespace handling (drop leading and
// repeated spaces, add the dummy prefix, spaces → U+2581) follows normalizer.cc so the normalized
// bytes, and therefore the pieces, match SentencePiece's exactly.
import { oneCharLen, type ByteTrie } from './byte-trie.js';
import { SentencePieceModelError } from './errors.js';

/** U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's visible space, in UTF-8. */
export const SPACE_SYMBOL = new Uint8Array([0xe2, 0x96, 0x81]);
const SPACE = 0x20;
const REPLACEMENT_CHAR = new Uint8Array([0xef, 0xbf, 0xbd]);

/** SentencePiece's own limit on trie results per position; longer rule chains are not looked at. */
const MAX_TRIE_RESULTS = 32;

export class PrecompiledCharsMap {
  private readonly replacements = new Map<number, Uint8Array>();

  private constructor(
    private readonly units: Uint32Array,
    private readonly strings: Uint8Array,
  ) {}

  /** Parses a `precompiled_charsmap` blob; `source` names the file in errors. */
  static decode(blob: Uint8Array, source: string): PrecompiledCharsMap {
    if (blob.length <= 4) throw new SentencePieceModelError(source, -1, `precompiled_charsmap of ${blob.length} bytes is too short`);
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieSize = view.getUint32(0, true);
    if (trieSize >= blob.length - 4 || trieSize % 4 !== 0) {
      throw new SentencePieceModelError(source, -1, `precompiled_charsmap declares a ${trieSize}-byte trie in a ${blob.length}-byte blob`);
    }
    const units = new Uint32Array(trieSize / 4);
    for (let i = 0; i < units.length; i++) units[i] = view.getUint32(4 + i * 4, true);
    return new PrecompiledCharsMap(units, blob.subarray(4 + trieSize));
  }

  /** The value of the last `longestMatch` hit: where its replacement starts (see `replacement`). */
  lastValue = 0;

  /**
   * Darts-clone common-prefix search over bytes[pos, end), keeping the longest hit. Returns the
   * match length (0 if no rule applies) and leaves the hit in `lastValue`, so the per-character
   * hot path allocates nothing.
   */
  longestMatch(bytes: Uint8Array, pos: number, end: number): number {
    const units = this.units;
    let length = 0;
    let value = 0;
    let hits = 0;
    let nodePos = offsetOf(units[0] ?? 0);
    for (let i = pos; i < end && hits < MAX_TRIE_RESULTS; i++) {
      const b = bytes[i]!;
      nodePos ^= b;
      const unit = units[nodePos];
      // A label mismatch (or a walk off the array, which only a corrupt map produces) ends the search.
      if (unit === undefined || (unit & 0x800000ff) >>> 0 !== b) break;
      nodePos ^= offsetOf(unit);
      if ((unit >>> 8) & 1) {
        hits++;
        length = i + 1 - pos;
        value = (units[nodePos] ?? 0) & 0x7fffffff;
      }
    }
    this.lastValue = value;
    return length;
  }

  /** The NUL-terminated replacement string at `value` in the strings blob. */
  replacement(value: number): Uint8Array {
    let r = this.replacements.get(value);
    if (r === undefined) {
      let e = value;
      while (e < this.strings.length && this.strings[e] !== 0) e++;
      r = this.strings.subarray(value, e);
      this.replacements.set(value, r);
    }
    return r;
  }
}

function offsetOf(unit: number): number {
  return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
}

/** Length of a valid UTF-8 character at bytes[pos], or 0 when malformed (SentencePiece's IsValidDecodeUTF8). */
function validCharLen(bytes: Uint8Array, pos: number, end: number): number {
  const b0 = bytes[pos]!;
  if (b0 < 0x80) return 1;
  const n = oneCharLen(b0);
  if (n === 1 || pos + n > end) return 0;
  let cp = b0 & (n === 2 ? 0x1f : n === 3 ? 0x0f : 0x07);
  for (let k = 1; k < n; k++) {
    const b = bytes[pos + k]!;
    if ((b & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  const min = n === 2 ? 0x80 : n === 3 ? 0x800 : 0x10000;
  if (cp < min || (cp >= 0xd800 && cp < 0xe000) || cp > 0x10ffff) return 0;
  return n;
}

/** What one normalization step produced: out[start, end) replaces `consumed` input bytes. */
interface Step {
  out: Uint8Array;
  start: number;
  end: number;
  consumed: number;
}

/** A growable byte buffer; normalization can lengthen text (NFKC expands some characters). */
class ByteBuilder {
  buf: Uint8Array;
  length = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }
  private reserve(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + extra));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  push(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }
  append(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }
  endsWith(suffix: Uint8Array): boolean {
    if (this.length < suffix.length) return false;
    for (let k = 0; k < suffix.length; k++) if (this.buf[this.length - suffix.length + k] !== suffix[k]) return false;
    return true;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** The settings of a SentencePiece normalizer; the booleans are `NormalizerSpec`/`TrainerSpec` fields. */
export interface SentencePieceNormalizerOptions {
  /** Compiled rules; absent for the identity normalizer. */
  charsMap?: PrecompiledCharsMap;
  /** User-defined symbols are copied verbatim, never normalized (SentencePiece's prefix matcher). */
  userDefined?: ByteTrie;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
  treatWhitespaceAsSuffix: boolean;
}

export class SentencePieceNormalizer {
  private readonly step: Step = { out: new Uint8Array(0), start: 0, end: 0, consumed: 0 };

  constructor(private readonly opts: SentencePieceNormalizerOptions) {}

  /** Normalizes the prefix of input[pos, end) into `this.step` (SentencePiece's NormalizePrefix). */
  private normalizePrefix(input: Uint8Array, pos: number, end: number): Step {
    if (this.opts.userDefined !== undefined) {
      const n = this.opts.userDefined.longestPrefix(input, pos, end);
      if (n > 0) return this.set(input, pos, pos + n, n);
    }
    if (this.opts.charsMap !== undefined) {
      const length = this.opts.charsMap.longestMatch(input, pos, end);
      if (length > 0) {
        const r = this.opts.charsMap.replacement(this.opts.charsMap.lastValue);
        return this.set(r, 0, r.length, length);
      }
    }
    const n = validCharLen(input, pos, end);
    // A malformed byte becomes U+FFFD and only that one byte is consumed.
    if (n === 0) return this.set(REPLACEMENT_CHAR, 0, 3, 1);
    return this.set(input, pos, pos + n, n);
  }

  private set(out: Uint8Array, start: number, end: number, consumed: number): Step {
    const s = this.step;
    s.out = out;
    s.start = start;
    s.end = end;
    s.consumed = consumed;
    return s;
  }

  /** Only the character map (no whitespace rules): for pipelines that handle spaces themselves. */
  mapOnly(input: Uint8Array): Uint8Array {
    const out = new ByteBuilder(input.length + 8);
    for (let pos = 0; pos < input.length; ) {
      const s = this.normalizePrefix(input, pos, input.length);
      out.append(s.out.subarray(s.start, s.end));
      pos += s.consumed;
    }
    return out.bytes();
  }

  /** SentencePiece's Normalize: the bytes its model segments. */
  normalize(input: Uint8Array): Uint8Array {
    const o = this.opts;
    const end = input.length;
    let pos = 0;
    if (o.removeExtraWhitespaces) {
      while (pos < end) {
        const s = this.normalizePrefix(input, pos, end);
        if (!(s.end - s.start === 1 && s.out[s.start] === SPACE)) break;
        pos += s.consumed;
      }
    }
    if (pos >= end) return new Uint8Array(0);

    const out = new ByteBuilder((end - pos) * 3 + 3);
    const addSpace = (): void => (o.escapeWhitespaces ? out.append(SPACE_SYMBOL) : out.push(SPACE));
    if (!o.treatWhitespaceAsSuffix && o.addDummyPrefix) addSpace();

    let prevSpace = o.removeExtraWhitespaces;
    while (pos < end) {
      const s = this.normalizePrefix(input, pos, end);
      let i = s.start;
      // A replacement's leading spaces are dropped right after a space (runs collapse to one).
      if (prevSpace) while (i < s.end && s.out[i] === SPACE) i++;
      if (i < s.end) {
        for (; i < s.end; i++) {
          const b = s.out[i]!;
          if (b === SPACE && o.escapeWhitespaces) out.append(SPACE_SYMBOL);
          else out.push(b);
        }
        prevSpace = s.out[s.end - 1] === SPACE;
      }
      pos += s.consumed;
      if (!o.removeExtraWhitespaces) prevSpace = false;
    }

    if (o.removeExtraWhitespaces) {
      const space = o.escapeWhitespaces ? SPACE_SYMBOL : new Uint8Array([SPACE]);
      while (out.endsWith(space)) out.length -= space.length;
    }
    if (o.treatWhitespaceAsSuffix && o.addDummyPrefix) addSpace();
    return out.bytes();
  }
}
