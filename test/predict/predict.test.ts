// What a finished study leaves behind, used as a user would: a tiny study (one ablation, two
// seeds) saving its models under spec.output.uri; `ablate predict` with those models on the
// validation CSV reproducing the study's ensemble MAP@3 exactly (and `ablate score` agreeing on the
// submission); predictions for an unlabeled file; `ablate export` with a manifest whose hashes
// match the copied files; and the refusals that name the bad value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { exportAblation } from '../../cli/commands/export.js';
import { UsageError } from '../../common/mod.js';
import { runLocalStudy, type StudyResults } from '../../controller/mod.js';
import { readSavedModelInfo } from '../../trainer/mod.js';
import { runCli } from '../support/cli.js';
import { tinyStudy } from '../support/tiny-study.js';

interface Finished {
  dir: string;
  outDir: string;
  job: string;
  validation: string;
  results: StudyResults;
  /** Absolute model folders of the `full` ablation, seed order. */
  models: string[];
}

let finished: Promise<Finished> | undefined;

/** One study for the whole file, made on first use: one ablation × two seeds, models under spec.output.uri. */
function finishedStudy(): Promise<Finished> {
  finished ??= (async () => {
    // Eight training questions: one step per phase keeps the study to two short trainer processes.
    const study = await tinyStudy({ ablations: [{ name: 'full' }], seeds: [0, 1], train: 8 });
    const job = parse(readFileSync(study.jobFile, 'utf8')) as { metadata: { name: string }; spec: Record<string, unknown> };
    job.spec['output'] = { uri: 'file:saved' };
    writeFileSync(study.jobFile, stringify(job));
    const r = await runLocalStudy({ file: study.jobFile, out: study.outDir, inProcess: true });
    const models = r.results.runs
      .filter((x) => x.ablation === 'full')
      .sort((a, b) => a.seed - b.seed)
      .map((x) => resolve(study.outDir, String(x.model?.['path'])));
    return { dir: study.dir, outDir: study.outDir, job: job.metadata.name, validation: join(study.dir, 'validation.csv'), results: r.results, models };
  })();
  return finished;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => statSync(join(dir, p)).isFile())
    .sort();
}

test('a study saves every run’s model under spec.output.uri/<job>/<ablation>-seed<seed> and records where', { timeout: 300_000 }, async () => {
  const s = await finishedStudy();
  assert.ok(s.results.runs.every((r) => r.phase === 'Succeeded'), JSON.stringify(s.results.runs));
  assert.deepEqual(
    s.models,
    [0, 1].map((seed) => join(s.dir, 'saved', s.job, `full-seed${seed}`)),
  );
  for (const [seed, dir] of s.models.entries()) {
    for (const f of ['config.json', 'model.safetensors', 'spm.model', 'ablate.json']) assert.ok(existsSync(join(dir, f)), `${dir}/${f}`);
    const info = await readSavedModelInfo(dir);
    assert.deepEqual({ ...info, backend: undefined }, { job: s.job, ablation: 'full', seed, maxLength: 40, evalBatchSize: 6, backend: undefined, validationSha256: sha256(s.validation) });
  }
  assert.ok(!existsSync(join(s.outDir, 'models')), 'with spec.output.uri set, nothing is saved in the results folder');
});

test('ablate predict with an ablation’s saved models reproduces its ensembleMapAtK exactly, and ablate score agrees on the submission', { timeout: 300_000 }, async () => {
  const s = await finishedStudy();
  const expected = s.results.ablations.find((a) => a.name === 'full')?.ensembleMapAtK;
  assert.equal(typeof expected, 'number');
  const out = join(s.dir, 'predict', 'full.csv');
  const r = await runCli(['predict', '--models', ...s.models, '--data', s.validation, '--out', out, '--backend', 'cpu', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { questions: 12, mapAtK: expected, k: 3 });
  // Not just the score: the ensemble probabilities are the study's, digit for digit.
  assert.equal(readFileSync(join(s.dir, 'predict', 'full.probabilities.csv'), 'utf8'), readFileSync(join(s.outDir, 'ensembles', 'full', 'probabilities.csv'), 'utf8'));
  const scored = await runCli(['score', '--predictions', out, '--answers', s.validation, '--json']);
  assert.equal(scored.code, 0, scored.stderr);
  assert.deepEqual(JSON.parse(scored.stdout), { mapAtK: expected, k: 3, questions: 12 });
});

test('ablate predict on a file without answers writes the submission and probabilities and prints only the count', { timeout: 300_000 }, async () => {
  const s = await finishedStudy();
  const lines = readFileSync(s.validation, 'utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  const answerCol = header.indexOf('answer');
  assert.ok(answerCol > 0);
  // Each demo row is one line ending in its answer letter: dropping the last field unlabels it.
  assert.equal(answerCol, header.length - 1);
  const unlabeled = join(s.dir, 'test.csv');
  writeFileSync(unlabeled, `${lines.map((l) => l.slice(0, l.lastIndexOf(','))).join('\n')}\n`);
  const out = join(s.dir, 'unlabeled', 'submission');
  const r = await runCli(['predict', '--models', s.models[0]!, '--data', unlabeled, '--out', out, '--backend', 'cpu', '--batch-size', '5', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { questions: 12 });
  const rows = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(rows[0], 'id,prediction');
  const ids = lines.slice(1).map((l) => l.split(',')[0]);
  assert.deepEqual(
    rows.slice(1).map((l) => l.split(',')[0]),
    ids,
  );
  for (const row of rows.slice(1)) {
    const letters = row.split(',')[1]!.split(' ');
    assert.equal(new Set(letters).size, 3, row);
  }
  assert.equal(readFileSync(join(s.dir, 'unlabeled', 'submission.probabilities.csv'), 'utf8').split('\n')[0], 'id,A,B,C,D,E');
});

test('ablate predict refuses a missing model folder and a bad batch size, naming them', { timeout: 120_000 }, async () => {
  const [missing, batch] = await Promise.all([
    runCli(['predict', '--models', '/nonexistent/model', '--data', 'x.csv', '--out', 'y.csv']),
    runCli(['predict', '--models', '.', '--data', 'x.csv', '--out', 'y.csv', '--batch-size', '0']),
  ]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--models: \/nonexistent\/model is not a folder/);
  assert.equal(batch.code, 2);
  assert.match(batch.stderr, /--batch-size must be a positive integer, got 0/);
});

test('ablate export copies the best ablation’s seeds with a manifest whose sha256 match the files', { timeout: 300_000 }, async () => {
  const s = await finishedStudy();
  const out = join(s.dir, 'export', 'best');
  const r = await runCli(['export', s.outDir, '--ablation', 'best', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
    job: string;
    ablation: string;
    seeds: number[];
    mapAtK: number;
    models: Array<{ seed: number; path: string; mapAtK: number }>;
    files: Array<{ path: string; bytes: number; sha256: string }>;
  };
  assert.deepEqual(JSON.parse(r.stdout), manifest);
  assert.equal(manifest.job, s.job);
  assert.equal(manifest.ablation, 'full');
  assert.deepEqual(manifest.seeds, [0, 1]);
  assert.equal(manifest.mapAtK, s.results.ablations.find((a) => a.name === 'full')?.ensembleMapAtK);
  assert.deepEqual(
    manifest.models.map((m) => [m.seed, m.path, m.mapAtK]),
    s.results.runs.map((x) => [x.seed, `full-seed${x.seed}`, x.mapAtK]),
  );
  assert.deepEqual(
    manifest.files.map((f) => f.path),
    filesUnder(out).filter((p) => p !== 'manifest.json'),
  );
  for (const f of manifest.files) {
    assert.equal(f.sha256, sha256(join(out, f.path)), f.path);
    assert.equal(f.bytes, statSync(join(out, f.path)).size, f.path);
  }
  // The copies are the saved models, byte for byte.
  for (const [seed, dir] of s.models.entries()) {
    for (const name of filesUnder(dir)) assert.equal(sha256(join(out, `full-seed${seed}`, name)), sha256(join(dir, name)), `${relative(s.dir, dir)}/${name}`);
  }
});

test('ablate export refuses a cluster name, an unknown ablation and a non-empty --out', { timeout: 300_000 }, async () => {
  const s = await finishedStudy();
  const byName = await runCli(['export', 'science-exam', '--out', join(s.dir, 'x')]);
  assert.equal(byName.code, 2);
  assert.match(byName.stderr, /science-exam: exporting a FineTuneJob from the cluster by name is not supported yet/);
  await assert.rejects(exportAblation(s.outDir, 'nope', join(s.dir, 'y')), (e: Error) => e instanceof UsageError && /--ablation: nope is not an ablation of .*; use best or one of full/.test(e.message));
  const occupied = join(s.dir, 'occupied');
  mkdirSync(occupied);
  writeFileSync(join(occupied, 'keep.txt'), 'mine');
  await assert.rejects(exportAblation(s.outDir, 'best', occupied), (e: Error) => e instanceof UsageError && /--out: .*occupied exists and is not an empty folder/.test(e.message));
  assert.deepEqual(readdirSync(occupied), ['keep.txt']);
  assert.deepEqual(
    readdirSync(s.dir).filter((n) => n.includes('.tmp-')),
    [],
    'a refused export leaves no temporary folder',
  );
});
