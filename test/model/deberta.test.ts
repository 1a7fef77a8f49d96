// The model against the HF reference fixture (forward values, loss, gradients), on both CPU
// backends the trainer falls back to; plus dropout, input checks and the bucket table.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../trainer/backend.js';
import { DebertaForMultipleChoice, ModelInputError, isFrozen, multipleChoiceLoss, parseConfig, relativePosition } from '../../trainer/model/mod.js';
import { FIXTURE_DIR, assertClose, expected, fixtureTensors, inputs } from './support.js';

/** The fixture README's suggested tolerance for fp32 forward values. */
const FORWARD_TOL = 1e-4;

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`DeBERTa-v3 tiny fixture on ${backend}`, () => {
    let model: DebertaForMultipleChoice;
    let t: ReturnType<typeof fixtureTensors>;
    before(async () => {
      await selectBackend(backend);
      model = await DebertaForMultipleChoice.load(FIXTURE_DIR);
      t = fixtureTensors();
    });
    after(() => {
      model.dispose();
      tf.dispose([t.ids, t.mask, t.labels]);
    });

    test('logits and loss match transformers within 1e-4', () => {
      const logits = model.forward(t.ids, t.mask);
      const loss = multipleChoiceLoss(logits, t.labels);
      assert.deepEqual(logits.shape, [2, 5]);
      assertClose(logits.arraySync(), expected.logits, FORWARD_TOL, 'logits');
      assertClose(loss.arraySync(), expected.loss, FORWARD_TOL, 'loss');
      tf.dispose([logits, loss]);
    });

    test('intermediate values match: embeddings, per-layer CLS states, last CLS, pooled output', () => {
      const tr = model.trace(t.ids, t.mask);
      const emb = tr.embeddings.arraySync()[0]!.slice(0, 4);
      assertClose(emb, expected.embeddings_output_example0_choice0_first4_tokens, FORWARD_TOL, 'embeddings');
      const perLayer = tr.hiddenStates.map((h) => h.arraySync()[0]![0]!);
      assertClose(perLayer, expected.hidden_states_cls_example0_choice0_per_layer, FORWARD_TOL, 'hidden_states cls');
      const last = tr.hiddenStates.at(-1)!.arraySync().map((seq) => seq[0]!);
      assertClose(last, expected.last_hidden_state_cls.flat(), FORWARD_TOL, 'last_hidden_state cls');
      assertClose(tr.pooled.arraySync(), expected.pooled_output.flat(), FORWARD_TOL, 'pooled_output');
      // Padded positions of the embedding output are zeroed by the mask.
      const padded = tr.embeddings.arraySync()[2]![20]!;
      assert.ok(padded.every((v) => v === 0), 'a padded position of choice 2 is not zero');
      tf.dispose([tr.logits, tr.embeddings, tr.pooled, ...tr.hiddenStates]);
    });

    test('gradients at init match the reference L2 norms for every parameter', () => {
      const vars = [...model.params.values()];
      const { value, grads } = tf.variableGrads(() => multipleChoiceLoss(model.forward(t.ids, t.mask), t.labels), vars);
      assert.equal(Object.keys(expected.grad_l2_norms_at_init).length, model.params.size);
      for (const [name, v] of model.params) {
        const want = expected.grad_l2_norms_at_init[name];
        assert.ok(want !== undefined, `no reference gradient norm for ${name}`);
        const got = Math.sqrt(tf.sum(tf.square(grads[v.name]!)).arraySync() as number);
        // Relative 1e-3 for real gradients; classifier.bias is analytically zero (float noise ~1e-8).
        assert.ok(Math.abs(got - want) <= 1e-3 * want + 1e-5, `${name}: |grad| ${got}, reference ${want}`);
      }
      assertClose(grads[model.params.get('classifier.weight')!.name]!.arraySync(), expected.grad_classifier_weight_at_init, 1e-5, 'classifier.weight grad');
      // nn.Embedding(padding_idx=0): the pad row gets no gradient although pad tokens are looked up.
      const word = grads[model.params.get('deberta.embeddings.word_embeddings.weight')!.name]!;
      assert.ok((tf.slice(word, [0, 0], [1, -1]).arraySync() as number[][])[0]!.every((g) => g === 0), 'pad row has a gradient');
      tf.dispose([value, ...Object.values(grads)]);
    });

    test('frozen parameters can be left out of variableGrads; the rest are unchanged', () => {
      const trainable = [...model.params].filter(([n]) => !isFrozen(n, 'word-embeddings')).map(([, v]) => v);
      const { value, grads } = tf.variableGrads(() => multipleChoiceLoss(model.forward(t.ids, t.mask), t.labels), trainable);
      assert.equal(grads[model.params.get('deberta.embeddings.word_embeddings.weight')!.name], undefined);
      const ln = model.params.get('deberta.embeddings.LayerNorm.weight')!;
      const got = Math.sqrt(tf.sum(tf.square(grads[ln.name]!)).arraySync() as number);
      assert.ok(Math.abs(got - expected.grad_l2_norms_at_init['deberta.embeddings.LayerNorm.weight']!) < 1e-3);
      tf.dispose([value, ...Object.values(grads)]);
    });
  });
}

describe('model behaviour (cpu)', () => {
  before(async () => {
    await selectBackend('cpu');
  });

  test('relative position buckets equal the reference table for 24 tokens', () => {
    const table = expected.relative_position_buckets_seq24.map((row, i) => row.map((_, j) => relativePosition(i, j, 16, 512)));
    assert.deepEqual(table, expected.relative_position_buckets_seq24);
  });

  test('dropout: seeded in training, reproducible per seed, off in eval mode', () => {
    const config = parseConfig({ vocab_size: 50, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, relative_attention: true, position_buckets: 8, pos_att_type: 'p2c|c2p', share_att_key: true, norm_rel_ebd: 'layer_norm', position_biased_input: false, hidden_dropout_prob: 0.3, attention_probs_dropout_prob: 0.3 });
    const m = DebertaForMultipleChoice.create(config, { seed: 3 });
    const ids = tf.tensor3d([[[1, 5, 6, 2, 0], [1, 7, 8, 9, 2]]], undefined, 'int32');
    const mask = tf.tensor3d([[[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]]], undefined, 'int32');
    const run = (opts: { training?: boolean; dropoutSeed?: number }): number[] => {
      const l = m.forward(ids, mask, opts);
      const v = Array.from(l.dataSync());
      l.dispose();
      return v;
    };
    assert.deepEqual(run({ training: true, dropoutSeed: 1 }), run({ training: true, dropoutSeed: 1 }));
    assert.notDeepEqual(run({ training: true, dropoutSeed: 1 }), run({ training: true, dropoutSeed: 2 }));
    assert.deepEqual(run({}), run({ training: false, dropoutSeed: 9 }));
    assert.notDeepEqual(run({}), run({ training: true, dropoutSeed: 1 }));
    m.dispose();
    tf.dispose([ids, mask]);
  });

  test('two models can be alive at once (TF.js variable names are global)', async () => {
    const a = await DebertaForMultipleChoice.load(FIXTURE_DIR);
    const b = await DebertaForMultipleChoice.load(FIXTURE_DIR);
    assert.equal(a.params.get('classifier.weight')!.name, 'classifier.weight');
    assert.notEqual(b.params.get('classifier.weight')!.name, 'classifier.weight');
    const t = fixtureTensors();
    const la = a.forward(t.ids, t.mask);
    const lb = b.forward(t.ids, t.mask);
    assert.deepEqual(la.arraySync(), lb.arraySync());
    a.dispose();
    a.dispose(); // idempotent
    b.dispose();
    tf.dispose([la, lb, t.ids, t.mask, t.labels]);
  });

  test('inputs of the wrong rank or mismatched shapes are rejected, naming the input', async () => {
    const m = await DebertaForMultipleChoice.load(FIXTURE_DIR);
    const ids2d = tf.tensor2d(inputs.input_ids[0]!, undefined, 'int32');
    const t = fixtureTensors();
    assert.throws(() => m.forward(ids2d, ids2d), (e: unknown) => e instanceof ModelInputError && e.input === 'input_ids');
    const shortMask = tf.slice(t.mask, [0, 0, 0], [2, 5, 20]);
    assert.throws(() => m.forward(t.ids, shortMask), (e: unknown) => e instanceof ModelInputError && /attention_mask/.test(e.message));
    m.dispose();
    tf.dispose([ids2d, shortMask, t.ids, t.mask, t.labels]);
  });

  test('create() initialises as HF does: LayerNorm 1/0, biases 0, pad row 0, N(0, initializer_range) weights, seeded', () => {
    const config = parseConfig({ vocab_size: 400, hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 4, intermediate_size: 64, initializer_range: 0.05, relative_attention: true, position_buckets: 16, pos_att_type: ['c2p'] });
    const a = DebertaForMultipleChoice.create(config, { seed: 1 });
    const b = DebertaForMultipleChoice.create(config, { seed: 1 });
    const c = DebertaForMultipleChoice.create(config, { seed: 2 });
    const word = a.params.get('deberta.embeddings.word_embeddings.weight')!.arraySync() as number[][];
    assert.ok(word[0]!.every((v) => v === 0));
    const flat = word.slice(1).flat();
    const std = Math.sqrt(flat.reduce((s, v) => s + v * v, 0) / flat.length);
    assert.ok(Math.abs(std - 0.05) < 0.003, `std ${std}`);
    assert.ok((a.params.get('deberta.embeddings.LayerNorm.weight')!.arraySync() as number[]).every((v) => v === 1));
    assert.ok((a.params.get('pooler.dense.bias')!.arraySync() as number[]).every((v) => v === 0));
    assert.deepEqual(a.params.get('classifier.weight')!.arraySync(), b.params.get('classifier.weight')!.arraySync());
    assert.notDeepEqual(a.params.get('classifier.weight')!.arraySync(), c.params.get('classifier.weight')!.arraySync());
    // position_biased_input defaults to true in HF: absolute position embeddings exist.
    assert.ok(a.params.has('deberta.embeddings.position_embeddings.weight'));
    for (const m of [a, b, c]) m.dispose();
  });
});
