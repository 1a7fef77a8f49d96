// Seed-aware (two-level) paired bootstrap (science.md §6.4 point 5): the question-only bootstrap
// treats each seed ensemble as fixed, yet the seeds it was built from are themselves a draw. In an
// ablation study every ablation trains with the same seed list, and one seed means one
// initialisation and data order, so the seeds are paired across ablations exactly as the
// questions are. Each replicate here draws ONE multiset of seeds with replacement from the seeds
// that both the candidate and the baseline have (matched by seed value), rebuilds both ensembles
// from those seeds, then resamples the questions with indices shared by both sides and takes the
// mean difference Δ*. Both ensembles always have the same size and duplication pattern, so Δ*
// varies with which seeds were drawn, not with how many distinct ones each side happened to get.
// A seed that only one side has is left out of the figure.
//
// Cost: a drawn multiset of s seeds is one of C(2s−1, s) (10 for 3 seeds), so each ablation's
// multiset ensembles are built and scored once, lazily, and cached (keyed by the multiset of its
// own seeds, so the baseline's serve every comparison); the replicate loop is the question-only
// loop with two gathers instead of one, O(B·n). The question indices come from the very stream
// `bootstrapDeltas` uses for the same seed, so when every seed predicts alike the interval equals
// the question-only one exactly. The seed draws come from one stream keyed by the bootstrap seed
// alone: comparisons over the same common seeds see the same seed draws and the same questions
// (identical bootstrap worlds, as in the question-only bootstrap), and adding an ablation to a
// study changes no other ablation's figures.
import { compileBootstrapOptions, seedState, splitmix32, summarizeDeltas, type BootstrapOptions, type BootstrapResult } from './bootstrap.js';
import { ensemble, type EnsembleMethod } from './ensemble.js';
import { AggregateInputError } from './errors.js';
import { perQuestionScores, type Probabilities } from './map.js';

/**
 * Bytes of cached multiset-ensemble scores one ablation may hold (8 bytes per question each):
 * with 5 seeds every one of the 126 multisets of a 30,000-question set fits. Past the budget a
 * multiset's ensemble is rebuilt whenever it is drawn — same figures, more time.
 * @default 64 MiB
 */
export const SEED_CACHE_BYTES = 64 * 2 ** 20;

/** The seed-aware interval and p-value (the observed Δ is the question-only one). */
export type SeedAwareResult = Omit<BootstrapResult, 'delta'>;

/** C(2s−1, s): how many multisets of s seeds can be drawn with replacement from s seeds. */
export function seedMultisetCount(seeds: number): number {
  if (!Number.isInteger(seeds) || seeds < 1) throw new AggregateInputError('must be a positive integer', 'seeds', seeds);
  let c = 1;
  // C(2s−1, s) = Π_{i=1..s} (s−1+i)/i; every partial product is itself a binomial coefficient.
  for (let i = 1; i <= seeds; i++) c = (c * (seeds - 1 + i)) / i;
  return Math.round(c);
}

/**
 * Every multiset of `seeds` draws from `seeds` seeds, as draw counts per seed (summing to `seeds`),
 * the all-on-the-first-seed one first.
 */
export function seedMultisets(seeds: number): number[][] {
  const total = seedMultisetCount(seeds);
  if (total > 1_000_000) throw new AggregateInputError(`${total} multisets are too many to list`, 'seeds', seeds);
  const out: number[][] = [];
  const counts = new Array<number>(seeds).fill(0);
  const fill = (pos: number, left: number): void => {
    if (pos === seeds - 1) {
      counts[pos] = left;
      out.push([...counts]);
      return;
    }
    for (let c = left; c >= 0; c--) {
      counts[pos] = c;
      fill(pos + 1, left - c);
    }
  };
  fill(0, seeds);
  return out;
}

/**
 * Where the seed draws of the seed-aware bootstrap come from: xoshiro128** seeded from this and
 * the bootstrap seed, a stream apart from the question draws.
 */
const SEED_STREAM_KEY = 0x5eed5eed;

/** xoshiro128** for the few draws per replicate that pick seeds (the question loop inlines its own). */
export class SeedDraws {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    const st = seedState(seed);
    this.s0 = st[0] ?? 1;
    this.s1 = st[1] ?? 0;
    this.s2 = st[2] ?? 0;
    this.s3 = st[3] ?? 0;
  }

  /** A uniform integer in [0, n). */
  below(n: number): number {
    const m = Math.imul(this.s1, 5);
    const r = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return Math.floor((r * n) / 4294967296);
  }
}

export interface SeedEnsemblesInput {
  /** The ablation's name (it names the ablation in errors). */
  name: string;
  /**
   * The training seed of each entry of `runs`, all different: the seed-aware bootstrap pairs two
   * ablations' runs by these values.
   */
  seeds: readonly number[];
  /** One `questions × options` probability array per seed, in validation order (aligned). */
  runs: readonly Probabilities[];
  method: EnsembleMethod;
  options: number;
  /** Correct option index per question. */
  answers: ArrayLike<number>;
  k: number;
}

/**
 * One ablation's seeds for the seed-aware bootstrap: the per-question scores of the ensemble of
 * any multiset of its seeds (a seed drawn twice weighs twice), each distinct ensemble built once.
 */
export class SeedEnsembles {
  readonly name: string;
  /** How many seeds (runs) the ablation has. */
  readonly seeds: number;
  readonly questions: number;
  /** The training seed of each run, in run order. */
  readonly seedValues: readonly number[];
  private readonly position = new Map<number, number>();
  private readonly cache = new Map<number | string, Float64Array>();
  private built = 0;

  constructor(
    private readonly input: SeedEnsemblesInput,
    private readonly cacheBytes = SEED_CACHE_BYTES,
  ) {
    if (input.runs.length === 0) throw new AggregateInputError('no seeds to resample', `seedAware.${input.name}.runs`, 0);
    if (input.seeds.length !== input.runs.length) {
      throw new AggregateInputError(`${input.seeds.length} seeds for ${input.runs.length} runs`, `seedAware.${input.name}.seeds`, input.seeds.length);
    }
    input.seeds.forEach((v, j) => {
      if (!Number.isInteger(v)) throw new AggregateInputError('must be an integer', `seedAware.${input.name}.seeds[${j}]`, v);
      if (this.position.has(v)) throw new AggregateInputError('appears twice: runs are paired by seed, so each seed may have one run', `seedAware.${input.name}.seeds[${j}]`, v);
      this.position.set(v, j);
    });
    this.name = input.name;
    this.seeds = input.runs.length;
    this.questions = input.answers.length;
    this.seedValues = [...input.seeds];
  }

  /** Distinct multiset ensembles built so far (at most `seedMultisetCount(seeds)` while cached and paired on all seeds). */
  get ensemblesBuilt(): number {
    return this.built;
  }

  /** Distinct multiset ensembles held in the cache. */
  get cached(): number {
    return this.cache.size;
  }

  /** The run index of training seed `seed`, or -1 when the ablation has no run with it. */
  positionOf(seed: number): number {
    return this.position.get(seed) ?? -1;
  }

  /**
   * Per-question scores of the ensemble of the runs drawn `counts[j]` times each (one count per
   * run, in run order; zeros leave a run out).
   */
  scoresOf(counts: ArrayLike<number>): Float64Array {
    if (counts.length !== this.seeds) throw new AggregateInputError(`${counts.length} counts for ${this.seeds} seeds`, `seedAware.${this.name}.counts`, counts.length);
    const key = this.keyOf(counts);
    const hit = this.cache.get(key);
    if (hit) return hit;
    // Each drawn seed enters the ensemble once per draw, in run order: the multiset that holds
    // every seed once is the observed ensemble to the last bit.
    const runs: Probabilities[] = [];
    for (let j = 0; j < this.seeds; j++) for (let c = 0; c < (counts[j] ?? 0); c++) runs.push(this.input.runs[j] as Probabilities);
    if (runs.length === 0) throw new AggregateInputError('no seed drawn', `seedAware.${this.name}.counts`, Array.from(counts).join(','));
    const scores = perQuestionScores(ensemble(runs, this.input.method, this.input.options), this.input.answers, this.input.k);
    this.built++;
    if ((this.cache.size + 1) * scores.byteLength <= this.cacheBytes) this.cache.set(key, scores);
    return scores;
  }

  /**
   * A number while (s+1)^s stays exact in a double (s ≤ 13), else the counts as text. A count is
   * at most s (a multiset over the common seeds has at most s draws), so the key is unique.
   */
  private keyOf(counts: ArrayLike<number>): number | string {
    if (this.seeds > 13) return Array.from(counts).join(',');
    let key = 0;
    for (let j = 0; j < this.seeds; j++) key = key * (this.seeds + 1) + (counts[j] ?? 0);
    return key;
  }
}

/** How the seed-aware bootstrap pairs two ablations' runs. */
export interface SeedPairing {
  /** Seeds both sides have, in the baseline's order: the seeds each replicate draws from. */
  common: number[];
  /** The baseline's seeds the candidate lacks (left out of the seed-aware figure). */
  missingInCandidate: number[];
  /** The candidate's seeds the baseline lacks (left out of the seed-aware figure). */
  missingInBaseline: number[];
}

/** Pairs two ablations' seeds by value (see `SeedPairing`). */
export function pairSeeds(baselineSeeds: readonly number[], candidateSeeds: readonly number[]): SeedPairing {
  const cand = new Set(candidateSeeds);
  const base = new Set(baselineSeeds);
  return {
    common: baselineSeeds.filter((v) => cand.has(v)),
    missingInCandidate: baselineSeeds.filter((v) => !cand.has(v)),
    missingInBaseline: candidateSeeds.filter((v) => !base.has(v)),
  };
}

/** The stream of seed draws for bootstrap seed `seed` (the same for every comparison). */
export function seedDrawStream(seed: number): SeedDraws {
  return new SeedDraws(splitmix32((SEED_STREAM_KEY ^ splitmix32(seed >>> 0)) >>> 0));
}

/**
 * Resampled differences Δ*_b (unsorted) of the paired two-level bootstrap: per replicate, one
 * multiset of the seeds both sides have (`pairSeeds`), drawn with replacement and applied to both
 * ensembles, then `n` question indices drawn exactly as `bootstrapDeltas(d, resamples, seed)`
 * draws them, shared by both sides. Needs at least two common seeds.
 */
export function seedAwareDeltas(baseline: SeedEnsembles, candidate: SeedEnsembles, resamples: number, seed: number): Float64Array {
  const n = baseline.questions;
  if (n === 0 || candidate.questions !== n) {
    throw new AggregateInputError(`baseline has ${n} questions, candidate ${candidate.questions}; both need the same non-zero count`, 'seedAware.questions', candidate.questions);
  }
  const { common } = pairSeeds(baseline.seedValues, candidate.seedValues);
  const m = common.length;
  if (m < 2) {
    throw new AggregateInputError(
      `${candidate.name} and ${baseline.name} share ${m} seed${m === 1 ? '' : 's'}; seed variance needs at least 2 seeds both have`,
      `seedAware.${candidate.name}.seeds`,
      candidate.seedValues.join(','),
    );
  }
  const basePos = Int32Array.from(common, (v) => baseline.positionOf(v));
  const candPos = Int32Array.from(common, (v) => candidate.positionOf(v));
  const drawn = new Uint16Array(m);
  const baseCounts = new Uint16Array(baseline.seeds);
  const candCounts = new Uint16Array(candidate.seeds);
  const draws = seedDrawStream(seed);
  const st = seedState(seed);
  let s0 = st[0] ?? 1;
  let s1 = st[1] ?? 0;
  let s2 = st[2] ?? 0;
  let s3 = st[3] ?? 0;
  const out = new Float64Array(resamples);
  const scale = n / 4294967296;
  for (let b = 0; b < resamples; b++) {
    // One multiset of the common seeds, the same for both sides.
    drawn.fill(0);
    for (let j = 0; j < m; j++) {
      const i = draws.below(m);
      drawn[i] = (drawn[i] ?? 0) + 1;
    }
    for (let j = 0; j < m; j++) {
      baseCounts[basePos[j] ?? 0] = drawn[j] ?? 0;
      candCounts[candPos[j] ?? 0] = drawn[j] ?? 0;
    }
    const bv = baseline.scoresOf(baseCounts);
    const cv = candidate.scoresOf(candCounts);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      // The generator and index mapping of `bootstrapDeltas`, step for step (see there).
      const mm = Math.imul(s1, 5);
      const r = Math.imul((mm << 7) | (mm >>> 25), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      const j = (r * scale) | 0;
      sum += (cv[j] as number) - (bv[j] as number);
    }
    out[b] = sum / n;
  }
  return out;
}

/**
 * The seed-aware comparison of `candidate` with `baseline`: percentile interval at the bootstrap's
 * confidence and the one-sided p-value (1 + #{Δ* ≤ 0}) / (B + 1), both over the common seeds and
 * the questions.
 */
export function seedAwareBootstrap(baseline: SeedEnsembles, candidate: SeedEnsembles, opts: BootstrapOptions = {}): SeedAwareResult {
  const { resamples, confidence, seed } = compileBootstrapOptions(opts);
  return summarizeDeltas(seedAwareDeltas(baseline, candidate, resamples, seed), confidence);
}
