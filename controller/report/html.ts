// report.html: one self-contained page (inline CSS, inline SVG, no script, no external request)
// with the results table, the ensemble chart, training-set composition, and per-run loss and
// learning-rate curves. A Content-Security-Policy meta tag makes the browser refuse any request
// the page might make by mistake, so "opens offline" is enforced, not hoped for.
import { esc, groupColor, lineChart, PALETTE, scoreChart, type Band, type ScoreColumn } from './svg.js';
import { FAILED, formatConfidence, formatScore, rowLabel, tableModel, type TableModel } from './table.js';
import type { CurvePoint, RunCurves, StudyResults } from './types.js';

const CSS = `
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; }
body { margin: 0; background: #fff; }
main { max-width: 1320px; margin: 0 auto; padding: 20px 28px 48px; }
h1 { font-size: 1.5rem; margin: 0 0 4px; }
h2 { font-size: 1.15rem; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: .95rem; margin: 0 0 4px; font-weight: 600; }
.meta { color: #555; font-size: .9rem; margin: 2px 0; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: .85em; }
table { border-collapse: collapse; font-size: .9rem; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e4e4e4; text-align: right; white-space: nowrap; }
th { background: #f5f5f5; font-weight: 600; }
th:first-child, td:first-child { text-align: left; }
td.num { font-variant-numeric: tabular-nums; }
tr.baseline td { background: #f6f8fb; }
tr.best td:first-child { font-weight: 700; }
tr.seed-aware td { color: #555; font-size: .85rem; border-bottom-style: dashed; }
tr.seed-aware td.sub { padding-left: 26px; }
td.failed { color: #b00020; font-weight: 600; }
.mark { display: inline-block; font-size: .72rem; padding: 0 5px; margin-left: 6px; border-radius: 3px; color: #fff; vertical-align: 1px; }
.mark.baseline { background: #5a6b86; }
.mark.best { background: #1b7f3b; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 6px; vertical-align: 0; }
ul.notes { color: #555; font-size: .85rem; padding-left: 18px; }
figure { margin: 0; }
figcaption { color: #555; font-size: .82rem; max-width: 760px; margin-top: 4px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(400px, 1fr)); gap: 18px 22px; }
.legend-list { display: flex; flex-wrap: wrap; gap: 2px 12px; font-size: .75rem; color: #444; margin-top: 2px; }
svg.chart { display: block; overflow: visible; }
svg.chart text { font-size: 11px; fill: #444; }
svg.chart .axis { stroke: #888; }
svg.chart .gridline { stroke: #eee; }
svg.chart .axis-label { font-size: 11px; fill: #333; }
svg.chart .band { fill: #f2efe6; }
svg.chart .band-label { font-size: 10px; fill: #8a7f5e; }
svg.chart .series { stroke-width: 1.6; }
svg.chart .baseline { stroke: #5a6b86; stroke-dasharray: 5 4; stroke-width: 1.2; }
svg.chart .interval line { stroke-width: 2.2; }
svg.chart .interval.seed-aware line { stroke-width: 1.4; stroke-dasharray: 3 2; }
svg.chart .seed { fill: #fff; stroke-width: 1.5; }
svg.chart .category { font-size: 12px; fill: #222; }
svg.chart .value { font-size: 11px; fill: #222; font-weight: 600; }
svg.chart .p-label { font-size: 10px; fill: #555; }
svg.chart .empty { fill: #999; font-style: italic; }
`;

function resultsTable(m: TableModel): string {
  const head = ['ablation', ...m.seeds.map((s) => `seed ${s}`), 'mean ± std', 'ensemble', m.deltaHeader, 'p'];
  if (m.hasHolm) head.push('p (Holm)');
  if (m.hasPower) head.push('min Δ (80% power)');
  const rows = m.rows.map((r, i) => {
    const marks = (r.isBaseline ? '<span class="mark baseline">baseline</span>' : '') + (r.isBest ? '<span class="mark best">best</span>' : '');
    const swatch = `<span class="swatch" style="background:${PALETTE[i % PALETTE.length]}"></span>`;
    const cells = [
      `<td>${swatch}${esc(r.name)}${marks}</td>`,
      ...r.seeds.map((c) => `<td class="num${c.failed ? ' failed' : ''}">${esc(c.text)}</td>`),
      `<td class="num">${esc(r.meanStd)}</td>`,
      `<td class="num"><strong>${esc(r.ensemble)}</strong></td>`,
      `<td class="num">${esc(r.delta)}</td>`,
      `<td class="num">${esc(r.p)}</td>`,
    ];
    if (m.hasHolm) cells.push(`<td class="num">${esc(r.pHolm)}</td>`);
    if (m.hasPower) cells.push(`<td class="num">${esc(r.power)}</td>`);
    const cls = [r.isBaseline ? 'baseline' : '', r.isBest ? 'best' : ''].filter(Boolean).join(' ');
    const main = `<tr${cls ? ` class="${cls}"` : ''} data-ablation="${esc(r.name)}" title="${esc(rowLabel(r))}">${cells.join('')}</tr>`;
    if (r.seedAware === undefined) return main;
    // A second row under the ablation's: the seed-aware CI and p-values under the question-only ones.
    const sub = [
      `<td class="sub">${esc(m.seedAwareLabel)}</td>`,
      `<td colspan="${r.seeds.length + 2}"></td>`,
      `<td class="num">${esc(r.seedAware.ci)}</td>`,
      `<td class="num">${esc(r.seedAware.p)}</td>`,
    ];
    if (m.hasHolm) sub.push(`<td class="num">${esc(r.seedAware.pHolm)}</td>`);
    if (m.hasPower) sub.push('<td></td>');
    return `${main}<tr class="seed-aware" data-seed-aware="${esc(r.name)}" title="${esc(`${r.name}: seeds resampled too`)}">${sub.join('')}</tr>`;
  });
  return `<table class="results" id="results-table"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function scoreSection(results: StudyResults): string {
  const baselineName = results.evaluation.baseline;
  const base = results.ablations.find((a) => a.name === baselineName)?.ensembleMapAtK ?? null;
  const conf = formatConfidence(results.evaluation.bootstrap.confidence);
  const columns: ScoreColumn[] = results.ablations.map((a, i) => {
    const v = a.vsBaseline;
    const seeds = [...new Set([...a.seeds, ...results.runs.filter((r) => r.ablation === a.name).map((r) => r.seed)])].sort((x, y) => x - y);
    return {
      name: a.name,
      color: PALETTE[i % PALETTE.length] as string,
      isBaseline: a.name === baselineName,
      ensemble: a.ensembleMapAtK,
      seeds: seeds.map((seed) => ({ seed, score: results.runs.find((r) => r.ablation === a.name && r.seed === seed)?.mapAtK ?? null })),
      ...(v !== undefined && base !== null ? { interval: { low: base + v.ciLow, high: base + v.ciHigh, p: v.pValue, delta: v.delta } } : {}),
      ...(v?.seedAware !== undefined && base !== null ? { seedAwareInterval: { low: base + v.seedAware.ciLow, high: base + v.seedAware.ciHigh, p: v.seedAware.pValue, delta: v.delta } } : {}),
    };
  });
  const seedAware = columns.some((c) => c.seedAwareInterval !== undefined);
  const label = `Ensemble MAP@${results.k} per ablation`;
  const chart = scoreChart(columns, { label, yLabel: `MAP@${results.k}`, baseline: base, confidence: conf });
  const caption =
    `Filled dot: the ${esc(results.evaluation.ensemble)} ensemble of the ablation's seeds; hollow dots: each seed alone. ` +
    `Bars: the ${conf} paired-bootstrap interval of the difference Δ to the baseline (${esc(baselineName)}), drawn on the MAP scale at ` +
    `baseline + Δ, so a bar that crosses the dashed baseline line is a difference the validation set cannot tell from zero. ` +
    `p is one-sided (share of resamples with Δ* ≤ 0).` +
    (seedAware
      ? ` Thin dashed bars just left of them: the same interval with the training seeds resampled too (each resample draws one set of seeds with replacement, the same for the ablation and the baseline, rebuilds both ensembles, then redraws the questions), so they include seed variance.`
      : '');
  return `<section id="scores"><h2>${esc(label)}</h2><figure>${chart}<figcaption>${caption}</figcaption></figure></section>`;
}

/** Contiguous stretches of one training phase, for shading. */
function phaseBands(points: CurvePoint[]): Band[] {
  const bands: Band[] = [];
  for (const p of points) {
    const last = bands[bands.length - 1];
    if (last !== undefined && last.label === p.phase) last.to = p.step;
    else bands.push({ from: p.step, to: p.step, label: p.phase });
  }
  // Only shade when the phases differ; alternate so neighbouring phases are distinguishable.
  return bands.length > 1 ? bands.filter((_, i) => i % 2 === 0) : [];
}

function runTitle(c: { ablation: string; seed: number }): string {
  return `${c.ablation} · seed ${c.seed}`;
}

function curveCaption(c: RunCurves): string {
  const last = c.points[c.points.length - 1];
  if (last === undefined) return '';
  const speeds = c.points.map((p) => p.examplesPerSecond).filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  const median = speeds[Math.floor(speeds.length / 2)];
  const parts = [`${last.step} of ${last.totalSteps} steps`, `epoch ${Number(last.epoch.toFixed(2))}`, `${(last.elapsedMs / 1000).toFixed(1)} s`];
  if (median !== undefined) parts.push(`median ${median.toFixed(1)} examples/s`);
  return parts.join(' · ');
}

function lossFigure(c: RunCurves, color: string): string {
  const chart = lineChart({
    label: `Training loss, ${runTitle(c)}`,
    xLabel: 'step',
    yLabel: 'loss',
    series: [{ name: `loss, ${runTitle(c)}`, color, points: c.points.filter((p) => p.loss !== null).map((p) => [p.step, p.loss as number]) }],
    bands: phaseBands(c.points),
  });
  return `<figure class="curve loss" data-run="${esc(runTitle(c))}"><h3>${esc(runTitle(c))}</h3>${chart}<figcaption>${esc(curveCaption(c))}</figcaption></figure>`;
}

function lrFigure(c: RunCurves): string {
  const groups: string[] = [];
  for (const p of c.points) for (const g of Object.keys(p.learningRates)) if (!groups.includes(g)) groups.push(g);
  const frozen = groups.filter((g) => c.points.every((p) => !((p.learningRates[g] ?? 0) > 0)));
  const drawn = groups.filter((g) => !frozen.includes(g));
  const series = drawn.map((g, i) => ({
    name: `${g}, ${runTitle(c)}`,
    color: groupColor(i, drawn.length),
    points: c.points.filter((p) => (p.learningRates[g] ?? 0) > 0).map((p): [number, number] => [p.step, p.learningRates[g] as number]),
  }));
  const chart = lineChart({ label: `Learning rate per parameter group, ${runTitle(c)}`, xLabel: 'step', yLabel: 'learning rate (log scale)', series, logY: true, bands: phaseBands(c.points) });
  const legend = drawn.map((g, i) => `<span><span class="swatch" style="background:${groupColor(i, drawn.length)}"></span>${esc(g)}</span>`).join('');
  const frozenNote = frozen.length > 0 ? `<figcaption>Frozen throughout (rate 0, not drawn): ${frozen.map(esc).join(', ')}.</figcaption>` : '';
  return `<figure class="curve lr" data-run="${esc(runTitle(c))}"><h3>${esc(runTitle(c))}</h3>${chart}<div class="legend-list">${legend}</div>${frozenNote}</figure>`;
}

function curvesSections(results: StudyResults, curves: RunCurves[]): string {
  if (results.runs.length === 0) return '';
  const colorOf = (ablation: string) => PALETTE[Math.max(0, results.ablations.findIndex((a) => a.name === ablation)) % PALETTE.length] as string;
  const loss: string[] = [];
  const lr: string[] = [];
  for (const run of results.runs) {
    const c = curves.find((x) => x.ablation === run.ablation && x.seed === run.seed);
    if (c === undefined || c.points.length === 0) {
      const why = `<p class="meta">No training curves recorded${run.phase === 'Failed' ? ' (the run failed)' : ''}.</p>`;
      loss.push(`<figure class="curve loss missing"><h3>${esc(runTitle(run))}</h3>${why}</figure>`);
      lr.push(`<figure class="curve lr missing"><h3>${esc(runTitle(run))}</h3>${why}</figure>`);
      continue;
    }
    loss.push(lossFigure(c, colorOf(run.ablation)));
    lr.push(lrFigure(c));
  }
  const lrNote =
    'One line per parameter group on a log scale: the warm-up ramp, the decay, and the ratio between groups (per-layer rates appear as a fan of parallel lines). Shaded: the first training phase, when it differs from the rest.';
  return (
    `<section id="loss"><h2>Training loss per run</h2><div class="grid">${loss.join('')}</div></section>` +
    `<section id="learning-rates"><h2>Learning rate per parameter group</h2><p class="meta">${esc(lrNote)}</p><div class="grid">${lr.join('')}</div></section>`
  );
}

function trainingSection(results: StudyResults): string {
  const files = results.training?.files;
  if (files === undefined || files.length === 0) return '';
  const total = files.reduce((s, f) => s + f.questions, 0);
  const rows = files.map((f) => `<tr><td><code>${esc(f.path)}</code></td><td class="num">${f.questions}</td><td class="num">${total > 0 ? ((100 * f.questions) / total).toFixed(1) : '0.0'}%</td></tr>`);
  rows.push(`<tr><td><strong>total</strong></td><td class="num"><strong>${total}</strong></td><td class="num">100%</td></tr>`);
  return `<section id="training-data"><h2>Training set</h2><table class="training"><thead><tr><th>file</th><th>questions</th><th>share</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function fileLink(path: string | null): string {
  return path === null ? '—' : `<a href="${esc(path)}">${esc(path.split('/').pop() ?? path)}</a>`;
}

function runsSection(results: StudyResults): string {
  const rows = results.runs.map((r) => {
    const failed = r.phase === 'Failed';
    return (
      `<tr><td>${esc(r.ablation)}</td><td class="num">${r.seed}</td><td${failed ? ' class="failed"' : ''}>${esc(r.phase)}</td><td class="num">${r.attempts}</td>` +
      `<td class="num">${r.predictions.received}/${r.predictions.expected}</td><td class="num${r.mapAtK === null && failed ? ' failed' : ''}">${esc(r.mapAtK === null && failed ? FAILED : formatScore(r.mapAtK))}</td>` +
      `<td>${fileLink(r.files.probabilities)}</td><td>${fileLink(r.files.submission)}</td><td>${fileLink(r.files.curves)}</td></tr>`
    );
  });
  const ens = results.ablations.map(
    (a) => `<tr><td>${esc(a.name)}</td><td>ensemble</td><td class="num">${esc(formatScore(a.ensembleMapAtK))}</td><td>${fileLink(a.files.probabilities)}</td><td>${fileLink(a.files.submission)}</td></tr>`,
  );
  return (
    `<section id="runs"><h2>Runs and files</h2><table class="runs"><thead><tr><th>ablation</th><th>seed</th><th>phase</th><th>attempts</th><th>predictions</th><th>MAP@${results.k}</th><th>probabilities</th><th>submission</th><th>curves</th></tr></thead><tbody>${rows.join('')}</tbody></table>` +
    `<h3 style="margin-top:14px">Ensembles</h3><table class="ensembles"><thead><tr><th>ablation</th><th>kind</th><th>MAP@${results.k}</th><th>probabilities</th><th>submission</th></tr></thead><tbody>${ens.join('')}</tbody></table></section>`
  );
}

/** The whole report page as one HTML string; `curves` are matched to runs by (ablation, seed). */
export function renderReportHtml(results: StudyResults, curves: RunCurves[]): string {
  const m = tableModel(results);
  const e = results.evaluation;
  const where = results.namespace === undefined ? '' : ` · namespace <code>${esc(results.namespace)}</code>`;
  const meta = [
    `<p class="meta">Written ${esc(results.createdAt)}${where}</p>`,
    `<p class="meta">Validation: <code>${esc(results.validation.path)}</code>, ${results.validation.questions} questions, sha256 <code>${esc(results.validation.sha256.slice(0, 12))}…</code></p>`,
    `<p class="meta">MAP@${results.k} · ${esc(e.ensemble)} ensemble · baseline <strong>${esc(e.baseline)}</strong> · paired bootstrap, ${e.bootstrap.resamples} resamples, ${esc(formatConfidence(e.bootstrap.confidence))} confidence, seed ${e.bootstrap.seed}${e.bootstrap.resampleSeeds === true ? ', and again with the training seeds resampled' : ''}</p>`,
  ].join('');
  const best = results.best === null ? '' : `<p class="meta">Best: <strong>${esc(results.best.ablation)}</strong>, ensemble MAP@${results.k} ${esc(formatScore(results.best.ensembleMapAtK))}</p>`;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(results.job)} — ablate report</title>`,
    `<style>${CSS}</style></head><body><main>`,
    `<header><h1>${esc(results.job)}</h1>${meta}${best}</header>`,
    `<section id="results"><h2>Results</h2>${resultsTable(m)}<ul class="notes">${m.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul></section>`,
    scoreSection(results),
    trainingSection(results),
    curvesSections(results, curves),
    runsSection(results),
    '</main></body></html>',
    '',
  ].join('\n');
}
