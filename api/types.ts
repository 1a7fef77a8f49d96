// The FineTuneJob resource (ablate.dev/v1alpha1) as TypeScript types. The JSON schema in
// schema.ts is the source of truth for what the API server accepts; these types mirror it and
// test/api/schema.test.ts checks that the two agree on the training fields.

export const API_GROUP = 'ablate.dev';
export const API_VERSION = 'v1alpha1';
export const KIND = 'FineTuneJob';
/** `apiVersion` as written in a manifest. */
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

export type Backend = 'auto' | 'webgpu' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
/** `training.schedule`: the learning-rate schedules of the trainer's `makeSchedule` (docs/api.md). */
export type LrSchedule = 'linear' | 'cosine' | 'constant' | 'warmup_linear';

/** A fixed learning rate. */
export interface FixedLearningRate {
  value: number;
}
/**
 * A learning rate scaled from a reference batch size (the pre-training recipe):
 * `base · batchSize / baseBatchSize` (linear) or `base · sqrt(batchSize / baseBatchSize)` (sqrt).
 */
export interface ScaledLearningRate {
  base: number;
  baseBatchSize: number;
  scaling: 'linear' | 'sqrt';
}
/** Exactly one form; the schema's CEL rule rejects both or neither. */
export type LearningRate = FixedLearningRate | ScaledLearningRate;

export interface OptimizerConfig {
  name: 'adamw';
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

/** Phase 1: backbone frozen, only the classification head trains. `steps: 0` disables it. */
export interface HeadWarmup {
  steps: number;
  learningRate: number;
}

/**
 * Per-layer learning rates: the top encoder layer gets the full rate, the embeddings
 * `minRatio` of it; `cosine` interpolates on a half cosine, `geometric` multiplies by `decay`
 * per layer (floored at `minRatio`).
 */
export interface LayerwiseLearningRate {
  schedule: 'cosine' | 'geometric';
  minRatio: number;
  /** Geometric only: the factor per layer going down. */
  decay?: number;
}

/** Every training setting with its default applied (see defaults.ts). */
export interface ResolvedTrainingConfig {
  epochs: number;
  /** Questions per optimizer step (summed over the gradient-accumulation micro-batches). */
  batchSize: number;
  gradientAccumulationSteps: number;
  learningRate: LearningRate;
  warmupRatio: number;
  schedule: LrSchedule;
  optimizer: OptimizerConfig;
  /** 0 disables clipping. */
  gradientClipNorm: number;
  headWarmup: HeadWarmup;
  freezeEmbeddings: boolean;
  /** `word`: only the word-embedding matrix; `all`: every embedding (word, position, LayerNorm). */
  freezeEmbeddingsScope: 'word' | 'all';
  layerwiseLearningRate: LayerwiseLearningRate | null;
  backend: Backend;
  checkpointEverySteps: number;
  /** Questions per forward pass when predicting the validation set. */
  evalBatchSize: number;
  /** Stops training after this many optimizer steps (absent: no cap). */
  maxSteps?: number;
}

type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/**
 * Training settings as written in a spec or an ablation overlay: every field optional. An
 * overlay's `{base}` alone keeps the spec's baseBatchSize and scaling (same form merges).
 */
export type TrainingConfig = {
  [K in keyof ResolvedTrainingConfig]?: K extends 'learningRate'
    ? LearningRate | Partial<ScaledLearningRate>
    : K extends 'layerwiseLearningRate'
      ? Partial<LayerwiseLearningRate> | null
      : DeepPartial<ResolvedTrainingConfig[K]>;
};

export interface Ablation {
  /** DNS-1123 label, at most 40 characters. */
  name: string;
  description?: string;
  /** Deep-merged over `spec.training`. */
  training?: TrainingConfig;
  /**
   * Training field path (e.g. `learningRate.value`) → values. Expands into one ablation per
   * combination, named `<name>-<key>-<value>-…` (see expand.ts).
   */
  matrix?: Record<string, unknown[]>;
  /** Replaces `spec.data.train` for this ablation (e.g. original + LLM-generated questions). The validation set stays shared, so comparisons stay paired. */
  data?: { train: TrainData };
}

export interface FileRef {
  uri: string;
  /** Hex sha256 of the file; checked before training when given. */
  sha256?: string;
}

/** One training file (`uri`) or several concatenated in order (`files`), never both. */
export type TrainData = { uri: string; sha256?: string } | { files: FileRef[] };

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: Record<string, unknown>;
}
export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}
export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

/** Merged into every trainer pod on the cluster; ignored by the local runtime. */
export interface PodTemplate {
  image?: string;
  resources?: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
  env?: EnvVar[];
  volumes?: Array<Record<string, unknown> & { name: string }>;
  volumeMounts?: VolumeMount[];
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  affinity?: Record<string, unknown>;
  imagePullSecrets?: Array<{ name: string }>;
  priorityClassName?: string | null;
}

export interface Evaluation {
  k?: number;
  ensemble?: 'mean-probabilities';
  /** Defaults to the first (expanded) ablation. */
  baseline?: string;
  bootstrap?: {
    resamples?: number;
    confidence?: number;
    seed?: number;
    /**
     * Also report the seed-aware comparison (`vsBaseline.seedAware`): each replicate first draws one
     * set of seeds with replacement, the same for the ablation and the baseline. Off by default; it
     * never changes the other figures.
     */
    resampleSeeds?: boolean;
  };
}

export interface FineTuneJobSpec {
  model: { uri: string; maxLength?: number };
  data: {
    train: TrainData;
    validation: FileRef;
    /** Answer options per question. */
    numOptions?: number;
  };
  output?: { uri: string };
  training?: TrainingConfig;
  ablations: Ablation[];
  seeds?: number[];
  execution?: { parallelism?: number; backoffLimit?: number; activeDeadlineSeconds?: number };
  template?: PodTemplate;
  suspend?: boolean;
  scheduling?: { queueName?: string | null; priorityClassName?: string | null };
  evaluation?: Evaluation;
}

/** A spec after `withDefaults`: every defaulted field present. */
export interface ResolvedFineTuneJobSpec extends Omit<FineTuneJobSpec, 'training' | 'seeds' | 'execution' | 'evaluation' | 'model' | 'data' | 'suspend' | 'scheduling' | 'template'> {
  model: { uri: string; maxLength: number };
  data: { train: TrainData; validation: FileRef; numOptions: number };
  training: ResolvedTrainingConfig;
  seeds: number[];
  execution: { parallelism: number; backoffLimit: number; activeDeadlineSeconds: number };
  template: PodTemplate;
  suspend: boolean;
  scheduling: { queueName: string | null; priorityClassName: string | null };
  evaluation: {
    k: number;
    ensemble: 'mean-probabilities';
    baseline: string;
    /** `resampleSeeds` stays absent unless the spec sets it, so results and status of a spec without it are unchanged. */
    bootstrap: { resamples: number; confidence: number; seed: number; resampleSeeds?: boolean };
  };
}

export type JobPhase = 'Pending' | 'Running' | 'Aggregating' | 'Succeeded' | 'Failed' | 'Suspended';
export type RunPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** metav1.Condition. Types used: Progressing, Complete, Failed, Degraded. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  /** RFC 3339. */
  lastTransitionTime: string;
  /** CamelCase. */
  reason: string;
  message: string;
}

export interface RunStatus {
  ablation: string;
  seed: number;
  jobName?: string;
  phase: RunPhase;
  attempts: number;
  predictions?: { received: number; expected: number };
  /** Null until the run's predictions are complete. */
  mapAtK?: number | null;
  message?: string;
}

export interface AblationStatus {
  name: string;
  /** The seeds whose runs succeeded and went into the ensemble. */
  seeds: number[];
  seedMean?: number | null;
  seedStd?: number | null;
  ensembleMapAtK?: number | null;
  /** Absent for the baseline itself. */
  vsBaseline?: RecordedBaselineComparison | null;
}

/**
 * An ablation's seed ensemble compared with the baseline's by a paired bootstrap over the
 * validation questions (DESIGN.md "Numbers a user sees"). Declared once, here in the lowest part:
 * the aggregation computes it (adding the baseline's name), results.json and the status carry it.
 */
export interface BaselineComparison {
  /** Ensemble MAP@k of the ablation minus the baseline's. */
  delta: number;
  /** Percentile bootstrap interval of `delta` at the evaluation's confidence. */
  ciLow: number;
  ciHigh: number;
  /** One-sided bootstrap p-value for "better than the baseline": (1 + #{Δ* ≤ 0}) / (B + 1). */
  pValue: number;
  /** `pValue` after Holm's correction over all ablations compared with the baseline. */
  pValueHolm: number;
  /** Smallest Δ this validation set detects with 80 % power at two-sided α = 0.05. */
  minDetectable: number;
  /** Validation questions needed to detect the observed Δ at that power; null when Δ is 0. */
  questionsNeeded: number | null;
  /**
   * The same comparison with training-seed variance included (`evaluation.bootstrap.resampleSeeds`):
   * present only when that is on and the two ablations have at least two seeds in common.
   */
  seedAware?: SeedAwareComparison;
}

/**
 * The two-level bootstrap of Δ: each replicate draws one set of seeds with replacement from the
 * seeds both ablations have (paired by seed value) and uses it for both, rebuilds the ensembles,
 * then resamples the questions shared by both. When the seeds predict alike it equals the
 * question-only interval; the more they disagree, the wider it gets.
 */
export interface SeedAwareComparison {
  /** Percentile interval of the resampled Δ* at the evaluation's confidence. */
  ciLow: number;
  ciHigh: number;
  /** One-sided p-value for "better than the baseline": (1 + #{Δ* ≤ 0}) / (B + 1). */
  pValue: number;
  /** `pValue` after Holm's correction over the ablations that have a seed-aware comparison. */
  pValueHolm: number;
}

/** The fields of a {@link BaselineComparison} that came after the first four. */
export type LaterComparisonFields = 'pValueHolm' | 'minDetectable' | 'questionsNeeded';

/**
 * A {@link BaselineComparison} as a status or a results.json file holds it: one written before the
 * Holm p-value and the power figures existed lacks them.
 */
export type RecordedBaselineComparison = Omit<BaselineComparison, LaterComparisonFields> & Partial<Pick<BaselineComparison, LaterComparisonFields>>;

export interface FineTuneJobStatus {
  observedGeneration?: number;
  phase?: JobPhase;
  /** `succeeded/total`, for the printer column. */
  progress?: string;
  conditions?: Condition[];
  runs?: RunStatus[];
  ablations?: AblationStatus[];
  best?: BestAblation | null;
}

/** The ablation with the highest seed-ensemble MAP@k. */
export interface BestAblation {
  ablation: string;
  ensembleMapAtK: number;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface FineTuneJob {
  apiVersion: typeof API_GROUP_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: FineTuneJobSpec;
  status?: FineTuneJobStatus;
}

/** One (ablation, seed) pair, with the ablation's training config fully resolved. */
export interface Run {
  ablation: string;
  seed: number;
  training: ResolvedTrainingConfig;
  /** The ablation's own training data, when it replaces `spec.data.train`. */
  data?: { train: TrainData };
}

/** One thing wrong with a resource. */
export interface Violation {
  /** Where, e.g. `spec.ablations[1].name`. */
  path: string;
  value: unknown;
  /** The schema keyword (`maxLength`, `required`, …) or the CEL rule that failed. */
  rule: string;
  message: string;
  /** Kubernetes field-error reason, e.g. `FieldValueInvalid`. */
  reason?: string;
}
