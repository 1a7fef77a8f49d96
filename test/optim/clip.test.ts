// Global-norm clipping (torch clip_grad_norm_) and micro-batch gradient accumulation.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { clipGradNorm, GradientAccumulator, CLIP_NORM_EPSILON } from '../../trainer/optim/mod.js';

function close(actual: ArrayLike<number>, expected: number[], what: string): void {
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= 1e-6 * Math.max(1, Math.abs(expected[i]!)), `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

function gradsOf(obj: Record<string, number[]>): Map<string, tf.Tensor> {
  return new Map(Object.entries(obj).map(([k, v]) => [k, tf.tensor1d(v)]));
}

function disposeAll(...maps: Map<string, tf.Tensor>[]): void {
  for (const m of maps) for (const t of m.values()) t.dispose();
}

describe('clipGradNorm', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  test('scales every gradient by maxNorm/(total + 1e-6) when the global norm is above the limit', () => {
    const g = gradsOf({ a: [3, 4], b: [12] }); // global norm √(9 + 16 + 144) = 13
    const { grads, totalNorm } = clipGradNorm(g, 1);
    close(totalNorm.dataSync(), [13], 'norm');
    const f = 1 / (13 + CLIP_NORM_EPSILON);
    close(grads.get('a')!.dataSync(), [3 * f, 4 * f], 'a');
    close(grads.get('b')!.dataSync(), [12 * f], 'b');
    totalNorm.dispose();
    disposeAll(g, grads);
  });

  test('leaves gradients bit-identical below the limit and still reports the norm', () => {
    const g = gradsOf({ a: [0.1, -0.2, 0.3], b: [1e-3] });
    const { grads, totalNorm } = clipGradNorm(g, 1);
    assert.deepEqual(grads.get('a')!.dataSync(), g.get('a')!.dataSync());
    assert.deepEqual(grads.get('b')!.dataSync(), g.get('b')!.dataSync());
    close(totalNorm.dataSync(), [Math.sqrt(0.01 + 0.04 + 0.09 + 1e-6)], 'norm');
    totalNorm.dispose();
    disposeAll(g, grads);
    assert.throws(() => clipGradNorm(new Map(), 0), /gradientClipNorm/);
  });
});

describe('GradientAccumulator', () => {
  test('hands out the mean over k micro-batches; a parameter missing from one is still divided by k', () => {
    const acc = new GradientAccumulator();
    const g1 = gradsOf({ a: [1, 2], b: [4] });
    const g2 = gradsOf({ a: [3, -2] });
    const g3 = gradsOf({ a: [2, 3], b: [2] });
    for (const g of [g1, g2, g3]) acc.add(g);
    assert.equal(acc.count, 3);
    const mean = acc.mean();
    close(mean.get('a')!.dataSync(), [2, 1], 'a');
    close(mean.get('b')!.dataSync(), [2], 'b');
    assert.equal(acc.count, 0);
    assert.throws(() => acc.mean(), /no micro-batch/);
    // The inputs still belong to the caller and are intact.
    assert.deepEqual([...g2.get('a')!.dataSync()], [3, -2]);
    disposeAll(g1, g2, g3, mean);
    acc.dispose();
  });

  test('weighted by example counts, uneven micro-batches give the whole batch\'s mean gradient', () => {
    // Per-example gradients 1, 2, 3 (first micro-batch, mean 2) and 10 (second, mean 10): the
    // batch mean is 4, not the unweighted (2 + 10)/2 = 6.
    const acc = new GradientAccumulator();
    const g1 = gradsOf({ a: [2] });
    const g2 = gradsOf({ a: [10] });
    acc.add(g1, 3);
    acc.add(g2, 1);
    const mean = acc.mean();
    close(mean.get('a')!.dataSync(), [4], 'a');
    assert.throws(() => acc.add(g1, 0), /gradientAccumulation\.weight/);
    disposeAll(g1, g2, mean);
    acc.dispose();
  });
});
