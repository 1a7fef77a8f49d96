// Controller at scale (issue #7 item 3): 1,000 FineTuneJobs × 9 runs (3 ablations × 3 seeds,
// parallelism 9) against the dev cluster (API stand-in, no Job runner: Jobs stay pending, so only
// the controller's own work is timed). Measured: time until all 9,000 Jobs exist; per
// FineTuneJob, the latency from its create to its 9th Job (p50/p99); the controller's RSS
// (sampled from /proc, a child process) and its heap after a full GC (asked over IPC); API
// requests per run it sends. The limit: the dev cluster's own Job-create rate under a plain HTTP
// load from a worker thread of this script (32 requests in flight, the same Job bodies the
// controller writes), in a namespace the controller does not watch, measured before and after
// the controller's run (the peer is the mean).
//
//   npx tsx bench/controller-scale.ts [--jobs 1000] [--limit-creates 3000] [--nats nats://127.0.0.1:4222] [--queue-workers N] [--profile DIR]
//
// Writes bench/results/controller-scale.json (Jobs created per second; ratio = controller / limit,
// goal ≥ 0.5, and flat memory per job). `--child` is the controller process this script starts.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { subscribe } from 'node:diagnostics_channel';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { parse as parseYaml } from 'yaml';
import { flag, intFlag, machine, ratioOf, round, summary, writeResult } from './common.js';

const argv = process.argv.slice(2);
const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..');
/** User-Agent of this script's own requests, so the request count is the controller's alone. */
const BENCH_UA = 'ablate-bench';
const ABLATIONS = 3;
const SEEDS = 3;
const RUNS = ABLATIONS * SEEDS;
/** FineTuneJob creates in flight from the "user". @default 8 */
const USER_CONCURRENCY = 8;
/** Job creates in flight in the limit measurement. @default 32 */
const LIMIT_CONCURRENCY = 32;
/** After the last Job appears, requests are counted this much longer (status patches, Events). @default 5000 ms */
const SETTLE_MS = 5000;

if (argv.includes('--child')) await child();
else await main();

/** The controller process: the real Operator, watching `default`, collecting from its own stream. */
async function child(): Promise<void> {
  const { Operator } = await import('../controller/mod.js');
  const op = await Operator.create({
    kubeconfig: flag(argv, '--kubeconfig') as string,
    natsUrl: flag(argv, '--nats') as string,
    stream: flag(argv, '--stream') as string,
    prefix: flag(argv, '--prefix') as string,
    baseDir: flag(argv, '--base-dir') as string,
    namespaces: ['default'],
    metricsAddr: '0',
    probeAddr: '0',
    leaderElect: false,
    ...(flag(argv, '--queue-workers') === undefined ? {} : { queueWorkers: intFlag(argv, '--queue-workers', 0) }),
  });
  // The parent asks for the heap after a full GC (node --expose-gc): memory the controller holds,
  // without the garbage RSS also counts.
  process.on('message', (m) => {
    if (m === 'cpu') {
      const c = process.cpuUsage();
      process.send?.({ cpuSeconds: (c.user + c.system) / 1e6 });
      return;
    }
    if (m !== 'heap') return;
    (globalThis as { gc?: () => void }).gc?.();
    const u = process.memoryUsage();
    process.send?.({ heapUsed: u.heapUsed, external: u.external, arrayBuffers: u.arrayBuffers, rss: u.rss });
  });
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    void op.close().then(() => process.exit(0));
  });
}

function ftjBody(name: string): Record<string, unknown> {
  return {
    apiVersion: 'ablate.dev/v1alpha1',
    kind: 'FineTuneJob',
    metadata: { name, namespace: 'default' },
    spec: {
      model: { uri: './model', maxLength: 32 },
      data: { train: { uri: './data/train.csv' }, validation: { uri: './data/validation.csv' }, numOptions: 5 },
      training: { epochs: 1, batchSize: 4, learningRate: { value: 5e-4 }, backend: 'cpu' },
      ablations: [{ name: 'full' }, { name: 'frozen-embeddings', training: { freezeEmbeddings: true } }, { name: 'lr-2x', training: { learningRate: { value: 1e-3 } } }],
      seeds: [0, 1, 2],
      execution: { parallelism: RUNS, backoffLimit: 2, activeDeadlineSeconds: 600 },
      template: { image: 'ghcr.io/ablate-dev/ablate-trainer:bench', resources: { limits: { 'nvidia.com/gpu': 1 } } },
      evaluation: { k: 3, baseline: 'full', bootstrap: { resamples: 1000, confidence: 0.95, seed: 0 } },
    },
  };
}

async function api(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'user-agent': BENCH_UA, authorization: 'Bearer ablate-dev-cluster' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return text === '' ? undefined : JSON.parse(text);
}

/** Watches Jobs in `default`; calls `onAdded(jobLabel)` per new Job. Returns a stop function. */
async function watchJobs(base: string, onAdded: (ftj: string) => void): Promise<() => void> {
  const ctl = new AbortController();
  const res = await fetch(`${base}/apis/batch/v1/namespaces/default/jobs?watch=true&allowWatchBookmarks=false`, { headers: { 'user-agent': BENCH_UA }, signal: ctl.signal });
  if (!res.ok || !res.body) throw new Error(`watch jobs: HTTP ${res.status}`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += decoder.decode(value, { stream: true });
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim() === '') continue;
          const ev = JSON.parse(line) as { type: string; object: { metadata?: { labels?: Record<string, string> } } };
          if (ev.type === 'ADDED') onAdded(ev.object.metadata?.labels?.['ablate.dev/job'] ?? '');
        }
      }
    } catch {
      // Aborted by stop().
    }
  })();
  return () => ctl.abort();
}

function rssMiB(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

interface Heap {
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

/** The controller's heap after a full GC (asked over IPC), in MiB. */
function heapOf(child: ChildProcess): Promise<{ heapMiB: number; externalMiB: number }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('the controller did not report its heap within 30 s')), 30_000);
    child.once('message', (m: Heap) => {
      clearTimeout(t);
      resolve({ heapMiB: m.heapUsed / 2 ** 20, externalMiB: m.external / 2 ** 20 });
    });
    child.send('heap');
  });
}

/** The controller's CPU time so far (user + system), in seconds. */
function cpuOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('the controller did not report its CPU time within 30 s')), 30_000);
    child.once('message', (m: { cpuSeconds: number }) => {
      clearTimeout(t);
      resolve(m.cpuSeconds);
    });
    child.send('cpu');
  });
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** The limit: `count` Job creates from a worker thread, LIMIT_CONCURRENCY in flight; creates/s. */
function limitRate(base: string, template: Record<string, unknown>, count: number, namespace: string): Promise<number> {
  const code = `
    const { parentPort, workerData: w } = require('node:worker_threads');
    (async () => {
      let next = 0;
      const t0 = performance.now();
      const one = async () => {
        while (next < w.count) {
          const i = next++;
          const body = JSON.parse(w.template);
          body.metadata = { name: 'limit-' + i, namespace: w.namespace, labels: body.metadata.labels };
          const res = await fetch(w.base + '/apis/batch/v1/namespaces/' + w.namespace + '/jobs', {
            method: 'POST', body: JSON.stringify(body),
            headers: { 'content-type': 'application/json', 'user-agent': '${BENCH_UA}', authorization: 'Bearer ablate-dev-cluster' },
          });
          if (res.status !== 201) throw new Error('limit create ' + i + ': HTTP ' + res.status + ' ' + (await res.text()).slice(0, 200));
          await res.arrayBuffer();
        }
      };
      await Promise.all(Array.from({ length: w.concurrency }, one));
      parentPort.postMessage(w.count / ((performance.now() - t0) / 1000));
    })().catch((e) => { throw e; });
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { base, template: JSON.stringify(template), count, namespace, concurrency: LIMIT_CONCURRENCY } });
    worker.once('message', (rate: number) => {
      resolve(rate);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

async function main(): Promise<void> {
  const jobs = intFlag(argv, '--jobs', 1000);
  const limitCreates = intFlag(argv, '--limit-creates', 3000);
  const nats = flag(argv, '--nats') ?? process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
  const tag = randomBytes(3).toString('hex');
  const stream = `BENCH_CTRL_${tag}`;
  const prefix = `benchctrl${tag}`;
  const dir = mkdtempSync(join(tmpdir(), 'ablate-bench-controller-'));
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'model'));
  for (const f of ['train.csv', 'validation.csv']) copyFileSync(join(ROOT, 'examples', 'science-exam', 'data', f), join(dir, 'data', f));

  const { DevCluster } = await import('../controller/mod.js');
  const { NatsTransport } = await import('../protocol/mod.js');
  const cluster = await DevCluster.create({});
  const kubeconfig = join(dir, 'kubeconfig');
  cluster.writeKubeconfig(kubeconfig);
  let controller: ChildProcess | undefined;
  let stopWatch: (() => void) | undefined;
  try {
    const crd = parseYaml(readFileSync(join(ROOT, 'manifests', 'crds', 'ablate.dev_finetunejobs.yaml'), 'utf8')) as unknown;
    await api(cluster.url, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);

    // Requests the controller sends (every request but this script's own).
    const counts = new Map<string, number>();
    let counting = false;
    subscribe('http.server.request.start', (msg) => {
      const req = (msg as { request: IncomingMessage }).request;
      if (!counting || req.headers['user-agent'] === BENCH_UA) return;
      const key = `${req.method} ${(req.url ?? '').includes('watch=') ? 'watch' : (req.url ?? '').split('?')[0]?.split('/').filter((s) => s !== '' && !/^(default|[a-z0-9-]+-[0-9a-f]{6,}|ftj-\d+.*)$/.test(s)).slice(-1)[0] ?? ''}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    });

    // --profile DIR: the controller writes a V8 CPU profile there when it exits (node --cpu-prof).
    const profileDir = flag(argv, '--profile');
    const profileArgs = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir];
    const workers = flag(argv, '--queue-workers');
    controller = spawn(process.execPath, [...profileArgs, '--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--child', '--kubeconfig', kubeconfig, '--nats', nats, '--stream', stream, '--prefix', prefix, '--base-dir', dir, ...(workers === undefined ? [] : ['--queue-workers', workers])], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore', 'ipc'],
      env: { ...process.env, ABLATE_LOG_LEVEL: 'warn' },
    });
    const pid = controller.pid as number;
    await new Promise<void>((resolve, reject) => {
      controller?.stdout?.on('data', (b: Buffer) => {
        if (b.toString().includes('ready')) resolve();
      });
      controller?.once('exit', (code) => reject(new Error(`controller exited with ${code} before it was ready`)));
    });
    await new Promise((r) => setTimeout(r, 1000));
    const heapStart = await heapOf(controller);
    const rssStart = rssMiB(pid) ?? NaN;
    let rssPeak = rssStart;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, rssMiB(pid) ?? 0);
    }, 250);

    // The limit, first half: before the controller's run, with a Job built by the controller's own
    // code (buildJob) for the same spec, in a namespace the controller does not watch. The second
    // half runs after, with a Job the controller wrote; the peer is their mean (the shared machine's
    // load drifts over a run, so each side is measured on both sides of the other).
    const { buildJob, compileSettings } = await import('../controller/mod.js');
    const { expandRuns, withDefaults } = await import('../api/mod.js');
    const sampleFtj = { ...ftjBody('limit-template'), metadata: { name: 'limit-template', namespace: 'default', uid: '00000000-0000-4000-8000-000000000000' } } as unknown as Parameters<typeof buildJob>[0];
    const built = buildJob(sampleFtj, withDefaults(sampleFtj.spec), expandRuns(sampleFtj.spec)[0] as Parameters<typeof buildJob>[2], compileSettings({ natsUrl: nats, stream, prefix, baseDir: dir }));
    const builtTemplate = { apiVersion: 'batch/v1', kind: 'Job', metadata: { labels: built.metadata.labels }, spec: built.spec };
    await api(cluster.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-limit-before' } });
    const limitBefore = await limitRate(cluster.url, builtTemplate, limitCreates, 'bench-limit-before');
    process.stderr.write(`limit before: ${limitBefore.toFixed(0)} Job creates/s\n`);

    // The user creates the FineTuneJobs; the watch sees each Job the controller creates.
    const created = new Map<string, number>();
    const perFtj = new Map<string, number>();
    const latencies: number[] = [];
    let total = 0;
    let allAt = 0;
    let resolveAll: () => void = () => undefined;
    const allJobs = new Promise<void>((r) => (resolveAll = r));
    stopWatch = await watchJobs(cluster.url, (ftj) => {
      const n = (perFtj.get(ftj) ?? 0) + 1;
      perFtj.set(ftj, n);
      if (n === RUNS) latencies.push(performance.now() - (created.get(ftj) ?? NaN));
      if (++total === jobs * RUNS) {
        allAt = performance.now();
        resolveAll();
      }
    });
    counting = true;
    const cpu0 = await cpuOf(controller);
    const own0 = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: USER_CONCURRENCY }, async () => {
        while (next < jobs) {
          const name = `ftj-${next++}`;
          created.set(name, performance.now());
          await api(cluster.url, 'POST', '/apis/ablate.dev/v1alpha1/namespaces/default/finetunejobs', ftjBody(name));
        }
      }),
    );
    const createdAt = performance.now();
    await allJobs;
    const own1 = process.cpuUsage(own0);
    const cpu1 = await cpuOf(controller);
    const seconds = (allAt - t0) / 1000;
    const rssAtAll = rssMiB(pid) ?? NaN;
    const requestsAtAll = [...counts.values()].reduce((a, b) => a + b, 0);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    counting = false;
    clearInterval(sampler);
    const requestsSettled = [...counts.values()].reduce((a, b) => a + b, 0);
    const rssEnd = rssMiB(pid) ?? NaN;
    const heapEnd = await heapOf(controller);
    process.stderr.write(`controller: ${jobs * RUNS} Jobs in ${seconds.toFixed(1)} s; RSS ${rssStart.toFixed(0)} → ${rssEnd.toFixed(0)} MiB; heap after GC ${heapStart.heapMiB.toFixed(1)} → ${heapEnd.heapMiB.toFixed(1)} MiB\n`);

    // The limit, with a Job body as the controller wrote it, in a namespace it does not watch.
    const list = (await api(cluster.url, 'GET', '/apis/batch/v1/namespaces/default/jobs?limit=1')) as { items: Record<string, unknown>[] };
    const sample = list.items[0] as { metadata: { labels?: Record<string, string> } } & Record<string, unknown>;
    const template = { apiVersion: 'batch/v1', kind: 'Job', metadata: { labels: sample.metadata.labels ?? {} }, spec: sample['spec'] };
    await api(cluster.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-limit-after' } });
    const limitAfter = await limitRate(cluster.url, template, limitCreates, 'bench-limit-after');
    const limit = (limitBefore + limitAfter) / 2;
    process.stderr.write(`limit after: ${limitAfter.toFixed(0)} Job creates/s; mean ${limit.toFixed(0)}\n`);

    latencies.sort((a, b) => a - b);
    const rate = (jobs * RUNS) / seconds;
    const r = {
      name: 'controller-scale',
      ours: round(rate, 1),
      peer: round(limit, 1),
      ratio: ratioOf(rate, limit, 'higher'),
      unit: 'Jobs created per second',
      machine: machine(),
      peerName: `dev cluster's own Job-create rate under plain HTTP load (${LIMIT_CONCURRENCY} in flight, ${limitCreates} creates, worker thread), mean of one measurement before and one after the controller's run`,
      goal: '≥ 50 % of the dev cluster\'s create rate (ratio ≥ 0.5), flat memory per job',
      command: `npx tsx bench/controller-scale.ts --jobs ${jobs} --limit-creates ${limitCreates}`,
      repeats: 1,
      time: new Date().toISOString(),
      details: {
        shape: `${jobs} FineTuneJobs × ${RUNS} runs (${ABLATIONS} ablations × ${SEEDS} seeds, parallelism ${RUNS}) = ${jobs * RUNS} Jobs; FineTuneJobs created ${USER_CONCURRENCY} at a time`,
        limitCreatesPerSecond: { before: round(limitBefore, 1), after: round(limitAfter, 1) },
        secondsToAllJobs: round(seconds, 2),
        devClusterCpu: { what: 'this process\'s CPU over the same span (the dev cluster serving every request and watch, plus the user\'s creates and the Job watch): 1.0 = one core', seconds: round((own1.user + own1.system) / 1e6, 2), share: round((own1.user + own1.system) / 1e6 / seconds, 2) },
        controllerCpu: { what: 'the controller process\'s CPU seconds (user + system) from the first FineTuneJob create to its last Job, and that over the wall time: 1.0 = one core busy throughout', seconds: round(cpu1 - cpu0, 2), share: round((cpu1 - cpu0) / seconds, 2) },
        secondsToCreateFineTuneJobs: round((createdAt - t0) / 1000, 2),
        reconcileLatencyMs: { what: 'FineTuneJob create → its 9th Job exists', p50: round(quantile(latencies, 0.5), 0), p99: round(quantile(latencies, 0.99), 0), max: round(latencies.at(-1) ?? NaN, 0) },
        controllerRssMiB: { idle: round(rssStart, 1), atAllJobs: round(rssAtAll, 1), peak: round(rssPeak, 1), afterSettle: round(rssEnd, 1), perFineTuneJobKiB: round(((rssEnd - rssStart) * 1024) / jobs, 1) },
        controllerHeapAfterGcMiB: {
          what: 'V8 heap used after a full GC (node --expose-gc, asked over IPC): what the controller holds, without the garbage RSS counts',
          idle: round(heapStart.heapMiB, 1),
          afterSettle: round(heapEnd.heapMiB, 1),
          externalIdle: round(heapStart.externalMiB, 1),
          externalAfterSettle: round(heapEnd.externalMiB, 1),
          perFineTuneJobKiB: round(((heapEnd.heapMiB - heapStart.heapMiB) * 1024) / jobs, 1),
        },
        apiRequestsPerRun: { atAllJobs: round(requestsAtAll / (jobs * RUNS), 2), within5sAfter: round(requestsSettled / (jobs * RUNS), 2), byKind: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1])) },
        controllerProcess: 'node --import tsx (the Operator, not dist/): the RSS includes the TypeScript loader',
      },
    };
    const path = await writeResult(r);
    console.log(summary(r));
    console.log(`wrote ${path}`);
  } finally {
    stopWatch?.();
    if (controller && controller.exitCode === null) {
      const exited = new Promise((r) => controller?.once('exit', r));
      controller.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (controller.exitCode === null) controller.kill('SIGKILL');
    }
    await cluster.close();
    const t = await NatsTransport.create({ servers: nats, stream, subjects: [`${prefix}.>`], name: 'bench-controller-cleanup' }).catch(() => undefined);
    await t?.deleteStream();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
