// The DeBERTa-v2/v3 configuration: Hugging Face `config.json` field names, parsed once into a
// normalised object with every HF default filled in, so the model code never guesses.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelConfigError } from './errors.js';

/** The activations this implementation computes (`hidden_act`, `pooler_hidden_act`). */
export const SUPPORTED_ACTIVATIONS = ['gelu', 'gelu_new', 'relu', 'tanh'] as const;
export type Activation = (typeof SUPPORTED_ACTIVATIONS)[number];

/** Relative-attention terms DeBERTa can add to the content score. */
export type PosAttType = 'c2p' | 'p2c';

/** A normalised HF DeBERTa-v2 config (field names as in `config.json`; defaults applied). */
export interface DebertaConfig {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: Activation;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  initializer_range: number;
  layer_norm_eps: number;
  relative_attention: boolean;
  /** Already resolved: values below 1 become `max_position_embeddings`, as HF does. */
  max_relative_positions: number;
  pad_token_id: number;
  position_biased_input: boolean;
  pos_att_type: PosAttType[];
  /** -1: no log buckets (plain relative distances up to `max_relative_positions`). */
  position_buckets: number;
  share_att_key: boolean;
  /** Parsed from HF's `"layer_norm"` / `"none"` / `"a|b"` string. */
  norm_rel_ebd: string[];
  pooler_hidden_size: number;
  pooler_dropout: number;
  pooler_hidden_act: Activation;
  /** The dropout before the classifier: HF's `cls_dropout`, else `hidden_dropout_prob`. */
  cls_dropout: number;
}

/** HF `DebertaV2Config` defaults, for fields a `config.json` leaves out. */
export const HF_DEBERTA_V2_DEFAULTS = {
  vocab_size: 128100,
  hidden_size: 1536,
  num_hidden_layers: 24,
  num_attention_heads: 24,
  intermediate_size: 6144,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 0,
  initializer_range: 0.02,
  layer_norm_eps: 1e-7,
  relative_attention: false,
  max_relative_positions: -1,
  pad_token_id: 0,
  position_biased_input: true,
  pos_att_type: null,
  position_buckets: -1,
  share_att_key: false,
  norm_rel_ebd: 'none',
  pooler_dropout: 0,
  pooler_hidden_act: 'gelu',
  conv_kernel_size: 0,
} as const;

type Json = Record<string, unknown>;

function field<T>(obj: Json, key: string, source: string, check: (v: unknown) => v is T, what: string): T | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!check(v)) throw new ModelConfigError(`${source}: field '${key}' must be ${what}, got ${JSON.stringify(v)}`, { source, field: key, value: v });
  return v;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown): v is number => Number.isInteger(v);
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isStr = (v: unknown): v is string => typeof v === 'string';

function activation(obj: Json, key: string, source: string, fallback: Activation): Activation {
  const v = field(obj, key, source, isStr, 'a string') ?? fallback;
  if (!(SUPPORTED_ACTIVATIONS as readonly string[]).includes(v)) {
    throw new ModelConfigError(`${source}: field '${key}' = '${v}' is not supported (supported: ${SUPPORTED_ACTIVATIONS.join(', ')})`, { source, field: key, value: v });
  }
  return v as Activation;
}

/**
 * Parses a HF `config.json` object. Absent fields take HF's defaults; features this
 * implementation does not compute (a convolution layer, a factorised embedding projection,
 * unknown attention types) are rejected with an error naming the field.
 */
export function parseConfig(json: unknown, source = 'config.json'): DebertaConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ModelConfigError(`${source}: expected a JSON object`, { source, field: '', value: json });
  }
  const o = json as Json;
  const D = HF_DEBERTA_V2_DEFAULTS;
  const posInt = (key: string, def: number): number => {
    const v = field(o, key, source, isInt, 'an integer') ?? def;
    if (v < 1) throw new ModelConfigError(`${source}: field '${key}' must be at least 1, got ${v}`, { source, field: key, value: v });
    return v;
  };
  const prob = (key: string, def: number): number => {
    const v = field(o, key, source, isNum, 'a number') ?? def;
    if (v < 0 || v >= 1) throw new ModelConfigError(`${source}: field '${key}' must be in [0, 1), got ${v}`, { source, field: key, value: v });
    return v;
  };

  const hidden_size = posInt('hidden_size', D.hidden_size);
  const num_attention_heads = posInt('num_attention_heads', D.num_attention_heads);
  if (hidden_size % num_attention_heads !== 0) {
    throw new ModelConfigError(`${source}: field 'hidden_size' = ${hidden_size} is not a multiple of num_attention_heads = ${num_attention_heads}`, { source, field: 'hidden_size', value: hidden_size });
  }
  const embedding_size = field(o, 'embedding_size', source, isInt, 'an integer') ?? hidden_size;
  if (embedding_size !== hidden_size) {
    throw new ModelConfigError(`${source}: field 'embedding_size' = ${embedding_size} differs from hidden_size = ${hidden_size}; the embedding projection (embed_proj) is not implemented`, { source, field: 'embedding_size', value: embedding_size });
  }
  const conv = field(o, 'conv_kernel_size', source, isInt, 'an integer') ?? D.conv_kernel_size;
  if (conv > 0) {
    throw new ModelConfigError(`${source}: field 'conv_kernel_size' = ${conv} is not supported (the DeBERTa-v2 convolution layer is not implemented)`, { source, field: 'conv_kernel_size', value: conv });
  }
  const max_position_embeddings = posInt('max_position_embeddings', D.max_position_embeddings);
  const rawMaxRel = field(o, 'max_relative_positions', source, isInt, 'an integer') ?? D.max_relative_positions;

  // HF accepts a list or a "p2c|c2p" string; anything else in it is an attention type we lack.
  const rawPat = o['pos_att_type'] ?? D.pos_att_type;
  let patList: unknown[];
  if (rawPat === null) patList = [];
  else if (typeof rawPat === 'string') patList = rawPat.toLowerCase().split('|').map((s) => s.trim()).filter((s) => s !== '');
  else if (Array.isArray(rawPat)) patList = rawPat;
  else throw new ModelConfigError(`${source}: field 'pos_att_type' must be a list or a '|'-separated string, got ${JSON.stringify(rawPat)}`, { source, field: 'pos_att_type', value: rawPat });
  const pos_att_type: PosAttType[] = [];
  for (const t of patList) {
    if (t !== 'c2p' && t !== 'p2c') {
      throw new ModelConfigError(`${source}: field 'pos_att_type' contains '${String(t)}'; supported: c2p, p2c`, { source, field: 'pos_att_type', value: rawPat });
    }
    if (!pos_att_type.includes(t)) pos_att_type.push(t);
  }

  const normRaw = field(o, 'norm_rel_ebd', source, isStr, 'a string') ?? D.norm_rel_ebd;
  const norm_rel_ebd = normRaw.toLowerCase().split('|').map((s) => s.trim());
  for (const n of norm_rel_ebd) {
    if (n !== 'none' && n !== 'layer_norm') {
      throw new ModelConfigError(`${source}: field 'norm_rel_ebd' contains '${n}'; supported: none, layer_norm`, { source, field: 'norm_rel_ebd', value: normRaw });
    }
  }

  const hidden_dropout_prob = prob('hidden_dropout_prob', D.hidden_dropout_prob);
  const type_vocab_size = field(o, 'type_vocab_size', source, isInt, 'an integer') ?? D.type_vocab_size;
  if (type_vocab_size < 0) throw new ModelConfigError(`${source}: field 'type_vocab_size' must be >= 0, got ${type_vocab_size}`, { source, field: 'type_vocab_size', value: type_vocab_size });
  const pad_token_id = field(o, 'pad_token_id', source, isInt, 'an integer') ?? D.pad_token_id;
  const vocab_size = posInt('vocab_size', D.vocab_size);
  if (pad_token_id < 0 || pad_token_id >= vocab_size) {
    throw new ModelConfigError(`${source}: field 'pad_token_id' = ${pad_token_id} is outside the vocabulary (0..${vocab_size - 1})`, { source, field: 'pad_token_id', value: pad_token_id });
  }
  const layer_norm_eps = field(o, 'layer_norm_eps', source, isNum, 'a number') ?? D.layer_norm_eps;
  const initializer_range = field(o, 'initializer_range', source, isNum, 'a number') ?? D.initializer_range;
  const pooler_hidden_size = posInt('pooler_hidden_size', hidden_size);
  if (pooler_hidden_size !== hidden_size) {
    // ContextPooler feeds hidden[:, 0] (hidden_size wide) into Linear(pooler_hidden_size, ...).
    throw new ModelConfigError(`${source}: field 'pooler_hidden_size' = ${pooler_hidden_size} must equal hidden_size = ${hidden_size}`, { source, field: 'pooler_hidden_size', value: pooler_hidden_size });
  }
  const position_buckets = field(o, 'position_buckets', source, isInt, 'an integer') ?? D.position_buckets;

  return {
    vocab_size,
    hidden_size,
    num_hidden_layers: posInt('num_hidden_layers', D.num_hidden_layers),
    num_attention_heads,
    intermediate_size: posInt('intermediate_size', D.intermediate_size),
    hidden_act: activation(o, 'hidden_act', source, D.hidden_act),
    hidden_dropout_prob,
    attention_probs_dropout_prob: prob('attention_probs_dropout_prob', D.attention_probs_dropout_prob),
    max_position_embeddings,
    type_vocab_size,
    initializer_range,
    layer_norm_eps,
    relative_attention: field(o, 'relative_attention', source, isBool, 'a boolean') ?? D.relative_attention,
    max_relative_positions: rawMaxRel < 1 ? max_position_embeddings : rawMaxRel,
    pad_token_id,
    position_biased_input: field(o, 'position_biased_input', source, isBool, 'a boolean') ?? D.position_biased_input,
    pos_att_type,
    position_buckets: position_buckets > 0 ? position_buckets : -1,
    share_att_key: field(o, 'share_att_key', source, isBool, 'a boolean') ?? D.share_att_key,
    norm_rel_ebd,
    pooler_hidden_size,
    pooler_dropout: prob('pooler_dropout', D.pooler_dropout),
    pooler_hidden_act: activation(o, 'pooler_hidden_act', source, D.pooler_hidden_act),
    cls_dropout: o['cls_dropout'] === undefined || o['cls_dropout'] === null ? hidden_dropout_prob : prob('cls_dropout', hidden_dropout_prob),
  };
}

/** Reads and parses `<dir>/config.json`. */
export async function loadConfig(dir: string): Promise<DebertaConfig> {
  const path = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ModelConfigError(`${path}: cannot read the model config`, { source: path, field: '', value: undefined, cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ModelConfigError(`${path}: not valid JSON`, { source: path, field: '', value: undefined, cause });
  }
  return parseConfig(json, path);
}

/** The config as HF writes it back to `config.json` (round-trips through `parseConfig`). */
export function configToJson(config: DebertaConfig): Record<string, unknown> {
  return {
    architectures: ['DebertaV2ForMultipleChoice'],
    model_type: 'deberta-v2',
    ...config,
    norm_rel_ebd: config.norm_rel_ebd.join('|'),
    pos_att_type: [...config.pos_att_type],
  };
}

/** Size of the relative-position attention span (HF `pos_ebd_size`): buckets, else max distance. */
export function attentionSpan(config: DebertaConfig): number {
  return config.position_buckets > 0 ? config.position_buckets : config.max_relative_positions;
}
