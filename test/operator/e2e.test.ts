// End to end: the dev cluster (API stand-in + Job runner), the real kubectl, the real NATS server
// on 127.0.0.1:4222, and the operator. The reference study as shipped —
// examples/science-exam/finetunejob.yaml, 3 ablations × 3 seeds on the demo model — runs while the
// controller is restarted mid-study and one pod fails once; the final status must equal what the
// local runtime computes for the same file undisturbed. Then an evaluation edit is re-aggregated
// from the stream without new Jobs, and the rest of the spec is frozen.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FineTuneJob } from '../../api/mod.js';
import { DevCluster, Operator, runLocalStudy, type LocalRunResult } from '../../controller/mod.js';
import { NatsTransport } from '../../protocol/mod.js';
import { spawn } from 'node:child_process';
import { ablateCommand } from '../../common/mod.js';
import { runCli } from '../support/cli.js';
import { kubectl } from '../support/kubectl.js';


const CRDS = fileURLToPath(new URL('../../manifests/crds/', import.meta.url));
const EXAMPLE_DIR = fileURLToPath(new URL('../../examples/science-exam/', import.meta.url));
const EXAMPLE = join(EXAMPLE_DIR, 'finetunejob.yaml');
/** The example's text with literal edits; each edit must apply (the test fails if the example changes shape). */
function exampleWith(...edits: Array<[string, string]>): string {
  let text = readFileSync(EXAMPLE, 'utf8');
  for (const [from, to] of edits) {
    assert.ok(text.includes(from), `examples/science-exam/finetunejob.yaml contains ${JSON.stringify(from)}`);
    text = text.replace(from, to);
  }
  return text;
}
const NATS = 'nats://127.0.0.1:4222';

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

describe('operator end to end (dev cluster, kubectl, NATS)', { timeout: 600_000 }, () => {
  const tag = randomBytes(3).toString('hex');
  const stream = `OPE2E_${tag}`;
  const prefix = `ope2e${tag}`;
  const name = 'science-exam';
  let dir: string;
  let kubeconfig: string;
  let cluster: DevCluster;
  let operator: Operator | undefined;
  let reference: Promise<LocalRunResult>;
  const k = (...args: string[]) => kubectl(args, { kubeconfig, timeoutMs: 60_000 });
  const getFtj = async (): Promise<FineTuneJob> => {
    const r = await k('get', 'ftj', name, '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as FineTuneJob;
  };
  const startOperator = (): Promise<Operator> =>
    Operator.create({ kubeconfig, namespaces: ['default'], natsUrl: NATS, stream, prefix, baseDir: EXAMPLE_DIR, metricsAddr: '127.0.0.1:0', probeAddr: '0', leaderElect: true, leaseNamespace: 'default', identity: `op-${randomBytes(2).toString('hex')}` });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ablate-operator-e2e-'));
    cluster = await DevCluster.create({ jobRunner: { workdir: dir }, bookmarkIntervalMs: 500 });
    kubeconfig = join(dir, 'kubeconfig');
    cluster.writeKubeconfig(kubeconfig);
    // The undisturbed reference: the same file through the local runtime, alongside.
    reference = runLocalStudy({ file: EXAMPLE, out: join(dir, 'reference'), parallel: 2, inProcess: true });
  });

  after(async () => {
    await operator?.close();
    await cluster?.close();
    await reference?.catch(() => undefined);
    const t = await NatsTransport.create({ servers: NATS, stream, subjects: [`${prefix}.>`], name: 'operator-e2e-cleanup' }).catch(() => undefined);
    await t?.deleteStream();
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs the study through a controller restart and a failed pod; status equals the undisturbed run', async () => {
    const crd = await k('apply', '-f', CRDS);
    assert.equal(crd.code, 0, crd.stderr);
    // One pod of one run fails once (before it trains): the Job retries it within its budget.
    cluster.jobRunner?.injectFailure({ labelSelector: 'ablate.dev/ablation=frozen-embeddings,ablate.dev/seed=1', times: 1, mode: 'exit' });
    const applied = await k('apply', '-f', EXAMPLE);
    assert.equal(applied.code, 0, applied.stderr);
    operator = await startOperator();

    // Mid-study: at least one run done, not all. Remember every Job's uid, then restart.
    const mid = await until('a first succeeded run', 300_000, async () => {
      const p = (await getFtj()).status?.progress;
      return p && Number(p.split('/')[0]) >= 1 ? p : undefined;
    });
    assert.ok(Number(mid.split('/')[0]) < 9, `restarted mid-study (progress ${mid})`);
    const before = JSON.parse((await k('get', 'jobs', '-l', `ablate.dev/job=${name}`, '-o', 'json')).stdout) as { items: Array<{ metadata: { name: string; uid: string } }> };
    await operator.close();
    operator = await startOperator();

    const done = await until('phase Succeeded', 900_000, async () => {
      const f = await getFtj();
      assert.notEqual(f.status?.phase, 'Failed', JSON.stringify(f.status));
      return f.status?.phase === 'Succeeded' ? f : undefined;
    });
    const get = await k('get', 'ftj');
    const [header, row] = get.stdout.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
    assert.deepEqual(header?.slice(0, 5), ['NAME', 'PHASE', 'PROGRESS', 'BEST', 'MAP@3']);
    assert.deepEqual(row?.slice(0, 4), [name, 'Succeeded', '9/9', done.status?.best?.ablation]);
    assert.equal(Number(row?.[4]), done.status?.best?.ensembleMapAtK);

    // Nine Jobs with the template's GPU limit; none created twice (same uids after the restart).
    const jobs = JSON.parse((await k('get', 'jobs', '-l', `ablate.dev/job=${name}`, '-o', 'json')).stdout) as {
      items: Array<{ metadata: { name: string; uid: string }; spec: { template: { spec: { containers: Array<{ resources?: { limits?: Record<string, unknown> } }> } } } }>;
    };
    assert.equal(jobs.items.length, 9);
    for (const j of jobs.items) assert.equal(String(j.spec.template.spec.containers[0]?.resources?.limits?.['nvidia.com/gpu']), '1');
    for (const b of before.items) assert.equal(jobs.items.find((j) => j.metadata.name === b.metadata.name)?.metadata.uid, b.metadata.uid, `Job ${b.metadata.name} was re-created`);
    const table = await k('get', 'jobs', '-l', `ablate.dev/job=${name}`);
    assert.equal(table.stdout.trim().split('\n').length, 10);

    // The failed run was retried and finished; every run has exactly the validation set.
    const retried = done.status?.runs?.find((r) => r.ablation === 'frozen-embeddings' && r.seed === 1);
    assert.equal(retried?.phase, 'Succeeded');
    assert.equal(retried?.attempts, 2);
    for (const r of done.status?.runs ?? []) assert.deepEqual(r.predictions, { received: 400, expected: 400 }, `${r.ablation}/${r.seed}`);

    // Equal to the undisturbed local run: per-run MAP@3, ensembles, comparisons, best.
    const ref = (await reference).results;
    for (const r of ref.runs) {
      const s = done.status?.runs?.find((x) => x.ablation === r.ablation && x.seed === r.seed);
      assert.equal(s?.mapAtK, r.mapAtK, `${r.ablation}/${r.seed}`);
    }
    for (const a of ref.ablations) {
      const s = done.status?.ablations?.find((x) => x.name === a.name);
      assert.equal(s?.ensembleMapAtK, a.ensembleMapAtK, a.name);
      assert.equal(s?.seedMean, a.seedMean, a.name);
      if (a.vsBaseline) {
        // The status carries every comparison field of results.json but the baseline's name.
        const { baseline: _baseline, ...comparison } = a.vsBaseline;
        assert.deepEqual(s?.vsBaseline, comparison, a.name);
      }
    }
    assert.deepEqual(done.status?.best, ref.best);

    // Events: run start, retry, completion; every controller Event and the Lease carry MicroTime.
    const ev = JSON.parse((await k('get', '--raw', '/apis/events.k8s.io/v1/namespaces/default/events')).stdout) as { items: Array<{ reason: string; eventTime: string; reportingController: string }> };
    const ours = ev.items.filter((e) => e.reportingController === 'ablate.dev/controller');
    for (const reason of ['RunStarted', 'RunRetried', 'RunSucceeded', 'StudySucceeded']) assert.ok(ours.some((e) => e.reason === reason), `an Event ${reason}`);
    for (const e of ours) assert.match(e.eventTime, /\.\d{6}Z$/, `eventTime ${e.eventTime}`);
    const lease = JSON.parse((await k('get', 'lease', 'ablate-controller', '-n', 'default', '-o', 'json')).stdout) as { spec: { holderIdentity: string; renewTime: string; acquireTime: string; leaseTransitions: number } };
    assert.match(lease.spec.renewTime, /\.\d{6}Z$/);
    assert.match(lease.spec.acquireTime, /\.\d{6}Z$/);
    assert.ok(lease.spec.leaseTransitions >= 1, 'the second controller took the released lease over');

    // Metrics.
    const metrics = await (await fetch(`http://${operator.addresses()[0]}/metrics`)).text();
    assert.match(metrics, /ablate_reconciles_total\{result="ok"\} [1-9]/);
    assert.match(metrics, /ablate_runs\{phase="Succeeded"\} 9/);
    assert.match(metrics, /ablate_prediction_messages_total\{kind="done"\} [1-9]/);
  });

  it('an evaluation edit is re-aggregated from the stream without new Jobs; other spec changes are refused', async () => {
    const jobsBefore = (await k('get', 'jobs', '-l', `ablate.dev/job=${name}`, '-o', 'jsonpath={.items[*].metadata.uid}')).stdout;
    const prev = await getFtj();
    writeFileSync(join(dir, 'k1.yaml'), exampleWith(['k: 3', 'k: 1']));
    const edit = await k('apply', '-f', join(dir, 'k1.yaml'));
    assert.equal(edit.code, 0, edit.stderr);
    const f = await until('the k=1 aggregate', 60_000, async () => {
      const x = await getFtj();
      return x.status?.observedGeneration === 2 && x.status.phase === 'Succeeded' ? x : undefined;
    });
    for (const a of f.status?.ablations ?? []) {
      const old = prev.status?.ablations?.find((o) => o.name === a.name);
      assert.ok((a.ensembleMapAtK ?? 0) <= (old?.ensembleMapAtK ?? 0), `${a.name}: MAP@1 ≤ MAP@3`);
    }
    assert.equal((await k('get', 'jobs', '-l', `ablate.dev/job=${name}`, '-o', 'jsonpath={.items[*].metadata.uid}')).stdout, jobsBefore);
    writeFileSync(join(dir, 'seeds.yaml'), exampleWith(['seeds: [0, 1, 2]', 'seeds: [0]']));
    const refused = await k('apply', '-f', join(dir, 'seeds.yaml'));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /spec\.seeds/);
  });

  it('the CLI: report NAME from the status and the stream, status --json, watch --json, submit, controller with probes and a clean drain', async () => {
    const out = join(dir, 'report');
    const rep = await runCli(['report', name, '--kubeconfig', kubeconfig, '--nats', NATS, '--stream', stream, '--subject-prefix', prefix, '--out', out]);
    assert.equal(rep.code, 0, rep.stderr);
    const f = await getFtj();
    assert.match(rep.stdout, new RegExp(`^${f.status?.best?.ablation} \\((baseline, )?best\\)`, 'm'));
    assert.ok(rep.stdout.includes(`Report: ${join(out, 'report.html')}`));
    const results = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(join(out, 'results.json'), 'utf8'))) as { runs: Array<{ files: { curves: string | null } }> };
    assert.ok(results.runs.every((r) => r.files.curves !== null), 'curves rebuilt from the progress messages');

    const st = await runCli(['status', name, '--kubeconfig', kubeconfig, '--json']);
    assert.equal(st.code, 0, st.stderr);
    assert.deepEqual(JSON.parse(st.stdout), f.status);
    const text = await runCli(['status', name, '--kubeconfig', kubeconfig]);
    assert.match(text.stdout, /default\/science-exam: Succeeded +progress 9\/9/);
    const w = await runCli(['watch', name, '--kubeconfig', kubeconfig, '--json']);
    assert.equal(w.code, 0, w.stderr);
    assert.equal((JSON.parse(w.stdout.trim().split('\n').pop() ?? '{}') as { phase?: string }).phase, 'Succeeded');
    const missing = await runCli(['status', 'no-such-job', '--kubeconfig', kubeconfig]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /finetunejob default\/no-such-job not found/);

    // `ablate controller` as a process, in its own namespace (no NATS: Degraded, says why).
    assert.equal((await k('create', 'namespace', 'cli-test')).code, 0);
    const [cmd, ...base] = ablateCommand();
    const probePort = 20_000 + Math.floor(Math.random() * 20_000);
    const child = spawn(cmd, [...base, 'controller', '--kubeconfig', kubeconfig, '--namespaces', 'cli-test', '--metrics-addr', '0', '--probe-addr', `127.0.0.1:${probePort}`, '--base-dir', EXAMPLE_DIR], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NATS_URL: '' } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      await until('/readyz', 60_000, async () => ((await fetch(`http://127.0.0.1:${probePort}/readyz`)).status === 200 ? true : undefined));
      writeFileSync(join(dir, 'held.yaml'), exampleWith(['name: science-exam', 'name: held\n  namespace: cli-test'], ['  evaluation:', '  suspend: true\n  evaluation:']));
      const sub = await runCli(['submit', join(dir, 'held.yaml'), '--kubeconfig', kubeconfig, '--json']);
      assert.equal(sub.code, 0, sub.stderr);
      assert.deepEqual({ ...JSON.parse(sub.stdout), uid: 'x' }, { name: 'held', namespace: 'cli-test', uid: 'x', created: true });
      const held = await until('the held job reconciled', 60_000, async () => {
        const r = await runCli(['status', 'held', '-n', 'cli-test', '--kubeconfig', kubeconfig, '--json']);
        const s = JSON.parse(r.stdout || '{}') as FineTuneJob['status'];
        return s?.phase ? s : undefined;
      });
      assert.equal(held?.phase, 'Suspended');
      assert.equal(held?.conditions?.find((c) => c.type === 'Degraded')?.reason, 'PredictionStreamUnavailable');
      assert.equal((await k('get', 'jobs', '-n', 'cli-test', '-o', 'name')).stdout.trim(), '', 'no Jobs while suspended');
      const again = await runCli(['submit', join(dir, 'held.yaml'), '--kubeconfig', kubeconfig]);
      assert.match(again.stdout, /finetunejob\.ablate\.dev\/held configured in namespace cli-test/);
      writeFileSync(join(dir, 'bad.yaml'), exampleWith(['name: science-exam', 'name: bad'], ['baseline: full', 'baseline: nothing']));
      const bad = await runCli(['submit', join(dir, 'bad.yaml'), '--kubeconfig', kubeconfig]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /spec\.evaluation\.baseline/);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr.slice(-2000));
    assert.match(stderr, /controller stopped/);
  });
});
