// A model folder with a file ablate cannot read stops `ablate run` before anything is written or
// deleted, naming spec.model.uri, the folder it resolved to and the file — not a raw EACCES.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { hashModelFolder, UnreadableModelFileError } from '../../controller/local/resume.js';
import { runCli } from '../support/cli.js';

const root = new URL('../../', import.meta.url).pathname;
// chmod 000 does not stop root from reading.
const skip = process.getuid?.() === 0 ? 'running as root: chmod 000 does not deny reads' : false;

test('an unreadable file in the model folder stops ablate run --fresh before anything is deleted, naming spec.model.uri and the file', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ablate-model-unreadable-'));
  const weights = join(dir, 'model', 'model.safetensors');
  try {
    mkdirSync(join(dir, 'model'));
    copyFileSync(join(root, 'test/fixtures/deberta-v3-tiny/config.json'), join(dir, 'model', 'config.json'));
    writeFileSync(weights, 'weights');
    chmodSync(weights, 0o000);
    for (const f of ['train', 'validation']) writeFileSync(join(dir, `${f}.csv`), readFileSync(join(root, `examples/science-exam/data/${f}.csv`), 'utf8').split('\n').slice(0, 5).join('\n') + '\n');
    const job = { apiVersion: 'ablate.dev/v1alpha1', kind: 'FineTuneJob', metadata: { name: 'model-unreadable' }, spec: { model: { uri: './model' }, data: { train: { uri: './train.csv' }, validation: { uri: './validation.csv' } }, ablations: [{ name: 'full' }] } };
    writeFileSync(join(dir, 'job.yaml'), stringify(job));
    // An earlier study that --fresh would delete.
    const kept = join(dir, 'out', 'work', 'full-seed0', 'result.json');
    mkdirSync(join(dir, 'out', 'work', 'full-seed0'), { recursive: true });
    writeFileSync(kept, '{}');

    await assert.rejects(hashModelFolder(join(dir, 'model')), (err: unknown) => err instanceof UnreadableModelFileError && err.path === weights && /^EACCES/.test(err.code));
    const r = await runCli(['run', join(dir, 'job.yaml'), '--out', join(dir, 'out'), '--in-process', '--fresh']);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes(`spec.model.uri: ./model → ${join(dir, 'model')}: cannot read ${weights} (EACCES: permission denied)`), r.stderr);
    assert.ok(existsSync(kept), 'the earlier study was not touched');
  } finally {
    chmodSync(weights, 0o600);
    rmSync(dir, { recursive: true, force: true });
  }
});
