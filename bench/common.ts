// What every benchmark shares: the machine's description, best-of-N timing, the result record
// issue #7 fixes ({name, ours, peer, ratio, unit, machine}, ratio > 1 = ablate ahead) and where it
// is written (bench/results/<name>.json). Benchmarks are scripts, not tests: each one runs alone
// (`npx tsx bench/<name>.ts`) and bench/run.ts runs them all.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** bench/results/, next to this file whatever the working directory. */
export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

/**
 * Timed repetitions per measurement. The development machines are shared with other builds, so
 * each figure is the best of several runs (the least-disturbed one), and the JSON says how many.
 * @default 5
 */
export const DEFAULT_REPEATS = 5;

/** One benchmark's headline figure against its peer or limit. */
export interface BenchResult {
  name: string;
  /** ablate's figure, in `unit`. */
  ours: number | null;
  /** The peer's (or the limit's) figure, in `unit`. */
  peer: number | null;
  /** > 1: ablate is ahead (peer/ours for times, ours/peer for rates); null when a side is missing. */
  ratio: number | null;
  unit: string;
  machine: string;
  /** What `peer` is (e.g. "NumPy 1.24.2", "raw JetStream publish/consume"). */
  peerName: string;
  /** The goal stated in issue #7, in words. */
  goal: string;
  /** The command that produced this file. */
  command: string;
  /** Repetitions behind `ours` and `peer` (the best is reported). */
  repeats: number;
  /** ISO time of the run. */
  time: string;
  /** Anything else the benchmark measured. */
  details?: Record<string, unknown>;
  note?: string;
}

/** `nproc`, the CPU model, memory and Node version, as recorded in every result. */
export function machine(): string {
  let nproc = String(cpus().length);
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    // Not every system has coreutils' nproc; os.cpus() counts the same processors.
  }
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${nproc} cores (nproc), ${model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}`;
}

/** ratio > 1 means ablate is ahead: for a time (lower is better) peer/ours, for a rate ours/peer. */
export function ratioOf(ours: number | null, peer: number | null, better: 'lower' | 'higher'): number | null {
  if (ours === null || peer === null || ours <= 0 || peer <= 0) return null;
  return round(better === 'lower' ? peer / ours : ours / peer, 3);
}

/** Rounds to `digits` decimals (JSON and tables stay readable). */
export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Best and median of `repeats` timed calls (ms) after one untimed warm-up call. */
export async function bestOf(repeats: number, fn: () => unknown): Promise<{ bestMs: number; medianMs: number; allMs: number[] }> {
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  const sorted = [...ms].sort((a, b) => a - b);
  return { bestMs: sorted[0] ?? NaN, medianMs: sorted[Math.floor(sorted.length / 2)] ?? NaN, allMs: ms.map((x) => round(x, 1)) };
}

/** Writes bench/results/<name>.json (the name's slashes become dashes) and returns its path. */
export async function writeResult(result: BenchResult): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${result.name.replaceAll('/', '-')}.json`);
  await writeFile(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}

/** `--flag value` from argv, or undefined. */
export function flag(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** A positive integer flag, or `fallback`; anything else is refused with the flag and value named. */
export function intFlag(argv: readonly string[], name: string, fallback: number): number {
  const raw = flag(argv, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name}: '${raw}' is not a positive integer`);
  return n;
}

/** One Markdown-ish summary line for the console: ours vs peer and the ratio. */
export function summary(r: BenchResult): string {
  const ratio = r.ratio === null ? 'n/a' : `${r.ratio.toFixed(2)}×`;
  return `${r.name}: ours ${r.ours ?? 'n/a'} ${r.unit}, ${r.peerName} ${r.peer ?? 'n/a'} ${r.unit}, ratio ${ratio} (${r.goal})`;
}
