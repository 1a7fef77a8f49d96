// Message schemas between trainers and the collector, version 1. Every message is validated on
// receipt by the hand-written checks below, which name the first offending field and its value
// (a JSON path like `probs[12][3]`), so a log line says exactly what a trainer got wrong.
import { MessageValidationError } from './errors.js';
import type { MessageKind } from './subjects.js';

/** The schema version every message carries as `v`. */
export const PROTOCOL_VERSION = 1;

/** How far a row of probabilities may sum from 1 (float32 softmax sums are within ~1e-6). @default 1e-3 */
export const PROB_SUM_TOLERANCE = 1e-3;

export const PROGRESS_PHASES = ['head-warmup', 'train', 'eval'] as const;
export type ProgressPhase = (typeof PROGRESS_PHASES)[number];

export const DONE_STATUSES = ['succeeded', 'failed'] as const;
export type DoneStatus = (typeof DONE_STATUSES)[number];

/** Fields every message has: which run (a UID unique to the run) and which attempt of it (1-based). */
export interface MessageHeader {
  v: typeof PROTOCOL_VERSION;
  runUid: string;
  attempt: number;
}

export interface ProgressMessage extends MessageHeader {
  phase: ProgressPhase;
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  /** Learning rate per parameter group (e.g. `head`, `backbone`, `layer.3`). */
  learningRates: Record<string, number>;
  examplesPerSecond: number;
  /** Milliseconds since the run started. */
  elapsedMs: number;
  /** ISO 8601 time the message was made. */
  time: string;
}

export interface PredictionsMessage extends MessageHeader {
  /** 0-based chunk index within this attempt. */
  chunk: number;
  /** Validation question ids, in validation-set order. */
  ids: string[];
  /** One row per id: a probability per option; rows sum ≈ 1 and all have the same width. */
  probs: number[][];
}

export interface DoneMessage extends MessageHeader {
  status: DoneStatus;
  /** Number of predictions chunks published by this attempt (0..chunks-1). */
  chunks: number;
  /** Number of predictions (rows) over all chunks. */
  count: number;
  /** sha256 (hex) of the validation file the trainer predicted on. */
  validationSha256: string;
  /** `predictionsSha256()` of every (id, probs) row in order. */
  predictionsSha256: string;
  metrics: Record<string, number>;
  error?: string;
}

export interface MessageByKind {
  progress: ProgressMessage;
  predictions: PredictionsMessage;
  done: DoneMessage;
}
export type AnyMessage = ProgressMessage | PredictionsMessage | DoneMessage;

type Obj = Record<string, unknown>;

const SHA256_HEX = /^[0-9a-f]{64}$/;

class Checker {
  constructor(readonly kind: string) {}

  fail(field: string, value: unknown, why: string): never {
    const shown = JSON.stringify(value);
    const text = shown === undefined ? String(value) : shown.length > 80 ? `${shown.slice(0, 77)}...` : shown;
    throw new MessageValidationError(`${this.kind} message: ${field} ${why} (got ${text})`, this.kind, field, value);
  }

  object(value: unknown, field: string): Obj {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(field, value, 'must be an object');
    return value as Obj;
  }

  onlyKeys(o: Obj, allowed: readonly string[], field = ''): void {
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) this.fail(field === '' ? k : `${field}.${k}`, o[k], 'is not a known field');
    }
  }

  finite(value: unknown, field: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(field, value, 'must be a finite number');
    return value;
  }

  nonNegative(value: unknown, field: string): number {
    const n = this.finite(value, field);
    if (n < 0) this.fail(field, value, 'must be ≥ 0');
    return n;
  }

  integer(value: unknown, field: string, min: number): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) this.fail(field, value, `must be an integer ≥ ${min}`);
    return value;
  }

  string(value: unknown, field: string): string {
    if (typeof value !== 'string' || value.length === 0) this.fail(field, value, 'must be a non-empty string');
    return value;
  }

  oneOf<T extends string>(value: unknown, field: string, options: readonly T[]): T {
    if (typeof value !== 'string' || !(options as readonly string[]).includes(value)) this.fail(field, value, `must be one of ${options.join(', ')}`);
    return value as T;
  }

  sha256(value: unknown, field: string): string {
    if (typeof value !== 'string' || !SHA256_HEX.test(value)) this.fail(field, value, 'must be 64 lowercase hex digits (sha256)');
    return value;
  }

  numberRecord(value: unknown, field: string): void {
    const o = this.object(value, field);
    for (const [k, v] of Object.entries(o)) this.finite(v, `${field}.${k}`);
  }

  header(o: Obj): void {
    if (o['v'] !== PROTOCOL_VERSION) this.fail('v', o['v'], `must be ${PROTOCOL_VERSION}`);
    this.string(o['runUid'], 'runUid');
    this.integer(o['attempt'], 'attempt', 1);
  }
}

const PROGRESS_KEYS = ['v', 'runUid', 'attempt', 'phase', 'step', 'totalSteps', 'epoch', 'loss', 'learningRates', 'examplesPerSecond', 'elapsedMs', 'time'] as const;
const PREDICTIONS_KEYS = ['v', 'runUid', 'attempt', 'chunk', 'ids', 'probs'] as const;
const DONE_KEYS = ['v', 'runUid', 'attempt', 'status', 'chunks', 'count', 'validationSha256', 'predictionsSha256', 'metrics', 'error'] as const;

/** Checks a parsed progress message; throws MessageValidationError naming the field and value. */
export function validateProgress(value: unknown): ProgressMessage {
  const c: Checker = new Checker('progress');
  const o = c.object(value, '(message)');
  c.onlyKeys(o, PROGRESS_KEYS);
  c.header(o);
  c.oneOf(o['phase'], 'phase', PROGRESS_PHASES);
  const step = c.integer(o['step'], 'step', 0);
  const total = c.integer(o['totalSteps'], 'totalSteps', 0);
  if (step > total) c.fail('step', step, `must be ≤ totalSteps (${total})`);
  c.nonNegative(o['epoch'], 'epoch');
  c.finite(o['loss'], 'loss');
  c.numberRecord(o['learningRates'], 'learningRates');
  c.nonNegative(o['examplesPerSecond'], 'examplesPerSecond');
  c.nonNegative(o['elapsedMs'], 'elapsedMs');
  const time = c.string(o['time'], 'time');
  if (Number.isNaN(Date.parse(time))) c.fail('time', time, 'must be an ISO 8601 time');
  return o as unknown as ProgressMessage;
}

/** Checks a parsed predictions chunk (equal row widths ≥ 2, probabilities in [0, 1] summing ≈ 1). */
export function validatePredictions(value: unknown): PredictionsMessage {
  const c: Checker = new Checker('predictions');
  const o = c.object(value, '(message)');
  c.onlyKeys(o, PREDICTIONS_KEYS);
  c.header(o);
  c.integer(o['chunk'], 'chunk', 0);
  const ids = o['ids'];
  const probs = o['probs'];
  if (!Array.isArray(ids)) c.fail('ids', ids, 'must be an array of strings');
  if (!Array.isArray(probs)) c.fail('probs', probs, 'must be an array of rows');
  if (ids.length === 0) c.fail('ids', ids, 'must not be empty');
  if (probs.length !== ids.length) c.fail('probs', probs.length, `must have one row per id (${ids.length} ids)`);
  for (let i = 0; i < ids.length; i++) c.string(ids[i], `ids[${i}]`);
  let width = -1;
  for (let i = 0; i < probs.length; i++) {
    const row: unknown = probs[i];
    if (!Array.isArray(row)) c.fail(`probs[${i}]`, row, 'must be an array of numbers');
    if (width === -1) {
      width = row.length;
      if (width < 2) c.fail(`probs[${i}]`, row, 'must have at least 2 options');
    } else if (row.length !== width) c.fail(`probs[${i}]`, row.length, `must have the same width as probs[0] (${width})`);
    let sum = 0;
    for (let j = 0; j < row.length; j++) {
      const p: unknown = row[j];
      if (typeof p !== 'number' || !(p >= 0 && p <= 1)) c.fail(`probs[${i}][${j}]`, p, 'must be a probability in [0, 1]');
      sum += p;
    }
    if (Math.abs(sum - 1) > PROB_SUM_TOLERANCE) c.fail(`probs[${i}]`, sum, `must sum to 1 ± ${PROB_SUM_TOLERANCE}`);
  }
  return o as unknown as PredictionsMessage;
}

/** Checks a parsed done message; a failed run must say why (`error`). */
export function validateDone(value: unknown): DoneMessage {
  const c: Checker = new Checker('done');
  const o = c.object(value, '(message)');
  c.onlyKeys(o, DONE_KEYS);
  c.header(o);
  const status = c.oneOf(o['status'], 'status', DONE_STATUSES);
  const chunks = c.integer(o['chunks'], 'chunks', 0);
  const count = c.integer(o['count'], 'count', 0);
  if ((chunks === 0) !== (count === 0)) c.fail('chunks', chunks, `must be 0 exactly when count is 0 (count ${count})`);
  c.sha256(o['validationSha256'], 'validationSha256');
  c.sha256(o['predictionsSha256'], 'predictionsSha256');
  c.numberRecord(o['metrics'], 'metrics');
  if (o['error'] !== undefined) c.string(o['error'], 'error');
  if (status === 'failed' && o['error'] === undefined) c.fail('error', undefined, 'must say why when status is failed');
  return o as unknown as DoneMessage;
}

const VALIDATORS: { [K in MessageKind]: (value: unknown) => MessageByKind[K] } = {
  progress: validateProgress,
  predictions: validatePredictions,
  done: validateDone,
};

/** Checks a parsed message of the given kind. */
export function validateMessage<K extends MessageKind>(kind: K, value: unknown): MessageByKind[K] {
  return VALIDATORS[kind](value);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The wire form: UTF-8 JSON. */
export function encodeMessage(message: AnyMessage): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

/** Parses and validates a payload received on a `kind` subject; throws MessageValidationError. */
export function decodeMessage<K extends MessageKind>(kind: K, data: Uint8Array): MessageByKind[K] {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch (err) {
    const head = Buffer.from(data.subarray(0, 40)).toString('latin1');
    throw new MessageValidationError(`${kind} message: payload is not UTF-8 JSON (starts ${JSON.stringify(head)})`, kind, 'payload', head, { cause: err });
  }
  return validateMessage(kind, value);
}
