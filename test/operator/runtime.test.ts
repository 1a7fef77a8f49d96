// The operator's runtime pieces on their own: the work queue's per-key rules, leader election on
// a Lease (against the dev cluster, which refuses 3-digit MicroTime as real servers do), and the
// informer's recovery from 410 and from a stopped watch.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import * as k8s from '@kubernetes/client-node';
import { CREATES_IN_FLIGHT, DEFAULT_QUEUE_WORKERS, DevCluster, canonicalJson, LeaderElector, Operator, WatchedInformer, WorkQueue, createConcurrently, microTime, compileSettings, OperatorConfigError } from '../../controller/mod.js';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { InProcessTransport } from '../../protocol/mod.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ms: number, ok: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return;
    await sleep(25);
  }
  throw new Error(`timed out: ${what}`);
}
function kubeConfig(cluster: DevCluster): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(stringify(cluster.kubeconfig()));
  return kc;
}

describe('WorkQueue', () => {
  it('never runs one key twice at once, coalesces adds, re-runs a key added while it ran, honours delays', async () => {
    const log: string[] = [];
    let running = 0;
    let maxSame = 0;
    const gate: Record<string, () => void> = {};
    const q = new WorkQueue(async (key) => {
      running++;
      maxSame = Math.max(maxSame, running);
      log.push(`start ${key}`);
      if (key === 'a' && !gate['a-released']) await new Promise<void>((r) => (gate['a'] = r));
      running--;
      log.push(`end ${key}`);
      return key === 'd' && log.filter((l) => l === 'end d').length === 1 ? { requeueAfterMs: 50 } : {};
    }, 1);
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('b');
    assert.equal(q.depth, 1, 'b queued once; a in progress');
    q.add('a'); // while running: marked to run again
    gate['a-released'] = () => {};
    gate['a']?.();
    await until('a twice and b once', 1000, () => log.filter((l) => l === 'end a').length === 2 && log.includes('end b'));
    assert.equal(maxSame, 1);
    assert.equal(log.filter((l) => l === 'start b').length, 1);
    const t0 = Date.now();
    q.add('d');
    await until('d requeued after its delay', 1000, () => log.filter((l) => l === 'start d').length === 2);
    assert.ok(Date.now() - t0 >= 45);
    await q.shutdown();
    q.add('e');
    await sleep(30);
    assert.ok(!log.includes('start e'), 'no work after shutdown');
    assert.equal(q.state, 'stopped');
    await q.shutdown();
  });
});

describe('LeaderElector', () => {
  it('one of two candidates leads; a released Lease passes to the other; times are MicroTime', async () => {
    const cluster = await DevCluster.create({});
    const kc = kubeConfig(cluster);
    const events: string[] = [];
    const make = (id: string): Promise<LeaderElector> =>
      LeaderElector.create({ kc, namespace: 'default', name: 'test-lease', identity: id, leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 100, onStartedLeading: () => void events.push(`lead ${id}`), onStoppedLeading: () => void events.push(`stop ${id}`) });
    const a = await make('a');
    let b: LeaderElector | undefined;
    try {
      await until('a leads', 3000, () => a.isLeader);
      b = await make('b');
      await sleep(400);
      assert.equal(b.isLeader, false, 'b waits while a renews');
      const coord = kc.makeApiClient(k8s.CoordinationV1Api);
      const raw = async (): Promise<Record<string, unknown>> => {
        const r = await fetch(`${cluster.url}/apis/coordination.k8s.io/v1/namespaces/default/leases/test-lease`);
        return ((await r.json()) as { spec: Record<string, unknown> }).spec;
      };
      assert.match(String((await raw())['renewTime']), /\.\d{6}Z$/);
      assert.match(String((await raw())['acquireTime']), /\.\d{6}Z$/);
      await a.close();
      await until('b takes over at once after the release', 2000, () => b?.isLeader === true);
      const lease = await coord.readNamespacedLease({ name: 'test-lease', namespace: 'default' });
      assert.equal(lease.spec?.holderIdentity, 'b');
      assert.equal(lease.spec?.leaseTransitions, 1);
    } finally {
      // A failed assertion must not leave the electors campaigning (the suite would never exit).
      await a.close();
      await b?.close();
      await cluster.close();
    }
    assert.deepEqual(events, ['lead a', 'lead b']);
  });

  it('microTime has six fractional digits', () => {
    assert.equal(String(microTime(new Date('2026-01-02T03:04:05.678Z'))), '2026-01-02T03:04:05.678000Z');
  });
});

describe('WatchedInformer', () => {
  it('relists after 410 Gone and after a silent watch (watchdog), keeping the cache right', async () => {
    const cluster = await DevCluster.create({ bookmarkIntervalMs: 100 });
    const kc = kubeConfig(cluster);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const seen = new Set<string>();
    const restarts: string[] = [];
    const inf = await WatchedInformer.start<k8s.V1ConfigMap>({
      kc,
      name: 'configmaps',
      path: '/api/v1/namespaces/default/configmaps',
      list: () => core.listNamespacedConfigMap({ namespace: 'default' }),
      onEvent: (type, o) => (type === 'delete' ? seen.delete(o.metadata?.name ?? '') : seen.add(o.metadata?.name ?? '')),
      onRestart: (reason) => restarts.push(reason),
      watchdogMs: 1500,
    });
    try {
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'one' } } });
      await until('one seen', 3000, () => seen.has('one'));
      cluster.compact();
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'two' } } });
      await until('two seen after the 410 relist', 5000, () => seen.has('two'));
      // Silence longer than the watchdog: restarted (a relist), and the cache still serves.
      await until('watchdog restart', 5000, () => restarts.includes('watchdog'));
      await core.deleteNamespacedConfigMap({ name: 'one', namespace: 'default' });
      await until('one gone', 5000, () => !seen.has('one') && inf.list().every((c) => c.metadata?.name !== 'one'));
    } finally {
      await inf.close();
      await cluster.close();
    }
  });
});

describe('compileSettings', () => {
  it('defaults the flags and names a bad one', () => {
    const s = compileSettings({}, { POD_NAME: 'ctl-0', POD_NAMESPACE: 'ablate-system' });
    assert.deepEqual({ m: s.metrics, p: s.probe, ns: s.leaseNamespace, id: s.identity, stream: s.stream, all: s.namespaces }, { m: { host: '0.0.0.0', port: 8080 }, p: { host: '0.0.0.0', port: 8081 }, ns: 'ablate-system', id: 'ctl-0', stream: 'ABLATE', all: [] });
    assert.equal(compileSettings({ metricsAddr: '0' }).metrics, undefined);
    assert.throws(() => compileSettings({ metricsAddr: 'localhost' }), (e: unknown) => e instanceof OperatorConfigError && /metrics-addr.*\[HOST\]:PORT/.test(e.message));
    assert.throws(() => compileSettings({ namespaces: ['Bad_NS'] }), /namespaces.*Bad_NS/);
    assert.equal(compileSettings({}).queueWorkers, DEFAULT_QUEUE_WORKERS);
    assert.throws(() => compileSettings({ queueWorkers: 0.5 }), (e: unknown) => e instanceof OperatorConfigError && /queueWorkers: must be an integer ≥ 1 \(value: 0.5\)/.test(e.message));
    assert.equal(compileSettings({}).consumerInactiveThresholdMs, 3_600_000, 'a killed controller\'s durables go after an hour');
    assert.throws(() => compileSettings({ consumerInactiveThresholdMs: 0 }), (e: unknown) => e instanceof OperatorConfigError && /consumerInactiveThresholdMs/.test(e.message));
  });
});

describe('WatchedInformer index', () => {
  it('answers by index key through adds, relabels, deletes and a relist; get() reads one object', async () => {
    const cluster = await DevCluster.create({ bookmarkIntervalMs: 100 });
    const kc = kubeConfig(cluster);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const inf = await WatchedInformer.start<k8s.V1ConfigMap>({
      kc,
      name: 'configmaps',
      path: '/api/v1/namespaces/default/configmaps',
      list: () => core.listNamespacedConfigMap({ namespace: 'default' }),
      onEvent: () => {},
      indexBy: (o) => o.metadata?.labels?.['owner'],
    });
    try {
      const names = (key: string): string[] => inf.indexed(key).map((c) => c.metadata?.name ?? '').sort();
      for (const [name, owner] of [['a1', 'a'], ['a2', 'a'], ['b1', 'b'], ['none', undefined]] as const) {
        await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name, ...(owner ? { labels: { owner } } : {}) } } });
      }
      await until('four cached', 3000, () => inf.list().length === 4);
      assert.deepEqual([names('a'), names('b'), names('c')], [['a1', 'a2'], ['b1'], []]);
      assert.equal(inf.get('b1', 'default')?.metadata?.labels?.['owner'], 'b');
      assert.equal(inf.get('b1', 'other'), undefined);
      // A relabel moves the object between keys; a delete removes it.
      await core.patchNamespacedConfigMap({ name: 'a2', namespace: 'default', body: { metadata: { labels: { owner: 'b' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await core.deleteNamespacedConfigMap({ name: 'a1', namespace: 'default' });
      await until('a2 moved to b, a1 gone', 3000, () => names('a').length === 0 && names('b').length === 2);
      // A relist (after 410) that misses a deletion still drops it from the index.
      cluster.compact();
      await core.deleteNamespacedConfigMap({ name: 'b1', namespace: 'default' });
      await until('b1 gone after the relist', 5000, () => names('b').join() === 'a2');
    } finally {
      await inf.close();
      await cluster.close();
    }
  });
});

describe('canonicalJson (is a status write needed?)', () => {
  it('ignores key order and null-vs-absent (a merge patch deletes nulls), not values or array order', () => {
    const written = { phase: 'Pending', best: null, runs: [{ ablation: 'a', seed: 0, jobName: 'j', predictions: { received: 0, expected: 4 }, mapAtK: null }] };
    const readBack = { runs: [{ jobName: 'j', seed: 0, ablation: 'a', predictions: { expected: 4, received: 0 } }], phase: 'Pending' };
    assert.equal(canonicalJson(written), canonicalJson(readBack));
    assert.notEqual(canonicalJson(written), canonicalJson({ ...readBack, phase: 'Running' }));
    assert.notEqual(canonicalJson({ xs: [1, 2] }), canonicalJson({ xs: [2, 1] }));
  });
});

describe('createConcurrently', () => {
  it('keeps at most `limit` in flight; after a failure starts nothing new, lets those in flight finish, then throws the first error', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    let inFlight = 0;
    let most = 0;
    let failedAt = -1;
    const boom = new Error('create 5 failed');
    const items = Array.from({ length: 20 }, (_, i) => i);
    const run = createConcurrently(items, 4, async (i) => {
      assert.ok(failedAt < 0 || started.length <= failedAt, `item ${i} started after the failure`);
      started.push(i);
      inFlight++;
      most = Math.max(most, inFlight);
      await sleep(i === 5 ? 5 : 15);
      inFlight--;
      if (i === 5) {
        failedAt = started.length;
        throw boom;
      }
      finished.push(i);
    });
    await assert.rejects(run, (e) => e === boom);
    assert.equal(most, 4);
    assert.equal(inFlight, 0, 'rejected only once every create in flight had settled');
    assert.deepEqual(started, items.slice(0, started.length), 'started in order');
    assert.ok(started.length < items.length, 'nothing new after the failure');
    assert.deepEqual([...finished].sort((a, b) => a - b), started.filter((i) => i !== 5));
    // All succeed: every item once; no items: nothing to do.
    const seen: number[] = [];
    await createConcurrently(items, 8, async (i) => void seen.push(i));
    assert.deepEqual(seen, items);
    await createConcurrently([], 8, () => Promise.reject(new Error('never called')));
    await assert.rejects(createConcurrently(items, 0, async () => {}), /limit must be an integer ≥ 1, got 0/);
  });
});

/**
 * A proxy in front of the dev cluster that sees what the controller sends: Job POSTs per name,
 * how many were in flight at once (each held `delayMs`), the TCP connections the controller
 * opened; the `failCreate`-th Job POST (1-based) is answered 500.
 */
/** A temp folder holding the demo's validation set as data/validation.csv (and an empty model/): what baseDir resolves against. */
function studyFolder(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ablate-operator-${tag}-`));
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'model'));
  copyFileSync(fileURLToPath(new URL('../../examples/science-exam/data/validation.csv', import.meta.url)), join(dir, 'data', 'validation.csv'));
  return dir;
}

/** A dev cluster with the FineTuneJob CRD installed. */
async function clusterWithCrd(): Promise<DevCluster> {
  const cluster = await DevCluster.create({});
  cluster.apply(parse(readFileSync(fileURLToPath(new URL('../../manifests/crds/ablate.dev_finetunejobs.yaml', import.meta.url)), 'utf8')) as Record<string, unknown>);
  return cluster;
}

/** A FineTuneJob in `default` over studyFolder's files: one ablation `full`, seed 0, unless `spec` says otherwise. */
function fineTuneJob(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'ablate.dev/v1alpha1',
    kind: 'FineTuneJob',
    metadata: { name, namespace: 'default' },
    spec: {
      model: { uri: './model' },
      data: { train: { uri: './data/validation.csv' }, validation: { uri: './data/validation.csv' }, numOptions: 5 },
      ablations: [{ name: 'full' }],
      seeds: [0],
      template: { image: 'ghcr.io/ablate-dev/ablate-trainer:test' },
      evaluation: { baseline: 'full' },
      ...spec,
    },
  };
}

async function apiProxy(target: string, opts: { delayMs: number; failCreate: number }): Promise<{ url: string; posts: Map<string, number>; statusPatches: () => number; mostInFlight: () => number; connections: () => number; requests: () => number; close: () => Promise<void> }> {
  const posts = new Map<string, number>();
  let statusPatches = 0;
  let creates = 0;
  let inFlight = 0;
  let most = 0;
  let connections = 0;
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    if (req.method === 'PATCH' && /\/status$/.test(req.url?.split('?')[0] ?? '')) statusPatches++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const forward = (): void => {
        const up = http.request(`${target}${req.url ?? ''}`, { method: req.method ?? 'GET', headers: { ...req.headers, host: new URL(target).host } }, (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          res.flushHeaders(); // a watch's headers come before its first event
          upRes.pipe(res);
        });
        up.on('error', () => res.destroy());
        res.on('close', () => {
          if (!res.writableFinished) up.destroy(); // the client went away (a watch stopped)
        });
        up.end(body);
      };
      if (req.method !== 'POST' || !/\/apis\/batch\/v1\/namespaces\/[^/]+\/jobs$/.test(req.url?.split('?')[0] ?? '')) return forward();
      const name = (JSON.parse(body.toString()) as { metadata: { name: string } }).metadata.name;
      posts.set(name, (posts.get(name) ?? 0) + 1);
      const n = ++creates;
      inFlight++;
      most = Math.max(most, inFlight);
      res.on('finish', () => inFlight--);
      setTimeout(() => {
        if (n !== opts.failCreate) return forward();
        const text = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'InternalError', message: 'injected by the test proxy', code: 500 });
        res.writeHead(500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      }, opts.delayMs);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    posts,
    statusPatches: () => statusPatches,
    mostInFlight: () => most,
    connections: () => connections,
    requests: () => requests,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('Operator: a reconcile with many runs', { timeout: 60_000 }, () => {
  it('creates its Jobs concurrently over reused connections, and never one twice when a create fails mid-way', async () => {
    const dir = studyFolder('creates');
    const cluster = await clusterWithCrd();
    const proxy = await apiProxy(cluster.url, { delayMs: 60, failCreate: 3 });
    const kc = new k8s.KubeConfig();
    kc.loadFromString(stringify(cluster.kubeconfig()).replace(cluster.url, proxy.url));
    const transport = new InProcessTransport();
    const op = await Operator.create({ kubeconfig: kc, transport, namespaces: ['default'], baseDir: dir, metricsAddr: '0', probeAddr: '0', leaderElect: false });
    try {
      const seeds = [0, 1, 2, 3];
      cluster.apply(
        fineTuneJob('many', {
          training: { epochs: 1 },
          ablations: [{ name: 'full' }, { name: 'frozen', training: { freezeEmbeddings: true } }, { name: 'lr-2x', training: { learningRate: { value: 1e-4 } } }, { name: 'lr-half', training: { learningRate: { value: 2.5e-5 } } }],
          seeds,
          execution: { parallelism: 16 },
        }),
      );
      // The test's own reads go straight to the cluster: the proxy sees the controller alone.
      const direct = kubeConfig(cluster);
      const batch = direct.makeApiClient(k8s.BatchV1Api);
      await until('16 Jobs', 20_000, async () => (await batch.listNamespacedJob({ namespace: 'default' })).items.length === 16);
      await sleep(800); // anything that would create twice has had its retry by now
      const jobs = (await batch.listNamespacedJob({ namespace: 'default' })).items;
      assert.equal(new Set(jobs.map((j) => j.metadata?.name)).size, 16);
      const counts = [...proxy.posts.values()].sort();
      assert.deepEqual(counts, [...Array<number>(15).fill(1), 2], `one POST per Job, two for the one whose first create failed: ${JSON.stringify([...proxy.posts])}`);
      assert.ok(proxy.mostInFlight() > 1 && proxy.mostInFlight() <= CREATES_IN_FLIGHT, `creates in flight at once: ${proxy.mostInFlight()}`);
      // Two watches plus the creates in flight at once; a connection per request would be ≥ 17 for the POSTs alone.
      assert.ok(proxy.connections() <= CREATES_IN_FLIGHT + 4, `${proxy.connections()} connections for ${proxy.requests()} requests`);
      const custom = direct.makeApiClient(k8s.CustomObjectsApi);
      await until('the status lists every run with its Job, one attempt each', 5000, async () => {
        const ftj = (await custom.getNamespacedCustomObject({ group: 'ablate.dev', version: 'v1alpha1', namespace: 'default', plural: 'finetunejobs', name: 'many' })) as { status?: { runs?: Array<{ jobName?: string; attempts: number }> } };
        return (ftj.status?.runs ?? []).filter((r) => r.jobName !== undefined && r.attempts === 1).length === 16;
      });
      // Nothing changed after the status listed every run: the Jobs' events and the controller's own
      // write came back, and none of them is worth another write (key order included).
      await sleep(500);
      assert.equal(proxy.statusPatches(), 1, 'one status write for the whole burst');
    } finally {
      await op.close();
      await transport.close();
      await proxy.close();
      await cluster.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Operator: a status write the server keeps unchanged', { timeout: 60_000 }, () => {
  it('does not hold back the writes after it (no watch event comes for a no-op write)', async () => {
    const dir = studyFolder('noop');
    const cluster = await clusterWithCrd();
    const kc = kubeConfig(cluster);
    const transport = new InProcessTransport();
    const op = await Operator.create({ kubeconfig: kc, transport, namespaces: ['default'], baseDir: dir, metricsAddr: '0', probeAddr: '0', leaderElect: false });
    try {
      cluster.apply(fineTuneJob('noop'));
      const custom = kc.makeApiClient(k8s.CustomObjectsApi);
      const batch = kc.makeApiClient(k8s.BatchV1Api);
      const ref = { group: 'ablate.dev', version: 'v1alpha1', namespace: 'default', plural: 'finetunejobs', name: 'noop' };
      type Ftj = { metadata: { resourceVersion: string }; status?: { runs?: Array<{ jobName?: string; phase: string }> } };
      const read = async (): Promise<Ftj> => (await custom.getNamespacedCustomObject(ref)) as Ftj;
      await until('the run has its Job', 20_000, async () => (await read()).status?.runs?.[0]?.jobName !== undefined);
      // A status key this controller never writes (an older version's field): every reconcile now
      // differs from what is stored only by a key a merge patch leaves in place, so its write is a no-op.
      await custom.patchNamespacedCustomObjectStatus({ ...ref, body: { status: { legacy: 'kept' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      const rv = (await read()).metadata.resourceVersion;
      await sleep(500);
      assert.equal((await read()).metadata.resourceVersion, rv, 'the reconciles after it wrote nothing new');
      const jobName = (await read()).status!.runs![0]!.jobName!;
      await batch.patchNamespacedJobStatus({ name: jobName, namespace: 'default', body: { status: { active: 1, startTime: new Date() } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await until('the run shows Running', 10_000, async () => (await read()).status?.runs?.[0]?.phase === 'Running');
    } finally {
      await op.close();
      await transport.close();
      await cluster.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Operator with NATS: its collectors\' durable consumers', { timeout: 60_000 }, () => {
  it('carry the inactive threshold (a killed controller\'s go by themselves) and are deleted when the controller drains', async () => {
    const id = Math.random().toString(16).slice(2, 10);
    const stream = `T_OP_${id}`;
    const prefix = `top${id}`;
    const natsUrl = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
    const dir = studyFolder('durable');
    const cluster = await clusterWithCrd();
    const nc = await connect({ servers: natsUrl });
    const jsm = await jetstreamManager(nc);
    const durables = async (): Promise<Array<{ name: string; thresholdMs: number }>> => {
      const out: Array<{ name: string; thresholdMs: number }> = [];
      for await (const c of jsm.consumers.list(stream)) out.push({ name: c.name, thresholdMs: (c.config.inactive_threshold ?? 0) / 1e6 });
      return out;
    };
    const op = await Operator.create({ kubeconfig: kubeConfig(cluster), natsUrl, stream, prefix, namespaces: ['default'], baseDir: dir, metricsAddr: '0', probeAddr: '0', leaderElect: false, consumerInactiveThresholdMs: 90_000 });
    let closed = false;
    try {
      cluster.apply(fineTuneJob('durable'));
      await until('the collector\'s durable', 20_000, async () => (await durables()).length === 1);
      const [d] = await durables();
      assert.match(d!.name, /^ablate-op-/);
      assert.equal(d!.thresholdMs, 90_000);
      await op.close();
      closed = true;
      assert.deepEqual(await durables(), [], 'a drained controller leaves no durable behind');
    } finally {
      if (!closed) await op.close();
      await jsm.streams.delete(stream).catch(() => false);
      await nc.close();
      await cluster.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
