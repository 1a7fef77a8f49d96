// The cluster examples under manifests/examples/ are what a new user applies first: each must pass
// `ablate validate` (the CRD schema and its CEL rules), mount model and data from PVCs, and the
// science-exam study must stay the reference study of examples/science-exam/.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadFineTuneJob, withDefaults } from '../../api/mod.js';
import { REPO_ROOT } from '../../scripts/generate.js';
import { runCli } from '../support/cli.js';

const DIR = join(REPO_ROOT, 'manifests', 'examples');
const EXPECTED = ['kueue-queued.yaml', 'matrix-sweep.yaml', 'science-exam.yaml', 'single-ablation.yaml'];

describe('manifests/examples', () => {
  test('the science-exam study, a single ablation, a matrix sweep and a Kueue-queued job all pass ablate validate', async () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();
    assert.deepEqual(files, EXPECTED);
    const r = await runCli(['validate', '--json', ...files.map((f) => join(DIR, f))]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const reports = JSON.parse(r.stdout) as Array<{ file: string; valid: boolean }>;
    assert.equal(reports.length, files.length);
    for (const rep of reports) assert.ok(rep.valid, `${rep.file} is invalid`);
  });

  test('each mounts its model and data read-only from PersistentVolumeClaims and asks for a GPU', () => {
    for (const f of EXPECTED) {
      const spec = withDefaults(loadFineTuneJob(join(DIR, f)).job.spec);
      const t = spec.template;
      const mounts = t.volumeMounts ?? [];
      for (const uri of [spec.model.uri, spec.data.validation.uri]) {
        const path = new URL(uri).pathname;
        const mount = mounts.find((m) => path.startsWith(`${m.mountPath}/`));
        assert.ok(mount, `${f}: ${uri} is on no mounted volume`);
        assert.equal(mount.readOnly, true, `${f}: ${mount.mountPath} is writable`);
        const volume = (t.volumes ?? []).find((v) => v.name === mount.name) as { persistentVolumeClaim?: unknown } | undefined;
        assert.ok(volume?.persistentVolumeClaim, `${f}: ${mount.mountPath} is not a PVC`);
      }
      const limits = (t.resources as { limits?: Record<string, unknown> } | undefined)?.limits ?? {};
      assert.equal(limits['nvidia.com/gpu'], 1, `${f}: no GPU limit`);
      const env = (t.env ?? []) as Array<{ name: string; value?: string }>;
      assert.equal(env.find((e) => e.name === 'NVIDIA_DRIVER_CAPABILITIES')?.value, 'compute,utility,graphics', `${f}: the WebGPU backend needs the graphics capability`);
    }
  });

  test('the cluster science-exam study keeps the reference ablations, seeds and evaluation', () => {
    const cluster = withDefaults(loadFineTuneJob(join(DIR, 'science-exam.yaml')).job.spec);
    const local = withDefaults(loadFineTuneJob(join(REPO_ROOT, 'examples', 'science-exam', 'finetunejob.yaml')).job.spec);
    assert.deepEqual(cluster.ablations, local.ablations);
    assert.deepEqual(cluster.seeds, local.seeds);
    assert.deepEqual(cluster.evaluation, local.evaluation);
    // The full recipe of DESIGN.md, not the laptop demo's.
    assert.equal(cluster.model.maxLength, 256);
    assert.equal(cluster.training.batchSize, 45);
  });

  test('the Kueue example names a queue; the matrix sweep expands and names its baseline', () => {
    const kueue = withDefaults(loadFineTuneJob(join(DIR, 'kueue-queued.yaml')).job.spec);
    assert.equal(kueue.scheduling.queueName, 'gpu');
    const sweep = withDefaults(loadFineTuneJob(join(DIR, 'matrix-sweep.yaml')).job.spec);
    assert.ok(sweep.ablations.some((a) => a.matrix !== undefined));
    assert.equal(sweep.evaluation.baseline, 'baseline');
  });
});
