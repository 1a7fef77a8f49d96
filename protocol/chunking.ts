// Cutting a run's predictions into JetStream messages under the payload limit, and the digest the
// collector uses to verify that what it assembled is exactly what the trainer sent.
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import { ChunkingError } from './errors.js';
import { encodeIds, escapedIds } from './ids.js';
import { LITTLE_ENDIAN, checkProbabilities, swapFloat32Bytes } from './messages.js';

/** NATS's default max_payload (1 MiB); the server may be configured lower, never assumed higher. */
export const NATS_DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/**
 * Largest encoded predictions message. The payload limit counts headers too (Nats-Msg-Id and the
 * NATS/1.0 header line, well under 1 KiB), so 16 KiB of headroom keeps every chunk publishable.
 * @default 1 MiB − 16 KiB
 */
export const DEFAULT_MAX_CHUNK_BYTES = NATS_DEFAULT_MAX_PAYLOAD - 16 * 1024;

/** One encoded predictions message, ready to publish. */
export interface EncodedChunk {
  chunk: number;
  /** `<runUid>.<attempt>.<chunk>` — JetStream drops a republished chunk inside the dedupe window. */
  msgId: string;
  /** Rows in this chunk. */
  count: number;
  /** UTF-8 JSON of a predictions message (v2 from `chunkPredictions`), at most `maxBytes` long. */
  data: Uint8Array;
}

export interface ChunkOptions {
  runUid: string;
  attempt: number;
  /** @default DEFAULT_MAX_CHUNK_BYTES */
  maxBytes?: number;
}

/** Nats-Msg-Id of predictions chunk `chunk`. */
export function chunkMsgId(runUid: string, attempt: number, chunk: number): string {
  return `${runUid}.${attempt}.${chunk}`;
}

/** Nats-Msg-Id of an attempt's done message. */
export function doneMsgId(runUid: string, attempt: number): string {
  return `${runUid}.${attempt}.done`;
}

/** A run's probabilities: `values` row-major, `width` options a row. */
export interface ProbabilityMatrix {
  values: Float32Array;
  width: number;
}

/** Rows of probabilities (what a v1 trainer sent) as one row-major Float32Array. */
export function toProbabilityMatrix(rows: readonly (readonly number[])[]): ProbabilityMatrix {
  const width = rows[0]?.length ?? 0;
  const values = new Float32Array(rows.length * width);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as readonly number[];
    if (row.length !== width) throw new ChunkingError(`probabilities: row ${i} has ${row.length} options, row 0 has ${width}`, `probs[${i}]`, row.length);
    for (let j = 0; j < width; j++) values[i * width + j] = row[j] as number;
  }
  return { values, width };
}

/** The float32 values' wire bytes (little-endian) as base64. */
function float32Base64(values: Float32Array): string {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  if (LITTLE_ENDIAN) return bytes.toString('base64');
  const copy = Buffer.from(bytes);
  swapFloat32Bytes(copy);
  return copy.toString('base64');
}

/** Length of the base64 of `bytes` bytes, padding included. */
function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/** A run's v2 chunks and the digest its done message carries. */
export interface EncodedPredictions {
  chunks: EncodedChunk[];
  /** `predictionsSha256V2` of the run. */
  predictionsSha256: string;
}

/**
 * Cuts (ids, probs) into consecutive v2 chunks (`{v: 2, runUid, attempt, chunk, width, ids,
 * probsF32}`: the ids newline-separated in one string, the probabilities as base64 of float32
 * little-endian) whose encoded JSON is at most `maxBytes`. Every value is checked first (in
 * [0, 1], rows summing ≈ 1: what the collector requires), so a trainer bug fails in the trainer.
 * Sizes are counted exactly (each id's JSON, the base64 of the rows so far), and every finished
 * chunk is checked once more against its encoded length.
 */
export function chunkPredictions(ids: readonly string[], probs: ProbabilityMatrix, opts: ChunkOptions): EncodedChunk[] {
  return encodePredictions(ids, probs, opts).chunks;
}

/** `chunkPredictions` and the run's digest, from one encoding of the ids (what a publisher sends). */
export function encodePredictions(ids: readonly string[], probs: ProbabilityMatrix, opts: ChunkOptions): EncodedPredictions {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_CHUNK_BYTES;
  const { values, width } = probs;
  if (!Number.isSafeInteger(width) || width < 2 || values.length !== ids.length * width) {
    throw new ChunkingError(`chunkPredictions: ${ids.length} ids need ${ids.length} rows × ${width} options, got ${values.length} values`, 'probs', values.length);
  }
  checkProbabilities(values, width, ids.length);
  for (let i = 0; i < ids.length; i++) {
    if (typeof ids[i] !== 'string' || ids[i] === '') throw new ChunkingError(`chunkPredictions: ids[${i}] must be a non-empty string (got ${JSON.stringify(ids[i])})`, `ids[${i}]`, ids[i]);
  }
  const rowBytes = width * 4;
  const encoded = encodeIds(ids);
  // Where each id starts in `encoded`, and the bytes it adds inside the JSON string. Printable ASCII
  // without `"` or `\` (the usual id) is copied as is; anything else is measured through
  // JSON.stringify.
  const plain = PLAIN_ENCODED.test(encoded);
  const escaped = plain ? ids : escapedIds(ids);
  const offset = new Uint32Array(ids.length + 1);
  const idBytes = new Uint32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const e = escaped[i] as string;
    offset[i + 1] = (offset[i] as number) + e.length + 1;
    idBytes[i] = plain ? e.length : Buffer.byteLength(JSON.stringify(e)) - 2;
  }
  // Every part is ASCII when the ids and the runUid are (base64 and numbers always are).
  const ascii = plain && isAscii(Buffer.from(JSON.stringify(opts.runUid)));
  const chunks: EncodedChunk[] = [];
  let start = 0;
  while (start < ids.length) {
    const chunk = chunks.length;
    const head = `{"v":2,"runUid":${JSON.stringify(opts.runUid)},"attempt":${opts.attempt},"chunk":${chunk},"width":${width},"ids":`;
    const fixed = Buffer.byteLength(head) + '"","probsF32":""}'.length;
    let idsSize = 0;
    let end = start;
    while (end < ids.length) {
      // A newline (`\n` in JSON: 2 bytes) before every id but the chunk's first.
      const nextIds = idsSize + (idBytes[end] as number) + (end === start ? 0 : 2);
      if (fixed + nextIds + base64Length((end + 1 - start) * rowBytes) > maxBytes) break;
      idsSize = nextIds;
      end++;
    }
    if (end === start) {
      throw new ChunkingError(`chunkPredictions: row ${start} (id ${JSON.stringify(ids[start])}) alone encodes past ${maxBytes} bytes`, `ids[${start}]`, ids[start]);
    }
    // The message is written part by part into one buffer, not joined into a string first.
    const parts = [head, JSON.stringify(encoded.slice(offset[start], (offset[end] as number) - 1)), ',"probsF32":"', float32Base64(values.subarray(start * width, end * width)), '"}'];
    const data = writeParts(parts, ascii);
    if (data.byteLength > maxBytes) {
      throw new ChunkingError(`chunkPredictions: chunk ${chunk} encodes to ${data.byteLength} bytes, over ${maxBytes}`, 'chunk', chunk);
    }
    chunks.push({ chunk, msgId: chunkMsgId(opts.runUid, opts.attempt, chunk), count: end - start, data });
    start = end;
  }
  return { chunks, predictionsSha256: predictionsSha256V2Encoded(encoded, ids.length, probs) };
}

/** The UTF-8 of the strings concatenated (`ascii`: they are known to be ASCII, one byte a character). */
function writeParts(parts: readonly string[], ascii: boolean): Buffer {
  let size = 0;
  for (const p of parts) size += ascii ? p.length : Buffer.byteLength(p, 'utf8');
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const p of parts) at += out.write(p, at, ascii ? 'latin1' : 'utf8');
  return out;
}

/** Printable ASCII without `"` or `\`, and the separating newlines: each id's JSON is the id itself. */
const PLAIN_ENCODED = /^[\n\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * Version 1's chunks (`{v: 1, …, ids, probs: number[][]}`): what trainers sent before v2. No
 * publisher sends them any more; tests and tools use them to write a v1 stream, which the
 * collector still accepts.
 */
export function chunkPredictionsV1(ids: readonly string[], probs: readonly (readonly number[])[], opts: ChunkOptions): EncodedChunk[] {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_CHUNK_BYTES;
  if (ids.length !== probs.length) {
    throw new ChunkingError(`chunkPredictions: ${ids.length} ids but ${probs.length} rows of probabilities`, 'probs', probs.length);
  }
  const idJson = ids.map((id) => JSON.stringify(id));
  const rowJson = probs.map((row) => JSON.stringify(row));
  const chunks: EncodedChunk[] = [];
  const encoder = new TextEncoder();

  let start = 0;
  while (start < ids.length) {
    const chunk = chunks.length;
    // The envelope without its closing brace; ids and probs follow in the schema's key order.
    const head = JSON.stringify({ v: 1, runUid: opts.runUid, attempt: opts.attempt, chunk }).slice(0, -1);
    let size = Buffer.byteLength(head) + ',"ids":[],"probs":[]}'.length;
    let end = start;
    while (end < ids.length) {
      // A comma before the id and before the row, except for the chunk's first row.
      const add = Buffer.byteLength(idJson[end] as string) + Buffer.byteLength(rowJson[end] as string) + (end === start ? 0 : 2);
      if (size + add > maxBytes) break;
      size += add;
      end++;
    }
    if (end === start) {
      throw new ChunkingError(`chunkPredictions: row ${start} (id ${JSON.stringify(ids[start])}) alone encodes past ${maxBytes} bytes`, `ids[${start}]`, ids[start]);
    }
    const json = `${head},"ids":[${idJson.slice(start, end).join(',')}],"probs":[${rowJson.slice(start, end).join(',')}]}`;
    const data = encoder.encode(json);
    if (data.byteLength > maxBytes) {
      throw new ChunkingError(`chunkPredictions: chunk ${chunk} encodes to ${data.byteLength} bytes, over ${maxBytes}`, 'chunk', chunk);
    }
    chunks.push({ chunk, msgId: chunkMsgId(opts.runUid, opts.attempt, chunk), count: end - start, data });
    start = end;
  }
  return chunks;
}

/**
 * The version 1 digest of a run's predictions (a v1 done message's `predictionsSha256`): sha256 (lowercase hex) over, for every row in
 * order, `u32le(byteLength(utf8(id))) ‖ utf8(id) ‖ u32le(width) ‖ f64le(p₀) ‖ … ‖ f64le(p_width−1)`.
 * Length prefixes make the concatenation unambiguous; float64 is exact because JSON numbers
 * written by JSON.stringify parse back to the same double. No rows: sha256 of nothing.
 */
export function predictionsSha256(ids: readonly string[], probs: readonly (readonly number[])[]): string {
  if (ids.length !== probs.length) {
    throw new ChunkingError(`predictionsSha256: ${ids.length} ids but ${probs.length} rows of probabilities`, 'probs', probs.length);
  }
  const hash = createHash('sha256');
  // Rows are written through one reusable buffer; it grows when a row does not fit. Numbers go
  // through a DataView: Buffer.writeDoubleLE's per-call checks made this digest twice as slow
  // (bench/stream.ts, 100,000 rows: 117 → 65 ms), and both the trainer and the collector run it.
  let buf = Buffer.allocUnsafe(64 * 1024);
  let view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as string;
    const row = probs[i] as readonly number[];
    const need = 8 + Buffer.byteLength(id) + 8 * row.length;
    if (at + need > buf.length) {
      hash.update(buf.subarray(0, at));
      at = 0;
      if (need > buf.length) {
        buf = Buffer.allocUnsafe(need);
        view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      }
    }
    const idStart = at + 4;
    const idLen = buf.write(id, idStart, 'utf8');
    view.setUint32(at, idLen, true);
    at = idStart + idLen;
    view.setUint32(at, row.length, true);
    at += 4;
    for (let j = 0; j < row.length; j++) {
      view.setFloat64(at, row[j] as number, true);
      at += 8;
    }
  }
  hash.update(buf.subarray(0, at));
  return hash.digest('hex');
}

/**
 * The version 2 digest of a run's predictions (a v2 done message's `predictionsSha256`): sha256
 * (lowercase hex) over `u32le(rows) ‖ u32le(width) ‖ utf8(encodeIds(ids)) ‖ f32le(values)`, where
 * `encodeIds` is the chunks' id form (escaped ids separated by newlines, so the list is
 * unambiguous) and `values` are the rows × width probabilities, row-major, exactly as the chunks
 * carry them (width is 0 when there are no rows). Both sides hash the wire's forms as they are.
 */
export function predictionsSha256V2(ids: readonly string[], probs: ProbabilityMatrix): string {
  return predictionsSha256V2Encoded(encodeIds(ids), ids.length, probs);
}

/**
 * `predictionsSha256V2` of ids already in the chunks' form (`encodeIds`): one string, or the
 * chunks' `ids` in order (hashed as if joined by newlines).
 */
export function predictionsSha256V2Encoded(encodedIds: string | readonly string[], rows: number, probs: ProbabilityMatrix): string {
  const width = rows === 0 ? 0 : probs.width;
  if (probs.values.length !== rows * width) {
    throw new ChunkingError(`predictionsSha256V2: ${rows} ids × ${width} options but ${probs.values.length} values`, 'probs', probs.values.length);
  }
  const head = Buffer.alloc(8);
  head.writeUInt32LE(rows, 0);
  head.writeUInt32LE(width, 4);
  const hash = createHash('sha256').update(head);
  if (typeof encodedIds === 'string') hash.update(encodedIds, 'utf8');
  else encodedIds.forEach((piece, i) => (i === 0 ? hash.update(piece, 'utf8') : hash.update('\n').update(piece, 'utf8')));
  const bytes = new Uint8Array(probs.values.buffer, probs.values.byteOffset, probs.values.byteLength);
  if (LITTLE_ENDIAN) hash.update(bytes);
  else {
    const copy = Uint8Array.from(bytes);
    swapFloat32Bytes(copy);
    hash.update(copy);
  }
  return hash.digest('hex');
}
