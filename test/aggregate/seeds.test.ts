import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  aggregateStudy,
  AggregateInputError,
  ensemble,
  holm,
  perQuestionScores,
  SeedEnsembles,
  seedAwareBootstrap,
  seedMultisetCount,
  seedMultisets,
  type StudyInput,
  type StudyRunInput,
} from '../../controller/aggregate/mod.js';
import { lcg } from './sim.js';

const OPTIONS = 4;

/** One row: the answer (option 0) gets `p`, the rest share 1 − p, the first wrong option a little more. */
function row(p: number): number[] {
  const rest = (1 - p) / (OPTIONS - 1);
  return [p, rest + 0.01, rest - 0.005, rest - 0.005];
}

function probs(n: number, rowOf: (i: number) => number[]): Float32Array {
  const out = new Float32Array(n * OPTIONS);
  for (let i = 0; i < n; i++) out.set(rowOf(i), i * OPTIONS);
  return out;
}

function study(n: number, runs: StudyRunInput[], bootstrap: StudyInput['bootstrap']): StudyInput {
  return {
    questionIds: Array.from({ length: n }, (_, i) => `q${i}`),
    answers: new Int32Array(n),
    options: OPTIONS,
    baseline: 'base',
    runs,
    bootstrap,
  };
}

/** Seeds that get each question right (confidently) or wrong at random, each seed on its own. */
function noisySeeds(ablation: string, n: number, seeds: number, hit: number, seed: number): StudyRunInput[] {
  const rand = lcg(seed);
  return Array.from({ length: seeds }, (_, s) => ({ ablation, seed: s, probs: probs(n, () => row(rand() < hit ? 0.7 : 0.1)) }));
}

/** `seeds` copies of one set of predictions. */
function sameSeeds(ablation: string, n: number, seeds: number, hit: number, seed: number): StudyRunInput[] {
  const rand = lcg(seed);
  const p = probs(n, () => row(rand() < hit ? 0.6 : 0.2));
  return Array.from({ length: seeds }, (_, s) => ({ ablation, seed: s, probs: p }));
}

test('seed multisets: C(2s−1, s) of them, each once, every count summing to s', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 10].map(seedMultisetCount), [1, 3, 10, 35, 126, 92378]);
  const three = seedMultisets(3);
  assert.equal(three.length, 10);
  assert.deepEqual(three[0], [3, 0, 0]);
  assert.ok(three.every((c) => c.length === 3 && c.reduce((a, b) => a + b, 0) === 3));
  assert.equal(new Set(three.map((c) => c.join())).size, 10);
  assert.throws(() => seedMultisetCount(0), AggregateInputError);
});

test('seed-aware bootstrap: 3 seeds build at most the 10 multiset ensembles, lazily; the all-once multiset is the observed ensemble', () => {
  const n = 200;
  const runs = noisySeeds('base', n, 3, 0.6, 1).map((r) => r.probs as Float32Array);
  const answers = new Int32Array(n);
  const base = new SeedEnsembles({ name: 'base', runs, method: 'mean-probabilities', options: OPTIONS, answers, k: 3 });
  const cand = new SeedEnsembles({ name: 'cand', runs: noisySeeds('cand', n, 3, 0.6, 2).map((r) => r.probs as Float32Array), method: 'mean-probabilities', options: OPTIONS, answers, k: 3 });
  assert.equal(base.ensemblesBuilt, 0);
  seedAwareBootstrap(base, cand, { resamples: 2000 });
  // 2,000 draws miss a given multiset (the rarest has probability 1/27) with probability < 1e-30.
  assert.equal(base.ensemblesBuilt, 10);
  assert.equal(cand.ensemblesBuilt, 10);
  assert.equal(base.cached, 10);
  assert.deepEqual(Array.from(base.scoresOf([1, 1, 1])), Array.from(perQuestionScores(ensemble(runs, 'mean-probabilities', OPTIONS), answers)));
  assert.equal(base.ensemblesBuilt, 10, 'a cached multiset is not rebuilt');
});

test('seed-aware bootstrap: past its cache budget an ensemble is rebuilt, with the same figures', () => {
  const n = 100;
  const answers = new Int32Array(n);
  const mk = (name: string, seed: number, bytes?: number) =>
    new SeedEnsembles({ name, runs: noisySeeds(name, n, 3, 0.6, seed).map((r) => r.probs as Float32Array), method: 'mean-probabilities', options: OPTIONS, answers, k: 3 }, bytes);
  const roomy = seedAwareBootstrap(mk('base', 1), mk('cand', 2), { resamples: 500, seed: 9 });
  const tightBase = mk('base', 1, 3 * n * 8);
  const tight = seedAwareBootstrap(tightBase, mk('cand', 2, 0), { resamples: 500, seed: 9 });
  assert.deepEqual(tight, roomy);
  assert.equal(tightBase.cached, 3);
  assert.ok(tightBase.ensemblesBuilt > 10);
});

test('aggregateStudy seed-aware: reproducible for a seed; another seed, another interval', () => {
  const n = 300;
  const runs = [...noisySeeds('base', n, 3, 0.55, 1), ...noisySeeds('cand', n, 3, 0.6, 2)];
  const a = aggregateStudy(study(n, runs, { resamples: 1000, seed: 5, resampleSeeds: true })).summary;
  const b = aggregateStudy(study(n, runs, { resamples: 1000, seed: 5, resampleSeeds: true })).summary;
  const c = aggregateStudy(study(n, runs, { resamples: 1000, seed: 6, resampleSeeds: true })).summary;
  const sa = a.ablations[1]?.vsBaseline?.seedAware;
  assert.ok(sa, 'seedAware present with 3 seeds on both sides');
  assert.deepEqual(b.ablations[1]?.vsBaseline?.seedAware, sa);
  assert.notDeepEqual(c.ablations[1]?.vsBaseline?.seedAware, sa);
});

test('aggregateStudy seed-aware: seeds that predict alike give exactly the question-only interval and p', () => {
  const n = 400;
  const runs = [...sameSeeds('base', n, 3, 0.6, 3), ...sameSeeds('cand', n, 3, 0.66, 4)];
  const v = aggregateStudy(study(n, runs, { resamples: 2000, seed: 11, resampleSeeds: true })).summary.ablations[1]?.vsBaseline;
  assert.ok(v?.seedAware);
  assert.deepEqual({ ciLow: v.seedAware.ciLow, ciHigh: v.seedAware.ciHigh, pValue: v.seedAware.pValue }, { ciLow: v.ciLow, ciHigh: v.ciHigh, pValue: v.pValue });
});

test('aggregateStudy seed-aware: a candidate whose seeds disagree wildly gets a strictly wider interval', () => {
  const n = 400;
  const runs = [...sameSeeds('base', n, 3, 0.6, 5), ...noisySeeds('cand', n, 3, 0.6, 6)];
  const v = aggregateStudy(study(n, runs, { resamples: 2000, seed: 0, resampleSeeds: true })).summary.ablations[1]?.vsBaseline;
  assert.ok(v?.seedAware);
  const q = v.ciHigh - v.ciLow;
  const s = v.seedAware.ciHigh - v.seedAware.ciLow;
  assert.ok(s > q * 1.2, `seed-aware width ${s} vs question-only ${q}`);
});

test('aggregateStudy seed-aware: one lucky seed makes the question-only p small, the seed-aware p not', () => {
  // Baseline: three alike seeds, right on half the questions (MAP@3 0.5 each). Candidate: one
  // lucky seed right everywhere, confidently, and two right on a quarter, hesitantly — the same
  // seed mean (0.5), but the lucky seed dominates the ensemble (MAP@3 1). Redraw the seeds and a
  // draw without the lucky one ((2/3)³ = 8/27 of them) is worse than the baseline.
  const n = 300;
  const half = probs(n, (i) => (i % 2 === 0 ? row(0.7) : [0.05, 0.35, 0.3, 0.3]));
  const lucky = probs(n, () => [0.97, 0.01, 0.01, 0.01]);
  const meh = probs(n, (i) => (i % 4 === 0 ? [0.28, 0.24, 0.24, 0.24] : [0.22, 0.26, 0.26, 0.26]));
  const runs: StudyRunInput[] = [
    ...[0, 1, 2].map((seed) => ({ ablation: 'base', seed, probs: half })),
    { ablation: 'cand', seed: 0, probs: lucky },
    { ablation: 'cand', seed: 1, probs: meh },
    { ablation: 'cand', seed: 2, probs: meh },
  ];
  const [base, cand] = aggregateStudy(study(n, runs, { resamples: 4000, seed: 2, resampleSeeds: true })).summary.ablations;
  assert.equal(base?.seedMean, 0.5);
  assert.equal(cand?.seedMean, 0.5);
  assert.equal(cand?.ensembleMapAtK, 1);
  const v = cand?.vsBaseline;
  assert.ok(v?.seedAware);
  assert.ok(v.pValue < 0.001, `question-only p ${v.pValue}`);
  assert.ok(v.ciLow > 0);
  // Expected p ≈ 8/27 ≈ 0.30; 4,000 draws put it within ±0.03 (4 s.e.).
  assert.ok(Math.abs(v.seedAware.pValue - 8 / 27) < 0.03, `seed-aware p ${v.seedAware.pValue}`);
  assert.ok(v.seedAware.ciLow < 0 && v.seedAware.ciHigh > 0.4, `seed-aware CI [${v.seedAware.ciLow}, ${v.seedAware.ciHigh}]`);
});

test('aggregateStudy seed-aware: absent with one seed on either side; Holm over the ablations that have it', () => {
  const n = 200;
  const runs = [
    ...noisySeeds('base', n, 3, 0.6, 1),
    ...noisySeeds('a', n, 3, 0.65, 2),
    ...noisySeeds('b', n, 2, 0.62, 3),
    ...noisySeeds('solo', n, 1, 0.7, 4),
    { ablation: 'b', seed: 9, probs: null },
  ];
  const s = aggregateStudy(study(n, runs, { resamples: 500, resampleSeeds: true })).summary;
  const [, a, b, solo] = s.ablations;
  assert.ok(solo?.vsBaseline && solo.vsBaseline.seedAware === undefined, 'one seed: no seed-aware figures');
  assert.ok(a?.vsBaseline?.seedAware && b?.vsBaseline?.seedAware);
  const adj = holm([a.vsBaseline.seedAware.pValue, b.vsBaseline.seedAware.pValue]);
  assert.equal(a.vsBaseline.seedAware.pValueHolm, adj[0]);
  assert.equal(b.vsBaseline.seedAware.pValueHolm, adj[1]);

  const oneBase = aggregateStudy(study(n, [...noisySeeds('base', n, 1, 0.6, 1), ...noisySeeds('a', n, 3, 0.65, 2)], { resamples: 200, resampleSeeds: true })).summary;
  assert.ok(oneBase.ablations[1]?.vsBaseline && oneBase.ablations[1].vsBaseline.seedAware === undefined, 'baseline with one seed: none');
});

test('aggregateStudy: resampleSeeds off or absent leaves every figure byte-identical; on, it only adds seedAware', () => {
  const n = 250;
  const runs = [...noisySeeds('base', n, 3, 0.55, 1), ...noisySeeds('a', n, 3, 0.6, 2), ...noisySeeds('b', n, 2, 0.5, 3)];
  const absent = JSON.stringify(aggregateStudy(study(n, runs, { resamples: 500, seed: 4 })).summary);
  const off = JSON.stringify(aggregateStudy(study(n, runs, { resamples: 500, seed: 4, resampleSeeds: false })).summary);
  assert.equal(off, absent);
  assert.ok(!absent.includes('seedAware'));
  const on = aggregateStudy(study(n, runs, { resamples: 500, seed: 4, resampleSeeds: true })).summary;
  assert.ok(on.ablations.slice(1).every((a) => a.vsBaseline?.seedAware !== undefined));
  const stripped = JSON.stringify(on, (key, value: unknown) => (key === 'seedAware' ? undefined : value));
  assert.equal(stripped, absent);
  assert.throws(
    () => aggregateStudy(study(n, runs, { resampleSeeds: 'yes' as unknown as boolean })),
    (e: unknown) => e instanceof AggregateInputError && e.field === 'bootstrap.resampleSeeds',
  );
});
