// Every default of the FineTuneJob spec lives here. The schema's `default`s (schema.ts) are
// built from these constants, and `withDefaults` applies the same values offline (the local
// runtime never passes through an API server that would default the object).
import { firstAblationName } from './matrix.js';
import type {
  FineTuneJobSpec,
  LayerwiseLearningRate,
  LearningRate,
  ResolvedFineTuneJobSpec,
  ResolvedTrainingConfig,
  TrainingConfig,
} from './types.js';

/** @default 1 */
export const DEFAULT_EPOCHS = 1;
/** Questions per optimizer step. @default 45 */
export const DEFAULT_BATCH_SIZE = 45;
/** @default 1 */
export const DEFAULT_GRADIENT_ACCUMULATION_STEPS = 1;
/**
 * The pre-training recipe's rate at its batch size, scaled linearly to ours
 * (1e-4 · 45/256 = 1.7578e-5 at the default batch size; see DESIGN.md).
 * @default {base: 1e-4, baseBatchSize: 256, scaling: 'linear'}
 */
export const DEFAULT_LEARNING_RATE: LearningRate = { base: 1.0e-4, baseBatchSize: 256, scaling: 'linear' };
/** Applied when a scaled learning rate names no `scaling`. @default 'linear' */
export const DEFAULT_LEARNING_RATE_SCALING = 'linear' as const;
/** Fraction of the optimizer steps spent warming the rate up linearly. @default 0.1 */
export const DEFAULT_WARMUP_RATIO = 0.1;
/** @default 'linear' */
export const DEFAULT_SCHEDULE = 'linear' as const;
/** @default {name: 'adamw', betas: [0.9, 0.999], eps: 1e-6, weightDecay: 0.01} */
export const DEFAULT_OPTIMIZER = { name: 'adamw', betas: [0.9, 0.999], eps: 1.0e-6, weightDecay: 0.01 } as const;
/** Global gradient-norm clip; 0 disables. @default 1.0 */
export const DEFAULT_GRADIENT_CLIP_NORM = 1.0;
/** Head-only warm-up before the backbone unfreezes. @default {steps: 200, learningRate: 1e-3} */
export const DEFAULT_HEAD_WARMUP = { steps: 200, learningRate: 1.0e-3 } as const;
/** @default false */
export const DEFAULT_FREEZE_EMBEDDINGS = false;
/** @default 'word' */
export const DEFAULT_FREEZE_EMBEDDINGS_SCOPE = 'word' as const;
/** @default null (one learning rate for every layer) */
export const DEFAULT_LAYERWISE_LEARNING_RATE = null;
/** The bottom layer's share of the top layer's rate. @default 0.1 */
export const DEFAULT_LAYERWISE_MIN_RATIO = 0.1;
/** @default 'auto' (first backend that initialises: webgpu, tensorflow-gpu, wasm, cpu) */
export const DEFAULT_BACKEND = 'auto' as const;
/** Optimizer steps between checkpoints. @default 50 */
export const DEFAULT_CHECKPOINT_EVERY_STEPS = 50;
/** Questions per forward pass when predicting the validation set. @default 16 */
export const DEFAULT_EVAL_BATCH_SIZE = 16;

/** Tokens per (question, option) sequence. @default 256 */
export const DEFAULT_MAX_LENGTH = 256;
/** Answer options per question (A–E in the Science Exam data). @default 5 */
export const DEFAULT_NUM_OPTIONS = 5;
/** @default [0, 1, 2] */
export const DEFAULT_SEEDS: readonly number[] = [0, 1, 2];
/** Runs in flight at once. @default 4 */
export const DEFAULT_PARALLELISM = 4;
/** Retries per run (Job `backoffLimit`). @default 2 */
export const DEFAULT_BACKOFF_LIMIT = 2;
/** Per-run deadline in seconds (Job `activeDeadlineSeconds`). @default 86400 (one day) */
export const DEFAULT_ACTIVE_DEADLINE_SECONDS = 86_400;
/** @default false */
export const DEFAULT_SUSPEND = false;
/** MAP@k's k. @default 3 */
export const DEFAULT_K = 3;
/** @default 'mean-probabilities' */
export const DEFAULT_ENSEMBLE = 'mean-probabilities' as const;
/** Paired-bootstrap resamples. @default 10000 */
export const DEFAULT_BOOTSTRAP_RESAMPLES = 10_000;
/** Two-sided confidence of the reported interval. @default 0.95 */
export const DEFAULT_BOOTSTRAP_CONFIDENCE = 0.95;
/** @default 0 */
export const DEFAULT_BOOTSTRAP_SEED = 0;
/** Whether the bootstrap also resamples each ensemble's training seeds. @default false */
export const DEFAULT_BOOTSTRAP_RESAMPLE_SEEDS = false;

/** Every training default, as one resolved config. */
export function defaultTraining(): ResolvedTrainingConfig {
  return {
    epochs: DEFAULT_EPOCHS,
    batchSize: DEFAULT_BATCH_SIZE,
    gradientAccumulationSteps: DEFAULT_GRADIENT_ACCUMULATION_STEPS,
    learningRate: { ...DEFAULT_LEARNING_RATE },
    warmupRatio: DEFAULT_WARMUP_RATIO,
    schedule: DEFAULT_SCHEDULE,
    optimizer: { ...DEFAULT_OPTIMIZER, betas: [...DEFAULT_OPTIMIZER.betas] },
    gradientClipNorm: DEFAULT_GRADIENT_CLIP_NORM,
    headWarmup: { ...DEFAULT_HEAD_WARMUP },
    freezeEmbeddings: DEFAULT_FREEZE_EMBEDDINGS,
    freezeEmbeddingsScope: DEFAULT_FREEZE_EMBEDDINGS_SCOPE,
    layerwiseLearningRate: DEFAULT_LAYERWISE_LEARNING_RATE,
    backend: DEFAULT_BACKEND,
    checkpointEverySteps: DEFAULT_CHECKPOINT_EVERY_STEPS,
    evalBatchSize: DEFAULT_EVAL_BATCH_SIZE,
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Which form of a union object `v` is (undefined: not a union, or `v` does not say). A change
 * of form replaces the base's object; an overlay that does not name its form merges.
 */
function formOf(field: string, v: Record<string, unknown>): string | undefined {
  if (field === 'learningRate') {
    if ('value' in v) return 'fixed';
    return 'base' in v || 'baseBatchSize' in v || 'scaling' in v ? 'scaled' : undefined;
  }
  if (field === 'layerwiseLearningRate') return typeof v['schedule'] === 'string' ? v['schedule'] : undefined;
  return undefined;
}

/**
 * Deep-merges `overlay` over `base`: objects merge key by key, arrays and scalars (and null)
 * replace. A learning rate or layer-wise schedule of a different form replaces the base's, so
 * an ablation's `{value: 2e-5}` never mixes with the spec's `{base, baseBatchSize}`.
 */
export function mergeTraining<T extends object>(base: T, overlay: TrainingConfig | undefined): T {
  if (overlay === undefined) return structuredClone(base);
  return mergeObjects(base as Record<string, unknown>, overlay as Record<string, unknown>) as T;
}

function mergeObjects(base: Record<string, unknown>, overlay: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(base);
  for (const [key, value] of Object.entries(overlay)) {
    if (value === undefined) continue;
    const prev = out[key];
    const form = isPlainObject(value) ? formOf(key, value) : undefined;
    if (isPlainObject(prev) && isPlainObject(value) && (form === undefined || form === formOf(key, prev))) {
      out[key] = mergeObjects(prev, value);
    } else {
      out[key] = structuredClone(value);
    }
  }
  return out;
}

/** Fills the defaults that live inside a learning-rate or layer-wise object. */
function completeNested(t: ResolvedTrainingConfig): ResolvedTrainingConfig {
  const lr = t.learningRate as unknown as Record<string, unknown>;
  if ('base' in lr && lr['scaling'] === undefined) lr['scaling'] = DEFAULT_LEARNING_RATE_SCALING;
  const lw = t.layerwiseLearningRate as (LayerwiseLearningRate & { minRatio?: number }) | null;
  if (lw !== null && lw.minRatio === undefined) lw.minRatio = DEFAULT_LAYERWISE_MIN_RATIO;
  return t;
}

/** `overlays` merged in order over every training default. */
export function resolveTraining(...overlays: Array<TrainingConfig | undefined>): ResolvedTrainingConfig {
  let t = defaultTraining();
  for (const o of overlays) t = mergeTraining(t, o);
  return completeNested(t);
}

/** The learning rate the main phase actually uses, after batch-size scaling. */
export function effectiveLearningRate(t: Pick<ResolvedTrainingConfig, 'learningRate' | 'batchSize'>): number {
  const lr = t.learningRate;
  if ('value' in lr) return lr.value;
  const ratio = t.batchSize / lr.baseBatchSize;
  return lr.base * ((lr.scaling ?? DEFAULT_LEARNING_RATE_SCALING) === 'sqrt' ? Math.sqrt(ratio) : ratio);
}

/** The spec with every default applied (the input is not modified). */
export function withDefaults(spec: FineTuneJobSpec): ResolvedFineTuneJobSpec {
  const s = structuredClone(spec);
  const evaluation = s.evaluation ?? {};
  return {
    ...s,
    model: { ...s.model, maxLength: s.model.maxLength ?? DEFAULT_MAX_LENGTH },
    data: { ...s.data, numOptions: s.data.numOptions ?? DEFAULT_NUM_OPTIONS },
    training: resolveTraining(s.training),
    seeds: s.seeds ?? [...DEFAULT_SEEDS],
    execution: {
      parallelism: s.execution?.parallelism ?? DEFAULT_PARALLELISM,
      backoffLimit: s.execution?.backoffLimit ?? DEFAULT_BACKOFF_LIMIT,
      activeDeadlineSeconds: s.execution?.activeDeadlineSeconds ?? DEFAULT_ACTIVE_DEADLINE_SECONDS,
    },
    template: s.template ?? {},
    suspend: s.suspend ?? DEFAULT_SUSPEND,
    scheduling: {
      queueName: s.scheduling?.queueName ?? null,
      priorityClassName: s.scheduling?.priorityClassName ?? null,
    },
    evaluation: {
      k: evaluation.k ?? DEFAULT_K,
      ensemble: evaluation.ensemble ?? DEFAULT_ENSEMBLE,
      baseline: evaluation.baseline ?? firstAblationName(s.ablations),
      bootstrap: {
        resamples: evaluation.bootstrap?.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES,
        confidence: evaluation.bootstrap?.confidence ?? DEFAULT_BOOTSTRAP_CONFIDENCE,
        seed: evaluation.bootstrap?.seed ?? DEFAULT_BOOTSTRAP_SEED,
        // Not filled in when absent: a spec without it resolves, and records, exactly as before.
        ...(evaluation.bootstrap?.resampleSeeds === undefined ? {} : { resampleSeeds: evaluation.bootstrap.resampleSeeds }),
      },
    },
  };
}
