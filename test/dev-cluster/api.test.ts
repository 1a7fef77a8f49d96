// Contract tests of the API stand-in, driven by @kubernetes/client-node 1.4.0: each test pins one
// documented apiserver behaviour (see research/ecosystem.md §4.2) so the stand-in cannot drift
// into a permissive oracle that passes code a real cluster would refuse.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { DevCluster } from '../../controller/mod.js';
import { WIDGET, WIDGET_CRD, eventually, kubeConfigFor, statusOf, uniq, widget } from './helpers.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const MERGE = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const SMP = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);
const JSONPATCH = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);

describe('dev-cluster API contract (client-node)', () => {
  let cluster: DevCluster;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let co: k8s.CustomObjectsApi;
  let batch: k8s.BatchV1Api;

  before(async () => {
    cluster = await DevCluster.create({ bookmarkIntervalMs: 100, compactionWindow: 50 });
    kc = kubeConfigFor(cluster);
    core = kc.makeApiClient(k8s.CoreV1Api);
    co = kc.makeApiClient(k8s.CustomObjectsApi);
    batch = kc.makeApiClient(k8s.BatchV1Api);
    // Through CustomObjectsApi: the typed CRD model would drop `default` and
    // `x-kubernetes-validations` (its serializer only knows `_default`, `xKubernetesValidations`).
    await co.createClusterCustomObject({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', body: WIDGET_CRD });
  });
  after(() => cluster.close());

  async function namespace(): Promise<string> {
    const name = uniq('ns');
    await core.createNamespace({ body: { metadata: { name } } });
    return name;
  }

  test('the written kubeconfig loads in client-node (http needs insecure-skip-tls-verify) and serves discovery', async () => {
    assert.equal(kc.getCurrentCluster()?.skipTLSVerify, true);
    const nss = await core.listNamespace();
    assert.ok(nss.items.some((n) => n.metadata?.name === 'default'));
    const groups = await kc.makeApiClient(k8s.ApisApi).getAPIVersions();
    assert.ok(groups.groups.some((g) => g.name === 'test.ablate.dev'), 'CRD group is discoverable');
  });

  test('create: uid, creationTimestamp, generation 1 for CRs, generateName, and 409 AlreadyExists in Status format', async () => {
    const ns = await namespace();
    const w = (await co.createNamespacedCustomObject({ ...WIDGET, namespace: ns, body: widget('a', { size: 1 }) })) as Any;
    assert.match(w.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(w.metadata.creationTimestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.equal(w.metadata.generation, 1);
    const s = await statusOf(() => co.createNamespacedCustomObject({ ...WIDGET, namespace: ns, body: widget('a', { size: 1 }) }));
    assert.deepEqual(
      { kind: s.kind, apiVersion: s.apiVersion, status: s.status, reason: s.reason, code: s.code, name: s.details?.name },
      { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'AlreadyExists', code: 409, name: 'a' },
    );
    assert.equal(s.message, 'widgets.test.ablate.dev "a" already exists');
    const g = await core.createNamespacedSecret({ namespace: ns, body: { metadata: { generateName: 'tok-' }, stringData: { k: 'v' } } });
    assert.match(g.metadata!.name!, /^tok-[a-z0-9]{5}$/);
    assert.equal(g.data?.['k'], Buffer.from('v').toString('base64'), 'stringData folds into data');
    const missing = await statusOf(() => core.readNamespacedSecret({ namespace: ns, name: 'nope' }));
    assert.equal(missing.reason, 'NotFound');
    assert.equal(missing.message, 'secrets "nope" not found');
    const noNs = await statusOf(() => core.createNamespacedSecret({ namespace: 'no-such-ns', body: { metadata: { name: 'x' } } }));
    assert.equal(noNs.code, 404);
  });

  test('updates: a stale resourceVersion is 409 Conflict; CRs refuse an unconditional PUT; core kinds allow it', async () => {
    const ns = await namespace();
    const w = (await co.createNamespacedCustomObject({ ...WIDGET, namespace: ns, body: widget('w', { size: 1 }) })) as Any;
    const fresh = (await co.replaceNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'w', body: { ...w, spec: { ...w.spec, size: 2 } } })) as Any;
    assert.notEqual(fresh.metadata.resourceVersion, w.metadata.resourceVersion);
    const stale = await statusOf(() => co.replaceNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'w', body: { ...w, spec: { ...w.spec, size: 3 } } }));
    assert.equal(stale.code, 409);
    assert.equal(stale.reason, 'Conflict');
    assert.match(stale.message, /the object has been modified; please apply your changes to the latest version and try again/);
    const { resourceVersion: _rv, ...noRv } = fresh.metadata;
    const uncond = await statusOf(() => co.replaceNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'w', body: { ...fresh, metadata: noRv } }));
    assert.equal(uncond.code, 422);
    assert.equal(uncond.reason, 'Invalid');
    assert.equal(uncond.details?.causes?.[0]?.field, 'metadata.resourceVersion');
    // A resourceVersion inside a merge patch is a precondition too.
    const patchStale = await statusOf(() =>
      co.patchNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'w', body: { metadata: { resourceVersion: w.metadata.resourceVersion }, spec: { size: 4 } } }, MERGE),
    );
    assert.equal(patchStale.reason, 'Conflict');
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 's' }, data: { a: 'YQ==' } } });
    const replaced = await core.replaceNamespacedSecret({ namespace: ns, name: 's', body: { metadata: { name: 's' }, data: { a: 'Yg==' } } });
    assert.equal(replaced.data?.['a'], 'Yg==');
  });

  test('generation bumps on spec changes only (not metadata, not status), for CRs and Jobs', async () => {
    const ns = await namespace();
    await co.createNamespacedCustomObject({ ...WIDGET, namespace: ns, body: widget('g', { size: 1 }) });
    const gen = async (): Promise<number> => ((await co.getNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'g' })) as Any).metadata.generation;
    await co.patchNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'g', body: { metadata: { labels: { a: 'b' } } } }, MERGE);
    assert.equal(await gen(), 1, 'label change');
    await co.patchNamespacedCustomObjectStatus({ ...WIDGET, namespace: ns, name: 'g', body: { status: { phase: 'Running' } } }, MERGE);
    assert.equal(await gen(), 1, 'status change');
    await co.patchNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'g', body: { spec: { size: 2 } } }, MERGE);
    assert.equal(await gen(), 2, 'spec change');
    const before = (await co.getNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'g' })) as Any;
    const same = (await co.patchNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'g', body: { spec: { size: 2 } } }, MERGE)) as Any;
    assert.equal(same.metadata.resourceVersion, before.metadata.resourceVersion, 'a no-op write keeps the resourceVersion');

    const job = await batch.createNamespacedJob({ namespace: ns, body: jobBody('j', ['node', '-e', '0']) });
    assert.equal(job.metadata?.generation, 1);
    assert.equal(job.spec?.backoffLimit, 6, 'server-side default');
    assert.equal(job.spec?.template.metadata?.labels?.['job-name'], 'j');
    const labelled = await batch.patchNamespacedJob({ namespace: ns, name: 'j', body: { metadata: { labels: { x: 'y' } } } }, MERGE);
    assert.equal(labelled.metadata?.generation, 1);
    const suspended = await batch.patchNamespacedJob({ namespace: ns, name: 'j', body: { spec: { suspend: true } } }, MERGE);
    assert.equal(suspended.metadata?.generation, 2);
  });

  test('status subresource: the main endpoint ignores .status, /status ignores everything else', async () => {
    const ns = await namespace();
    const created = (await co.createNamespacedCustomObject({ ...WIDGET, namespace: ns, body: { ...widget('s', { size: 1 }), status: { phase: 'Forged' } } })) as Any;
    assert.equal(created.status, undefined, 'status dropped on create');
    const withStatus = (await co.replaceNamespacedCustomObjectStatus({ ...WIDGET, namespace: ns, name: 's', body: { ...created, spec: { size: 9 }, status: { phase: 'Running' } } })) as Any;
    assert.equal(withStatus.status.phase, 'Running');
    assert.equal(withStatus.spec.size, 1, '/status does not change spec');
    const main = (await co.replaceNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 's', body: { ...withStatus, spec: { ...withStatus.spec, size: 2 }, status: { phase: 'Hacked' } } })) as Any;
    assert.equal(main.status.phase, 'Running', 'main endpoint keeps stored status');
    assert.equal(main.spec.size, 2);
  });

  test('custom resources: schema defaults, pruning, validation and CEL (incl. transition rules) with field causes', async () => {
    const ns = await namespace();
    const w = (await co.createNamespacedCustomObject({ ...WIDGET, namespace: ns, body: { ...widget('c', { size: 3 }), extra: 1 } })) as Any;
    assert.deepEqual(w.spec, { size: 3, max: 10, color: 'blue' });
    assert.equal(w.extra, undefined, 'unknown top-level field pruned');
    const bad = await statusOf(() => co.createNamespacedCustomObject({ ...WIDGET, namespace: ns, body: widget('d', { size: 30, color: 'green' }) }));
    assert.equal(bad.code, 422);
    assert.equal(bad.reason, 'Invalid');
    assert.equal(bad.details?.kind, 'Widget');
    const fields = (bad.details?.causes ?? []).map((c) => c.field).sort();
    assert.deepEqual(fields, ['spec', 'spec.color']);
    assert.match(bad.message, /^Widget\.test\.ablate\.dev "d" is invalid: \[/);
    assert.match(bad.message, /size must not exceed max/);
    const strict = await fetch(`${cluster.url}/apis/test.ablate.dev/v1/namespaces/${ns}/widgets?fieldValidation=Strict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(widget('e', { size: 1, bogus: true })),
    });
    assert.equal(strict.status, 400);
    assert.match(((await strict.json()) as Any).message, /unknown field "spec\.bogus"/);
    const immutable = await statusOf(() => co.patchNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'c', body: { spec: { color: 'red' } } }, MERGE));
    assert.equal(immutable.details?.causes?.[0]?.field, 'spec.color');
    assert.match(immutable.message, /color is immutable/);
  });

  test('label selectors (=, !=, in, notin, exists, !key) and field selectors on lists', async () => {
    const ns = await namespace();
    const labels: Record<string, Record<string, string>> = { a: { tier: 'x' }, b: { tier: 'y' }, c: { tier: 'z', gpu: '1' }, d: {} };
    for (const [name, l] of Object.entries(labels)) await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name, labels: l } } });
    const names = async (labelSelector?: string, fieldSelector?: string): Promise<string[]> =>
      (await core.listNamespacedConfigMap({ namespace: ns, ...(labelSelector ? { labelSelector } : {}), ...(fieldSelector ? { fieldSelector } : {}) })).items.map((i) => i.metadata!.name!);
    assert.deepEqual(await names('tier=x'), ['a']);
    assert.deepEqual(await names('tier!=x'), ['b', 'c', 'd']);
    assert.deepEqual(await names('tier in (x, z)'), ['a', 'c']);
    assert.deepEqual(await names('tier notin (x,z)'), ['b', 'd']);
    assert.deepEqual(await names('gpu'), ['c']);
    assert.deepEqual(await names('!gpu,tier'), ['a', 'b']);
    assert.deepEqual(await names(undefined, 'metadata.name=b'), ['b']);
    assert.deepEqual(await names(undefined, `metadata.namespace=${ns},metadata.name!=a`), ['b', 'c', 'd']);
    const page1 = await core.listNamespacedConfigMap({ namespace: ns, limit: 3 });
    assert.equal(page1.items.length, 3);
    const page2 = await core.listNamespacedConfigMap({ namespace: ns, limit: 3, _continue: page1.metadata!._continue! });
    assert.deepEqual(page2.items.map((i) => i.metadata!.name), ['d']);
    const bad = await statusOf(() => core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'tier in x' }));
    assert.equal(bad.reason, 'BadRequest');
  });

  test('patches: JSON merge, JSON patch, strategic merge (containers and env by name); strategic merge on a CR is 415', async () => {
    const ns = await namespace();
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'p' },
        spec: { containers: [{ name: 'main', image: 'a', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }, { name: 'side', image: 's' }] },
      },
    });
    const smp = await core.patchNamespacedPod(
      { namespace: ns, name: 'p', body: { spec: { containers: [{ name: 'main', image: 'b', env: [{ name: 'B', value: '3' }, { name: 'C', value: '4' }] }] } } },
      SMP,
    );
    const main = smp.spec!.containers.find((c) => c.name === 'main')!;
    assert.equal(smp.spec!.containers.length, 2, 'side container kept');
    assert.equal(main.image, 'b');
    assert.deepEqual(main.env!.map((e) => `${e.name}=${e.value}`), ['A=1', 'B=3', 'C=4']);
    const merged = await core.patchNamespacedPod({ namespace: ns, name: 'p', body: { spec: { containers: [{ name: 'only', image: 'z' }] } } }, MERGE);
    assert.deepEqual(merged.spec!.containers.map((c) => c.name), ['only'], 'merge patch replaces lists');
    const jp = await core.patchNamespacedPod({ namespace: ns, name: 'p', body: [{ op: 'add', path: '/metadata/labels', value: { k: 'v' } }, { op: 'replace', path: '/spec/containers/0/image', value: 'q' }] }, JSONPATCH);
    assert.equal(jp.metadata!.labels!['k'], 'v');
    assert.equal(jp.spec!.containers[0]!.image, 'q');
    await co.createNamespacedCustomObject({ ...WIDGET, namespace: ns, body: widget('w', { size: 1 }) });
    const cr = await statusOf(() => co.patchNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'w', body: { spec: { size: 2 } } }, SMP));
    assert.equal(cr.code, 415);
    const applied = (await co.patchNamespacedCustomObject(
      { ...WIDGET, namespace: ns, name: 'w2', body: widget('w2', { size: 5 }), fieldManager: 'test', force: true },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
    )) as Any;
    assert.equal(applied.spec.size, 5, 'server-side apply creates');
    const noManager = await fetch(`${cluster.url}/apis/test.ablate.dev/v1/namespaces/${ns}/widgets/w2`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/apply-patch+yaml' },
      body: 'spec: {size: 6}',
    });
    assert.equal(noManager.status, 400, 'apply needs fieldManager');
  });

  test('finalizers: delete sets deletionTimestamp, no new finalizers while deleting, removal of the last one deletes', async () => {
    const ns = await namespace();
    await co.createNamespacedCustomObject({ ...WIDGET, namespace: ns, body: widget('f', { size: 1 }, { finalizers: ['test.ablate.dev/keep'] }) });
    const deleting = (await co.deleteNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'f' })) as Any;
    assert.ok(deleting.metadata.deletionTimestamp);
    const still = (await co.getNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'f' })) as Any;
    assert.ok(still.metadata.deletionTimestamp, 'still present while a finalizer remains');
    const more = await statusOf(() => co.patchNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'f', body: [{ op: 'add', path: '/metadata/finalizers/-', value: 'x/y' }] }, JSONPATCH));
    assert.equal(more.reason, 'Invalid');
    await co.patchNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'f', body: { metadata: { finalizers: null } } }, MERGE);
    const gone = await statusOf(() => co.getNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'f' }));
    assert.equal(gone.reason, 'NotFound');
  });

  test('ownerReference GC: Background deletes dependents, Orphan keeps them without the reference', async () => {
    const ns = await namespace();
    const owner = (await co.createNamespacedCustomObject({ ...WIDGET, namespace: ns, body: widget('owner', { size: 1 }) })) as Any;
    const ref = { apiVersion: 'test.ablate.dev/v1', kind: 'Widget', name: 'owner', uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'dep', ownerReferences: [ref] } } });
    await co.deleteNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'owner', propagationPolicy: 'Background' });
    await eventually(async () => ((await core.listNamespacedSecret({ namespace: ns })).items.length === 0 ? true : undefined), 5000, 'dependent collected');

    const job = await batch.createNamespacedJob({ namespace: ns, body: jobBody('o', ['node', '-e', '0']) });
    const jobRef = { apiVersion: 'batch/v1', kind: 'Job', name: 'o', uid: job.metadata!.uid!, controller: true };
    await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'o-pod', ownerReferences: [jobRef] }, spec: { containers: [{ name: 'c', image: 'i' }] } } });
    // batch/v1 Jobs orphan their pods when the client names no policy.
    await batch.deleteNamespacedJob({ namespace: ns, name: 'o' });
    await new Promise((r) => setTimeout(r, 50));
    const pod = await core.readNamespacedPod({ namespace: ns, name: 'o-pod' });
    assert.equal(pod.metadata!.ownerReferences, undefined);
  });

  test('Foreground deletion waits for dependents; namespace deletion removes its contents', async () => {
    const ns = await namespace();
    const owner = (await co.createNamespacedCustomObject({ ...WIDGET, namespace: ns, body: widget('fg', { size: 1 }) })) as Any;
    const ref = { apiVersion: 'test.ablate.dev/v1', kind: 'Widget', name: 'fg', uid: owner.metadata.uid, blockOwnerDeletion: true };
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'dep', ownerReferences: [ref], finalizers: ['hold/on'] } } });
    await co.deleteNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'fg', propagationPolicy: 'Foreground' });
    await new Promise((r) => setTimeout(r, 50));
    const waiting = (await co.getNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'fg' })) as Any;
    assert.ok(waiting.metadata.finalizers.includes('foregroundDeletion'));
    await core.patchNamespacedConfigMap({ namespace: ns, name: 'dep', body: { metadata: { finalizers: null } } }, MERGE);
    await eventually(async () => ((await co.listNamespacedCustomObject({ ...WIDGET, namespace: ns })) as Any).items.length === 0 || undefined, 5000, 'owner gone');
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'x' } } });
    await core.deleteNamespace({ name: ns });
    await eventually(async () => ((await core.listNamespace()).items.some((n) => n.metadata?.name === ns) ? undefined : true), 5000, 'namespace gone');
    assert.equal((await core.listSecretForAllNamespaces()).items.filter((s) => s.metadata?.namespace === ns).length, 0);
  });

  test('MicroTime fields need exactly 6 fractional digits (Event eventTime, Lease renewTime)', async () => {
    const ns = await namespace();
    const events = kc.makeApiClient(k8s.EventsV1Api);
    const body = (eventTime: string): k8s.EventsV1Event =>
      ({ metadata: { generateName: 'e-' }, eventTime: eventTime as unknown as Date, reportingController: 'ablate.dev/test', reportingInstance: 'i', action: 'Test', reason: 'Test', type: 'Normal', regarding: { kind: 'Pod', name: 'p', namespace: ns } }) as k8s.EventsV1Event;
    const three = await statusOf(() => events.createNamespacedEvent({ namespace: ns, body: body('2026-01-02T03:04:05.123Z') }));
    assert.equal(three.code, 400);
    assert.equal(three.reason, 'BadRequest');
    assert.equal(three.message, 'Event in version "v1" cannot be handled as a Event: parsing time "2026-01-02T03:04:05.123Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".123Z" as ".000000"');
    const ok = await events.createNamespacedEvent({ namespace: ns, body: { ...body('2026-01-02T03:04:05.123000Z'), note: 'hello' } });
    assert.equal(ok.eventTime as unknown as string, '2026-01-02T03:04:05.123000Z');
    assert.equal(ok.note, 'hello');
    // One stored object, two views: core/v1 shows it with the core field names.
    const [coreEvent] = (await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=p' })).items;
    assert.equal(coreEvent?.message, 'hello');
    assert.equal(coreEvent?.reportingComponent, 'ablate.dev/test');
    const leases = kc.makeApiClient(k8s.CoordinationV1Api);
    const lease = (renewTime: unknown): k8s.V1Lease => ({ metadata: { name: 'l' }, spec: { holderIdentity: 'me', leaseDurationSeconds: 15, renewTime: renewTime as Date } });
    const fromDate = await statusOf(() => leases.createNamespacedLease({ namespace: ns, body: lease(new Date()) }));
    assert.match(fromDate.message, /cannot parse ".\d{3}Z" as ".000000"/, 'a JS Date serialises with 3 digits and is refused');
    await leases.createNamespacedLease({ namespace: ns, body: lease('2026-01-02T03:04:05.123456Z') });
  });

  test('dryRun=All validates and answers without storing', async () => {
    const ns = await namespace();
    const r = await fetch(`${cluster.url}/api/v1/namespaces/${ns}/configmaps?dryRun=All`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ metadata: { name: 'dry' } }) });
    assert.equal(r.status, 201);
    assert.equal((await core.listNamespacedConfigMap({ namespace: ns })).items.length, 0);
  });

  test('watch from a resourceVersion replays later events in order and sends bookmarks when asked', async () => {
    const ns = await namespace();
    const created = (await co.createNamespacedCustomObject({ ...WIDGET, namespace: ns, body: widget('w', { size: 1 }) })) as Any;
    await co.patchNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'w', body: { spec: { size: 2 } } }, MERGE);
    await co.patchNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'w', body: { spec: { size: 3 } } }, MERGE);
    const seen: string[] = [];
    const watch = new k8s.Watch(kc);
    const req = await watch.watch(
      `/apis/test.ablate.dev/v1/namespaces/${ns}/widgets`,
      { resourceVersion: created.metadata.resourceVersion, allowWatchBookmarks: true },
      (type, obj: Any) => seen.push(type === 'BOOKMARK' ? 'BOOKMARK' : `${type}:${obj.spec.size}`),
      () => {},
    );
    try {
      await eventually(() => (seen.includes('BOOKMARK') ? true : undefined), 3000, 'a bookmark');
      assert.deepEqual(seen.filter((s) => s !== 'BOOKMARK').slice(0, 2), ['MODIFIED:2', 'MODIFIED:3']);
      await co.deleteNamespacedCustomObject({ ...WIDGET, namespace: ns, name: 'w' });
      await eventually(() => (seen.includes('DELETED:3') ? true : undefined), 3000, 'the delete event');
    } finally {
      req.abort();
    }
  });

  test('watch list: sendInitialEvents streams the current state, then a bookmark marking its end; timeoutSeconds closes the stream', async () => {
    const ns = await namespace();
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'one' } } });
    const started = Date.now();
    const r = await fetch(`${cluster.url}/api/v1/namespaces/${ns}/configmaps?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1`);
    const lines = (await r.text()).trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: Any });
    assert.ok(Date.now() - started >= 900, 'stream stayed open until the timeout');
    assert.deepEqual(lines.slice(0, 2).map((l) => l.type), ['ADDED', 'BOOKMARK']);
    assert.equal(lines[0]!.object.metadata.name, 'one');
    assert.equal(lines[1]!.object.metadata.annotations['k8s.io/initial-events-end'], 'true');
  });

  test('a label-selector watch sees objects leave and enter the selection as DELETED / ADDED', async () => {
    const ns = await namespace();
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'm', labels: { pick: 'yes' } } } });
    const seen: string[] = [];
    const req = await new k8s.Watch(kc).watch(`/api/v1/namespaces/${ns}/configmaps`, { labelSelector: 'pick=yes' }, (type) => seen.push(type), () => {});
    try {
      await eventually(() => (seen.length === 1 ? true : undefined), 3000, 'initial ADDED');
      await core.patchNamespacedConfigMap({ namespace: ns, name: 'm', body: { metadata: { labels: { pick: 'no' } } } }, MERGE);
      await core.patchNamespacedConfigMap({ namespace: ns, name: 'm', body: { metadata: { labels: { pick: 'yes' } } } }, MERGE);
      await eventually(() => (seen.length === 3 ? true : undefined), 3000, 'leave + enter');
      assert.deepEqual(seen, ['ADDED', 'DELETED', 'ADDED']);
    } finally {
      req.abort();
    }
  });

  test('410 Gone: a too-old watch resourceVersion gets an in-stream ERROR 410; an informer relists after compaction', async () => {
    const ns = await namespace();
    const first = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c0' } } });
    for (let i = 0; i < 60; i++) await core.patchNamespacedConfigMap({ namespace: ns, name: 'c0', body: { data: { i: String(i) } } }, MERGE);
    const errors: Any[] = [];
    let ended: unknown = 'open';
    const req = await new k8s.Watch(kc).watch(
      `/api/v1/namespaces/${ns}/configmaps`,
      { resourceVersion: first.metadata!.resourceVersion },
      (type, obj: Any) => (type === 'ERROR' ? errors.push(obj) : undefined),
      (err) => (ended = err),
    );
    await eventually(() => (ended !== 'open' ? true : undefined), 3000, 'watch end');
    req.abort();
    assert.equal(errors[0]?.code, 410);
    assert.equal(errors[0]?.reason, 'Expired');
    const exact = await fetch(`${cluster.url}/api/v1/namespaces/${ns}/configmaps?resourceVersion=${first.metadata!.resourceVersion}&resourceVersionMatch=Exact`);
    assert.equal(exact.status, 410);

    const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${ns}/configmaps`, () => core.listNamespacedConfigMap({ namespace: ns }));
    let connects = 0;
    const added: string[] = [];
    informer.on('connect', () => connects++);
    informer.on('add', (o) => added.push(o.metadata!.name!));
    await informer.start();
    try {
      cluster.compact();
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'after-compaction' } } });
      await eventually(() => (added.includes('after-compaction') ? true : undefined), 5000, 'informer to see the new object');
      assert.ok(connects >= 2, `informer reconnected after 410 (connects=${connects})`);
      assert.ok(informer.get('c0', ns), 'cache still holds the earlier object after the relist');
    } finally {
      await informer.stop();
    }
  });
});

function jobBody(name: string, command: string[]): k8s.V1Job {
  return { metadata: { name }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'node', command }] } } } };
}
