// `ablate run --fresh`: the new study's folder holds only its own runs — the CSVs, curves and
// models of a run the spec no longer has go with the earlier study — and nothing else is touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { runLocalStudy } from '../../controller/mod.js';
import { tinyStudy } from '../support/tiny-study.js';

test('--fresh after dropping an ablation leaves runs/, models/ and ensembles/ with only the new study, and the user’s own files', { timeout: 300_000 }, async () => {
  const study = await tinyStudy({ name: 'fresh-drop' });
  const out = study.outDir;
  const first = await runLocalStudy({ file: study.jobFile, out, inProcess: true });
  assert.ok(first.results.runs.every((r) => r.phase === 'Succeeded'));
  assert.deepEqual(readdirSync(join(out, 'runs')).sort(), ['frozen-embeddings-seed0', 'full-seed0']);
  assert.deepEqual(readdirSync(join(out, 'models')).sort(), ['frozen-embeddings-seed0', 'full-seed0']);
  mkdirSync(join(out, 'runs', 'notes'));
  writeFileSync(join(out, 'README.txt'), 'mine');

  const job = parse(readFileSync(study.jobFile, 'utf8')) as { spec: { ablations: { name: string }[] } };
  job.spec.ablations = job.spec.ablations.filter((a) => a.name === 'full');
  writeFileSync(study.jobFile, stringify(job));
  const fresh = await runLocalStudy({ file: study.jobFile, out, inProcess: true, fresh: true });
  assert.deepEqual(fresh.results.runs.map((r) => r.ablation), ['full']);
  assert.deepEqual(readdirSync(join(out, 'runs')).sort(), ['full-seed0', 'notes'], 'the dropped run’s CSVs and curves are gone; a folder ablate did not write stays');
  assert.deepEqual(readdirSync(join(out, 'models')), ['full-seed0']);
  assert.deepEqual(readdirSync(join(out, 'ensembles')), ['full']);
  assert.deepEqual(readdirSync(join(out, 'work')).sort(), ['full-seed0', 'study.json']);
  assert.equal(readFileSync(join(out, 'README.txt'), 'utf8'), 'mine');
});
