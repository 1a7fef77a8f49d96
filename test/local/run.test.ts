// `ablate run` end to end on tiny studies: the same results over real NATS and in-process, a
// trainer killed mid-phase-2 resuming from its checkpoint, a bad job file refused before anything
// starts, and a broken dataset failing only the runs that read it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runLocalStudy } from '../../controller/mod.js';
import { NatsTransport } from '../../protocol/mod.js';
import { runCli } from '../support/cli.js';
import { checkPage, chromiumMissing } from '../support/chromium.js';
import { tinyStudy } from '../support/tiny-study.js';

const NATS = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';

function probabilities(outDir: string, slug: string): number[][] {
  const lines = readFileSync(join(outDir, 'runs', slug, 'probabilities.csv'), 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => l.split(',').slice(1).map(Number));
}

test('a sweep over real NATS and over the in-process transport gives identical results', { timeout: 300_000 }, async () => {
  const study = await tinyStudy({ name: 'transports' });
  const suffix = Math.random().toString(36).slice(2, 8);
  const stream = `T_LOCAL_${suffix}`;
  const prefix = `t${suffix}`;
  const overNats = await runLocalStudy({ file: study.jobFile, out: join(study.dir, 'nats'), natsUrl: NATS, stream, subjectPrefix: prefix });
  const admin = await NatsTransport.create({ servers: NATS, stream, subjects: [`${prefix}.>`], name: 'test-cleanup' });
  await admin.deleteStream();
  await admin.close();
  const inProcess = await runLocalStudy({ file: study.jobFile, out: join(study.dir, 'in-process'), inProcess: true });
  for (const r of [overNats, inProcess]) {
    assert.equal(r.results.runs.length, 2);
    assert.ok(r.results.runs.every((x) => x.phase === 'Succeeded' && x.predictions.received === 12), JSON.stringify(r.results.runs));
    assert.ok(r.results.ablations.find((a) => a.name === 'frozen-embeddings')?.vsBaseline, 'the non-baseline ablation is compared');
  }
  const strip = (r: typeof overNats): unknown => ({ runs: r.results.runs.map((x) => x.mapAtK), ablations: r.results.ablations, best: r.results.best });
  assert.deepEqual(strip(overNats), strip(inProcess));
  for (const slug of ['full-seed0', 'frozen-embeddings-seed0']) {
    assert.deepEqual(probabilities(join(study.dir, 'nats'), slug), probabilities(join(study.dir, 'in-process'), slug));
  }
  for (const f of ['results.json', 'report.html', 'runs/full-seed0/curves.json', 'runs/full-seed0/submission.csv', 'ensembles/full/probabilities.csv', 'models/full-seed0/model.safetensors', 'models/full-seed0/spm.model']) {
    assert.ok(existsSync(join(study.dir, 'nats', f)), `${f} is written`);
  }
  // The page a real run wrote, as a user opens it.
  if (chromiumMissing() === null) {
    const page = await checkPage(join(study.dir, 'nats', 'report.html'), { measure: ['#results-table tbody tr', 'svg.chart'] });
    assert.deepEqual(page.errors, []);
    assert.deepEqual(page.failedRequests, []);
    const visible = (sel: string): number => (page.boxes[sel] ?? []).filter((b) => b.width > 0 && b.height > 0).length;
    assert.equal(visible('#results-table tbody tr'), 2, 'one table row per ablation');
    assert.equal(visible('svg.chart'), 1 + 2 * 2, 'the score chart, then a loss and a learning-rate chart per run');
    assert.ok(page.inkRatio > 0.02, 'the page is not blank');
  }
});

test('a trainer killed mid-phase-2 is retried, resumes from its checkpoint and predicts as an uninterrupted run', { timeout: 300_000 }, async () => {
  const study = await tinyStudy({ name: 'resume', ablations: [{ name: 'full' }], train: 40, training: { checkpointEverySteps: 2 } });
  const reference = await runLocalStudy({ file: study.jobFile, out: join(study.dir, 'reference'), inProcess: true });
  let killed = false;
  const out = join(study.dir, 'killed');
  const r = await runLocalStudy({
    file: study.jobFile,
    out,
    inProcess: true,
    onChild: (_run, attempt, pid) => {
      if (attempt !== 1) return;
      const ckptDir = join(out, 'work', 'full-seed0', 'checkpoints');
      const poll = setInterval(() => {
        const ckpts = existsSync(ckptDir) ? readdirSync(ckptDir).filter((n) => n.startsWith('ckpt-')) : [];
        const state = ckpts.length > 0 ? (JSON.parse(readFileSync(join(ckptDir, ckpts.at(-1)!, 'state.json'), 'utf8')) as { phase: string; stepInPhase: number }) : undefined;
        if (state?.phase === 'train' && state.stepInPhase >= 2) {
          clearInterval(poll);
          process.kill(pid, 'SIGKILL');
          killed = true;
        }
      }, 20);
      poll.unref();
    },
  });
  assert.ok(killed, 'the first attempt was killed after a phase-2 checkpoint');
  const run = r.results.runs[0]!;
  assert.equal(run.phase, 'Succeeded');
  assert.equal(run.attempts, 2);
  assert.equal(run.predictions.received, run.predictions.expected, 'every prediction counted once');
  const log = readFileSync(join(out, 'work', 'full-seed0', 'trainer.log'), 'utf8');
  assert.match(log, /resumed from checkpoint ckpt-\d+: phase train, step [2-9]/);
  const a = probabilities(out, 'full-seed0');
  const b = probabilities(join(study.dir, 'reference'), 'full-seed0');
  assert.equal(a.length, b.length);
  let maxDiff = 0;
  a.forEach((row, i) => row.forEach((p, j) => (maxDiff = Math.max(maxDiff, Math.abs(p - b[i]![j]!)))));
  assert.ok(maxDiff <= 1e-5, `resumed predictions differ by ${maxDiff}`);
  assert.equal(r.results.runs[0]!.mapAtK, reference.results.runs[0]!.mapAtK);
});

test('an invalid job file stops ablate run before anything starts, with the validation messages', async () => {
  const study = await tinyStudy({ name: 'invalid', ablations: [{ name: 'full' }, { name: 'full' }] });
  const r = await runCli(['run', study.jobFile, '--out', study.outDir, '--in-process']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /spec\.ablations/);
  assert.match(r.stderr, /unique|duplicate/i);
  assert.equal(existsSync(study.outDir), false, 'no output folder was created');
});

test('a model uri that names a file, not a folder, stops ablate run before anything starts, naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ablate-model-file-'));
  try {
    writeFileSync(join(dir, 'model.safetensors'), '');
    const job = { apiVersion: 'ablate.dev/v1alpha1', kind: 'FineTuneJob', metadata: { name: 'model-file' }, spec: { model: { uri: './model.safetensors' }, data: { train: { uri: './train.csv' }, validation: { uri: './validation.csv' } }, ablations: [{ name: 'full' }] } };
    writeFileSync(join(dir, 'job.yaml'), stringify(job));
    const r = await runCli(['run', join(dir, 'job.yaml'), '--out', join(dir, 'out'), '--in-process']);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes(`spec.model.uri: ./model.safetensors → ${join(dir, 'model.safetensors')} is a file; it must be the model's folder`), r.stderr);
    assert.equal(existsSync(join(dir, 'out', 'work')), false, 'nothing was written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a run whose dataset is broken fails with the CSV error; the other runs finish — one of them on two training files', { timeout: 300_000 }, async () => {
  const broken = 'id,prompt,A,B,C,D,E,answer\n1,What is it?,a,b,c,d,e,A\n2,"Unterminated,a,b,c,d,e,B\n';
  const extra = 'id,prompt,A,B,C,D,E,answer\nx1,Which planet is known as the red planet?,Venus,Mars,Jupiter,Saturn,Mercury,B\nx2,What is the chemical symbol for gold?,Ag,Fe,Au,Pb,Cu,C\n';
  const study = await tinyStudy({
    name: 'broken',
    ablations: [
      { name: 'full' },
      { name: 'with-broken', data: { train: { files: [{ uri: './train.csv' }, { uri: './broken.csv' }] } } },
      { name: 'two-files', data: { train: { files: [{ uri: './train.csv' }, { uri: './extra.csv' }] } } },
    ],
    files: { 'broken.csv': broken, 'extra.csv': extra },
  });
  const r = await runLocalStudy({ file: study.jobFile, out: study.outDir, inProcess: true });
  const byName = (n: string): (typeof r.results.runs)[number] & { message?: string } => r.results.runs.find((x) => x.ablation === n)!;
  assert.equal(byName('full').phase, 'Succeeded');
  assert.equal(byName('two-files').phase, 'Succeeded', 'a job whose training set is two files runs');
  const bad = byName('with-broken');
  assert.equal(bad.phase, 'Failed');
  assert.equal(bad.attempts, 1, 'a data error is not retried');
  assert.match(bad.message ?? '', /broken\.csv.*line 3|broken\.csv:3/);
  assert.deepEqual(
    r.results.training?.files.map((f) => [f.path.split('/').at(-1), f.questions]),
    [['train.csv', 16], ['broken.csv', 0], ['extra.csv', 2]],
    'the report lists the training files and their sizes',
  );
  assert.ok(existsSync(join(study.outDir, 'report.html')));
  assert.match(r.table, /failed/);
});
