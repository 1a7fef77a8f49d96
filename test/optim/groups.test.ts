// Parameter grouping: DeBERTa's no-decay split, frozen tensors left out, and per-depth learning
// rates checked against the table of science.md §3.3 (L = 24, lr_max = 1.7578e-5, ρ = 0.1).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildParamGroups, isNoDecayParam, layerLearningRate, type ParamGroup } from '../../trainer/optim/mod.js';
import { layerDepth, parameterSpecs, parseConfig } from '../../trainer/model/mod.js';

const LR_MAX = 1.7578125e-5;
const DEPTHS = [0, 1, 4, 8, 12, 16, 20, 23, 24];
// science.md §3.3, rows "cosine S" and "geometric (γ=ρ^{1/24})", 3 significant digits. One
// correction: the table prints 1.94e-6 for geometric d = 1, but 1.7578125e-5·0.1^(23/24) is
// 1.9348e-6, which rounds to 1.93e-6 (the neighbouring entries agree with the formula).
const TABLE_COSINE = [1.76e-6, 1.83e-6, 2.82e-6, 5.71e-6, 9.67e-6, 1.36e-5, 1.65e-5, 1.75e-5, 1.76e-5];
const TABLE_GEOMETRIC = [1.76e-6, 1.93e-6, 2.58e-6, 3.79e-6, 5.56e-6, 8.16e-6, 1.2e-5, 1.6e-5, 1.76e-5];

/** HF parameter names of a model shaped like the tiny fixture but with `layers` encoder layers. */
function names(layers: number): string[] {
  const json = JSON.parse(readFileSync(new URL('../fixtures/deberta-v3-tiny/config.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  return parameterSpecs(parseConfig({ ...json, num_hidden_layers: layers })).map((s) => s.name);
}

function groupOf(groups: ParamGroup[], name: string): ParamGroup {
  const g = groups.find((x) => x.names.includes(name));
  assert.ok(g, `no group holds ${name}`);
  return g;
}

describe('layerLearningRate', () => {
  test('cosine S-curve with floor ρ reproduces the science.md §3.3 table', () => {
    const got = DEPTHS.map((d) => Number(layerLearningRate(d, { lrMax: LR_MAX, numLayers: 24, layerwise: { schedule: 'cosine', minRatio: 0.1 } }).toPrecision(3)));
    assert.deepEqual(got, TABLE_COSINE);
  });

  test('geometric with γ = ρ^(1/L) reproduces the table and puts the bottom at exactly ρ·lr_max', () => {
    const lw = { schedule: 'geometric' as const, minRatio: 0.1 };
    const got = DEPTHS.map((d) => Number(layerLearningRate(d, { lrMax: LR_MAX, numLayers: 24, layerwise: lw }).toPrecision(3)));
    assert.deepEqual(got, TABLE_GEOMETRIC);
    const bottom = layerLearningRate(0, { lrMax: LR_MAX, numLayers: 24, layerwise: lw });
    assert.ok(Math.abs(bottom - 0.1 * LR_MAX) < 1e-12 * LR_MAX);
  });

  test('an explicit geometric decay γ gives lr·γ^(L−d) floored at ρ·lr; the head stays at lr_max or headLr', () => {
    const lw = { schedule: 'geometric' as const, minRatio: 0.1, decay: 0.9 };
    assert.ok(Math.abs(layerLearningRate(10, { lrMax: 1, numLayers: 12, layerwise: lw }) - 0.81) < 1e-12);
    const steep = { schedule: 'geometric' as const, minRatio: 0.1, decay: 0.5 };
    assert.equal(layerLearningRate(10, { lrMax: 1, numLayers: 12, layerwise: steep }), 0.25);
    assert.equal(layerLearningRate(8, { lrMax: 1, numLayers: 12, layerwise: steep }), 0.1);
    assert.equal(layerLearningRate('head', { lrMax: 1, numLayers: 12, layerwise: lw }), 1);
    assert.equal(layerLearningRate('head', { lrMax: 1, numLayers: 12, layerwise: lw, headLr: 5 }), 5);
  });
});

describe('buildParamGroups', () => {
  test('without layer-wise rates: one decay and one no-decay group; biases and LayerNorm do not decay', () => {
    const all = names(2);
    const groups = buildParamGroups(all, { baseLr: 1e-3, weightDecay: 0.01, numLayers: 2 });
    assert.equal(groups.length, 2);
    const [decay, noDecay] = groups as [ParamGroup, ParamGroup];
    assert.deepEqual([decay.lr, decay.weightDecay, noDecay.lr, noDecay.weightDecay], [1e-3, 0.01, 1e-3, 0]);
    assert.equal(decay.names.length + noDecay.names.length, all.length);
    for (const n of ['deberta.embeddings.LayerNorm.weight', 'deberta.embeddings.LayerNorm.bias', 'deberta.encoder.LayerNorm.weight',
      'deberta.encoder.layer.1.output.LayerNorm.weight', 'deberta.encoder.layer.0.attention.self.query_proj.bias', 'classifier.bias']) {
      assert.ok(noDecay.names.includes(n), `${n} should not decay`);
    }
    for (const n of ['deberta.embeddings.word_embeddings.weight', 'deberta.encoder.rel_embeddings.weight',
      'deberta.encoder.layer.0.attention.self.query_proj.weight', 'pooler.dense.weight', 'classifier.weight']) {
      assert.ok(decay.names.includes(n), `${n} should decay`);
    }
    assert.ok(!isNoDecayParam('deberta.encoder.layer.0.attention.self.key_proj.weight'));
  });

  test('frozen tensors are in no group', () => {
    const all = names(2);
    const frozenWord = buildParamGroups(all, { baseLr: 1e-3, weightDecay: 0.01, numLayers: 2, freeze: 'word-embeddings' }).flatMap((g) => g.names);
    assert.equal(frozenWord.length, all.length - 1);
    assert.ok(!frozenWord.includes('deberta.embeddings.word_embeddings.weight'));
    const headOnly = buildParamGroups(all, { baseLr: 1e-3, weightDecay: 0.01, numLayers: 2, freeze: 'backbone' }).flatMap((g) => g.names);
    assert.deepEqual(headOnly.sort(), ['classifier.bias', 'classifier.weight', 'pooler.dense.bias', 'pooler.dense.weight']);
  });

  test('cosine layer-wise rates over 24 layers: 2·(L+2) groups, each at its depth rate, decay split kept', () => {
    const all = names(24);
    const lw = { schedule: 'cosine' as const, minRatio: 0.1 };
    const groups = buildParamGroups(all, { baseLr: LR_MAX, weightDecay: 0.01, numLayers: 24, layerwise: lw, freeze: 'word-embeddings' });
    assert.equal(groups.length, 2 * (24 + 2));
    assert.equal(groups.flatMap((g) => g.names).length, all.length - 1);
    for (const name of all.filter((n) => n !== 'deberta.embeddings.word_embeddings.weight')) {
      const g = groupOf(groups, name);
      const d = layerDepth(name, 24);
      assert.equal(g.lr, layerLearningRate(d, { lrMax: LR_MAX, numLayers: 24, layerwise: lw }), name);
      assert.equal(g.weightDecay, isNoDecayParam(name) ? 0 : 0.01, name);
    }
    const q12 = groupOf(groups, 'deberta.encoder.layer.11.attention.self.query_proj.weight');
    assert.equal(Number(q12.lr.toPrecision(3)), 9.67e-6);
    assert.equal(groupOf(groups, 'deberta.encoder.rel_embeddings.weight').lr.toExponential(2), '1.76e-6');
    assert.equal(groupOf(groups, 'classifier.weight').lr, LR_MAX);
    // Input side first, head last: the order a reader of the logs expects.
    assert.ok(groups[0]!.lr < groups.at(-1)!.lr);
    assert.equal(groups.at(-1)!.label, 'head, no decay');
  });

  test('headLr gives the pooler and classifier their own groups', () => {
    const groups = buildParamGroups(names(2), { baseLr: 1e-5, weightDecay: 0.01, numLayers: 2, headLr: 1e-3 });
    assert.equal(groups.length, 4);
    assert.equal(groupOf(groups, 'pooler.dense.weight').lr, 1e-3);
    assert.equal(groupOf(groups, 'classifier.bias').weightDecay, 0);
    assert.equal(groupOf(groups, 'deberta.encoder.layer.0.output.dense.weight').lr, 1e-5);
  });

  test('rejects bad layer-wise options, naming the field', () => {
    const all = names(2);
    const base = { baseLr: 1e-5, weightDecay: 0.01, numLayers: 2 };
    assert.throws(() => buildParamGroups(all, { ...base, layerwise: { schedule: 'cosine', minRatio: 0 } }), /layerwiseLearningRate\.minRatio/);
    assert.throws(() => buildParamGroups(all, { ...base, layerwise: { schedule: 'cosine', minRatio: 0.1, decay: 0.9 } }), /layerwiseLearningRate\.decay/);
    assert.throws(() => buildParamGroups(all, { ...base, layerwise: { schedule: 'linear' as 'cosine', minRatio: 0.1 } }), /layerwiseLearningRate\.schedule/);
    assert.throws(() => buildParamGroups(all, { ...base, numLayers: 0 }), /numLayers/);
  });
});
