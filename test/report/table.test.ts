import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateStudy } from '../../controller/aggregate/mod.js';
import { formatDelta, formatP, renderTable, type StudyResults } from '../../controller/report/mod.js';
import { seedAwareResults, studyResults } from './fixture.js';

/** The cells of the table line that starts with `label`, split on runs of 2+ spaces. */
function row(table: string, label: string): string[] {
  const line = table.split('\n').find((l) => l.startsWith(label));
  assert.ok(line, `no line starting with ${label} in:\n${table}`);
  return line.split(/ {2,}/).map((c) => c.trim());
}

test('table: one line per ablation with per-seed, mean ± std, ensemble, Δ [CI] and p', () => {
  const t = renderTable(studyResults());
  assert.deepEqual(row(t, 'ablation'), ['ablation', 'seed 0', 'seed 1', 'seed 2', 'mean ± std', 'ensemble', 'Δ vs full [95% CI]', 'p', 'p (Holm)', 'min Δ (80% power)']);
  assert.deepEqual(row(t, 'full'), ['full (baseline)', '0.613', '0.604', '0.621', '0.613 ± 0.008', '0.632', '—', '—', '—', '—']);
  assert.deepEqual(row(t, 'differential-lr'), ['differential-lr (best)', '0.632', '0.639', '0.627', '0.632 ± 0.006', '0.648', '+0.017 [+0.001, +0.033]', '0.020', '0.039', '0.024 (n≈820)']);
});

test('table: a failed run reads "failed" and is listed under the table', () => {
  const t = renderTable(studyResults());
  assert.deepEqual(row(t, 'frozen-embeddings').slice(0, 4), ['frozen-embeddings', '0.623', 'failed', '0.616']);
  assert.match(t, /1 of 9 runs have no score: frozen-embeddings\/seed 1 \(Failed, 3 attempts\)/);
});

test('table: numbers line up under their (right-aligned) headers', () => {
  const t = renderTable(studyResults());
  const lines = t.split('\n');
  const header = lines.find((l) => l.startsWith('ablation')) ?? '';
  const end = header.indexOf('ensemble') + 'ensemble'.length;
  const expected: Record<string, string> = { full: '0.632', 'frozen-embeddings': '0.628', 'differential-lr': '0.648' };
  for (const [name, value] of Object.entries(expected)) {
    const line = lines.find((l) => l.startsWith(name)) ?? '';
    assert.equal(line.slice(end - value.length, end), value, `${name}: ensemble not under its header:\n${header}\n${line}`);
  }
});

test('table: optional columns appear only when some ablation has them', () => {
  const r = studyResults();
  for (const a of r.ablations) {
    if (a.vsBaseline) {
      delete a.vsBaseline.pValueHolm;
      delete a.vsBaseline.minDetectable;
      delete a.vsBaseline.questionsNeeded;
    }
  }
  const t = renderTable(r);
  assert.doesNotMatch(t, /Holm|power/);
  assert.equal(row(t, 'ablation').length, 8);
});

test('table: baseline that is also best carries both marks; a tiny negative Δ has no sign', () => {
  const r = studyResults();
  r.best = { ablation: 'full', ensembleMapAtK: 0.6317 };
  const v = r.ablations[1]?.vsBaseline;
  assert.ok(v);
  v.delta = -0.0001;
  v.questionsNeeded = null;
  const t = renderTable(r);
  assert.equal(row(t, 'full')[0], 'full (baseline, best)');
  assert.match(row(t, 'frozen-embeddings')[6] ?? '', /^±0\.000 \[/);
  assert.equal(row(t, 'frozen-embeddings')[9], '0.024');
});

test('table: a study where every run failed renders dashes, not NaN', () => {
  const r: StudyResults = studyResults();
  for (const run of r.runs) Object.assign(run, { mapAtK: null, phase: 'Failed' });
  for (const a of r.ablations) {
    Object.assign(a, { seedMean: null, seedStd: null, seedMin: null, seedMax: null, ensembleMapAtK: null });
    delete a.vsBaseline;
  }
  r.best = null;
  const t = renderTable(r);
  assert.doesNotMatch(t, /NaN|null|undefined/);
  assert.equal(row(t, 'differential-lr')[0], 'differential-lr');
  assert.deepEqual(row(t, 'full'), ['full (baseline)', 'failed', 'failed', 'failed', '—', '—', '—', '—']);
  assert.match(t, /9 of 9 runs have no score/);
});

test('table: with seeds resampled, a second line under each comparison shows that CI, p and p (Holm); the legend says what it resamples', () => {
  const r = seedAwareResults();
  const t = renderTable(r);
  const lines = t.split('\n');
  const at = lines.findIndex((l) => l.startsWith('differential-lr'));
  assert.deepEqual(lines[at + 1]?.trim().split(/ {2,}/), ['↳ seeds resampled', '[-0.004, +0.040]', '0.079', '0.158']);
  // The seed-aware interval sits under the question-only one, right-aligned in the Δ column.
  const end = (lines[at] ?? '').indexOf('+0.033]') + '+0.033]'.length;
  assert.equal(lines[at + 1]?.slice(end - '+0.040]'.length, end), '+0.040]');
  assert.ok(!lines[lines.findIndex((l) => l.startsWith('full')) + 1]?.includes('seeds resampled'), 'the baseline has no second line');
  assert.match(t, /↳ seeds resampled: the same Δ with training-seed variance included — each of the 10000 resamples first draws one set of seeds with replacement, the same for the ablation and the baseline \(seeds are paired/);
  assert.doesNotMatch(t, /missing for/, 'every ablation has every seed: no pairing note');

  // One seed left: no interval, said in the cell and under the table.
  const frozen = r.ablations[1];
  assert.ok(frozen?.vsBaseline);
  delete frozen.vsBaseline.seedAware;
  frozen.seeds = [0];
  const one = renderTable(r);
  const i = one.split('\n').findIndex((l) => l.startsWith('frozen-embeddings'));
  assert.deepEqual(one.split('\n')[i + 1]?.trim().split(/ {2,}/), ['↳ seeds resampled', '— (1 seed)', '—', '—']);
  assert.match(one, /not estimable for frozen-embeddings: seed variance cannot be estimated from one seed/);
});

test('table: with seeds resampled, a seed that only one side trained is named under the table with the seeds it was paired on', () => {
  const r = seedAwareResults();
  const [full, frozen, differential] = r.ablations;
  assert.ok(full && frozen?.vsBaseline && differential?.vsBaseline);
  differential.seeds = [0, 1];
  const t = renderTable(r);
  assert.match(t, /↳ seeds resampled, differential-lr: seed 2 missing for differential-lr: paired on seeds 0, 1\./);
  assert.doesNotMatch(t, /frozen-embeddings: seed/);
  // The baseline lacking seed 0 touches every comparison; one seed in common leaves no figure.
  full.seeds = [1, 2];
  frozen.seeds = [0, 1];
  differential.seeds = [0, 1, 2, 3];
  delete frozen.vsBaseline.seedAware;
  const u = renderTable(r);
  assert.match(u, /↳ seeds resampled, differential-lr: seeds 0, 3 missing for full: paired on seeds 1, 2\./);
  const lines = u.split('\n');
  assert.deepEqual(lines[lines.findIndex((l) => l.startsWith('frozen-embeddings')) + 1]?.trim().split(/ {2,}/), ['↳ seeds resampled', '— (1 common seed)', '—', '—']);
  assert.match(u, /not estimable for frozen-embeddings: .*at least 2 seeds that both the ablation and the baseline trained successfully/);
});

test('table: without resampleSeeds there is no second line and no seed-aware legend', () => {
  const t = renderTable(studyResults());
  assert.doesNotMatch(t, /seeds resampled/);
  assert.equal(t.split('\n').filter((l) => l.startsWith('differential-lr')).length, 1);
});

test('table: a study aggregated with resampleSeeds shows its own seed-aware figures on the second lines', () => {
  const n = 300;
  let s = 7;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const names = ['full', 'frozen-embeddings', 'differential-lr'];
  const runs = names.flatMap((ablation, a) =>
    [0, 1, 2].map((seed) => ({ ablation, seed, probs: Float32Array.from({ length: n * 4 }, (_, i) => rand() + (i % 4 === 0 ? 0.3 + 0.1 * a : 0)) })),
  );
  const bootstrap = { resamples: 500, confidence: 0.95, seed: 0, resampleSeeds: true };
  const agg = aggregateStudy({ questionIds: Array.from({ length: n }, (_, i) => `q${i}`), answers: new Int32Array(n), options: 4, runs, baseline: 'full', bootstrap });
  const base = studyResults();
  const results: StudyResults = {
    ...base,
    evaluation: { ...base.evaluation, bootstrap },
    runs: base.runs.map((r) => ({ ...r, mapAtK: agg.summary.runs.find((x) => x.ablation === r.ablation && x.seed === r.seed)?.mapAtK ?? null })),
    ablations: agg.summary.ablations.map((a) => ({ ...a, files: { probabilities: null, submission: null } })),
    best: agg.summary.best,
  };
  const lines = renderTable(results).split('\n');
  for (const a of results.ablations.slice(1)) {
    const sa = a.vsBaseline?.seedAware;
    assert.ok(sa);
    const next = lines[lines.findIndex((l) => l.startsWith(a.name)) + 1] ?? '';
    assert.deepEqual(next.trim().split(/ {2,}/), ['↳ seeds resampled', `[${formatDelta(sa.ciLow)}, ${formatDelta(sa.ciHigh)}]`, formatP(sa.pValue), formatP(sa.pValueHolm)]);
  }
});
