// The power figures a study computes (vsBaseline.minDetectable and questionsNeeded) reach the
// reader: in the terminal table and in report.html, each comparison's cell and the note that says
// what the column means. The numbers themselves are checked in test/aggregate/power.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aggregateStudy, formatScore, writeReport, type StudyResults } from '../../controller/mod.js';
import { studyResults, writeStudy } from '../report/fixture.js';

/** Seeded uniform numbers in [0, 1) (a 32-bit LCG): the same synthetic study every run. */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

test('the table and report.html show each comparison’s minimum detectable Δ and questions needed', async () => {
  // Three ablations × two seeds on 400 questions; each ablation's runs favour the answer by a different margin.
  const n = 400;
  const c = 5;
  const rand = uniform(9);
  const answers = Array.from({ length: n }, () => Math.floor(rand() * c));
  const ids = answers.map((_, i) => `q${i}`);
  const names = ['full', 'frozen-embeddings', 'differential-lr'];
  const runs = names.flatMap((ablation, a) =>
    [0, 1].map((seed) => {
      const probs = new Float32Array(n * c);
      for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) probs[i * c + j] = rand() + (j === answers[i] ? 0.5 + 0.1 * a : 0);
      return { ablation, seed, probs };
    }),
  );
  const agg = aggregateStudy({ questionIds: ids, answers, options: c, runs, ablations: names, baseline: 'full', bootstrap: { resamples: 500 } });
  const base = studyResults();
  const results: StudyResults = {
    ...base,
    validation: { ...base.validation, questions: n },
    runs: base.runs.filter((r) => r.seed < 2).map((r) => ({ ...r, mapAtK: agg.summary.runs.find((x) => x.ablation === r.ablation && x.seed === r.seed)?.mapAtK ?? null })),
    ablations: agg.summary.ablations.map((a) => ({ ...a, files: { probabilities: null, submission: null } })),
    best: agg.summary.best,
  };
  const compared = results.ablations.filter((a) => a.vsBaseline !== undefined);
  assert.equal(compared.length, 2);
  const dir = await mkdtemp(join(tmpdir(), 'ablate-power-report-'));
  await writeStudy(dir, results);
  const written = await writeReport(dir);
  const html = await readFile(written.path, 'utf8');
  assert.match(written.table, /min Δ \(80% power\)/);
  assert.match(html, /<th>min Δ \(80% power\)<\/th>/);
  for (const a of compared) {
    const v = a.vsBaseline!;
    assert.equal(typeof v.minDetectable, 'number');
    const cell = v.questionsNeeded === null || v.questionsNeeded === undefined ? formatScore(v.minDetectable) : `${formatScore(v.minDetectable)} (n≈${Math.round(v.questionsNeeded)})`;
    const line = written.table.split('\n').find((l) => l.startsWith(a.name));
    assert.ok(line?.trimEnd().endsWith(cell), `table row of ${a.name} ends with ${cell}: ${line}`);
    assert.match(html, new RegExp(`data-ablation="${a.name}"[^\\n]*<td class="num">${cell.replace(/[()]/g, '\\$&')}</td></tr>`));
  }
  const note = `min Δ (80% power): the smallest Δ these ${n} questions detect 80% of the time`;
  assert.ok(written.table.includes(note));
  assert.ok(html.includes(note));
});
