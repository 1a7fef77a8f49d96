// The local runtime: a whole study on one machine with child processes (`ablate run`).
export { runLocalStudy, StudyFailedError, StudyInterruptedError, ExistingStudyError, EXIT_PERMANENT, DEFAULT_COLLECT_GRACE_MS, type LocalRunOptions, type LocalRunResult } from './study.js';
export { ProgressView, formatBar, formatDuration, type RunProgress } from './progress.js';
