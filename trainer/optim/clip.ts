// Gradient post-processing between backward and the optimizer step: global-norm clipping and
// micro-batch accumulation. Everything stays on the device; the only number a caller may want on
// the host is the norm, which is returned as a tensor so that reading it is the caller's choice.
import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptimOptionError } from './errors.js';

/** Gradients by parameter name (the HF checkpoint key). */
export type NamedGradients = Map<string, tf.Tensor>;

/** Added to the total norm before dividing, as torch's `clip_grad_norm_` does. */
export const CLIP_NORM_EPSILON = 1e-6;

export interface ClippedGradients {
  /** New tensors (the inputs are not disposed); scaled only when the norm exceeded the limit. */
  grads: NamedGradients;
  /** The global L2 norm before clipping (a scalar tensor the caller disposes). */
  totalNorm: tf.Scalar;
}

/**
 * torch `clip_grad_norm_(norm_type=2)`: the total norm is the L2 norm of the per-tensor L2 norms;
 * every gradient is multiplied by `min(1, maxNorm/(total + 1e-6))`. The factor is computed on the
 * device — when no clipping is needed it is exactly 1, so the gradients are unchanged bit for bit.
 */
export function clipGradNorm(grads: NamedGradients, maxNorm: number): ClippedGradients {
  if (!(maxNorm > 0 && Number.isFinite(maxNorm))) {
    throw new InvalidOptimOptionError('gradientClipNorm', maxNorm, 'must be a finite number > 0');
  }
  const names = [...grads.keys()];
  // tidy keeps tensors returned in arrays and plain objects (not in Maps), hence the array.
  const [totalNorm, ...scaled] = tf.tidy(() => {
    const list = [...grads.values()];
    // √Σg² per tensor rather than tf.norm, which squares through Pow (|g|^2): a third of the
    // update's time on wasm for a base-width model.
    const l2 = (t: tf.Tensor): tf.Tensor => tf.sqrt(tf.sum(tf.square(t)));
    const total: tf.Scalar = list.length === 0 ? tf.scalar(0) : tf.reshape(l2(tf.stack(list.map(l2))), []) as tf.Scalar;
    const factor = tf.minimum(tf.div(tf.scalar(maxNorm), tf.add(total, tf.scalar(CLIP_NORM_EPSILON))), tf.scalar(1));
    return [total, ...list.map((g) => tf.mul(g, factor))];
  });
  return { grads: new Map(names.map((n, i) => [n, scaled[i]!])), totalNorm: totalNorm as tf.Scalar };
}

/**
 * Sums the gradients of k micro-batches and hands out their mean: the same update as one batch
 * k times larger when each micro-batch loss is a mean over equally many examples. When they are
 * not (the short last micro-batch of an epoch), pass each one's example count as its weight:
 * the result is then Σ nᵢ·gᵢ / Σ nᵢ, exactly the gradient of the whole batch's mean loss. A
 * parameter missing from some micro-batches is summed over those it appears in and still divided
 * by the total weight.
 */
export class GradientAccumulator {
  private sums: NamedGradients = new Map();
  private added = 0;
  private weight = 0;

  /** Micro-batches added since the last `mean()`. */
  get count(): number {
    return this.added;
  }

  /**
   * Adds one micro-batch's gradients (the caller keeps ownership of `grads`), weighted by
   * `weight` — its example count when micro-batches differ in size. @default weight 1
   */
  add(grads: NamedGradients, weight = 1): void {
    if (!(weight > 0 && Number.isFinite(weight))) throw new InvalidOptimOptionError('gradientAccumulation.weight', weight, 'must be a finite number > 0');
    for (const [name, g] of grads) {
      const prev = this.sums.get(name);
      const next = tf.tidy(() => {
        const scaled = weight === 1 ? tf.clone(g) : tf.mul(g, tf.scalar(weight));
        return prev ? tf.add(prev, scaled) : scaled;
      });
      this.sums.set(name, next);
      prev?.dispose();
    }
    this.added += 1;
    this.weight += weight;
  }

  /** The weighted mean over the micro-batches added so far (new tensors); the accumulator starts over. */
  mean(): NamedGradients {
    if (this.added === 0) throw new InvalidOptimOptionError('gradientAccumulation.count', 0, 'no micro-batch was added');
    const total = this.weight;
    const out: NamedGradients = new Map();
    for (const [name, sum] of this.sums) {
      out.set(name, tf.tidy(() => tf.div(sum, tf.scalar(total))));
    }
    this.dispose();
    return out;
  }

  /** Drops the partial sums; safe to call more than once. */
  dispose(): void {
    for (const t of this.sums.values()) t.dispose();
    this.sums = new Map();
    this.added = 0;
    this.weight = 0;
  }
}
