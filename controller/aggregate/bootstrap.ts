// Paired bootstrap over questions (Koehn 2004; science.md §6.4): both systems are scored on the
// same resampled questions, so only the per-question difference d = candidate − baseline matters
// and the loop resamples d alone. The PRNG is our own xoshiro128** seeded through splitmix32:
// 32-bit integer arithmetic only, so a seed gives the same interval on every platform and Node
// version (Math.random cannot be seeded).
import { AggregateInputError } from './errors.js';

/** @default 10000 */
export const DEFAULT_RESAMPLES = 10_000;
/** @default 0.95 */
export const DEFAULT_CONFIDENCE = 0.95;
/** @default 0 */
export const DEFAULT_BOOTSTRAP_SEED = 0;
/** @default false */
export const DEFAULT_RESAMPLE_SEEDS = false;

export interface BootstrapOptions {
  /** Resamples drawn. @default DEFAULT_RESAMPLES (10,000) */
  resamples?: number;
  /** Two-sided coverage of the percentile interval. @default DEFAULT_CONFIDENCE (0.95) */
  confidence?: number;
  /** PRNG seed (an integer; taken modulo 2³²). @default DEFAULT_BOOTSTRAP_SEED (0) */
  seed?: number;
  /**
   * Also compute the seed-aware (two-level) bootstrap, which resamples each ensemble's training
   * seeds before the questions (`seeds.ts`). Never changes the question-only figures.
   * @default DEFAULT_RESAMPLE_SEEDS (false)
   */
  resampleSeeds?: boolean;
}

export type CompiledBootstrapOptions = Required<BootstrapOptions>;

/** Validates and fills in the defaults. */
export function compileBootstrapOptions(opts: BootstrapOptions = {}): CompiledBootstrapOptions {
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const confidence = opts.confidence ?? DEFAULT_CONFIDENCE;
  const seed = opts.seed ?? DEFAULT_BOOTSTRAP_SEED;
  const resampleSeeds = opts.resampleSeeds ?? DEFAULT_RESAMPLE_SEEDS;
  if (!Number.isInteger(resamples) || resamples < 1) throw new AggregateInputError('must be a positive integer', 'bootstrap.resamples', resamples);
  if (!(confidence > 0 && confidence < 1)) throw new AggregateInputError('must be in (0, 1)', 'bootstrap.confidence', confidence);
  if (!Number.isInteger(seed)) throw new AggregateInputError('must be an integer', 'bootstrap.seed', seed);
  if (typeof resampleSeeds !== 'boolean') throw new AggregateInputError('must be true or false', 'bootstrap.resampleSeeds', resampleSeeds);
  return { resamples, confidence, seed, resampleSeeds };
}

export interface BootstrapResult {
  /** Observed mean difference, candidate − baseline. */
  delta: number;
  /** Percentile interval of the resampled differences. */
  ciLow: number;
  ciHigh: number;
  /**
   * One-sided p-value for "the candidate is better": (1 + #{Δ* ≤ 0}) / (B + 1). The +1s count the
   * observed data as one resample, so p is never 0 from a finite number of draws.
   */
  pValue: number;
}

export function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** xoshiro128** state for `seed`: four splitmix32 outputs (never all zero for any seed). */
export function seedState(seed: number): Uint32Array {
  const s = new Uint32Array(4);
  let x = seed >>> 0;
  for (let i = 0; i < 4; i++) {
    x = (x + 0x9e3779b9) >>> 0;
    s[i] = splitmix32(x);
  }
  if (s.every((v) => v === 0)) s[0] = 1;
  return s;
}

/** Quantile with linear interpolation between order statistics (numpy's default), of sorted `x`. */
export function quantileSorted(x: Float64Array, q: number): number {
  const h = (x.length - 1) * q;
  const lo = Math.floor(h);
  const a = x[lo] ?? NaN;
  const b = x[Math.min(lo + 1, x.length - 1)] ?? NaN;
  return a + (h - lo) * (b - a);
}

/** The per-question differences candidate − baseline, checked for equal length. */
export function differences(baseline: ArrayLike<number>, candidate: ArrayLike<number>): Float64Array {
  const n = baseline.length;
  if (n === 0 || candidate.length !== n) {
    throw new AggregateInputError(`baseline has ${n} scores, candidate ${candidate.length}; both need the same non-zero count`, 'scores', candidate.length);
  }
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = (candidate[i] ?? 0) - (baseline[i] ?? 0);
  return d;
}

/**
 * Resampled mean differences Δ*_b (unsorted), drawing question indices with replacement from a
 * seeded xoshiro128**. Exposed for tests and for callers that want other summaries.
 */
export function bootstrapDeltas(d: Float64Array, resamples: number, seed: number): Float64Array {
  const n = d.length;
  const st = seedState(seed);
  let s0 = st[0] ?? 1;
  let s1 = st[1] ?? 0;
  let s2 = st[2] ?? 0;
  let s3 = st[3] ?? 0;
  const out = new Float64Array(resamples);
  const scale = n / 4294967296;
  for (let b = 0; b < resamples; b++) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      // xoshiro128**: result = rotl(s1·5, 7)·9, then the xor-shift state update.
      const m = Math.imul(s1, 5);
      const r = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      // Multiply-shift maps a uniform 32-bit word to [0, n) without a modulo; the index is always
      // in range, hence the cast (a `?? 0` here costs measurable time in the hottest loop).
      sum += d[(r * scale) | 0] as number;
    }
    out[b] = sum / n;
  }
  return out;
}

/**
 * Paired bootstrap of mean(candidate) − mean(baseline) over the same questions (same order).
 * Percentile CI at `confidence`; one-sided p as documented on `BootstrapResult.pValue`.
 */
export function pairedBootstrap(baselineScores: ArrayLike<number>, candidateScores: ArrayLike<number>, opts: BootstrapOptions = {}): BootstrapResult {
  const { resamples, confidence, seed } = compileBootstrapOptions(opts);
  const d = differences(baselineScores, candidateScores);
  let sum = 0;
  for (let i = 0; i < d.length; i++) sum += d[i] ?? 0;
  const delta = sum / d.length;
  return { delta, ...summarizeDeltas(bootstrapDeltas(d, resamples, seed), confidence) };
}

/**
 * The percentile interval at `confidence` and the one-sided p-value (1 + #{Δ* ≤ 0}) / (B + 1) of
 * resampled differences. Sorts `deltas` in place.
 */
export function summarizeDeltas(deltas: Float64Array, confidence: number): Omit<BootstrapResult, 'delta'> {
  let notBetter = 0;
  for (let b = 0; b < deltas.length; b++) if ((deltas[b] ?? 0) <= 0) notBetter++;
  deltas.sort();
  const tail = (1 - confidence) / 2;
  return {
    ciLow: quantileSorted(deltas, tail),
    ciHigh: quantileSorted(deltas, 1 - tail),
    pValue: (1 + notBetter) / (deltas.length + 1),
  };
}
