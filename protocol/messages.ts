// Message schemas between trainers and the collector, versions 1 and 2 (docs/protocol.md). Every
// message is validated on receipt by the hand-written checks below, which name the first offending
// field and its value (a JSON path like `probs[12][3]`), so a log line says exactly what a trainer
// got wrong.
//
// Version 2 changes the predictions chunk only in how its contents travel: a binary frame — one
// JSON header line, then the ids as newline-separated UTF-8 (protocol/ids.ts), then the
// probabilities as raw float32 little-endian (v1: JSON numbers, ~18 characters a value, whose
// printing and parsing dominated the stream's cost). The receiver reads the header line as JSON and
// the rest as bytes, with no text made of them. A v2 done message carries the v2 digest
// (`predictionsSha256V2`); v2 progress is v1 progress. Publishers send v2; receivers accept both,
// so a stream written by an older trainer still aggregates.
import { isAscii, isUtf8 } from 'node:buffer';
import { MessageValidationError } from './errors.js';
import { idProblem } from './ids.js';
import type { MessageKind } from './subjects.js';

/** The schema version publishers send as `v`. */
export const PROTOCOL_VERSION = 2;
/** Every version a receiver accepts. */
export const SUPPORTED_VERSIONS = [1, 2] as const;
export type ProtocolVersion = (typeof SUPPORTED_VERSIONS)[number];

/** How far a row of probabilities may sum from 1 (float32 softmax sums are within ~1e-6). @default 1e-3 */
export const PROB_SUM_TOLERANCE = 1e-3;

export const PROGRESS_PHASES = ['head-warmup', 'train', 'eval'] as const;
export type ProgressPhase = (typeof PROGRESS_PHASES)[number];

export const DONE_STATUSES = ['succeeded', 'failed'] as const;
export type DoneStatus = (typeof DONE_STATUSES)[number];

/** Fields every message has: which run (a UID unique to the run) and which attempt of it (1-based). */
export interface MessageHeader {
  v: ProtocolVersion;
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

/** A v1 predictions chunk, as sent: probabilities as JSON numbers. */
export interface PredictionsMessageV1 extends MessageHeader {
  v: 1;
  /** 0-based chunk index within this attempt. */
  chunk: number;
  /** Validation question ids, in validation-set order. */
  ids: string[];
  /** One row per id: a probability per option; rows sum ≈ 1 and all have the same width. */
  probs: number[][];
}

/**
 * A v2 predictions chunk once received. On the wire a binary frame: the header line
 * `{"v":2,"runUid":…,"attempt":…,"chunk":…,"width":…,"idsBytes":…}\n`, the ids' bytes, zero
 * padding to a multiple of 4, the float32 values (docs/protocol.md).
 */
export interface PredictionsMessageV2 extends MessageHeader {
  v: 2;
  chunk: number;
  /** The chunk's ids as sent: UTF-8, newline-separated, escaped (`decodeIds` gives the array); a view on the payload. */
  ids: Uint8Array;
  /** Rows (ids) in this chunk. */
  count: number;
  /** Options per row (≥ 2). */
  width: number;
  /** `count × width` probabilities, row-major; each row sums ≈ 1 (a view on the payload when it is aligned). */
  probs: Float32Array;
}

/** A validated predictions chunk of either version (tell them apart by `v`). */
export type PredictionsMessage = PredictionsMessageV1 | PredictionsMessageV2;

export interface DoneMessage extends MessageHeader {
  status: DoneStatus;
  /** Number of predictions chunks published by this attempt (0..chunks-1). */
  chunks: number;
  /** Number of predictions (rows) over all chunks. */
  count: number;
  /** sha256 (hex) of the validation file the trainer predicted on. */
  validationSha256: string;
  /** v1: `predictionsSha256()` of every (id, probs) row in order; v2: `predictionsSha256V2()` of the ids and the float32 values. */
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
    // NaN and ±Infinity would print as null.
    const shown = typeof value === 'number' ? String(value) : JSON.stringify(value);
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

  header(o: Obj): ProtocolVersion {
    const v = o['v'];
    if (!(SUPPORTED_VERSIONS as readonly unknown[]).includes(v)) this.fail('v', v, `must be one of ${SUPPORTED_VERSIONS.join(', ')}`);
    this.string(o['runUid'], 'runUid');
    this.integer(o['attempt'], 'attempt', 1);
    return v as ProtocolVersion;
  }

  ids(value: unknown): string[] {
    if (!Array.isArray(value)) this.fail('ids', value, 'must be an array of strings');
    if (value.length === 0) this.fail('ids', value, 'must not be empty');
    for (let i = 0; i < value.length; i++) this.string(value[i], `ids[${i}]`);
    return value as string[];
  }

  /** Row-major `rows × width` probabilities: each in [0, 1] (NaN is not), each row summing ≈ 1. */
  probabilities(values: ArrayLike<number>, width: number, field: string): void {
    // One tight pass first (no field names built); only a failure walks again to name the place.
    if (values instanceof Float32Array && probabilitiesOk(values, width)) return;
    for (let i = 0, at = 0; at < values.length; i++) {
      let sum = 0;
      for (let j = 0; j < width; j++, at++) {
        const p = values[at] as number;
        if (!(p >= 0 && p <= 1)) this.fail(`${field}[${i}][${j}]`, p, 'must be a probability in [0, 1]');
        sum += p;
      }
      if (Math.abs(sum - 1) > PROB_SUM_TOLERANCE) this.fail(`${field}[${i}]`, sum, `must sum to 1 ± ${PROB_SUM_TOLERANCE}`);
    }
  }
}

/** Whether every value is in [0, 1] and every row of `width` sums to 1 ± PROB_SUM_TOLERANCE. */
function probabilitiesOk(values: Float32Array, width: number): boolean {
  const n = values.length - (values.length % width);
  for (let at = 0; at < n; ) {
    let sum = 0;
    for (const end = at + width; at < end; at++) {
      const p = values[at] as number;
      if (!(p >= 0 && p <= 1)) return false;
      sum += p;
    }
    if (!(Math.abs(sum - 1) <= PROB_SUM_TOLERANCE)) return false;
  }
  return n === values.length;
}

const PROGRESS_KEYS = ['v', 'runUid', 'attempt', 'phase', 'step', 'totalSteps', 'epoch', 'loss', 'learningRates', 'examplesPerSecond', 'elapsedMs', 'time'] as const;
const PREDICTIONS_KEYS = ['v', 'runUid', 'attempt', 'chunk', 'ids', 'probs'] as const;
/** The header line of a v2 frame. */
const PREDICTIONS_V2_KEYS = ['v', 'runUid', 'attempt', 'chunk', 'width', 'idsBytes'] as const;
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

/**
 * Checks a parsed version 1 predictions chunk (equal row widths ≥ 2, probabilities in [0, 1]
 * summing ≈ 1). A version 2 chunk is a binary frame, not JSON: `decodeMessage` reads it.
 */
export function validatePredictions(value: unknown): PredictionsMessage {
  const c: Checker = new Checker('predictions');
  const o = c.object(value, '(message)');
  const v = c.header(o);
  if (v === 2) c.fail('v', v, 'is a binary frame, not a JSON message: a JSON header line, then the ids and the float32 values (docs/protocol.md)');
  c.onlyKeys(o, PREDICTIONS_KEYS);
  c.integer(o['chunk'], 'chunk', 0);
  const probs = o['probs'];
  const ids = c.ids(o['ids']);
  if (!Array.isArray(probs)) c.fail('probs', probs, 'must be an array of rows');
  if (probs.length !== ids.length) c.fail('probs', probs.length, `must have one row per id (${ids.length} ids)`);
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
  return o as unknown as PredictionsMessageV1;
}

/**
 * Reads and checks a v2 frame whose header line (before byte `lineEnd`, a newline) parsed to
 * `o`. Nothing of the ids or values is made into text: the ids are checked as bytes (UTF-8, no
 * empty id, escapes) and stay a view, the values are viewed in place when aligned (copied when
 * not) and checked in one pass.
 */
function decodePredictionsV2(o: Obj, data: Uint8Array, lineEnd: number): PredictionsMessageV2 {
  const c = new Checker('predictions');
  c.header(o);
  c.onlyKeys(o, PREDICTIONS_V2_KEYS);
  const chunk = c.integer(o['chunk'], 'chunk', 0);
  const width = c.integer(o['width'], 'width', 2);
  const idsBytes = c.integer(o['idsBytes'], 'idsBytes', 1);
  const idsStart = lineEnd + 1;
  const idsEnd = idsStart + idsBytes;
  if (idsEnd > data.length) c.fail('idsBytes', idsBytes, `runs past the payload (${data.length - idsStart} bytes follow the header line)`);
  const ids = Buffer.from(data.buffer, data.byteOffset + idsStart, idsBytes);
  if (!isUtf8(ids)) c.fail('ids', ids.subarray(0, 40).toString('latin1'), 'must be UTF-8');
  // One pass counts the ids and notices an empty one (a newline first, last or after another).
  let count = 1;
  let empty = ids[0] === NEWLINE || ids[idsBytes - 1] === NEWLINE;
  for (let i = 0, last = -2; i < idsBytes; i++) {
    if (ids[i] === NEWLINE) {
      count++;
      if (i === last + 1) empty = true;
      last = i;
    }
  }
  if (empty || ids.indexOf(BACKSLASH) !== -1) {
    const escaped = ids.toString('utf8').split('\n');
    for (let i = 0; i < escaped.length; i++) {
      const why = idProblem(escaped[i] as string);
      if (why !== undefined) c.fail(`ids[${i}]`, escaped[i], why);
    }
  }
  const at = float32Offset(idsEnd);
  for (let i = idsEnd; i < Math.min(at, data.length); i++) if (data[i] !== 0) c.fail('padding', data[i], `byte ${i} between the ids and the float32 values must be 0`);
  const rowBytes = width * 4;
  const wantBytes = count * rowBytes;
  const bytes = Math.max(0, data.length - at);
  if (bytes !== wantBytes) {
    const rows = bytes % rowBytes === 0 ? `${bytes / rowBytes} rows of ${width}` : `not a whole number of rows of ${width}`;
    c.fail('probsF32', bytes, `must hold one row of ${width} float32 per id: ${count} ids need ${wantBytes} bytes, it holds ${bytes} (${rows})`);
  }
  let probs: Float32Array;
  if (LITTLE_ENDIAN && (data.byteOffset + at) % 4 === 0) probs = new Float32Array(data.buffer, data.byteOffset + at, count * width);
  else probs = float32FromLittleEndian(data.subarray(at));
  c.probabilities(probs, width, 'probsF32');
  return { v: 2, runUid: o['runUid'] as string, attempt: o['attempt'] as number, chunk, ids, count, width, probs };
}

const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;

/** Where a v2 frame's float32 values start: the first multiple of 4 at or after the ids' end. */
export function float32Offset(idsEnd: number): number {
  return (idsEnd + 3) & ~3;
}

/** Whether this machine stores a Float32Array's bytes little-endian (the wire order). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverses each 4-byte group in place: float32 between the wire's order and a big-endian host's. */
export function swapFloat32Bytes(b: Uint8Array): void {
  for (let i = 0; i + 3 < b.length; i += 4) {
    const b0 = b[i] as number;
    const b1 = b[i + 1] as number;
    b[i] = b[i + 3] as number;
    b[i + 1] = b[i + 2] as number;
    b[i + 2] = b1;
    b[i + 3] = b0;
  }
}

/** Float32 values as wire bytes, little-endian: a view on a little-endian host, a swapped copy otherwise. */
export function float32ToLittleEndian(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const copy = Uint8Array.from(bytes);
  swapFloat32Bytes(copy);
  return copy;
}

/** Float32 values from little-endian bytes (`bytes.length` a multiple of 4), always a copy the caller owns. */
export function float32FromLittleEndian(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length >>> 2);
  const view = new Uint8Array(out.buffer);
  view.set(bytes.subarray(0, out.length * 4));
  if (!LITTLE_ENDIAN) swapFloat32Bytes(view);
  return out;
}

/**
 * Checks the probabilities a publisher is about to send (row-major, `width` a row): the same
 * rules a receiver applies, so a trainer bug fails in the trainer, naming the row and option.
 */
export function checkProbabilities(values: ArrayLike<number>, width: number, rows: number): void {
  const c = new Checker('predictions');
  c.integer(width, 'width', 2);
  if (values.length !== rows * width) c.fail('probs', values.length, `must hold ${rows} rows × ${width} options = ${rows * width} values`);
  c.probabilities(values, width, 'probs');
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

/** The payload as text: strict UTF-8, with a faster path for pure ASCII (what v2 chunks usually are). */
function payloadText(data: Uint8Array): string {
  if (isAscii(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  return decoder.decode(data);
}

/** The wire form of progress and done messages: UTF-8 JSON (predictions: see `chunkPredictions`). */
export function encodeMessage(message: ProgressMessage | DoneMessage): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

/**
 * Parses and validates a payload received on a `kind` subject; throws MessageValidationError. A
 * predictions payload whose first line is a JSON object with `v: 2` is read as a v2 frame; any
 * other payload must be JSON as a whole (every v1 message; progress and done of both versions).
 */
export function decodeMessage<K extends MessageKind>(kind: K, data: Uint8Array): MessageByKind[K] {
  if (kind === 'predictions') {
    const lineEnd = data.indexOf(NEWLINE);
    const header = lineEnd > 0 ? headerLine(data.subarray(0, lineEnd)) : undefined;
    if (header !== undefined) return decodePredictionsV2(header, data, lineEnd) as MessageByKind[K];
  }
  let value: unknown;
  try {
    value = JSON.parse(payloadText(data));
  } catch (err) {
    const head = Buffer.from(data.subarray(0, 40)).toString('latin1');
    const what = kind === 'predictions' ? 'neither a v2 frame (a JSON header line with "v":2, then the ids and float32 values) nor UTF-8 JSON' : 'not UTF-8 JSON';
    throw new MessageValidationError(`${kind} message: payload is ${what} (starts ${JSON.stringify(head)})`, kind, 'payload', head, { cause: err });
  }
  return validateMessage(kind, value);
}

/** The header line of a v2 frame parsed, or undefined when the line is not a JSON object with `v: 2`. */
function headerLine(line: Uint8Array): Obj | undefined {
  // A v1 message is one line of JSON (no newline at all) unless pretty-printed; its first line then
  // is not an object with v 2 either.
  if (line[0] !== 0x7b || !isUtf8(line)) return undefined;
  try {
    const value: unknown = JSON.parse(payloadText(line));
    return typeof value === 'object' && value !== null && !Array.isArray(value) && (value as Obj)['v'] === 2 ? (value as Obj) : undefined;
  } catch {
    return undefined;
  }
}
