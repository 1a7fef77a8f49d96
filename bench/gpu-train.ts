// Trainer on GPU (issue #7 item 2): one full training step — forward, multiple-choice loss,
// backward, global-norm clipping at 1.0, AdamW — of the deberta-v3-large shape (24 layers, hidden
// 1024, 16 heads, vocabulary 128,100), 8 questions × 5 choices × 256 tokens, on TF.js `webgpu`:
// the same work `.gpu/hf_baseline.py` (Hugging Face PyTorch) times, with the same optimizer
// settings (lr 1.7578e-5, eps 1e-6, weight decay 0.01, dropout 0.1). Prints one JSON line per
// measurement: ms per step (median of --steps after --warmup) and peak tensor memory (tf.profile
// of one more step) plus the backend's own memory report. bench/gpu.sh runs it next to the peer.
//
//   node .gpu/gpu-train.mjs                                   # on the GPU machine (bench/gpu.sh)
//   npx tsx bench/gpu-train.ts --tiny --backend cpu --steps 2 # the same script, checked on a CPU
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, BACKENDS, DebertaForMultipleChoice, clipGradNorm, multipleChoiceLoss, parseConfig, releaseBackend, selectBackend, type BackendRequest, type DebertaConfig } from '../trainer/mod.js';

/** Timed steps. @default 10, as hf_baseline.py */
const DEFAULT_STEPS = 10;
/** Untimed steps first (shader compilation, allocator warm-up). @default 3, as hf_baseline.py */
const DEFAULT_WARMUP = 3;
/** hf_baseline.py's optimizer and clipping. */
const LEARNING_RATE = 1.7578e-5;
const ADAM_EPS = 1e-6;
const WEIGHT_DECAY = 0.01;
const CLIP_NORM = 1.0;

interface Shape {
  name: string;
  config: DebertaConfig;
  questions: number;
  choices: number;
  seqLen: number;
}

function largeShape(layers: number): Shape {
  return {
    name: `deberta-v3-large${layers === 24 ? '' : `-${layers}-layers`}`,
    config: parseConfig({
      vocab_size: 128100,
      hidden_size: 1024,
      num_hidden_layers: layers,
      num_attention_heads: 16,
      intermediate_size: 4096,
      hidden_act: 'gelu',
      max_position_embeddings: 512,
      type_vocab_size: 0,
      relative_attention: true,
      position_buckets: 256,
      max_relative_positions: -1,
      pos_att_type: ['p2c', 'c2p'],
      norm_rel_ebd: 'layer_norm',
      share_att_key: true,
      position_biased_input: false,
      layer_norm_eps: 1e-7,
      pad_token_id: 0,
      hidden_dropout_prob: 0.1,
      attention_probs_dropout_prob: 0.1,
    }),
    questions: 8,
    choices: 5,
    seqLen: 256,
  };
}

/** The reference fixture's architecture at a short length: proves the script end to end on a CPU. */
const TINY: Shape = {
  name: 'tiny',
  config: parseConfig({ vocab_size: 320, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, relative_attention: true, position_buckets: 16, pos_att_type: ['p2c', 'c2p'], share_att_key: true, norm_rel_ebd: 'layer_norm', position_biased_input: false, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 }),
  questions: 2,
  choices: 5,
  seqLen: 32,
};

function parseArgs(argv: string[]): { shape: Shape; backend: Exclude<BackendRequest, 'auto'>; steps: number; warmup: number } {
  const get = (f: string): string | undefined => {
    const i = argv.indexOf(f);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (f: string, fallback: number, min: number): number => {
    const raw = get(f);
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`${f}: '${raw}' must be an integer ≥ ${min}`);
    return n;
  };
  const backend = (get('--backend') ?? 'webgpu') as Exclude<BackendRequest, 'auto'>;
  if (!BACKENDS.includes(backend) || (backend as string) === 'auto') throw new Error(`--backend: '${backend}' is not one of ${BACKENDS.filter((b) => b !== 'auto').join(', ')}`);
  const shape = argv.includes('--tiny') ? TINY : largeShape(int('--layers', 24, 1));
  return { shape, backend, steps: int('--steps', DEFAULT_STEPS, 1), warmup: int('--warmup', DEFAULT_WARMUP, 0) };
}

async function main(): Promise<void> {
  const { shape, backend, steps, warmup } = parseArgs(process.argv.slice(2));
  const selected = await selectBackend(backend);
  const { questions, choices, seqLen, config } = shape;
  const model = DebertaForMultipleChoice.create(config, { seed: 0 });
  // Token 1 ([CLS]) first, then random ids past the special tokens, all attended — as the peer.
  const ids = tf.tidy(() => tf.concat([tf.ones([questions, choices, 1], 'int32'), tf.randomUniform([questions, choices, seqLen - 1], 5, config.vocab_size, 'int32', 1)], 2));
  const mask = tf.ones([questions, choices, seqLen], 'int32');
  const labels = tf.tensor1d(Array.from({ length: questions }, (_, i) => i % choices), 'int32');
  const optimizer = new AdamW(model.params, [{ names: [...model.params.keys()], lr: LEARNING_RATE, weightDecay: WEIGHT_DECAY }], { eps: ADAM_EPS });
  const hfName = new Map([...model.params].map(([name, p]) => [p.name, name]));
  const vars = [...model.params.values()];

  let step = 0;
  const trainStep = async (): Promise<number> => {
    const { value, grads } = tf.variableGrads(() => multipleChoiceLoss(model.forward(ids, mask, { training: true, dropoutSeed: step++ }), labels), vars);
    const named = new Map(Object.entries(grads).map(([k, g]) => [hfName.get(k) ?? k, g]));
    const clipped = clipGradNorm(named, CLIP_NORM);
    tf.dispose([...named.values()]);
    optimizer.step(clipped.grads);
    tf.dispose([...clipped.grads.values(), clipped.totalNorm]);
    // Reading the loss waits for the step's queued GPU work, as torch.cuda.synchronize does.
    const loss = (await value.data())[0] ?? NaN;
    value.dispose();
    return loss;
  };

  for (let i = 0; i < warmup; i++) await trainStep();
  const times: number[] = [];
  let loss = NaN;
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    loss = await trainStep();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)] ?? NaN;
  // Peak bytes of live tensors during one step (activations, gradients, optimizer state, weights).
  const profile = await tf.profile(async () => {
    await trainStep();
  });
  const memory = tf.memory() as tf.MemoryInfo & Record<string, unknown>;
  const backendMemory = Object.fromEntries(Object.entries(memory).filter(([k]) => /GPU|Bytes/i.test(k) && k !== 'numBytes'));
  console.log(
    JSON.stringify({
      impl: `ablate-tfjs-${selected.name}`,
      shape: shape.name,
      layers: config.num_hidden_layers,
      hidden: config.hidden_size,
      seq: seqLen,
      questions,
      choices,
      ms_per_step: Math.round(ms * 100) / 100,
      best_ms: Math.round((times[0] ?? NaN) * 100) / 100,
      sequences_per_s: Math.round(((questions * choices) / ms) * 1000 * 10) / 10,
      peak_tensor_gib: Math.round((profile.peakBytes / 2 ** 30) * 100) / 100,
      backend_memory: backendMemory,
      loss: Math.round(loss * 1e4) / 1e4,
      steps,
      warmup,
    }),
  );
  optimizer.dispose();
  model.dispose();
  tf.dispose([ids, mask, labels]);
  releaseBackend();
}

await main();
