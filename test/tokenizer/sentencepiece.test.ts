// The spm.model route against what sentencepiece and DebertaV2Tokenizer produce for spm-tiny.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  decodeModelProto,
  loadSentencePiece,
  loadTokenizer,
  PieceType,
  SentencePieceModelError,
  UnsupportedTokenizerError,
} from '../../trainer/tokenizer/mod.js';
import { expected, FIXTURE_DIR, NO_TRUNCATION, referenceCases, spmBytes, SPM_PATH } from './support.js';

const tok = await loadTokenizer(FIXTURE_DIR);

describe('tokenizer: spm.model', () => {
  it('reports the vocabulary size and the DeBERTa special ids', () => {
    assert.equal(tok.vocabSize, expected.vocab_size);
    const s = expected.special_tokens;
    assert.deepEqual(tok.specialIds, { pad: s['[PAD]'], cls: s['[CLS]'], sep: s['[SEP]'], unk: s['[UNK]'], mask: s['[MASK]'] });
  });

  for (const [i, p] of expected.pairs.entries()) {
    it(`pair ${i}: pieces, ids and the [CLS] A [SEP] B [SEP] encoding match the reference`, () => {
      assert.deepEqual(tok.pieces(p.prompt), p.prompt_pieces);
      assert.deepEqual(tok.pieces(p.option), p.option_pieces);
      assert.deepEqual(tok.encode(p.prompt), p.prompt_ids);
      assert.deepEqual(tok.encode(p.option), p.option_ids);
      const enc = tok.encodePair(p.prompt, p.option, p.max_length ?? NO_TRUNCATION);
      assert.deepEqual(enc.inputIds, p.input_ids);
      assert.deepEqual(enc.tokenTypeIds, p.token_type_ids);
      assert.deepEqual(enc.attentionMask, p.attention_mask);
      assert.deepEqual(enc.truncated, { prompt: p.num_tokens_removed_from_prompt ?? 0, option: 0 });
    });
  }

  it('matches sentencepiece on 300 whitespace/unicode/unknown-heavy texts (spm-cases.json)', () => {
    for (const c of referenceCases) {
      assert.deepEqual(tok.pieces(c.text), c.pieces, `pieces of ${JSON.stringify(c.text)}`);
      assert.deepEqual(tok.encode(c.text), c.ids, `ids of ${JSON.stringify(c.text)}`);
    }
  });

  it('normalizes full-width characters with NFKC (the charsmap), so Ｈ２Ｏ encodes as H2O', () => {
    assert.deepEqual(tok.pieces('Ｈ２Ｏ'), ['▁', 'H', '2', 'O']);
    assert.deepEqual(tok.encode('Ｈ２Ｏ'), tok.encode('H2O'));
    assert.notDeepEqual(tok.encode('Ｈ２Ｏ'), tok.encode('H 2 O'));
  });

  it('drops leading and trailing whitespace and collapses runs inside', () => {
    const plain = tok.encode('Which planet is red?');
    assert.deepEqual(tok.encode('  Which   planet\tis \n red?   '), plain);
    assert.deepEqual(tok.encode('   '), []);
    assert.deepEqual(tok.encode(''), []);
  });

  it('maps characters outside the vocabulary to the unknown id, one per run', () => {
    const { unk } = tok.specialIds;
    assert.deepEqual(tok.pieces('é'), ['▁', 'é']);
    assert.equal(tok.encode('é')[1], unk);
    const pieces = tok.pieces('é and !!');
    const ids = tok.encode('é and !!');
    assert.equal(ids.filter((id) => id === unk).length, 2, 'é and !! are two unknown runs');
    assert.equal(pieces.at(-1), '!!', 'a run of unknown characters stays one piece');
    assert.equal(ids.length, pieces.length);
  });

  it('keeps special-token strings whole, as DebertaV2Tokenizer does', () => {
    const { mask, cls, sep } = tok.specialIds;
    assert.deepEqual(tok.encode('a [MASK] b'), [...tok.encode('a'), mask, ...tok.encode('b')]);
    assert.deepEqual(tok.encode('[CLS]x[SEP]'), [cls, ...tok.encode('x'), sep]);
  });

  it('appends [MASK] after the vocabulary when the model lacks it, as DebertaV2Tokenizer does', () => {
    // DeBERTa-v3's own spm.model has no [MASK] piece; rename spm-tiny's (same length) to get one like it.
    const bytes = spmBytes().slice();
    const at = Buffer.from(bytes).indexOf('[MASK]');
    bytes.set(new TextEncoder().encode('[MASX]'), at);
    const t = loadSentencePiece(bytes, 'no-mask.model');
    assert.equal(t.vocabSize, expected.vocab_size + 1);
    assert.equal(t.specialIds.mask, expected.vocab_size);
    assert.deepEqual(t.encode('a [MASK]'), [...t.encode('a'), expected.vocab_size]);
    assert.deepEqual(t.pieces('[MASK]'), ['[MASK]']);
  });

  it('decodes the model protobuf: piece types, trainer and normalizer specs', () => {
    const m = decodeModelProto(spmBytes(), SPM_PATH);
    assert.equal(m.pieces.length, expected.vocab_size);
    assert.deepEqual(m.pieces.slice(0, 5).map((p) => [p.piece, p.type]), [
      ['[PAD]', PieceType.CONTROL],
      ['[CLS]', PieceType.CONTROL],
      ['[SEP]', PieceType.CONTROL],
      ['[UNK]', PieceType.UNKNOWN],
      ['[MASK]', PieceType.USER_DEFINED],
    ]);
    assert.ok(m.pieces.slice(5).every((p) => p.type === PieceType.NORMAL && p.score < 0));
    const t = m.trainerSpec;
    assert.deepEqual([t.modelType, t.vocabSize, t.padId, t.bosId, t.eosId, t.unkId, t.byteFallback], [1, 400, 0, 1, 2, 3, false]);
    assert.deepEqual(t.userDefinedSymbols, ['[MASK]']);
    const n = m.normalizerSpec;
    assert.equal(n.name, 'nmt_nfkc');
    assert.ok(n.precompiledCharsmap.length > 100_000);
    assert.deepEqual([n.addDummyPrefix, n.removeExtraWhitespaces, n.escapeWhitespaces], [true, true, true]);
  });
});

describe('tokenizer: corrupt spm.model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ablate-tok-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a truncated file fails naming the file and the byte offset', async () => {
    mkdirSync(join(dir, 'truncated'));
    const path = join(dir, 'truncated', 'spm.model');
    writeFileSync(path, spmBytes().subarray(0, 1000));
    await assert.rejects(loadTokenizer(join(dir, 'truncated')), (err: unknown) => {
      assert.ok(err instanceof SentencePieceModelError);
      assert.equal(err.source, path);
      assert.ok(err.offset >= 0 && err.offset < 1000, `offset ${err.offset}`);
      assert.ok(err.message.startsWith(`${path}: byte ${err.offset}: `), err.message);
      return true;
    });
  });

  it('a file that is not a model (text) fails naming the file', () => {
    const text = new TextEncoder().encode('this is not a sentencepiece model\n');
    assert.throws(() => loadSentencePiece(text, '/models/x/spm.model'), (err: unknown) => {
      assert.ok(err instanceof SentencePieceModelError);
      assert.match(err.message, /\/models\/x\/spm\.model/);
      return true;
    });
  });

  it('a damaged precompiled charsmap fails naming the file', () => {
    const bytes = spmBytes().slice();
    const m = decodeModelProto(bytes);
    // Point the charsmap's declared trie size past its end.
    const at = m.normalizerSpec.precompiledCharsmap.byteOffset;
    new DataView(bytes.buffer).setUint32(at, 0x7ffffff0, true);
    assert.throws(() => loadSentencePiece(bytes, 'damaged.model'), /damaged\.model: precompiled_charsmap/);
  });

  it('a BPE model is refused by name, not mis-tokenized', () => {
    const bytes = spmBytes();
    const m = decodeModelProto(bytes);
    assert.equal(m.trainerSpec.modelType, 1);
    // Re-encode the trainer spec's model_type field (tag 0x18) as 2 (BPE).
    const copy = bytes.slice();
    const specStart = findTrainerSpecModelType(copy);
    copy[specStart + 1] = 2;
    assert.throws(() => loadSentencePiece(copy, 'bpe.model'), (err: unknown) => err instanceof UnsupportedTokenizerError && /model_type = 2/.test(err.message));
  });
});

/** Offset of the `model_type` tag inside the top-level trainer_spec field (field 2). */
function findTrainerSpecModelType(bytes: Uint8Array): number {
  // Walk the top-level fields: pieces (field 1, length-delimited) until trainer_spec (field 2).
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
    }
  };
  for (;;) {
    const tag = varint();
    const len = varint();
    if (tag === 0x12) {
      for (let p = pos; p < pos + len; p++) if (bytes[p] === 0x18 && bytes[p + 1] === 1) return p;
      throw new Error('model_type not found');
    }
    pos += len;
  }
}
