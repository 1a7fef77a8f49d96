import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  aggregateStudy,
  AggregateInputError,
  ensemble,
  holm,
  mean,
  pairSeeds,
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

/** One ablation's runs as the seed-aware bootstrap takes them, seeds 0, 1, … unless given. */
function seedSet(name: string, runs: Float32Array[], bytes?: number, seeds = runs.map((_, s) => s)): SeedEnsembles {
  return new SeedEnsembles({ name, seeds, runs, method: 'mean-probabilities', options: OPTIONS, answers: new Int32Array((runs[0]?.length ?? 0) / OPTIONS), k: 3 }, bytes);
}

const probsOf = (runs: StudyRunInput[]): Float32Array[] => runs.map((r) => r.probs as Float32Array);

test('seed multisets: C(2s−1, s) of them, each once, every count summing to s', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 10].map(seedMultisetCount), [1, 3, 10, 35, 126, 92378]);
  const three = seedMultisets(3);
  assert.equal(three.length, 10);
  assert.deepEqual(three[0], [3, 0, 0]);
  assert.ok(three.every((c) => c.length === 3 && c.reduce((a, b) => a + b, 0) === 3));
  assert.equal(new Set(three.map((c) => c.join())).size, 10);
  assert.throws(() => seedMultisetCount(0), AggregateInputError);
});

test('seed-aware bootstrap: 3 paired seeds build the 10 multiset ensembles per side, lazily, the baseline\'s once for all comparisons; the all-once multiset is the observed ensemble', () => {
  const n = 200;
  const runs = probsOf(noisySeeds('base', n, 3, 0.6, 1));
  const base = seedSet('base', runs);
  const cand = seedSet('cand', probsOf(noisySeeds('cand', n, 3, 0.6, 2)));
  assert.equal(base.ensemblesBuilt, 0);
  seedAwareBootstrap(base, cand, { resamples: 2000 });
  // 2,000 draws miss a given multiset (the rarest has probability 1/27) with probability < 1e-30.
  assert.equal(base.ensemblesBuilt, 10);
  assert.equal(cand.ensemblesBuilt, 10);
  assert.equal(base.cached, 10);
  // A second comparison with the same baseline draws the same multisets: nothing new is built.
  seedAwareBootstrap(base, seedSet('other', probsOf(noisySeeds('other', n, 3, 0.7, 3))), { resamples: 2000 });
  assert.equal(base.ensemblesBuilt, 10);
  assert.deepEqual(Array.from(base.scoresOf([1, 1, 1])), Array.from(perQuestionScores(ensemble(runs, 'mean-probabilities', OPTIONS), new Int32Array(n))));
  assert.equal(base.ensemblesBuilt, 10, 'a cached multiset is not rebuilt');
});

test('seed-aware bootstrap: past its cache budget an ensemble is rebuilt, with the same figures', () => {
  const n = 100;
  const mk = (name: string, seed: number, bytes?: number) => seedSet(name, probsOf(noisySeeds(name, n, 3, 0.6, seed)), bytes);
  const roomy = seedAwareBootstrap(mk('base', 1), mk('cand', 2), { resamples: 500, seed: 9 });
  const tightBase = mk('base', 1, 3 * n * 8);
  const tight = seedAwareBootstrap(tightBase, mk('cand', 2, 0), { resamples: 500, seed: 9 });
  assert.deepEqual(tight, roomy);
  assert.equal(tightBase.cached, 3);
  assert.ok(tightBase.ensemblesBuilt > 10);
});

test('seed-aware bootstrap: seeds are named by value, each once; fewer than 2 common seeds is refused by name', () => {
  const runs = probsOf(noisySeeds('base', 10, 3, 0.6, 1));
  assert.throws(() => seedSet('base', runs, undefined, [0, 1, 1]), (e: unknown) => e instanceof AggregateInputError && e.field === 'seedAware.base.seeds[2]' && /twice/.test(e.message));
  assert.throws(() => seedSet('base', runs, undefined, [0, 1]), (e: unknown) => e instanceof AggregateInputError && e.field === 'seedAware.base.seeds');
  assert.throws(
    () => seedAwareBootstrap(seedSet('base', runs), seedSet('cand', runs, undefined, [2, 3, 4]), { resamples: 10 }),
    (e: unknown) => e instanceof AggregateInputError && e.field === 'seedAware.cand.seeds' && /share 1 seed;/.test(e.message),
  );
  assert.deepEqual(pairSeeds([0, 1, 2], [3, 1, 0]), { common: [0, 1], missingInCandidate: [2], missingInBaseline: [3] });
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

test('aggregateStudy seed-aware: noisy seeds on both sides, the candidate better by the same gain on every seed: the interval is the question-only one', () => {
  // Each baseline seed is right at random (60 %) on 4 of 5 questions and wrong on the fifth; the
  // candidate's seed s is the baseline's seed s, except right on every fifth question: each
  // candidate seed beats its baseline seed by exactly 0.2. Pairing draws the same seeds on both
  // sides, so every replicate's per-question differences are the observed ones.
  const n = 400;
  const rand = lcg(21);
  const runs: StudyRunInput[] = [];
  for (let seed = 0; seed < 3; seed++) {
    const base = probs(n, (i) => row(i % 5 === 0 || rand() >= 0.6 ? 0.1 : 0.7));
    const cand = probs(n, (i) => (i % 5 === 0 ? [0.97, 0.01, 0.01, 0.01] : Array.from(base.subarray(i * OPTIONS, (i + 1) * OPTIONS))));
    runs.push({ ablation: 'base', seed, probs: base }, { ablation: 'cand', seed, probs: cand });
  }
  const agg = aggregateStudy(study(n, runs, { resamples: 2000, seed: 3, resampleSeeds: true }));
  const v = agg.summary.ablations[1]?.vsBaseline;
  assert.ok(v?.seedAware);
  const perSeed = agg.summary.runs.map((r) => r.mapAtK ?? NaN);
  for (let s = 0; s < 3; s++) assert.ok(Math.abs((perSeed[2 * s + 1] ?? 0) - (perSeed[2 * s] ?? 0) - 0.2) < 1e-12, 'the gain is 0.2 on every seed');
  assert.deepEqual({ ciLow: v.seedAware.ciLow, ciHigh: v.seedAware.ciHigh, pValue: v.seedAware.pValue }, { ciLow: v.ciLow, ciHigh: v.ciHigh, pValue: v.pValue });
  // What drawing each side's seeds on its own would have mixed in: an ensemble of one distinct
  // seed against one of three differs by the ensembling gain, several times this interval's width.
  const one = seedSet('base', probsOf(runs.filter((r) => r.ablation === 'base')));
  const gain = mean(one.scoresOf([1, 1, 1])) - mean(one.scoresOf([3, 0, 0]));
  assert.ok(gain > 2 * (v.ciHigh - v.ciLow), `ensembling gain ${gain} vs CI width ${v.ciHigh - v.ciLow}`);
});

test('aggregateStudy seed-aware: seeds are paired by value; a seed only one side has is left out', () => {
  const n = 300;
  const base = noisySeeds('base', n, 3, 0.55, 1);
  const cand = noisySeeds('cand', n, 3, 0.6, 2);
  const bootstrap = { resamples: 1000, seed: 7, resampleSeeds: true };
  const seedAwareOf = (runs: StudyRunInput[]) => aggregateStudy(study(n, runs, bootstrap)).summary.ablations[1]?.vsBaseline?.seedAware;
  // The candidate's seed 2 failed: the figure is the one of a study where both have seeds 0 and 1.
  const failed = seedAwareOf([...base, ...cand.slice(0, 2), { ablation: 'cand', seed: 2, probs: null }]);
  assert.ok(failed, 'two common seeds are enough');
  assert.deepEqual(failed, seedAwareOf([...base.slice(0, 2), ...cand.slice(0, 2)]));
  // Matched by value, not by position: the candidate trained seeds 1, 2, 3 — paired on 1 and 2.
  const shifted = cand.map((r, i) => ({ ...r, seed: i + 1 }));
  assert.deepEqual(seedAwareOf([...base, ...shifted]), seedAwareOf([...base.slice(1), ...shifted.slice(0, 2)]));
  // One seed in common: absent (no seed variance to resample), though both sides have three.
  const apart = seedAwareOf([...base, ...cand.map((r, i) => ({ ...r, seed: i + 2 }))]);
  assert.equal(apart, undefined);
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
