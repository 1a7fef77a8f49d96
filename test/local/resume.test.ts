// `ablate run --resume`: Ctrl-C keeps every finished run and the others' checkpoints, `--resume`
// trains only what is left and gives the uninterrupted study's numbers; a changed evaluation keeps
// every run, a changed training field retrains (saying which field), a corrupted result file is
// named and only its run runs again; an existing study is never overwritten without a flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ablateCommand } from '../../common/mod.js';
import { runLocalStudy, type StudyResults } from '../../controller/mod.js';
import { runCli } from '../support/cli.js';
import { tinyStudy } from '../support/tiny-study.js';

const results = (out: string): StudyResults => JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as StudyResults;
const trainerLog = (out: string, slug: string): string => readFileSync(join(out, 'work', slug, 'trainer.log'), 'utf8');
const attempts = (out: string, slug: string): number => trainerLog(out, slug).split('\n').filter((l) => l.startsWith('--- attempt')).length;
/** The log messages of a CLI run (JSON lines on stderr). */
const messages = (stderr: string): string[] =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => (JSON.parse(l) as { msg: string }).msg);

function editJob(jobFile: string, edit: (spec: Record<string, Record<string, unknown>>) => void): void {
  const job = parse(readFileSync(jobFile, 'utf8')) as { spec: Record<string, Record<string, unknown>> };
  edit(job.spec);
  writeFileSync(jobFile, stringify(job));
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Resolves when `check` holds, polling every 50 ms. */
async function until(check: () => boolean, what: string, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('Ctrl-C keeps the finished run; a plain rerun is refused; --resume trains only the rest and matches an uninterrupted study', { timeout: 600_000 }, async () => {
  // One run at a time; the second ablation trains long enough to be stopped mid-phase-2.
  const study = await tinyStudy({ name: 'interrupt', ablations: [{ name: 'full' }, { name: 'long', training: { epochs: 8 } }], execution: { parallelism: 1 } });
  const reference = await runLocalStudy({ file: study.jobFile, out: join(study.dir, 'reference'), inProcess: true });
  const out = study.outDir;

  // `ablate run` in its own process group, interrupted as a terminal's Ctrl-C does (the whole group).
  const [cmd, ...base] = ablateCommand();
  const child = spawn(cmd, [...base, 'run', study.jobFile, '--out', out, '--in-process'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ABLATE_LOG_FORMAT: 'json' } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.resume();
  let ended = false;
  const exited = new Promise<number | null>((r) => child.on('close', (code) => ((ended = true), r(code))));
  const ckpts = join(out, 'work', 'long-seed0', 'checkpoints');
  await until(() => (assert.equal(ended, false, stderr), existsSync(join(out, 'work', 'full-seed0', 'result.json'))) && existsSync(ckpts) && readdirSync(ckpts).some((n) => n.startsWith('ckpt-')), 'the first run to finish and the second to checkpoint');
  process.kill(-child.pid!, 'SIGINT');
  const code = await exited;
  assert.equal(code, 130, stderr);
  assert.match(stderr, new RegExp(escape(`ablate: interrupted: 1 of 2 runs finished and kept; continue with ablate run ${study.jobFile} --out ${out} --resume`)));
  assert.match(trainerLog(out, 'long-seed0'), /stop requested: checkpointed at train step \d+/, 'the stopped trainer checkpointed');
  assert.equal(existsSync(join(out, 'results.json')), false, 'nothing was aggregated');

  // Without --resume the folder is left alone, and the message names it and both choices.
  const refused = await runCli(['run', study.jobFile, '--out', out, '--in-process']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, new RegExp(escape(`ablate: ${out} already holds an unfinished study (1 of 2 runs finished); nothing was changed`)));
  assert.match(refused.stderr, /--resume`/);
  assert.match(refused.stderr, /--fresh`/);
  assert.ok(existsSync(join(out, 'work', 'full-seed0', 'result.json')), 'the finished run is still there');

  const resumed = await runCli(['run', study.jobFile, '--out', out, '--in-process', '--resume'], { timeoutMs: 300_000 });
  assert.equal(resumed.code, 0, resumed.stderr);
  const said = messages(resumed.stderr);
  assert.ok(said.includes('full/0 kept from the previous invocation (attempt 1)'), said.join('\n'));
  assert.ok(said.includes('long/0 resumes from its checkpoints'), said.join('\n'));
  assert.equal(attempts(out, 'full-seed0'), 1, 'the finished run did not train again');
  assert.equal(attempts(out, 'long-seed0'), 2, 'the stopped run trained once more');
  assert.match(trainerLog(out, 'long-seed0'), /resumed from checkpoint ckpt-\d+: phase train, step [1-9]/);
  const r = results(out);
  const ref = reference.results;
  assert.deepEqual(
    r.runs.map((x) => [x.ablation, x.phase, x.mapAtK, x.predictions.received]),
    ref.runs.map((x) => [x.ablation, x.phase, x.mapAtK, x.predictions.received]),
  );
  assert.deepEqual(r.ablations.map((a) => a.ensembleMapAtK), ref.ablations.map((a) => a.ensembleMapAtK));
  assert.ok(existsSync(join(out, 'report.html')));
});

test('--resume after a finished study: a changed evaluation keeps every run, a corrupted result retrains only its run, a changed training field retrains all, saying why', { timeout: 600_000 }, async () => {
  const study = await tinyStudy({ name: 'changes' });
  const out = study.outDir;
  const run = (...flags: string[]): ReturnType<typeof runCli> => runCli(['run', study.jobFile, '--out', out, '--in-process', ...flags], { timeoutMs: 300_000 });
  const first = await run();
  assert.equal(first.code, 0, first.stderr);
  const before = results(out);

  const again = await run();
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already holds a finished study \(2 of 2 runs finished\); nothing was changed\. Continue it with `.* --resume` .* or start over with `.* --fresh`/);

  // evaluation.k only changes the aggregation: nothing trains, the table is recomputed.
  editJob(study.jobFile, (spec) => (spec['evaluation'] = { k: 1 }));
  const reaggregated = await run('--resume');
  assert.equal(reaggregated.code, 0, reaggregated.stderr);
  assert.deepEqual(messages(reaggregated.stderr).filter((m) => m.includes('kept from the previous invocation')).sort(), ['frozen-embeddings/0 kept from the previous invocation (attempt 1)', 'full/0 kept from the previous invocation (attempt 1)']);
  assert.deepEqual([attempts(out, 'full-seed0'), attempts(out, 'frozen-embeddings-seed0')], [1, 1]);
  const k1 = results(out);
  assert.equal(k1.k, 1);
  k1.runs.forEach((x, i) => assert.ok(x.mapAtK! <= before.runs[i]!.mapAtK!, 'MAP@1 ≤ MAP@3 of the same predictions'));

  // A damaged result file is named; only its run runs again (re-evaluating from its checkpoint).
  const damaged = join(out, 'work', 'full-seed0', 'result.json');
  writeFileSync(damaged, readFileSync(damaged, 'utf8').slice(0, 100));
  const repaired = await run('--resume');
  assert.equal(repaired.code, 0, repaired.stderr);
  assert.ok(messages(repaired.stderr).some((m) => m.startsWith(`full/0: cannot use ${damaged}: is not valid JSON`)), repaired.stderr);
  assert.deepEqual([attempts(out, 'full-seed0'), attempts(out, 'frozen-embeddings-seed0')], [2, 1]);
  assert.match(trainerLog(out, 'full-seed0').split('--- attempt').at(-1)!, /resumed from checkpoint/);
  assert.deepEqual(results(out).runs.map((x) => x.mapAtK), k1.runs.map((x) => x.mapAtK));

  // A training field is shared by every run: all of them start clean, and the log says why.
  editJob(study.jobFile, (spec) => (spec['training']!['learningRate'] = { value: 5e-4 }));
  const retrained = await run('--resume');
  assert.equal(retrained.code, 0, retrained.stderr);
  const said = messages(retrained.stderr);
  for (const key of ['full/0', 'frozen-embeddings/0']) assert.ok(said.includes(`${key} starts clean: training.learningRate changed`), said.join('\n'));
  assert.deepEqual([attempts(out, 'full-seed0'), attempts(out, 'frozen-embeddings-seed0')], [3, 2]);
  assert.doesNotMatch(trainerLog(out, 'full-seed0').split('--- attempt').at(-1)!, /resumed from checkpoint/);
  assert.ok(results(out).runs.every((x) => x.phase === 'Succeeded'));

  // --fresh starts over.
  const fresh = await run('--fresh');
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.deepEqual([attempts(out, 'full-seed0'), attempts(out, 'frozen-embeddings-seed0')], [1, 1]);
});
