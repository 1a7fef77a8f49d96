// The trainer's step on the CPU backends against the machine's single-precision matmul limit,
// all in one run (issue #7 item 1):
//   1. the limit: NumPy sgemm (OpenBLAS, 1 or 2 threads) on every matmul shape of the step — forward
//      and both backward products — and the same shapes through TF.js's matmul on wasm and cpu;
//   2. the full training step as `trainer/run/train.ts` does it (forward in train mode, loss,
//      `variableGrads`, the loss read back, gradient accumulation, global-norm clipping, AdamW);
//   3. achieved GFLOP/s = the step's matmul FLOPs (counted analytically, `stepProducts`) / step
//      time, and its share of the limit.
//
//   npx tsx bench/train-step.ts                                   # tiny + base, wasm + cpu
//   npx tsx bench/train-step.ts --configs tiny --backends wasm --steps 5 --profile
//
// Writes bench/results/train-step.json rows {name, ours, peer, ratio, unit, machine}: ours =
// achieved GFLOP/s, peer = NumPy's GFLOP/s on the same products, ratio = ours / peer.
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendRequest } from '../trainer/backend.js';
import { DebertaForMultipleChoice, isFrozen, matMul, multipleChoiceLoss, parseConfig, type DebertaConfig, type FreezeMode } from '../trainer/model/mod.js';
import { AdamW, GradientAccumulator, clipGradNorm } from '../trainer/optim/mod.js';
import { RESULTS_DIR, flag, intFlag, machine, round } from './common.js';

const QUESTIONS = 2;
const CHOICES = 5;
/** The trainer's defaults for the update (ResolvedTrainingConfig): clip at 1.0, AdamW decay 0.01. */
const CLIP_NORM = 1;
const LR = 2e-5;
const WEIGHT_DECAY = 0.01;
/** NumPy repetitions per product (best is kept); NumPy is fast, so more. @default 5 */
const NUMPY_REPEATS = 5;

const CONFIGS: Record<string, { config: DebertaConfig; seqLen: number; freeze: FreezeMode }> = {
  // The reference fixture's architecture (test/fixtures/deberta-v3-tiny) at a realistic length.
  tiny: {
    config: parseConfig({ vocab_size: 320, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, relative_attention: true, position_buckets: 16, pos_att_type: ['p2c', 'c2p'], share_att_key: true, norm_rel_ebd: 'layer_norm', position_biased_input: false, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 }),
    seqLen: 128,
    freeze: 'none',
  },
  // deberta-v3-base width and vocabulary, 2 layers (the per-layer cost scales linearly).
  base: {
    config: parseConfig({ vocab_size: 128100, hidden_size: 768, num_hidden_layers: 2, num_attention_heads: 12, intermediate_size: 3072, relative_attention: true, position_buckets: 256, pos_att_type: ['p2c', 'c2p'], share_att_key: true, norm_rel_ebd: 'layer_norm', position_biased_input: false, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 }),
    seqLen: 128,
    // The word embeddings frozen (the trainer's freezeEmbeddings): weights, gradient and two AdamW
    // moments of the 128,100 × 768 table do not fit the wasm backend's 32-bit heap beside the
    // rest ("memory access out of bounds"). The matmul FLOPs are the same either way: the
    // embedding lookup is a gather, and the first layer's input gradient is still computed
    // (the embedding LayerNorm trains).
    freeze: 'word-embeddings',
  },
};

/** One matrix product of the step: `count` × (`batch` × [m, k] · [k, n]). */
interface Product {
  what: string;
  batch: number;
  m: number;
  k: number;
  n: number;
  count: number;
}

const flopsOf = (p: Product): number => 2 * p.batch * p.m * p.k * p.n * p.count;

/**
 * Every matmul of one training step, counted from the architecture. With T = B·C·S tokens,
 * N = B·C sequences, H hidden, I intermediate, h heads (d = H/h), R = 2S − 1 relative positions,
 * P position terms (c2p, p2c), per layer forward:
 *   4·2·T·H² (q, k, v, output) + 2·2·T·H·I (FFN) + 2·2·N·S²·H (QKᵀ, PV)
 *   + P·(2·R·H² (projecting the relative table) + 2·N·S·R·H (c2p / p2c scores));
 * plus the pooler 2·N·H² and classifier 2·N·H. Backward computes two products per forward product
 * of the same FLOPs (dA = dY·Bᵀ, dB = Aᵀ·dY; every parameter trains), so a step is 3 × forward.
 */
export function stepProducts(c: DebertaConfig, questions: number, seqLen: number): Product[] {
  const n = questions * CHOICES;
  const t = n * seqLen;
  const h = c.hidden_size;
  const heads = c.num_attention_heads;
  const d = h / heads;
  const r = 2 * seqLen - 1;
  const l = c.num_hidden_layers;
  const terms = c.relative_attention ? c.pos_att_type.length : 0;
  const fwd: Product[] = [
    { what: 'q/k/v/output projections', batch: 1, m: t, k: h, n: h, count: 4 * l },
    { what: 'FFN in', batch: 1, m: t, k: h, n: c.intermediate_size, count: l },
    { what: 'FFN out', batch: 1, m: t, k: c.intermediate_size, n: h, count: l },
    { what: 'QKᵀ', batch: n * heads, m: seqLen, k: d, n: seqLen, count: l },
    { what: 'probs·V', batch: n * heads, m: seqLen, k: seqLen, n: d, count: l },
    { what: 'pooler', batch: 1, m: n, k: h, n: h, count: 1 },
    { what: 'classifier', batch: 1, m: n, k: h, n: 1, count: 1 },
  ];
  if (terms > 0) {
    fwd.push({ what: 'relative table projections', batch: 1, m: r, k: h, n: h, count: terms * l });
    fwd.push({ what: 'c2p/p2c scores', batch: n * heads, m: seqLen, k: d, n: r, count: terms * l });
  }
  const all: Product[] = [];
  for (const p of fwd) {
    all.push(p);
    all.push({ ...p, what: `${p.what} dA`, m: p.m, k: p.n, n: p.k });
    all.push({ ...p, what: `${p.what} dB`, m: p.k, k: p.m, n: p.n });
  }
  return all;
}

interface Args {
  configs: string[];
  backends: Exclude<BackendRequest, 'auto'>[];
  steps: number;
  skip: string[];
  profile: boolean;
  python: string;
  out: string;
}

function parseArgs(argv: string[]): Args {
  const configs = (flag(argv, '--configs') ?? 'tiny,base').split(',');
  for (const c of configs) if (!(c in CONFIGS)) throw new Error(`--configs: unknown config '${c}' (known: ${Object.keys(CONFIGS).join(', ')})`);
  const backends = (flag(argv, '--backends') ?? 'wasm,cpu').split(',');
  for (const b of backends) if (b !== 'wasm' && b !== 'cpu') throw new Error(`--backends: '${b}' is not a CPU backend (wasm, cpu)`);
  return {
    configs,
    backends: backends as Args['backends'],
    steps: intFlag(argv, '--steps', 3),
    // A base-width step on TF.js cpu is minutes (plain-JS matmuls): skipped unless asked for.
    skip: (flag(argv, '--skip') ?? 'base/cpu').split(',').filter((s) => s !== '' && s !== 'none'),
    profile: argv.includes('--profile'),
    python: flag(argv, '--python') ?? 'python3',
    out: flag(argv, '--out') ?? join(RESULTS_DIR, 'train-step.json'),
  };
}

/**
 * NumPy's best seconds per single product of each shape: the better of OpenBLAS on 1 and on 2
 * threads (2 threads lose badly on small products when the machine is busy: thread hand-offs).
 */
function numpyTimes(python: string, shapes: Product[]): { seconds: number[]; version: string; blas: string } {
  const one = numpyRun(python, shapes, 1);
  const two = numpyRun(python, shapes, 2);
  return { ...two, seconds: two.seconds.map((s, i) => Math.min(s, one.seconds[i]!)) };
}

function numpyRun(python: string, shapes: Product[], threads: number): { seconds: number[]; version: string; blas: string } {
  const script = String.raw`
import json, sys, time
import numpy as np
shapes = json.load(sys.stdin)
rng = np.random.default_rng(0)
out = []
for s in shapes:
    b, m, k, n = s['batch'], s['m'], s['k'], s['n']
    a = rng.standard_normal((b, m, k) if b > 1 else (m, k), dtype=np.float32)
    w = rng.standard_normal((b, k, n) if b > 1 else (k, n), dtype=np.float32)
    c = np.matmul(a, w)
    best = float('inf')
    for _ in range(${NUMPY_REPEATS}):
        t0 = time.perf_counter(); np.matmul(a, w, out=c); best = min(best, time.perf_counter() - t0)
    out.append(best)
cfg = np.show_config(mode='dicts') if hasattr(np, 'show_config') else {}
try:
    blas = cfg['Build Dependencies']['blas']
    blas = f"{blas.get('name')} {blas.get('version')}"
except Exception:
    blas = 'unknown BLAS'
print(json.dumps({'seconds': out, 'version': np.__version__, 'blas': blas}))
`;
  const r = spawnSync(python, ['-c', script], {
    input: JSON.stringify(shapes),
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) },
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) {
    const why = (r.stderr || String(r.error)).trim().split('\n').at(-1);
    throw new Error(`bench/train-step.ts: the sgemm limit needs NumPy for '${python}' (${why}); pass --python PATH to an interpreter that has it`);
  }
  return JSON.parse(r.stdout) as { seconds: number[]; version: string; blas: string };
}

/** Best ms of one product of each shape through the model's `matMul` on the active backend (after one warm-up unless `warmup` is false). */
function tfjsTimes(shapes: Product[], repeats: number, warmup = true): number[] {
  return shapes.map((s) => {
    const lead = s.batch > 1 ? [s.batch] : [];
    const a = tf.randomNormal([...lead, s.m, s.k], 0, 1, 'float32', 1);
    const b = tf.randomNormal([...lead, s.k, s.n], 0, 1, 'float32', 2);
    let best = Infinity;
    for (let i = warmup ? 0 : 1; i <= repeats; i++) {
      const t0 = performance.now();
      const y = matMul(a, b);
      y.dataSync();
      if (i > 0) best = Math.min(best, performance.now() - t0);
      y.dispose();
    }
    tf.dispose([a, b]);
    return best;
  });
}

interface StepTiming {
  /** Median ms of a whole step. */
  ms: number;
  /**
   * Median CPU ms of this process per step (user + system). wasm and cpu run on one thread, so on
   * an idle machine this equals the wall time; on a shared one it leaves out time spent preempted.
   */
  cpuMs: number;
  /** Median ms of forward + backward (variableGrads and the loss read). */
  forwardBackwardMs: number;
  /** Median ms of accumulation, clipping and AdamW. */
  updateMs: number;
  all: number[];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** `steps` timed training steps (after one warm-up unless `warmup` is false), as the trainer runs them. */
async function timeSteps(config: DebertaConfig, seqLen: number, freeze: FreezeMode, steps: number, warmup: boolean, profile: boolean): Promise<StepTiming & { profile?: string }> {
  const model = DebertaForMultipleChoice.create(config, { seed: 0 });
  const names = [...model.params.keys()].filter((n) => !isFrozen(n, freeze));
  const optimizer = new AdamW(model.params, [{ names, lr: LR, weightDecay: WEIGHT_DECAY }]);
  const hfName = new Map([...model.params].map(([name, v]) => [v.name, name]));
  const vars = names.map((n) => model.params.get(n)!);
  const shape = [QUESTIONS, CHOICES, seqLen];
  const ids = tf.randomUniform(shape, 1, config.vocab_size, 'int32', 1);
  const mask = tf.ones(shape, 'int32');
  const labels = tf.tensor1d([1, 3], 'int32');
  const step = async (i: number): Promise<[number, number, number]> => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(() => multipleChoiceLoss(model.forward(ids, mask, { training: true, dropoutSeed: i }), labels), vars);
    await value.data();
    const t1 = performance.now();
    const acc = new GradientAccumulator();
    acc.add(new Map(Object.entries(grads).map(([n, g]) => [hfName.get(n) ?? n, g])), QUESTIONS);
    tf.dispose([value, ...Object.values(grads)]);
    const mean = acc.mean();
    acc.dispose();
    const clipped = clipGradNorm(mean, CLIP_NORM);
    optimizer.step(clipped.grads, 1);
    tf.dispose([...mean.values(), ...clipped.grads.values(), clipped.totalNorm]);
    // The trainer's next host read (the next loss) waits for this update; wasm and cpu are synchronous.
    const c = process.cpuUsage(c0);
    return [t1 - t0, performance.now() - t1, (c.user + c.system) / 1000];
  };
  try {
    if (warmup) await step(0);
    const fb: number[] = [];
    const up: number[] = [];
    const cpu: number[] = [];
    for (let i = 1; i <= steps; i++) {
      const [a, b, c] = await step(i);
      fb.push(a);
      up.push(b);
      cpu.push(c);
    }
    const all = fb.map((x, i) => x + up[i]!);
    let table: string | undefined;
    if (profile) {
      const info = await tf.profile(() => step(steps + 1));
      const agg = new Map<string, { ms: number; n: number }>();
      for (const k of info.kernels) {
        const key = k.name.includes('MatMul') ? `${k.name} ${JSON.stringify(k.inputShapes)}` : k.name;
        const e = agg.get(key) ?? { ms: 0, n: 0 };
        e.ms += Number(k.kernelTimeMs);
        e.n++;
        agg.set(key, e);
      }
      const total = [...agg.values()].reduce((s, e) => s + e.ms, 0);
      table = [`kernel time ${total.toFixed(0)} ms in ${info.kernels.length} kernels`, ...[...agg].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25).map(([k, e]) => `${e.ms.toFixed(1).padStart(9)} ms ${String(e.n).padStart(4)}×  ${k}`)].join('\n');
    }
    return { ms: median(all), cpuMs: median(cpu), forwardBackwardMs: median(fb), updateMs: median(up), all: all.map((x) => round(x, 1)), ...(table === undefined ? {} : { profile: table }) };
  } finally {
    optimizer.dispose();
    model.dispose();
    tf.dispose([ids, mask, labels]);
  }
}

const load = (): string => loadavg().map((x) => x.toFixed(1)).join(' / ');

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const loadStart = load();
  const rows: Record<string, unknown>[] = [];
  const table = ['| config | backend | step (median) | CPU time per step | fwd+bwd / update | matmul GFLOP per step | achieved GFLOP/s | NumPy sgemm limit, same products | % of limit | TF.js matmul alone, same products |', '|---|---|---|---|---|---|---|---|---|---|'];
  for (const name of args.configs) {
    const { config, seqLen, freeze } = CONFIGS[name]!;
    const products = stepProducts(config, QUESTIONS, seqLen);
    const flops = products.reduce((s, p) => s + flopsOf(p), 0);
    // NumPy is measured before and after each backend's run and the best time per product is the
    // limit: on a shared machine a single measurement often finds a core taken.
    let np = numpyTimes(args.python, products);
    const timed: { backend: string; tfjsMs: number; t: StepTiming }[] = [];
    for (const backend of args.backends) {
      if (args.skip.includes(`${name}/${backend}`)) {
        process.stderr.write(`${name}/${backend}: skipped (--skip)\n`);
        continue;
      }
      await selectBackend(backend);
      // A base-width step on TF.js cpu is minutes: one pass of each, no warm-up.
      const slow = backend === 'cpu' && name === 'base';
      const tfjsMs = tfjsTimes(products, slow ? 1 : 3, !slow).reduce((s, ms, i) => s + ms * products[i]!.count, 0);
      const t = await timeSteps(config, seqLen, freeze, slow ? 1 : args.steps, !slow, args.profile && !slow);
      if (t.profile !== undefined) process.stderr.write(`\nprofile of one ${name} step on ${backend}:\n${t.profile}\n\n`);
      process.stderr.write(`${name}/${backend}: step ${t.ms.toFixed(0)} ms (CPU ${t.cpuMs.toFixed(0)} ms), ${(flops / t.ms / 1e6).toFixed(2)} GFLOP/s\n`);
      timed.push({ backend, tfjsMs, t });
      const again = numpyTimes(args.python, products);
      np = { ...np, seconds: np.seconds.map((x, i) => Math.min(x, again.seconds[i]!)) };
    }
    const numpyMs = products.reduce((s, p, i) => s + np.seconds[i]! * 1000 * p.count, 0);
    const limit = flops / numpyMs / 1e6;
    const peak = Math.max(...products.map((p, i) => (2 * p.batch * p.m * p.k * p.n) / np.seconds[i]! / 1e9));
    process.stderr.write(`${name}: ${(flops / 1e9).toFixed(3)} GFLOP of matmuls per step; NumPy ${np.version} (${np.blas}, best of 1 and 2 threads): ${numpyMs.toFixed(1)} ms = ${limit.toFixed(1)} GFLOP/s (best single product ${peak.toFixed(1)} GFLOP/s)\n`);
    for (const { backend, tfjsMs, t } of timed) {
      const achieved = flops / t.ms / 1e6;
      table.push(`| ${name} (${QUESTIONS}×${CHOICES}×${seqLen}) | ${backend} | ${t.ms.toFixed(0)} ms | ${t.cpuMs.toFixed(0)} ms | ${t.forwardBackwardMs.toFixed(0)} / ${t.updateMs.toFixed(0)} ms | ${(flops / 1e9).toFixed(2)} | ${achieved.toFixed(2)} | ${limit.toFixed(1)} GFLOP/s (${numpyMs.toFixed(1)} ms) | ${((achieved / limit) * 100).toFixed(1)} % | ${(flops / tfjsMs / 1e6).toFixed(2)} GFLOP/s (${tfjsMs.toFixed(0)} ms) |`);
      rows.push({
        name: `train-step/${name}/${backend}`,
        ours: round(achieved, 3),
        peer: round(limit, 2),
        ratio: round(achieved / limit, 4),
        unit: 'GFLOP/s',
        machine: machine(),
        peerName: `NumPy ${np.version} sgemm (${np.blas}, best of 1 and 2 threads per product) on the step's matmul shapes`,
        goal: '≥ 0.5 of the sgemm limit',
        details: {
          stepMs: round(t.ms, 1),
          stepCpuMs: round(t.cpuMs, 1),
          achievedGflopsOnCpuTime: round(flops / t.cpuMs / 1e6, 3),
          stepsMs: t.all,
          forwardBackwardMs: round(t.forwardBackwardMs, 1),
          updateMs: round(t.updateMs, 1),
          matmulGflopPerStep: round(flops / 1e9, 4),
          numpyMatmulMs: round(numpyMs, 2),
          numpyBestProductGflops: round(peak, 1),
          tfjsMatmulMs: round(tfjsMs, 1),
          tfjsMatmulGflops: round(flops / tfjsMs / 1e6, 2),
          shape: `${QUESTIONS} questions × ${CHOICES} choices × ${seqLen} tokens`,
          update: `gradient accumulation, clip ${CLIP_NORM}, AdamW lr ${LR} wd ${WEIGHT_DECAY}`,
          frozen: freeze,
        },
      });
    }
  }
  const loadEnd = load();
  for (const r of rows) r['load'] = `load average (1/5/15 min) at start ${loadStart}, at end ${loadEnd}`;
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(args.out, `${JSON.stringify(rows, null, 2)}\n`);
  process.stdout.write(`Machine: ${machine()}; load average at start ${loadStart}, at end ${loadEnd}\n\n${table.join('\n')}\n`);
}

await main();
