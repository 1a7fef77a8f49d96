// Public face of scoring and aggregation: MAP@k, seed ensembles, paired bootstrap (question-only
// and seed-aware), Holm, power.
export { AggregateInputError } from './errors.js';
export {
  perQuestionScores,
  mapAtK,
  mean,
  alignRankings,
  alignProbabilities,
  DEFAULT_K,
  type Rankings,
  type Probabilities,
  type Aligned,
} from './map.js';
export { ensemble, ENSEMBLE_METHODS, DEFAULT_ENSEMBLE_METHOD, type EnsembleMethod } from './ensemble.js';
export { seedStats, holm, normalCdf, normalQuantile, type SeedStats } from './stats.js';
export {
  pairedBootstrap,
  bootstrapDeltas,
  differences,
  compileBootstrapOptions,
  summarizeDeltas,
  DEFAULT_RESAMPLES,
  DEFAULT_CONFIDENCE,
  DEFAULT_BOOTSTRAP_SEED,
  DEFAULT_RESAMPLE_SEEDS,
  type BootstrapOptions,
  type CompiledBootstrapOptions,
  type BootstrapResult,
} from './bootstrap.js';
export {
  powerAnalysis,
  planStudy,
  scoreSd,
  DEFAULT_ALPHA,
  DEFAULT_POWER,
  DEFAULT_CORRELATION,
  DEFAULT_SEEDS,
  DEFAULT_SEED_STD,
  DEFAULT_OPTIONS,
  type PowerOptions,
  type PowerResult,
  type PlanInput,
  type PlanResult,
} from './power.js';
export {
  seedAwareBootstrap,
  seedAwareDeltas,
  seedMultisetCount,
  seedMultisets,
  pairSeeds,
  SeedEnsembles,
  SEED_CACHE_BYTES,
  type SeedEnsemblesInput,
  type SeedPairing,
  type SeedAwareResult,
} from './seeds.js';
export {
  aggregateStudy,
  type StudyInput,
  type StudyRunInput,
  type StudyAggregate,
  type StudySummary,
  type RunScore,
  type AblationSummary,
  type VsBaseline,
} from './study.js';
