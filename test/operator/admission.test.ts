// What `kubectl apply` of a bad FineTuneJob meets before the operator ever sees it: the CRD's
// schema and CEL rules, enforced by the API server (here the dev cluster), with messages that
// name the field.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DevCluster } from '../../controller/mod.js';
import { kubectl } from '../support/kubectl.js';
import { tinyJobYaml } from './support.js';

const CRDS = fileURLToPath(new URL('../../manifests/crds/', import.meta.url));

describe('FineTuneJob admission (kubectl apply against the dev cluster)', () => {
  let dir: string;
  let kubeconfig: string;
  let cluster: DevCluster;
  const apply = (file: string, yaml: string) => {
    writeFileSync(join(dir, file), yaml);
    return kubectl(['apply', '-f', join(dir, file)], { kubeconfig });
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ablate-operator-admission-'));
    cluster = await DevCluster.create({});
    kubeconfig = join(dir, 'kubeconfig');
    cluster.writeKubeconfig(kubeconfig);
    const r = await kubectl(['apply', '-f', CRDS], { kubeconfig });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a duplicate ablation name', async () => {
    const r = await apply('dup.yaml', tinyJobYaml('dup').replace('- {name: frozen-embeddings,', '- {name: full,'));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.ablations/);
    assert.match(r.stderr, /unique|duplicate/i);
  });

  it('refuses a baseline that names no ablation', async () => {
    const r = await apply('baseline.yaml', tinyJobYaml('baseline').replace('baseline: full', 'baseline: nothing'));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.evaluation\.baseline/);
  });

  it('refuses 300 runs (3 ablations × 100 seeds; at most 256)', async () => {
    const r = await apply('many.yaml', tinyJobYaml('many', { seeds: Array.from({ length: 100 }, (_, i) => i) }));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.ablations: Invalid value.*at most 256 runs, got 300/);
  });

  it('refuses a spec change after creation, but not an evaluation or parallelism edit', async () => {
    const created = await apply('frozen.yaml', tinyJobYaml('frozen'));
    assert.equal(created.code, 0, created.stderr);
    const seeds = await apply('frozen-seeds.yaml', tinyJobYaml('frozen', { seeds: [0] }));
    assert.notEqual(seeds.code, 0);
    assert.match(seeds.stderr, /spec\.seeds: .*immutable/);
    const template = await apply('frozen-backoff.yaml', tinyJobYaml('frozen', { backoffLimit: 5 }));
    assert.notEqual(template.code, 0);
    assert.match(template.stderr, /spec\.execution\.backoffLimit/);
    const ok = await apply('frozen-eval.yaml', tinyJobYaml('frozen', { parallelism: 1, resamples: 100 }));
    assert.equal(ok.code, 0, ok.stderr);
  });
});
