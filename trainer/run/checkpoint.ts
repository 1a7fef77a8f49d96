// Checkpoints of one run: weights, optimizer state, schedule position, data-order position and
// the curve so far — enough for a restarted attempt to continue as if it had never stopped.
//
// Flow: `save` writes a new folder under a temporary name and renames it into place, then removes
// older checkpoints. Guarantee: `loadLatest` sees either a complete checkpoint or none — a process
// killed mid-write leaves a temporary folder that is ignored (and cleaned up by the next save).
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { AblateError } from '../../common/mod.js';
import { readSafetensors, writeSafetensors, type DataOrderPosition } from '../mod.js';

/** Which phase of the recipe a checkpoint is in. */
export type Phase = 'head-warmup' | 'train' | 'eval';

export interface CurvePoint {
  step: number;
  totalSteps: number;
  epoch: number;
  phase: Phase;
  loss: number;
  learningRates: Record<string, number>;
  examplesPerSecond: number;
  elapsedMs: number;
}

export interface CheckpointState {
  /** Monotonic across the run: orders checkpoints. */
  sequence: number;
  phase: Phase;
  /** Optimizer steps done in `phase`. */
  stepInPhase: number;
  dataOrder: DataOrderPosition;
  curve: CurvePoint[];
  /** Training time already spent by earlier attempts, in milliseconds. */
  elapsedMs: number;
}

export interface Checkpoint {
  state: CheckpointState;
  weights: Map<string, Float32Array>;
  optimizer: Map<string, tf.Tensor>;
}

export class CheckpointError extends AblateError {
  constructor(
    readonly path: string,
    reason: string,
    options: { cause?: unknown } = {},
  ) {
    super(`checkpoint ${path}: ${reason}`, options);
  }
}

const PREFIX = 'ckpt-';
const TMP = '.tmp-';

function folderName(sequence: number): string {
  return `${PREFIX}${String(sequence).padStart(8, '0')}`;
}

/** Writes a checkpoint atomically and removes the older ones. */
export async function saveCheckpoint(dir: string, state: CheckpointState, params: Map<string, tf.Variable>, optimizer: Map<string, tf.Tensor>): Promise<string> {
  await mkdir(dir, { recursive: true });
  const final = join(dir, folderName(state.sequence));
  const tmp = join(dir, `${TMP}${folderName(state.sequence)}-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  const weights = [];
  for (const [name, v] of params) weights.push({ name, shape: v.shape, data: (await v.data()) as Float32Array });
  await writeSafetensors(join(tmp, 'model.safetensors'), weights);
  const opt = [];
  for (const [name, t] of optimizer) opt.push({ name, shape: t.shape, data: Float32Array.from(await t.data()) });
  await writeSafetensors(join(tmp, 'optimizer.safetensors'), opt);
  await writeFile(join(tmp, 'state.json'), JSON.stringify(state));
  await rm(final, { recursive: true, force: true });
  await rename(tmp, final);
  for (const name of await readdir(dir)) {
    if ((name.startsWith(PREFIX) && name < folderName(state.sequence)) || name.startsWith(TMP)) await rm(join(dir, name), { recursive: true, force: true });
  }
  return final;
}

/** The newest complete checkpoint in `dir`, or undefined when there is none. */
export async function loadLatestCheckpoint(dir: string): Promise<(Checkpoint & { path: string }) | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  const latest = names.filter((n) => n.startsWith(PREFIX)).sort().at(-1);
  if (latest === undefined) return undefined;
  const path = join(dir, latest);
  try {
    const state = JSON.parse(await readFile(join(path, 'state.json'), 'utf8')) as CheckpointState;
    const w = await readSafetensors(join(path, 'model.safetensors'));
    const o = await readSafetensors(join(path, 'optimizer.safetensors'));
    const weights = new Map([...w.tensors].map(([n, t]) => [n, t.data]));
    const optimizer = new Map([...o.tensors].map(([n, t]) => [n, tf.tensor(t.data, t.shape)]));
    return { path, state, weights, optimizer };
  } catch (cause) {
    throw new CheckpointError(path, `cannot be read: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
