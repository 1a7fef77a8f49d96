// `make bench`: every benchmark in turn, each in its own process (one's heap, threads or
// backend never colours the next one's figures), then a table of bench/results/*.json. A failing
// benchmark is reported and the rest still run; the exit code is 1 if any failed.
//
//   npx tsx bench/run.ts                  # all of them (~2 min on the idle 2-core machine)
//   npx tsx bench/run.ts aggregate stream # only those whose name contains a given word
//
// The GPU benchmark needs the GPU machine (bench/gpu.sh); here its script is only checked to run,
// on the tiny shape and the cpu backend, and its last recorded result is left as it is.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULTS_DIR } from './common.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

interface Bench {
  name: string;
  file: string;
  args: string[];
  what: string;
}

const BENCHES: Bench[] = [
  { name: 'aggregate', file: 'aggregate.ts', args: [], what: 'study aggregation vs NumPy' },
  { name: 'stream', file: 'stream.ts', args: [], what: 'prediction stream vs raw JetStream' },
  { name: 'controller-scale', file: 'controller-scale.ts', args: [], what: 'controller at scale vs the dev cluster create rate' },
  { name: 'train-step', file: 'train-step.ts', args: [], what: 'CPU training step vs NumPy sgemm on the same products' },
  { name: 'gpu-train', file: 'gpu-train.ts', args: ['--tiny', '--backend', 'cpu', '--steps', '2', '--warmup', '1'], what: 'GPU training step: script check only (figures: bench/gpu.sh on the GPU machine)' },
];

const words = process.argv.slice(2);
const chosen = BENCHES.filter((b) => words.length === 0 || words.some((w) => b.name.includes(w)));
if (chosen.length === 0) throw new Error(`bench/run.ts: no benchmark matches ${words.join(', ')} (known: ${BENCHES.map((b) => b.name).join(', ')})`);

const failed: string[] = [];
for (const b of chosen) {
  const path = join(HERE, b.file);
  if (!existsSync(path)) {
    process.stderr.write(`\n== ${b.name}: ${b.file} is not there; skipped\n`);
    continue;
  }
  process.stderr.write(`\n== ${b.name}: ${b.what}\n`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', path, ...b.args], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ABLATE_LOG_LEVEL: process.env['ABLATE_LOG_LEVEL'] ?? 'warn' } });
  const s = ((performance.now() - t0) / 1000).toFixed(0);
  if (r.status === 0) process.stderr.write(`== ${b.name}: done in ${s} s\n`);
  else {
    failed.push(b.name);
    process.stderr.write(`== ${b.name}: FAILED (exit ${r.status ?? r.signal}) after ${s} s\n`);
  }
}

// The table of every recorded result (a file may hold one result or, as train-step's, a list).
const rows: string[] = ['| result | ours | peer / limit | unit | ratio (> 1: ablate ahead) |', '|---|---|---|---|---|'];
for (const f of existsSync(RESULTS_DIR) ? readdirSync(RESULTS_DIR).filter((x) => x.endsWith('.json')).sort() : []) {
  const parsed = JSON.parse(readFileSync(join(RESULTS_DIR, f), 'utf8')) as unknown;
  for (const x of (Array.isArray(parsed) ? parsed : [parsed]) as { name: string; ours: number | null; peer: number | null; unit: string; ratio: number | null }[]) {
    rows.push(`| ${x.name} | ${x.ours ?? 'n/a'} | ${x.peer ?? 'n/a'} | ${x.unit} | ${x.ratio ?? 'n/a'} |`);
  }
}
process.stdout.write(`\n${rows.join('\n')}\n`);
if (failed.length > 0) {
  process.stderr.write(`\nfailed: ${failed.join(', ')}\n`);
  process.exitCode = 1;
}
