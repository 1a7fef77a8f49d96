// The dev-cluster's Job runner: pods run as local processes, Job status follows the real Job
// controller (Complete / Failed with reasons, backoffLimit retries, deadlines, suspend), and
// injected evictions are not counted when podFailurePolicy says Ignore on DisruptionTarget.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { DevCluster } from '../../controller/mod.js';
import { eventually, kubeConfigFor, tempDir, uniq } from './helpers.js';

type Cond = { type: string; status: string; reason?: string };

describe('dev-cluster Job runner', () => {
  let cluster: DevCluster;
  let core: k8s.CoreV1Api;
  let batch: k8s.BatchV1Api;
  let tmp: ReturnType<typeof tempDir>;
  let ns: string;

  before(async () => {
    tmp = tempDir();
    cluster = await DevCluster.create({ jobRunner: { workdir: tmp.dir } });
    const kc = kubeConfigFor(cluster);
    core = kc.makeApiClient(k8s.CoreV1Api);
    batch = kc.makeApiClient(k8s.BatchV1Api);
    ns = uniq('jobs');
    await core.createNamespace({ body: { metadata: { name: ns } } });
  });
  after(async () => {
    await cluster.close();
    tmp.cleanup();
  });

  function job(name: string, command: string[], spec: Partial<k8s.V1JobSpec> = {}, env: k8s.V1EnvVar[] = []): k8s.V1Job {
    return {
      metadata: { name, labels: { suite: 'runner' } },
      spec: { ...spec, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'node', command, env }] } } },
    };
  }

  async function finished(name: string, timeoutMs = 20_000): Promise<k8s.V1Job> {
    return eventually(
      async () => {
        const j = await batch.readNamespacedJobStatus({ namespace: ns, name });
        const done = (j.status?.conditions as Cond[] | undefined)?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
        return done ? j : undefined;
      },
      timeoutMs,
      `job ${name} to finish`,
    );
  }

  const condition = (j: k8s.V1Job, type: string): Cond | undefined => (j.status?.conditions as Cond[] | undefined)?.find((c) => c.type === type && c.status === 'True');
  const pods = async (jobName: string): Promise<k8s.V1Pod[]> => (await core.listNamespacedPod({ namespace: ns, labelSelector: `job-name=${jobName}` })).items;

  test('a Job runs its pod as a local process with env from values and secrets, then completes', async () => {
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'creds' }, stringData: { token: 's3cret' } } });
    await batch.createNamespacedJob({
      namespace: ns,
      body: job('ok', ['node', '-e', 'console.log(`hi ${process.env.WHO} ${process.env.TOKEN} ${process.cwd()}`)'], {}, [
        { name: 'WHO', value: 'there' },
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
      ]),
    });
    const j = await finished('ok');
    assert.ok(condition(j, 'Complete'), JSON.stringify(j.status));
    assert.equal(j.status?.succeeded, 1);
    assert.ok(j.status?.startTime && j.status.completionTime);
    const [pod] = await pods('ok');
    assert.ok(pod);
    assert.match(pod.metadata!.name!, /^ok-[a-z0-9]{5}$/);
    assert.equal(pod.status?.phase, 'Succeeded');
    assert.equal(pod.metadata!.ownerReferences?.[0]?.uid, j.metadata!.uid);
    assert.equal(pod.metadata!.labels?.['controller-uid'], j.metadata!.uid);
    const log = await core.readNamespacedPodLog({ namespace: ns, name: pod.metadata!.name! });
    assert.equal(log.trim(), `hi there s3cret ${tmp.dir}`);
    const events = await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=ok' });
    assert.deepEqual(events.items.map((e) => e.reason).sort(), ['Completed', 'SuccessfulCreate']);
  });

  test('a failing pod is retried until backoffLimit, then the Job fails with BackoffLimitExceeded', async () => {
    await batch.createNamespacedJob({ namespace: ns, body: job('fails', ['node', '-e', 'process.exit(3)'], { backoffLimit: 1 }) });
    const j = await finished('fails');
    assert.equal(condition(j, 'Failed')?.reason, 'BackoffLimitExceeded');
    assert.equal(j.status?.failed, 2);
    const ps = await pods('fails');
    assert.equal(ps.length, 2, 'one pod per attempt');
    assert.ok(ps.every((p) => p.status?.containerStatuses?.[0]?.state?.terminated?.exitCode === 3));
  });

  test('an injected eviction is not counted under podFailurePolicy DisruptionTarget → Ignore', async () => {
    cluster.jobRunner!.injectFailure({ jobName: 'evicted', times: 1, mode: 'evict' });
    const podFailurePolicy = { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] };
    await batch.createNamespacedJob({ namespace: ns, body: job('evicted', ['node', '-e', 'setTimeout(() => {}, 300)'], { backoffLimit: 0, podFailurePolicy }) });
    const j = await finished('evicted');
    assert.ok(condition(j, 'Complete'), JSON.stringify(j.status));
    assert.equal(j.status?.failed, 0);
    const ps = await pods('evicted');
    const ev = ps.find((p) => p.status?.phase === 'Failed');
    assert.equal(ev?.status?.reason, 'Evicted');
    assert.ok(ev?.status?.conditions?.some((c) => c.type === 'DisruptionTarget' && c.status === 'True'));
  });

  test('without that rule the same eviction counts and fails a backoffLimit 0 Job', async () => {
    cluster.jobRunner!.injectFailure({ labelSelector: 'suite=runner,case=plain-evict', times: 1, mode: 'evict' });
    const body = job('plain-evict', ['node', '-e', 'setTimeout(() => {}, 300)'], { backoffLimit: 0 });
    body.metadata!.labels!['case'] = 'plain-evict';
    await batch.createNamespacedJob({ namespace: ns, body });
    const j = await finished('plain-evict');
    assert.equal(condition(j, 'Failed')?.reason, 'BackoffLimitExceeded');
  });

  test('activeDeadlineSeconds kills the pod and fails the Job with DeadlineExceeded', async () => {
    await batch.createNamespacedJob({ namespace: ns, body: job('slow', ['node', '-e', 'setTimeout(() => {}, 30000)'], { activeDeadlineSeconds: 1 }) });
    const j = await finished('slow');
    assert.equal(condition(j, 'Failed')?.reason, 'DeadlineExceeded');
    await eventually(async () => ((await pods('slow')).length === 0 ? true : undefined), 5000, 'the running pod to be deleted');
  });

  test('a suspended Job starts no pod until resumed; `ablate` commands run this project\'s CLI', async () => {
    await batch.createNamespacedJob({ namespace: ns, body: job('later', ['ablate', '--help'], { suspend: true }) });
    await eventually(async () => (condition(await batch.readNamespacedJobStatus({ namespace: ns, name: 'later' }), 'Suspended') ? true : undefined), 5000, 'Suspended condition');
    assert.equal((await pods('later')).length, 0);
    await batch.patchNamespacedJob({ namespace: ns, name: 'later', body: { spec: { suspend: false } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    const j = await finished('later', 60_000);
    assert.ok(condition(j, 'Complete'), JSON.stringify(j.status));
    const [pod] = await pods('later');
    assert.match(cluster.jobRunner!.logs(ns, pod!.metadata!.name!) ?? '', /ablate <command>/);
  });
});
