import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  readResults,
  renderReportHtml,
  ReportTargetError,
  ResultsNotFoundError,
  ResultsParseError,
  ResultsShapeError,
  writeReport,
} from '../../controller/report/mod.js';
import { runCurves, seedAwareResults, studyResults, writeStudy } from './fixture.js';

function allCurves() {
  return studyResults()
    .runs.filter((r) => r.mapAtK !== null)
    .map((r) => runCurves(r.ablation, r.seed));
}

test('html: self-contained — no scripts, no external src/href, a CSP that forbids fetching', () => {
  const html = renderReportHtml(studyResults(), allCurves());
  assert.doesNotMatch(html, /<script|<link|@import|url\(/i);
  assert.doesNotMatch(html, /(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
});

test('html: the table values, marks and failed run are on the page', () => {
  const html = renderReportHtml(studyResults(), allCurves());
  for (const v of ['0.613 ± 0.008', '+0.017 [+0.001, +0.033]', '0.024 (n≈820)', '0.039', '0.648']) assert.ok(html.includes(v), `missing ${v}`);
  assert.match(html, /<tr class="baseline" data-ablation="full"/);
  assert.match(html, /<tr class="best" data-ablation="differential-lr"/);
  assert.match(html, /<td class="num failed">failed<\/td>/);
});

test('html: one SVG for the score chart and a loss and a learning-rate chart per run with curves', () => {
  const results = studyResults();
  const curves = allCurves();
  const html = renderReportHtml(results, curves);
  const svgs = html.match(/<svg /g) ?? [];
  assert.equal(svgs.length, 1 + 2 * curves.length);
  assert.match(html, /aria-label="Ensemble MAP@3 per ablation"/);
  assert.equal((html.match(/aria-label="Training loss, /g) ?? []).length, curves.length);
  assert.equal((html.match(/aria-label="Learning rate per parameter group, /g) ?? []).length, curves.length);
  // The failed run has no curves; the page says so instead of drawing an empty chart.
  assert.match(html, /frozen-embeddings · seed 1<\/h3><p class="meta">No training curves recorded \(the run failed\)/);
});

test('html: per-layer learning rates are drawn one line each; frozen groups are named, not drawn', () => {
  const c = runCurves('differential-lr', 0);
  const r = studyResults();
  const html = renderReportHtml(r, [c]);
  const lr = html.slice(html.indexOf('aria-label="Learning rate per parameter group, differential-lr · seed 0"'));
  const chart = lr.slice(0, lr.indexOf('</svg>'));
  const groups = Object.keys(c.points[0]?.learningRates ?? {}).filter((g) => g !== 'embeddings.word_embeddings');
  assert.equal((chart.match(/<polyline /g) ?? []).length, groups.length);
  assert.match(lr, /Frozen throughout \(rate 0, not drawn\): embeddings\.word_embeddings/);
});

test('html: the score chart puts the Δ interval on the baseline scale', () => {
  const html = renderReportHtml(studyResults(), []);
  // differential-lr: baseline 0.6317 + [0.0008, 0.0325] = [0.6325, 0.6642].
  assert.match(html, /CI of Δ \[0\.633, 0\.664\] on the baseline&#39;s scale, p 0\.020/);
});

test('html: training-set composition lists files, counts and shares', () => {
  const html = renderReportHtml(studyResults(), []);
  assert.match(html, /<code>extra\/generated\.csv<\/code><\/td><td class="num">500<\/td><td class="num">25\.0%<\/td>/);
  const r = studyResults();
  delete r.training;
  assert.doesNotMatch(renderReportHtml(r, []), /id="training-data"/);
});

test('html: text from the results is escaped', () => {
  const r = studyResults();
  r.job = 'x<script>alert(1)</script>&"';
  const html = renderReportHtml(r, []);
  assert.doesNotMatch(html, /<script>/);
  assert.match(html, /x&lt;script&gt;alert\(1\)&lt;\/script&gt;&amp;&quot;/);
});

test('writeReport: reads results.json and curves, writes report.html, returns the table', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ablate-report-'));
  try {
    await writeStudy(dir);
    const w = await writeReport(dir);
    assert.equal(w.path, join(dir, 'report.html'));
    const html = await readFile(w.path, 'utf8');
    assert.equal((html.match(/<svg /g) ?? []).length, 1 + 2 * 8);
    assert.match(w.table, /^differential-lr \(best\)/m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('readResults: missing, non-JSON and misshapen files each raise their own error naming the place', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ablate-report-'));
  try {
    await assert.rejects(readResults(dir), ResultsNotFoundError);
    await writeFile(join(dir, 'results.json'), '{"job": ');
    await assert.rejects(readResults(dir), ResultsParseError);
    const bad = studyResults() as unknown as { runs: Array<Record<string, unknown>> };
    (bad.runs[4] as Record<string, unknown>)['mapAtK'] = 'high';
    await writeFile(join(dir, 'results.json'), JSON.stringify(bad));
    await assert.rejects(readResults(dir), (e: unknown) => {
      assert.ok(e instanceof ResultsShapeError);
      assert.equal(e.field, '$.runs[4].mapAtK');
      assert.equal(e.value, 'high');
      assert.match(e.message, /results\.json: \$\.runs\[4\]\.mapAtK must be a number or null, got "high"/);
      return true;
    });
    await assert.rejects(writeReport(join(dir, 'results.json')), ReportTargetError);
    // questionsNeeded is null when Δ is 0 (docs/results.md): valid, shown without a count.
    const zero = studyResults();
    const v = zero.ablations[1]?.vsBaseline;
    assert.ok(v);
    Object.assign(v, { delta: 0, questionsNeeded: null });
    await writeFile(join(dir, 'results.json'), JSON.stringify(zero));
    assert.equal((await readResults(dir)).ablations[1]?.vsBaseline?.questionsNeeded, null);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('html: with seeds resampled, a second table row and a dashed interval per comparison, explained in the caption', async () => {
  const html = renderReportHtml(seedAwareResults(), []);
  assert.match(html, /<tr class="seed-aware" data-seed-aware="differential-lr"[^>]*><td class="sub">↳ seeds resampled<\/td><td colspan="5"><\/td><td class="num">\[-0\.004, \+0\.040\]<\/td><td class="num">0\.079<\/td><td class="num">0\.158<\/td><td><\/td><\/tr>/);
  assert.doesNotMatch(html, /data-seed-aware="full"/);
  // differential-lr: baseline 0.6317 + [-0.0041, 0.0402] = [0.6276, 0.6719].
  assert.match(html, /<g class="interval seed-aware"[^>]*><title>differential-lr, seeds resampled too: 95% CI of Δ \[0\.628, 0\.672\] on the baseline&#39;s scale, p 0\.079/);
  assert.match(html, /Thin dashed bars just left of them: the same interval with the training seeds resampled too \(each resample draws one set of seeds with replacement, the same for the ablation and the baseline,/);
  assert.match(html, /seed 0, and again with the training seeds resampled<\/p>/);
  assert.doesNotMatch(renderReportHtml(studyResults(), []), /class="(interval )?seed-aware"|seeds resampled/);

  // results.json round trip: the field is read back, and a misshapen one is named.
  const dir = await mkdtemp(join(tmpdir(), 'ablate-report-'));
  try {
    await writeFile(join(dir, 'results.json'), JSON.stringify(seedAwareResults()));
    assert.equal((await readResults(dir)).ablations[2]?.vsBaseline?.seedAware?.pValueHolm, 0.1582);
    const bad = seedAwareResults() as unknown as { ablations: Array<{ vsBaseline?: { seedAware?: Record<string, unknown> } }> };
    (bad.ablations[2]?.vsBaseline?.seedAware as Record<string, unknown>)['ciHigh'] = 'wide';
    await writeFile(join(dir, 'results.json'), JSON.stringify(bad));
    await assert.rejects(readResults(dir), (e: unknown) => e instanceof ResultsShapeError && e.field === '$.ablations[2].vsBaseline.seedAware.ciHigh');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
