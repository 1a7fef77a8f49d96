// Times the statistics of one study comparison at the competition's scale: a paired bootstrap of
// 10,000 resamples over 4,000 questions (the hidden test set's size), and MAP@3 scoring of
// 4,000 × 5 probabilities. `npx tsx bench/aggregate.ts` prints one JSON line per measurement.
import { pairedBootstrap, perQuestionScores } from '../controller/aggregate/mod.js';

const N = 4000;
const OPTIONS = 5;
const RESAMPLES = 10_000;
const REPEATS = 5;

let s = 1;
const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
const probs = Float32Array.from({ length: N * OPTIONS }, rand);
const answers = Int32Array.from({ length: N }, () => Math.floor(rand() * OPTIONS));
const probs2 = Float32Array.from({ length: N * OPTIONS }, rand);

function time(name: string, fn: () => void): void {
  fn();
  const ms: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  console.log(JSON.stringify({ bench: name, bestMs: +(ms[0] ?? NaN).toFixed(2), medianMs: +(ms[Math.floor(REPEATS / 2)] ?? NaN).toFixed(2) }));
}

const a = perQuestionScores(probs, answers);
const b = perQuestionScores(probs2, answers);
time(`pairedBootstrap ${RESAMPLES}x${N}`, () => void pairedBootstrap(a, b, { resamples: RESAMPLES }));
time(`perQuestionScores ${N}x${OPTIONS}`, () => void perQuestionScores(probs, answers));
