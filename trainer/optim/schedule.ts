// Learning-rate schedules as multipliers of each group's base rate, and the batch-size scaling
// rule that turns a pre-training learning rate into a fine-tuning one.
//
// Step convention (all schedules): `multiplier(step)` is the factor for the update with 0-based
// index `step`, i.e. the number of optimizer steps already taken. This is what HF's LambdaLR
// produces: the scheduler is created with lambda(0), the first `optimizer.step()` uses it, then
// `scheduler.step()` moves to lambda(1). With warm-up the first update therefore has rate 0 —
// HF spends one step on nothing, and so do we, to stay comparable with HF-trained baselines.
import { InvalidOptimOptionError } from './errors.js';

/** A learning-rate schedule: the multiplier for update number `step` (0-based). */
export interface Schedule {
  readonly name: ScheduleName;
  /** Optimizer steps the schedule spans. */
  readonly totalSteps: number;
  /** Steps of linear warm-up (0 for none). */
  readonly warmupSteps: number;
  multiplier(step: number): number;
}

/** Schedules selectable by `training.schedule`. */
export const SCHEDULE_NAMES = ['linear', 'cosine', 'constant', 'warmup_linear'] as const;
export type ScheduleName = (typeof SCHEDULE_NAMES)[number];

export interface WarmupOptions {
  /** Total optimizer steps of the run (≥ 1). */
  totalSteps: number;
  /** Warm-up length in steps. Give this or `warmupRatio`, not both. @default 0 */
  warmupSteps?: number;
  /** Warm-up length as a fraction of `totalSteps`, rounded up as HF does. @default 0 */
  warmupRatio?: number;
}

/**
 * Warm-up steps for a ratio, exactly as HF `TrainingArguments.get_warmup_steps`:
 * `ceil(totalSteps · ratio)` in double precision (so 0.1 of 45 steps is 5).
 */
export function warmupStepsFor(totalSteps: number, warmupRatio: number): number {
  return Math.ceil(totalSteps * warmupRatio);
}

function compileWarmup(opts: WarmupOptions, place: string): { totalSteps: number; warmupSteps: number } {
  const { totalSteps, warmupSteps, warmupRatio } = opts;
  if (!Number.isInteger(totalSteps) || totalSteps < 1) {
    throw new InvalidOptimOptionError(`${place}.totalSteps`, totalSteps, 'must be an integer ≥ 1');
  }
  if (warmupSteps !== undefined && warmupRatio !== undefined) {
    throw new InvalidOptimOptionError(`${place}.warmupSteps`, warmupSteps, 'give warmupSteps or warmupRatio, not both');
  }
  if (warmupRatio !== undefined) {
    if (!(warmupRatio >= 0 && warmupRatio <= 1)) {
      throw new InvalidOptimOptionError(`${place}.warmupRatio`, warmupRatio, 'must be in [0, 1]');
    }
    return { totalSteps, warmupSteps: warmupStepsFor(totalSteps, warmupRatio) };
  }
  const steps = warmupSteps ?? 0;
  if (!Number.isInteger(steps) || steps < 0 || steps > totalSteps) {
    throw new InvalidOptimOptionError(`${place}.warmupSteps`, steps, `must be an integer in [0, totalSteps=${totalSteps}]`);
  }
  return { totalSteps, warmupSteps: steps };
}

/**
 * HF `get_linear_schedule_with_warmup`: `step/W` for `step < W`, then
 * `max(0, (T − step)/max(1, T − W))` — the peak (1) is reached at `step = W` and the last update
 * (`step = T − 1`) has `1/(T − W)`; from `step = T` on it is 0.
 */
export function linearWarmupDecay(opts: WarmupOptions): Schedule {
  const { totalSteps, warmupSteps } = compileWarmup(opts, 'linear');
  return {
    name: 'linear',
    totalSteps,
    warmupSteps,
    multiplier(step: number): number {
      if (step < warmupSteps) return step / Math.max(1, warmupSteps);
      return Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
    },
  };
}

/**
 * HF `get_cosine_schedule_with_warmup` (half a cosine wave): `step/W` for `step < W`, then with
 * `p = (step − W)/max(1, T − W)`, `max(0, (1 + cos(π·p))/2)` — 1 at the peak, 0 at `step = T`.
 */
export function cosineWarmupDecay(opts: WarmupOptions): Schedule {
  const { totalSteps, warmupSteps } = compileWarmup(opts, 'cosine');
  return {
    name: 'cosine',
    totalSteps,
    warmupSteps,
    multiplier(step: number): number {
      if (step < warmupSteps) return step / Math.max(1, warmupSteps);
      const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
      return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
    },
  };
}

/** No schedule: every update uses the group's rate. */
export function constantSchedule(opts: { totalSteps: number }): Schedule {
  const { totalSteps } = compileWarmup({ totalSteps: opts.totalSteps }, 'constant');
  return { name: 'constant', totalSteps, warmupSteps: 0, multiplier: () => 1 };
}

/**
 * The DeBERTa repo's `warmup_linear` (`DeBERTa/optims/lr_schedulers.py`, called with the
 * per-parameter step before it is incremented, i.e. 0-based like ours): with `x = step/T` taken
 * modulo 1 and `w = W/T`, `x/w` while `x < w`, else `1 − x`. Unlike HF the decay is not shifted
 * by the warm-up, so the rate drops from 1 to `1 − w` right after warm-up, and the schedule
 * restarts after `T` steps as the original does.
 */
export function debertaWarmupLinear(opts: WarmupOptions): Schedule {
  const { totalSteps, warmupSteps } = compileWarmup(opts, 'warmup_linear');
  const warmup = warmupSteps / totalSteps;
  return {
    name: 'warmup_linear',
    totalSteps,
    warmupSteps,
    multiplier(step: number): number {
      const ratio = step / totalSteps;
      const x = ratio - Math.trunc(ratio);
      if (x < warmup) return x / warmup;
      return 1 - x;
    },
  };
}

/** The schedule `training.schedule` names. */
export function makeSchedule(name: ScheduleName, opts: WarmupOptions): Schedule {
  switch (name) {
    case 'linear':
      return linearWarmupDecay(opts);
    case 'cosine':
      return cosineWarmupDecay(opts);
    case 'constant':
      return constantSchedule(opts);
    case 'warmup_linear':
      return debertaWarmupLinear(opts);
    default:
      throw new InvalidOptimOptionError('schedule', name, `must be one of ${SCHEDULE_NAMES.join(', ')}`);
  }
}

/** How a learning rate follows the batch size. */
export type LearningRateScaling = 'linear' | 'sqrt';

/**
 * `training.learningRate`: a fixed value, or a rate tuned at `baseBatchSize` rescaled to
 * `batchSize` (linear: `base·batch/baseBatch`, Goyal et al.; sqrt: `base·√(batch/baseBatch)`,
 * the rule often argued for Adam — see science.md §2.1 for which anchor the project uses).
 */
export type ScaledLearningRateOptions =
  | { value: number }
  | {
      base: number;
      baseBatchSize: number;
      batchSize: number;
      /** @default 'linear' */
      scaling?: LearningRateScaling;
    };

/** The learning rate to use: `1e-4` at 256 → `1.7578125e-5` at 45 (linear) or `4.19e-5` (sqrt). */
export function scaledLearningRate(opts: ScaledLearningRateOptions): number {
  if ('value' in opts) {
    if (!(opts.value > 0 && Number.isFinite(opts.value))) {
      throw new InvalidOptimOptionError('learningRate.value', opts.value, 'must be a finite number > 0');
    }
    return opts.value;
  }
  const { base, baseBatchSize, batchSize, scaling = 'linear' } = opts;
  if (!(base > 0 && Number.isFinite(base))) {
    throw new InvalidOptimOptionError('learningRate.base', base, 'must be a finite number > 0');
  }
  if (!(baseBatchSize > 0 && Number.isFinite(baseBatchSize))) {
    throw new InvalidOptimOptionError('learningRate.baseBatchSize', baseBatchSize, 'must be > 0');
  }
  if (!(batchSize > 0 && Number.isFinite(batchSize))) {
    throw new InvalidOptimOptionError('batchSize', batchSize, 'must be > 0');
  }
  const ratio = batchSize / baseBatchSize;
  switch (scaling) {
    case 'linear':
      return base * ratio;
    case 'sqrt':
      return base * Math.sqrt(ratio);
    default:
      throw new InvalidOptimOptionError('learningRate.scaling', scaling, "must be 'linear' or 'sqrt'");
  }
}
