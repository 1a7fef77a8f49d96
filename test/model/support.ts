// Shared helpers for the model tests: the reference fixture and element-wise comparisons.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/deberta-v3-tiny/', import.meta.url));

export interface FixtureInputs {
  input_ids: number[][][];
  attention_mask: number[][][];
  labels: number[];
}

export interface FixtureExpected {
  logits: number[][];
  loss: number;
  embeddings_output_example0_choice0_first4_tokens: number[][];
  last_hidden_state_cls: number[][][];
  pooled_output: number[][][];
  hidden_states_cls_example0_choice0_per_layer: number[][];
  relative_position_buckets_seq24: number[][];
  rel_embeddings_after_layernorm_first2_rows: number[][];
  grad_l2_norms_at_init: Record<string, number>;
  grad_classifier_weight_at_init: number[][];
}

export const inputs = JSON.parse(readFileSync(`${FIXTURE_DIR}/inputs.json`, 'utf8')) as FixtureInputs;
export const expected = JSON.parse(readFileSync(`${FIXTURE_DIR}/expected.json`, 'utf8')) as FixtureExpected;

export function fixtureTensors(): { ids: tf.Tensor3D; mask: tf.Tensor3D; labels: tf.Tensor1D } {
  return {
    ids: tf.tensor3d(inputs.input_ids, undefined, 'int32'),
    mask: tf.tensor3d(inputs.attention_mask, undefined, 'int32'),
    labels: tf.tensor1d(inputs.labels, 'int32'),
  };
}

/** Largest absolute element-wise difference; fails on a shape mismatch. */
export function maxAbsDiff(actual: unknown, want: unknown, where = ''): number {
  if (Array.isArray(want)) {
    assert.ok(Array.isArray(actual), `${where}: expected an array`);
    assert.equal(actual.length, want.length, `${where}: length`);
    return want.reduce((m: number, w, i) => Math.max(m, maxAbsDiff(actual[i], w, `${where}[${i}]`)), 0);
  }
  assert.equal(typeof actual, 'number', `${where}: expected a number`);
  return Math.abs((actual as number) - (want as number));
}

export function assertClose(actual: unknown, want: unknown, tol: number, what: string): void {
  const d = maxAbsDiff(actual, want, what);
  assert.ok(d <= tol, `${what}: max |diff| ${d} > ${tol}`);
}
