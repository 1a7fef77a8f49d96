// A Tokenizer from a Hugging Face `tokenizer.json` holding a Unigram model, as transformers'
// DebertaV2Converter writes for DeBERTa-v3: added tokens cut out of the raw text, a normalizer
// sequence (Strip, Precompiled nmt_nfkc charsmap, Replace " {2,}" → " "), the Metaspace
// pre-tokenizer (spaces → U+2581, a leading U+2581, one word per U+2581), and Viterbi per word.
// Only the pieces DeBERTa-v3 uses are implemented; anything else is refused by name rather than
// silently tokenized differently. Known, deliberate gaps against the Rust `tokenizers`: the
// Precompiled step applies the charsmap's longest match left to right (as SentencePiece does)
// rather than per grapheme cluster, so rules keyed on a base letter plus combining marks can differ;
// Strip uses JavaScript's whitespace set; Replace regexes are JavaScript regexes (with `u`). As in
// `tokenizers`, Strip runs before the charsmap, so a character it maps to a space at either end of
// the text can leave a trailing "▁" that spm.model would drop.
import { MissingSpecialTokenError, TokenizerJsonError, UnsupportedTokenizerError } from './errors.js';
import { PrecompiledCharsMap, SentencePieceNormalizer } from './normalizer.js';
import { PieceType } from './sentencepiece-model.js';
import { MASK_TOKEN } from './sentencepiece.js';
import { UnigramTokenizer, type AddedToken, type SpecialIds, type Tokenizer } from './tokenizer.js';
import { UnigramModel } from './unigram.js';

/** Metaspace's default replacement, U+2581, which the word splitting relies on. */
const METASPACE = '\u2581';

type Json = Record<string, unknown>;
type StringOp = (text: string) => string;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Reader {
  constructor(readonly source: string) {}
  fail(field: string, problem: string): never {
    throw new TokenizerJsonError(this.source, field, problem);
  }
  object(v: unknown, field: string): Json {
    return isObject(v) ? v : this.fail(field, `expected an object, got ${JSON.stringify(v)?.slice(0, 80)}`);
  }
  string(v: unknown, field: string): string {
    return typeof v === 'string' ? v : this.fail(field, `expected a string, got ${JSON.stringify(v)?.slice(0, 80)}`);
  }
  number(v: unknown, field: string): number {
    return typeof v === 'number' && Number.isFinite(v) ? v : this.fail(field, `expected a number, got ${JSON.stringify(v)?.slice(0, 80)}`);
  }
  bool(v: unknown, field: string, fallback: boolean): boolean {
    if (v === undefined || v === null) return fallback;
    return typeof v === 'boolean' ? v : this.fail(field, `expected true or false, got ${JSON.stringify(v)}`);
  }
}

function compileNormalizer(r: Reader, spec: unknown, field: string): StringOp[] {
  if (spec === null || spec === undefined) return [];
  const n = r.object(spec, field);
  const type = r.string(n['type'], `${field}.type`);
  switch (type) {
    case 'Sequence': {
      const list = n['normalizers'];
      if (!Array.isArray(list)) r.fail(`${field}.normalizers`, 'expected an array');
      return list.flatMap((s, i) => compileNormalizer(r, s, `${field}.normalizers[${i}]`));
    }
    case 'Precompiled': {
      const b64 = n['precompiled_charsmap'];
      if (b64 === null || b64 === undefined || b64 === '') return [];
      const blob = new Uint8Array(Buffer.from(r.string(b64, `${field}.precompiled_charsmap`), 'base64'));
      const charsMap = PrecompiledCharsMap.decode(blob, `${r.source} (${field}.precompiled_charsmap)`);
      // Only the rules: Strip, Replace and Metaspace do the whitespace work on this route.
      const normalizer = new SentencePieceNormalizer({
        charsMap,
        addDummyPrefix: false,
        removeExtraWhitespaces: false,
        escapeWhitespaces: false,
        treatWhitespaceAsSuffix: false,
      });
      const encoder = new TextEncoder();
      const decoder = new TextDecoder();
      return [(t) => decoder.decode(normalizer.mapOnly(encoder.encode(t)))];
    }
    case 'Strip': {
      const left = r.bool(n['strip_left'], `${field}.strip_left`, true);
      const right = r.bool(n['strip_right'], `${field}.strip_right`, true);
      return [(t) => (left && right ? t.trim() : left ? t.trimStart() : right ? t.trimEnd() : t)];
    }
    case 'Replace': {
      const pattern = r.object(n['pattern'], `${field}.pattern`);
      const content = r.string(n['content'], `${field}.content`);
      if (typeof pattern['String'] === 'string') {
        const s = pattern['String'];
        return [(t) => t.split(s).join(content)];
      }
      const re = new RegExp(r.string(pattern['Regex'], `${field}.pattern.Regex`), 'gu');
      return [(t) => t.replace(re, () => content)];
    }
    case 'NFKC':
    case 'NFC':
    case 'NFD':
    case 'NFKD':
      return [(t) => t.normalize(type)];
    case 'Lowercase':
      return [(t) => t.toLowerCase()];
    case 'Prepend': {
      const prefix = r.string(n['prepend'], `${field}.prepend`);
      return [(t) => (t === '' ? t : prefix + t)];
    }
    default:
      throw new UnsupportedTokenizerError(r.source, `${field}.type`, type, 'normalizer not supported for Unigram tokenizers');
  }
}

interface Metaspace {
  prepend: 'always' | 'first' | 'never';
  split: boolean;
}

function compilePreTokenizer(r: Reader, spec: unknown, field: string): Metaspace | undefined {
  if (spec === null || spec === undefined) return undefined;
  const p = r.object(spec, field);
  const type = r.string(p['type'], `${field}.type`);
  if (type === 'Sequence') {
    const list = p['pretokenizers'];
    if (!Array.isArray(list)) r.fail(`${field}.pretokenizers`, 'expected an array');
    if (list.length !== 1) {
      throw new UnsupportedTokenizerError(r.source, `${field}.pretokenizers`, list.map((x: unknown) => (isObject(x) ? x['type'] : x)), 'only a single Metaspace pre-tokenizer is supported');
    }
    return compilePreTokenizer(r, list[0], `${field}.pretokenizers[0]`);
  }
  if (type !== 'Metaspace') throw new UnsupportedTokenizerError(r.source, `${field}.type`, type, 'only the Metaspace pre-tokenizer is supported');
  const replacement = p['replacement'] ?? METASPACE;
  if (replacement !== METASPACE) throw new UnsupportedTokenizerError(r.source, `${field}.replacement`, replacement, `only ${METASPACE} (U+2581) is supported`);
  // Older files have add_prefix_space (true = always); newer ones prepend_scheme.
  const scheme = p['prepend_scheme'] ?? (r.bool(p['add_prefix_space'], `${field}.add_prefix_space`, true) ? 'always' : 'never');
  if (scheme !== 'always' && scheme !== 'first' && scheme !== 'never') {
    throw new UnsupportedTokenizerError(r.source, `${field}.prepend_scheme`, scheme, "expected 'always', 'first' or 'never'");
  }
  return { prepend: scheme, split: r.bool(p['split'], `${field}.split`, true) };
}

/** Parses a `tokenizer.json` file's text; `source` (the path) names the file in errors. */
export function loadTokenizerJson(text: string, source = 'tokenizer.json'): Tokenizer {
  const r: Reader = new Reader(source);
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (err) {
    throw new TokenizerJsonError(source, '$', 'not valid JSON', { cause: err });
  }
  const doc = r.object(root, '$');
  const m = r.object(doc['model'], 'model');
  const type = m['type'];
  if (type !== 'Unigram') throw new UnsupportedTokenizerError(source, 'model.type', type, 'only Unigram models are supported (DeBERTa-v3 uses one)');
  const vocab = m['vocab'];
  if (!Array.isArray(vocab) || vocab.length === 0) r.fail('model.vocab', 'expected a non-empty array of [piece, score] pairs');
  const pieces: string[] = [];
  const scores = new Float64Array(vocab.length);
  vocab.forEach((entry: unknown, i) => {
    if (!Array.isArray(entry) || entry.length !== 2) r.fail(`model.vocab[${i}]`, 'expected a [piece, score] pair');
    pieces.push(r.string(entry[0], `model.vocab[${i}][0]`));
    scores[i] = r.number(entry[1], `model.vocab[${i}][1]`);
  });

  const added: AddedToken[] = [];
  const addedList = doc['added_tokens'] ?? [];
  if (!Array.isArray(addedList)) r.fail('added_tokens', 'expected an array');
  addedList.forEach((t: unknown, i) => {
    const f = `added_tokens[${i}]`;
    const o = r.object(t, f);
    added.push({
      id: r.number(o['id'], `${f}.id`),
      content: r.string(o['content'], `${f}.content`),
      lstrip: r.bool(o['lstrip'], `${f}.lstrip`, false),
      rstrip: r.bool(o['rstrip'], `${f}.rstrip`, false),
    });
  });
  const idOf = (name: string): number | undefined => {
    const id = added.find((t) => t.content === name)?.id ?? pieces.indexOf(name);
    return id >= 0 ? id : undefined;
  };

  const unkRaw = m['unk_id'];
  const unkId = unkRaw === null || unkRaw === undefined ? idOf('[UNK]') : r.number(unkRaw, 'model.unk_id');
  if (unkId === undefined) throw new MissingSpecialTokenError(source, '[UNK]');
  const need = (name: string): number => {
    const id = idOf(name);
    if (id === undefined) throw new MissingSpecialTokenError(source, name);
    return id;
  };
  const mask = idOf(MASK_TOKEN);
  const specialIds: SpecialIds = { pad: need('[PAD]'), cls: need('[CLS]'), sep: need('[SEP]'), unk: unkId, ...(mask === undefined ? {} : { mask }) };

  // Hugging Face's Unigram has no piece types: every vocabulary entry is matched by score, in float64.
  const model = new UnigramModel({
    pieces,
    scores,
    types: new Uint8Array(pieces.length).fill(PieceType.NORMAL),
    unkId,
    byteFallback: r.bool(m['byte_fallback'], 'model.byte_fallback', false),
    float32: false,
  });
  const ops = compileNormalizer(r, doc['normalizer'], 'normalizer');
  const meta = compilePreTokenizer(r, doc['pre_tokenizer'], 'pre_tokenizer');
  const encoder = new TextEncoder();
  const normalize = (text: string, first: boolean): Uint8Array => {
    let t = ops.reduce((acc, op) => op(acc), text);
    if (meta !== undefined) {
      t = t.replaceAll(' ', METASPACE);
      const prepend = meta.prepend === 'always' || (meta.prepend === 'first' && first);
      if (prepend && t !== '' && !t.startsWith(METASPACE)) t = METASPACE + t;
    }
    return encoder.encode(t);
  };
  const vocabSize = Math.max(pieces.length, ...added.map((t) => t.id + 1));
  return new UnigramTokenizer({
    source,
    model,
    normalize,
    splitWords: meta?.split ?? false,
    addedTokens: added,
    specialIds,
    vocabSize,
  });
}
