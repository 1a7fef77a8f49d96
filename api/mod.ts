// The public face of api/: the FineTuneJob resource — types, schema, defaults, expansion,
// validation, the CRD and file loading. Other parts import only this module.
export {
  API_GROUP,
  API_VERSION,
  API_GROUP_VERSION,
  KIND,
  type Ablation,
  type AblationStatus,
  type Backend,
  type BaselineComparison,
  type BestAblation,
  type Condition,
  type FileRef,
  type FineTuneJob,
  type FineTuneJobSpec,
  type FineTuneJobStatus,
  type HeadWarmup,
  type JobPhase,
  type LayerwiseLearningRate,
  type LearningRate,
  type ObjectMeta,
  type OptimizerConfig,
  type PodTemplate,
  type RecordedBaselineComparison,
  type ResolvedFineTuneJobSpec,
  type ResolvedTrainingConfig,
  type Run,
  type RunPhase,
  type RunStatus,
  type SeedAwareComparison,
  type TrainData,
  type TrainingConfig,
  type Violation,
} from './types.js';
export * from './defaults.js';
export { expandAblations, expandRuns, expandedAblationName, matrixSize } from './expand.js';
export { fineTuneJobSchema, resolvedTrainingSchema, DNS_LABEL_PATTERN, MATRIX_KEYS, MAX_NAME_LENGTH, MAX_RUNS } from './schema.js';
export type { CelRule, SchemaNode } from './openapi.js';
export { compileCelRules, CelCompileError } from './cel.js';
export { applySchemaDefaults, validateAgainstSchema, type ValidateOptions } from './validate.js';
export { validateFineTuneJob, type FineTuneJobValidateOptions } from './finetunejob.js';
export { buildCrd, CRD_NAME, PLURAL, SINGULAR, PRINTER_COLUMNS, type CustomResourceDefinition, type PrinterColumn } from './crd.js';
export {
  parseResourceFile,
  loadFineTuneJob,
  InvalidResourceError,
  NotOneFineTuneJobError,
  ResourceFileError,
  type LoadedFineTuneJob,
  type ResourceDocument,
} from './load.js';
export { resolveUri, UnsupportedUriError } from './uri.js';
