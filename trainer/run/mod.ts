// One training run: its configuration, checkpoints and the run itself (`ablate trainer`).
export { parseRunConfig, readRunConfig, RunConfigError, type RunConfig, type RunTransportConfig } from './config.js';
export { loadLatestCheckpoint, saveCheckpoint, CheckpointError, type Checkpoint, type CheckpointState, type CurvePoint, type Phase } from './checkpoint.js';
export { runTraining, DEFAULT_PROGRESS_INTERVAL_SECONDS, EXIT_STOPPED, type RunOutcome } from './train.js';
