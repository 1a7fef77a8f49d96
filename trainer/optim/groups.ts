// Parameter groups for AdamW: which parameters decay, and each one's learning rate by depth.
//
// Decay split as in the DeBERTa repo (`optimizer_utils.create_xoptimizer`, no decay on `bias` and
// `LayerNorm.weight`), kept inside each depth group as science.md §3.3 asks. Per-depth rates:
//  - cosine (science.md §3.3, an assumption the blog left open): s(d) = (1 − cos(π·d/L))/2,
//    lr(d) = ρ·lr_max + (lr_max − ρ·lr_max)·s(d), so the bottom trains at ρ·lr_max, the top near lr_max;
//  - geometric (ELECTRA-style LLRD with the target ratio of §3.1): lr(d) = lr_max·γ^(L−d),
//    γ = decay, or ρ^(1/L) so that the bottom/top ratio is exactly ρ; floored at ρ·lr_max (the
//    API's contract), which only bites when an explicit γ would go below it.
// The head (pooler, classifier) trains at lr_max, or `headLr` when given.
import { isFrozen, layerDepth, type FreezeMode } from '../model/mod.js';
import type { ParamGroup } from './adamw.js';
import { InvalidOptimOptionError } from './errors.js';

/** Per-layer learning-rate shapes, `training.layerwiseLearningRate.schedule`. */
export const LAYERWISE_SCHEDULES = ['cosine', 'geometric'] as const;
export type LayerwiseSchedule = (typeof LAYERWISE_SCHEDULES)[number];

export interface LayerwiseOptions {
  schedule: LayerwiseSchedule;
  /** ρ: the bottom (depth 0) rate as a fraction of the top rate, in (0, 1]. */
  minRatio: number;
  /** geometric only: the per-layer factor γ in (0, 1], floored at minRatio. @default minRatio^(1/numLayers) */
  decay?: number;
}

export interface ParamGroupOptions {
  /** lr_max: the rate of the top layer and (unless `headLr`) the head. */
  baseLr: number;
  /** Decoupled weight decay for the parameters that decay. */
  weightDecay: number;
  /** Parameters exempt from weight decay. @default isNoDecayParam (biases, LayerNorm weights) */
  noDecay?: (name: string) => boolean;
  /** Per-depth learning rates; none gives every depth `baseLr`. @default null */
  layerwise?: LayerwiseOptions | null;
  /** Encoder layers L (`num_hidden_layers`). */
  numLayers: number;
  /** The pooler's and classifier's rate. @default baseLr */
  headLr?: number;
  /** Parameters left out of every group (they get no gradient and stay as loaded). @default 'none' */
  freeze?: FreezeMode;
}

/** DeBERTa's no-decay rule: biases (LayerNorm biases included) and LayerNorm weights. */
export function isNoDecayParam(name: string): boolean {
  return name === 'bias' || name.endsWith('.bias') || name.endsWith('LayerNorm.weight');
}

/** The learning rate of depth `depth` (0…L) under `layerwise`, or lr_max for the head. */
export function layerLearningRate(depth: number | 'head', opts: { lrMax: number; numLayers: number; layerwise?: LayerwiseOptions | null; headLr?: number }): number {
  const { lrMax, numLayers: L, layerwise, headLr } = opts;
  if (depth === 'head') return headLr ?? lrMax;
  if (!layerwise) return lrMax;
  const rho = layerwise.minRatio;
  switch (layerwise.schedule) {
    case 'cosine': {
      const s = (1 - Math.cos((Math.PI * depth) / L)) / 2;
      const lrMin = rho * lrMax;
      return lrMin + (lrMax - lrMin) * s;
    }
    case 'geometric': {
      const gamma = layerwise.decay ?? rho ** (1 / L);
      return Math.max(rho * lrMax, lrMax * gamma ** (L - depth));
    }
    default:
      throw new InvalidOptimOptionError('layerwiseLearningRate.schedule', layerwise.schedule, `must be one of ${LAYERWISE_SCHEDULES.join(', ')}`);
  }
}

function compile(opts: ParamGroupOptions): void {
  const positive = (field: string, v: number | undefined): void => {
    if (v !== undefined && !(v > 0 && Number.isFinite(v))) throw new InvalidOptimOptionError(field, v, 'must be a finite number > 0');
  };
  positive('learningRate', opts.baseLr);
  positive('headLr', opts.headLr);
  if (!(opts.weightDecay >= 0 && Number.isFinite(opts.weightDecay))) throw new InvalidOptimOptionError('weightDecay', opts.weightDecay, 'must be a finite number ≥ 0');
  if (!Number.isInteger(opts.numLayers) || opts.numLayers < 1) throw new InvalidOptimOptionError('numLayers', opts.numLayers, 'must be an integer ≥ 1');
  const lw = opts.layerwise;
  if (lw) {
    if (!LAYERWISE_SCHEDULES.includes(lw.schedule)) throw new InvalidOptimOptionError('layerwiseLearningRate.schedule', lw.schedule, `must be one of ${LAYERWISE_SCHEDULES.join(', ')}`);
    if (!(lw.minRatio > 0 && lw.minRatio <= 1)) throw new InvalidOptimOptionError('layerwiseLearningRate.minRatio', lw.minRatio, 'must be in (0, 1]');
    if (lw.decay !== undefined && !(lw.decay > 0 && lw.decay <= 1)) throw new InvalidOptimOptionError('layerwiseLearningRate.decay', lw.decay, 'must be in (0, 1]');
    if (lw.decay !== undefined && lw.schedule !== 'geometric') throw new InvalidOptimOptionError('layerwiseLearningRate.decay', lw.decay, "applies only to schedule 'geometric'");
  }
}

/**
 * AdamW groups for the named parameters (HF keys): frozen ones left out, then one group per
 * (depth, decays?) that has members — at most 2·(L+2) — ordered input side first, head last.
 * Without `layerwise` (and `headLr`) that is just the decay and the no-decay group.
 */
export function buildParamGroups(names: Iterable<string>, opts: ParamGroupOptions): ParamGroup[] {
  compile(opts);
  const { baseLr, weightDecay, numLayers, layerwise = null, headLr, freeze = 'none', noDecay = isNoDecayParam } = opts;
  const perDepth = !!layerwise;
  const groups = new Map<string, ParamGroup & { order: number }>();
  for (const name of names) {
    if (isFrozen(name, freeze)) continue;
    const depth = layerDepth(name, numLayers);
    const decays = !noDecay(name);
    const slot: number | 'head' = depth === 'head' && headLr !== undefined ? 'head' : perDepth ? depth : 0;
    const key = `${slot}:${decays}`;
    let g = groups.get(key);
    if (!g) {
      const where = slot === 'head' ? 'head' : perDepth ? `depth ${slot}` : 'all';
      g = {
        names: [],
        lr: layerLearningRate(slot, { lrMax: baseLr, numLayers, layerwise, headLr }),
        weightDecay: decays ? weightDecay : 0,
        label: `${where}, ${decays ? 'decay' : 'no decay'}`,
        order: (slot === 'head' ? numLayers + 1 : slot) * 2 + (decays ? 0 : 1),
      };
      groups.set(key, g);
    }
    g.names.push(name);
  }
  return [...groups.values()].sort((a, b) => a.order - b.order).map(({ order: _order, ...g }) => g);
}
