// The tokenizer.json route: a Hugging Face Unigram file built from spm-tiny the way transformers'
// DebertaV2Converter builds DeBERTa-v3's must give the same ids as the spm.model route.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  decodeModelProto,
  loadTokenizer,
  loadTokenizerJson,
  MissingSpecialTokenError,
  TokenizerJsonError,
  TokenizerNotFoundError,
  UnsupportedTokenizerError,
} from '../../trainer/tokenizer/mod.js';
import { expected, NO_TRUNCATION, referenceCases, spmBytes, SPM_PATH } from './support.js';

const SPECIALS = ['[PAD]', '[CLS]', '[SEP]', '[UNK]', '[MASK]'];

/** tokenizer.json as DebertaV2Converter writes it for a SentencePiece model (do_lower_case false, split_by_punct false). */
function tokenizerJsonFor(spm: Uint8Array): Record<string, unknown> {
  const m = decodeModelProto(spm);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map((content) => ({
      id: m.pieces.findIndex((p) => p.piece === content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Strip', strip_left: true, strip_right: true },
        { type: 'Precompiled', precompiled_charsmap: Buffer.from(m.normalizerSpec.precompiledCharsmap).toString('base64') },
        { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
      ],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [{ type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true }],
    },
    post_processor: null,
    decoder: null,
    model: {
      type: 'Unigram',
      unk_id: m.trainerSpec.unkId,
      vocab: m.pieces.map((p) => [p.piece, p.score]),
      byte_fallback: false,
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'ablate-tokjson-'));
const json = tokenizerJsonFor(spmBytes());
mkdirSync(join(dir, 'hf'));
writeFileSync(join(dir, 'hf', 'tokenizer.json'), JSON.stringify(json));
const tok = await loadTokenizer(join(dir, 'hf'));

describe('tokenizer: tokenizer.json', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reports the same vocabulary size and special ids as the spm.model route', () => {
    assert.equal(tok.vocabSize, expected.vocab_size);
    const s = expected.special_tokens;
    assert.deepEqual(tok.specialIds, { pad: s['[PAD]'], cls: s['[CLS]'], sep: s['[SEP]'], unk: s['[UNK]'], mask: s['[MASK]'] });
  });

  it('gives every expected.json id list, including the truncated pair', () => {
    for (const [i, p] of expected.pairs.entries()) {
      assert.deepEqual(tok.encode(p.prompt), p.prompt_ids, `pair ${i} prompt`);
      assert.deepEqual(tok.encode(p.option), p.option_ids, `pair ${i} option`);
      const enc = tok.encodePair(p.prompt, p.option, p.max_length ?? NO_TRUNCATION);
      assert.deepEqual(enc.inputIds, p.input_ids, `pair ${i} input_ids`);
      assert.deepEqual(enc.tokenTypeIds, p.token_type_ids, `pair ${i} token_type_ids`);
      assert.deepEqual(enc.attentionMask, p.attention_mask, `pair ${i} attention_mask`);
    }
  });

  it('agrees with sentencepiece on its 300 reference texts, up to a trailing lone ▁', () => {
    // Hugging Face strips the text before the charsmap runs, so a character the charsmap turns into
    // a space (U+200B, U+001F…) at the end leaves a trailing "▁" that sentencepiece, which strips
    // after mapping, drops. That is the only difference allowed, and it must stay rare.
    const loneSpace = decodeModelProto(spmBytes()).pieces.findIndex((p) => p.piece === '▁');
    let differ = 0;
    for (const c of referenceCases) {
      const ids = tok.encode(c.text);
      if (ids.length === c.ids.length && ids.every((id, i) => id === c.ids[i])) continue;
      differ++;
      assert.deepEqual([ids.slice(0, -1), ids.at(-1)], [c.ids, loneSpace], JSON.stringify(c.text));
    }
    assert.ok(differ <= 10, `${differ} of ${referenceCases.length} differ`);
  });

  it('prefers spm.model when a directory has both', async () => {
    const both = join(dir, 'both');
    mkdirSync(both);
    copyFileSync(SPM_PATH, join(both, 'spm.model'));
    // A tokenizer.json that would be told apart: one more added token, so a larger vocabulary.
    const marked = { ...json, added_tokens: [...(json['added_tokens'] as object[]), { id: 400, content: '<extra>', lstrip: false, rstrip: false }] };
    writeFileSync(join(both, 'tokenizer.json'), JSON.stringify(marked));
    assert.equal((await loadTokenizer(join(both, 'tokenizer.json'))).vocabSize, 401);
    assert.equal((await loadTokenizer(both)).vocabSize, 400);
  });

  it('a directory without either file fails naming the directory', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    await assert.rejects(loadTokenizer(empty), (err: unknown) => err instanceof TokenizerNotFoundError && err.message.includes(empty));
  });

  it('rejects broken or unsupported files by file and field', () => {
    assert.throws(() => loadTokenizerJson('{not json', '/m/tokenizer.json'), (err: unknown) => err instanceof TokenizerJsonError && err.message.startsWith('/m/tokenizer.json: $'));
    const bpe = { ...json, model: { type: 'BPE', vocab: {}, merges: [] } };
    assert.throws(() => loadTokenizerJson(JSON.stringify(bpe), 't.json'), (err: unknown) => err instanceof UnsupportedTokenizerError && err.field === 'model.type');
    const badVocab = { ...json, model: { type: 'Unigram', unk_id: 3, vocab: [['a', 'x']] } };
    assert.throws(() => loadTokenizerJson(JSON.stringify(badVocab), 't.json'), (err: unknown) => err instanceof TokenizerJsonError && err.field === 'model.vocab[0][1]');
    const oddNorm = { ...json, normalizer: { type: 'BertNormalizer' } };
    assert.throws(() => loadTokenizerJson(JSON.stringify(oddNorm), 't.json'), (err: unknown) => err instanceof UnsupportedTokenizerError && err.field === 'normalizer.type');
    const noCls = { ...json, added_tokens: [], model: { type: 'Unigram', unk_id: 0, vocab: [['<unk>', 0], ['▁a', -1]] } };
    assert.throws(() => loadTokenizerJson(JSON.stringify(noCls), 't.json'), (err: unknown) => err instanceof MissingSpecialTokenError && err.token === '[PAD]');
  });

  it('strips around added tokens that ask for it and places an out-of-vocabulary [MASK] after the vocabulary', () => {
    const m = decodeModelProto(spmBytes());
    // DeBERTa-v3's layout: [MASK] is not a model piece but an added token with the next id.
    const vocab = m.pieces.filter((p) => p.piece !== '[MASK]').map((p) => [p.piece, p.score]);
    const addedTokens = (json['added_tokens'] as { content: string }[]).filter((t) => t.content !== '[MASK]');
    const v3 = {
      ...json,
      added_tokens: [...addedTokens, { id: vocab.length, content: '[MASK]', lstrip: true, rstrip: false, special: true }],
      model: { type: 'Unigram', unk_id: 3, vocab },
    };
    const t = loadTokenizerJson(JSON.stringify(v3), 'v3.json');
    assert.equal(t.specialIds.mask, vocab.length);
    assert.equal(t.vocabSize, vocab.length + 1);
    // lstrip: the space before [MASK] belongs to it, so "is" is not followed by a lone "▁".
    assert.deepEqual(t.encode('water is [MASK].'), [...t.encode('water is'), vocab.length, ...t.encode('.')]);
  });
});
