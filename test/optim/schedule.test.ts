// Learning-rate schedules and the batch-size scaling rule, against values worked out by hand from
// HF's get_linear_schedule_with_warmup, DeBERTa's warmup_linear and science.md §2.1.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { resolvedTrainingSchema, validateFineTuneJob } from '../../api/mod.js';
import { runLocalStudy, type RunCurves } from '../../controller/mod.js';
import {
  InvalidOptimOptionError,
  SCHEDULE_NAMES,
  constantSchedule,
  cosineWarmupDecay,
  debertaWarmupLinear,
  linearWarmupDecay,
  makeSchedule,
  scaledLearningRate,
  warmupStepsFor,
} from '../../trainer/optim/mod.js';
import { tinyStudy } from '../support/tiny-study.js';

function assertNear(actual: number, expected: number, what: string, rel = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected) + 1e-300, `${what}: ${actual} vs ${expected}`);
}

describe('linearWarmupDecay (HF get_linear_schedule_with_warmup, 0-based update index)', () => {
  test('warms up from 0, peaks at step = warmup, decays to 1/(T−W) at the last update and 0 after', () => {
    const s = linearWarmupDecay({ totalSteps: 10, warmupSteps: 2 });
    const expected: [number, number][] = [[0, 0], [1, 0.5], [2, 1], [3, 7 / 8], [6, 4 / 8], [9, 1 / 8], [10, 0], [12, 0]];
    for (const [step, m] of expected) assertNear(s.multiplier(step), m, `step ${step}`);
  });

  test('without warm-up the first update has the full rate', () => {
    const s = linearWarmupDecay({ totalSteps: 4 });
    assert.deepEqual([0, 1, 2, 3, 4].map((k) => s.multiplier(k)), [1, 0.75, 0.5, 0.25, 0]);
    assert.equal(s.warmupSteps, 0);
  });

  test('a warm-up ratio becomes ceil(T·ratio) steps in double precision, as HF rounds it', () => {
    assert.equal(warmupStepsFor(45, 0.1), 5);
    assert.equal(warmupStepsFor(100, 0.1), 10);
    // 100·0.07 is 7.000000000000001 in binary floating point; HF's math.ceil gives 8, and so do we.
    assert.equal(warmupStepsFor(100, 0.07), 8);
    const s = linearWarmupDecay({ totalSteps: 45, warmupRatio: 0.1 });
    assert.equal(s.warmupSteps, 5);
    assertNear(s.multiplier(4), 4 / 5, 'last warm-up step');
    assertNear(s.multiplier(5), 1, 'peak');
    assertNear(s.multiplier(44), 1 / 40, 'last update');
  });

  test('rejects inconsistent options, naming the field', () => {
    assert.throws(() => linearWarmupDecay({ totalSteps: 0 }), /linear\.totalSteps/);
    assert.throws(() => linearWarmupDecay({ totalSteps: 10, warmupSteps: 11 }), /linear\.warmupSteps/);
    assert.throws(() => linearWarmupDecay({ totalSteps: 10, warmupSteps: 1, warmupRatio: 0.1 }), InvalidOptimOptionError);
    assert.throws(() => linearWarmupDecay({ totalSteps: 10, warmupRatio: 1.5 }), /warmupRatio/);
  });
});

describe('debertaWarmupLinear (DeBERTa repo warmup_linear)', () => {
  test('decay is not shifted by the warm-up, so the rate drops to 1 − w right after it', () => {
    const s = debertaWarmupLinear({ totalSteps: 10, warmupSteps: 2 });
    const expected: [number, number][] = [[0, 0], [1, 0.5], [2, 0.8], [5, 0.5], [9, 0.1], [10, 0], [11, 0.5]];
    for (const [step, m] of expected) assertNear(s.multiplier(step), m, `step ${step}`);
  });

  test('a ratio is the warm-up fraction directly', () => {
    const s = debertaWarmupLinear({ totalSteps: 40, warmupRatio: 0.1 });
    assertNear(s.multiplier(2), 0.5, 'mid warm-up');
    assertNear(s.multiplier(4), 0.9, 'after warm-up');
  });
});

describe('cosineWarmupDecay (HF get_cosine_schedule_with_warmup)', () => {
  test('warms up linearly, then follows half a cosine from 1 at the peak to 0 at T', () => {
    const s = cosineWarmupDecay({ totalSteps: 10, warmupSteps: 2 });
    const expected: [number, number][] = [[0, 0], [1, 0.5], [2, 1], [4, (1 + Math.SQRT1_2) / 2], [6, 0.5], [8, (1 - Math.SQRT1_2) / 2], [10, 0]];
    for (const [step, m] of expected) assertNear(s.multiplier(step), m, `step ${step}`, 1e-12);
    assert.ok(s.multiplier(9) > 0 && s.multiplier(9) < s.multiplier(8));
  });
});

describe('constant and makeSchedule', () => {
  test('constant is 1 at every step; makeSchedule picks by training.schedule name', () => {
    const c = constantSchedule({ totalSteps: 3 });
    assert.deepEqual([0, 1, 2, 7].map((k) => c.multiplier(k)), [1, 1, 1, 1]);
    assert.equal(makeSchedule('linear', { totalSteps: 10, warmupSteps: 2 }).multiplier(1), 0.5);
    assert.equal(makeSchedule('warmup_linear', { totalSteps: 10, warmupSteps: 2 }).multiplier(2), 0.8);
    assert.equal(makeSchedule('constant', { totalSteps: 10 }).multiplier(0), 1);
    assert.equal(makeSchedule('cosine', { totalSteps: 10, warmupSteps: 2 }).multiplier(6), 0.5);
    assert.throws(() => makeSchedule('polynomial' as 'linear', { totalSteps: 10 }), /schedule/);
  });
});

describe('training.schedule from the FineTuneJob to the trainer', () => {
  test('the API accepts exactly the schedules the trainer has', () => {
    assert.deepEqual(resolvedTrainingSchema.properties?.['schedule']?.enum, [...SCHEDULE_NAMES]);
  });

  test('a job with schedule warmup_linear validates, and its run trains with the DeBERTa warmup_linear rates', { timeout: 300_000 }, async () => {
    // 16 questions at batch 8: T = 2 steps, W = ceil(2 · 0.5) = 1. DeBERTa gives 0, 1 − 1/2; HF's
    // linear would give 0, 1 — so the rates tell the two apart.
    const study = await tinyStudy({ name: 'warmup-linear', ablations: [{ name: 'full' }], train: 16, training: { schedule: 'warmup_linear', warmupRatio: 0.5 } });
    assert.deepEqual(validateFineTuneJob(parse(readFileSync(study.jobFile, 'utf8'))), []);
    const expected = debertaWarmupLinear({ totalSteps: 2, warmupRatio: 0.5 });
    assert.notEqual(expected.multiplier(1), linearWarmupDecay({ totalSteps: 2, warmupRatio: 0.5 }).multiplier(1));

    await runLocalStudy({ file: study.jobFile, out: study.outDir, inProcess: true });
    const curves = JSON.parse(readFileSync(join(study.outDir, 'runs', 'full-seed0', 'curves.json'), 'utf8')) as RunCurves;
    const train = curves.points.filter((p) => p.phase === 'train');
    assert.deepEqual(train.map((p) => p.step), [1, 2]);
    for (const p of train) {
      const rates = Object.entries(p.learningRates);
      assert.ok(rates.length > 0, `step ${p.step} has learning rates`);
      // The curve's step n is the update with 0-based index n − 1; the tiny study's rate is 1e-3.
      for (const [group, lr] of rates) assertNear(lr, 1e-3 * expected.multiplier(p.step - 1), `step ${p.step} ${group}`, 1e-6);
    }
  });
});

describe('scaledLearningRate', () => {
  test('linear scaling of 1e-4 at 256 to 45 questions gives 1.7578125e-5', () => {
    assertNear(scaledLearningRate({ base: 1e-4, baseBatchSize: 256, batchSize: 45, scaling: 'linear' }), 1.7578125e-5, 'linear');
    assertNear(scaledLearningRate({ base: 1e-4, baseBatchSize: 256, batchSize: 45 }), 1.7578125e-5, 'default scaling');
  });

  test('sqrt scaling gives 1e-4·√(45/256) ≈ 4.19e-5', () => {
    const lr = scaledLearningRate({ base: 1e-4, baseBatchSize: 256, batchSize: 45, scaling: 'sqrt' });
    assertNear(lr, (1e-4 * Math.sqrt(45)) / 16, 'sqrt');
    assert.equal(lr.toExponential(2), '4.19e-5');
  });

  test('a fixed value passes through; bad values name the field', () => {
    assert.equal(scaledLearningRate({ value: 2e-5 }), 2e-5);
    assert.throws(() => scaledLearningRate({ value: 0 }), /learningRate\.value/);
    assert.throws(() => scaledLearningRate({ base: 1e-4, baseBatchSize: 0, batchSize: 45 }), /baseBatchSize/);
    assert.throws(() => scaledLearningRate({ base: 1e-4, baseBatchSize: 256, batchSize: 45, scaling: 'cube' as 'linear' }), /scaling/);
  });
});
