// Pair truncation beyond the reference's case, and whole-question batches for the model.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EncodeArgumentError, encodeQuestion, loadTokenizer } from '../../trainer/tokenizer/mod.js';
import { expected, FIXTURE_DIR, NO_TRUNCATION } from './support.js';

const tok = await loadTokenizer(FIXTURE_DIR);
const long = expected.pairs[9]!;
const prompt = expected.pairs[0]!.prompt;
const options = ['Carbon dioxide', 'Oxygen', 'Nitrogen gas from the air', 'Water vapour', 'H'];

describe('tokenizer: encodePair truncation', () => {
  it('cuts the option too when it alone does not fit, and says so', () => {
    const optionIds = tok.encode(long.prompt);
    const maxLength = 20;
    const enc = tok.encodePair('short prompt', long.prompt, maxLength);
    const { cls, sep } = tok.specialIds;
    assert.equal(enc.inputIds.length, maxLength);
    assert.deepEqual(enc.truncated, { prompt: tok.encode('short prompt').length, option: optionIds.length - (maxLength - 3) });
    assert.deepEqual(enc.inputIds, [cls, sep, ...optionIds.slice(0, maxLength - 3), sep]);
    assert.deepEqual(enc.tokenTypeIds, [0, 0, ...new Array<number>(maxLength - 2).fill(1)]);
  });

  it('leaves a pair that fits untouched, at any maxLength from its exact size up', () => {
    const exact = long.prompt_ids.length + long.option_ids.length + 3;
    for (const maxLength of [exact, exact + 1, NO_TRUNCATION]) {
      const enc = tok.encodePair(long.prompt, long.option, maxLength);
      assert.deepEqual(enc.truncated, { prompt: 0, option: 0 });
      assert.equal(enc.inputIds.length, exact);
    }
    assert.deepEqual(tok.encodePair(long.prompt, long.option, exact - 1).truncated, { prompt: 1, option: 0 });
  });

  it('rejects a maxLength that cannot hold the special tokens', () => {
    for (const bad of [2, 0, -1, 3.5, Number.NaN]) {
      assert.throws(() => tok.encodePair('a', 'b', bad), (err: unknown) => err instanceof EncodeArgumentError && err.field === 'maxLength');
    }
  });
});

describe('tokenizer: encodeQuestion', () => {
  it('pads every option row to the longest, with the pad id and a zero mask', () => {
    const q = encodeQuestion(tok, prompt, options, NO_TRUNCATION);
    const rows = options.map((o) => tok.encodePair(prompt, o, NO_TRUNCATION).inputIds);
    const longest = Math.max(...rows.map((r) => r.length));
    assert.equal(q.seqLength, longest);
    assert.equal(q.inputIds.length, options.length * longest);
    assert.equal(q.attentionMask.length, options.length * longest);
    assert.equal(q.truncated, 0);
    rows.forEach((row, c) => {
      const ids = Array.from(q.inputIds.subarray(c * longest, (c + 1) * longest));
      const mask = Array.from(q.attentionMask.subarray(c * longest, (c + 1) * longest));
      const padding = longest - row.length;
      assert.deepEqual(ids, [...row, ...new Array<number>(padding).fill(tok.specialIds.pad)]);
      assert.deepEqual(mask, [...new Array<number>(row.length).fill(1), ...new Array<number>(padding).fill(0)]);
    });
  });

  it("pads to maxLength with pad 'max', and counts truncated rows", () => {
    const q = encodeQuestion(tok, long.prompt, [long.option, 'x'], 32, 'max');
    assert.equal(q.seqLength, 32);
    assert.deepEqual(Array.from(q.inputIds.subarray(0, 32)), long.input_ids);
    assert.equal(q.truncated, 2);
    const short = encodeQuestion(tok, 'a', ['b'], 64, 'max');
    assert.equal(short.seqLength, 64);
    assert.equal(short.attentionMask.reduce((s, v) => s + v, 0), tok.encodePair('a', 'b', 64).inputIds.length);
  });

  it('rejects a question without options', () => {
    assert.throws(() => encodeQuestion(tok, prompt, [], 64), (err: unknown) => err instanceof EncodeArgumentError && err.field === 'options');
  });
});
