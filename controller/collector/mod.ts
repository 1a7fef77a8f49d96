// The prediction collector: verified, deduplicated, restart-safe assembly of every run's
// predictions from the protocol's transport.
export {
  Collector,
  runKey,
  type CollectorCounters,
  type CollectorOptions,
  type CollectorState,
  type ExpectedRun,
  type ProgressEvent,
  type ProgressListener,
  type RunCompleteListener,
  type RunFailedListener,
  type RunFailure,
  type RunFailureReason,
  type RunKey,
  type CollectedRun,
  type RunState,
} from './collector.js';
export { CollectorClosedError, CollectorTimeoutError } from './errors.js';
