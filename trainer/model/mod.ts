// Public face of the model: DeBERTa-v3 multiple choice in TF.js, its config, checkpoints
// (safetensors) and the parameter bookkeeping (freezing, layer depth, counts).
export { type DebertaConfig, type Activation, type PosAttType, parseConfig, loadConfig, configToJson, HF_DEBERTA_V2_DEFAULTS, SUPPORTED_ACTIVATIONS } from './config.js';
export { DebertaForMultipleChoice, DEFAULT_INIT_SEED, type ModelOptions, type ForwardOptions, type ForwardTrace } from './deberta.js';
export { multipleChoiceLoss } from './loss.js';
export { type FreezeMode, type ParamSpec, type ParameterCounts, FREEZE_MODES, isFrozen, layerDepth, parameterSpecs, countParameters, IGNORED_UNEXPECTED_KEYS, ALLOWED_MISSING_KEYS } from './params.js';
export { type GatherGradient, DEFAULT_GATHER_GRADIENT, embeddingLookup, logBucketPosition, relativePosition, skewToSquare, skewBySlicing, matMul } from './ops.js';
export { readSafetensors, readCheckpoint, writeSafetensors, checkpointFiles, type FloatTensor, type SafetensorsContents, type TensorToWrite, type WriteDtype } from './safetensors.js';
export { ModelConfigError, SafetensorsError, CheckpointMismatchError, ModelInputError, UnknownParameterError } from './errors.js';
