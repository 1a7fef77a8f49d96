import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applySchemaDefaults,
  effectiveLearningRate,
  expandAblations,
  expandedAblationName,
  expandRuns,
  fineTuneJobSchema,
  withDefaults,
  type FineTuneJobSpec,
} from '../../api/mod.js';

const minimal = (): FineTuneJobSpec => ({
  model: { uri: './model' },
  data: { train: { uri: 'train.csv' }, validation: { uri: 'val.csv' } },
  ablations: [{ name: 'full' }, { name: 'frozen-embeddings', training: { freezeEmbeddings: true } }],
});

test('withDefaults fills every default DESIGN.md shows', () => {
  const s = withDefaults(minimal());
  assert.deepEqual(s.training, {
    epochs: 1,
    batchSize: 45,
    gradientAccumulationSteps: 1,
    learningRate: { base: 1.0e-4, baseBatchSize: 256, scaling: 'linear' },
    warmupRatio: 0.1,
    schedule: 'linear',
    optimizer: { name: 'adamw', betas: [0.9, 0.999], eps: 1.0e-6, weightDecay: 0.01 },
    gradientClipNorm: 1.0,
    headWarmup: { steps: 200, learningRate: 1.0e-3 },
    freezeEmbeddings: false,
    freezeEmbeddingsScope: 'word',
    layerwiseLearningRate: null,
    backend: 'auto',
    checkpointEverySteps: 50,
    evalBatchSize: 16,
  });
  assert.equal(s.model.maxLength, 256);
  assert.equal(s.data.numOptions, 5);
  assert.deepEqual(s.seeds, [0, 1, 2]);
  assert.deepEqual(s.execution, { parallelism: 4, backoffLimit: 2, activeDeadlineSeconds: 86400 });
  assert.equal(s.suspend, false);
  assert.deepEqual(s.scheduling, { queueName: null, priorityClassName: null });
  assert.deepEqual(s.evaluation, {
    k: 3,
    ensemble: 'mean-probabilities',
    baseline: 'full',
    bootstrap: { resamples: 10000, confidence: 0.95, seed: 0 },
  });
  // The reference recipe: 1e-4 at batch 256, scaled linearly to 45 questions a step.
  assert.ok(Math.abs(effectiveLearningRate(s.training) - 1.7578125e-5) < 1e-12);
});

test('the schema defaults the API server applies equal withDefaults', () => {
  const server = applySchemaDefaults(fineTuneJobSchema, { spec: minimal() }).spec as unknown as Record<string, unknown>;
  const offline = withDefaults(minimal()) as unknown as Record<string, unknown>;
  for (const key of ['model', 'data', 'training', 'seeds', 'execution', 'suspend']) {
    assert.deepEqual(server[key], offline[key], `spec.${key}`);
  }
  const { baseline: _baseline, ...evaluation } = offline['evaluation'] as Record<string, unknown>;
  assert.deepEqual(server['evaluation'], evaluation);
});

test('withDefaults leaves given values and does not modify its input', () => {
  const spec = { ...minimal(), seeds: [7], training: { learningRate: { value: 2e-5 }, layerwiseLearningRate: { schedule: 'cosine' as const, minRatio: 0.5 } } };
  const before = structuredClone(spec);
  const s = withDefaults(spec);
  assert.deepEqual(spec, before);
  assert.deepEqual(s.seeds, [7]);
  assert.deepEqual(s.training.learningRate, { value: 2e-5 });
  assert.deepEqual(s.training.layerwiseLearningRate, { schedule: 'cosine', minRatio: 0.5 });
});

test('expandRuns: ablation order then seed order, overlays deep-merged over spec.training', () => {
  const spec: FineTuneJobSpec = {
    ...minimal(),
    training: { epochs: 2, headWarmup: { steps: 10 }, learningRate: { base: 2e-4, baseBatchSize: 128, scaling: 'sqrt' } },
    ablations: [
      { name: 'b-full' },
      { name: 'a-lr', training: { headWarmup: { learningRate: 5e-3 }, learningRate: { value: 3e-5 }, layerwiseLearningRate: { schedule: 'cosine', minRatio: 0.2 } } },
      { name: 'c-base', training: { learningRate: { base: 1e-3 } } },
      { name: 'd-ratio', training: { layerwiseLearningRate: { minRatio: 0.3 } } },
    ],
    seeds: [5, 1],
  };
  const runs = expandRuns(spec);
  assert.deepEqual(runs.map((r) => `${r.ablation}/${r.seed}`), ['b-full/5', 'b-full/1', 'a-lr/5', 'a-lr/1', 'c-base/5', 'c-base/1', 'd-ratio/5', 'd-ratio/1']);
  const full = runs[0]!.training;
  assert.equal(full.epochs, 2);
  assert.deepEqual(full.headWarmup, { steps: 10, learningRate: 1e-3 });
  const lr = runs[2]!.training;
  assert.deepEqual(lr.headWarmup, { steps: 10, learningRate: 5e-3 }, 'nested objects merge key by key');
  assert.deepEqual(lr.learningRate, { value: 3e-5 }, 'a learning rate of another form replaces, never mixes');
  assert.deepEqual(lr.layerwiseLearningRate, { schedule: 'cosine', minRatio: 0.2 });
  assert.equal(lr.epochs, 2);
  assert.deepEqual(runs[4]!.training.learningRate, { base: 1e-3, baseBatchSize: 128, scaling: 'sqrt' }, 'same form merges');
  assert.deepEqual(runs[6]!.training.layerwiseLearningRate, { minRatio: 0.3 }, 'over null an overlay replaces (and validation then asks for a schedule)');
  const tweak = expandRuns({ ...spec, training: { layerwiseLearningRate: { schedule: 'geometric', decay: 0.9 } } })[6]!.training;
  assert.deepEqual(tweak.layerwiseLearningRate, { schedule: 'geometric', decay: 0.9, minRatio: 0.3 }, 'an overlay that names no form merges');
  runs[0]!.training.epochs = 99;
  assert.equal(runs[1]!.training.epochs, 2, 'runs do not share config objects');
});

test('matrix expansion: Cartesian product in key order, deterministic DNS-label names', () => {
  const expanded = expandAblations({
    ablations: [
      { name: 'base' },
      {
        name: 'sweep',
        training: { freezeEmbeddings: true },
        matrix: { 'learningRate.value': [1e-5, 2.5e-5], 'layerwiseLearningRate.minRatio': [0.1, 0.5], freezeEmbeddingsScope: ['word'] },
      },
    ],
  });
  assert.deepEqual(expanded.map((a) => a.name), [
    'base',
    expandedAblationName(['sweep', 'learningRate.value', 1e-5, 'layerwiseLearningRate.minRatio', 0.1, 'freezeEmbeddingsScope', 'word']),
    expandedAblationName(['sweep', 'learningRate.value', 1e-5, 'layerwiseLearningRate.minRatio', 0.5, 'freezeEmbeddingsScope', 'word']),
    expandedAblationName(['sweep', 'learningRate.value', 2.5e-5, 'layerwiseLearningRate.minRatio', 0.1, 'freezeEmbeddingsScope', 'word']),
    expandedAblationName(['sweep', 'learningRate.value', 2.5e-5, 'layerwiseLearningRate.minRatio', 0.5, 'freezeEmbeddingsScope', 'word']),
  ]);
  assert.match(expanded[1]!.name, /^sweep-learning-rate-value-1e-5-[-a-z0-9]*-[0-9a-f]{8}$/);
  for (const a of expanded) {
    assert.match(a.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    assert.ok(a.name.length <= 63, a.name);
  }
  const third = expanded[3]!;
  assert.deepEqual(third.training, { freezeEmbeddings: true, learningRate: { value: 2.5e-5 }, layerwiseLearningRate: { minRatio: 0.1 }, freezeEmbeddingsScope: 'word' });
  assert.equal(new Set(expanded.map((a) => a.name)).size, expanded.length, 'long names stay distinct after truncation');
});

test('matrix names: short ones spelled out, long ones cut with a stable hash suffix', () => {
  assert.equal(expandedAblationName(['lr', 'learningRate.value', 2e-5]), 'lr-learning-rate-value-2e-5');
  assert.equal(expandedAblationName(['w', 'warmupRatio', 0.05, 'freezeEmbeddings', true]), 'w-warmup-ratio-0-05-freeze-embeddings-true');
  const long = expandedAblationName(['a'.repeat(40), 'layerwiseLearningRate', { schedule: 'geometric', decay: 0.9 }]);
  assert.equal(long.length, 63);
  assert.match(long, /^a{40}-layerwise-[a-z-]*[a-z]-[0-9a-f]{8}$/);
  assert.equal(long, expandedAblationName(['a'.repeat(40), 'layerwiseLearningRate', { schedule: 'geometric', decay: 0.9 }]));
  assert.notEqual(long, expandedAblationName(['a'.repeat(40), 'layerwiseLearningRate', { schedule: 'geometric', decay: 0.8 }]));
});

test('the default baseline is the first expanded ablation', () => {
  const s = withDefaults({ ...minimal(), ablations: [{ name: 'sweep', matrix: { epochs: [2, 3] } }] });
  assert.equal(s.evaluation.baseline, 'sweep-epochs-2');
});

test('withDefaults: bootstrap.resampleSeeds passes through when given and stays absent otherwise', () => {
  assert.equal('resampleSeeds' in withDefaults(minimal()).evaluation.bootstrap, false);
  const on = withDefaults({ ...minimal(), evaluation: { bootstrap: { resampleSeeds: true } } });
  assert.deepEqual(on.evaluation.bootstrap, { resamples: 10000, confidence: 0.95, seed: 0, resampleSeeds: true });
  assert.equal(withDefaults({ ...minimal(), evaluation: { bootstrap: { resampleSeeds: false } } }).evaluation.bootstrap.resampleSeeds, false);
});
