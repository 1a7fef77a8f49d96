// The numbers of a study (DESIGN.md "Numbers a user sees"): per run MAP@k; per ablation the seed
// summary, the seed-ensemble MAP@k and the paired comparison with the baseline's ensemble (with
// Holm-adjusted p-values across the ablations and the power figures); the best ablation. Runs
// are matched to the validation questions by id, so runs may list questions in any order or miss
// some (a missing question scores 0); the validation set's order is the order of every vector.
import type { BaselineComparison, BestAblation } from '../../api/mod.js';
import { compileBootstrapOptions, pairedBootstrap, type BootstrapOptions } from './bootstrap.js';
import { DEFAULT_ENSEMBLE_METHOD, ensemble, type EnsembleMethod } from './ensemble.js';
import { AggregateInputError } from './errors.js';
import { alignProbabilities, DEFAULT_K, mean, perQuestionScores, type Probabilities } from './map.js';
import { powerAnalysis, type PowerOptions } from './power.js';
import { pairSeeds, SeedEnsembles, seedAwareBootstrap } from './seeds.js';
import { holm, seedStats } from './stats.js';

export interface StudyRunInput {
  ablation: string;
  seed: number;
  /** Question ids of the rows of `probs`; absent: the rows follow the validation order. */
  ids?: readonly string[];
  /** `rows × options` probabilities; null for a run that produced none (failed). */
  probs: Probabilities | null;
}

export interface StudyInput {
  /** Validation question ids; their order is the order of every output vector. */
  questionIds: readonly string[];
  /** Correct option index per validation question. */
  answers: ArrayLike<number>;
  options: number;
  runs: readonly StudyRunInput[];
  /** Ablation order of the output. @default the order of first appearance in `runs` */
  ablations?: readonly string[];
  /** The ablation every other one is compared with. */
  baseline: string;
  /** @default DEFAULT_K (3) */
  k?: number;
  /** @default DEFAULT_ENSEMBLE_METHOD ('mean-probabilities') */
  ensemble?: EnsembleMethod;
  bootstrap?: BootstrapOptions;
  power?: PowerOptions;
}

export interface RunScore {
  ablation: string;
  seed: number;
  /** null for a run without predictions. */
  mapAtK: number | null;
}

/** The comparison with the baseline as the aggregation computes it: every field, and the baseline's name. */
export interface VsBaseline extends BaselineComparison {
  baseline: string;
}

export interface AblationSummary {
  name: string;
  /** Seeds that produced predictions, in input order. */
  seeds: number[];
  seedMean: number | null;
  seedStd: number | null;
  seedMin: number | null;
  seedMax: number | null;
  ensembleMapAtK: number | null;
  /** Absent for the baseline and for ablations (or a baseline) without predictions. */
  vsBaseline?: VsBaseline;
}

/** The JSON-safe result fields (results.json, FineTuneJob status). */
export interface StudySummary {
  k: number;
  questions: number;
  runs: RunScore[];
  ablations: AblationSummary[];
  best: BestAblation | null;
}

export interface StudyAggregate {
  summary: StudySummary;
  /** Per ablation with predictions: ensemble probabilities (validation order) and per-question scores. */
  ensembles: Map<string, { probs: Float32Array; scores: Float64Array }>;
  /** Per-question scores of each run, index-aligned with `summary.runs` (null for failed runs). */
  runScores: (Float64Array | null)[];
}

export function aggregateStudy(input: StudyInput): StudyAggregate {
  const k = input.k ?? DEFAULT_K;
  const method = input.ensemble ?? DEFAULT_ENSEMBLE_METHOD;
  const bootstrap = compileBootstrapOptions(input.bootstrap);
  const { questionIds, answers, options } = input;
  if (answers.length !== questionIds.length) {
    throw new AggregateInputError(`${answers.length} answers for ${questionIds.length} questions`, 'answers', answers.length);
  }
  const names = input.ablations ? [...input.ablations] : [...new Set(input.runs.map((r) => r.ablation))];
  if (!names.includes(input.baseline)) {
    throw new AggregateInputError(`baseline is not one of the ablations ${names.join(', ')}`, 'baseline', input.baseline);
  }
  for (const r of input.runs) {
    if (!names.includes(r.ablation)) throw new AggregateInputError('run names an ablation not in the list', 'runs.ablation', r.ablation);
  }

  const aligned = input.runs.map((r) => {
    if (!r.probs) return null;
    if (!r.ids) {
      if (r.probs.length !== questionIds.length * options) {
        throw new AggregateInputError(`run ${r.ablation}/${r.seed} has ${r.probs.length} values for ${questionIds.length} questions x ${options} options`, 'runs.probs', r.probs.length);
      }
      return r.probs;
    }
    return alignProbabilities(questionIds, r.ids, r.probs, options).predictions;
  });
  const runScores = aligned.map((p) => (p ? perQuestionScores(p, answers, k) : null));
  const runs: RunScore[] = input.runs.map((r, i) => {
    const s = runScores[i];
    return { ablation: r.ablation, seed: r.seed, mapAtK: s ? mean(s) : null };
  });

  const ensembles = new Map<string, { probs: Float32Array; scores: Float64Array }>();
  const seedRuns = new Map<string, { seeds: number[]; runs: Probabilities[] }>();
  const ablations: AblationSummary[] = names.map((name) => {
    const idx = input.runs.map((r, i) => (r.ablation === name && aligned[i] ? i : -1)).filter((i) => i >= 0);
    const seeds = idx.map((i) => input.runs[i]?.seed ?? NaN);
    if (idx.length === 0) return { name, seeds, seedMean: null, seedStd: null, seedMin: null, seedMax: null, ensembleMapAtK: null };
    const stats = seedStats(idx.map((i) => runs[i]?.mapAtK ?? NaN));
    const members = idx.map((i) => aligned[i] as Probabilities);
    seedRuns.set(name, { seeds, runs: members });
    const probs = ensemble(members, method, options);
    const scores = perQuestionScores(probs, answers, k);
    ensembles.set(name, { probs, scores });
    return { name, seeds, seedMean: stats.mean, seedStd: stats.std, seedMin: stats.min, seedMax: stats.max, ensembleMapAtK: mean(scores) };
  });

  // Every comparison uses the same seed, hence the same resampled questions: the intervals of
  // different ablations are computed on identical bootstrap worlds and can be read side by side.
  const base = ensembles.get(input.baseline);
  const compared = ablations.filter((a) => a.name !== input.baseline && base && ensembles.has(a.name));
  const tests = compared.map((a) => {
    const cand = ensembles.get(a.name)?.scores ?? new Float64Array(0);
    const baseScores = base?.scores ?? new Float64Array(0);
    return { a, boot: pairedBootstrap(baseScores, cand, bootstrap), power: powerAnalysis(baseScores, cand, input.power) };
  });
  const adjusted = holm(tests.map((t) => t.boot.pValue));

  // The seed-aware comparison draws its seeds from those both sides trained successfully, paired
  // by seed value; it needs at least two of them: one seed has no spread to resample. The
  // baseline's multiset ensembles are built once and shared by every comparison.
  const seedSets = new Map<string, SeedEnsembles>();
  const seedsOf = (name: string): SeedEnsembles | null => {
    const members = seedRuns.get(name);
    if (!members) return null;
    let s = seedSets.get(name);
    if (!s) seedSets.set(name, (s = new SeedEnsembles({ name, seeds: members.seeds, runs: members.runs, method, options, answers, k })));
    return s;
  };
  const seedAware = tests.map((t) => {
    if (!bootstrap.resampleSeeds) return null;
    const b = seedsOf(input.baseline);
    const c = seedsOf(t.a.name);
    if (!b || !c || pairSeeds(b.seedValues, c.seedValues).common.length < 2) return null;
    return seedAwareBootstrap(b, c, bootstrap);
  });
  const seedAwareP = seedAware.filter((r) => r !== null).map((r) => r.pValue);
  const seedAwareHolm = holm(seedAwareP);

  let j = 0;
  tests.forEach((t, i) => {
    const sa = seedAware[i];
    t.a.vsBaseline = {
      baseline: input.baseline,
      ...t.boot,
      pValueHolm: adjusted[i] ?? 1,
      minDetectable: t.power.minDetectable,
      questionsNeeded: t.power.questionsNeeded,
      ...(sa ? { seedAware: { ...sa, pValueHolm: seedAwareHolm[j++] ?? 1 } } : {}),
    };
  });

  let best: StudySummary['best'] = null;
  for (const a of ablations) {
    if (a.ensembleMapAtK !== null && (best === null || a.ensembleMapAtK > best.ensembleMapAtK)) best = { ablation: a.name, ensembleMapAtK: a.ensembleMapAtK };
  }
  return { summary: { k, questions: questionIds.length, runs, ablations, best }, ensembles, runScores };
}
