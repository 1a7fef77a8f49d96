// The real kubectl 1.35 against the stand-in: plain `kubectl apply -f` of the generated
// FineTuneJob CRD and the example resource (server-side field validation, no --validate=false),
// printer columns in `kubectl get`, admission errors naming the field, Jobs, logs and delete.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DevCluster } from '../../controller/mod.js';
import { kubectl } from '../support/kubectl.js';
import { eventually, tempDir } from './helpers.js';

const CRD = new URL('../../manifests/crds/ablate.dev_finetunejobs.yaml', import.meta.url);
const EXAMPLE = new URL('../../examples/science-exam/finetunejob.yaml', import.meta.url);

describe('dev-cluster with the real kubectl', () => {
  let cluster: DevCluster;
  let tmp: ReturnType<typeof tempDir>;
  let kubeconfig: string;
  const k = (...args: string[]) => kubectl(args, { kubeconfig });
  const file = (name: string, text: string): string => {
    const p = join(tmp.dir, name);
    writeFileSync(p, text);
    return p;
  };

  before(async () => {
    tmp = tempDir();
    cluster = await DevCluster.create({ jobRunner: { workdir: tmp.dir } });
    kubeconfig = join(tmp.dir, 'kubeconfig');
    cluster.writeKubeconfig(kubeconfig);
  });
  after(async () => {
    await cluster.close();
    tmp.cleanup();
  });

  test('kubectl apply -f the FineTuneJob CRD and the example; get shows the printer columns', async () => {
    const crd = await k('apply', '-f', CRD.pathname);
    assert.equal(crd.code, 0, crd.stderr);
    assert.match(crd.stdout, /customresourcedefinition.apiextensions.k8s.io\/finetunejobs.ablate.dev created/);
    const cr = await k('apply', '-f', EXAMPLE.pathname);
    assert.equal(cr.code, 0, cr.stderr);
    assert.match(cr.stdout, /finetunejob.ablate.dev\/science-exam created/);
    // A status written by the controller shows up in the columns.
    const patched = await k('patch', 'ftj', 'science-exam', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running","progress":"5/9","best":{"ablation":"full","ensembleMapAtK":0.739}}}');
    assert.equal(patched.code, 0, patched.stderr);
    const get = await k('get', 'finetunejobs');
    assert.equal(get.code, 0, get.stderr);
    const [header, row] = get.stdout.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
    assert.deepEqual(header, ['NAME', 'PHASE', 'PROGRESS', 'BEST', 'MAP@3', 'AGE']);
    assert.deepEqual(row?.slice(0, 5), ['science-exam', 'Running', '5/9', 'full', '0.739']);
    assert.match(row?.[5] ?? '', /^\d+s$/, 'Age is a duration');
    // Once running, the CRD's transition rule (given the stored object) freezes the spec except
    // evaluation and parallelism.
    const frozen = await k('apply', '-f', file('seeds.yaml', readFileSync(EXAMPLE, 'utf8').replace('seeds: [0, 1, 2]', 'seeds: [0, 1]')));
    assert.equal(frozen.code, 1);
    assert.match(frozen.stderr, /spec\.seeds: Invalid value: "array": spec\.seeds is immutable/);
    const again = await k('apply', '-f', file('eval.yaml', readFileSync(EXAMPLE, 'utf8').replace('resamples: 10000', 'resamples: 2000')));
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /configured/);
    const gen = await k('get', 'ftj', 'science-exam', '-o', 'jsonpath={.metadata.generation} {.spec.evaluation.bootstrap.resamples}');
    assert.equal(gen.stdout, '2 2000');
  });

  test('an invalid FineTuneJob is refused with a message naming the field', async () => {
    const bad = readFileSync(EXAMPLE, 'utf8').replace('name: science-exam', 'name: bad-baseline').replace('baseline: full', 'baseline: nope');
    const r = await k('apply', '-f', file('bad.yaml', bad));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /The FineTuneJob "bad-baseline" is invalid: spec\.evaluation\.baseline: Invalid value: "nope"/);
    const unknown = await k('apply', '-f', file('unknown.yaml', readFileSync(EXAMPLE, 'utf8').replace('name: science-exam', 'name: typo').replace('  seeds:', '  seedz: [1]\n  seeds:')));
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown field "spec\.seedz"/);
  });

  test('kubectl create ns/secret (protobuf bodies), get jobs, logs and delete with garbage collection', async () => {
    assert.equal((await k('create', 'namespace', 'kt')).code, 0);
    const secret = await k('-n', 'kt', 'create', 'secret', 'generic', 'creds', '--from-literal=who=kubectl');
    assert.equal(secret.code, 0, secret.stderr);
    const job = `apiVersion: batch/v1
kind: Job
metadata: {name: hello, namespace: kt}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: node
          command: [node, -e, "console.log('hello ' + process.env.WHO)"]
          env: [{name: WHO, valueFrom: {secretKeyRef: {name: creds, key: who}}}]
`;
    assert.equal((await k('apply', '-f', file('job.yaml', job))).code, 0);
    await eventually(async () => ((await k('-n', 'kt', 'get', 'job', 'hello', '-o', 'jsonpath={.status.succeeded}')).stdout === '1' ? true : undefined), 20_000, 'job success');
    const jobs = await k('-n', 'kt', 'get', 'jobs');
    assert.match(jobs.stdout, /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\n/);
    assert.match(jobs.stdout, /hello\s+Complete\s+1\/1\s/);
    const logs = await k('-n', 'kt', 'logs', 'job/hello');
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, 'hello kubectl\n');
    const pods = await k('-n', 'kt', 'get', 'pods', '-l', 'job-name=hello');
    assert.match(pods.stdout, /hello-[a-z0-9]{5}\s+0\/1\s+Completed/);
    const del = await k('-n', 'kt', 'delete', 'job', 'hello');
    assert.equal(del.code, 0, del.stderr);
    await eventually(async () => ((await k('-n', 'kt', 'get', 'pods', '-o', 'name')).stdout === '' ? true : undefined), 5000, 'pods collected');
    const missing = await k('-n', 'kt', 'get', 'job', 'hello');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Error from server \(NotFound\): jobs.batch "hello" not found/);
  });
});
