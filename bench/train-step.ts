// Training-step time of the DeBERTa multiple-choice model on the CPU backends (forward, loss,
// backward, SGD update), and what the embedding gradient costs with our scatter gradient vs
// TF.js's stock gather gradient (UnsortedSegmentSum: absent on wasm, O(vocab·tokens·width) on cpu).
//
//   npx tsx bench/train-step.ts                      # tiny + base-width, wasm and cpu (~2 min idle machine)
//   npx tsx bench/train-step.ts --configs tiny --backends cpu --steps 5
//
// Writes bench/results/train-step.json ({name, ours, peer, ratio, unit, machine} rows, ratio =
// peer / ours, so > 1 is a speed-up) and prints a Markdown table for BENCHMARKS.md.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendRequest } from '../trainer/backend.js';
import { DebertaForMultipleChoice, embeddingLookup, isFrozen, multipleChoiceLoss, parseConfig, type DebertaConfig, type FreezeMode, type GatherGradient } from '../trainer/model/mod.js';

/** Timed steps per measurement after one warm-up step. @default 2 */
const DEFAULT_STEPS = 2;
const QUESTIONS = 2;
const SGD_LR = 1e-5;
const CHOICES = 5;

const CONFIGS: Record<string, { config: DebertaConfig; seqLen: number }> = {
  // The reference fixture's architecture (test/fixtures/deberta-v3-tiny) at a realistic length.
  tiny: {
    config: parseConfig({ vocab_size: 320, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, relative_attention: true, position_buckets: 16, pos_att_type: ['p2c', 'c2p'], share_att_key: true, norm_rel_ebd: 'layer_norm', position_biased_input: false, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 }),
    seqLen: 128,
  },
  // deberta-v3-base width and vocabulary, 2 layers (the per-layer cost scales linearly).
  base: {
    config: parseConfig({ vocab_size: 128100, hidden_size: 768, num_hidden_layers: 2, num_attention_heads: 12, intermediate_size: 3072, relative_attention: true, position_buckets: 256, pos_att_type: ['p2c', 'c2p'], share_att_key: true, norm_rel_ebd: 'layer_norm', position_biased_input: false, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 }),
    seqLen: 128,
  },
};

interface Args {
  configs: string[];
  backends: Exclude<BackendRequest, 'auto'>[];
  steps: number;
  out: string;
}

function parseArgs(argv: string[]): Args {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const configs = (get('--configs') ?? 'tiny,base').split(',');
  for (const c of configs) if (!(c in CONFIGS)) throw new Error(`--configs: unknown config '${c}' (known: ${Object.keys(CONFIGS).join(', ')})`);
  return {
    configs,
    backends: (get('--backends') ?? 'wasm,cpu').split(',') as Args['backends'],
    steps: Number(get('--steps') ?? DEFAULT_STEPS),
    out: get('--out') ?? 'bench/results/train-step.json',
  };
}

/** Median ms of `steps` training steps (after one warm-up), or the error that stopped it. */
function timeSteps(model: DebertaForMultipleChoice, freeze: FreezeMode, seqLen: number, steps: number): { ms: number } | { error: string } {
  const v = model.config.vocab_size;
  const ids = tf.randomUniform([QUESTIONS, CHOICES, seqLen], 1, v, 'int32', 1);
  const mask = tf.ones([QUESTIONS, CHOICES, seqLen], 'int32');
  const labels = tf.tensor1d([1, 3], 'int32');
  const vars = [...model.params].filter(([n]) => !isFrozen(n, freeze)).map(([, p]) => p);
  const times: number[] = [];
  try {
    for (let i = 0; i <= steps; i++) {
      const t0 = performance.now();
      const { value, grads } = tf.variableGrads(() => multipleChoiceLoss(model.forward(ids, mask, { training: true, dropoutSeed: i }), labels), vars);
      // A plain SGD update: AdamW's two moment tensors per parameter would not fit the base
      // config (128k-row embeddings) into the wasm backend's heap next to weights and gradients.
      tf.tidy(() => {
        for (const p of vars) p.assign(tf.sub(p, tf.mul(grads[p.name]!, SGD_LR)));
      });
      value.dataSync();
      if (i > 0) times.push(performance.now() - t0);
      tf.dispose([value, ...Object.values(grads)]);
    }
  } catch (err) {
    return { error: (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 160) };
  } finally {
    tf.dispose([ids, mask, labels]);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]! };
}

/** The embedding-table gradient alone (what the stock path costs at full vocabulary), in ms. */
function embeddingGradientMs(vocab: number, width: number, tokens: number, gradient: GatherGradient): number {
  const table = tf.variable(tf.zeros([vocab, width]), true, `bench-table-${gradient}-${vocab}`);
  const ids = tf.randomUniform([tokens], 0, vocab, 'int32', 2) as tf.Tensor1D;
  const dy = tf.randomNormal([tokens, width], 0, 1, 'float32', 3);
  const t0 = performance.now();
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(embeddingLookup(table as tf.Tensor2D, ids, { gradient }), dy)), [table]);
  Object.values(grads)[0]!.dataSync();
  const ms = performance.now() - t0;
  tf.dispose([table, ids, dy, value, ...Object.values(grads)]);
  return ms;
}

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} cores (nproc), ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const rows: { name: string; ours: number | null; peer: number | null; ratio: number | null; unit: string; machine: string; note?: string }[] = [];
  const table: string[] = ['| backend | config | step, scatter grad (ours) | step, stock gather grad | speed-up | step, word emb. frozen | embedding-grad share, ours | embedding-grad share, stock |', '|---|---|---|---|---|---|---|---|'];
  const fmt = (r: { ms: number } | { error: string }): string => ('ms' in r ? `${r.ms.toFixed(0)} ms` : `fails: ${r.error}`);
  for (const backend of args.backends) {
    await selectBackend(backend);
    for (const name of args.configs) {
      const { config, seqLen } = CONFIGS[name]!;
      const measure = (gradient: GatherGradient, freeze: FreezeMode): { ms: number } | { error: string } => {
        const m = DebertaForMultipleChoice.create(config, { seed: 0, gatherGradient: gradient });
        try {
          return timeSteps(m, freeze, seqLen, args.steps);
        } finally {
          m.dispose();
        }
      };
      if (name === 'base' && backend === 'cpu') {
        // A base-width step on TF.js cpu takes tens of minutes (plain-JS matmuls), and the stock
        // gradient at 128k vocabulary is one masked pass over all tokens per table row; so on cpu
        // the base row compares the embedding-table gradient alone: ours at full vocabulary, the
        // stock one timed at a smaller vocabulary and scaled linearly in the number of rows.
        const tokens = QUESTIONS * CHOICES * seqLen;
        const ours = embeddingGradientMs(config.vocab_size, config.hidden_size, tokens, 'scatter');
        const small = 100;
        const stockSmall = embeddingGradientMs(small, config.hidden_size, tokens, 'stock');
        const peerMs = (stockSmall / small) * config.vocab_size;
        const note = `embedding-table gradient only ([${tokens} tokens] → [${config.vocab_size}, ${config.hidden_size}]); stock timed at vocab ${small} (${stockSmall.toFixed(0)} ms) and scaled to ${config.vocab_size}`;
        table.push(`| ${backend} | ${name}: embedding gradient only | ${ours.toFixed(0)} ms | ${peerMs.toFixed(0)} ms (extrapolated) | ${(peerMs / ours).toFixed(0)}× | n/a | n/a | n/a |`);
        rows.push({ name: `embedding-grad/${name}/${backend}`, ours: Number(ours.toFixed(1)), peer: Number(peerMs.toFixed(1)), ratio: Number((peerMs / ours).toFixed(1)), unit: 'ms', machine: machine(), note });
        process.stderr.write(`${table.at(-1)}\n`);
        continue;
      }
      const ours = measure('scatter', 'none');
      const frozen = measure('scatter', 'word-embeddings');
      const peer = measure('stock', 'none');
      const share = (full: { ms: number } | { error: string }): string => ('ms' in full && 'ms' in frozen ? `${(((full.ms - frozen.ms) / full.ms) * 100).toFixed(0)}%` : 'n/a');
      const ratio = 'ms' in ours && 'ms' in peer ? peer.ms / ours.ms : null;
      table.push(`| ${backend} | ${name} (${QUESTIONS}×${CHOICES}×${seqLen}) | ${fmt(ours)} | ${fmt(peer)} | ${ratio === null ? 'n/a' : `${ratio.toFixed(1)}×`} | ${fmt(frozen)} | ${share(ours)} | ${share(peer)} |`);
      rows.push({
        name: `train-step/${name}/${backend}`,
        ours: 'ms' in ours ? Number(ours.ms.toFixed(1)) : null,
        peer: 'ms' in peer ? Number(peer.ms.toFixed(1)) : null,
        ratio: ratio === null ? null : Number(ratio.toFixed(2)),
        unit: 'ms/step',
        machine: machine(),
        ...('error' in peer ? { note: `stock gather gradient: ${peer.error}` } : {}),
      });
      process.stderr.write(`${table.at(-1)}\n`);
    }
  }
  await mkdir('bench/results', { recursive: true });
  await writeFile(args.out, `${JSON.stringify(rows, null, 2)}\n`);
  process.stdout.write(`Machine: ${machine()}\n\n${table.join('\n')}\n`);
}

await main();
