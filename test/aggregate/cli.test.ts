import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { writeProbabilitiesCsv } from '../../trainer/data/mod.js';

let dir = '';
const p = (name: string) => join(dir, name);

// Answers: q1..q8 with these letters.
const ANSWERS = ['A', 'A', 'A', 'A', 'B', 'A', 'C', 'D'];
// One case per rule; score at k = 3 in the comment.
const SUBMISSION = [
  'id,prediction',
  'q1,A B C', // 1
  'q2,A A A', // duplicate correct label: 1
  'q3,B B A', // repeated wrong label uses a rank: 1/3
  'q4,B C D A', // past k: 0
  'q5,C B', // fewer than k: 1/2
  'q6,', // blank: 0
  'q7,c a b', // lowercase: 0 (exact comparison, warned)
  // q8 missing: 0
  'zz,A', // unknown id: ignored, warned
].join('\n');
const MAP3 = (1 + 1 + 1 / 3 + 0 + 1 / 2 + 0 + 0 + 0) / 8;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ablate-score-'));
  const rows = ANSWERS.map((a, i) => `q${i + 1},Question ${i + 1}?,a,b,c,d,e,${a}`);
  await writeFile(p('val.csv'), `id,prompt,A,B,C,D,E,answer\n${rows.join('\n')}\n`);
  await writeFile(p('answers.csv'), `id,answer\n${ANSWERS.map((a, i) => `q${i + 1},${a.toLowerCase()}`).join('\n')}\n`);
  await writeFile(p('sub.csv'), `${SUBMISSION}\n`);
  await writeFile(p('perfect.csv'), `id,prediction\n${ANSWERS.map((a, i) => `q${i + 1},${a}`).join('\n')}\n`);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('ablate score --json: Kaggle MAP@3 of a submission; unknown ids, lowercase and missing ids warned on stderr', async () => {
  const r = await runCli(['score', '--predictions', p('sub.csv'), '--answers', p('val.csv'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, number>;
  assert.deepEqual(Object.keys(out), ['mapAtK', 'k', 'questions']);
  assert.ok(Math.abs((out['mapAtK'] ?? NaN) - MAP3) < 1e-12, r.stdout);
  assert.equal(out['k'], 3);
  assert.equal(out['questions'], 8);
  assert.match(r.stderr, /1 prediction ids are not in/);
  assert.match(r.stderr, /lowercase/);
  assert.match(r.stderr, /1 questions have no prediction/);
});

test('ablate score: --k, an id,answer file with lowercase letters, a probabilities file, human output', async () => {
  // Probabilities: q1..q4 rank the answer 1st, q5..q8 rank it 2nd (ties resolved by option order).
  const probs = new Float32Array(8 * 5).fill(0.1);
  ANSWERS.forEach((a, i) => {
    const j = a.charCodeAt(0) - 65;
    probs[i * 5 + j] = i < 4 ? 0.6 : 0.2;
    if (i >= 4) probs[i * 5 + ((j + 1) % 5)] = 0.5;
  });
  await writeProbabilitiesCsv(p('probs.csv'), ANSWERS.map((_, i) => `q${i + 1}`), ['A', 'B', 'C', 'D', 'E'], probs);
  // Independent invocations run side by side: each pays the CLI's start-up.
  const [h, k1, bad] = await Promise.all([
    runCli(['score', '--predictions', p('probs.csv'), '--answers', p('val.csv')]),
    // At k = 1 the second-ranked answers no longer count; answers here come lowercase from id,answer.
    runCli(['score', '--predictions', p('probs.csv'), '--answers', p('answers.csv'), '--k', '1']),
    runCli(['score', '--predictions', p('sub.csv'), '--answers', p('val.csv'), '--k', '0']),
  ]);
  assert.equal(h.code, 0, h.stderr);
  assert.equal(h.stdout, `MAP@3 ${((4 + 4 * 0.5) / 8).toFixed(4)} over 8 questions\n`);
  assert.equal(k1.code, 0, k1.stderr);
  assert.equal(k1.stdout, 'MAP@1 0.5000 over 8 questions\n');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--k must be a positive integer, got 0/);
});

test('ablate compare: JSON carries exactly delta/CI/p; the words say whether the CI excludes 0', async () => {
  const [j, h, same] = await Promise.all([
    runCli(['compare', '--baseline', p('sub.csv'), '--candidate', p('perfect.csv'), '--answers', p('val.csv'), '--resamples', '2000', '--json']),
    runCli(['compare', '--baseline', p('sub.csv'), '--candidate', p('perfect.csv'), '--answers', p('val.csv'), '--resamples', '2000']),
    runCli(['compare', '--baseline', p('sub.csv'), '--candidate', p('sub.csv'), '--answers', p('val.csv'), '--resamples', '500', '--confidence', '0.9']),
  ]);
  assert.equal(j.code, 0, j.stderr);
  const out = JSON.parse(j.stdout) as Record<string, number>;
  assert.deepEqual(Object.keys(out), ['delta', 'ciLow', 'ciHigh', 'pValue']);
  assert.ok(Math.abs((out['delta'] ?? NaN) - (1 - MAP3)) < 1e-12);
  assert.ok((out['ciLow'] ?? 0) > 0 && (out['ciHigh'] ?? 0) <= 1);
  assert.equal(h.code, 0, h.stderr);
  assert.match(h.stdout, /CI excludes 0: the candidate is better than the baseline/);
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout, /delta \+0\.0000 {2}90% CI \[\+0\.0000, \+0\.0000\]/);
  assert.match(same.stdout, /CI includes 0/);
});

test('ablate plan: the answer and its assumptions; bad input names the flag', async () => {
  const [j, h, bad] = await Promise.all([
    runCli(['plan', '--questions', '1000', '--map', '0.74', '--delta', '0.01', '--json']),
    runCli(['plan', '--questions', '1000', '--map', '0.74', '--delta', '0.01', '--correlation', '0.9']),
    runCli(['plan', '--questions', '1000', '--map', '0.74', '--delta', '0.01', '--seed-std', '-1']),
  ]);
  assert.equal(j.code, 0, j.stderr);
  const plan = JSON.parse(j.stdout) as { questionsNeeded: number; minDetectable: number; assumptions: string[] };
  assert.equal(plan.questionsNeeded, 4771);
  assert.ok(plan.assumptions.length >= 3);
  assert.equal(h.code, 0, h.stderr);
  assert.match(h.stdout, /you need about \d+ questions/);
  assert.match(h.stdout, /Assumptions:\n( {2}- .+\n){3,}$/);
  assert.match(h.stdout, /correlation 0\.9 between/);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--seed-std must be ≥ 0/);
});
