// MAP@k exactly as Kaggle scored "LLM Science Exam": one correct answer per question; the first
// occurrence of the correct label within the first k predictions scores 1/rank; later repeats of
// it score nothing (`A A A` → 1) while repeated wrong labels still use up ranks (`B B A` → 1/3);
// predictions past k are ignored; a blank or missing prediction scores 0. Tokens are compared
// verbatim, as Kaggle did, so `a` does not match `A` (science.md §1.2, Hamner's `apk`).
// Everything downstream (means, ensembles, bootstrap) works on the per-question score vector.
import { AggregateInputError } from './errors.js';

/** Cut-off of the competition metric. @default 3 */
export const DEFAULT_K = 3;

/** Predicted tokens per question, best first, aligned with the answers; `undefined` = no prediction. */
export type Rankings = ReadonlyArray<readonly string[] | undefined>;

/** Row-major `n × c` option scores (probabilities); a NaN at the answer marks "no prediction". */
export type Probabilities = Float32Array | Float64Array;

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new AggregateInputError('k must be a positive integer', 'k', k);
}

/**
 * The per-question scores (1, 1/2, …, 1/k or 0). Rankings are compared with answer letters;
 * probabilities with answer indices, ranking options by probability with the lower option index
 * first among equals.
 */
export function perQuestionScores(predictions: Rankings, answers: readonly string[], k?: number): Float64Array;
export function perQuestionScores(predictions: Probabilities, answers: ArrayLike<number>, k?: number): Float64Array;
export function perQuestionScores(predictions: Rankings | Probabilities, answers: ArrayLike<number> | readonly string[], k = DEFAULT_K): Float64Array {
  checkK(k);
  if (ArrayBuffer.isView(predictions)) return scoreProbabilities(predictions, answers as ArrayLike<number>, k);
  return scoreRankings(predictions, answers as readonly string[], k);
}

/** MAP@k: the mean of `perQuestionScores` (0 for no questions is refused: there is nothing to score). */
export function mapAtK(predictions: Rankings, answers: readonly string[], k?: number): number;
export function mapAtK(predictions: Probabilities, answers: ArrayLike<number>, k?: number): number;
export function mapAtK(predictions: Rankings | Probabilities, answers: ArrayLike<number> | readonly string[], k = DEFAULT_K): number {
  const scores = ArrayBuffer.isView(predictions)
    ? perQuestionScores(predictions, answers as ArrayLike<number>, k)
    : perQuestionScores(predictions, answers as readonly string[], k);
  return mean(scores);
}

/** The arithmetic mean; refuses an empty vector. */
export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) throw new AggregateInputError('no values to average', 'values', 0);
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] ?? 0;
  return s / values.length;
}

function scoreRankings(rankings: Rankings, answers: readonly string[], k: number): Float64Array {
  if (rankings.length !== answers.length) {
    throw new AggregateInputError(`${rankings.length} rankings for ${answers.length} answers`, 'rankings', rankings.length);
  }
  const out = new Float64Array(answers.length);
  for (let i = 0; i < answers.length; i++) {
    const r = rankings[i];
    if (!r) continue;
    const limit = Math.min(k, r.length);
    for (let j = 0; j < limit; j++) {
      // The first occurrence decides; a repeat of the correct label can never come earlier.
      if (r[j] === answers[i]) {
        out[i] = 1 / (j + 1);
        break;
      }
    }
  }
  return out;
}

function scoreProbabilities(probs: Probabilities, answers: ArrayLike<number>, k: number): Float64Array {
  const n = answers.length;
  const c = n === 0 ? 0 : probs.length / n;
  if (n === 0 || !Number.isInteger(c) || c < 1) {
    throw new AggregateInputError(`${probs.length} probabilities do not form ${n} rows`, 'probs', probs.length);
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = answers[i] ?? -1;
    if (!Number.isInteger(a) || a < 0 || a >= c) throw new AggregateInputError(`answer of question ${i} is not an option index 0..${c - 1}`, 'answers', a);
    const base = i * c;
    const pa = probs[base + a] ?? NaN;
    if (Number.isNaN(pa)) continue;
    // Rank of the answer = 1 + options ranked before it (higher, or equal with a lower index).
    let rank = 1;
    for (let j = 0; j < c && rank <= k; j++) {
      const pj = probs[base + j] ?? NaN;
      if (pj > pa || (pj === pa && j < a)) rank++;
    }
    if (rank <= k) out[i] = 1 / rank;
  }
  return out;
}

/** Predictions lined up with the validation questions. */
export interface Aligned<T> {
  predictions: T;
  /** Prediction ids that are not validation questions (ignored). */
  unknownIds: string[];
  /** Validation questions without a prediction (they score 0). */
  missing: number;
}

/** Lines up id → tokens with the question ids; absent questions get `undefined` (score 0). */
export function alignRankings(questionIds: readonly string[], byId: ReadonlyMap<string, readonly string[]>): Aligned<(readonly string[] | undefined)[]> {
  const known = new Set(questionIds);
  const unknownIds = [...byId.keys()].filter((id) => !known.has(id));
  const predictions = questionIds.map((id) => byId.get(id));
  return { predictions, unknownIds, missing: predictions.filter((p) => p === undefined).length };
}

/** Lines up probability rows (`ids` order) with the question ids; absent questions get NaN rows. */
export function alignProbabilities<P extends Probabilities>(questionIds: readonly string[], ids: readonly string[], probs: P, options: number): Aligned<P> {
  if (probs.length !== ids.length * options) {
    throw new AggregateInputError(`${probs.length} probabilities for ${ids.length} ids x ${options} options`, 'probs', probs.length);
  }
  const row = new Map<string, number>();
  ids.forEach((id, i) => row.set(id, i));
  const out = (probs instanceof Float32Array ? new Float32Array(questionIds.length * options) : new Float64Array(questionIds.length * options)) as P;
  let missing = 0;
  questionIds.forEach((id, q) => {
    const i = row.get(id);
    if (i === undefined) {
      out.fill(NaN, q * options, (q + 1) * options);
      missing++;
    } else {
      out.set(probs.subarray(i * options, (i + 1) * options), q * options);
    }
  });
  const known = new Set(questionIds);
  return { predictions: out, unknownIds: ids.filter((id) => !known.has(id)), missing };
}
