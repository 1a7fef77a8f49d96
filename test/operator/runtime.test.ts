// The operator's runtime pieces on their own: the work queue's per-key rules, leader election on
// a Lease (against the dev cluster, which refuses 3-digit MicroTime as real servers do), and the
// informer's recovery from 410 and from a stopped watch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import * as k8s from '@kubernetes/client-node';
import { DevCluster, LeaderElector, WatchedInformer, WorkQueue, microTime, compileSettings, OperatorConfigError } from '../../controller/mod.js';

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
    await until('a leads', 3000, () => a.isLeader);
    const b = await make('b');
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
    await until('b takes over at once after the release', 2000, () => b.isLeader);
    const lease = await coord.readNamespacedLease({ name: 'test-lease', namespace: 'default' });
    assert.equal(lease.spec?.holderIdentity, 'b');
    assert.equal(lease.spec?.leaseTransitions, 1);
    await b.close();
    await cluster.close();
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
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'one' } } });
    await until('one seen', 3000, () => seen.has('one'));
    cluster.compact();
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'two' } } });
    await until('two seen after the 410 relist', 5000, () => seen.has('two'));
    // Silence longer than the watchdog: restarted (a relist), and the cache still serves.
    await until('watchdog restart', 5000, () => restarts.includes('watchdog'));
    await core.deleteNamespacedConfigMap({ name: 'one', namespace: 'default' });
    await until('one gone', 5000, () => !seen.has('one') && inf.list().every((c) => c.metadata?.name !== 'one'));
    await inf.close();
    await cluster.close();
  });
});

describe('compileSettings', () => {
  it('defaults the flags and names a bad one', () => {
    const s = compileSettings({}, { POD_NAME: 'ctl-0', POD_NAMESPACE: 'ablate-system' });
    assert.deepEqual({ m: s.metrics, p: s.probe, ns: s.leaseNamespace, id: s.identity, stream: s.stream, all: s.namespaces }, { m: { host: '0.0.0.0', port: 8080 }, p: { host: '0.0.0.0', port: 8081 }, ns: 'ablate-system', id: 'ctl-0', stream: 'ABLATE', all: [] });
    assert.equal(compileSettings({ metricsAddr: '0' }).metrics, undefined);
    assert.throws(() => compileSettings({ metricsAddr: 'localhost' }), (e: unknown) => e instanceof OperatorConfigError && /metrics-addr.*\[HOST\]:PORT/.test(e.message));
    assert.throws(() => compileSettings({ namespaces: ['Bad_NS'] }), /namespaces.*Bad_NS/);
  });
});
