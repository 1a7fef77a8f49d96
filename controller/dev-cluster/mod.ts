// The public face of controller/dev-cluster: a development stand-in for the Kubernetes API server
// (not a cluster) with a Job runner that runs pods as local processes.
export {
  DevCluster,
  DEFAULT_BOOKMARK_INTERVAL_MS,
  DEFAULT_COMPACTION_WINDOW,
  DEFAULT_HOST,
  DEFAULT_PORT,
  MAX_BODY_BYTES,
  SERVED_KUBERNETES_VERSION,
  type DevClusterOptions,
} from './server.js';
export { JobRunner, DEFAULT_MAX_LOG_BYTES, localCommand, type FailureInjection, type JobRunnerOptions } from './job-runner.js';
export type { SchemaEngine } from './registry.js';
export {
  ApiStatusError,
  AlreadyExistsError,
  BadRequestError,
  ConflictError,
  ExpiredError,
  InvalidError,
  MethodNotAllowedError,
  NamespaceTerminatingError,
  NotFoundError,
  UnsupportedMediaTypeError,
  type StatusCause,
} from './errors.js';
export { parseLabelSelector, parseFieldSelector } from './selectors.js';
export { mergePatch, jsonPatch, strategicMergePatch } from './patch.js';
