// The real `ablate controller`, started exactly as the chart's Deployment starts it (rendered
// arguments, `$(ABLATE_NATS_URL)` expanded from the controller's Secret as the kubelet would, the
// Deployment's env), against the dev cluster and a NATS server with the accounts of
// docs/security.md, at debug log level: it answers the probes and /metrics the Deployment points
// at, starts runs, and no NATS password appears in its logs, the FineTuneJob status, Events or
// Jobs; its NATS user needed nothing the doc's permissions do not give.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ablateCommand } from '../../common/mod.js';
import { DevCluster } from '../../controller/mod.js';
import { REPO_ROOT } from '../../scripts/generate.js';
import { kubectl } from '../support/kubectl.js';
import { renderedControllerArgs } from './render.js';
import { CONTROLLER_PASSWORD, NATS_SERVER, startDocNats, TRAINER_PASSWORD, type DocNats } from './doc-nats.js';

const NAMESPACE = 'ml';
const RELEASE_NAMESPACE = 'ablate';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

async function httpStatus(url: string): Promise<number | undefined> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).status;
  } catch {
    return undefined;
  }
}
const SECRET = 'ablate-trainer-nats';
const EXAMPLE_DIR = join(REPO_ROOT, 'examples', 'science-exam');

describe('credentials stay secret', { skip: NATS_SERVER === undefined ? 'nats-server is not on PATH' : false }, () => {
  let nats: DocNats;
  let cluster: DevCluster;
  let dir: string;
  let kubeconfig: string;
  let controller: ChildProcess | undefined;
  let output = '';

  before(async () => {
    nats = await startDocNats();
    dir = mkdtempSync(join(tmpdir(), 'ablate-secrets-'));
    // No Job runner: the Jobs stay pending, which is all this test needs of them.
    cluster = await DevCluster.create({});
    kubeconfig = join(dir, 'kubeconfig');
    cluster.writeKubeconfig(kubeconfig);
  });

  after(async () => {
    if (controller && controller.exitCode === null) {
      const exited = new Promise((r) => controller!.once('exit', r));
      controller.kill('SIGKILL');
      await exited;
    }
    await cluster?.close();
    await nats?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function k(args: string[]): Promise<string> {
    const r = await kubectl(args, { kubeconfig });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  test('in neither the controller logs nor the FineTuneJob status, Events or Jobs', async () => {
    await k(['apply', '-f', join(REPO_ROOT, 'manifests', 'crds', 'ablate.dev_finetunejobs.yaml')]);
    await k(['create', 'namespace', NAMESPACE]);
    await k(['create', 'namespace', RELEASE_NAMESPACE]);
    await k(['-n', NAMESPACE, 'create', 'secret', 'generic', SECRET, `--from-literal=url=${nats.url('trainer-ml-science-exam', TRAINER_PASSWORD)}`]);
    await k(['-n', NAMESPACE, 'apply', '-f', join(EXAMPLE_DIR, 'finetunejob.yaml')]);

    const rendered = renderedControllerArgs([
      ...['nats.credentials.controllerSecret=ablate-controller-nats', `nats.credentials.trainerSecret=${SECRET}`, `controller.baseDir=${EXAMPLE_DIR}`, 'controller.logLevel=debug'].flatMap((v) => ['--set', v]),
    ]);
    const [metrics, probes] = [await freePort(), await freePort()];
    // What the kubelet does: expand $(ABLATE_NATS_URL) from the Secret; the test moves the ports to free loopback ones.
    const controllerUrl = nats.url('ablate-controller', CONTROLLER_PASSWORD);
    const args = rendered.map((a) =>
      a.replace('$(ABLATE_NATS_URL)', controllerUrl).replace(/^--metrics-addr=:\d+$/, `--metrics-addr=127.0.0.1:${metrics}`).replace(/^--probe-addr=:\d+$/, `--probe-addr=127.0.0.1:${probes}`),
    );
    assert.ok(args.includes(`--nats=${controllerUrl}`), `the Deployment does not take --nats from the Secret: ${rendered.join(' ')}`);
    const [cmd, ...base] = ablateCommand();
    const env: NodeJS.ProcessEnv = { ...process.env, ABLATE_LOG_FORMAT: 'json', POD_NAME: 'ablate-controller-0', POD_NAMESPACE: RELEASE_NAMESPACE };
    delete env['NATS_URL'];
    controller = spawn(cmd, [...base, ...args, '--kubeconfig', kubeconfig], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    controller.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
    controller.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));

    // Wait until the controller has acted: Jobs created and the status written.
    const deadline = Date.now() + 90_000;
    let jobs: { items: unknown[] } = { items: [] };
    let ftj: { status?: { phase?: string } } = {};
    while (Date.now() < deadline) {
      jobs = JSON.parse(await k(['-n', NAMESPACE, 'get', 'jobs', '-o', 'json'])) as typeof jobs;
      ftj = JSON.parse(await k(['-n', NAMESPACE, 'get', 'finetunejob', 'science-exam', '-o', 'json'])) as typeof ftj;
      if (jobs.items.length > 0 && ftj.status?.phase !== undefined) break;
      assert.equal(controller.exitCode, null, `the controller exited: ${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(jobs.items.length > 0, `no Jobs were created: ${output}`);
    assert.ok(ftj.status?.phase, `no status was written: ${output}`);
    // The endpoints the Deployment's probes and metrics Service use.
    assert.equal(await httpStatus(`http://127.0.0.1:${probes}/healthz`), 200);
    assert.equal(await httpStatus(`http://127.0.0.1:${probes}/readyz`), 200);
    assert.equal(await httpStatus(`http://127.0.0.1:${metrics}/metrics`), 200);

    const exited = new Promise((r) => controller!.once('exit', r));
    controller.kill('SIGTERM');
    await exited;

    const events = await k(['-n', NAMESPACE, 'get', 'events', '-o', 'json']);
    const written = { logs: output, status: JSON.stringify(ftj), events, jobs: JSON.stringify(jobs) };
    for (const [where, text] of Object.entries(written)) {
      for (const secret of [CONTROLLER_PASSWORD, TRAINER_PASSWORD]) assert.ok(!text.includes(secret), `a NATS password appears in the ${where}`);
    }
    assert.doesNotMatch(output, /Permissions Violation|Authorization Violation/i, 'the controller needed more than docs/security.md grants');
    // The trainers' credentials are referenced, not copied.
    assert.match(written.jobs, new RegExp(`"secretKeyRef":\\{"key":"url","name":"${SECRET}"\\}|"secretKeyRef":\\{"name":"${SECRET}","key":"url"\\}`));
  });
});
