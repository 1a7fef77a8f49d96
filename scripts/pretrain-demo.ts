// Pretrains the science-exam demo's base model: a word-level Unigram tokenizer built from the
// demo's vocabulary, a tiny DeBERTa-v3 backbone, and masked-language modelling on corpus.txt.
//
//   npx tsx scripts/pretrain-demo.ts [--out DIR] [--steps N] [--seed S] [--measure]
//
// Writes DIR/{tokenizer.json, config.json, model.safetensors} (default examples/science-exam/model).
// Why pretrain at all: the demo's head warm-up and frozen-embedding ablations only mean what they
// mean for a checkpoint whose embeddings already carry knowledge, and 20 % of the facts the
// validation set asks are stated only in corpus.txt, never in train.csv (data/README). So the MLM
// sees corpus.txt only — training questions would leak the fine-tuning task into the backbone.
//
// The MLM head (dense + gelu + LayerNorm + decoder tied to the word embeddings + bias, as HF's
// DebertaV2ForMaskedLM) lives only here and is not saved: a multiple-choice model drops it, and
// the saved file holds the backbone (`deberta.*`) alone, so the pooler and classifier are freshly
// initialised at fine-tuning as for a real pretrained checkpoint.
//
// Deterministic: masks, data order, dropout and initialisation all derive from --seed.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as TF from '@tensorflow/tfjs-core';
import type { DebertaConfig, DebertaForMultipleChoice } from '../trainer/model/mod.js';
import type { Tokenizer } from '../trainer/tokenizer/mod.js';

/** Where the demo's data lives, relative to the repository root. */
export const DEMO_DATA_DIR = 'examples/science-exam/data';
/** Where the model is written. @default 'examples/science-exam/model' */
export const DEFAULT_MODEL_DIR = 'examples/science-exam/model';
/** MLM optimizer steps: masked-token accuracy 75 %, 18 minutes on a busy 2-core machine. @default 1200 */
export const DEFAULT_STEPS = 1200;
/** @default 0 */
export const DEFAULT_SEED = 0;
/** Sentences per MLM batch. @default 32 */
export const DEFAULT_BATCH = 32;
/** Peak learning rate: high, as tiny models from scratch tolerate (and need) it. @default 2e-3 */
export const DEFAULT_LR = 2e-3;
/** Warm-up share of the steps, then linear decay to 0. @default 0.06 */
export const DEFAULT_WARMUP_RATIO = 0.06;
/** @default 0.01 */
export const DEFAULT_WEIGHT_DECAY = 0.01;
/** @default 1 */
export const DEFAULT_CLIP_NORM = 1;
/** BERT's masking: 15 % of tokens chosen; of those 80 % → [MASK], 10 % → random word, 10 % kept. */
export const MASK_RATE = 0.15;
/** The file the size check of issue #4 applies to must stay under this. @default 2 MiB */
export const MAX_MODEL_BYTES = 2 * 1024 * 1024;

/** Special tokens at ids 0–4, as DeBERTa-v3 numbers the first four ([MASK] moved next to them). */
export const SPECIAL_TOKENS = ['[PAD]', '[CLS]', '[SEP]', '[UNK]', '[MASK]'] as const;
const METASPACE = '\u2581';
/** Single-character fallback pieces score this far below the rarest word, so Viterbi prefers whole words. */
const FALLBACK_PENALTY = 10;

/**
 * The backbone: DeBERTa-v3's flags (relative attention with log buckets, p2c + c2p, shared keys,
 * LayerNorm on the relative embeddings, no absolute positions, no token types) at demo width.
 * Sized so a fine-tuning step (8 questions × 5 options × 32 tokens) is fast on one wasm core.
 */
export function demoConfigJson(vocabSize: number): Record<string, unknown> {
  return {
    architectures: ['DebertaV2ForMaskedLM'],
    model_type: 'deberta-v2',
    vocab_size: vocabSize,
    hidden_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 256,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: 128,
    type_vocab_size: 0,
    initializer_range: 0.02,
    layer_norm_eps: 1e-7,
    relative_attention: true,
    max_relative_positions: -1,
    pad_token_id: 0,
    position_biased_input: false,
    pos_att_type: ['p2c', 'c2p'],
    position_buckets: 32,
    share_att_key: true,
    norm_rel_ebd: 'layer_norm',
    pooler_hidden_size: 64,
    pooler_dropout: 0,
    pooler_hidden_act: 'gelu',
  };
}

/** Words and punctuation of `vocab.txt` (`word<TAB>count`), in file order. */
export function readVocab(text: string): { word: string; count: number }[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((line, i) => {
      const [word, count] = line.split('\t');
      const n = Number(count);
      if (word === undefined || word === '' || !Number.isInteger(n) || n < 1) throw new Error(`vocab.txt line ${i + 1}: expected 'word<TAB>count', got '${line}'`);
      return { word, count: n };
    });
}

/**
 * A Hugging Face `tokenizer.json` with a Unigram model: `▁word` for every word (lower-cased by
 * the normalizer), the punctuation `? . ,` as pieces of their own (they follow a word without a
 * space), every character as a fallback piece, scores = log relative frequency.
 */
export function buildTokenizerJson(vocab: { word: string; count: number }[]): Record<string, unknown> {
  const total = vocab.reduce((a, v) => a + v.count, 0);
  const entries: [string, number][] = SPECIAL_TOKENS.map((t) => [t, 0]);
  const seen = new Set<string>(SPECIAL_TOKENS);
  let minScore = 0;
  for (const { word, count } of vocab) {
    const piece = /^[a-z0-9]+$/.test(word) ? `${METASPACE}${word}` : word;
    if (seen.has(piece)) continue;
    seen.add(piece);
    const score = Math.log(count / total);
    minScore = Math.min(minScore, score);
    entries.push([piece, score]);
  }
  // Fallback characters, so an unseen word is spelled out rather than [UNK].
  const chars = new Set<string>([METASPACE]);
  for (const { word } of vocab) for (const ch of word) chars.add(ch);
  // Printable ASCII (upper case is folded away): the data README promises only `? . ,`, but
  // the organ questions use `:` too, and a fallback costs one embedding row.
  for (let code = 0x21; code < 0x7f; code++) if (!/[A-Z]/.test(String.fromCharCode(code))) chars.add(String.fromCharCode(code));
  for (const ch of [...chars].sort()) {
    if (seen.has(ch)) continue;
    seen.add(ch);
    entries.push([ch, minScore - FALLBACK_PENALTY]);
  }
  const added = SPECIAL_TOKENS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const metaspace = { type: 'Metaspace', replacement: METASPACE, prepend_scheme: 'always', split: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'Lowercase' }, { type: 'Strip', strip_left: true, strip_right: true }, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }],
    },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [metaspace] },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [1], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [2], tokens: ['[SEP]'] },
      },
    },
    decoder: metaspace,
    model: { type: 'Unigram', unk_id: 3, vocab: entries, byte_fallback: false },
  };
}

/** Deterministic N(0, std²) values from a seeded generator (Box–Muller). */
function normals(n: number, std: number, next: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next() || 1e-12)) * std;
    const th = 2 * Math.PI * next();
    out[i] = r * Math.cos(th);
    if (i + 1 < n) out[i + 1] = r * Math.sin(th);
  }
  return out;
}

/** One MLM batch on the host: inputs [N, 1, S], labels and 0/1 weights [N·S]. */
interface MlmBatch {
  ids: Int32Array;
  mask: Int32Array;
  labels: Int32Array;
  weights: Float32Array;
  n: number;
  s: number;
}

/** BERT masking of `sentences` (each `[CLS] … [SEP]`), padded to `s`; at least one token per sentence. */
function maskBatch(sentences: number[][], s: number, vocabSize: number, next: () => number): MlmBatch {
  const n = sentences.length;
  const b: MlmBatch = { ids: new Int32Array(n * s), mask: new Int32Array(n * s), labels: new Int32Array(n * s), weights: new Float32Array(n * s), n, s };
  const firstWord = SPECIAL_TOKENS.length;
  sentences.forEach((sent, i) => {
    const inner = sent.length - 2;
    let chosen = Array.from({ length: inner }, () => next() < MASK_RATE);
    if (!chosen.some(Boolean)) chosen = chosen.map((_, j) => j === Math.floor(next() * inner));
    sent.forEach((id, j) => {
      const at = i * s + j;
      b.mask[at] = 1;
      b.ids[at] = id;
      if (j === 0 || j === sent.length - 1 || !chosen[j - 1]) return;
      b.labels[at] = id;
      b.weights[at] = 1;
      const r = next();
      if (r < 0.8) b.ids[at] = SPECIAL_TOKENS.indexOf('[MASK]');
      else if (r < 0.9) b.ids[at] = firstWord + Math.floor(next() * (vocabSize - firstWord));
    });
  });
  return b;
}

/** The MLM head's variables, named as the original DeBERTa repo's `lm_predictions.lm_head.*`. */
function createHead(tf: typeof TF, h: number, v: number, next: () => number): Map<string, TF.Variable> {
  const make = (name: string, data: Float32Array, shape: number[]): [string, TF.Variable] => [name, tf.variable(tf.tensor(data, shape), true, name)];
  return new Map([
    make('lm_predictions.lm_head.dense.weight', normals(h * h, 0.02, next), [h, h]),
    make('lm_predictions.lm_head.dense.bias', new Float32Array(h), [h]),
    make('lm_predictions.lm_head.LayerNorm.weight', new Float32Array(h).fill(1), [h]),
    make('lm_predictions.lm_head.LayerNorm.bias', new Float32Array(h), [h]),
    make('lm_predictions.lm_head.bias', new Float32Array(v), [v]),
  ]);
}

/** Summed masked-token loss, correct predictions and count for one batch (all scalars). */
function mlmTerms(tf: typeof TF, model: DebertaForMultipleChoice, head: Map<string, TF.Variable>, batch: MlmBatch, training: boolean, dropoutSeed: number): { loss: TF.Scalar; correct: TF.Scalar; count: TF.Scalar } {
  const c = model.config;
  const p = (name: string): TF.Variable => head.get(name) ?? model.params.get(name)!;
  const ids = tf.tensor3d(batch.ids, [batch.n, 1, batch.s], 'int32');
  const mask = tf.tensor3d(batch.mask, [batch.n, 1, batch.s], 'int32');
  const trace = model.trace(ids, mask, { training, dropoutSeed });
  const last = trace.hiddenStates.at(-1)!;
  const x = tf.reshape(last, [-1, c.hidden_size]);
  let t = tf.add(tf.matMul(x, p('lm_predictions.lm_head.dense.weight'), false, true), p('lm_predictions.lm_head.dense.bias'));
  t = tf.mul(tf.mul(t, 0.5), tf.add(1, tf.erf(tf.mul(t, Math.SQRT1_2))));
  const mean = tf.mean(t, -1, true);
  const centred = tf.sub(t, mean);
  const normed = tf.mul(centred, tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), c.layer_norm_eps)));
  t = tf.add(tf.mul(normed, p('lm_predictions.lm_head.LayerNorm.weight')), p('lm_predictions.lm_head.LayerNorm.bias'));
  // The decoder is the word-embedding matrix itself (tied), plus a free bias.
  const logits = tf.add(tf.matMul(t, p('deberta.embeddings.word_embeddings.weight'), false, true), p('lm_predictions.lm_head.bias'));
  const labels = tf.tensor1d(batch.labels, 'int32');
  const weights = tf.tensor1d(batch.weights);
  const logp = tf.logSoftmax(logits);
  const nll = tf.neg(tf.sum(tf.mul(logp, tf.oneHot(labels, c.vocab_size)), -1));
  const loss = tf.sum(tf.mul(nll, weights)) as TF.Scalar;
  const correct = tf.sum(tf.mul(tf.cast(tf.equal(tf.argMax(logits, -1), labels), 'float32'), weights)) as TF.Scalar;
  return { loss, correct, count: tf.sum(weights) as TF.Scalar };
}

// The trainer's sub-area faces rather than trainer/mod.ts, whose run module pulls in the protocol
// and NATS, which pretraining has no use for.
async function loadTrainer() {
  return {
    ...(await import('../trainer/backend.js')),
    ...(await import('../trainer/model/mod.js')),
    ...(await import('../trainer/optim/mod.js')),
    ...(await import('../trainer/data/mod.js')),
  };
}
type Trainer = Awaited<ReturnType<typeof loadTrainer>>;

export interface PretrainOptions {
  /** @default DEFAULT_MODEL_DIR */
  out?: string;
  /** @default DEFAULT_STEPS */
  steps?: number;
  /** @default DEFAULT_SEED */
  seed?: number;
  /** Also time a multiple-choice training step (8 × 5 × 32) before pretraining. @default false */
  measure?: boolean;
}

/** Builds the tokenizer, pretrains, writes the three files; returns the MLM numbers it logged. */
export async function pretrainDemo(root: string, options: PretrainOptions = {}): Promise<{ before: { loss: number; accuracy: number }; after: { loss: number; accuracy: number }; bytes: number }> {
  const out = options.out === undefined ? join(root, DEFAULT_MODEL_DIR) : resolve(options.out);
  const steps = options.steps ?? DEFAULT_STEPS;
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`pretrain-demo: --steps must be a positive integer, got ${steps}`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`pretrain-demo: --seed must be a non-negative integer, got ${seed}`);
  const tf = await import('@tensorflow/tfjs-core');
  const trainer = await loadTrainer();
  const { loadTokenizerJson } = await import('../trainer/tokenizer/mod.js');
  await trainer.selectBackend('wasm');

  const dataDir = join(root, DEMO_DATA_DIR);
  const tokenizerJson = buildTokenizerJson(readVocab(readFileSync(join(dataDir, 'vocab.txt'), 'utf8')));
  const tokenizerText = `${JSON.stringify(tokenizerJson)}\n`;
  const tokenizer: Tokenizer = loadTokenizerJson(tokenizerText, 'tokenizer.json (built)');
  checkQuestions(tokenizer, dataDir, trainer.parseQuestionsCsv);
  const config: DebertaConfig = trainer.parseConfig(demoConfigJson(tokenizer.vocabSize), 'demo config');

  const corpus = readFileSync(join(dataDir, 'corpus.txt'), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const { cls, sep, unk } = tokenizer.specialIds;
  const sentences = corpus.map((line) => [cls, ...tokenizer.encode(line), sep]);
  const unks = sentences.flat().filter((id) => id === unk).length;
  const s = Math.max(...sentences.map((x) => x.length));
  console.error(`pretrain-demo: vocabulary ${tokenizer.vocabSize}, ${sentences.length} corpus sentences (longest ${s} tokens, ${unks} [UNK])`);

  const model = trainer.DebertaForMultipleChoice.create(config, { seed });
  if (options.measure === true) measureFineTuneStep(tf, trainer, model);
  const rng = trainer.Prng.fromSeed(seed, 1);
  const head = createHead(tf, config.hidden_size, config.vocab_size, () => rng.nextFloat());
  const backbone = [...model.params.keys()].filter((n) => n.startsWith('deberta.'));
  const all = new Map<string, TF.Variable>([...backbone.map((n): [string, TF.Variable] => [n, model.params.get(n)!]), ...head]);
  const names = [...all.keys()];
  const optimizer = new trainer.AdamW(all, [
    { names: names.filter((n) => !trainer.isNoDecayParam(n)), lr: DEFAULT_LR, weightDecay: DEFAULT_WEIGHT_DECAY, label: 'decay' },
    { names: names.filter((n) => trainer.isNoDecayParam(n)), lr: DEFAULT_LR, weightDecay: 0, label: 'no decay' },
  ]);
  const schedule = trainer.makeSchedule('linear', { totalSteps: steps, warmupRatio: DEFAULT_WARMUP_RATIO });
  const byVarName = new Map([...all].map(([n, v]) => [v.name, n]));

  // A fixed masking of the whole corpus, so before/after numbers compare like with like.
  const evalRng = trainer.Prng.fromSeed(seed, 2);
  const evalBatches: MlmBatch[] = [];
  for (let i = 0; i < sentences.length; i += 128) evalBatches.push(maskBatch(sentences.slice(i, i + 128), s, config.vocab_size, () => evalRng.nextFloat()));
  const evaluate = (): { loss: number; accuracy: number } => {
    let loss = 0, correct = 0, count = 0;
    for (const b of evalBatches) {
      const [l, c, k] = tf.tidy(() => {
        const t = mlmTerms(tf, model, head, b, false, 0);
        return [t.loss, t.correct, t.count];
      }).map((x) => {
        const v = x.dataSync()[0]!;
        x.dispose();
        return v;
      }) as [number, number, number];
      loss += l; correct += c; count += k;
    }
    return { loss: loss / count, accuracy: correct / count };
  };

  const before = evaluate();
  console.error(`pretrain-demo: before: MLM loss ${before.loss.toFixed(3)}, masked-token accuracy ${(before.accuracy * 100).toFixed(1)} % (chance ${(100 / config.vocab_size).toFixed(2)} %)`);
  const order = trainer.Prng.fromSeed(seed, 3);
  const maskRng = trainer.Prng.fromSeed(seed, 4);
  let perm: number[] = [];
  const started = Date.now();
  let running = 0;
  try {
    for (let step = 0; step < steps; step++) {
      const picked: number[][] = [];
      while (picked.length < DEFAULT_BATCH) {
        if (perm.length === 0) {
          perm = sentences.map((_, i) => i);
          for (let i = perm.length - 1; i > 0; i--) {
            const j = order.nextBelow(i + 1);
            [perm[i], perm[j]] = [perm[j]!, perm[i]!];
          }
        }
        picked.push(sentences[perm.pop()!]!);
      }
      const batch = maskBatch(picked, s, config.vocab_size, () => maskRng.nextFloat());
      const { value, grads } = tf.variableGrads(() => {
        const t = mlmTerms(tf, model, head, batch, true, step + 1);
        return tf.div(t.loss, tf.maximum(t.count, 1)) as TF.Scalar;
      }, [...all.values()]);
      const named = new Map(Object.entries(grads).map(([v, g]) => [byVarName.get(v) ?? v, g]));
      const clipped = trainer.clipGradNorm(named, DEFAULT_CLIP_NORM);
      optimizer.step(clipped.grads, schedule.multiplier(step));
      const loss = value.dataSync()[0]!;
      running = step === 0 ? loss : 0.98 * running + 0.02 * loss;
      tf.dispose([value, clipped.totalNorm, ...named.values(), ...clipped.grads.values()]);
      if ((step + 1) % 100 === 0 || step + 1 === steps) {
        console.error(`pretrain-demo: step ${step + 1}/${steps}  loss ${running.toFixed(3)}  ${((Date.now() - started) / (step + 1)).toFixed(0)} ms/step`);
      }
    }
  } finally {
    optimizer.dispose();
  }
  const after = evaluate();
  console.error(`pretrain-demo: after: MLM loss ${after.loss.toFixed(3)}, masked-token accuracy ${(after.accuracy * 100).toFixed(1)} % (${((Date.now() - started) / 1000).toFixed(0)} s)`);

  const tensors = [];
  for (const n of backbone) {
    const v = model.params.get(n)!;
    tensors.push({ name: n, shape: v.shape, data: (await v.data()) as Float32Array });
  }
  await mkdir(out, { recursive: true });
  const tmp = `.tmp-${process.pid}`;
  try {
    await trainer.writeSafetensors(join(out, `model.safetensors${tmp}`), tensors);
    await writeFile(join(out, `config.json${tmp}`), `${JSON.stringify(demoConfigJson(tokenizer.vocabSize), null, 2)}\n`);
    await writeFile(join(out, `tokenizer.json${tmp}`), tokenizerText);
    for (const f of ['model.safetensors', 'config.json', 'tokenizer.json']) await rename(join(out, `${f}${tmp}`), join(out, f));
  } finally {
    for (const f of ['model.safetensors', 'config.json', 'tokenizer.json']) await rm(join(out, `${f}${tmp}`), { force: true });
  }
  const bytes = statSync(join(out, 'model.safetensors')).size;
  if (bytes >= MAX_MODEL_BYTES) throw new Error(`pretrain-demo: ${join(out, 'model.safetensors')} is ${bytes} bytes, over the ${MAX_MODEL_BYTES}-byte limit`);
  console.error(`pretrain-demo: wrote ${out} (model.safetensors ${bytes} bytes)`);
  model.dispose();
  tf.dispose([...head.values()]);
  return { before, after, bytes };
}

/** Every demo question and option must tokenize without [UNK] and fit maxLength 32 as a pair. */
function checkQuestions(tokenizer: Tokenizer, dataDir: string, parse: Trainer['parseQuestionsCsv']): void {
  let unk = 0, longest = 0;
  for (const file of ['train.csv', 'validation.csv']) {
    for (const q of parse(readFileSync(join(dataDir, file), 'utf8'), file).questions) {
      for (const option of q.options) {
        const enc = tokenizer.encodePair(q.prompt, option, 512);
        unk += enc.inputIds.filter((id) => id === tokenizer.specialIds.unk).length;
        longest = Math.max(longest, enc.inputIds.length);
      }
    }
  }
  console.error(`pretrain-demo: demo questions: longest [CLS] prompt [SEP] option [SEP] is ${longest} tokens, ${unk} [UNK]`);
  if (unk > 0 || longest > 32) throw new Error(`pretrain-demo: the tokenizer leaves ${unk} [UNK] in the demo questions, longest pair ${longest} tokens (want 0 and ≤ 32)`);
}

/** Times forward + backward of a fine-tuning batch (8 questions × 5 options × 32 tokens). */
function measureFineTuneStep(tf: typeof TF, trainer: Trainer, model: DebertaForMultipleChoice): void {
  const [b, c, s] = [8, 5, 32];
  const ids = tf.tensor3d(Int32Array.from({ length: b * c * s }, (_, i) => 5 + (i % 500)), [b, c, s], 'int32');
  const mask = tf.ones([b, c, s], 'int32');
  const labels = tf.tensor1d(Int32Array.from({ length: b }, (_, i) => i % c), 'int32');
  const vars = [...model.params.values()];
  // CPU time as well as wall time: on a shared machine only the former says what an idle one would take.
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let i = 0; i < 8; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const { value, grads } = tf.variableGrads(() => trainer.multipleChoiceLoss(model.forward(ids, mask, { training: true, dropoutSeed: i }), labels), vars);
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
    times.push(performance.now() - t0);
    const dc = process.cpuUsage(c0);
    cpuTimes.push((dc.user + dc.system) / 1000);
  }
  const median = (xs: number[]): string => xs.slice(2).sort((x, y) => x - y)[Math.floor((xs.length - 2) / 2)]!.toFixed(0);
  console.error(`pretrain-demo: fine-tuning step (forward + backward, ${b}×${c}×${s}) on ${tf.getBackend()}: median ${median(times)} ms wall, ${median(cpuTimes)} ms CPU`);
  tf.dispose([ids, mask, labels]);
}

function parseArgs(argv: string[]): PretrainOptions {
  const opts: PretrainOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`pretrain-demo: ${a} needs a value`);
      return v;
    };
    if (a === '--out') opts.out = value();
    else if (a === '--steps') opts.steps = Number(value());
    else if (a === '--seed') opts.seed = Number(value());
    else if (a === '--measure') opts.measure = true;
    else throw new Error(`pretrain-demo: unknown argument '${a}' (expected --out DIR, --steps N, --seed S, --measure)`);
  }
  return opts;
}

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(fileURLToPath(import.meta.url), '../..');
  pretrainDemo(root, parseArgs(process.argv.slice(2))).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
