// Building blocks whose stock TF.js form is wrong or slow for DeBERTa: the embedding lookup's
// gradient, and the relative-position bucket table.
import * as tf from '@tensorflow/tfjs-core';

/**
 * How the gradient of an embedding lookup is computed.
 * - `scatter`: a `ScatterNd` of the output gradient into a zero table (duplicates summed). It runs
 *   on every backend and costs O(tokens · width). The default.
 * - `stock`: TF.js's own `gather` gradient, `UnsortedSegmentSum`, which the wasm backend lacks and
 *   which the cpu backend computes with one pass over all tokens per table row (O(rows · tokens ·
 *   width): minutes per step for a 128k vocabulary). Kept only as the benchmark's peer.
 * @default 'scatter'
 */
export type GatherGradient = 'scatter' | 'stock';
export const DEFAULT_GATHER_GRADIENT: GatherGradient = 'scatter';

/**
 * Rows of `table` [V, H] at `ids` (int32 [M]) → [M, H]. With `paddingIdx`, the gradient of that
 * row is zero, as in PyTorch's `nn.Embedding(padding_idx=…)`, so the pad row never trains.
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor1D, opts: { paddingIdx?: number; gradient?: GatherGradient } = {}): tf.Tensor2D {
  if ((opts.gradient ?? DEFAULT_GATHER_GRADIENT) === 'stock') {
    const rows = tf.gather(table, ids);
    if (opts.paddingIdx === undefined) return rows;
    // Stock gradient flows through the multiply, which zeroes the pad rows' contribution.
    return tf.mul(rows, tf.expandDims(tf.cast(tf.notEqual(ids, opts.paddingIdx), 'float32'), 1));
  }
  const [vocab, width] = table.shape;
  const lookup = tf.customGrad<tf.Tensor2D>((...args) => {
    const t = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const value = tf.gather(t, ids);
    // The ids may belong to a tidy scope that ends before the backward pass: save them with the tape.
    save([ids]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor => {
      const savedIds = saved[0] as tf.Tensor1D;
      let updates = dy;
      if (opts.paddingIdx !== undefined) updates = tf.mul(dy, tf.expandDims(tf.cast(tf.notEqual(savedIds, opts.paddingIdx), 'float32'), 1));
      return tf.scatterND(tf.expandDims(savedIds, 1), updates, [vocab, width]);
    };
    return { value, gradFunc };
  });
  return lookup(table);
}

/**
 * DeBERTa's log-bucketed relative position (HF `make_log_bucket_position`): distances within
 * ±bucketSize/2 stay exact, larger ones share logarithmically wider buckets up to maxPosition.
 * The arithmetic is rounded to float32 at each step, as the reference computes it in float32 —
 * a float64 log can land on the other side of a `ceil` boundary.
 */
export function logBucketPosition(relativePos: number, bucketSize: number, maxPosition: number): number {
  const mid = Math.floor(bucketSize / 2);
  if (relativePos < mid && relativePos > -mid) return relativePos;
  const abs = Math.abs(relativePos);
  if (abs <= mid) return relativePos;
  const f = Math.fround;
  const ratio = f(abs / mid);
  const logRatio = f(Math.log(ratio));
  const logMax = f(Math.log(f((maxPosition - 1) / mid)));
  const logPos = Math.ceil(f(f(logRatio / logMax) * (mid - 1))) + mid;
  return Math.sign(relativePos) * logPos;
}

/** The relative position (query − key) as the model sees it: bucketed when buckets are on. */
export function relativePosition(queryPos: number, keyPos: number, bucketSize: number, maxPosition: number): number {
  const rel = queryPos - keyPos;
  return bucketSize > 0 && maxPosition > 0 ? logBucketPosition(rel, bucketSize, maxPosition) : rel;
}

/**
 * Row indices into the relative-embedding table for the c2p and p2c terms, one per diagonal of
 * the [S, S] score matrix. Column k of the "diagonal" layout stands for query − key = (S−1) − k
 * (c2p) and key − query = (S−1) − k mirrored (p2c); `skewToSquare` turns a [.., S, 2S−1]
 * per-diagonal score into the [.., S, S] per-pair score without a per-element gather.
 */
export function relativeIndexTables(seqLen: number, span: number, bucketSize: number, maxPosition: number): { c2p: Int32Array; p2c: Int32Array } {
  const width = 2 * seqLen - 1;
  const c2p = new Int32Array(width);
  const p2c = new Int32Array(width);
  const clamp = (v: number): number => Math.min(Math.max(v, 0), 2 * span - 1);
  for (let k = 0; k < width; k++) {
    // HF: c2p index = clamp(rel(i, j) + span) with rel(i, j) = bucket(i − j); i − j = (S−1) − k.
    c2p[k] = clamp(relativePosition(seqLen - 1 - k, 0, bucketSize, maxPosition) + span);
    // HF: p2c index at [key a, query b] = clamp(−rel(a, b) + span); row a, column c ↔ a − b = (S−1) − c.
    p2c[k] = clamp(-relativePosition(seqLen - 1 - k, 0, bucketSize, maxPosition) + span);
  }
  return { c2p, p2c };
}

/** out[b, i, j] = x[b, i, j − i + S − 1] over flat buffers: x [B, S, 2S−1] → [B, S, S]. */
function relShiftValues(x: Float32Array, out: Float32Array, s: number): void {
  const w = 2 * s - 1;
  const rows = out.length / s;
  for (let r = 0; r < rows; r++) {
    const i = r % s;
    const src = r * w + s - 1 - i;
    out.set(x.subarray(src, src + s), r * s);
  }
}

/** The adjoint of `relShiftValues`: dy [B, S, S] → dx [B, S, 2S−1], zero off the used diagonals. */
function relShiftGradValues(dy: Float32Array, out: Float32Array, s: number): void {
  const w = 2 * s - 1;
  const rows = dy.length / s;
  out.fill(0);
  for (let r = 0; r < rows; r++) {
    const i = r % s;
    out.set(dy.subarray(r * s, r * s + s), r * w + s - 1 - i);
  }
}

const REL_SHIFT = 'AblateRelShift';
const REL_SHIFT_GRAD = 'AblateRelShiftGrad';

/** The parts of the cpu and wasm backends a JS kernel needs (their public methods). */
interface CpuBackendLike {
  data: { get(id: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

type ValuesFn = (x: Float32Array, out: Float32Array, s: number) => void;

function registerShiftKernel(kernelName: string, fn: ValuesFn, outShape: (shape: number[]) => number[]): void {
  const s = (shape: number[]): number => shape[shape.length - 2]!;
  tf.registerKernel({
    kernelName,
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs['x']!;
      const b = backend as unknown as CpuBackendLike;
      const shape = outShape(x.shape);
      const out = new Float32Array(shape.reduce((a, d) => a * d, 1));
      fn(b.data.get(x.dataId).values as Float32Array, out, s(x.shape));
      return b.makeTensorInfo(shape, 'float32', out);
    },
  });
  tf.registerKernel({
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs['x']!;
      const b = backend as unknown as WasmBackendLike;
      const out = b.makeOutput(outShape(x.shape), 'float32');
      // Views into the wasm heap are taken after the allocation, which may grow (and detach) it.
      fn(b.typedArrayFromHeap(x), b.typedArrayFromHeap(out), s(x.shape));
      return out;
    },
  });
}

registerShiftKernel(REL_SHIFT, relShiftValues, (shape) => [...shape.slice(0, -1), shape[shape.length - 2]!]);
registerShiftKernel(REL_SHIFT_GRAD, relShiftGradValues, (shape) => [...shape.slice(0, -1), 2 * shape[shape.length - 2]! - 1]);
tf.registerGradient({
  kernelName: REL_SHIFT,
  gradFunc: (dy) => ({ x: () => tf.engine().runKernel(REL_SHIFT_GRAD, { x: dy as tf.Tensor }) as tf.Tensor }),
});

/** out[c] = Σ_r x[r·C + c] over a flat [R, C] buffer, accumulated in double precision. */
function sumRowsValues(x: Float32Array, out: Float32Array, cols: number): void {
  const acc = new Float64Array(cols);
  for (let base = 0; base < x.length; base += cols) {
    for (let c = 0; c < cols; c++) acc[c]! += x[base + c]!;
  }
  out.set(acc);
}

const SUM_ROWS = 'AblateSumRows';
for (const backendName of ['cpu', 'wasm']) {
  tf.registerKernel({
    kernelName: SUM_ROWS,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs['x']!;
      const cols = x.shape[1]!;
      if (backendName === 'cpu') {
        const b = backend as unknown as CpuBackendLike;
        const out = new Float32Array(cols);
        sumRowsValues(b.data.get(x.dataId).values as Float32Array, out, cols);
        return b.makeTensorInfo([cols], 'float32', out);
      }
      const b = backend as unknown as WasmBackendLike;
      const out = b.makeOutput([cols], 'float32');
      sumRowsValues(b.typedArrayFromHeap(x), b.typedArrayFromHeap(out), cols);
      return out;
    },
  });
}

/**
 * `dy` summed over the axes where `shape` was broadcast, reshaped to `shape` — the gradient of a
 * broadcast operand. When those axes are the leading ones (a bias or LayerNorm weight: [N, S, H]
 * → [H]) it is one pass over dy in a JS kernel on cpu and wasm; the wasm backend's Sum over
 * non-innermost axes transposes dy first.
 */
export function unbroadcastTo(dy: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.broadcast_util.getReductionAxes(shape, dy.shape);
  if (axes.length === 0) return tf.reshape(dy, shape);
  const lead = dy.rank - shape.length;
  const leading = axes.every((a, i) => a === i) && dy.shape.slice(axes.length).every((d, i) => (shape[axes.length - lead + i] ?? d) === d);
  if (leading && dy.size > 0 && dy.dtype === 'float32' && tf.getKernel(SUM_ROWS, tf.getBackend()) !== undefined) {
    const rows = dy.shape.slice(0, axes.length).reduce((x, d) => x * d, 1);
    const x2 = tf.reshape(dy, [rows, dy.size / rows]);
    return tf.reshape(tf.engine().runKernel(SUM_ROWS, { x: x2 }) as tf.Tensor, shape);
  }
  return tf.reshape(tf.sum(dy, axes), shape);
}

/**
 * [..., S, 2S−1] with column k meaning "the key at offset k − (S−1) from the row" → [..., S, S]
 * with out[i, j] = x[i, j − i + S − 1] (the Transformer-XL "relative shift"), instead of a
 * per-element gather whose gradient would be a scatter.
 *
 * On cpu and wasm it is a JS kernel (one contiguous copy per row; TF.js cpu's generic Slice costs
 * ~1 µs per element). Elsewhere it is composed from reshapes and slices: flattening, dropping S−1
 * leading values and re-reading with row stride 2S−2 lines every row up, and the gradient is a pad.
 */
export function skewToSquare(x: tf.Tensor): tf.Tensor {
  if (x.shape[x.rank - 2] === 1) return x;
  if (tf.getKernel(REL_SHIFT, tf.getBackend()) !== undefined && x.dtype === 'float32') {
    return tf.engine().runKernel(REL_SHIFT, { x }) as tf.Tensor;
  }
  return skewBySlicing(x);
}

/** `skewToSquare` from reshapes and slices only (any backend; the gradient is a pad). */
export function skewBySlicing(x: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const s = shape[shape.length - 2]!;
  const lead = shape.slice(0, -2);
  if (s === 1) return x;
  const flat = tf.reshape(x, [...lead, s * (2 * s - 1)]);
  const begin = [...lead.map(() => 0), s - 1];
  const shifted = tf.slice(flat, begin, [...lead, s * (2 * s - 2)]);
  const rows = tf.reshape(shifted, [...lead, s, 2 * s - 2]);
  return tf.slice(rows, [...lead.map(() => 0), 0, 0], [...lead, s, s]);
}

/** Swaps the last two axes. */
export function transposeLast2(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  return tf.transpose(x, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2]);
}

/** The wasm backend's internals the batched-matmul kernel needs (public fields of its classes). */
interface WasmModuleLike {
  cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
  tfjs: { registerTensor(id: number, size: number, memoryOffset: number): void; disposeData(id: number): void };
}
interface WasmBackendInternals extends WasmBackendLike {
  wasm: WasmModuleLike;
  dataIdNextNumber: number;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

const BATCH_MAT_MUL = 'AblateBatchMatMul';
const wasmMatMulFns = new WeakMap<object, (...args: unknown[]) => void>();

/** Row-major strides of `shape`, with 0 for the axes of size 1 (they broadcast). */
function broadcastStrides(shape: number[]): number[] {
  const strides = new Array<number>(shape.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = shape[i] === 1 ? 0 : s;
    s *= shape[i]!;
  }
  return strides;
}

/**
 * Batched matmul on wasm through XNNPACK, one product per batch, without copies. The wasm
 * backend's own BatchMatMul sends every product with a batch > 1 (and every transposed one) to a
 * scalar triple loop (~1 GFLOP/s on this machine); only [1, M, K] × [1, K, N] goes to XNNPACK's
 * fully-connected GEMM (10–20 GFLOP/s). This kernel registers, for each batch, tensor ids that
 * alias that batch's slice of a, b and the output on the wasm heap and calls the backend's own
 * BatchMatMul export on those [1, M, K] × [1, K, N] views. A b slice shared by several batches
 * (broadcast) keeps one id, so XNNPACK packs it once.
 */
tf.registerKernel({
  kernelName: BATCH_MAT_MUL,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const a = inputs['a']!;
    const b = inputs['b']!;
    const be = backend as unknown as WasmBackendInternals;
    let run = wasmMatMulFns.get(be.wasm);
    if (run === undefined) {
      run = be.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']);
      wasmMatMulFns.set(be.wasm, run);
    }
    const [m, k] = a.shape.slice(-2) as [number, number];
    const n = b.shape[b.shape.length - 1]!;
    const batch = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const rank = batch.length;
    const pad = (shape: number[]): number[] => [...new Array<number>(rank - shape.length).fill(1), ...shape];
    const aStrides = broadcastStrides(pad(a.shape.slice(0, -2)));
    const bStrides = broadcastStrides(pad(b.shape.slice(0, -2)));
    const out = be.makeOutput([...batch, m, n], 'float32');
    const aBase = be.dataIdMap.get(a.dataId)!.memoryOffset;
    const bBase = be.dataIdMap.get(b.dataId)!.memoryOffset;
    const outBase = be.dataIdMap.get(out.dataId)!.memoryOffset;
    const aShape = new Uint8Array(new Int32Array([1, m, k]).buffer);
    const bShape = new Uint8Array(new Int32Array([1, k, n]).buffer);
    const alias = (offset: number, size: number): number => {
      const id = be.dataIdNextNumber++;
      be.wasm.tfjs.registerTensor(id, size, offset);
      return id;
    };
    const bIds = new Map<number, number>();
    const total = batch.reduce((x, d) => x * d, 1);
    const coord = new Array<number>(rank).fill(0);
    try {
      for (let i = 0; i < total; i++) {
        let ia = 0;
        let ib = 0;
        for (let d = 0; d < rank; d++) {
          ia += coord[d]! * aStrides[d]!;
          ib += coord[d]! * bStrides[d]!;
        }
        let bId = bIds.get(ib);
        if (bId === undefined) {
          bId = alias(bBase + ib * k * n * 4, k * n);
          bIds.set(ib, bId);
        }
        const aId = alias(aBase + ia * m * k * 4, m * k);
        const outId = alias(outBase + i * m * n * 4, m * n);
        run(aId, aShape, 3, bId, bShape, 3, false, false, outId);
        be.wasm.tfjs.disposeData(aId);
        be.wasm.tfjs.disposeData(outId);
        for (let d = rank - 1; d >= 0; d--) {
          if (++coord[d]! < batch[d]!) break;
          coord[d] = 0;
        }
      }
    } finally {
      // Disposing an alias id also drops the XNNPACK operator cached on it; the memory is a's/b's.
      for (const id of bIds.values()) be.wasm.tfjs.disposeData(id);
    }
    return out;
  },
});

/**
 * dB of a × b when b is shared over some batch axes of a (the relative-position terms: b is
 * [1, H, K, P] for a [N, H, M, K]): Σ over those axes of aᵀ·dy, computed as one product per kept
 * batch index with the shared axes folded into the inner dimension instead of N·H small products
 * and a sum over N. It is formed as dBᵀ = dyᵀ·a, [P, N·M] × [N·M, K] per head: XNNPACK packs the
 * right operand, and a (K = head width) is the smaller one. Undefined when a is broadcast too.
 */
function sharedOperandGradient(a: tf.Tensor, b: tf.Tensor, dy: tf.Tensor): tf.Tensor | undefined {
  const batch = dy.shape.slice(0, -2);
  const rank = batch.length;
  const pad = (shape: number[]): number[] => [...new Array<number>(rank - shape.length).fill(1), ...shape];
  const aBatch = pad(a.shape.slice(0, -2));
  const bBatch = pad(b.shape.slice(0, -2));
  if (aBatch.some((d, i) => d !== batch[i])) return undefined;
  const summed = batch.map((_, i) => i).filter((i) => bBatch[i] === 1 && batch[i]! > 1);
  if (summed.length === 0) return undefined;
  const kept = batch.map((_, i) => i).filter((i) => !summed.includes(i));
  const [m, k] = a.shape.slice(-2) as [number, number];
  const p = dy.shape[dy.rank - 1]!;
  const keptSize = kept.reduce((x, i) => x * batch[i]!, 1);
  const foldSize = summed.reduce((x, i) => x * batch[i]!, 1) * m;
  const a4 = tf.reshape(a, [...batch, m, k]);
  const dy4 = tf.reshape(dy, [...batch, m, p]);
  // dyᵀ as [kept…, P, summed…, M] and a as [kept…, summed…, M, K], then flattened to 3-D.
  const dyT = tf.reshape(tf.transpose(dy4, [...kept, rank + 1, ...summed, rank]), [keptSize, p, foldSize]);
  const aF = tf.reshape(tf.transpose(a4, [...kept, ...summed, rank, rank + 1]), [keptSize, foldSize, k]);
  return tf.reshape(transposeLast2(batchMatMul(dyT, aF)), b.shape);
}

tf.registerGradient({
  kernelName: BATCH_MAT_MUL,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved) => {
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    const g = dy as tf.Tensor;
    return {
      a: () => unbroadcastTo(batchMatMul(g, transposeLast2(b)), a.shape),
      b: () => sharedOperandGradient(a, b, g) ?? unbroadcastTo(batchMatMul(transposeLast2(a), g), b.shape),
    };
  },
});

/**
 * a [..., M, K] × b [..., K, N] with broadcasting batch axes, untransposed operands. When b has
 * a single matrix, a's batches are stacked into one [·, K] × [K, N] product (one GEMM, any
 * backend); on wasm a true batch goes to the aliasing XNNPACK kernel above.
 */
export function batchMatMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.rank <= 2 && b.rank <= 2) return tf.matMul(a, b);
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.rank - 1]!;
  const batch = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batchA = a.shape.slice(0, -2).reduce((x, d) => x * d, 1);
  const batchB = b.shape.slice(0, -2).reduce((x, d) => x * d, 1);
  if (batchB === 1 && batchA === batch.reduce((x, d) => x * d, 1)) {
    return tf.reshape(tf.matMul(tf.reshape(a, [batchA * m, k]), tf.reshape(b, [k, n])), [...batch, m, n]);
  }
  if (a.dtype === 'float32' && b.dtype === 'float32' && m * k * n > 0 && tf.getKernel(BATCH_MAT_MUL, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel(BATCH_MAT_MUL, { a, b }) as tf.Tensor;
  }
  return tf.matMul(a, b);
}

/**
 * `tf.matMul` with the transposes done as separate `Transpose` ops. The wasm backend's BatchMatMul
 * is 10–15× slower with `transposeA`/`transposeB` set than on pre-transposed operands (measured on
 * [320, 768] × [768, 3072]: 6–8 s vs 0.4–0.5 s), while a transpose is a cheap memory pass. Batched
 * products go through `batchMatMul`.
 */
export function matMul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  return batchMatMul(transposeA ? transposeLast2(a) : a, transposeB ? transposeLast2(b) : b);
}

/**
 * x [T, in] · wᵀ for a weight stored as PyTorch does, [out, in]. Written out, the generic matmul
 * gradient transposes wᵀ back to w for dx and produces dwᵀ, which its Transpose gradient turns
 * around again; here dx = dy · w needs no transpose and dw = dyᵀ · x comes out in w's layout, so a
 * backward pass transposes one activation-sized tensor (dy) and no weight-sized one.
 */
export function matMulTransposedWeight(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  const op = tf.customGrad<tf.Tensor2D>((...args) => {
    const [xs, ws, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([xs, ws]);
    const value = tf.matMul(xs, transposeLast2(ws)) as tf.Tensor2D;
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, sw), tf.matMul(transposeLast2(dy) as tf.Tensor2D, sx)];
    };
    return { value, gradFunc };
  });
  return op(x, w);
}
