// Garbage collection at scale: the stand-in's collector works from an owner index (what a write
// touched), not a scan of every stored object, and still does what a real cluster's does —
// Background cascades over several levels, dangling references dropped while live ones stay,
// Foreground waits for every dependent, namespace and CRD deletion empty what they hold.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { DevCluster } from '../../controller/mod.js';
import { WIDGET_CRD, eventually, kubeConfigFor, uniq, widget } from './helpers.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('dev-cluster garbage collection at scale', () => {
  let cluster: DevCluster;
  let core: k8s.CoreV1Api;
  let co: k8s.CustomObjectsApi;

  before(async () => {
    cluster = await DevCluster.create();
    const kc = kubeConfigFor(cluster);
    core = kc.makeApiClient(k8s.CoreV1Api);
    co = kc.makeApiClient(k8s.CustomObjectsApi);
  });
  after(() => cluster.close());

  /** A namespace, created in-process (the setup of thousands of objects is not what is timed). */
  function namespace(): string {
    const name = uniq('gc');
    cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    return name;
  }

  const ref = (o: Record<string, unknown>, kind = 'ConfigMap', apiVersion = 'v1'): Any => {
    const m = o['metadata'] as { name: string; uid: string };
    return { apiVersion, kind, name: m.name, uid: m.uid };
  };
  const configMap = (ns: string, name: string, extra: Any = {}): Any => cluster.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, ...extra } });
  const names = async (ns: string, kind: 'secrets' | 'configmaps' | 'pods'): Promise<Set<string>> => {
    const list = kind === 'secrets' ? await core.listNamespacedSecret({ namespace: ns }) : kind === 'pods' ? await core.listNamespacedPod({ namespace: ns }) : await core.listNamespacedConfigMap({ namespace: ns });
    return new Set(list.items.map((o) => o.metadata!.name!));
  };

  test('Background: 2,000 dependents of a deleted owner and their own dependents go within seconds; shared ones keep their live owner; bystanders stay', async () => {
    const ns = namespace();
    const a = configMap(ns, 'owner-a');
    const b = configMap(ns, 'owner-b');
    for (let i = 0; i < 2000; i++) {
      const owners = i % 10 === 0 ? [ref(a), ref(b)] : [ref(a)];
      const s = cluster.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `dep-${i}`, namespace: ns, ownerReferences: owners } });
      if (i % 4 === 1) cluster.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `grandchild-${i}`, namespace: ns, ownerReferences: [ref(s, 'Secret')] }, spec: { containers: [{ name: 'c', image: 'i' }] } });
    }
    for (let i = 0; i < 2000; i++) configMap(ns, `bystander-${i}`);
    await new Promise((r) => setImmediate(r));

    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'owner-a', propagationPolicy: 'Background' });
    await eventually(async () => ((await names(ns, 'secrets')).size === 200 && (await names(ns, 'pods')).size === 0 ? true : undefined), 10_000, 'dependents and grandchildren collected');

    const shared = (await core.listNamespacedSecret({ namespace: ns })).items;
    assert.deepEqual(shared.map((s) => s.metadata!.name).sort(), Array.from({ length: 200 }, (_, k) => `dep-${k * 10}`).sort());
    for (const s of shared) assert.deepEqual(s.metadata!.ownerReferences?.map((r) => r.name), ['owner-b'], `${s.metadata!.name} keeps only its live owner`);
    assert.equal((await names(ns, 'configmaps')).size, 2001, 'the 2,000 bystanders and owner-b stay');
  });

  test('a write costs the collector as little with 6,000 objects stored as with a handful', async () => {
    // The collector used to scan every stored object after each write; now a write marks what it
    // touched. Counted, not timed: how many objects the collector looks at for 300 creates on a
    // fresh store, then for 300 more with 6,000 objects (half of them dependents) stored.
    const fresh = await DevCluster.create();
    try {
      const create = (ns: string, name: string, extra: Any = {}): Any => fresh.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, ...extra } });
      const examinedBy300Creates = async (ns: string): Promise<number> => {
        await new Promise((r) => setImmediate(r));
        const before = fresh.registry.gcExamined;
        for (let i = 0; i < 300; i++) {
          create(ns, `counted-${i}`);
          await new Promise((r) => setImmediate(r));
        }
        return fresh.registry.gcExamined - before;
      };
      const small = await examinedBy300Creates('default');
      const owner = create('kube-public', 'owner');
      for (let i = 0; i < 6000; i++) create('kube-public', `filler-${i}`, i % 2 ? { ownerReferences: [ref(owner)] } : {});
      const large = await examinedBy300Creates('kube-public');
      assert.ok(small >= 300, `each create is looked at once (${small})`);
      assert.equal(large, small, `300 creates made the collector look at ${large} objects with 6,000 stored, ${small} with a handful`);
    } finally {
      await fresh.close();
    }
  });

  test('Foreground: the owner stays until its 1,000 dependents are gone, then goes', async () => {
    const ns = namespace();
    const owner = configMap(ns, 'fg-owner');
    for (let i = 0; i < 1000; i++) cluster.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `fg-${i}`, namespace: ns, ownerReferences: [{ ...ref(owner), blockOwnerDeletion: true }], ...(i === 0 ? { finalizers: ['hold/on'] } : {}) } });
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'fg-owner', propagationPolicy: 'Foreground' });
    await eventually(async () => ((await names(ns, 'secrets')).size === 1 ? true : undefined), 10_000, 'all but the held dependent deleted');
    const waiting = await core.readNamespacedConfigMap({ namespace: ns, name: 'fg-owner' });
    assert.ok(waiting.metadata!.deletionTimestamp && waiting.metadata!.finalizers?.includes('foregroundDeletion'), 'owner waits for the held dependent');
    await core.patchNamespacedSecret({ namespace: ns, name: 'fg-0', body: { metadata: { finalizers: null } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await eventually(async () => ((await names(ns, 'configmaps')).has('fg-owner') ? undefined : true), 10_000, 'owner gone');
    assert.equal((await names(ns, 'secrets')).size, 0);
  });

  test('deleting a namespace with 1,000 objects, and a CRD with instances, empties them and then removes them', async () => {
    const ns = namespace();
    for (let i = 0; i < 1000; i++) configMap(ns, `n-${i}`);
    await core.deleteNamespace({ name: ns });
    await eventually(async () => ((await core.listNamespace()).items.some((n) => n.metadata?.name === ns) ? undefined : true), 10_000, 'namespace gone');
    assert.equal(cluster.registry.store.list('/configmaps', ns).length, 0);

    const crd = { ...WIDGET_CRD, metadata: { name: 'gadgets.gc.ablate.dev' }, spec: { ...WIDGET_CRD.spec, group: 'gc.ablate.dev', names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' } } };
    cluster.apply(crd);
    const wns = namespace();
    for (let i = 0; i < 200; i++) cluster.apply({ ...widget(`g-${i}`, { size: 1 }), apiVersion: 'gc.ablate.dev/v1', kind: 'Gadget', metadata: { name: `g-${i}`, namespace: wns } });
    await co.deleteClusterCustomObject({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', name: 'gadgets.gc.ablate.dev' });
    await eventually(() => (cluster.registry.store.get('apiextensions.k8s.io/customresourcedefinitions', undefined, 'gadgets.gc.ablate.dev') ? undefined : true), 10_000, 'CRD gone');
    assert.equal(cluster.registry.store.list('gc.ablate.dev/gadgets').length, 0);
    assert.equal(cluster.registry.typeFor('gc.ablate.dev', 'v1', 'gadgets'), undefined, 'no longer served');
  });
});
