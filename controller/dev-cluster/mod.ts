// The public face of controller/dev-cluster: a development stand-in for the Kubernetes API server
// (not a cluster) with a Job runner that runs pods as local processes. Names carry "DevCluster"
// or "dev-cluster" wording because controller/mod.ts re-exports every sub-area side by side.
export {
  DevCluster,
  DEFAULT_BOOKMARK_INTERVAL_MS,
  DEFAULT_COMPACTION_WINDOW,
  DEFAULT_DEV_CLUSTER_HOST,
  DEFAULT_DEV_CLUSTER_PORT,
  DEV_CLUSTER_MAX_BODY_BYTES,
  SERVED_KUBERNETES_VERSION,
  type DevClusterOptions,
} from './server.js';
export { JobRunner, DEFAULT_POD_LOG_BYTES, type FailureInjection, type JobRunnerOptions } from './job-runner.js';
export type { SchemaEngine } from './registry.js';
export { ApiStatusError, type StatusCause } from './errors.js';
