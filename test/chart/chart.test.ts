// The Helm chart with the real helm 4: it lints and renders with default and fully custom values,
// every rendered built-in object is valid against the Kubernetes schemas, bad values are refused
// by values.schema.json, the controller and its NATS run restricted, RBAC grants no wildcard and
// nothing on Secrets, and manifests/install.yaml is the chart's fresh rendering that a real
// kubectl applies to the dev cluster.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { buildCrd } from '../../api/mod.js';
import { DevCluster } from '../../controller/mod.js';
import { GENERATORS, INSTALL_NAMESPACE, REPO_ROOT } from '../../scripts/generate.js';
import { helmPath, kubectl } from '../support/kubectl.js';
import { assertRestrictedPod, type K8sObject, type PodSpec } from './security.js';

const CHART = join(REPO_ROOT, 'charts', 'ablate');
const FULL_VALUES = join(REPO_ROOT, 'test', 'chart', 'fixtures', 'full-values.yaml');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function helm(args: string[]): Run {
  // HOME in a scratch dir: helm must not read or write the user's config and cache.
  const home = mkdtempSync(join(tmpdir(), 'ablate-helm-'));
  try {
    const r = spawnSync(helmPath(), args, { cwd: REPO_ROOT, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', HOME: home } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

function parseDocs(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      assert.equal(d.errors.length, 0, `rendered YAML does not parse: ${d.errors.map((e) => e.message).join('; ')}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

function render(extra: string[] = [], namespace = 'ablate'): K8sObject[] {
  const r = helm(['template', 'ablate', CHART, '--namespace', namespace, ...extra]);
  assert.equal(r.code, 0, `helm template ${extra.join(' ')} failed: ${r.stderr}`);
  return parseDocs(r.stdout);
}

function find(objs: K8sObject[], kind: string, name?: string): K8sObject[] {
  return objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

function one(objs: K8sObject[], kind: string, name?: string): K8sObject {
  const found = find(objs, kind, name);
  assert.equal(found.length, 1, `expected one ${kind}${name ? ` ${name}` : ''}, got ${found.length}`);
  return found[0]!;
}

function podSpecOf(o: K8sObject): PodSpec {
  return (o.spec as { template: { spec: PodSpec } }).template.spec;
}

/** Kinds that are not built in: validated by their own operators' CRDs, not by kubernetes-models. */
const CUSTOM_KINDS = new Set(['monitoring.coreos.com/v1/ServiceMonitor']);

/** Validates each object against the Kubernetes OpenAPI schemas shipped in kubernetes-models. */
async function validateBuiltins(objs: K8sObject[]): Promise<void> {
  for (const o of objs) {
    const key = `${o.apiVersion}/${o.kind}`;
    if (CUSTOM_KINDS.has(key)) continue;
    let mod: Record<string, new (data: unknown) => { validate(): void }>;
    try {
      mod = (await import(`kubernetes-models/${key}`)) as typeof mod;
    } catch (err) {
      assert.fail(`${key} ${o.metadata.name}: not a built-in kind kubernetes-models knows (${String(err)})`);
    }
    const Model = mod[o.kind];
    assert.ok(Model, `kubernetes-models/${key} exports no ${o.kind}`);
    assert.doesNotThrow(() => new Model(o).validate(), `${key} ${o.metadata.name} is invalid`);
  }
}

function allRules(objs: K8sObject[]): Array<{ where: string; rule: { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[] } }> {
  return objs
    .filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')
    .flatMap((o) => ((o['rules'] ?? []) as Array<{ apiGroups?: string[]; resources?: string[]; verbs: string[] }>).map((rule) => ({ where: `${o.kind} ${o.metadata.name}`, rule })));
}

/** The controller's own (Cluster)Roles: those bound to its ServiceAccount. */
function controllerRules(objs: K8sObject[], sa: string): ReturnType<typeof allRules> {
  const bound = new Set(
    objs
      .filter((o) => (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') && ((o['subjects'] ?? []) as Array<{ name: string }>).some((s) => s.name === sa))
      .map((o) => `${(o['roleRef'] as { kind: string }).kind} ${(o['roleRef'] as { name: string }).name}`),
  );
  return allRules(objs).filter((r) => bound.has(r.where));
}

function argsOf(deploy: K8sObject): string[] {
  return (podSpecOf(deploy).containers[0]!.args ?? []) as string[];
}

describe('helm chart charts/ablate', () => {
  let defaults: K8sObject[];
  let full: K8sObject[];

  before(() => {
    defaults = render();
    full = render(['-f', FULL_VALUES]);
  });

  test('helm lint passes with the default values and with a full custom values file', () => {
    const plain = helm(['lint', CHART, '--strict']);
    assert.equal(plain.code, 0, plain.stdout + plain.stderr);
    const custom = helm(['lint', CHART, '--strict', '-f', FULL_VALUES]);
    assert.equal(custom.code, 0, custom.stdout + custom.stderr);
  });

  test('every rendered built-in object validates against the Kubernetes schemas', async () => {
    assert.ok(defaults.length >= 8, `only ${defaults.length} objects rendered`);
    await validateBuiltins(defaults);
    await validateBuiltins(full);
    // The custom rendering exercises the optional parts.
    for (const kind of ['StatefulSet', 'ServiceMonitor', 'Role', 'RoleBinding', 'ConfigMap']) assert.ok(find(full, kind).length > 0, `full values render no ${kind}`);
  });

  test('values.schema.json refuses wrong types and unknown keys, naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ablate-chart-values-'));
    try {
      const cases: Array<{ values: unknown; field: string }> = [
        { values: { controller: { replicas: 'two' } }, field: '/controller/replicas' },
        { values: { trainer: { gpuResourceName: { 'nvidia.com/gpu': 1 } } }, field: '/trainer/gpuResourceName' },
        { values: { trainer: { gpuResourceName: 'not a resource name' } }, field: '/trainer/gpuResourceName' },
        { values: { controller: { replicaCount: 2 } }, field: 'replicaCount' },
        { values: { nats: { url: 'nats://ablate:s3cret@nats:4222' } }, field: '/nats/url' },
        { values: { controller: { metricsPort: 70000 } }, field: '/controller/metricsPort' },
        { values: { controller: { watch: { namespaces: ['Not_A_Namespace'] } } }, field: '/controller/watch/namespaces/0' },
        { values: { controller: { queueWorkers: 0 } }, field: '/controller/queueWorkers' },
        { values: { controller: { queueWorkers: 2.5 } }, field: '/controller/queueWorkers' },
        { values: { controller: { queueWorkers: '4' } }, field: '/controller/queueWorkers' },
        // Below the controller's 60 s ack wait, or not a duration: `ablate controller` would refuse it in the pod.
        { values: { controller: { consumerInactiveThreshold: '30s' } }, field: '/controller/consumerInactiveThreshold' },
        { values: { controller: { consumerInactiveThreshold: '0h0m59s' } }, field: '/controller/consumerInactiveThreshold' },
        { values: { controller: { consumerInactiveThreshold: 59 } }, field: '/controller/consumerInactiveThreshold' },
        { values: { controller: { consumerInactiveThreshold: '1 hour' } }, field: '/controller/consumerInactiveThreshold' },
        { values: { controller: { consumerInactiveThreshold: true } }, field: '/controller/consumerInactiveThreshold' },
      ];
      for (const [i, c] of cases.entries()) {
        const file = join(dir, `bad-${i}.yaml`);
        writeFileSync(file, stringify(c.values));
        const r = helm(['template', 'ablate', CHART, '-f', file]);
        assert.notEqual(r.code, 0, `${JSON.stringify(c.values)} was accepted`);
        assert.match(r.stderr, new RegExp(c.field.replace(/[/]/g, '\\/')), `${JSON.stringify(c.values)}: the error does not name ${c.field}: ${r.stderr}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('more than one replica without leader election is refused', () => {
    const r = helm(['template', 'ablate', CHART, '--set', 'controller.replicas=2', '--set', 'controller.leaderElection.enabled=false']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /leaderElection/);
  });

  test('the controller Deployment runs restricted, with probes, metrics and the documented flags', () => {
    for (const [label, objs] of [['default', defaults], ['full', full]] as const) {
      const deploy = one(objs, 'Deployment');
      const pod = podSpecOf(deploy);
      assertRestrictedPod(pod, `${label} controller`);
      const c = pod.containers[0]!;
      const probes = c as { livenessProbe?: { httpGet?: { path: string } }; readinessProbe?: { httpGet?: { path: string } } };
      assert.equal(probes.livenessProbe?.httpGet?.path, '/healthz');
      assert.equal(probes.readinessProbe?.httpGet?.path, '/readyz');
      const svc = one(objs, 'Service', objs === defaults ? 'ablate-metrics' : 'studies-metrics');
      assert.equal((svc.spec as { ports: Array<{ targetPort: string }> }).ports[0]!.targetPort, 'metrics');
      const env = (c.env ?? []) as Array<{ name: string }>;
      for (const name of ['POD_NAME', 'POD_NAMESPACE']) assert.ok(env.some((e) => e.name === name), `${label}: no ${name}`);
    }
    const args = argsOf(one(defaults, 'Deployment'));
    assert.deepEqual(args.slice(0, 2), ['controller', '--all-namespaces']);
    for (const flag of ['--nats=', '--stream=ABLATE', '--metrics-addr=:8080', '--probe-addr=:8081', '--leader-elect', '--lease-namespace=ablate', '--lease-name=ablate-controller', '--trainer-image=']) {
      assert.ok(args.some((a) => a.startsWith(flag)), `default args lack ${flag}: ${args.join(' ')}`);
    }
    const known = /^(controller|--all-namespaces|--namespaces=|--nats=|--nats-creds-secret=|--stream=|--metrics-addr=|--probe-addr=|--leader-elect|--lease-namespace=|--lease-name=|--trainer-image=|--base-dir=|--queue-workers=|--consumer-inactive-threshold=|--log-level=)/;
    for (const a of [...args, ...argsOf(one(full, 'Deployment'))]) assert.match(a, known, `flag ${a} is not one ablate controller takes`);
  });

  test('namespaced mode binds one Role per watched namespace and no controller ClusterRole', () => {
    const deploy = one(full, 'Deployment');
    assert.ok(argsOf(deploy).includes('--namespaces=ml-team-a,ml-team-b'));
    const rules = controllerRules(full, 'studies-controller');
    assert.ok(rules.length > 0);
    assert.ok(rules.every((r) => r.where.startsWith('Role ')), `controller rules outside Roles: ${rules.map((r) => r.where).join(', ')}`);
    const namespaces = find(full, 'Role', 'studies-controller').map((r) => r.metadata.namespace).sort();
    assert.deepEqual(namespaces, ['ml-team-a', 'ml-team-b']);
    assert.equal(find(full, 'ClusterRole').length, 0, 'aggregateToDefaultRoles=false still rendered a ClusterRole');
  });

  test('no Role or ClusterRole grants a wildcard, and the controller gets nothing on Secrets', () => {
    for (const objs of [defaults, full, render(['--set', 'controller.watch.allNamespaces=false'])]) {
      const rules = allRules(objs);
      assert.ok(rules.length > 0);
      for (const { where, rule } of rules) {
        for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames'] as const) {
          assert.ok(!(rule[field] ?? []).some((v) => v.includes('*')), `${where} grants ${field} ${JSON.stringify(rule[field])}`);
        }
        assert.ok(!(rule.resources ?? []).some((r) => r === 'secrets' || r === 'pods/exec' || r === 'serviceaccounts/token'), `${where} grants ${JSON.stringify(rule)}`);
      }
    }
    // Least privilege both ways: every call the operator makes is granted, and nothing else is.
    const granted = new Set(controllerRules(defaults, 'ablate').flatMap(({ rule }) => (rule.resources ?? []).flatMap((r) => rule.verbs.map((v) => `${(rule.apiGroups ?? [''])[0]}/${r}: ${v}`))));
    assert.deepEqual([...granted].sort(), [...operatorApiCalls()].sort(), 'charts/ablate/templates/_helpers.tpl (ablate.controllerRules) and rbac.yaml must grant exactly what controller/operator/ calls');
    const leaseRules = controllerRules(defaults, 'ablate').filter(({ rule }) => rule.resources?.includes('leases'));
    for (const { rule } of leaseRules) {
      // create cannot be limited by name; reading and renewing can, to the one Lease.
      if (!(rule.verbs.length === 1 && rule.verbs[0] === 'create')) assert.deepEqual(rule.resourceNames, ['ablate-controller']);
    }
  });

  test('the trainer and the controller get NATS credentials by Secret reference only', () => {
    const deploy = one(full, 'Deployment');
    const c = podSpecOf(deploy).containers[0]!;
    const env = (c.env ?? []) as Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
    assert.deepEqual(env.find((e) => e.name === 'ABLATE_NATS_URL')?.valueFrom?.secretKeyRef, { name: 'ablate-controller-nats', key: 'url' });
    const args = argsOf(deploy);
    assert.ok(args.includes('--nats=$(ABLATE_NATS_URL)'), args.join(' '));
    assert.ok(args.includes('--nats-creds-secret=ablate-trainer-nats'));
    assert.equal(env.find((e) => e.name === 'NODE_EXTRA_CA_CERTS')?.value, '/etc/ablate/nats-ca/tls-ca.pem');
    for (const objs of [defaults, full]) assert.equal(find(objs, 'Secret').length, 0, 'the chart renders a Secret');
  });

  test('the embedded NATS is off by default and restricted when on', () => {
    assert.equal(find(defaults, 'StatefulSet').length, 0);
    const sts = one(full, 'StatefulSet');
    const claims = ((sts.spec as { volumeClaimTemplates?: Array<{ metadata: { name: string } }> }).volumeClaimTemplates ?? []).map((t) => t.metadata.name);
    assert.deepEqual(claims, ['data']);
    assertRestrictedPod(podSpecOf(sts), 'embedded NATS', claims);
    assert.equal(podSpecOf(sts).automountServiceAccountToken, false);
    const conf = (one(full, 'ConfigMap').data as Record<string, string>)['nats.conf'] ?? '';
    assert.match(conf, /jetstream\s*\{[^}]*max_file_store: 50Gi/);
    assert.ok(argsOf(one(full, 'Deployment')).includes('--nats=$(ABLATE_NATS_URL)'));
    const plain = render(['--set', 'nats.url=', '--set', 'nats.embedded.enabled=true']);
    assert.ok(argsOf(one(plain, 'Deployment')).includes('--nats=nats://ablate-nats.ablate.svc:4222'));
    const none = helm(['template', 'ablate', CHART, '--set', 'nats.url=']);
    assert.notEqual(none.code, 0, 'no NATS at all was accepted');
    assert.match(none.stderr, /nats\.url is required/);
  });

  test('the CRD is a kept template equal to the generated one; crds.install=false leaves it out', () => {
    const crd = one(defaults, 'CustomResourceDefinition');
    assert.equal(crd.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
    const expected = buildCrd() as K8sObject;
    // fromYaml/toYaml in the template must not change a number or a string of the schema.
    assert.deepEqual(crd.spec, expected.spec);
    assert.equal(one(full, 'CustomResourceDefinition').metadata.annotations?.['helm.sh/resource-policy'], undefined);
    assert.equal(find(render(['--set', 'crds.install=false']), 'CustomResourceDefinition').length, 0);
  });
});

/** Values whose contents are free-form maps: documented as one key. */
const FREE_FORM = new Set(['resources', 'nodeSelector', 'affinity', 'podAnnotations', 'podLabels', 'annotations', 'labels']);

function valuePaths(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && !FREE_FORM.has(k) && Object.keys(v).length > 0 ? valuePaths(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

describe('docs/install.md', () => {
  test('its values table documents every value of the chart', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'install.md'), 'utf8');
    const table = doc.slice(doc.indexOf('## Values'), doc.indexOf('\n## ', doc.indexOf('## Values') + 1));
    const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    for (const path of valuePaths(values)) {
      // A row names a key in full, or as `.rest` after the full first key of its group.
      const leaf = path.split('.').pop()!;
      assert.ok(table.includes(`\`${path}\``) || table.includes(`\`.${leaf}\``), `docs/install.md's values table lacks ${path}`);
    }
  });
});

/** client-node API classes' kinds → `group/resource`. A kind missing here fails the test on purpose. */
const KIND_RESOURCES: Record<string, string> = {
  CustomObject: 'ablate.dev/finetunejobs',
  Job: 'batch/jobs',
  Lease: 'coordination.k8s.io/leases',
  Event: 'events.k8s.io/events',
  Pod: '/pods',
  Secret: '/secrets',
};
/**
 * Files of controller/operator/ that run with the user's credentials (`ablate submit|status|watch|
 * report NAME`), not the controller's: the aggregated admin/edit/view roles cover those.
 */
const USER_SIDE = new Set(['client.ts']);
const METHOD_VERBS: Record<string, string> = { list: 'list', read: 'get', create: 'create', patch: 'patch', replace: 'update', delete: 'delete' };

/**
 * The (group/resource: verb) pairs the operator's source calls through @kubernetes/client-node
 * (methods named like `createNamespacedJob`, `listJobForAllNamespaces`,
 * `patchNamespacedCustomObjectStatus`). A list feeds an informer, which also watches.
 */
function operatorApiCalls(): Set<string> {
  const dir = join(REPO_ROOT, 'controller', 'operator');
  const calls = new Set<string>();
  const method = /\.(list|read|create|patch|replace|delete)(Namespaced|Cluster)?([A-Z][A-Za-z]*?)(Status)?(ForAllNamespaces)?\(/g;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !USER_SIDE.has(f))) {
    for (const m of readFileSync(join(dir, file), 'utf8').matchAll(method)) {
      const [, op, scope, kind, status, all] = m;
      if (scope === undefined && all === undefined) continue; // the operator's own methods, not API calls
      const resource = KIND_RESOURCES[kind!];
      assert.ok(resource, `controller/operator/${file} calls ${m[0]} on kind ${kind}: add it to KIND_RESOURCES and to the chart's RBAC`);
      const target = status ? `${resource}/status` : resource;
      calls.add(`${target}: ${METHOD_VERBS[op!]}`);
      if (op === 'list') calls.add(`${target}: watch`);
    }
  }
  assert.ok(calls.size > 0, 'found no API calls under controller/operator/');
  return calls;
}

describe('manifests/install.yaml', () => {
  test('is generated from the chart and fresh (make generate)', () => {
    for (const path of ['manifests/install.yaml', 'charts/ablate/files/ablate.dev_finetunejobs.yaml']) {
      const g = GENERATORS.find((x) => x.path === path);
      assert.ok(g, `no generator for ${path}`);
      assert.equal(readFileSync(join(REPO_ROOT, path), 'utf8'), g.render(), `${path} is stale: run make generate`);
    }
    const objs = parseDocs(readFileSync(join(REPO_ROOT, 'manifests/install.yaml'), 'utf8'));
    assert.equal(objs[0]?.kind, 'Namespace');
    assert.equal(objs[0]?.metadata.name, INSTALL_NAMESPACE);
    for (const o of objs.slice(1)) if (o.metadata.namespace !== undefined) assert.equal(o.metadata.namespace, INSTALL_NAMESPACE, `${o.kind} ${o.metadata.name}`);
  });

  describe('kubectl apply against ablate dev-cluster', () => {
    let cluster: DevCluster;
    let dir: string;
    let kubeconfig: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ablate-install-'));
      cluster = await DevCluster.create({});
      kubeconfig = join(dir, 'kubeconfig');
      cluster.writeKubeconfig(kubeconfig);
    });
    after(async () => {
      await cluster.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('succeeds, twice, and leaves the CRD serving FineTuneJobs', async () => {
      const first = await kubectl(['apply', '-f', join(REPO_ROOT, 'manifests/install.yaml')], { kubeconfig });
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /deployment\.apps\/ablate-controller created/);
      assert.match(first.stdout, /customresourcedefinition\.apiextensions\.k8s\.io\/finetunejobs\.ablate\.dev created/);
      const again = await kubectl(['apply', '-f', join(REPO_ROOT, 'manifests/install.yaml')], { kubeconfig });
      assert.equal(again.code, 0, again.stderr);
      const example = await kubectl(['apply', '-n', INSTALL_NAMESPACE, '-f', join(REPO_ROOT, 'manifests/examples/single-ablation.yaml')], { kubeconfig });
      assert.equal(example.code, 0, example.stderr);
      const get = await kubectl(['get', 'ftj', '-n', INSTALL_NAMESPACE, '-o', 'name'], { kubeconfig });
      assert.equal(get.stdout.trim(), 'finetunejob.ablate.dev/deberta-small-baseline');
    });
  });
});
