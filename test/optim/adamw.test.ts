// AdamW against torch.optim.AdamW's update written out in plain JS doubles: the optimizer must
// reproduce a PyTorch run step for step, skip parameters without gradients, and resume exactly.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { AdamW, ITERATIONS_KEY, UngroupedGradientError, DuplicateParameterError, UnknownOptimParameterError, OptimizerStateError } from '../../trainer/optim/mod.js';

/** torch `_single_tensor_adamw` for one parameter, in float64. */
function torchAdamW(
  p0: number[],
  gradsPerStep: (number[] | null)[],
  opts: { lr: number[] | number; wd: number; b1: number; b2: number; eps: number },
): number[] {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  let t = 0;
  gradsPerStep.forEach((g, k) => {
    if (g === null) return;
    const lr = typeof opts.lr === 'number' ? opts.lr : opts.lr[k]!;
    t += 1;
    const bc1 = 1 - opts.b1 ** t;
    const bc2 = 1 - opts.b2 ** t;
    for (let i = 0; i < p.length; i++) {
      p[i] = p[i]! * (1 - lr * opts.wd);
      m[i] = m[i]! * opts.b1 + (1 - opts.b1) * g[i]!;
      v[i] = v[i]! * opts.b2 + (1 - opts.b2) * g[i]! * g[i]!;
      const denom = Math.sqrt(v[i]!) / Math.sqrt(bc2) + opts.eps;
      p[i] = p[i]! - (lr / bc1) * (m[i]! / denom);
    }
  });
  return p;
}

function assertClose(actual: ArrayLike<number>, expected: number[], rel: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) {
    const tol = rel * Math.max(1, Math.abs(expected[i]!));
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (tol ${tol})`);
  }
}

const P0 = { a: [0.5, -1.25, 2.0, 0.003, -0.7], b: [1.5, -0.2, 0.9] };
const GRADS_A = [
  [0.1, -0.2, 0.3, 1e-4, -2.5],
  [-0.05, 0.4, 0.3, -3e-4, 1.5],
  [0.2, 0.2, -0.6, 2e-4, 0.01],
  [0.0, -0.1, 0.15, 5e-4, -0.3],
];
const GRADS_B = [[0.3, -0.1, 0.05], [0.25, 0.0, -0.4], [-0.1, 0.2, 0.3], [0.05, 0.05, -0.05]];

function makeParams(): Map<string, tf.Variable> {
  return new Map([
    ['a', tf.variable(tf.tensor1d(P0.a), true)],
    ['b', tf.variable(tf.tensor1d(P0.b), true)],
  ]);
}

function dispose(params: Map<string, tf.Variable>, opt?: AdamW): void {
  for (const v of params.values()) v.dispose();
  opt?.dispose();
}

function grads(step: number, names: ('a' | 'b')[] = ['a', 'b']): Map<string, tf.Tensor> {
  const m = new Map<string, tf.Tensor>();
  for (const n of names) m.set(n, tf.tensor1d((n === 'a' ? GRADS_A : GRADS_B)[step]!));
  return m;
}

function disposeGrads(g: Map<string, tf.Tensor>): void {
  for (const t of g.values()) t.dispose();
}

describe('AdamW', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  test('matches torch AdamW over four steps, per group lr and weight decay, with a schedule multiplier', () => {
    const params = makeParams();
    const opt = new AdamW(params, [
      { names: ['a'], lr: 1e-2, weightDecay: 0.1 },
      { names: ['b'], lr: 3e-3, weightDecay: 0 },
    ], { betas: [0.9, 0.999], eps: 1e-6 });
    const multipliers = [0.25, 1, 0.5, 0.1];
    for (let k = 0; k < 4; k++) {
      const g = grads(k);
      opt.step(g, multipliers[k]);
      disposeGrads(g);
    }
    const cfg = { b1: 0.9, b2: 0.999, eps: 1e-6 };
    assertClose(params.get('a')!.dataSync(), torchAdamW(P0.a, GRADS_A, { ...cfg, lr: multipliers.map((m) => 1e-2 * m), wd: 0.1 }), 2e-6, 'a');
    assertClose(params.get('b')!.dataSync(), torchAdamW(P0.b, GRADS_B, { ...cfg, lr: multipliers.map((m) => 3e-3 * m), wd: 0 }), 2e-6, 'b');
    assert.equal(opt.iterations, 4);
    assert.deepEqual(opt.learningRates(0.5), [5e-3, 1.5e-3]);
    dispose(params, opt);
  });

  test('eps sits outside the bias-corrected square root (a large eps shows the difference)', () => {
    const params = makeParams();
    const opt = new AdamW(params, [{ names: ['a', 'b'], lr: 0.1, weightDecay: 0 }], { betas: [0.5, 0.6], eps: 0.3 });
    for (let k = 0; k < 2; k++) {
      const g = grads(k);
      opt.step(g);
      disposeGrads(g);
    }
    const want = torchAdamW(P0.a, GRADS_A.slice(0, 2), { lr: 0.1, wd: 0, b1: 0.5, b2: 0.6, eps: 0.3 });
    assertClose(params.get('a')!.dataSync(), want, 2e-6, 'a');
    dispose(params, opt);
  });

  test('a parameter without a gradient is untouched (no decay) and its step count does not advance', () => {
    const params = makeParams();
    const bBefore = params.get('b')!.dataSync().slice();
    const opt = new AdamW(params, [{ names: ['a', 'b'], lr: 1e-2, weightDecay: 0.5 }]);
    for (let k = 0; k < 2; k++) {
      const g = grads(k, ['a']);
      opt.step(g);
      disposeGrads(g);
    }
    assert.deepEqual(params.get('b')!.dataSync(), bBefore, 'b changed without a gradient');
    // Its first gradient arrives at the third step: torch treats that as b's t = 1.
    const g = grads(2);
    opt.step(g);
    disposeGrads(g);
    const want = torchAdamW(P0.b, [null, null, GRADS_B[2]!], { lr: 1e-2, wd: 0.5, b1: 0.9, b2: 0.999, eps: 1e-6 });
    assertClose(params.get('b')!.dataSync(), want, 2e-6, 'b');
    dispose(params, opt);
  });

  test('state exported after two steps and imported into a new optimizer resumes bit-identically', () => {
    const groups = [{ names: ['a', 'b'], lr: 1e-2, weightDecay: 0.01 }];
    const straight = makeParams();
    const optS = new AdamW(straight, groups);
    for (let k = 0; k < 4; k++) {
      const g = grads(k, k === 0 ? ['a'] : ['a', 'b']);
      optS.step(g, 1 - k / 8);
      disposeGrads(g);
    }

    const first = makeParams();
    const optA = new AdamW(first, groups);
    for (let k = 0; k < 2; k++) {
      const g = grads(k, k === 0 ? ['a'] : ['a', 'b']);
      optA.step(g, 1 - k / 8);
      disposeGrads(g);
    }
    const state = optA.getState();
    assert.deepEqual([...state.keys()].sort(), [ITERATIONS_KEY, 'a.exp_avg', 'a.exp_avg_sq', 'a.step', 'b.exp_avg', 'b.exp_avg_sq', 'b.step']);
    assert.equal(state.get('a.step')!.dataSync()[0], 2);
    assert.equal(state.get('b.step')!.dataSync()[0], 1);
    // A restarted process: fresh variables holding the saved weights, a fresh optimizer.
    const resumed = new Map([...first].map(([n, v]) => [n, tf.variable(v.clone(), true)]));
    dispose(first, optA);
    const optB = new AdamW(resumed, groups);
    optB.setState(state);
    for (const t of state.values()) t.dispose();
    assert.equal(optB.iterations, 2);
    for (let k = 2; k < 4; k++) {
      const g = grads(k);
      optB.step(g, 1 - k / 8);
      disposeGrads(g);
    }
    for (const n of ['a', 'b']) {
      assert.deepEqual(resumed.get(n)!.dataSync(), straight.get(n)!.dataSync(), `${n} differs after resume`);
    }
    dispose(straight, optS);
    dispose(resumed, optB);
  });

  test('rejects gradients and groups that name the wrong parameters, and bad state', () => {
    const params = makeParams();
    assert.throws(() => new AdamW(params, [{ names: ['a'], lr: 1, weightDecay: 0 }, { names: ['a'], lr: 1, weightDecay: 0 }]), DuplicateParameterError);
    assert.throws(() => new AdamW(params, [{ names: ['zz'], lr: 1, weightDecay: 0 }]), UnknownOptimParameterError);
    assert.throws(() => new AdamW(params, [{ names: ['a'], lr: -1, weightDecay: 0 }]), /groups\[0\]\.lr/);
    assert.throws(() => new AdamW(params, [{ names: ['a'], lr: 1, weightDecay: 0 }], { betas: [0.9, 1] }), /betas\[1\]/);
    const opt = new AdamW(params, [{ names: ['a'], lr: 1e-3, weightDecay: 0 }]);
    const g = grads(0);
    assert.throws(() => opt.step(g), UngroupedGradientError);
    disposeGrads(g);
    const wrongShape = new Map([['a', tf.zeros([2])]]);
    assert.throws(() => opt.step(wrongShape), /shape/);
    disposeGrads(wrongShape);
    const partial = new Map([['a.exp_avg', tf.zeros([5])]]);
    assert.throws(() => opt.setState(partial), OptimizerStateError);
    disposeGrads(partial);
    const badShape = new Map<string, tf.Tensor>([['a.exp_avg', tf.zeros([4])]]);
    assert.throws(() => opt.setState(badShape), /shape \[4\]/);
    disposeGrads(badShape);
    dispose(params, opt);
  });

  test('does not leak tensors across steps', () => {
    const params = makeParams();
    const opt = new AdamW(params, [{ names: ['a', 'b'], lr: 1e-3, weightDecay: 0.01 }]);
    const g0 = grads(0);
    opt.step(g0);
    const before = tf.memory().numTensors;
    opt.step(g0, 0.5);
    opt.step(g0, 0.7);
    assert.equal(tf.memory().numTensors, before);
    disposeGrads(g0);
    dispose(params, opt);
  });
});
