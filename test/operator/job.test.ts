// The Job of one run: name, identity labels, owner, failure policy, security, template merge,
// and the RunConfig the trainer reads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandRuns, withDefaults, type FineTuneJob } from '../../api/mod.js';
import { buildJob, jobName, InvalidSpecError, type JobObject } from '../../controller/mod.js';
import { parseRunConfig } from '../../trainer/mod.js';

const UID = '0c1d2e3f-aaaa-4bbb-8ccc-ddddeeeeffff';
const settings = { natsUrl: 'nats://nats.ablate:4222', natsCredsSecret: undefined as string | undefined, stream: 'ABLATE', prefix: 'ablate', trainerImage: 'default:1', baseDir: '/srv/studies' };

function ftj(spec: Partial<FineTuneJob['spec']> = {}, name = 'science-exam'): FineTuneJob {
  return {
    apiVersion: 'ablate.dev/v1alpha1',
    kind: 'FineTuneJob',
    metadata: { name, namespace: 'ml', uid: UID, generation: 1 },
    spec: {
      model: { uri: 'file:///models/deberta', maxLength: 128 },
      data: { train: { uri: './data/train.csv' }, validation: { uri: 'file:///data/val.csv' } },
      ablations: [{ name: 'full' }, { name: 'frozen', training: { freezeEmbeddings: true }, data: { train: { uri: '/data/other.csv' } } }],
      seeds: [0, 42],
      execution: { backoffLimit: 3, activeDeadlineSeconds: 7200 },
      template: {
        image: 'ghcr.io/acme/trainer:2',
        resources: { limits: { 'nvidia.com/gpu': 1 } },
        env: [{ name: 'NVIDIA_DRIVER_CAPABILITIES', value: 'compute,utility' }, { name: 'ABLATE_RUN_CONFIG', value: 'hijack' }],
        volumes: [{ name: 'models', persistentVolumeClaim: { claimName: 'models' } }],
        volumeMounts: [{ name: 'models', mountPath: '/models', readOnly: true }],
        nodeSelector: { gpu: 'h100' },
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
        affinity: { nodeAffinity: {} },
        imagePullSecrets: [{ name: 'ghcr' }],
        priorityClassName: 'research',
      },
      ...spec,
    },
  } as FineTuneJob;
}

function build(f: FineTuneJob, i = 0, s: Partial<typeof settings> & { natsCredsSecret?: string } = {}): JobObject {
  const run = expandRuns(f.spec)[i];
  assert.ok(run);
  return buildJob(f, withDefaults(f.spec), run, { ...settings, ...s }, 'f'.repeat(64));
}

type Container = { name: string; image: string; command: string[]; env: Array<{ name: string; value?: string; valueFrom?: unknown }>; resources: unknown; volumeMounts: Array<{ mountPath: string }>; securityContext: Record<string, unknown> };
const containerOf = (j: JobObject): Container => (j.spec.template.spec['containers'] as Container[])[0] as Container;

describe('buildJob', () => {
  it('names Jobs deterministically, ≤ 63 characters, different per FineTuneJob uid', () => {
    const f = ftj();
    assert.equal(build(f).metadata.name, build(f).metadata.name);
    assert.match(build(f).metadata.name, /^science-exam-[0-9a-f]{8}$/);
    assert.notEqual(jobName('a', 'uid-1', 'full', 0), jobName('a', 'uid-2', 'full', 0));
    assert.notEqual(jobName('a', 'uid-1', 'full', 0), jobName('a', 'uid-1', 'full', 1));
    const long = 'x'.repeat(60) + '-y';
    const n = jobName(long, UID, 'full', 0);
    assert.ok(n.length <= 63, n);
    assert.match(n, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });

  it('labels, owner reference, failure policy, deadline, restricted security', () => {
    const j = build(ftj(), 1);
    assert.deepEqual(
      { job: j.metadata.labels['ablate.dev/job'], ablation: j.metadata.labels['ablate.dev/ablation'], seed: j.metadata.labels['ablate.dev/seed'] },
      { job: 'science-exam', ablation: 'full', seed: '42' },
    );
    assert.equal(j.spec.template.metadata.labels['ablate.dev/seed'], '42');
    assert.equal(j.metadata.labels['kueue.x-k8s.io/queue-name'], undefined);
    assert.deepEqual(j.metadata.ownerReferences, [{ apiVersion: 'ablate.dev/v1alpha1', kind: 'FineTuneJob', name: 'science-exam', uid: UID, controller: true, blockOwnerDeletion: true }]);
    assert.equal(j.spec['backoffLimit'], 3);
    assert.equal(j.spec['activeDeadlineSeconds'], 7200);
    assert.equal(j.spec['suspend'], false);
    assert.deepEqual(j.spec['podFailurePolicy'], {
      rules: [
        { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        { action: 'FailJob', onExitCodes: { containerName: 'trainer', operator: 'In', values: [3] } },
      ],
    });
    const pod = j.spec.template.spec;
    assert.equal(pod['restartPolicy'], 'Never');
    assert.equal(pod['automountServiceAccountToken'], false);
    const c = containerOf(j);
    assert.deepEqual(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
    assert.ok(c.volumeMounts.some((m) => m.mountPath === '/tmp'), 'a writable /tmp under a read-only root');
  });

  it('merges the template: image, command, resources, env, volumes, scheduling fields', () => {
    const j = build(ftj());
    const c = containerOf(j);
    const pod = j.spec.template.spec;
    assert.equal(c.name, 'trainer');
    assert.equal(c.image, 'ghcr.io/acme/trainer:2');
    assert.deepEqual(c.command, ['ablate', 'trainer']);
    assert.deepEqual(c.resources, { limits: { 'nvidia.com/gpu': 1 } });
    assert.equal(c.env.find((e) => e.name === 'NVIDIA_DRIVER_CAPABILITIES')?.value, 'compute,utility');
    assert.equal(c.env.filter((e) => e.name === 'ABLATE_RUN_CONFIG').length, 1, 'the template cannot override the run config');
    assert.deepEqual((pod['volumes'] as Array<{ name: string }>).map((v) => v.name), ['models', 'ablate-scratch']);
    assert.deepEqual(pod['nodeSelector'], { gpu: 'h100' });
    assert.equal((pod['tolerations'] as unknown[]).length, 1);
    assert.deepEqual(pod['imagePullSecrets'], [{ name: 'ghcr' }]);
    assert.equal(pod['priorityClassName'], 'research');
    assert.deepEqual(pod['affinity'], { nodeAffinity: {} });
    assert.equal(containerOf(build(ftj({ template: {} }))).image, 'default:1');
  });

  it('Kueue: the queue label and a suspended Job when scheduling.queueName is set', () => {
    const j = build(ftj({ scheduling: { queueName: 'gpu-queue', priorityClassName: 'urgent' } }));
    assert.equal(j.metadata.labels['kueue.x-k8s.io/queue-name'], 'gpu-queue');
    assert.equal(j.spec['suspend'], true);
    assert.equal(j.spec.template.spec['priorityClassName'], 'urgent');
  });

  it('the RunConfig: resolved paths, per-pod runUid, NATS settings; parsable by the trainer', () => {
    const j = build(ftj(), 2);
    const env = containerOf(j).env;
    const names = env.map((e) => e.name);
    assert.ok(names.indexOf('POD_NAME') < names.indexOf('ABLATE_RUN_CONFIG'), 'POD_NAME is defined before it is referenced');
    const raw = env.find((e) => e.name === 'ABLATE_RUN_CONFIG')?.value ?? '';
    const cfg = parseRunConfig(JSON.parse(raw.replace('$(POD_NAME)', 'pod-abc')));
    assert.equal(cfg.runUid, `${UID}-frozen-0-pod-abc`);
    assert.equal(cfg.model.path, '/models/deberta');
    assert.deepEqual(cfg.data.train, ['/data/other.csv'], 'an ablation brings its own training data');
    assert.equal(cfg.data.validation, '/data/val.csv');
    assert.equal(cfg.data.validationSha256, 'f'.repeat(64));
    assert.equal(cfg.training.freezeEmbeddings, true);
    assert.deepEqual(cfg.transport, { kind: 'nats', servers: 'nats://nats.ablate:4222', stream: 'ABLATE', prefix: 'ablate' });
    assert.ok(cfg.checkpointDir.startsWith('/tmp/'));
    const first = parseRunConfig(JSON.parse((containerOf(build(ftj(), 0)).env.find((e) => e.name === 'ABLATE_RUN_CONFIG')?.value ?? '').replace('$(POD_NAME)', 'p')));
    assert.deepEqual(first.data.train, ['/srv/studies/data/train.csv'], 'relative URIs resolve against the base dir');
  });

  it('NATS credentials only by Secret reference', () => {
    const j = build(ftj(), 0, { natsCredsSecret: 'ablate-nats' });
    const env = containerOf(j).env;
    assert.deepEqual(env.find((e) => e.name === 'ABLATE_NATS_URL')?.valueFrom, { secretKeyRef: { name: 'ablate-nats', key: 'url' } });
    const raw = env.find((e) => e.name === 'ABLATE_RUN_CONFIG')?.value ?? '';
    assert.ok(!raw.includes('nats.ablate'), 'no URL in the Job spec');
    assert.match(raw, /"servers":"\$\(ABLATE_NATS_URL\)"/);
    assert.ok(env.findIndex((e) => e.name === 'ABLATE_NATS_URL') < env.findIndex((e) => e.name === 'ABLATE_RUN_CONFIG'));
  });

  it('an unsupported URI scheme is an InvalidSpecError naming the field', () => {
    assert.throws(() => build(ftj({ model: { uri: 'gs://bucket/model' } })), (e: unknown) => e instanceof InvalidSpecError && e.field === 'spec.model.uri' && /gs:/.test(e.message));
  });
});
