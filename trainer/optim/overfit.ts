// The overfit check: N AdamW steps on one fixed batch. A model, loss and optimizer that are
// wired correctly drive the loss of a single batch towards zero; and on the tiny fixture the
// same call reproduces PyTorch's numbers step for step (the fixture's `training` section), which
// pins the forward, the backward and the optimizer together.
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { AblateError, type AblateErrorOptions } from '../../common/mod.js';
import { isFrozen, multipleChoiceLoss, type DebertaForMultipleChoice, type FreezeMode } from '../model/mod.js';
import { AdamW, DEFAULT_BETAS } from './adamw.js';
import { InvalidOptimOptionError } from './errors.js';

/** The overfit check's learning rate, the fixture's. @default 1e-3 */
export const DEFAULT_OVERFIT_LR = 1e-3;
/** @default 0.01 */
export const DEFAULT_OVERFIT_WEIGHT_DECAY = 0.01;
/** @default 1e-6 */
export const DEFAULT_OVERFIT_EPS = 1e-6;

/** One multiple-choice batch: int32 `inputIds`/`attentionMask` [B, C, S], int32 `labels` [B]. */
export interface ChoiceBatch {
  inputIds: tf.Tensor3D;
  attentionMask: tf.Tensor3D;
  labels: tf.Tensor1D;
}

export interface OverfitOptions {
  steps: number;
  /** @default DEFAULT_OVERFIT_LR */
  lr?: number;
  /** Applied to every trainable parameter (one group, as the fixture's torch run). @default DEFAULT_OVERFIT_WEIGHT_DECAY */
  weightDecay?: number;
  /** @default DEFAULT_OVERFIT_EPS */
  eps?: number;
  /** @default DEFAULT_BETAS */
  betas?: readonly [number, number];
  /** Frozen tensors get no gradient and stay bit-identical. @default 'none' */
  freeze?: FreezeMode;
  /** Called after each step with its 1-based number and the loss the gradients came from. */
  onStep?: (step: number, loss: number) => void;
}

export interface OverfitResult {
  /** The training loss whose gradients made step 1…N. */
  losses: number[];
  /** Eval-mode logits [B][C] after the last step. */
  logits: number[][];
}

/**
 * Runs `steps` AdamW updates of `model` on `batch`: every trainable parameter in one group with
 * the same weight decay, betas (0.9, 0.999), no clipping, no schedule. Reads each step's loss
 * back (it is reported), nothing else.
 */
export function overfitBatch(model: DebertaForMultipleChoice, batch: ChoiceBatch, opts: OverfitOptions): OverfitResult {
  const { steps, lr = DEFAULT_OVERFIT_LR, weightDecay = DEFAULT_OVERFIT_WEIGHT_DECAY, eps = DEFAULT_OVERFIT_EPS, betas = DEFAULT_BETAS, freeze = 'none' } = opts;
  if (!Number.isInteger(steps) || steps < 1) throw new InvalidOptimOptionError('overfit.steps', steps, 'must be an integer ≥ 1');
  const trainable = [...model.params.keys()].filter((n) => !isFrozen(n, freeze));
  // The frozen tensors stay in the group, as in the torch run; without a gradient AdamW skips them.
  const optimizer = new AdamW(model.params, [{ names: [...model.params.keys()], lr, weightDecay }], { betas, eps });
  const hfName = new Map([...model.params].map(([name, v]) => [v.name, name]));
  const vars = trainable.map((n) => model.params.get(n)!);
  const losses: number[] = [];
  try {
    for (let step = 1; step <= steps; step++) {
      const { value, grads } = tf.variableGrads(
        () => multipleChoiceLoss(model.forward(batch.inputIds, batch.attentionMask, { training: true, dropoutSeed: step }), batch.labels),
        vars,
      );
      const named = new Map(Object.entries(grads).map(([varName, g]) => [hfName.get(varName) ?? varName, g]));
      optimizer.step(named);
      losses.push(value.dataSync()[0]!);
      value.dispose();
      for (const g of named.values()) g.dispose();
      opts.onStep?.(step, losses.at(-1)!);
    }
  } finally {
    optimizer.dispose();
  }
  const logits = tf.tidy(() => model.forward(batch.inputIds, batch.attentionMask, { training: false }));
  const out = logits.arraySync() as number[][];
  logits.dispose();
  return { losses, logits: out };
}

/** An inputs file (like the fixture's `inputs.json`) is unreadable or malformed. */
export class BatchFileError extends AblateError {
  constructor(
    readonly file: string,
    /** The JSON field at fault, e.g. `labels[1]`. */
    readonly field: string,
    reason: string,
    options: AblateErrorOptions = {},
  ) {
    super(`${file}: ${field}: ${reason}`, options);
  }
}

function intGrid(file: string, field: string, value: unknown): { data: number[]; shape: [number, number, number] } {
  const fail = (where: string, why: string): never => {
    throw new BatchFileError(file, where, why);
  };
  if (!Array.isArray(value) || value.length === 0) return fail(field, 'must be a non-empty [questions][choices][tokens] array of integers');
  const data: number[] = [];
  let shape: [number, number, number] | undefined;
  value.forEach((q: unknown, b) => {
    if (!Array.isArray(q) || q.length === 0) fail(`${field}[${b}]`, 'must be a non-empty array of choices');
    (q as unknown[]).forEach((c, ci) => {
      if (!Array.isArray(c) || c.length === 0) fail(`${field}[${b}][${ci}]`, 'must be a non-empty array of token ids');
      const row = c as unknown[];
      shape ??= [value.length, (q as unknown[]).length, row.length];
      if ((q as unknown[]).length !== shape[1] || row.length !== shape[2]) {
        fail(`${field}[${b}][${ci}]`, `has shape [${(q as unknown[]).length}][${row.length}], expected [${shape[1]}][${shape[2]}] like the first`);
      }
      row.forEach((x, s) => {
        if (!Number.isInteger(x)) fail(`${field}[${b}][${ci}][${s}]`, `must be an integer, got ${JSON.stringify(x)}`);
        data.push(x as number);
      });
    });
  });
  return { data, shape: shape! };
}

/** Reads `{input_ids, attention_mask, labels}` (the fixture's `inputs.json` layout) as a batch. */
export async function readBatchFile(file: string): Promise<ChoiceBatch> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (cause) {
    throw new BatchFileError(file, '(file)', cause instanceof Error ? cause.message : String(cause), { cause });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new BatchFileError(file, '(top level)', 'must be a JSON object');
  const obj = json as Record<string, unknown>;
  const ids = intGrid(file, 'input_ids', obj['input_ids']);
  const mask = intGrid(file, 'attention_mask', obj['attention_mask']);
  if (mask.shape.some((d, i) => d !== ids.shape[i])) {
    throw new BatchFileError(file, 'attention_mask', `has shape [${mask.shape.join('][')}], input_ids has [${ids.shape.join('][')}]`);
  }
  const labels = obj['labels'];
  if (!Array.isArray(labels) || labels.length !== ids.shape[0]) {
    throw new BatchFileError(file, 'labels', `must be an array of ${ids.shape[0]} choice indices (one per question)`);
  }
  labels.forEach((l, i) => {
    if (!Number.isInteger(l) || (l as number) < 0 || (l as number) >= ids.shape[1]) {
      throw new BatchFileError(file, `labels[${i}]`, `must be an integer in [0, ${ids.shape[1] - 1}], got ${JSON.stringify(l)}`);
    }
  });
  return {
    inputIds: tf.tensor3d(ids.data, ids.shape, 'int32'),
    attentionMask: tf.tensor3d(mask.data, mask.shape, 'int32'),
    labels: tf.tensor1d(labels as number[], 'int32'),
  };
}
