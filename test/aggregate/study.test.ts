import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateStudy, AggregateInputError, holm, pairedBootstrap, powerAnalysis, type StudyInput } from '../../controller/aggregate/mod.js';

const close = (a: number | null | undefined, b: number, eps = 1e-9) => assert.ok(a !== null && a !== undefined && Math.abs(a - b) <= eps, `${a} ≠ ${b}`);

// Four questions, three options, answers A B C A.
const QUESTIONS = ['q0', 'q1', 'q2', 'q3'];
const ANSWERS = [0, 1, 2, 0];
const f = (...rows: number[][]) => Float32Array.from(rows.flat());

/**
 * Hand-scored runs (binary fractions, so float32 sums tie exactly where the text says so):
 * - base/0: rows rank the answers 1, 2, 3, 3 → (1 + 1/2 + 1/3 + 1/3)/4 = 13/24
 * - base/1: ranks 3, 1, 2, 1 → (1/3 + 1 + 1/2 + 1)/4 = 17/24
 * - base ensemble (mean): q0–q2 [.3125,.4375,.25] → 1/2, 1, 1/3; q3 [.3125,.375,.3125] → A ties C
 *   and wins on the lower index → 1/2; MAP 14/24
 * - good/0: ids out of order, q3 missing, an unknown id: 1, 1, 1, 0 → 0.75
 * - worse/0: same as base/0 → 0.541667
 * - broken/0: failed (no probabilities)
 */
const INPUT: StudyInput = {
  questionIds: QUESTIONS,
  answers: ANSWERS,
  options: 3,
  baseline: 'base',
  ablations: ['base', 'good', 'worse', 'broken'],
  bootstrap: { resamples: 2000, seed: 3 },
  runs: [
    { ablation: 'base', seed: 0, probs: f([0.5, 0.375, 0.125], [0.5, 0.375, 0.125], [0.5, 0.375, 0.125], [0.125, 0.375, 0.5]) },
    { ablation: 'base', seed: 1, probs: f([0.125, 0.5, 0.375], [0.125, 0.5, 0.375], [0.125, 0.5, 0.375], [0.5, 0.375, 0.125]) },
    { ablation: 'good', seed: 0, ids: ['q2', 'zz', 'q0', 'q1'], probs: f([0, 0, 1], [1, 0, 0], [1, 0, 0], [0, 1, 0]) },
    { ablation: 'worse', seed: 0, probs: f([0.5, 0.375, 0.125], [0.5, 0.375, 0.125], [0.5, 0.375, 0.125], [0.125, 0.375, 0.5]) },
    { ablation: 'broken', seed: 0, probs: null },
  ],
};

test('aggregateStudy: per run, per ablation and best, against hand-scored runs', () => {
  const { summary, ensembles, runScores } = aggregateStudy(INPUT);
  assert.equal(summary.k, 3);
  assert.equal(summary.questions, 4);
  const maps = summary.runs.map((r) => r.mapAtK);
  [13 / 24, 17 / 24, 0.75, 13 / 24].forEach((w, i) => close(maps[i], w));
  assert.equal(maps[4], null);
  assert.equal(runScores[4], null);
  assert.deepEqual(Array.from(runScores[2] ?? []), [1, 1, 1, 0]);

  const [base, good, worse, broken] = summary.ablations;
  assert.deepEqual(summary.ablations.map((a) => a.name), ['base', 'good', 'worse', 'broken']);
  assert.deepEqual(base?.seeds, [0, 1]);
  close(base?.seedMean, 0.625);
  close(base?.seedStd, (17 / 24 - 13 / 24) / Math.SQRT2);
  close(base?.seedMin, 13 / 24);
  close(base?.seedMax, 17 / 24);
  close(base?.ensembleMapAtK, 14 / 24);
  assert.deepEqual(Array.from(ensembles.get('base')?.scores ?? []), [1 / 2, 1, 1 / 3, 1 / 2]);
  assert.equal(base?.vsBaseline, undefined);
  close(good?.ensembleMapAtK, 0.75);
  assert.equal(good?.seedStd, 0);
  assert.deepEqual(broken, { name: 'broken', seeds: [], seedMean: null, seedStd: null, seedMin: null, seedMax: null, ensembleMapAtK: null });
  assert.deepEqual(summary.best, { ablation: 'good', ensembleMapAtK: 0.75 });

  // The comparisons are the paired bootstrap of the ensembles' per-question scores, Holm-adjusted.
  const baseScores = ensembles.get('base')?.scores ?? new Float64Array();
  const g = pairedBootstrap(baseScores, ensembles.get('good')?.scores ?? [], INPUT.bootstrap);
  const w = pairedBootstrap(baseScores, ensembles.get('worse')?.scores ?? [], INPUT.bootstrap);
  const adj = holm([g.pValue, w.pValue]);
  const power = powerAnalysis(baseScores, ensembles.get('good')?.scores ?? []);
  assert.deepEqual(good?.vsBaseline, { baseline: 'base', ...g, pValueHolm: adj[0], minDetectable: power.minDetectable, questionsNeeded: power.questionsNeeded });
  close(good?.vsBaseline?.delta, 0.75 - 14 / 24);
  close(worse?.vsBaseline?.delta, 13 / 24 - 14 / 24);
  assert.equal(worse?.vsBaseline?.pValueHolm, adj[1]);
  assert.ok(JSON.parse(JSON.stringify(summary)).ablations.length === 4, 'the summary is JSON-safe');
});

test('aggregateStudy: mean-logits ensembles and k are honoured; bad inputs are refused', () => {
  const r = aggregateStudy({ ...INPUT, k: 1, ensemble: 'mean-logits' });
  close(r.summary.runs[0]?.mapAtK, 0.25);
  // Geometric mean of base's q3 rows [.125,.375,.5] and [.5,.375,.125]: [.25,.375,.25]/.875.
  const q3 = Array.from(r.ensembles.get('base')?.probs.subarray(9, 12) ?? []);
  [0.25 / 0.875, 0.375 / 0.875, 0.25 / 0.875].forEach((w, j) => close(q3[j], w, 1e-6));
  assert.throws(() => aggregateStudy({ ...INPUT, baseline: 'nope' }), (e: unknown) => e instanceof AggregateInputError && e.field === 'baseline');
  assert.throws(() => aggregateStudy({ ...INPUT, answers: [0, 1] }), AggregateInputError);
  assert.throws(() => aggregateStudy({ ...INPUT, runs: [{ ablation: 'base', seed: 0, probs: new Float32Array(5) }] }), AggregateInputError);
});

test('aggregateStudy: without baseline predictions there is no comparison', () => {
  const r = aggregateStudy({ ...INPUT, runs: INPUT.runs.filter((x) => x.ablation !== 'base') });
  assert.ok(r.summary.ablations.every((a) => a.vsBaseline === undefined));
  assert.equal(r.summary.best?.ablation, 'good');
});
