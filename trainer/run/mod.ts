// One training run: its configuration, checkpoints and the run itself (`ablate trainer`).
export { parseRunConfig, readRunConfig, RunConfigError, type RunConfig, type RunTransportConfig } from './config.js';
export { loadLatestCheckpoint, saveCheckpoint, CheckpointError, type Checkpoint, type CheckpointState, type CurvePoint, type Phase } from './checkpoint.js';
export { runTraining, DEFAULT_PROGRESS_INTERVAL_SECONDS, EXIT_STOPPED, type RunOutcome } from './train.js';
export {
  predictProbabilities,
  probabilityRows,
  encodeQuestions,
  batchTensors,
  saveModel,
  recoverSavedModel,
  readSavedModelInfo,
  SAVED_MODEL_INFO_FILE,
  MixedOptionCountError,
  SavedModelError,
  type Encoded,
  type PredictOptions,
  type SavedModelInfo,
} from './predict.js';
