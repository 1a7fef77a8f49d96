// The parameter list of DebertaV2ForMultipleChoice as data: HF checkpoint names in `state_dict`
// order, shapes and initialisers, derived from the config alone. Counting parameters, freezing,
// per-layer learning rates and checkpoint checks all read this list, so a 435M-parameter model
// can be described without allocating it.
import type { DebertaConfig } from './config.js';
import { attentionSpan } from './config.js';
import { UnknownParameterError } from './errors.js';

/** How HF `_init_weights` initialises a tensor. */
export type Init = 'normal' | 'zeros' | 'ones' | 'embedding-with-pad';

export interface ParamSpec {
  name: string;
  shape: number[];
  init: Init;
}

/** Which parameters each freezing mode holds fixed. */
export type FreezeMode = 'none' | 'word-embeddings' | 'embeddings' | 'backbone';
export const FREEZE_MODES: readonly FreezeMode[] = ['none', 'word-embeddings', 'embeddings', 'backbone'];

/** Known key mismatches, as HF declares them: checkpoint keys we drop without complaint. */
export const IGNORED_UNEXPECTED_KEYS: readonly RegExp[] = [
  /^deberta\.embeddings\.position_ids$/, // a non-persistent buffer in newer transformers, persisted by older ones
  /^lm_predictions\./, // the pre-training heads a base checkpoint (e.g. microsoft/deberta-v3-large) carries
  /^mask_predictions\./,
];
/** Keys a checkpoint may lack: the multiple-choice head, freshly initialised when absent. */
export const ALLOWED_MISSING_KEYS: readonly RegExp[] = [/^pooler\./, /^classifier\./];

function linear(prefix: string, out: number, inp: number): ParamSpec[] {
  return [
    { name: `${prefix}.weight`, shape: [out, inp], init: 'normal' },
    { name: `${prefix}.bias`, shape: [out], init: 'zeros' },
  ];
}

function layerNorm(prefix: string, width: number): ParamSpec[] {
  return [
    { name: `${prefix}.weight`, shape: [width], init: 'ones' },
    { name: `${prefix}.bias`, shape: [width], init: 'zeros' },
  ];
}

/** Every parameter of the model, in HF `state_dict` order. */
export function parameterSpecs(c: DebertaConfig): ParamSpec[] {
  const h = c.hidden_size;
  const specs: ParamSpec[] = [{ name: 'deberta.embeddings.word_embeddings.weight', shape: [c.vocab_size, h], init: 'embedding-with-pad' }];
  if (c.position_biased_input) specs.push({ name: 'deberta.embeddings.position_embeddings.weight', shape: [c.max_position_embeddings, h], init: 'normal' });
  if (c.type_vocab_size > 0) specs.push({ name: 'deberta.embeddings.token_type_embeddings.weight', shape: [c.type_vocab_size, h], init: 'normal' });
  specs.push(...layerNorm('deberta.embeddings.LayerNorm', h));
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `deberta.encoder.layer.${l}`;
    specs.push(...linear(`${p}.attention.self.query_proj`, h, h), ...linear(`${p}.attention.self.key_proj`, h, h), ...linear(`${p}.attention.self.value_proj`, h, h));
    if (c.relative_attention && !c.share_att_key) {
      if (c.pos_att_type.includes('c2p')) specs.push(...linear(`${p}.attention.self.pos_key_proj`, h, h));
      if (c.pos_att_type.includes('p2c')) specs.push(...linear(`${p}.attention.self.pos_query_proj`, h, h));
    }
    specs.push(
      ...linear(`${p}.attention.output.dense`, h, h),
      ...layerNorm(`${p}.attention.output.LayerNorm`, h),
      ...linear(`${p}.intermediate.dense`, c.intermediate_size, h),
      ...linear(`${p}.output.dense`, h, c.intermediate_size),
      ...layerNorm(`${p}.output.LayerNorm`, h),
    );
  }
  if (c.relative_attention) {
    specs.push({ name: 'deberta.encoder.rel_embeddings.weight', shape: [2 * attentionSpan(c), h], init: 'normal' });
    if (c.norm_rel_ebd.includes('layer_norm')) specs.push(...layerNorm('deberta.encoder.LayerNorm', h));
  }
  specs.push(...linear('pooler.dense', c.pooler_hidden_size, c.pooler_hidden_size), ...linear('classifier', 1, h));
  return specs;
}

/** Whether `mode` freezes the parameter called `name` (an HF checkpoint key). */
export function isFrozen(name: string, mode: FreezeMode): boolean {
  switch (mode) {
    case 'none':
      return false;
    case 'word-embeddings':
      return name === 'deberta.embeddings.word_embeddings.weight';
    case 'embeddings':
      return name.startsWith('deberta.embeddings.');
    case 'backbone':
      return name.startsWith('deberta.');
  }
}

const LAYER_RE = /^deberta\.encoder\.layer\.(\d+)\./;

/**
 * The depth of a parameter for layer-wise learning rates: 0 for the embeddings, the relative
 * embeddings and their LayerNorm (all feed every layer from below), l for `encoder.layer.{l−1}`,
 * 'head' for the pooler and classifier.
 */
export function layerDepth(name: string, numLayers: number): number | 'head' {
  if (name.startsWith('pooler.') || name.startsWith('classifier.')) return 'head';
  if (name.startsWith('deberta.embeddings.') || name.startsWith('deberta.encoder.rel_embeddings.') || name.startsWith('deberta.encoder.LayerNorm.')) return 0;
  const m = LAYER_RE.exec(name);
  if (m) {
    const l = Number(m[1]);
    if (l < numLayers) return l + 1;
  }
  throw new UnknownParameterError(`layerDepth: '${name}' is not a parameter of a ${numLayers}-layer DeBERTa multiple-choice model`, { parameter: name });
}

export interface ParameterCounts {
  total: number;
  trainable: Record<FreezeMode, number>;
}

/** Total and trainable parameter counts under each freezing mode, from the config alone. */
export function countParameters(c: DebertaConfig): ParameterCounts {
  const specs = parameterSpecs(c);
  const size = (s: ParamSpec): number => s.shape.reduce((a, b) => a * b, 1);
  const total = specs.reduce((a, s) => a + size(s), 0);
  const trainable = {} as Record<FreezeMode, number>;
  for (const m of FREEZE_MODES) trainable[m] = specs.filter((s) => !isFrozen(s.name, m)).reduce((a, s) => a + size(s), 0);
  return { total, trainable };
}
