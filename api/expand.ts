// From a spec to the list of runs the runtimes execute: every expanded ablation × every seed.
import { DEFAULT_SEEDS, resolveTraining } from './defaults.js';
import { expandAblations } from './matrix.js';
import type { FineTuneJobSpec, Run } from './types.js';

export { expandAblations, expandedAblationName, matrixSize } from './matrix.js';

/**
 * Every (ablation, seed) pair in a fixed order — ablations as listed (matrix combinations in
 * place), then seeds as listed — each with the ablation's overlay deep-merged over
 * `spec.training` and every default applied. Runtimes, the collector and reports all rely on
 * this order.
 */
export function expandRuns(spec: FineTuneJobSpec): Run[] {
  const seeds = spec.seeds ?? [...DEFAULT_SEEDS];
  return expandAblations(spec).flatMap((a) => {
    const training = resolveTraining(spec.training, a.training);
    return seeds.map((seed) => ({ ablation: a.name, seed, training: structuredClone(training), ...(a.data === undefined ? {} : { data: structuredClone(a.data) }) }));
  });
}
