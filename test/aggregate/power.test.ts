import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AggregateInputError, normalQuantile, pairedBootstrap, planStudy, powerAnalysis, scoreSd } from '../../controller/aggregate/mod.js';
import { lcg, simulate, truth } from './sim.js';

const close = (a: number, b: number, eps: number) => assert.ok(Math.abs(a - b) <= eps, `${a} ≠ ${b} (±${eps})`);
/** z_{0.975} + z_{0.8}, from tables. */
const Z = 1.959963984540054 + 0.8416212335729143;

test('powerAnalysis: a small case against hand-computed values', () => {
  // d = [0, 1, 0.5, -0.5]: mean 0.25, sample variance 1.25/3, sd 0.645497, SE = sd/2.
  const r = powerAnalysis([1, 0, 0.5, 1], [1, 1, 1, 0.5]);
  close(r.se, 0.3227486121839514, 1e-12);
  close(r.minDetectable, Z * 0.3227486121839514, 1e-9);
  close(r.minDetectable, 0.90420774, 1e-7);
  // (Z · 0.645497 / 0.25)² = 52.33 → 53 questions.
  assert.equal(r.questionsNeeded, 53);
  assert.equal(powerAnalysis([1, 0, 1], [1, 0, 1]).questionsNeeded, null);
  // Other levels move the multiplier: α = 0.01, power 0.9.
  const strict = powerAnalysis([1, 0, 0.5, 1], [1, 1, 1, 0.5], { alpha: 0.01, power: 0.9 });
  close(strict.minDetectable, (normalQuantile(0.995) + normalQuantile(0.9)) * r.se, 1e-12);
  assert.throws(() => powerAnalysis([1], [1]), AggregateInputError);
});

test('planStudy: the rank model and the paired variance, hand-computed', () => {
  // MAP 0.74, 5 options, k 3: p1 = (0.74 − 5/24)/(19/24) = 0.671579; E[X²] = p1 + (1−p1)/4·(1/4+1/9)
  // = 0.701228; Var = 0.701228 − 0.74² = 0.153628.
  close(scoreSd(0.74, 5, 3) ** 2, 0.1536280702, 1e-9);
  const p = planStudy({ questions: 1000, map: 0.74, delta: 0.01 });
  // sd_B at 0.75 is √0.150219; Var(d) = 0.153628 + 0.150219 − 2·0.8·0.391954·0.387581 = 0.060784.
  close(p.sdDifference ** 2, 0.060784, 2e-6);
  close(p.se, Math.sqrt(0.060784 / 1000), 1e-6);
  // n = Var(d)·Z²/δ² = 4770.9 → 4771.
  assert.equal(p.questionsNeeded, 4771);
  close(p.achievedPower, 0.2497, 5e-4);
  assert.equal(p.correlation, 0.8);
  assert.ok(p.assumptions.some((a) => /correlation 0.8/.test(a)));
  // More correlation, fewer questions; seed noise sets a floor that more seeds lower.
  assert.ok((planStudy({ questions: 1000, map: 0.74, delta: 0.01, correlation: 0.9 }).questionsNeeded ?? Infinity) < 4771);
  assert.equal(planStudy({ questions: 1000, map: 0.74, delta: 0.01, seedStd: 0.01, seeds: 1 }).questionsNeeded, null);
  const few = planStudy({ questions: 1000, map: 0.74, delta: 0.01, seedStd: 0.002, seeds: 3 });
  const many = planStudy({ questions: 1000, map: 0.74, delta: 0.01, seedStd: 0.002, seeds: 9 });
  assert.ok((many.questionsNeeded ?? Infinity) < (few.questionsNeeded ?? Infinity) && (few.questionsNeeded ?? 0) > 4771);
  assert.throws(() => planStudy({ questions: 1000, map: 0.1, delta: 0.01 }), AggregateInputError);
  assert.throws(() => planStudy({ questions: 1000, map: 0.74, delta: 0 }), (e: unknown) => e instanceof AggregateInputError && e.field === 'delta');
});

test('planStudy: at the stated minimum detectable difference the achieved power is the asked power', () => {
  const p = planStudy({ questions: 2000, map: 0.7, delta: 0.02 });
  const atMde = planStudy({ questions: 2000, map: 0.7, delta: p.minDetectable });
  close(atMde.achievedPower, 0.8, 1e-3);
});

test('powerAnalysis: a true difference equal to the stated minimum detectable one is detected in about 80% of studies', () => {
  const n = 400;
  const q = 0.3;
  // Choose the candidate's gain t so that the true Δ equals Z·SE(Δ) at n questions (bisection
  // on the exact moments of the simulation model).
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const t = (lo + hi) / 2;
    const { mean, variance } = truth(q, t);
    if (mean < Z * Math.sqrt(variance / n)) lo = t;
    else hi = t;
  }
  const t = (lo + hi) / 2;
  const trueDelta = truth(q, t).mean;
  const rand = lcg(99);
  const studies = 300;
  let detected = 0;
  let mdeSum = 0;
  for (let s = 0; s < studies; s++) {
    const { base, cand } = simulate(n, q, t, rand);
    mdeSum += powerAnalysis(base, cand).minDetectable;
    const r = pairedBootstrap(base, cand, { resamples: 500, seed: s });
    if (r.ciLow > 0 || r.ciHigh < 0) detected++;
  }
  // The stated MDE estimates the true one (it is what a user reads off one study).
  close(mdeSum / studies, trueDelta, 0.05 * trueDelta);
  // 300 studies estimate a rate of 0.8 to ±0.023 (1 s.e.); ±0.08 is 3.5 s.e.
  const rate = detected / studies;
  assert.ok(rate > 0.72 && rate < 0.88, `detected in ${detected}/${studies}`);
});
