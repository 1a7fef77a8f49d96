// Seed ensembles (science.md §6.1). Mean of probabilities is soft voting, the usual Kaggle
// practice; mean of log-probabilities is the geometric mean, which ranks like averaging logits
// (multiple-choice logits are shift-invariant per question) and weighs a confident seed less.
import { AggregateInputError } from './errors.js';
import type { Probabilities } from './map.js';

export const ENSEMBLE_METHODS = ['mean-probabilities', 'mean-logits'] as const;
export type EnsembleMethod = (typeof ENSEMBLE_METHODS)[number];

/** @default 'mean-probabilities' */
export const DEFAULT_ENSEMBLE_METHOD: EnsembleMethod = 'mean-probabilities';

/** Probabilities are floored here before the logarithm: a float32 softmax underflows to 0. */
const LOG_FLOOR = 1e-30;

/**
 * Combines runs of `n × options` probabilities (row-major, aligned on the same questions). A row
 * that is NaN in some runs (a question a run did not predict) is combined from the others; a row
 * no run predicted stays NaN (it scores 0). Output rows sum to 1.
 */
export function ensemble(runs: readonly Probabilities[], method: EnsembleMethod, options: number): Float32Array {
  const first = runs[0];
  if (!first) throw new AggregateInputError('no runs to ensemble', 'runs', 0);
  if (!ENSEMBLE_METHODS.includes(method)) throw new AggregateInputError(`unknown method; use one of ${ENSEMBLE_METHODS.join(', ')}`, 'method', method);
  if (!Number.isInteger(options) || options < 1 || first.length % options !== 0) {
    throw new AggregateInputError(`${first.length} values do not form rows of ${options} options`, 'options', options);
  }
  for (const r of runs) {
    if (r.length !== first.length) throw new AggregateInputError(`runs differ in length (${first.length} vs ${r.length})`, 'runs', r.length);
  }
  const n = first.length / options;
  const out = new Float32Array(first.length);
  const acc = new Float64Array(options);
  const logs = method === 'mean-logits';
  for (let i = 0; i < n; i++) {
    const base = i * options;
    acc.fill(0);
    let count = 0;
    for (const r of runs) {
      if (Number.isNaN(r[base] ?? NaN)) continue;
      count++;
      for (let j = 0; j < options; j++) {
        const p = r[base + j] ?? 0;
        acc[j] = (acc[j] ?? 0) + (logs ? Math.log(Math.max(p, LOG_FLOOR)) : p);
      }
    }
    if (count === 0) {
      out.fill(NaN, base, base + options);
      continue;
    }
    if (logs) {
      // Softmax of the mean log-probability: exp of the geometric mean, renormalised.
      let max = -Infinity;
      for (let j = 0; j < options; j++) max = Math.max(max, (acc[j] ?? 0) / count);
      let sum = 0;
      for (let j = 0; j < options; j++) {
        const e = Math.exp((acc[j] ?? 0) / count - max);
        acc[j] = e;
        sum += e;
      }
      for (let j = 0; j < options; j++) out[base + j] = (acc[j] ?? 0) / sum;
    } else {
      let sum = 0;
      for (let j = 0; j < options; j++) sum += acc[j] ?? 0;
      for (let j = 0; j < options; j++) out[base + j] = sum > 0 ? (acc[j] ?? 0) / sum : 1 / options;
    }
  }
  return out;
}
