// Cutting a run's predictions into JetStream messages under the payload limit, and the digest the
// collector uses to verify that what it assembled is exactly what the trainer sent.
import { createHash } from 'node:crypto';
import { ChunkingError } from './errors.js';
import { encodeIds } from './ids.js';
import { checkProbabilities, float32Offset, float32ToLittleEndian } from './messages.js';

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

/** A run's v2 chunks and the digest its done message carries. */
export interface EncodedPredictions {
  chunks: EncodedChunk[];
  /** `predictionsSha256V2` of the run. */
  predictionsSha256: string;
}

/**
 * Cuts (ids, probs) into consecutive v2 chunks whose frames are at most `maxBytes` long. A v2
 * chunk is a binary frame (docs/protocol.md): one line of JSON, `{"v":2,"runUid":…,"attempt":…,
 * "chunk":…,"width":…,"idsBytes":…}` and a newline, then `idsBytes` bytes of the chunk's ids (UTF-8,
 * escaped and newline-separated as `encodeIds` writes them), then zero bytes up to the next
 * multiple of 4 from the frame's start, then the rows' float32 values, little-endian, row-major.
 * Every value is checked first (in [0, 1], rows summing ≈ 1: what the collector requires), so a
 * trainer bug fails in the trainer.
 */
export function chunkPredictions(ids: readonly string[], probs: ProbabilityMatrix, opts: ChunkOptions): EncodedChunk[] {
  return encodePredictions(ids, probs, opts).chunks;
}

/** `chunkPredictions` and the run's digest, from one encoding of the ids (what a publisher sends). */
export function encodePredictions(ids: readonly string[], probs: ProbabilityMatrix, opts: ChunkOptions): EncodedPredictions {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_CHUNK_BYTES;
  const { values, width } = probs;
  // No rows (rows given as an empty array have width 0): no chunks, and the digest of nothing.
  if (ids.length === 0 && values.length === 0) return { chunks: [], predictionsSha256: predictionsSha256V2Encoded('', 0, probs) };
  if (!Number.isSafeInteger(width) || width < 2 || values.length !== ids.length * width) {
    throw new ChunkingError(`chunkPredictions: ${ids.length} ids need ${ids.length} rows × ${width} options, got ${values.length} values`, 'probs', values.length);
  }
  checkProbabilities(values, width, ids.length);
  for (let i = 0; i < ids.length; i++) {
    if (typeof ids[i] !== 'string' || ids[i] === '') throw new ChunkingError(`chunkPredictions: ids[${i}] must be a non-empty string (got ${JSON.stringify(ids[i])})`, `ids[${i}]`, ids[i]);
  }
  const rowBytes = width * 4;
  const { bytes: idBytes, starts } = idsWithStarts(ids);
  const floats = float32ToLittleEndian(values);
  const chunks: EncodedChunk[] = [];
  let start = 0;
  while (start < ids.length) {
    const chunk = chunks.length;
    // The header with the longest idsBytes a chunk could have, so the bound below never undercounts.
    const headerOf = (idsBytes: number): string => `{"v":2,"runUid":${JSON.stringify(opts.runUid)},"attempt":${opts.attempt},"chunk":${chunk},"width":${width},"idsBytes":${idsBytes}}\n`;
    const fixed = Buffer.byteLength(headerOf(maxBytes)) + 3;
    let end = start;
    while (end < ids.length && fixed + ((starts[end + 1] as number) - 1 - (starts[start] as number)) + (end + 1 - start) * rowBytes <= maxBytes) end++;
    if (end === start) {
      throw new ChunkingError(`chunkPredictions: row ${start} (id ${JSON.stringify(ids[start])}) alone encodes past ${maxBytes} bytes`, `ids[${start}]`, ids[start]);
    }
    const idsPart = idBytes.subarray(starts[start], (starts[end] as number) - 1);
    const data = predictionsFrame(headerOf(idsPart.length), idsPart, floats.subarray(start * rowBytes, end * rowBytes));
    if (data.byteLength > maxBytes) {
      throw new ChunkingError(`chunkPredictions: chunk ${chunk} encodes to ${data.byteLength} bytes, over ${maxBytes}`, 'chunk', chunk);
    }
    chunks.push({ chunk, msgId: chunkMsgId(opts.runUid, opts.attempt, chunk), count: end - start, data });
    start = end;
  }
  return { chunks, predictionsSha256: predictionsSha256V2Encoded(idBytes, ids.length, probs) };
}

const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;

/**
 * The ids' v2 form (`encodeIds`) as UTF-8, and where each id starts in it (`starts[rows]` is the
 * length + 1, as if one more id followed). Plain ASCII ids (no backslash or newline: the usual
 * ones) are written byte by byte in one pass; anything else goes through `encodeIds`.
 */
function idsWithStarts(ids: readonly string[]): { bytes: Buffer; starts: Uint32Array } {
  const starts = new Uint32Array(ids.length + 1);
  let size = Math.max(0, ids.length - 1);
  for (let i = 0; i < ids.length; i++) size += (ids[i] as string).length;
  const bytes = Buffer.allocUnsafe(size);
  let at = 0;
  plain: {
    for (let i = 0; i < ids.length; i++) {
      if (i > 0) bytes[at++] = NEWLINE;
      starts[i] = at;
      const id = ids[i] as string;
      for (let k = 0; k < id.length; k++) {
        const c = id.charCodeAt(k);
        if (c >= 0x80 || c === BACKSLASH || c === NEWLINE) break plain;
        bytes[at++] = c;
      }
    }
    starts[ids.length] = at + 1;
    return { bytes, starts };
  }
  const encoded = Buffer.from(encodeIds(ids), 'utf8');
  // An escaped id holds no newline: each newline starts the next id.
  for (let i = 0, row = 1; i < encoded.length; i++) if (encoded[i] === NEWLINE) starts[row++] = i + 1;
  starts[ids.length] = encoded.length + 1;
  return { bytes: encoded, starts };
}

/** One v2 frame: the header line (newline included), the ids, zero padding to a multiple of 4, the float32 bytes. */
function predictionsFrame(headerLine: string, ids: Uint8Array, floats: Uint8Array): Buffer {
  const head = Buffer.byteLength(headerLine);
  const at = float32Offset(head + ids.length);
  const out = Buffer.allocUnsafe(at + floats.length);
  out.write(headerLine, 0, 'utf8');
  out.set(ids, head);
  out.fill(0, head + ids.length, at);
  out.set(floats, at);
  return out;
}

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
 * `predictionsSha256V2` of ids already in the chunks' form (`encodeIds`): one string or its UTF-8
 * bytes, or the chunks' ids in order (hashed as if joined by newlines).
 */
export function predictionsSha256V2Encoded(encodedIds: string | Uint8Array | readonly (string | Uint8Array)[], rows: number, probs: ProbabilityMatrix): string {
  const width = rows === 0 ? 0 : probs.width;
  if (probs.values.length !== rows * width) {
    throw new ChunkingError(`predictionsSha256V2: ${rows} ids × ${width} options but ${probs.values.length} values`, 'probs', probs.values.length);
  }
  const head = Buffer.alloc(8);
  head.writeUInt32LE(rows, 0);
  head.writeUInt32LE(width, 4);
  const hash = createHash('sha256').update(head);
  const pieces = typeof encodedIds === 'string' || encodedIds instanceof Uint8Array ? [encodedIds] : encodedIds;
  pieces.forEach((piece, i) => {
    if (i > 0) hash.update(NEWLINE_BYTE);
    if (typeof piece === 'string') hash.update(piece, 'utf8');
    else hash.update(piece);
  });
  hash.update(float32ToLittleEndian(probs.values));
  return hash.digest('hex');
}

const NEWLINE_BYTE = Uint8Array.of(NEWLINE);
