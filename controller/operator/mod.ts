// The Kubernetes operator: FineTuneJob in, one batch/v1 Job per run out, verified predictions
// back over NATS, the study's numbers in the status. `reconcile` is pure (unit-tested with plain
// objects); `Operator` is the driver (informers, work queue, collector, leader election, metrics).
export { Operator, canonicalJson, type OperatorCreateOptions, type OperatorState } from './operator.js';
export { reconcile, errorPolicy, aggregateKey, rfc3339, ACTIVE_REQUEUE_MS, UNAVAILABLE_REQUEUE_MS, ERROR_BACKOFF_BASE_MS, ERROR_BACKOFF_MAX_MS, type Action, type Decision, type ErrorDecision, type EventType, type JobLike, type Observed } from './reconcile.js';
export { buildJob, runConfigFor, SCRATCH_PATH, SCRATCH_VOLUME, TRAINER_CONTAINER, type JobObject, type JobSettings } from './job.js';
export { jobName, runUidPrefix, ANNOTATION_RUN_UID, CONTROLLER_NAME, JOB_HASH_LENGTH, LABEL_ABLATION, LABEL_JOB, LABEL_KUEUE_QUEUE, LABEL_MANAGED_BY, LABEL_SEED, MAX_JOB_NAME } from './names.js';
export {
  compileSettings,
  parseAddr,
  DEFAULT_CONSUMER_INACTIVE_THRESHOLD_MS,
  DEFAULT_LEASE_NAME,
  DEFAULT_METRICS_ADDR,
  DEFAULT_PREDICTIONS_TIMEOUT_MS,
  DEFAULT_PROBE_ADDR,
  DEFAULT_RESYNC_MS,
  DEFAULT_TRAINER_IMAGE,
  NATS_SECRET_KEY,
  type CompiledSettings,
  type OperatorOptions,
} from './settings.js';
export { LeaderElector, microTime, DEFAULT_LEASE_DURATION_MS, DEFAULT_RENEW_DEADLINE_MS, DEFAULT_RETRY_PERIOD_MS, type LeaderElectorOptions } from './leader.js';
export { WorkQueue, DEFAULT_QUEUE_WORKERS, type QueueHandler, type QueueState } from './queue.js';
export { createConcurrently, CREATES_IN_FLIGHT } from './creates.js';
export { KeepAliveAuth, keepAliveClient, KEEP_ALIVE_FREE_SOCKETS } from './http.js';
export { WatchedInformer, DEFAULT_WATCHDOG_MS, type InformerEvent, type WatchedInformerOptions } from './informer.js';
export { createMetrics, serve, type OperatorMetrics, type Probes } from './server.js';
export { FineTuneJobNotFoundError, InvalidSpecError, KubeApiError, OperatorConfigError } from './errors.js';
export { fineTuneJobClient, readFineTuneJobFile, renderStatus, resultsFromStatus, curvesFromStream, type ClientOptions, type FineTuneJobClient } from './client.js';
