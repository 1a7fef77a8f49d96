// Shared fixtures for the operator tests: a tiny random DeBERTa-v3 model with the spm-tiny
// tokenizer, tiny question files, and a FineTuneJob that trains it in seconds per run.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { DebertaForMultipleChoice, parseConfig } from '../../trainer/mod.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const DEMO_DATA = fileURLToPath(new URL('../../examples/science-exam/data/', import.meta.url));

/** Writes `<dir>/model` (config, random weights, spm.model) and `<dir>/data/{train,validation}.csv`. */
export async function writeTinyStudyFiles(dir: string, opts: { train?: number; validation?: number } = {}): Promise<void> {
  await tf.setBackend('cpu');
  const config = JSON.parse(readFileSync(join(FIXTURES, 'deberta-v3-tiny', 'config.json'), 'utf8')) as Record<string, unknown>;
  // spm-tiny has 400 pieces; the fixture's 320-row embedding would not cover them.
  config['vocab_size'] = 400;
  const model = DebertaForMultipleChoice.create(parseConfig(config), { seed: 7 });
  await model.save(join(dir, 'model'));
  model.dispose();
  copyFileSync(join(FIXTURES, 'spm-tiny', 'spm.model'), join(dir, 'model', 'spm.model'));
  mkdirSync(join(dir, 'data'), { recursive: true });
  const take = (file: string, n: number): string => readFileSync(join(DEMO_DATA, file), 'utf8').trim().split('\n').slice(0, n + 1).join('\n') + '\n';
  writeFileSync(join(dir, 'data', 'train.csv'), take('train.csv', opts.train ?? 8));
  writeFileSync(join(dir, 'data', 'validation.csv'), take('validation.csv', opts.validation ?? 12));
}

/** A FineTuneJob over the tiny files: 3 ablations × `seeds`, relative URIs (resolved by --base-dir). */
export function tinyJobYaml(name: string, opts: { seeds?: number[]; parallelism?: number; backoffLimit?: number; resamples?: number } = {}): string {
  return `apiVersion: ablate.dev/v1alpha1
kind: FineTuneJob
metadata:
  name: ${name}
  namespace: default
spec:
  model: {uri: ./model, maxLength: 32}
  data:
    train: {uri: ./data/train.csv}
    validation: {uri: ./data/validation.csv}
    numOptions: 5
  training:
    epochs: 1
    batchSize: 4
    learningRate: {value: 5.0e-4}
    headWarmup: {steps: 1, learningRate: 1.0e-3}
    checkpointEverySteps: 50
    evalBatchSize: 12
    backend: cpu
  ablations:
    - {name: full}
    - {name: frozen-embeddings, training: {freezeEmbeddings: true}}
    - {name: differential-lr, training: {freezeEmbeddings: true, layerwiseLearningRate: {schedule: cosine, minRatio: 0.1}}}
  seeds: [${(opts.seeds ?? [0, 1]).join(', ')}]
  execution: {parallelism: ${opts.parallelism ?? 3}, backoffLimit: ${opts.backoffLimit ?? 2}, activeDeadlineSeconds: 600}
  template:
    image: ghcr.io/ablate-dev/ablate-trainer:test
    resources:
      limits: {nvidia.com/gpu: 1}
  evaluation:
    k: 3
    baseline: full
    bootstrap: {resamples: ${opts.resamples ?? 500}, confidence: 0.95, seed: 0}
`;
}
