// The security posture of the trainer Jobs the controller creates, asserted on the Job its job
// builder makes for the cluster science-exam example: a valid batch/v1 Job, restricted pod, no
// service-account token, a writable HOME only on scratch space, and NATS credentials only by
// Secret reference. (The pod sets runAsNonRoot without a uid: the trainer image's numeric USER,
// checked in images.test.ts, is what satisfies it.)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { expandRuns, loadFineTuneJob, withDefaults, type FineTuneJob, type ResolvedFineTuneJobSpec, type Run } from '../../api/mod.js';
import * as controller from '../../controller/mod.js';
import { REPO_ROOT } from '../../scripts/generate.js';
import { assertRestrictedPod, type PodSpec } from './security.js';

interface JobSettingsLike {
  natsUrl: string | undefined;
  natsCredsSecret: string | undefined;
  stream: string;
  prefix: string;
  trainerImage: string;
  baseDir: string;
}
type BuildJob = (ftj: FineTuneJob, spec: ResolvedFineTuneJobSpec, run: Run, s: JobSettingsLike) => { spec: { template: { spec: unknown } } & Record<string, unknown> };

// The operator (issue #5) is being written alongside; until its face exports the job builder
// these tests report themselves skipped rather than pass.
const buildJob = (controller as Record<string, unknown>)['buildJob'] as BuildJob | undefined;
const skip = buildJob === undefined ? 'controller/mod.ts does not export buildJob yet (issue #5)' : false;

const SECRET_NAME = 'ablate-trainer-nats';

function jobFor(settings: Partial<JobSettingsLike> = {}): { job: Record<string, unknown> & { spec: { template: { spec: unknown } } }; pod: PodSpec } {
  const loaded = loadFineTuneJob(join(REPO_ROOT, 'manifests', 'examples', 'science-exam.yaml')).job as unknown as FineTuneJob;
  const ftj: FineTuneJob = { ...loaded, metadata: { ...loaded.metadata, uid: '7f1c2d3e-0000-4000-8000-000000000001' } };
  const spec = withDefaults(ftj.spec);
  const run = expandRuns(ftj.spec)[0]!;
  const s: JobSettingsLike = { natsUrl: 'nats://nats.nats.svc:4222', natsCredsSecret: SECRET_NAME, stream: 'ABLATE', prefix: 'ablate', trainerImage: 'ghcr.io/ablate-dev/ablate-trainer:0.1.0', baseDir: '/', ...settings };
  const job = buildJob!(ftj, spec, run, s);
  return { job, pod: job.spec.template.spec as PodSpec };
}

type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };

describe('trainer Jobs built by the controller', () => {
  test('validate as batch/v1 Jobs and run restricted, without a service-account token', { skip }, () => {
    const { job, pod } = jobFor();
    assert.doesNotThrow(() => new Job(job as never).validate());
    assertRestrictedPod(pod, 'trainer Job');
    assert.equal(pod.automountServiceAccountToken, false);
  });

  test('HOME and checkpoints are on scratch space, since the root filesystem is read-only', { skip }, () => {
    const { pod } = jobFor();
    const c = pod.containers[0]!;
    const home = ((c.env ?? []) as EnvVar[]).find((e) => e.name === 'HOME')?.value;
    assert.ok(home, 'HOME is not set');
    const mount = (c.volumeMounts ?? []).find((m) => home === m.mountPath || home.startsWith(`${m.mountPath}/`));
    assert.ok(mount, `HOME ${home} is on the read-only root`);
    assert.ok((pod.volumes ?? []).some((v) => v.name === mount.name && 'emptyDir' in v), `HOME ${home} is not on an emptyDir`);
    const cfg = JSON.parse(((c.env ?? []) as EnvVar[]).find((e) => e.name === 'ABLATE_RUN_CONFIG')?.value ?? '{}') as { checkpointDir?: string };
    assert.ok(cfg.checkpointDir?.startsWith(`${mount.mountPath}/`), `checkpoints in ${cfg.checkpointDir}, not on scratch ${mount.mountPath}`);
  });

  test('NATS credentials reach the pod by secretKeyRef only, never inside the Job', { skip }, () => {
    const { job, pod } = jobFor();
    const env = (pod.containers[0]!.env ?? []) as EnvVar[];
    const refs = env.filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.valueFrom!.secretKeyRef!.name);
    assert.deepEqual(refs, [SECRET_NAME]);
    const cfg = JSON.parse(env.find((e) => e.name === 'ABLATE_RUN_CONFIG')?.value ?? '{}') as { transport?: { servers?: string } };
    const ref = /^\$\((\w+)\)$/.exec(cfg.transport?.servers ?? '')?.[1];
    assert.ok(ref, `the run config names the NATS servers literally: ${cfg.transport?.servers}`);
    assert.ok(env.find((e) => e.name === ref)?.valueFrom?.secretKeyRef, `${ref} is not from a Secret`);
    // No URL with user information anywhere in the object the API server stores.
    assert.doesNotMatch(JSON.stringify(job), /\w+:\/\/[^/"\s]*@/);
  });

  test('a permanent error fails the Job at once; a disruption costs no retry', { skip }, () => {
    const { job } = jobFor();
    const rules = ((job.spec as { podFailurePolicy?: { rules?: Array<Record<string, unknown>> } }).podFailurePolicy?.rules ?? []) as Array<{
      action: string;
      onExitCodes?: { values: number[] };
      onPodConditions?: Array<{ type: string }>;
    }>;
    assert.ok(rules.some((r) => r.action === 'FailJob' && r.onExitCodes?.values.includes(3)));
    assert.ok(rules.some((r) => r.action === 'Ignore' && r.onPodConditions?.some((c) => c.type === 'DisruptionTarget')));
  });
});
