// Power analysis for paired MAP@k comparisons (issue #9; science.md §6.2–6.3). Both functions use
// the normal approximation of the paired mean difference: SE(Δ) = sd(d)/√n with
// d = candidate − baseline per question, a two-sided test at level α, and power 1−β, so the
// smallest difference detected with probability 1−β is (z_{1−α/2} + z_{1−β})·SE.
import { AggregateInputError } from './errors.js';
import { differences } from './bootstrap.js';
import { DEFAULT_K } from './map.js';
import { normalCdf, normalQuantile } from './stats.js';

/** Two-sided significance level. @default 0.05 */
export const DEFAULT_ALPHA = 0.05;
/** Probability of detecting a true difference of the stated size. @default 0.8 */
export const DEFAULT_POWER = 0.8;
/**
 * Correlation between two systems' per-question scores in `planStudy`. @default 0.8 — two
 * fine-tunes of one model on one question set score most questions alike: science.md §6.3 puts
 * 10–30 % of questions scoring differently, which is ρ ≈ 0.75–0.9 at MAP@3 ≈ 0.74.
 */
export const DEFAULT_CORRELATION = 0.8;
/** Seeds per ablation in `planStudy`. @default 3 (the reference study) */
export const DEFAULT_SEEDS = 3;
/** Run-to-run standard deviation of one seed's MAP@k in `planStudy`. @default 0 (not modelled) */
export const DEFAULT_SEED_STD = 0;
/** Options per question in `planStudy`. @default 5 (Kaggle LLM Science Exam) */
export const DEFAULT_OPTIONS = 5;

export interface PowerOptions {
  /** @default DEFAULT_ALPHA (0.05) */
  alpha?: number;
  /** @default DEFAULT_POWER (0.8) */
  power?: number;
}

function compilePower(opts: PowerOptions): { alpha: number; power: number; z: number; zAlpha: number } {
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  const power = opts.power ?? DEFAULT_POWER;
  if (!(alpha > 0 && alpha < 1)) throw new AggregateInputError('must be in (0, 1)', 'alpha', alpha);
  if (!(power > 0 && power < 1)) throw new AggregateInputError('must be in (0, 1)', 'power', power);
  const zAlpha = normalQuantile(1 - alpha / 2);
  return { alpha, power, zAlpha, z: zAlpha + normalQuantile(power) };
}

export interface PowerResult {
  /** Standard error of the paired mean difference, sd(d)/√n. */
  se: number;
  /** The difference this many questions detect with the given power: (z_{1−α/2}+z_{power})·SE. */
  minDetectable: number;
  /**
   * Questions needed to detect the observed Δ with the given power, ⌈((z_{1−α/2}+z_{power})·sd(d)/Δ)²⌉
   * (at least 2); null when the observed Δ is 0 (no number suffices).
   */
  questionsNeeded: number | null;
}

/** Power figures for an observed paired comparison (per-question scores, same questions, same order). */
export function powerAnalysis(baselineScores: ArrayLike<number>, candidateScores: ArrayLike<number>, opts: PowerOptions = {}): PowerResult {
  const { z } = compilePower(opts);
  const d = differences(baselineScores, candidateScores);
  const n = d.length;
  if (n < 2) throw new AggregateInputError('needs at least 2 questions for a standard deviation', 'scores', n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += d[i] ?? 0;
  const delta = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += ((d[i] ?? 0) - delta) ** 2;
  const sd = Math.sqrt(ss / (n - 1));
  const se = sd / Math.sqrt(n);
  return {
    se,
    minDetectable: z * se,
    questionsNeeded: delta === 0 ? null : Math.max(2, Math.ceil(((z * sd) / Math.abs(delta)) ** 2)),
  };
}

export interface PlanInput extends PowerOptions {
  /** Validation questions available. */
  questions: number;
  /** Expected MAP@k of the baseline, e.g. 0.74. */
  map: number;
  /** The improvement to detect, e.g. 0.01. */
  delta: number;
  /** @default DEFAULT_CORRELATION (0.8) */
  correlation?: number;
  /** @default DEFAULT_SEEDS (3) */
  seeds?: number;
  /** @default DEFAULT_SEED_STD (0) */
  seedStd?: number;
  /** @default DEFAULT_OPTIONS (5) */
  options?: number;
  /** @default DEFAULT_K (3) */
  k?: number;
}

export interface PlanResult {
  questions: number;
  map: number;
  delta: number;
  correlation: number;
  seeds: number;
  seedStd: number;
  options: number;
  k: number;
  alpha: number;
  power: number;
  /** Per-question score standard deviation of the baseline under the rank model. */
  sdScore: number;
  /** Standard deviation of the per-question difference at the planned Δ. */
  sdDifference: number;
  /** Standard error of Δ with `questions` questions (and the seed term). */
  se: number;
  /** Smallest Δ detected with probability `power` with `questions` questions. */
  minDetectable: number;
  /** Probability of detecting `delta` with `questions` questions. */
  achievedPower: number;
  /** Questions needed to detect `delta` with probability `power`; null when seed noise alone is too large. */
  questionsNeeded: number | null;
  /** The model behind the numbers, in words. */
  assumptions: string[];
}

/**
 * Mean and standard deviation of one question's MAP@k score under the "uniform miss" rank model:
 * the answer is ranked first with probability p₁, otherwise at each of ranks 2..c equally often.
 * Fitted to MAP = 0.74 with c = 5 it gives sd 0.392, close to the 0.37–0.39 of the hit profiles in
 * science.md §6.2.
 */
export function scoreSd(map: number, options: number, k: number): number {
  const misses = options - 1;
  let inv = 0;
  let inv2 = 0;
  for (let r = 2; r <= Math.min(k, options); r++) {
    inv += 1 / r;
    inv2 += 1 / (r * r);
  }
  const floor = inv / misses;
  if (!(map >= floor && map <= 1)) {
    throw new AggregateInputError(`MAP@${k} must lie in [${floor.toFixed(4)}, 1] for ${options} options under the rank model`, 'map', map);
  }
  const p1 = (map - floor) / (1 - floor);
  const second = p1 + ((1 - p1) / misses) * inv2;
  return Math.sqrt(Math.max(0, second - map * map));
}

/** A-priori power: how many questions a study needs, and what a given size can detect. */
export function planStudy(input: PlanInput): PlanResult {
  const { alpha, power, z, zAlpha } = compilePower(input);
  const correlation = input.correlation ?? DEFAULT_CORRELATION;
  const seeds = input.seeds ?? DEFAULT_SEEDS;
  const seedStd = input.seedStd ?? DEFAULT_SEED_STD;
  const options = input.options ?? DEFAULT_OPTIONS;
  const k = input.k ?? DEFAULT_K;
  const { questions, map, delta } = input;
  if (!Number.isInteger(questions) || questions < 2) throw new AggregateInputError('must be an integer ≥ 2', 'questions', questions);
  if (!(correlation >= -1 && correlation <= 1)) throw new AggregateInputError('must be in [-1, 1]', 'correlation', correlation);
  if (!Number.isInteger(seeds) || seeds < 1) throw new AggregateInputError('must be a positive integer', 'seeds', seeds);
  if (!(seedStd >= 0)) throw new AggregateInputError('must be ≥ 0', 'seedStd', seedStd);
  if (!Number.isInteger(options) || options < 2) throw new AggregateInputError('must be an integer ≥ 2', 'options', options);
  if (!Number.isInteger(k) || k < 1) throw new AggregateInputError('must be a positive integer', 'k', k);
  if (!(delta > 0)) throw new AggregateInputError('must be > 0', 'delta', delta);
  const sdA = scoreSd(map, options, k);
  const sdDiffAt = (dl: number) => {
    if (map + dl > 1) throw new AggregateInputError(`map + delta exceeds 1 (${map} + ${dl})`, 'delta', dl);
    const sdB = scoreSd(map + dl, options, k);
    return Math.sqrt(Math.max(0, sdA * sdA + sdB * sdB - 2 * correlation * sdA * sdB));
  };
  // Both ablations' results move with their seeds: a mean (or ensemble) of S seeds each adds
  // 2·σ_seed²/S to Var(Δ) however many questions there are.
  const seedVar = (2 * seedStd * seedStd) / seeds;
  const seAt = (dl: number, n: number) => Math.sqrt(sdDiffAt(dl) ** 2 / n + seedVar);
  const sdDifference = sdDiffAt(delta);
  const se = seAt(delta, questions);
  // The detectable Δ changes the candidate's score variance a little: iterate to the fixed point.
  let minDetectable = z * seAt(0, questions);
  for (let i = 0; i < 20; i++) minDetectable = z * seAt(Math.min(minDetectable, 1 - map), questions);
  const achievedPower = normalCdf(delta / se - zAlpha) + normalCdf(-delta / se - zAlpha);
  const room = (delta / z) ** 2 - seedVar;
  const questionsNeeded = room > 0 ? Math.max(2, Math.ceil(sdDifference ** 2 / room)) : null;
  const assumptions = [
    `per-question MAP@${k} scores: the answer is ranked first with probability p1, otherwise equally often at ranks 2..${options} (fitted to MAP@${k} = ${map}: sd ${sdA.toFixed(3)} per question)`,
    `correlation ${correlation} between the two systems' per-question scores (paired comparison on the same questions)`,
    `two-sided test at alpha = ${alpha}, power ${power}, normal approximation to the paired mean difference (what the paired bootstrap CI approximates)`,
    seedStd > 0
      ? `training-seed noise: sd ${seedStd} of one seed's MAP@${k}, averaged over ${seeds} seeds per ablation, adds ${seedVar.toExponential(2)} to Var(delta)`
      : `training-seed noise not modelled (give the sd of one seed's MAP@${k}, seedStd / --seed-std, to include it; seeds = ${seeds} then divides it)`,
  ];
  return {
    questions, map, delta, correlation, seeds, seedStd, options, k, alpha, power,
    sdScore: sdA, sdDifference, se, minDetectable, achievedPower, questionsNeeded, assumptions,
  };
}
