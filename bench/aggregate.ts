// Aggregation vs NumPy (issue #7 item 4b): the whole study arithmetic of the reference study at
// the competition's scale — 4,000 questions × 9 runs (3 ablations × 3 seeds): MAP@3 per run, seed
// statistics, mean-probabilities ensembles, a paired bootstrap of 10,000 resamples per ablation
// against the baseline, power figures and Holm — ours (`aggregateStudy`) against the same
// arithmetic in NumPy (bench/aggregate_numpy.py, Debian's python3-numpy), same data, same run.
// The two results are cross-checked: per-run and ensemble MAP@3 must agree exactly, the bootstrap
// intervals (different PRNGs) within a few thousandths.
//
//   npx tsx bench/aggregate.ts [--repeats 5] [--resamples 10000] [--questions 4000]
//
// Writes bench/results/aggregate.json (ratio = NumPy ms / ours ms).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aggregateStudy, bootstrapDeltas, differences, perQuestionScores, type StudyAggregate, type StudyInput } from '../controller/aggregate/mod.js';
import { DEFAULT_REPEATS, bestOf, intFlag, machine, ratioOf, round, summary, writeResult } from './common.js';

const OPTIONS = 5;
const ABLATIONS = ['baseline', 'lr-2x', 'no-warmup'];
const SEEDS = 3;
/** Debian's interpreter: its numpy is the peer (the default python3 here is another build without it). */
const PYTHON = '/usr/bin/python3';

const argv = process.argv.slice(2);
const questions = intFlag(argv, '--questions', 4000);
const resamples = intFlag(argv, '--resamples', 10_000);
const repeats = intFlag(argv, '--repeats', DEFAULT_REPEATS);

/** Deterministic stand-in predictions: each ablation a little better or worse, seeds differing. */
function makeStudy(): { input: StudyInput; probs: Float32Array; answers: Int32Array } {
  let s = 12345;
  const rand = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const answers = Int32Array.from({ length: questions }, () => Math.floor(rand() * OPTIONS));
  const difficulty = Float64Array.from({ length: questions }, () => rand() * 3);
  const runs = ABLATIONS.length * SEEDS;
  const probs = new Float32Array(runs * questions * OPTIONS);
  const logits = new Float64Array(OPTIONS);
  for (let r = 0; r < runs; r++) {
    const skill = 1.6 + 0.15 * Math.floor(r / SEEDS);
    for (let q = 0; q < questions; q++) {
      let sum = 0;
      for (let j = 0; j < OPTIONS; j++) {
        logits[j] = 2 * rand() + (j === answers[q] ? skill + 1 - (difficulty[q] ?? 0) : 0);
        sum += Math.exp(logits[j] ?? 0);
      }
      for (let j = 0; j < OPTIONS; j++) probs[(r * questions + q) * OPTIONS + j] = Math.exp(logits[j] ?? 0) / sum;
    }
  }
  const input: StudyInput = {
    questionIds: Array.from({ length: questions }, (_, i) => `q${i}`),
    answers,
    options: OPTIONS,
    baseline: ABLATIONS[0] as string,
    ablations: ABLATIONS,
    bootstrap: { resamples, seed: 0 },
    runs: Array.from({ length: runs }, (_, r) => ({
      ablation: ABLATIONS[Math.floor(r / SEEDS)] as string,
      seed: r % SEEDS,
      probs: probs.subarray(r * questions * OPTIONS, (r + 1) * questions * OPTIONS),
    })),
  };
  return { input, probs, answers };
}

interface NumpyOutput {
  numpy: string;
  python: string;
  blas: unknown;
  bestMs: number;
  medianMs: number;
  allMs: number[];
  result: {
    runs: number[];
    ablations: Record<string, { ensembleMapAtK: number; seedMean: number; vsBaseline?: { delta: number; ciLow: number; ciHigh: number; pValue: number } }>;
  };
}

function runNumpy(dir: string): NumpyOutput {
  const env = { ...process.env };
  // They pick an older, slower OpenBLAS kernel on this processor (see the env notes); the peer
  // gets the kernel a NumPy user would have. Only this child's environment is changed.
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const probe = spawnSync(PYTHON, ['-c', 'import numpy'], { env, encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(`bench/aggregate.ts: the peer needs Debian's NumPy for ${PYTHON} (${(probe.stderr || String(probe.error)).trim().split('\n').at(-1)}); install it with: apt-get install -y python3-numpy`);
  }
  const script = join(dirname(fileURLToPath(import.meta.url)), 'aggregate_numpy.py');
  const out = execFileSync(PYTHON, [script, dir, '--repeats', String(repeats)], { env, encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '') as NumpyOutput;
}

/** Differences between our figures and NumPy's; throws when the exact parts disagree. */
function crossCheck(ours: StudyAggregate, theirs: NumpyOutput['result']): { maxCiDiff: number } {
  ours.summary.runs.forEach((r, i) => {
    const t = theirs.runs[i];
    if (t === undefined || Math.abs((r.mapAtK ?? NaN) - t) > 1e-12) throw new Error(`cross-check: run ${i} MAP@3 ours ${r.mapAtK}, NumPy ${t}`);
  });
  let maxCiDiff = 0;
  for (const a of ours.summary.ablations) {
    const t = theirs.ablations[a.name];
    if (!t || Math.abs((a.ensembleMapAtK ?? NaN) - t.ensembleMapAtK) > 1e-12) throw new Error(`cross-check: ${a.name} ensemble MAP@3 ours ${a.ensembleMapAtK}, NumPy ${t?.ensembleMapAtK}`);
    if (a.vsBaseline && t.vsBaseline) {
      if (Math.abs(a.vsBaseline.delta - t.vsBaseline.delta) > 1e-12) throw new Error(`cross-check: ${a.name} delta ours ${a.vsBaseline.delta}, NumPy ${t.vsBaseline.delta}`);
      maxCiDiff = Math.max(maxCiDiff, Math.abs(a.vsBaseline.ciLow - t.vsBaseline.ciLow), Math.abs(a.vsBaseline.ciHigh - t.vsBaseline.ciHigh));
    }
  }
  return { maxCiDiff };
}

async function main(): Promise<void> {
  const { input, probs, answers } = makeStudy();
  const dir = await mkdtemp(join(tmpdir(), 'ablate-bench-aggregate-'));
  try {
    await writeFile(join(dir, 'probs.f32'), probs);
    await writeFile(join(dir, 'answers.i32'), answers);
    const meta = { questions, options: OPTIONS, k: 3, resamples, seed: 0, ablations: ABLATIONS, baseline: ABLATIONS[0], runAblation: input.runs.map((r) => ABLATIONS.indexOf(r.ablation)) };
    await writeFile(join(dir, 'meta.json'), JSON.stringify(meta));

    let result: StudyAggregate | undefined;
    const ours = await bestOf(repeats, () => (result = aggregateStudy(input)));
    // The bootstrap alone (one comparison), the loop that dominates the study's time.
    const d = differences(perQuestionScores(input.runs[0]?.probs as Float32Array, answers), perQuestionScores(input.runs[3]?.probs as Float32Array, answers));
    const boot = await bestOf(repeats, () => bootstrapDeltas(d, resamples, 0));
    // The same study with evaluation.bootstrap.resampleSeeds (not part of the ratio: NumPy's side has no seed-aware bootstrap).
    const seedAware = await bestOf(repeats, () => aggregateStudy({ ...input, bootstrap: { ...input.bootstrap, resampleSeeds: true } }));
    const numpy = runNumpy(dir);
    const check = crossCheck(result as StudyAggregate, numpy.result);

    const r = {
      name: 'aggregate',
      ours: round(ours.bestMs, 1),
      peer: round(numpy.bestMs, 1),
      ratio: ratioOf(ours.bestMs, numpy.bestMs, 'lower'),
      unit: 'ms per study aggregation',
      machine: machine(),
      peerName: `NumPy ${numpy.numpy} (Debian python3-numpy, Python ${numpy.python})`,
      goal: 'faster than NumPy (ratio > 1)',
      command: `npx tsx bench/aggregate.ts --repeats ${repeats} --resamples ${resamples} --questions ${questions}`,
      repeats,
      time: new Date().toISOString(),
      details: {
        shape: `${questions} questions × ${input.runs.length} runs (${ABLATIONS.length} ablations × ${SEEDS} seeds) × ${OPTIONS} options; ${resamples} bootstrap resamples × ${ABLATIONS.length - 1} comparisons`,
        oursMs: ours,
        numpyMs: { bestMs: round(numpy.bestMs, 1), medianMs: round(numpy.medianMs, 1), allMs: numpy.allMs },
        oursBootstrapOneComparisonMs: round(boot.bestMs, 1),
        oursWithSeedsResampledMs: round(seedAware.bestMs, 1),
        // The study's arithmetic calls no BLAS routine, so the OpenBLAS kernel choice does not enter.
        numpyBlas: numpy.blas,
        crossCheck: `per-run and ensemble MAP@3 and deltas identical; bootstrap interval ends differ by at most ${check.maxCiDiff.toFixed(4)} (different PRNGs)`,
      },
    };
    const path = await writeResult(r);
    console.log(summary(r));
    console.log(`wrote ${path}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
