// Simulated per-question MAP@3 scores for the statistics tests: a seeded generator and the paired
// model "candidate re-draws a fraction q of the baseline's questions from a better profile", whose
// true mean and variance of the difference are known exactly by enumeration.

/** A small seeded PRNG for test data (independent of the one under test). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    // Mix the high bits down: an LCG's low bits are weak.
    const x = Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) >>> 0;
    return ((x ^ (x >>> 12)) >>> 0) / 4294967296;
  };
}

/** Scores of ranks 1, 2, 3 and "not in the top 3". */
export const SCORES = [1, 1 / 2, 1 / 3, 0];

/** Baseline profile: P(rank 1, 2, 3, miss) — MAP@3 0.74, as in science.md §6.2. */
export const BASE_PROFILE = [0.66, 0.12, 0.06, 0.16];

function draw(profile: readonly number[], u: number): number {
  let acc = 0;
  for (let i = 0; i < profile.length; i++) {
    acc += profile[i] ?? 0;
    if (u < acc) return SCORES[i] ?? 0;
  }
  return 0;
}

/**
 * The candidate's profile: with probability t the answer moves to rank 1, otherwise the baseline
 * profile. Mean gain on a re-drawn question: t·(1 − MAP).
 */
export function betterProfile(t: number): number[] {
  return BASE_PROFILE.map((p, i) => (i === 0 ? t + (1 - t) * p : (1 - t) * p));
}

/** Exact mean and variance of d = candidate − baseline when a fraction q of questions is re-drawn. */
export function truth(q: number, t: number): { mean: number; variance: number } {
  const cand = betterProfile(t);
  let m1 = 0;
  let m2 = 0;
  BASE_PROFILE.forEach((pa, i) =>
    cand.forEach((pb, j) => {
      const d = (SCORES[j] ?? 0) - (SCORES[i] ?? 0);
      m1 += pa * pb * d;
      m2 += pa * pb * d * d;
    }),
  );
  const mean = q * m1;
  return { mean, variance: q * m2 - mean * mean };
}

/** One simulated dataset of n questions under the model. */
export function simulate(n: number, q: number, t: number, rand: () => number): { base: Float64Array; cand: Float64Array } {
  const base = new Float64Array(n);
  const cand = new Float64Array(n);
  const better = betterProfile(t);
  for (let i = 0; i < n; i++) {
    base[i] = draw(BASE_PROFILE, rand());
    cand[i] = rand() < q ? draw(better, rand()) : (base[i] ?? 0);
  }
  return { base, cand };
}
