// Predictions from a model, and the saved-model folder they are made from.
//
// `predictProbabilities` is the one path from questions to option probabilities: the training
// run's final evaluation and `ablate predict` both call it, so the same tokenization, the same
// batches (hence the same padding), the same eval-mode forward and the same softmax run in both.
// That is what lets a saved model, re-run on the validation set with the batch size and backend
// its run used, reproduce the probabilities the run published bit for bit — and with them the
// study's ensemble MAP@k. Questions are tokenized one batch at a time and every tensor of a batch
// is freed before the next, so memory grows only with the output (questions × options floats).
//
// `saveModel` writes a run's final model: the Hugging Face layout (`config.json`,
// `model.safetensors`, the tokenizer file) plus `ablate.json`, which records how the run encoded
// questions (max length, eval batch size, backend) so a later prediction can do the same.
// Guarantee: the model folder is either absent, the previous complete model, or the new complete
// one — it is filled under a temporary name and renamed into place. Replacing an existing model
// takes two renames (old aside, new in); a process killed between them leaves the old one under
// `<dir>.old-<pid>`, and the next `saveModel` (or `recoverSavedModel`) moves it back.
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { AblateError } from '../../common/mod.js';
import type { Question } from '../data/mod.js';
import type { DebertaForMultipleChoice } from '../model/mod.js';
import { encodeQuestion, TOKENIZER_FILES, type Tokenizer } from '../tokenizer/mod.js';

/** One tokenized question: `options` rows of `seqLength` token ids and mask values. */
export interface Encoded {
  ids: Int32Array;
  mask: Int32Array;
  seqLength: number;
  options: number;
}

/** Tokenizes each question (every option paired with the prompt, padded to the longest option). */
export function encodeQuestions(tok: Tokenizer, questions: readonly Question[], maxLength: number): Encoded[] {
  return questions.map((q) => {
    const e = encodeQuestion(tok, q.prompt, q.options, maxLength);
    return { ids: e.inputIds, mask: e.attentionMask, seqLength: e.seqLength, options: q.options.length };
  });
}

/** Stacks questions into [B, C, S] tensors, padding each to the batch's longest sequence. */
export function batchTensors(enc: readonly Encoded[], indices: readonly number[]): { ids: tf.Tensor3D; mask: tf.Tensor3D } {
  const first = enc[indices[0]!]!;
  const c = first.options;
  const s = Math.max(...indices.map((i) => enc[i]!.seqLength));
  const ids = new Int32Array(indices.length * c * s);
  const mask = new Int32Array(indices.length * c * s);
  indices.forEach((qi, b) => {
    const e = enc[qi]!;
    for (let o = 0; o < c; o++) {
      ids.set(e.ids.subarray(o * e.seqLength, (o + 1) * e.seqLength), (b * c + o) * s);
      mask.set(e.mask.subarray(o * e.seqLength, (o + 1) * e.seqLength), (b * c + o) * s);
    }
  });
  return { ids: tf.tensor3d(ids, [indices.length, c, s], 'int32'), mask: tf.tensor3d(mask, [indices.length, c, s], 'int32') };
}

export interface PredictOptions {
  /** Tokens per (prompt, option) row; longer rows are truncated. */
  maxLength: number;
  /** Questions per forward pass. Reproducing a run's numbers exactly needs the run's `evalBatchSize`. */
  batchSize: number;
  /** Called after each batch with the questions done so far (progress bars). */
  onBatch?: (done: number, total: number) => void;
}

/** The option count is fixed for a prediction: the output is one `n × options` matrix. */
export class MixedOptionCountError extends AblateError {
  constructor(
    readonly questionId: string,
    readonly options: number,
    readonly expected: number,
  ) {
    super(`question ${questionId} has ${options} options, the first question has ${expected}: a prediction file needs the same options on every row`);
  }
}

/**
 * Eval-mode probabilities of every question, row-major `n × options`, in question order. Batches
 * are consecutive runs of `batchSize` questions.
 */
export async function predictProbabilities(model: DebertaForMultipleChoice, tok: Tokenizer, questions: readonly Question[], opts: PredictOptions): Promise<Float32Array> {
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new RangeError(`predictProbabilities: batchSize must be a positive integer, got ${opts.batchSize}`);
  const c = questions[0]?.options.length ?? 0;
  const out = new Float32Array(questions.length * c);
  for (let start = 0; start < questions.length; start += opts.batchSize) {
    const batch = questions.slice(start, start + opts.batchSize);
    for (const q of batch) if (q.options.length !== c) throw new MixedOptionCountError(q.id, q.options.length, c);
    const enc = encodeQuestions(tok, batch, opts.maxLength);
    const { ids, mask } = batchTensors(
      enc,
      enc.map((_, i) => i),
    );
    const probs = tf.tidy(() => tf.softmax(model.forward(ids, mask, { training: false })));
    try {
      out.set(await probs.data(), start * c);
    } finally {
      tf.dispose([ids, mask, probs]);
    }
    opts.onBatch?.(start + batch.length, questions.length);
  }
  return out;
}

/** `probs` (row-major, `options` a row) as an array of rows, the shape the publisher sends. */
export function probabilityRows(probs: Float32Array, options: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < probs.length; i += options) rows.push(Array.from(probs.subarray(i, i + options)));
  return rows;
}

/** The sidecar of a saved model. */
export const SAVED_MODEL_INFO_FILE = 'ablate.json';

/** What `ablate.json` records: which run made the model and how it encoded questions. */
export interface SavedModelInfo {
  job: string;
  ablation: string;
  seed: number;
  /** `spec.model.maxLength` of the run. */
  maxLength: number;
  /** The batch size of the run's validation predictions. */
  evalBatchSize: number;
  /** The TF.js backend the run trained and evaluated on. */
  backend: string;
  /** SHA-256 of the validation file the run was scored on. */
  validationSha256: string;
}

/** A saved model folder that cannot be used. */
export class SavedModelError extends AblateError {
  constructor(
    readonly path: string,
    reason: string,
    options: { cause?: unknown } = {},
  ) {
    super(`saved model ${path}: ${reason}`, options);
  }
}

const TMP_MARK = '.tmp-';
const OLD_MARK = '.old-';

/** Writes `model` with its tokenizer files and `info` to `outDir`, replacing any model there atomically. */
export async function saveModel(model: DebertaForMultipleChoice, sourceDir: string, outDir: string, info: SavedModelInfo): Promise<void> {
  const dir = outDir.replace(/\/+$/, '');
  await mkdir(dirname(dir), { recursive: true });
  await recoverSavedModel(dir);
  const tmp = `${dir}${TMP_MARK}${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await model.save(tmp);
  const present = new Set(await readdir(sourceDir));
  for (const f of TOKENIZER_FILES) if (present.has(f)) await copyFile(join(sourceDir, f), join(tmp, f));
  await writeFile(join(tmp, SAVED_MODEL_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
  const old = `${dir}${OLD_MARK}${process.pid}`;
  const replacing = await isDir(dir);
  if (replacing) await rename(dir, old);
  await rename(tmp, dir);
  if (replacing) await rm(old, { recursive: true, force: true });
}

/**
 * Repairs what a killed `saveModel` left next to `outDir`: when the model folder is missing, the
 * newest set-aside previous model is moved back; half-written temporaries and leftover set-aside
 * copies are removed. Returns what the folder holds afterwards.
 */
export async function recoverSavedModel(outDir: string): Promise<'present' | 'restored' | 'absent'> {
  const dir = outDir.replace(/\/+$/, '');
  const parent = dirname(dir);
  const name = basename(dir);
  let siblings: string[];
  try {
    siblings = await readdir(parent);
  } catch {
    return 'absent';
  }
  const leftovers = (mark: string) => siblings.filter((s) => s.startsWith(`${name}${mark}`)).map((s) => join(parent, s));
  for (const t of leftovers(TMP_MARK)) await rm(t, { recursive: true, force: true });
  const olds = leftovers(OLD_MARK);
  let state: 'present' | 'restored' | 'absent' = (await isDir(dir)) ? 'present' : 'absent';
  if (state === 'absent' && olds.length > 0) {
    const newest = (await Promise.all(olds.map(async (p) => ({ p, t: (await stat(p)).mtimeMs })))).sort((a, b) => b.t - a.t)[0]!.p;
    await rename(newest, dir);
    state = 'restored';
  }
  for (const o of olds) await rm(o, { recursive: true, force: true });
  return state;
}

/** The sidecar of a saved model, or undefined for a model saved elsewhere (a plain HF folder). */
export async function readSavedModelInfo(dir: string): Promise<SavedModelInfo | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, SAVED_MODEL_INFO_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SavedModelError(dir, `cannot read ${SAVED_MODEL_INFO_FILE}`, { cause: err });
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (cause) {
    throw new SavedModelError(dir, `${SAVED_MODEL_INFO_FILE} is not JSON`, { cause });
  }
  const o = v as Record<string, unknown>;
  const isInt = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x > 0;
  if (typeof v !== 'object' || v === null || !isInt(o['maxLength']) || !isInt(o['evalBatchSize'])) {
    throw new SavedModelError(dir, `${SAVED_MODEL_INFO_FILE} lacks a positive integer maxLength or evalBatchSize`);
  }
  return v as SavedModelInfo;
}

async function isDir(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
