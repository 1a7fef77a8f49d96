// The results table: one row per ablation with per-seed MAP@k, the seed mean ± std, the seed
// ensemble and the comparison with the baseline. `tableModel` decides what each cell says;
// `renderTable` lays it out as plain text for a terminal and the HTML report reuses the model, so
// both always show the same numbers.
import { pairSeeds } from '../aggregate/seeds.js';
import type { AblationResult, RunResult, StudyResults } from './types.js';

/** Decimals for MAP@k and its differences: 1/1000 is below a 1k-question set's resolution. */
const DECIMALS = 3;
/** Printed for a number that does not exist (no finished seed, no comparison). */
export const MISSING = '—';
/** Printed for a run that failed. */
export const FAILED = 'failed';

export function formatScore(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? MISSING : x.toFixed(DECIMALS);
}

export function formatDelta(x: number): string {
  const s = x.toFixed(DECIMALS);
  // -0.000 reads as a loss; a difference that rounds to zero has no sign.
  return Number(s) === 0 ? `±${(0).toFixed(DECIMALS)}` : x > 0 ? `+${s}` : s;
}

export function formatP(p: number): string {
  return p < 0.001 ? '<0.001' : p.toFixed(DECIMALS);
}

/** "95%" for 0.95; keeps a decimal for levels such as 0.995. */
export function formatConfidence(c: number): string {
  return `${Number((c * 100).toFixed(1))}%`;
}

export interface SeedCell {
  text: string;
  failed: boolean;
}

/** The cells of a row's second line: the comparison with training seeds resampled too. */
export interface SeedAwareCells {
  /** `[low, high]` of Δ, or MISSING where it cannot be estimated (fewer than two seeds). */
  ci: string;
  p: string;
  pHolm: string;
}

export interface TableRow {
  name: string;
  isBaseline: boolean;
  isBest: boolean;
  /** One cell per entry of `TableModel.seeds`. */
  seeds: SeedCell[];
  meanStd: string;
  ensemble: string;
  delta: string;
  p: string;
  pHolm: string;
  power: string;
  /** Present on compared rows when the study asked for the seed-aware bootstrap. */
  seedAware?: SeedAwareCells;
}

export interface TableModel {
  title: string;
  seeds: number[];
  deltaHeader: string;
  /** Whether any ablation carries the optional columns. */
  hasHolm: boolean;
  hasPower: boolean;
  /** Label of the second line that compared rows get when the seed-aware bootstrap was asked for. */
  seedAwareLabel: string;
  rows: TableRow[];
  /** Lines under the table: the legend of the markings and any failed or incomplete runs. */
  notes: string[];
}

function runCell(run: RunResult | undefined): SeedCell {
  if (run === undefined) return { text: MISSING, failed: false };
  if (run.mapAtK !== null) return { text: formatScore(run.mapAtK), failed: false };
  const failed = run.phase === 'Failed';
  return { text: failed ? FAILED : MISSING, failed };
}

function meanStd(a: AblationResult): string {
  if (a.seedMean === null) return MISSING;
  return a.seedStd === null ? formatScore(a.seedMean) : `${formatScore(a.seedMean)} ± ${formatScore(a.seedStd)}`;
}

function powerCell(a: AblationResult): string {
  const v = a.vsBaseline;
  if (v?.minDetectable === undefined) return MISSING;
  const n = v.questionsNeeded;
  return n === undefined || n === null ? formatScore(v.minDetectable) : `${formatScore(v.minDetectable)} (n≈${Math.round(n)})`;
}

/** Label of a row's second line: the same comparison with the training seeds resampled too. */
export const SEED_AWARE_LABEL = '↳ seeds resampled';

/** "seed 2" / "seeds 0, 1". */
function seedList(seeds: readonly number[]): string {
  return `seed${seeds.length === 1 ? '' : 's'} ${seeds.join(', ')}`;
}

function seedAwareCells(a: AblationResult, baseline: AblationResult | undefined): SeedAwareCells {
  const s = a.vsBaseline?.seedAware;
  if (s === undefined) {
    const baseSeeds = baseline?.seeds.length ?? 0;
    const few = Math.min(a.seeds.length, baseSeeds);
    // The aggregation's own pairing: by seed value, on the seeds both trained successfully.
    const common = pairSeeds(baseline?.seeds ?? [], a.seeds).common.length;
    // Fewer seeds in common than either side has: the pairing, not a side's count, is short.
    const why = common < few ? `${common} common seed${common === 1 ? '' : 's'}` : `${baseSeeds < a.seeds.length ? 'baseline ' : ''}${few} seed${few === 1 ? '' : 's'}`;
    return { ci: `${MISSING} (${why})`, p: MISSING, pHolm: MISSING };
  }
  return { ci: `[${formatDelta(s.ciLow)}, ${formatDelta(s.ciHigh)}]`, p: formatP(s.pValue), pHolm: formatP(s.pValueHolm) };
}

/** Decides every cell of the results table. */
export function tableModel(results: StudyResults): TableModel {
  const seeds = [...new Set([...results.ablations.flatMap((a) => a.seeds), ...results.runs.map((r) => r.seed)])].sort((x, y) => x - y);
  const baseline = results.evaluation.baseline;
  const best = results.best?.ablation;
  const conf = formatConfidence(results.evaluation.bootstrap.confidence);
  const seedAwareAsked = results.evaluation.bootstrap.resampleSeeds === true || results.ablations.some((a) => a.vsBaseline?.seedAware !== undefined);
  const baselineResult = results.ablations.find((a) => a.name === baseline);
  const rows = results.ablations.map((a): TableRow => {
    const v = a.vsBaseline;
    return {
      name: a.name,
      isBaseline: a.name === baseline,
      isBest: a.name === best,
      seeds: seeds.map((s) => runCell(results.runs.find((r) => r.ablation === a.name && r.seed === s))),
      meanStd: meanStd(a),
      ensemble: formatScore(a.ensembleMapAtK),
      delta: v === undefined ? MISSING : `${formatDelta(v.delta)} [${formatDelta(v.ciLow)}, ${formatDelta(v.ciHigh)}]`,
      p: v === undefined ? MISSING : formatP(v.pValue),
      pHolm: v?.pValueHolm === undefined ? MISSING : formatP(v.pValueHolm),
      power: powerCell(a),
      ...(seedAwareAsked && v !== undefined ? { seedAware: seedAwareCells(a, baselineResult) } : {}),
    };
  });
  const notes: string[] = [];
  notes.push(`(baseline) = ${baseline}, the ablation the others are compared with; (best) = highest ensemble MAP@${results.k}.`);
  notes.push(
    `Δ: ensemble minus baseline ensemble, ${conf} CI by paired bootstrap over questions (${results.evaluation.bootstrap.resamples} resamples); p: one-sided, share of resamples with Δ* ≤ 0.`,
  );
  if (rows.some((r) => r.power !== MISSING)) {
    notes.push(
      `min Δ (80% power): the smallest Δ these ${results.validation.questions} questions detect 80% of the time (two-sided α = 0.05); n≈: validation questions needed to detect the observed Δ. A CI that crosses 0 means "not resolved on these questions", not "no difference".`,
    );
  }
  if (seedAwareAsked) {
    notes.push(
      `${SEED_AWARE_LABEL}: the same Δ with training-seed variance included — each of the ${results.evaluation.bootstrap.resamples} resamples first draws one set of seeds with replacement, the same for the ablation and the baseline (seeds are paired: one seed, one initialisation and data order), rebuilds both ensembles from them, then redraws the questions; ${conf} CI, p and p (Holm) as above. A gain whose interval crosses 0 here may not survive another draw of seeds; with ${seeds.length} seed${seeds.length === 1 ? '' : 's'} per ablation the estimate is rough.`,
    );
    // A seed that only one side trained successfully is left out of the pairing: say which.
    for (const a of results.ablations) {
      if (a.vsBaseline?.seedAware === undefined) continue;
      const { common, missingInCandidate: missingHere, missingInBaseline } = pairSeeds(baselineResult?.seeds ?? [], a.seeds);
      const missing = [
        ...(missingHere.length > 0 ? [`${seedList(missingHere)} missing for ${a.name}`] : []),
        ...(missingInBaseline.length > 0 ? [`${seedList(missingInBaseline)} missing for ${baseline}`] : []),
      ];
      if (missing.length > 0) notes.push(`${SEED_AWARE_LABEL}, ${a.name}: ${missing.join(', ')}: paired on ${seedList(common)}.`);
    }
    const lacking = results.ablations.filter((a) => a.vsBaseline !== undefined && a.vsBaseline.seedAware === undefined).map((a) => a.name);
    if (lacking.length > 0) {
      notes.push(
        `${SEED_AWARE_LABEL}: not estimable for ${lacking.join(', ')}: seed variance cannot be estimated from one seed (it needs at least 2 seeds that both the ablation and the baseline trained successfully).`,
      );
    }
  }
  const failed = results.runs.filter((r) => r.mapAtK === null);
  if (failed.length > 0) {
    const list = failed.map((r) => `${r.ablation}/seed ${r.seed} (${r.phase}, ${r.attempts} attempt${r.attempts === 1 ? '' : 's'})`).join(', ');
    notes.push(`${failed.length} of ${results.runs.length} runs have no score: ${list}.`);
  }
  const short = results.runs.filter((r) => r.mapAtK !== null && r.predictions.received < r.predictions.expected);
  for (const r of short) notes.push(`${r.ablation}/seed ${r.seed}: ${r.predictions.received} of ${r.predictions.expected} predictions received.`);
  const title = `${results.namespace === undefined ? '' : `${results.namespace}/`}${results.job} — MAP@${results.k} on ${results.validation.questions} validation questions (${results.evaluation.ensemble} ensemble of ${seeds.length} seed${seeds.length === 1 ? '' : 's'})`;
  return {
    title,
    seeds,
    deltaHeader: `Δ vs ${baseline} [${conf} CI]`,
    hasHolm: rows.some((r) => r.pHolm !== MISSING),
    hasPower: rows.some((r) => r.power !== MISSING),
    seedAwareLabel: SEED_AWARE_LABEL,
    rows,
    notes,
  };
}

export function rowLabel(row: TableRow): string {
  const marks = [row.isBaseline ? 'baseline' : '', row.isBest ? 'best' : ''].filter((m) => m !== '');
  return marks.length === 0 ? row.name : `${row.name} (${marks.join(', ')})`;
}

/** The results table as plain text (columns padded with spaces, one ablation a line). */
export function renderTable(results: StudyResults): string {
  const m = tableModel(results);
  const header = ['ablation', ...m.seeds.map((s) => `seed ${s}`), 'mean ± std', 'ensemble', m.deltaHeader, 'p'];
  if (m.hasHolm) header.push('p (Holm)');
  if (m.hasPower) header.push('min Δ (80% power)');
  const body = m.rows.flatMap((r) => {
    const cells = [rowLabel(r), ...r.seeds.map((c) => c.text), r.meanStd, r.ensemble, r.delta, r.p];
    if (m.hasHolm) cells.push(r.pHolm);
    if (m.hasPower) cells.push(r.power);
    if (r.seedAware === undefined) return [cells];
    // The second line puts the seed-aware CI and p-values under the question-only ones.
    const sub = [`  ${m.seedAwareLabel}`, ...r.seeds.map(() => ''), '', '', r.seedAware.ci, r.seedAware.p];
    if (m.hasHolm) sub.push(r.seedAware.pHolm);
    if (m.hasPower) sub.push('');
    return [cells, sub];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  // The name column reads left to right; numbers line up on the right.
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [m.title, '', line(header), rule, ...body.map(line), '', ...m.notes].join('\n') + '\n';
}
