// The relative shift (JS kernel on cpu/wasm, slices elsewhere), the embedding lookup's scatter
// gradient and the batched matmul (an XNNPACK kernel on wasm), each against a direct definition.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../trainer/backend.js';
import { embeddingLookup, matMul, skewBySlicing, skewToSquare } from '../../trainer/model/mod.js';
import { unbroadcastTo } from '../../trainer/model/ops.js';

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

    test('batched matMul: values and gradients equal a direct product, with a broadcast batch and transposes', async () => {
      await selectBackend(backend);
      // [N, H, M, K] × [1, H, K, P]: the shape of the attention's relative terms (b shared over N).
      const [n, h, m, k, p] = [3, 2, 4, 5, 6];
      const a = tf.randomNormal([n, h, m, k], 0, 1, 'float32', 21);
      const bT = tf.randomNormal([1, h, p, k], 0, 1, 'float32', 22);
      const w = tf.randomNormal([n, h, m, p], 0, 1, 'float32', 23);
      const A = a.arraySync() as number[][][][];
      const B = bT.arraySync() as number[][][][];
      const W = w.arraySync() as number[][][][];
      const want = A.map((an) => an.map((ah, hi) => ah.map((row) => Array.from({ length: p }, (_, j) => row.reduce((s, x, t) => s + x * B[0]![hi]![j]![t]!, 0)))));
      const close = (got: unknown, exp: number[][][][], what: string): void => {
        const g = (got as number[][][][]).flat(3);
        const e = exp.flat(3);
        assert.equal(g.length, e.length, what);
        const d = Math.max(...g.map((x, i) => Math.abs(x - e[i]!)));
        assert.ok(d < 1e-5, `${what}: max |diff| ${d}`);
      };
      close(matMul(a, bT, false, true).arraySync(), want, 'product');
      const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMul(x, y, false, true), w)))([a, bT]);
      // d/da = W·B, d/dbT[0, h, j, t] = Σ_n Σ_i W[n, h, i, j]·A[n, h, i, t]
      close(ga!.arraySync(), A.map((an, ni) => an.map((ah, hi) => ah.map((_, i) => Array.from({ length: k }, (_, t) => W[ni]![hi]![i]!.reduce((s, x, j) => s + x * B[0]![hi]![j]![t]!, 0))))), 'gradient of a');
      const wantB = [Array.from({ length: h }, (_, hi) => Array.from({ length: p }, (_, j) => Array.from({ length: k }, (_, t) => {
        let s = 0;
        for (let ni = 0; ni < n; ni++) for (let i = 0; i < m; i++) s += W[ni]![hi]![i]![j]! * A[ni]![hi]![i]![t]!;
        return s;
      })))];
      close(gb!.arraySync(), wantB, 'gradient of b');
      tf.dispose([a, bT, w, ga!, gb!]);
    });

    test('unbroadcastTo: sums the broadcast axes, leading (row-sum kernel) or not (tf.sum)', async () => {
      await selectBackend(backend);
      const dy = tf.tensor3d([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]]);
      assert.deepEqual(unbroadcastTo(dy, [2]).arraySync(), [36, 42]);
      assert.deepEqual(unbroadcastTo(dy, [1, 1, 2]).arraySync(), [[[36, 42]]]);
      assert.deepEqual(unbroadcastTo(dy, [3, 2]).arraySync(), [[8, 10], [12, 14], [16, 18]]);
      assert.deepEqual(unbroadcastTo(dy, [2, 1, 2]).arraySync(), [[[9, 12]], [[27, 30]]]);
      assert.deepEqual(unbroadcastTo(dy, [3, 1]).arraySync(), [[18], [26], [34]]);
      tf.dispose(dy);
    });
  });
}
