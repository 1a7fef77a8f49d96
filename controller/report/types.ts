// The files a finished study leaves in its output folder, as `ablate run` writes them and
// `ablate report` reads them. The field names follow DESIGN.md "Numbers a user sees", so the
// local results.json and a FineTuneJob's status carry the same numbers. A number is null where a
// run failed or an ablation has no finished seed; renderers print those as "failed" or "—".

import type { BestAblation, RecordedBaselineComparison } from '../../api/mod.js';

/** `results.json`: one study, scored. */
export interface StudyResults {
  job: string;
  namespace?: string;
  /** ISO 8601 time the results were written. */
  createdAt: string;
  /** The k of MAP@k (3 for the Kaggle metric). */
  k: number;
  evaluation: EvaluationSettings;
  validation: { path: string; sha256: string; questions: number };
  /** What the runs trained on, when known: one entry per training file. */
  training?: { files: Array<{ path: string; questions: number }> };
  runs: RunResult[];
  ablations: AblationResult[];
  /** The ablation with the highest ensemble MAP@k; null when no ablation has one. */
  best: BestAblation | null;
}

export interface EvaluationSettings {
  k: number;
  /** How seeds are combined, e.g. `mean-probabilities`. */
  ensemble: string;
  /** The ablation every other one is compared with. */
  baseline: string;
  /** `resampleSeeds`: whether the seed-aware comparison was asked for (absent in older files: no). */
  bootstrap: { resamples: number; confidence: number; seed: number; resampleSeeds?: boolean };
}

/** One (ablation, seed) training run. */
export interface RunResult {
  ablation: string;
  seed: number;
  /** The run's final phase, e.g. `Succeeded` or `Failed`. */
  phase: string;
  attempts: number;
  /** MAP@k of this run alone; null when it has no complete predictions. */
  mapAtK: number | null;
  predictions: { received: number; expected: number };
  /** Paths relative to the results folder; null where the file was not written. */
  files: { probabilities: string | null; submission: string | null; curves: string | null };
  /** What was trained, as the runtime recorded it (free-form; shown, not interpreted). */
  model?: Record<string, unknown>;
}

/** One ablation: its seeds, their spread, their ensemble and the comparison with the baseline. */
export interface AblationResult {
  name: string;
  seeds: number[];
  seedMean: number | null;
  seedStd: number | null;
  seedMin: number | null;
  seedMax: number | null;
  ensembleMapAtK: number | null;
  files: { probabilities: string | null; submission: string | null };
  /** Absent for the baseline itself and where either ensemble is missing. */
  vsBaseline?: ResultsComparison;
}

/**
 * The paired-bootstrap comparison of an ablation's ensemble with the baseline's, as results.json
 * holds it (an older file lacks the Holm p-value and the power figures), with the baseline's name;
 * `seedAware` only where the seed-aware bootstrap was asked for and both sides had 2+ seeds in common.
 */
export interface ResultsComparison extends RecordedBaselineComparison {
  baseline: string;
}

/** `curves.json`, one per run: what the trainer reported while training. */
export interface RunCurves {
  ablation: string;
  seed: number;
  points: CurvePoint[];
}

export interface CurvePoint {
  step: number;
  totalSteps: number;
  epoch: number;
  /** Training phase, e.g. `head-warmup` (backbone frozen) or `full`. */
  phase: string;
  loss: number | null;
  /** Learning rate per parameter group at this step (0 for a frozen group). */
  learningRates: Record<string, number>;
  examplesPerSecond: number | null;
  elapsedMs: number;
}
