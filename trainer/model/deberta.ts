// DebertaV2ForMultipleChoice (Hugging Face transformers semantics, v4.30–v4.40) in TF.js, built
// bottom-up: embeddings, disentangled self-attention, layer, encoder, ContextPooler, classifier.
// Variables are named by their HF checkpoint keys, so loading needs no mapping table.
//
// Speed notes: all heads go through one batched matmul; the relative-position terms (c2p, p2c)
// are computed per diagonal ([S, 2S−1]) and skewed into [S, S] with reshapes and slices instead
// of a per-element gather (whose gradient is a scatter); the index tables are cached per
// sequence length; nothing in `forward` reads a tensor back to the host.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { registerModelGradients } from './gradients.js';
import { type Activation, type DebertaConfig, attentionSpan, configToJson, loadConfig } from './config.js';
import { CheckpointMismatchError, ModelInputError } from './errors.js';
import { type GatherGradient, DEFAULT_GATHER_GRADIENT, embeddingLookup, matMul, matMulTransposedWeight, relativeIndexTables, skewToSquare } from './ops.js';
import { ALLOWED_MISSING_KEYS, IGNORED_UNEXPECTED_KEYS, type FreezeMode, type ParamSpec, countParameters, parameterSpecs } from './params.js';
import { readCheckpoint, writeSafetensors } from './safetensors.js';

registerModelGradients();

/** Seed of the random initialisation (and of a missing head's) when none is given. @default 0 */
export const DEFAULT_INIT_SEED = 0;

/** Masked attention scores are set to the float32 minimum, as the reference's XSoftmax does. */
const FLOAT32_MIN = -3.4028234663852886e38;

export interface ModelOptions {
  /** Seed for random initialisation (all of `create`, the missing head in `load`). @default 0 */
  seed?: number;
  /** The embedding lookups' gradient (see `GatherGradient`). @default 'scatter' */
  gatherGradient?: GatherGradient;
}

export interface ForwardOptions {
  /** Train mode: dropout on. @default false */
  training?: boolean;
  /** Seed of this call's dropout masks; the same seed gives the same masks. @default 0 */
  dropoutSeed?: number;
}

/** Intermediate values of one forward pass, for checking against the reference. */
export interface ForwardTrace {
  logits: tf.Tensor2D;
  /** Embedding LayerNorm output times the mask, [B·C, S, H]. */
  embeddings: tf.Tensor3D;
  /** Output of each encoder layer, [B·C, S, H] (embeddings first, as HF's `hidden_states`). */
  hiddenStates: tf.Tensor3D[];
  /** ContextPooler output, [B·C, H]. */
  pooled: tf.Tensor2D;
}

/** Deterministic N(0, std²) values from a seed and a tensor name (sfc32 + Box–Muller). */
function seededNormal(n: number, std: number, seed: number, name: string): Float32Array {
  let h = 1779033703 ^ seed;
  const key = `${seed}:${name}`;
  for (let i = 0; i < key.length; i++) {
    h = Math.imul(h ^ key.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  let a = h ^ 0x9e3779b9, b = Math.imul(h, 0x85ebca6b), c = Math.imul(h, 0xc2b2ae35), d = seed ^ 0x27d4eb2f;
  const next = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u1 = next() || 1e-12;
    const r = Math.sqrt(-2 * Math.log(u1)) * std;
    const th = 2 * Math.PI * next();
    out[i] = r * Math.cos(th);
    if (i + 1 < n) out[i + 1] = r * Math.sin(th);
  }
  return out;
}

function initialValues(spec: ParamSpec, config: DebertaConfig, seed: number): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  switch (spec.init) {
    case 'zeros':
      return new Float32Array(n);
    case 'ones':
      return new Float32Array(n).fill(1);
    case 'normal':
      return seededNormal(n, config.initializer_range, seed, spec.name);
    case 'embedding-with-pad': {
      // HF zeroes the padding row of the word embeddings after drawing it.
      const v = seededNormal(n, config.initializer_range, seed, spec.name);
      const width = spec.shape[1]!;
      v.fill(0, config.pad_token_id * width, (config.pad_token_id + 1) * width);
      return v;
    }
  }
}

/** TF.js variable names are global; a second live model gets `#<n>` after each HF name. */
function variableName(hfName: string): string {
  const registered = tf.engine().registeredVariables;
  if (registered[hfName] === undefined) return hfName;
  for (let i = 1; ; i++) if (registered[`${hfName}#${i}`] === undefined) return `${hfName}#${i}`;
}

function activate(x: tf.Tensor, act: Activation): tf.Tensor {
  switch (act) {
    case 'gelu': // the exact (erf) form, as HF's ACT2FN['gelu']
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    case 'gelu_new': // the tanh approximation
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.mul(x, tf.square(x)), 0.044715)), Math.sqrt(2 / Math.PI)))));
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
  }
}

/** Per-call dropout: a fresh, reproducible seed for every dropout site in call order. */
class Dropout {
  private count = 0;
  constructor(private readonly training: boolean, private readonly seed: number) {}
  apply(x: tf.Tensor, rate: number): tf.Tensor {
    if (!this.training || rate <= 0) return x;
    this.count++;
    return tf.dropout(x, rate, undefined, `${this.seed}:${this.count}`);
  }
}

export class DebertaForMultipleChoice {
  readonly config: DebertaConfig;
  /** HF checkpoint key → variable, in checkpoint (`state_dict`) order. */
  readonly params: Map<string, tf.Variable>;
  private readonly gatherGradient: GatherGradient;
  /** Relative-position row indices per sequence length: [c2p, p2c], each [2S−1] int32. */
  private readonly relIndexCache = new Map<number, [tf.Tensor1D, tf.Tensor1D]>();
  private disposed = false;

  private constructor(config: DebertaConfig, params: Map<string, tf.Variable>, opts: ModelOptions) {
    this.config = config;
    this.params = params;
    this.gatherGradient = opts.gatherGradient ?? DEFAULT_GATHER_GRADIENT;
  }

  private static fromValues(config: DebertaConfig, values: (spec: ParamSpec) => Float32Array, opts: ModelOptions): DebertaForMultipleChoice {
    const params = new Map<string, tf.Variable>();
    for (const spec of parameterSpecs(config)) {
      const v = tf.tidy(() => tf.variable(tf.tensor(values(spec), spec.shape, 'float32'), true, variableName(spec.name)));
      params.set(spec.name, v);
    }
    return new DebertaForMultipleChoice(config, params, opts);
  }

  /** A randomly initialised model (HF `_init_weights`: N(0, initializer_range), biases 0, LayerNorm 1/0). */
  static create(config: DebertaConfig, opts: ModelOptions = {}): DebertaForMultipleChoice {
    const seed = opts.seed ?? DEFAULT_INIT_SEED;
    return DebertaForMultipleChoice.fromValues(config, (s) => initialValues(s, config, seed), opts);
  }

  /**
   * Loads `<dir>/config.json` and its safetensors weights (single file or sharded). A missing
   * multiple-choice head is initialised from `opts.seed`; any other missing or unexpected
   * tensor, or a shape mismatch, is an error naming the tensor.
   */
  static async load(dir: string, opts: ModelOptions = {}): Promise<DebertaForMultipleChoice> {
    const config = await loadConfig(dir);
    const ckpt = await readCheckpoint(dir);
    const seed = opts.seed ?? DEFAULT_INIT_SEED;
    // A checkpoint saved from the bare DebertaV2Model has no `deberta.` prefix; HF adds it.
    const bare = ![...ckpt.tensors.keys(), ...ckpt.skipped.keys()].some((n) => n.startsWith('deberta.'));
    const keyOf = (n: string): string => (bare && (n.startsWith('embeddings.') || n.startsWith('encoder.')) ? `deberta.${n}` : n);
    const tensors = new Map([...ckpt.tensors].map(([n, t]) => [keyOf(n), t]));
    const specs = parameterSpecs(config);
    const known = new Set(specs.map((s) => s.name));
    for (const name of [...tensors.keys(), ...[...ckpt.skipped.keys()].map(keyOf)]) {
      if (!known.has(name) && !IGNORED_UNEXPECTED_KEYS.some((re) => re.test(name))) {
        throw new CheckpointMismatchError(`${dir}: unexpected tensor '${name}' in the checkpoint (not a parameter of DebertaV2ForMultipleChoice with this config)`, { tensor: name, problem: 'unexpected' });
      }
    }
    for (const s of specs) {
      const t = tensors.get(s.name);
      if (t === undefined) {
        if (ALLOWED_MISSING_KEYS.some((re) => re.test(s.name))) continue;
        throw new CheckpointMismatchError(`${dir}: tensor '${s.name}' is missing from the checkpoint`, { tensor: s.name, problem: 'missing', expected: s.shape });
      }
      if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
        throw new CheckpointMismatchError(`${dir}: tensor '${s.name}' has shape [${t.shape.join(', ')}], the config needs [${s.shape.join(', ')}]`, { tensor: s.name, problem: 'shape', expected: s.shape, actual: t.shape });
      }
    }
    return DebertaForMultipleChoice.fromValues(config, (s) => tensors.get(s.name)?.data ?? initialValues(s, config, seed), opts);
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (v === undefined) throw new Error(`internal: parameter '${name}' not built for this config`);
    return v;
  }

  private linear(x: tf.Tensor, prefix: string): tf.Tensor {
    const w = this.p(`${prefix}.weight`);
    const shape = x.shape;
    const x2 = tf.reshape(x, [-1, shape[shape.length - 1]!]) as tf.Tensor2D;
    const y = tf.add(matMulTransposedWeight(x2, w as tf.Tensor2D), this.p(`${prefix}.bias`));
    return tf.reshape(y, [...shape.slice(0, -1), w.shape[0]!]);
  }

  private layerNorm(x: tf.Tensor, prefix: string): tf.Tensor {
    const mean = tf.mean(x, -1, true);
    const centred = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centred), -1, true);
    const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, this.config.layer_norm_eps)));
    return tf.add(tf.mul(normed, this.p(`${prefix}.weight`)), this.p(`${prefix}.bias`));
  }

  /** [N, S, H·d] → [N, H, S, d] */
  private splitHeads(x: tf.Tensor, n: number, s: number): tf.Tensor4D {
    const heads = this.config.num_attention_heads;
    return tf.transpose(tf.reshape(x, [n, s, heads, -1]), [0, 2, 1, 3]);
  }

  private relIndices(seqLen: number): [tf.Tensor1D, tf.Tensor1D] {
    let cached = this.relIndexCache.get(seqLen);
    if (cached === undefined) {
      const c = this.config;
      const { c2p, p2c } = relativeIndexTables(seqLen, attentionSpan(c), c.position_buckets, c.max_relative_positions);
      cached = [tf.keep(tf.tensor1d(c2p, 'int32')), tf.keep(tf.tensor1d(p2c, 'int32'))];
      this.relIndexCache.set(seqLen, cached);
    }
    return cached;
  }

  private embeddings(ids: tf.Tensor2D, mask: tf.Tensor2D, drop: Dropout): tf.Tensor3D {
    const c = this.config;
    const [n, s] = ids.shape;
    const flatIds = tf.reshape(ids, [-1]) as tf.Tensor1D;
    let x: tf.Tensor = tf.reshape(embeddingLookup(this.p('deberta.embeddings.word_embeddings.weight') as tf.Tensor2D, flatIds, { paddingIdx: c.pad_token_id, gradient: this.gatherGradient }), [n, s, c.hidden_size]);
    if (c.position_biased_input) {
      if (s > c.max_position_embeddings) throw new ModelInputError(`input_ids: sequence length ${s} exceeds max_position_embeddings ${c.max_position_embeddings}`, { input: 'input_ids', value: s });
      x = tf.add(x, tf.slice(this.p('deberta.embeddings.position_embeddings.weight'), [0, 0], [s, c.hidden_size]));
    }
    // No token_type_ids are passed, so every token has type 0.
    if (c.type_vocab_size > 0) x = tf.add(x, tf.slice(this.p('deberta.embeddings.token_type_embeddings.weight'), [0, 0], [1, c.hidden_size]));
    x = this.layerNorm(x, 'deberta.embeddings.LayerNorm');
    x = tf.mul(x, tf.expandDims(mask, 2));
    return drop.apply(x, c.hidden_dropout_prob) as tf.Tensor3D;
  }

  /** Disentangled attention bias (c2p + p2c), [N, H, S, S], from one layer's q, k and the normalised relative table. */
  private relativeBias(prefix: string, q: tf.Tensor4D, k: tf.Tensor4D, relTable: tf.Tensor2D, scale: number): tf.Tensor | undefined {
    const c = this.config;
    const s = q.shape[2];
    const heads = c.num_attention_heads;
    const [c2pIdx, p2cIdx] = this.relIndices(s);
    // The per-diagonal relative embeddings, projected like the content, split into heads and laid
    // out for a plain matmul: [1, H, d, 2S−1].
    const project = (idx: tf.Tensor1D, proj: string): tf.Tensor => {
      const rows = embeddingLookup(relTable, idx, { gradient: this.gatherGradient });
      return tf.expandDims(tf.transpose(tf.reshape(this.linear(rows, proj), [2 * s - 1, heads, -1]), [1, 2, 0]), 0);
    };
    let score: tf.Tensor | undefined;
    if (c.pos_att_type.includes('c2p')) {
      const posKey = project(c2pIdx, c.share_att_key ? `${prefix}.key_proj` : `${prefix}.pos_key_proj`);
      const c2p = tf.div(skewToSquare(matMul(q, posKey)), scale);
      score = c2p;
    }
    if (c.pos_att_type.includes('p2c')) {
      const posQuery = project(p2cIdx, c.share_att_key ? `${prefix}.query_proj` : `${prefix}.pos_query_proj`);
      // Rows are keys here; the transpose puts queries back on rows.
      const p2c = tf.div(tf.transpose(skewToSquare(matMul(k, posQuery)), [0, 1, 3, 2]), scale);
      score = score === undefined ? p2c : tf.add(score, p2c);
    }
    return score;
  }

  private layer(l: number, h: tf.Tensor3D, maskBias: tf.Tensor, queryMask: tf.Tensor, relTable: tf.Tensor2D | undefined, drop: Dropout): tf.Tensor3D {
    const c = this.config;
    const [n, s] = h.shape;
    const pre = `deberta.encoder.layer.${l}`;
    const q = this.splitHeads(this.linear(h, `${pre}.attention.self.query_proj`), n, s);
    const k = this.splitHeads(this.linear(h, `${pre}.attention.self.key_proj`), n, s);
    const v = this.splitHeads(this.linear(h, `${pre}.attention.self.value_proj`), n, s);
    // HF scales by sqrt(d · (1 + number of relative terms)), dividing the key before the product.
    const scaleFactor = 1 + (c.relative_attention ? c.pos_att_type.length : 0);
    const scale = Math.sqrt(q.shape[3] * scaleFactor);
    let scores: tf.Tensor = matMul(q, tf.div(k, scale), false, true);
    if (relTable !== undefined) {
      const table = drop.apply(relTable, c.hidden_dropout_prob) as tf.Tensor2D;
      const rel = this.relativeBias(`${pre}.attention.self`, q, k, table, scale);
      if (rel !== undefined) scores = tf.add(scores, rel);
    }
    // XSoftmax: masked scores → float32 min, then masked probabilities → 0. Within a real query's
    // row the masked keys' probabilities underflow to exactly 0 already; only a padded query's row
    // (all keys masked, softmax uniform) needs zeroing, which is done on the [.., S, d] context
    // instead of the [.., S, S] probabilities — the same values and gradients, less work.
    const probs = drop.apply(tf.softmax(tf.add(scores, maskBias)), c.attention_probs_dropout_prob);
    const context = tf.reshape(tf.transpose(tf.mul(matMul(probs, v), queryMask), [0, 2, 1, 3]), [n, s, c.hidden_size]);
    const attnOut = drop.apply(this.linear(context, `${pre}.attention.output.dense`), c.hidden_dropout_prob);
    const attn = this.layerNorm(tf.add(attnOut, h), `${pre}.attention.output.LayerNorm`);
    const inter = activate(this.linear(attn, `${pre}.intermediate.dense`), c.hidden_act);
    const out = drop.apply(this.linear(inter, `${pre}.output.dense`), c.hidden_dropout_prob);
    return this.layerNorm(tf.add(out, attn), `${pre}.output.LayerNorm`) as tf.Tensor3D;
  }

  private checkInputs(inputIds: tf.Tensor, attentionMask: tf.Tensor): void {
    if (inputIds.rank !== 3) throw new ModelInputError(`input_ids: expected [batch, choices, seq], got shape [${inputIds.shape.join(', ')}]`, { input: 'input_ids', value: inputIds.shape });
    if (attentionMask.shape.length !== 3 || attentionMask.shape.some((d, i) => d !== inputIds.shape[i])) {
      throw new ModelInputError(`attention_mask: shape [${attentionMask.shape.join(', ')}] differs from input_ids [${inputIds.shape.join(', ')}]`, { input: 'attention_mask', value: attentionMask.shape });
    }
  }

  /** Like `forward`, also returning the intermediate values (the caller disposes all of them). */
  trace(inputIds: tf.Tensor, attentionMask: tf.Tensor, opts: ForwardOptions = {}): ForwardTrace {
    this.checkInputs(inputIds, attentionMask);
    const c = this.config;
    const [b, choices, s] = inputIds.shape as [number, number, number];
    const n = b * choices;
    return tf.tidy(() => {
      const drop = new Dropout(opts.training ?? false, opts.dropoutSeed ?? 0);
      const ids = tf.reshape(tf.cast(inputIds, 'int32'), [n, s]) as tf.Tensor2D;
      const mask = tf.reshape(tf.cast(attentionMask, 'float32'), [n, s]) as tf.Tensor2D;
      // The 2-D attention mask is the outer product mask[i]·mask[j].
      const queryMask = tf.reshape(mask, [n, 1, s, 1]);
      const maskBias = tf.mul(tf.sub(1, tf.mul(queryMask, tf.reshape(mask, [n, 1, 1, s]))), FLOAT32_MIN);
      const embeddings = this.embeddings(ids, mask, drop);
      let relTable: tf.Tensor2D | undefined;
      if (c.relative_attention) {
        relTable = this.p('deberta.encoder.rel_embeddings.weight') as tf.Tensor2D;
        if (c.norm_rel_ebd.includes('layer_norm')) relTable = this.layerNorm(relTable, 'deberta.encoder.LayerNorm') as tf.Tensor2D;
      }
      const hiddenStates: tf.Tensor3D[] = [embeddings];
      let h = embeddings;
      for (let l = 0; l < c.num_hidden_layers; l++) {
        h = this.layer(l, h, maskBias, queryMask, relTable, drop);
        hiddenStates.push(h);
      }
      // ContextPooler: token 0 → dropout → dense → activation; then dropout → classifier.
      const cls = tf.reshape(tf.slice(h, [0, 0, 0], [n, 1, c.hidden_size]), [n, c.hidden_size]);
      const pooled = activate(this.linear(drop.apply(cls, c.pooler_dropout), 'pooler.dense'), c.pooler_hidden_act) as tf.Tensor2D;
      const logits = tf.reshape(this.linear(drop.apply(pooled, c.cls_dropout), 'classifier'), [b, choices]) as tf.Tensor2D;
      return { logits, embeddings, hiddenStates, pooled };
    });
  }

  /** input_ids and attention_mask int32 [B, C, S] → logits [B, C]. Differentiable; no host reads. */
  forward(inputIds: tf.Tensor, attentionMask: tf.Tensor, opts: ForwardOptions = {}): tf.Tensor2D {
    this.checkInputs(inputIds, attentionMask);
    return tf.tidy(() => {
      const t = this.trace(inputIds, attentionMask, opts);
      return t.logits;
    });
  }

  /** Writes `config.json` and `model.safetensors` (F32) into `dir`, each atomically (temp file + rename). */
  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    const tensors = [];
    for (const [name, v] of this.params) tensors.push({ name, shape: v.shape, data: (await v.data()) as Float32Array });
    const suffix = `.tmp-${process.pid}-${Date.now()}`;
    const weightsTmp = join(dir, `model.safetensors${suffix}`);
    const configTmp = join(dir, `config.json${suffix}`);
    try {
      await writeSafetensors(weightsTmp, tensors);
      await writeFile(configTmp, `${JSON.stringify(configToJson(this.config), null, 2)}\n`);
      await rename(weightsTmp, join(dir, 'model.safetensors'));
      await rename(configTmp, join(dir, 'config.json'));
    } finally {
      await rm(weightsTmp, { force: true });
      await rm(configTmp, { force: true });
    }
  }

  /** Total parameters and trainable parameters under each freezing mode. */
  parameterCounts(): { total: number; trainable: Record<FreezeMode, number> } {
    return countParameters(this.config);
  }

  /** Frees every variable and cached tensor; safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.params.values()) v.dispose();
    for (const [a, b] of this.relIndexCache.values()) tf.dispose([a, b]);
    this.relIndexCache.clear();
  }
}
