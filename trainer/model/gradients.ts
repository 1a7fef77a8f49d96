// Gradients for the kernels the model and its loss use. `@tensorflow/tfjs-core`'s Node entry
// (dist/tf-core.node.js) registers no gradients at all — only the `@tensorflow/tfjs` bundle does,
// and we depend on core + backends directly — so `variableGrads` would fail with "gradient
// function not found". Each gradient below is derived from the op's definition; one that is
// already registered (by the bundle, if some dependency loads it) is left as it is.
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import { matMul, unbroadcastTo } from './ops.js';

/** Sums `dy` over the axes where `shape` was broadcast, and gives it `shape`. */
const unbroadcast = (dy: Tensor, shape: number[]): Tensor => unbroadcastTo(dy, shape);

/** Gradient of a reduction of x over `axis`: dy (kept dims or not) spread back over the reduced axes. */
function spread(dy: Tensor, x: Tensor, attrs: NamedAttrMap): Tensor {
  const axes = tf.util.parseAxisParam(attrs['axis'] as number | number[], x.shape);
  const kept = tf.reshape(dy, x.shape.map((d, i) => (axes.includes(i) ? 1 : d)));
  return tf.mul(kept, tf.ones(x.shape, 'float32'));
}

const configs: GradConfig[] = [
  { kernelName: tf.Identity, gradFunc: (dy) => ({ x: () => tf.clone(dy as Tensor) }) },
  { kernelName: tf.Cast, gradFunc: (dy) => ({ x: () => tf.clone(dy as Tensor) }) },
  { kernelName: tf.Neg, gradFunc: (dy) => ({ x: () => tf.neg(dy as Tensor) }) },
  {
    kernelName: tf.Add,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => ({ a: () => unbroadcast(dy as Tensor, a!.shape), b: () => unbroadcast(dy as Tensor, b!.shape) }),
  },
  {
    kernelName: tf.Sub,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => ({ a: () => unbroadcast(dy as Tensor, a!.shape), b: () => unbroadcast(tf.neg(dy as Tensor), b!.shape) }),
  },
  {
    kernelName: tf.Multiply,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => ({
      a: () => unbroadcast(tf.mul(dy as Tensor, tf.cast(b!, 'float32')), a!.shape),
      b: () => unbroadcast(tf.mul(dy as Tensor, tf.cast(a!, 'float32')), b!.shape),
    }),
  },
  {
    kernelName: tf.RealDiv,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => ({
      a: () => unbroadcast(tf.div(dy as Tensor, b!), a!.shape),
      b: () => unbroadcast(tf.neg(tf.div(tf.mul(dy as Tensor, a!), tf.square(b!))), b!.shape),
    }),
  },
  { kernelName: tf.Square, inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy as Tensor, tf.mul(x!, 2)) }) },
  // d/dx x^(-1/2) = -1/2 · x^(-3/2)
  { kernelName: tf.Rsqrt, inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.div(dy as Tensor, tf.mul(tf.pow(x!, 1.5), -2)) }) },
  // d/dx erf(x) = 2/√π · exp(−x²)
  { kernelName: tf.Erf, inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy as Tensor, tf.mul(tf.exp(tf.neg(tf.square(x!))), 2 / Math.sqrt(Math.PI))) }) },
  { kernelName: tf.Tanh, outputsToSave: [true], gradFunc: (dy, [y]) => ({ x: () => tf.mul(dy as Tensor, tf.sub(1, tf.square(y!))) }) },
  { kernelName: tf.Relu, inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy as Tensor, tf.cast(tf.greater(x!, 0), 'float32')) }) },
  {
    kernelName: tf.Sum,
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => ({ x: () => spread(dy as Tensor, x!, attrs) }),
  },
  {
    kernelName: tf.Mean,
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => {
      const axes = tf.util.parseAxisParam(attrs['axis'] as number | number[], x!.shape);
      const count = axes.reduce((n, a) => n * x!.shape[a]!, 1);
      return { x: () => tf.div(spread(dy as Tensor, x!, attrs), count) };
    },
  },
  { kernelName: tf.ExpandDims, inputsToSave: ['input'], gradFunc: (dy, [x]) => ({ input: () => tf.reshape(dy as Tensor, x!.shape) }) },
  { kernelName: tf.Reshape, inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.reshape(dy as Tensor, x!.shape) }) },
  {
    kernelName: tf.Transpose,
    gradFunc: (dy, _saved, attrs) => {
      const perm = attrs['perm'] as number[];
      const inverse = perm.map((_, i) => perm.indexOf(i));
      return { x: () => tf.transpose(dy as Tensor, inverse) };
    },
  },
  {
    kernelName: tf.Slice,
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => {
      const [begin, size] = tf.slice_util.parseSliceParams(x!, attrs['begin'] as number[], attrs['size'] as number[]);
      const padding = x!.shape.map((d, i): [number, number] => [begin![i]!, d - begin![i]! - size![i]!]);
      return { x: () => tf.pad(dy as Tensor, padding) };
    },
  },
  {
    kernelName: tf.BatchMatMul,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b], attrs) => {
      const ta = attrs['transposeA'] as boolean;
      const tb = attrs['transposeB'] as boolean;
      const g = dy as Tensor;
      // The four transpose cases of C = op(A)·op(B), each expressed without an explicit transpose.
      let da: () => Tensor;
      let db: () => Tensor;
      if (!ta && !tb) {
        da = () => matMul(g, b!, false, true);
        db = () => matMul(a!, g, true, false);
      } else if (!ta && tb) {
        da = () => matMul(g, b!, false, false);
        db = () => matMul(g, a!, true, false);
      } else if (ta && !tb) {
        da = () => matMul(b!, g, false, true);
        db = () => matMul(a!, g, false, false);
      } else {
        da = () => matMul(b!, g, true, true);
        db = () => matMul(g, a!, true, true);
      }
      return { a: () => unbroadcast(da(), a!.shape), b: () => unbroadcast(db(), b!.shape) };
    },
  },
  {
    // y = softmax(x) along `dim`: dx = y · (dy − Σ dy·y)
    kernelName: tf.Softmax,
    outputsToSave: [true],
    gradFunc: (dy, [y], attrs) => {
      const dim = attrs['dim'] as number | number[];
      return { logits: () => tf.mul(y!, tf.sub(dy as Tensor, tf.sum(tf.mul(dy as Tensor, y!), dim, true))) };
    },
  },
  {
    // Only the embedding-table case (axis 0, no batch dims): TF.js's own rule, a segment sum.
    // The model uses `embeddingLookup`'s scatter gradient instead; this serves its 'stock' mode.
    kernelName: tf.GatherV2,
    inputsToSave: ['x', 'indices'],
    gradFunc: (dy, [x, indices], attrs) => {
      if ((attrs['axis'] as number) !== 0 || (attrs['batchDims'] as number) !== 0) throw new Error('GatherV2 gradient: only axis 0 without batch dims is registered');
      const flat = tf.reshape(indices!, [-1]);
      const rows = tf.reshape(dy as Tensor, [flat.shape[0]!, ...x!.shape.slice(1)]);
      return { x: () => tf.unsortedSegmentSum(rows, flat as tf.Tensor1D, x!.shape[0]!), indices: () => tf.zerosLike(indices!) };
    },
  },
];

let registered = false;

/** Registers the gradients above (once; kernels that already have a gradient keep it). */
export function registerModelGradients(): void {
  if (registered) return;
  registered = true;
  for (const c of configs) if (tf.getGradient(c.kernelName) === undefined) tf.registerGradient(c);
}
