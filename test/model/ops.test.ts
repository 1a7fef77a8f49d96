// The relative shift (JS kernel on cpu/wasm, slices elsewhere) and the embedding lookup's scatter
// gradient, each against a direct definition and against each other.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../trainer/backend.js';
import { embeddingLookup, skewBySlicing, skewToSquare } from '../../trainer/model/mod.js';

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`ops on ${backend}`, () => {
    test('skewToSquare: out[i, j] = x[i, j − i + S − 1], kernel and slice paths agree, gradients too', async () => {
      await selectBackend(backend);
      const [b, h, s] = [2, 3, 5];
      const x = tf.randomNormal([b, h, s, 2 * s - 1], 0, 1, 'float32', 11);
      const w = tf.randomNormal([b, h, s, s], 0, 1, 'float32', 12);
      const xs = x.arraySync() as number[][][][];
      const want = xs.map((bb) => bb.map((hh) => hh.map((row, i) => Array.from({ length: s }, (_, j) => row[j - i + s - 1]!))));
      assert.deepEqual(skewToSquare(x).arraySync(), want);
      assert.deepEqual(skewBySlicing(x).arraySync(), want);
      const g1 = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(skewToSquare(t), w)))(x);
      const g2 = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(skewBySlicing(t), w)))(x);
      assert.deepEqual(g1.arraySync(), g2.arraySync());
      tf.dispose([x, w, g1, g2]);
    });

    test('embedding lookup: scatter gradient sums repeated ids and skips the padding row', async () => {
      await selectBackend(backend);
      const table = tf.randomNormal([6, 3], 0, 1, 'float32', 13) as tf.Tensor2D;
      const ids = tf.tensor1d([2, 0, 2, 5, 0], 'int32');
      const dy = tf.tensor2d([[1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4], [5, 5, 5]]);
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(embeddingLookup(t as tf.Tensor2D, ids, { paddingIdx: 0 }), dy)))(table);
      assert.deepEqual(g.arraySync(), [[0, 0, 0], [0, 0, 0], [4, 4, 4], [0, 0, 0], [0, 0, 0], [4, 4, 4]]);
      assert.deepEqual(embeddingLookup(table, ids).arraySync(), tf.gather(table, ids).arraySync());
      tf.dispose([table, ids, dy, g]);
    });
  });
}
