// The batch/v1 Job of one run (DESIGN.md "Runtimes", research/orchestrators.md §6.6): one pod
// running `ablate trainer` with the run's RunConfig in ABLATE_RUN_CONFIG, the FineTuneJob's pod
// template merged in, a restricted security context, and a failure policy under which
// disruptions (preemption, eviction) do not burn retries and errors a retry cannot fix
// (`ablate trainer` exits 3) fail the Job at once.
//
// Attempts and the prediction stream: every pod of the Job gets the same RunConfig, except that
// its runUid ends in the pod's own name (`$(POD_NAME)`, expanded by the kubelet from the downward
// API). So a retried pod publishes under a new `<runUid>.<attempt>.<chunk>` message id — the
// stream never drops a retry's chunks as duplicates of a failed pod's — and the collector
// assembles each pod's output separately; only one pod of a Job can succeed.
import { posix } from 'node:path';
import { resolveUri, type FineTuneJob, type ResolvedFineTuneJobSpec, type Run, type TrainData } from '../../api/mod.js';
import type { RunConfig } from '../../trainer/mod.js';
import { EXIT_PERMANENT } from '../local/mod.js';
import { InvalidSpecError } from './errors.js';
import { ANNOTATION_RUN_UID, CONTROLLER_NAME, jobName, LABEL_ABLATION, LABEL_JOB, LABEL_KUEUE_QUEUE, LABEL_MANAGED_BY, LABEL_SEED, runUidPrefix } from './names.js';
import { NATS_SECRET_KEY, type CompiledSettings } from './settings.js';

/** The trainer's container name (the pod failure policy's exit-code rule names it). */
export const TRAINER_CONTAINER = 'trainer';
/** The writable scratch volume (the root filesystem is read-only): checkpoints and HOME. */
export const SCRATCH_VOLUME = 'ablate-scratch';
export const SCRATCH_PATH = '/tmp';

/** A plain batch/v1 Job object (the fields the operator sets and reads). */
export interface JobObject {
  apiVersion: 'batch/v1';
  kind: 'Job';
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    ownerReferences: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller: boolean; blockOwnerDeletion: boolean }>;
  };
  spec: Record<string, unknown> & { template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> } };
}

export type JobSettings = Pick<CompiledSettings, 'natsUrl' | 'natsCredsSecret' | 'stream' | 'prefix' | 'trainerImage' | 'baseDir'>;

function resolved(field: string, uri: string, baseDir: string): string {
  try {
    return resolveUri(uri, baseDir);
  } catch (err) {
    throw new InvalidSpecError(field, uri, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

function trainPaths(t: TrainData, field: string, baseDir: string): string[] {
  return 'uri' in t ? [resolved(`${field}.uri`, t.uri, baseDir)] : t.files.map((f, i) => resolved(`${field}.files[${i}].uri`, f.uri, baseDir));
}

/** The RunConfig the pod's trainer reads, with `$(POD_NAME)` / `$(ABLATE_NATS_URL)` left for the kubelet. */
export function runConfigFor(ftj: FineTuneJob, spec: ResolvedFineTuneJobSpec, run: Run, s: JobSettings, validationSha256?: string): RunConfig {
  const uid = ftj.metadata.uid ?? '';
  const name = jobName(ftj.metadata.name, uid, run.ablation, run.seed);
  const cfg: RunConfig = {
    job: ftj.metadata.name,
    namespace: ftj.metadata.namespace ?? 'default',
    ablation: run.ablation,
    seed: run.seed,
    runUid: `${runUidPrefix(uid, run.ablation, run.seed)}-$(POD_NAME)`,
    attempt: 1,
    training: run.training,
    model: { path: resolved('spec.model.uri', spec.model.uri, s.baseDir), maxLength: spec.model.maxLength },
    data: {
      train: run.data ? trainPaths(run.data.train, `spec.ablations[${run.ablation}].data.train`, s.baseDir) : trainPaths(spec.data.train, 'spec.data.train', s.baseDir),
      validation: resolved('spec.data.validation.uri', spec.data.validation.uri, s.baseDir),
    },
    checkpointDir: posix.join(SCRATCH_PATH, 'ablate', name, 'checkpoints'),
    transport: { kind: 'nats', servers: s.natsCredsSecret ? '$(ABLATE_NATS_URL)' : (s.natsUrl ?? ''), stream: s.stream, prefix: s.prefix },
  };
  if (validationSha256 !== undefined) cfg.data.validationSha256 = validationSha256;
  if (spec.output?.uri) cfg.outputDir = posix.join(resolved('spec.output.uri', spec.output.uri, s.baseDir), `${run.ablation}-seed${run.seed}`);
  return cfg;
}

/** The Job of `run`. Throws InvalidSpecError for a spec the operator cannot turn into a pod. */
export function buildJob(ftj: FineTuneJob, spec: ResolvedFineTuneJobSpec, run: Run, s: JobSettings, validationSha256?: string): JobObject {
  const uid = ftj.metadata.uid;
  if (!uid) throw new InvalidSpecError('metadata.uid', uid, 'the FineTuneJob has no uid (not read from the API server?)');
  const namespace = ftj.metadata.namespace ?? 'default';
  const name = jobName(ftj.metadata.name, uid, run.ablation, run.seed);
  const t = spec.template;
  const runLabels = { [LABEL_JOB]: ftj.metadata.name, [LABEL_ABLATION]: run.ablation, [LABEL_SEED]: String(run.seed) };
  const labels: Record<string, string> = { ...runLabels, [LABEL_MANAGED_BY]: CONTROLLER_NAME.replace('/', '-') };
  if (spec.scheduling.queueName) labels[LABEL_KUEUE_QUEUE] = spec.scheduling.queueName;
  const cfg = runConfigFor(ftj, spec, run, s, validationSha256);
  // Order matters: the kubelet expands $(VAR) only from variables defined earlier in the list.
  const env: Array<{ name: string; value?: string; valueFrom?: Record<string, unknown> }> = [
    ...(t.env ?? []).filter((e) => !RESERVED_ENV.has(e.name)),
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'HOME', value: SCRATCH_PATH },
    { name: 'ABLATE_LOG_FORMAT', value: 'json' },
  ];
  if (s.natsCredsSecret) env.push({ name: 'ABLATE_NATS_URL', valueFrom: { secretKeyRef: { name: s.natsCredsSecret, key: NATS_SECRET_KEY } } });
  env.push({ name: 'ABLATE_RUN_CONFIG', value: JSON.stringify(cfg) });
  const container: Record<string, unknown> = {
    name: TRAINER_CONTAINER,
    image: t.image ?? s.trainerImage,
    command: ['ablate', 'trainer'],
    env,
    volumeMounts: [...(t.volumeMounts ?? []), { name: SCRATCH_VOLUME, mountPath: SCRATCH_PATH }],
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
  };
  if (t.resources) container['resources'] = t.resources;
  const podSpec: Record<string, unknown> = {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [container],
    volumes: [...(t.volumes ?? []), { name: SCRATCH_VOLUME, emptyDir: {} }],
  };
  if (t.nodeSelector && Object.keys(t.nodeSelector).length > 0) podSpec['nodeSelector'] = t.nodeSelector;
  if (t.tolerations && t.tolerations.length > 0) podSpec['tolerations'] = t.tolerations;
  if (t.affinity && Object.keys(t.affinity).length > 0) podSpec['affinity'] = t.affinity;
  if (t.imagePullSecrets && t.imagePullSecrets.length > 0) podSpec['imagePullSecrets'] = t.imagePullSecrets;
  const priority = spec.scheduling.priorityClassName ?? t.priorityClassName;
  if (priority) podSpec['priorityClassName'] = priority;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace,
      labels,
      annotations: { [ANNOTATION_RUN_UID]: runUidPrefix(uid, run.ablation, run.seed) },
      ownerReferences: [{ apiVersion: ftj.apiVersion, kind: ftj.kind, name: ftj.metadata.name, uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      // Kueue admits a Job by un-suspending it, so a queued Job is created suspended.
      suspend: spec.scheduling.queueName !== null,
      backoffLimit: spec.execution.backoffLimit,
      activeDeadlineSeconds: spec.execution.activeDeadlineSeconds,
      podFailurePolicy: {
        rules: [
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
          { action: 'FailJob', onExitCodes: { containerName: TRAINER_CONTAINER, operator: 'In', values: [EXIT_PERMANENT] } },
        ],
      },
      template: { metadata: { labels: runLabels }, spec: podSpec },
    },
  };
}

/** Variables the operator sets itself; a template cannot override them. */
const RESERVED_ENV = new Set(['POD_NAME', 'HOME', 'ABLATE_LOG_FORMAT', 'ABLATE_NATS_URL', 'ABLATE_RUN_CONFIG']);
