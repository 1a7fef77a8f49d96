// Names and labels the operator gives what it creates. They are deterministic, so a controller
// that restarts (or a second replica that takes over) computes the same names and a create of a
// Job that already exists is a harmless 409, never a duplicate.
import { createHash } from 'node:crypto';

/** Label on every Job (and its pods): the FineTuneJob name. */
export const LABEL_JOB = 'ablate.dev/job';
/** Label on every Job: the (expanded) ablation name. */
export const LABEL_ABLATION = 'ablate.dev/ablation';
/** Label on every Job: the seed, as a decimal string. */
export const LABEL_SEED = 'ablate.dev/seed';
/** Kueue's queue label, set when `spec.scheduling.queueName` is. */
export const LABEL_KUEUE_QUEUE = 'kueue.x-k8s.io/queue-name';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
/** Value of `app.kubernetes.io/managed-by` and the Events' `reportingController`. */
export const CONTROLLER_NAME = 'ablate.dev/controller';
/** Annotation on each Job: the run's uid prefix (`<FineTuneJob uid>-<ablation>-<seed>`). */
export const ANNOTATION_RUN_UID = 'ablate.dev/run-uid';
/** Kubernetes object names (and label values) are at most 63 characters. */
export const MAX_JOB_NAME = 63;
/** Hex characters of the hash suffix of a Job name. */
export const JOB_HASH_LENGTH = 8;

/**
 * `<ftj>-<8 hex>`: the hash covers the FineTuneJob's uid, the ablation and the seed, so a
 * re-created FineTuneJob of the same name gets new Job names. The FineTuneJob name is cut so the
 * whole stays ≤ 63 characters (and does not end in '-').
 */
export function jobName(ftjName: string, uid: string, ablation: string, seed: number): string {
  const hash = createHash('sha256').update(`${uid}/${ablation}/${seed}`).digest('hex').slice(0, JOB_HASH_LENGTH);
  const prefix = ftjName.slice(0, MAX_JOB_NAME - JOB_HASH_LENGTH - 1).replace(/-+$/, '');
  return `${prefix}-${hash}`;
}

/**
 * The run's identity in the prediction stream: `<FineTuneJob uid>-<ablation>-<seed>`. Messages of
 * an older FineTuneJob with the same name carry another uid and never count for this one.
 */
export function runUidPrefix(uid: string, ablation: string, seed: number): string {
  return `${uid}-${ablation}-${seed}`;
}
