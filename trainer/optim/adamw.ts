// AdamW with the exact arithmetic of `torch.optim.AdamW` (single-tensor path, amsgrad off), so a
// run here can be checked step for step against a PyTorch reference (the tiny fixture does).
//
// Per parameter with a gradient, at its own step count t (torch keeps one per parameter):
//   p ← p·(1 − lr·wd)                                   decoupled decay, before the Adam update
//   m ← β1·m + (1 − β1)·g;   v ← β2·v + (1 − β2)·g²
//   p ← p − (lr/(1 − β1^t)) · m / (√v/√(1 − β2^t) + ε)  ε outside the bias-corrected root
// Scalars (lr, bias corrections) are computed in double precision on the host, as torch does in
// Python, then used as float32 on the device. A parameter without a gradient in a step is skipped
// entirely: no decay, no moment update, its t does not advance — so frozen tensors stay
// bit-identical even though they remain in a group.
import * as tf from '@tensorflow/tfjs-core';
import {
  DuplicateParameterError,
  InvalidOptimOptionError,
  OptimizerStateError,
  UngroupedGradientError,
  UnknownOptimParameterError,
} from './errors.js';

/** Parameters that share a learning rate and a weight decay. */
export interface ParamGroup {
  /** HF checkpoint names of the parameters. */
  names: string[];
  /** Learning rate before the schedule's multiplier. */
  lr: number;
  /** Decoupled weight decay coefficient (0 for none). */
  weightDecay: number;
  /** A short description for logs, e.g. `depth 3, decay`. */
  label?: string;
}

/** β1, β2 as in DeBERTa's and torch's defaults. @default [0.9, 0.999] */
export const DEFAULT_BETAS: readonly [number, number] = [0.9, 0.999];
/** ε of the DeBERTa recipe (`DeBERTa/optims/args.py`); torch's own default is 1e-8. @default 1e-6 */
export const DEFAULT_EPS = 1e-6;

export interface AdamWOptions {
  /** @default DEFAULT_BETAS */
  betas?: readonly [number, number];
  /** @default DEFAULT_EPS */
  eps?: number;
}

/** State-map key of the optimizer's own step counter (number of `step()` calls). */
export const ITERATIONS_KEY = '@iterations';
const SUFFIX_M = '.exp_avg';
const SUFFIX_V = '.exp_avg_sq';
const SUFFIX_STEP = '.step';

interface Moments {
  m: tf.Tensor;
  v: tf.Tensor;
  step: number;
}

function checkRate(field: string, value: number): void {
  if (!(value >= 0 && Number.isFinite(value))) throw new InvalidOptimOptionError(field, value, 'must be a finite number ≥ 0');
}

/**
 * Decoupled-weight-decay Adam over named TF.js variables. Create it with the model's parameters
 * and the groups from `buildParamGroups`; call `step(grads, scheduleMultiplier)` once per update.
 * `step` does not dispose the gradients it is given; `dispose()` frees the moments.
 */
export class AdamW {
  readonly groups: readonly ParamGroup[];
  readonly betas: readonly [number, number];
  readonly eps: number;
  private readonly params: Map<string, tf.Variable>;
  private readonly groupOf = new Map<string, number>();
  private readonly moments = new Map<string, Moments>();
  private readonly constants: { b1: tf.Scalar; oneMinusB1: tf.Scalar; b2: tf.Scalar; oneMinusB2: tf.Scalar; eps: tf.Scalar };
  private steps = 0;

  constructor(params: Map<string, tf.Variable>, groups: ParamGroup[], options: AdamWOptions = {}) {
    const betas = options.betas ?? DEFAULT_BETAS;
    const eps = options.eps ?? DEFAULT_EPS;
    betas.forEach((b, i) => {
      if (!(b >= 0 && b < 1)) throw new InvalidOptimOptionError(`adamw.betas[${i}]`, b, 'must be in [0, 1)');
    });
    checkRate('adamw.eps', eps);
    groups.forEach((g, gi) => {
      checkRate(`adamw.groups[${gi}].lr`, g.lr);
      checkRate(`adamw.groups[${gi}].weightDecay`, g.weightDecay);
      for (const name of g.names) {
        if (!params.has(name)) throw new UnknownOptimParameterError(name, `adamw.groups[${gi}]`);
        const prev = this.groupOf.get(name);
        if (prev !== undefined) throw new DuplicateParameterError(name, [prev, gi]);
        this.groupOf.set(name, gi);
      }
    });
    this.params = params;
    this.groups = groups.map((g) => ({ ...g, names: [...g.names] }));
    this.betas = [betas[0], betas[1]];
    this.eps = eps;
    this.constants = {
      b1: tf.keep(tf.scalar(betas[0])),
      oneMinusB1: tf.keep(tf.scalar(1 - betas[0])),
      b2: tf.keep(tf.scalar(betas[1])),
      oneMinusB2: tf.keep(tf.scalar(1 - betas[1])),
      eps: tf.keep(tf.scalar(eps)),
    };
  }

  /** Number of `step()` calls so far (restored by `setState`). */
  get iterations(): number {
    return this.steps;
  }

  /** Each group's effective learning rate under a schedule multiplier, in group order (for logs). */
  learningRates(lrMultiplier = 1): number[] {
    return this.groups.map((g) => g.lr * lrMultiplier);
  }

  /**
   * One update of every parameter that has a gradient in `grads`, with each group's rate times
   * `lrMultiplier` (the schedule's value for this step). Queues device work only; nothing is read
   * back to the host.
   */
  step(grads: Map<string, tf.Tensor>, lrMultiplier = 1): void {
    checkRate('adamw.step.lrMultiplier', lrMultiplier);
    for (const [name, g] of grads) {
      if (!this.groupOf.has(name)) {
        if (this.params.has(name)) throw new UngroupedGradientError(name);
        throw new UnknownOptimParameterError(name, 'adamw.step gradients');
      }
      const p = this.params.get(name)!;
      if (!tf.util.arraysEqual(g.shape, p.shape)) {
        throw new InvalidOptimOptionError(`adamw.step gradients['${name}'].shape`, g.shape, `must equal the parameter's shape [${p.shape.join(', ')}]`);
      }
    }
    const [beta1, beta2] = this.betas;
    const { b1, oneMinusB1, b2, oneMinusB2, eps } = this.constants;
    // Scalars shared by every parameter of a group at the same step count, uploaded once.
    const scalars = new Map<string, { decay: tf.Scalar | null; stepSize: tf.Scalar; bc2Sqrt: tf.Scalar }>();
    try {
      for (const [name, g] of grads) {
        const gi = this.groupOf.get(name)!;
        const group = this.groups[gi]!;
        const p = this.params.get(name)!;
        let st = this.moments.get(name);
        if (!st) {
          st = { m: tf.zerosLike(p), v: tf.zerosLike(p), step: 0 };
          this.moments.set(name, st);
        }
        const t = st.step + 1;
        const key = `${gi}:${t}`;
        let sc = scalars.get(key);
        if (!sc) {
          const lr = group.lr * lrMultiplier;
          const decay = 1 - lr * group.weightDecay;
          sc = {
            // A factor of exactly 1 is skipped: multiplying by it is the identity anyway.
            decay: decay === 1 ? null : tf.scalar(decay),
            stepSize: tf.scalar(lr / (1 - beta1 ** t)),
            bc2Sqrt: tf.scalar(Math.sqrt(1 - beta2 ** t)),
          };
          scalars.set(key, sc);
        }
        const { decay, stepSize, bc2Sqrt } = sc;
        const prev = st;
        const [m, v] = tf.tidy(() => {
          const decayed = decay ? tf.mul(p, decay) : p;
          const m = tf.add(tf.mul(prev.m, b1), tf.mul(g, oneMinusB1));
          const v = tf.add(tf.mul(prev.v, b2), tf.mul(tf.square(g), oneMinusB2));
          const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), eps);
          p.assign(tf.sub(decayed, tf.mul(stepSize, tf.div(m, denom))));
          return [m, v];
        });
        prev.m.dispose();
        prev.v.dispose();
        this.moments.set(name, { m: m!, v: v!, step: t });
      }
    } finally {
      for (const sc of scalars.values()) {
        sc.decay?.dispose();
        sc.stepSize.dispose();
        sc.bc2Sqrt.dispose();
      }
    }
    this.steps += 1;
  }

  /**
   * The optimizer state as named tensors (copies the caller disposes): `<param>.exp_avg`,
   * `<param>.exp_avg_sq`, `<param>.step` (float32 scalar, exact below 2^24) for every parameter
   * that has been updated, and `@iterations`. Saved beside the weights, it resumes exactly.
   */
  getState(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [name, st] of this.moments) {
      out.set(name + SUFFIX_M, tf.clone(st.m));
      out.set(name + SUFFIX_V, tf.clone(st.v));
      out.set(name + SUFFIX_STEP, tf.scalar(st.step));
    }
    out.set(ITERATIONS_KEY, tf.scalar(this.steps));
    return out;
  }

  /**
   * Replaces the whole state with one saved by `getState` (tensors are copied; the caller keeps
   * ownership). Parameters without saved moments start fresh, as in torch. Reads the step
   * counters back to the host (a handful of scalars, once per resume).
   */
  setState(state: Map<string, tf.Tensor>): void {
    const parts = new Map<string, { m?: tf.Tensor; v?: tf.Tensor; step?: tf.Tensor }>();
    let iterations = 0;
    for (const [key, tensor] of state) {
      if (key === ITERATIONS_KEY) {
        iterations = readCount(key, tensor);
        continue;
      }
      const [name, field] = key.endsWith(SUFFIX_V)
        ? [key.slice(0, -SUFFIX_V.length), 'v' as const]
        : key.endsWith(SUFFIX_M)
          ? [key.slice(0, -SUFFIX_M.length), 'm' as const]
          : key.endsWith(SUFFIX_STEP)
            ? [key.slice(0, -SUFFIX_STEP.length), 'step' as const]
            : [key, null];
      if (field === null) throw new OptimizerStateError(key, `not a state key (expected <param>${SUFFIX_M}, ${SUFFIX_V}, ${SUFFIX_STEP} or ${ITERATIONS_KEY})`);
      const p = this.params.get(name);
      if (!p) throw new UnknownOptimParameterError(name, `optimizer state '${key}'`);
      if (!this.groupOf.has(name)) throw new OptimizerStateError(key, `parameter '${name}' is in no group of this optimizer`);
      if (field !== 'step' && !tf.util.arraysEqual(tensor.shape, p.shape)) {
        throw new OptimizerStateError(key, `shape [${tensor.shape.join(', ')}] differs from the parameter's [${p.shape.join(', ')}]`);
      }
      const entry = parts.get(name) ?? {};
      entry[field] = tensor;
      parts.set(name, entry);
    }
    const restored = new Map<string, Moments>();
    for (const [name, e] of parts) {
      for (const [field, suffix] of [['m', SUFFIX_M], ['v', SUFFIX_V], ['step', SUFFIX_STEP]] as const) {
        if (!e[field]) throw new OptimizerStateError(name + suffix, 'missing (the other moments of this parameter are present)');
      }
      restored.set(name, { m: tf.clone(e.m!), v: tf.clone(e.v!), step: readCount(name + SUFFIX_STEP, e.step!) });
    }
    this.clearMoments();
    for (const [name, st] of restored) this.moments.set(name, st);
    this.steps = iterations;
  }

  /** Frees the moments and constants; safe to call twice. The parameters are not touched. */
  dispose(): void {
    this.clearMoments();
    for (const c of Object.values(this.constants)) if (!c.isDisposed) c.dispose();
  }

  private clearMoments(): void {
    for (const st of this.moments.values()) {
      st.m.dispose();
      st.v.dispose();
    }
    this.moments.clear();
  }
}

function readCount(key: string, tensor: tf.Tensor): number {
  if (tensor.size !== 1) throw new OptimizerStateError(key, `must be a scalar, got shape [${tensor.shape.join(', ')}]`);
  const value = tensor.dataSync()[0]!;
  if (!Number.isInteger(value) || value < 0) throw new OptimizerStateError(key, `must be a non-negative integer, got ${value}`);
  return value;
}
