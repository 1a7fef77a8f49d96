// Small statistics: seed summaries, Holm's correction, and the standard normal distribution.
import { AggregateInputError } from './errors.js';

/** Mean, sample standard deviation (n−1; 0 for one value), min and max of per-seed scores. */
export interface SeedStats {
  n: number;
  mean: number;
  std: number;
  min: number;
  max: number;
}

export function seedStats(values: ArrayLike<number>): SeedStats {
  const n = values.length;
  if (n === 0) throw new AggregateInputError('no values to summarise', 'values', 0);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i] ?? NaN;
    if (!Number.isFinite(v)) throw new AggregateInputError(`value ${i} is not a finite number`, 'values', v);
    sum += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += ((values[i] ?? 0) - mean) ** 2;
  return { n, mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, min, max };
}

/**
 * Holm's step-down adjustment (Holm 1979), in input order: sort ascending, multiply the i-th
 * smallest (0-based) by m−i, carry the running maximum so the adjusted values keep the order of
 * the raw ones, cap at 1.
 */
export function holm(pValues: ArrayLike<number>): Float64Array {
  const m = pValues.length;
  for (let i = 0; i < m; i++) {
    const p = pValues[i] ?? NaN;
    if (!(p >= 0 && p <= 1)) throw new AggregateInputError(`p-value ${i} is not in [0, 1]`, 'pValues', p);
  }
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => (pValues[a] ?? 0) - (pValues[b] ?? 0) || a - b);
  const out = new Float64Array(m);
  let running = 0;
  order.forEach((idx, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * (pValues[idx] ?? 1)));
    out[idx] = running;
  });
  return out;
}

/**
 * Φ(x), the standard normal CDF, from the series Φ(x) = ½ + φ(x)·Σ x^(2k+1)/(2k+1)!! — all terms
 * share x's sign, so nothing cancels, and double precision holds over the range power analysis
 * uses (|x| < 8; beyond, Φ is 0 or 1 to double precision).
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < -8) return 0;
  if (x > 8) return 1;
  let term = x;
  let sum = x;
  for (let k = 1; k < 1000 && Math.abs(term) > 1e-17 * Math.abs(sum); k++) {
    term *= (x * x) / (2 * k + 1);
    sum += term;
  }
  return 0.5 + sum * Math.exp(-0.5 * x * x - 0.5 * Math.log(2 * Math.PI));
}

/** Φ⁻¹(p) by bisection on `normalCdf` (exact to double precision; speed is irrelevant here). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new AggregateInputError('probability must be in (0, 1)', 'p', p);
  let lo = -8;
  let hi = 8;
  for (let i = 0; i < 200 && hi - lo > 1e-15; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
