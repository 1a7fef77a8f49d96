// The trainer's optimizer: AdamW with parameter groups, learning-rate schedules and scaling,
// gradient clipping and accumulation, and the seeded data order.
export { AdamW, DEFAULT_BETAS, DEFAULT_EPS, ITERATIONS_KEY, type AdamWOptions, type ParamGroup } from './adamw.js';
export { clipGradNorm, GradientAccumulator, CLIP_NORM_EPSILON, type ClippedGradients, type NamedGradients } from './clip.js';
export {
  SCHEDULE_NAMES,
  constantSchedule,
  cosineWarmupDecay,
  debertaWarmupLinear,
  linearWarmupDecay,
  makeSchedule,
  scaledLearningRate,
  warmupStepsFor,
  type LearningRateScaling,
  type ScaledLearningRateOptions,
  type Schedule,
  type ScheduleName,
  type WarmupOptions,
} from './schedule.js';
export { DataOrder, Prng, shuffledIndices, type DataBatch, type DataOrderPosition, type PrngState } from './rng.js';
export {
  DuplicateParameterError,
  InvalidOptimOptionError,
  OptimizerStateError,
  UngroupedGradientError,
  UnknownOptimParameterError,
} from './errors.js';
export {
  LAYERWISE_SCHEDULES,
  buildParamGroups,
  isNoDecayParam,
  layerLearningRate,
  type LayerwiseOptions,
  type LayerwiseSchedule,
  type ParamGroupOptions,
} from './groups.js';
export {
  BatchFileError,
  DEFAULT_OVERFIT_EPS,
  DEFAULT_OVERFIT_LR,
  DEFAULT_OVERFIT_WEIGHT_DECAY,
  overfitBatch,
  readBatchFile,
  type ChoiceBatch,
  type OverfitOptions,
  type OverfitResult,
} from './overfit.js';
