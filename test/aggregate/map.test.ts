import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  alignProbabilities,
  alignRankings,
  AggregateInputError,
  ensemble,
  holm,
  mapAtK,
  normalCdf,
  normalQuantile,
  perQuestionScores,
  seedStats,
} from '../../controller/aggregate/mod.js';
import { rankRow } from '../../trainer/data/mod.js';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} ≠ ${b}`);

/** [predicted tokens (undefined = question missing), answer, expected score at k = 3] */
const CASES: [string[] | undefined, string, number][] = [
  [['A', 'B', 'C'], 'A', 1],
  [['B', 'A', 'C'], 'A', 1 / 2],
  [['B', 'C', 'A'], 'A', 1 / 3],
  [['A', 'A', 'A'], 'A', 1], // a repeated correct label scores once
  [['B', 'B', 'A'], 'A', 1 / 3], // a repeated wrong label still uses up a rank
  [['B', 'A', 'A'], 'A', 1 / 2],
  [['B', 'C', 'D', 'A'], 'A', 0], // past k
  [['B', 'C', 'D', 'E', 'A'], 'A', 0],
  [['C', 'B'], 'B', 1 / 2], // fewer than k
  [['D'], 'D', 1],
  [[], 'A', 0], // blank
  [undefined, 'A', 0], // missing
  [['a', 'b'], 'A', 0], // lowercase does not match (Kaggle compares exactly)
  [['X', 'A'], 'A', 1 / 2], // a token that is no letter simply fails to match
  [['A B'], 'A', 0],
];

test('MAP@3: hand-built cases follow Kaggle (duplicates, past k, fewer than k, blank, missing, lowercase)', () => {
  const scores = perQuestionScores(CASES.map((c) => c[0]), CASES.map((c) => c[1]));
  CASES.forEach((c, i) => close(scores[i] ?? NaN, c[2]));
  const expected = CASES.reduce((s, c) => s + c[2], 0) / CASES.length;
  close(mapAtK(CASES.map((c) => c[0]), CASES.map((c) => c[1])), expected);
});

test('MAP@k: the cut-off k changes which ranks count', () => {
  const preds = [['B', 'A'], ['B', 'C', 'D', 'E', 'A']];
  assert.deepEqual(Array.from(perQuestionScores(preds, ['A', 'A'], 1)), [0, 0]);
  assert.deepEqual(Array.from(perQuestionScores(preds, ['A', 'A'], 5)), [1 / 2, 1 / 5]);
  assert.throws(() => perQuestionScores(preds, ['A', 'A'], 0), AggregateInputError);
});

test('MAP@3 from probabilities: ties go to the lower option index; a NaN row scores 0', () => {
  const probs = new Float64Array([
    0.2, 0.2, 0.2, 0.2, 0.2,
    0.2, 0.2, 0.2, 0.2, 0.2,
    0.2, 0.2, 0.2, 0.2, 0.2,
    0.1, 0.4, 0.1, 0.3, 0.1,
    0.1, 0.4, 0.1, 0.3, 0.1,
    0.1, 0.4, 0.1, 0.3, 0.1,
    NaN, NaN, NaN, NaN, NaN,
  ]);
  const answers = [0, 1, 3, 1, 0, 2, 0];
  assert.deepEqual(Array.from(perQuestionScores(probs, answers)), [1, 1 / 2, 0, 1, 1 / 3, 0, 0]);
  assert.throws(() => perQuestionScores(probs, [0, 1]), AggregateInputError);
  assert.throws(() => perQuestionScores(probs, [0, 1, 3, 1, 0, 2, 5]), AggregateInputError);
});

test('MAP@3: scoring probabilities equals scoring the submission written from them', () => {
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  const n = 300;
  const c = 5;
  // Coarse values force many ties, the case where the two paths could disagree.
  const probs = Float32Array.from({ length: n * c }, () => Math.floor(rand() * 4) / 4);
  const answers = Array.from({ length: n }, () => Math.floor(rand() * c));
  const letters = ['A', 'B', 'C', 'D', 'E'];
  const rankings = Array.from({ length: n }, (_, i) => rankRow(probs, i, c, 3).map((j) => letters[j] ?? '?'));
  assert.deepEqual(
    Array.from(perQuestionScores(probs, answers)),
    Array.from(perQuestionScores(rankings, answers.map((a) => letters[a] ?? '?'))),
  );
});

test('alignment by id: order follows the questions, unknown ids listed, missing ones empty', () => {
  const r = alignRankings(['q1', 'q2', 'q3'], new Map([['q3', ['C']], ['zz', ['A']], ['q1', ['A']]]));
  assert.deepEqual(r.predictions, [['A'], undefined, ['C']]);
  assert.deepEqual(r.unknownIds, ['zz']);
  assert.equal(r.missing, 1);
  const p = alignProbabilities(['q1', 'q2', 'q3'], ['q3', 'zz', 'q1'], new Float32Array([0, 1, 0.5, 0.5, 1, 0]), 2);
  assert.ok(p.predictions instanceof Float32Array);
  assert.deepEqual(Array.from(p.predictions), [1, 0, NaN, NaN, 0, 1]);
  assert.deepEqual([p.unknownIds, p.missing], [['zz'], 1]);
});

test('ensemble: mean of probabilities and geometric mean (mean-logits), hand-computed', () => {
  const runs = [new Float32Array([0.6, 0.4, 0.5, 0.5]), new Float32Array([0.2, 0.8, NaN, NaN])];
  const mp = ensemble(runs, 'mean-probabilities', 2);
  close(mp[0] ?? NaN, 0.4, 1e-7);
  close(mp[1] ?? NaN, 0.6, 1e-7);
  // A row one run lacks comes from the other runs alone.
  assert.deepEqual(Array.from(mp.subarray(2)), [0.5, 0.5]);
  const ml = ensemble(runs, 'mean-logits', 2);
  const g0 = Math.sqrt(0.6 * 0.2);
  const g1 = Math.sqrt(0.4 * 0.8);
  close(ml[0] ?? NaN, g0 / (g0 + g1), 1e-6);
  close(ml[1] ?? NaN, g1 / (g0 + g1), 1e-6);
  assert.throws(() => ensemble([new Float32Array(3)], 'mean-probabilities', 2), AggregateInputError);
  assert.throws(() => ensemble([], 'mean-probabilities', 2), AggregateInputError);
});

test('seedStats: sample std with n−1, 0 for one seed', () => {
  const s = seedStats([0.7, 0.74, 0.78]);
  close(s.mean, 0.74);
  close(s.std, 0.04);
  assert.deepEqual([s.min, s.max, s.n], [0.7, 0.78, 3]);
  assert.equal(seedStats([0.5]).std, 0);
  assert.throws(() => seedStats([]), AggregateInputError);
});

test('holm: step-down adjusted p-values, hand-computed, monotone and capped at 1', () => {
  // Sorted: 0.005×4 = 0.02, 0.01×3 = 0.03, 0.03×2 = 0.06, 0.04×1 = 0.04 → raised to 0.06.
  const adj = Array.from(holm([0.01, 0.04, 0.03, 0.005]));
  [0.03, 0.06, 0.06, 0.02].forEach((w, i) => close(adj[i] ?? NaN, w));
  assert.deepEqual(Array.from(holm([0.5, 0.6])), [1, 1]);
  assert.deepEqual(Array.from(holm([])), []);
  assert.throws(() => holm([1.5]), AggregateInputError);
});

test('normal distribution: known quantiles and CDF values', () => {
  close(normalQuantile(0.975), 1.959963984540054, 1e-12);
  close(normalQuantile(0.8), 0.8416212335729143, 1e-12);
  close(normalCdf(0), 0.5);
  close(normalCdf(1.96), 0.9750021048517795, 1e-12);
  close(normalCdf(-1), 0.15865525393145707, 1e-12);
});
