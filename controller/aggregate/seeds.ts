// Seed-aware (two-level) paired bootstrap (science.md §6.4 point 5): the question-only bootstrap
// treats each seed ensemble as fixed, yet the seeds it was built from are themselves a draw. Each
// replicate here first redraws every ensemble's seeds with replacement (independently per
// ablation, the baseline too), rebuilds the ensembles from the drawn seeds, then resamples the
// questions with indices shared by candidate and baseline and takes the mean difference Δ*.
//
// Cost: a drawn multiset of s seeds is one of C(2s−1, s) (10 for 3 seeds), so each ablation's
// multiset ensembles are built and scored once, lazily, and cached; the replicate loop is the
// question-only loop with two gathers instead of one, O(B·n). The question indices come from the
// very stream `bootstrapDeltas` uses for the same seed, so when every seed predicts alike the
// interval equals the question-only one exactly; each ablation's seed draws come from a stream of
// its own (keyed by the bootstrap seed and the ablation's name), so adding an ablation to a study
// changes no other ablation's figures.
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

/** FNV-1a over the UTF-16 code units of `s`. */
function hashName(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

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
  /** The ablation's name: it keys the ablation's own stream of seed draws. */
  name: string;
  /** One `questions × options` probability array per seed, in validation order (aligned). */
  runs: readonly Probabilities[];
  method: EnsembleMethod;
  options: number;
  /** Correct option index per question. */
  answers: ArrayLike<number>;
  k: number;
}

/**
 * One ablation's seeds for the seed-aware bootstrap: draws a multiset of its seeds and returns the
 * per-question scores of that multiset's ensemble (a seed drawn twice weighs twice), building
 * each distinct ensemble once.
 */
export class SeedEnsembles {
  readonly name: string;
  readonly seeds: number;
  readonly questions: number;
  private readonly cache = new Map<number | string, Float64Array>();
  private readonly counts: Uint16Array;
  private built = 0;

  constructor(
    private readonly input: SeedEnsemblesInput,
    private readonly cacheBytes = SEED_CACHE_BYTES,
  ) {
    if (input.runs.length === 0) throw new AggregateInputError('no seeds to resample', `seedAware.${input.name}.runs`, 0);
    this.name = input.name;
    this.seeds = input.runs.length;
    this.questions = input.answers.length;
    this.counts = new Uint16Array(this.seeds);
  }

  /** Distinct multiset ensembles built so far (at most `seedMultisetCount(seeds)` while cached). */
  get ensemblesBuilt(): number {
    return this.built;
  }

  /** Distinct multiset ensembles held in the cache. */
  get cached(): number {
    return this.cache.size;
  }

  /** Per-question scores of the ensemble of the seeds drawn `counts[j]` times each. */
  scoresOf(counts: ArrayLike<number>): Float64Array {
    const key = this.keyOf(counts);
    const hit = this.cache.get(key);
    if (hit) return hit;
    // Each drawn seed enters the ensemble once per draw, in seed order: the multiset that holds
    // every seed once is the observed ensemble to the last bit.
    const runs: Probabilities[] = [];
    for (let j = 0; j < this.seeds; j++) for (let c = 0; c < (counts[j] ?? 0); c++) runs.push(this.input.runs[j] as Probabilities);
    const scores = perQuestionScores(ensemble(runs, this.input.method, this.input.options), this.input.answers, this.input.k);
    this.built++;
    if ((this.cache.size + 1) * scores.byteLength <= this.cacheBytes) this.cache.set(key, scores);
    return scores;
  }

  /** Draws `seeds` seeds with replacement and returns their ensemble's per-question scores. */
  draw(rng: SeedDraws): Float64Array {
    const counts = this.counts;
    counts.fill(0);
    for (let j = 0; j < this.seeds; j++) {
      const i = rng.below(this.seeds);
      counts[i] = (counts[i] ?? 0) + 1;
    }
    return this.scoresOf(counts);
  }

  /** A number while (s+1)^s stays exact in a double (s ≤ 13), else the counts as text. */
  private keyOf(counts: ArrayLike<number>): number | string {
    if (this.seeds > 13) return Array.from(counts).join(',');
    let key = 0;
    for (let j = 0; j < this.seeds; j++) key = key * (this.seeds + 1) + (counts[j] ?? 0);
    return key;
  }

  /** This ablation's stream of seed draws for bootstrap seed `seed`. */
  stream(seed: number): SeedDraws {
    return new SeedDraws(splitmix32((hashName(this.name) ^ splitmix32(seed >>> 0)) >>> 0));
  }
}

/**
 * Resampled differences Δ*_b (unsorted) of the two-level bootstrap: per replicate, a seed
 * multiset for each side, then `n` question indices drawn exactly as `bootstrapDeltas(d,
 * resamples, seed)` draws them, shared by both sides.
 */
export function seedAwareDeltas(baseline: SeedEnsembles, candidate: SeedEnsembles, resamples: number, seed: number): Float64Array {
  const n = baseline.questions;
  if (n === 0 || candidate.questions !== n) {
    throw new AggregateInputError(`baseline has ${n} questions, candidate ${candidate.questions}; both need the same non-zero count`, 'seedAware.questions', candidate.questions);
  }
  const baseDraws = baseline.stream(seed);
  const candDraws = candidate.stream(seed);
  const st = seedState(seed);
  let s0 = st[0] ?? 1;
  let s1 = st[1] ?? 0;
  let s2 = st[2] ?? 0;
  let s3 = st[3] ?? 0;
  const out = new Float64Array(resamples);
  const scale = n / 4294967296;
  for (let b = 0; b < resamples; b++) {
    const bv = baseline.draw(baseDraws);
    const cv = candidate.draw(candDraws);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      // The generator and index mapping of `bootstrapDeltas`, step for step (see there).
      const m = Math.imul(s1, 5);
      const r = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
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
 * confidence and the one-sided p-value (1 + #{Δ* ≤ 0}) / (B + 1), both over seeds and questions.
 */
export function seedAwareBootstrap(baseline: SeedEnsembles, candidate: SeedEnsembles, opts: BootstrapOptions = {}): SeedAwareResult {
  const { resamples, confidence, seed } = compileBootstrapOptions(opts);
  return summarizeDeltas(seedAwareDeltas(baseline, candidate, resamples, seed), confidence);
}
