import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ChunkingError,
  DEFAULT_MAX_CHUNK_BYTES,
  MessageValidationError,
  NATS_DEFAULT_MAX_PAYLOAD,
  PROTOCOL_VERSION,
  chunkPredictions,
  chunkPredictionsV1,
  decodeIds,
  decodeMessage,
  encodeIds,
  encodeMessage,
  encodePredictions,
  predictionsSha256,
  predictionsSha256V2,
  validateDone,
  validatePredictions,
  validateProgress,
  toProbabilityMatrix,
  type PredictionsMessage,
} from '../../protocol/mod.js';
import { fakePredictions, v2Frame, type FrameParts } from './kit.js';

const SHA = 'a'.repeat(64);

function progress(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    v: 1, runUid: 'uid-1', attempt: 1, phase: 'train', step: 10, totalSteps: 100, epoch: 0.1, loss: 1.6,
    learningRates: { head: 1e-3, backbone: 1.7578e-5 }, examplesPerSecond: 12.5, elapsedMs: 5000, time: new Date(0).toISOString(), ...over,
  };
}

function done(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { v: 1, runUid: 'uid-1', attempt: 1, status: 'succeeded', chunks: 1, count: 2, validationSha256: SHA, predictionsSha256: SHA, metrics: { mapAt3: 0.7 }, ...over };
}

/** A v2 frame of two rows of two options (ids `a`, `b`), decoded; `parts` sets any part wrong. */
function v2(parts: FrameParts = {}): PredictionsMessage {
  return decodeMessage('predictions', v2Frame(parts));
}

function rejects(fn: () => unknown, kind: string, field: string, value?: unknown): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MessageValidationError, String(e));
    assert.equal(e.kind, kind);
    assert.equal(e.field, field);
    if (value !== undefined) assert.deepEqual(e.value, value);
    assert.ok(e.message.includes(field), e.message);
    return true;
  });
}

describe('protocol messages', () => {
  it('accepts well-formed progress, predictions and done messages of versions 1 and 2', () => {
    assert.equal(PROTOCOL_VERSION, 2);
    assert.equal(validateProgress(progress()).step, 10);
    assert.equal(validateProgress(progress({ v: 2 })).v, 2);
    assert.equal(validatePredictions({ v: 1, runUid: 'u', attempt: 2, chunk: 0, ids: ['a', 'b'], probs: [[0.5, 0.5], [0.1, 0.9]] }).attempt, 2);
    const m = v2();
    assert.ok(m.v === 2 && m.probs instanceof Float32Array);
    assert.deepEqual(Array.from(m.probs), [0.5, 0.5, 0.25, 0.75]);
    assert.deepEqual(decodeIds(m.ids), ['a', 'b']);
    assert.equal(m.count, 2);
    assert.equal(validateDone(done()).status, 'succeeded');
    assert.equal(validateDone(done({ v: 2 })).v, 2);
    assert.equal(validateDone(done({ status: 'failed', error: 'OOM', chunks: 0, count: 0 })).error, 'OOM');
  });

  it('names the offending field and value of a bad progress message', () => {
    rejects(() => validateProgress(progress({ v: 3 })), 'progress', 'v', 3);
    rejects(() => validateProgress(progress({ phase: 'warmup' })), 'progress', 'phase', 'warmup');
    rejects(() => validateProgress(progress({ step: 101 })), 'progress', 'step', 101);
    rejects(() => validateProgress(progress({ loss: null })), 'progress', 'loss', null);
    rejects(() => validateProgress(progress({ learningRates: { head: 'x' } })), 'progress', 'learningRates.head', 'x');
    rejects(() => validateProgress(progress({ attempt: 0 })), 'progress', 'attempt', 0);
    rejects(() => validateProgress(progress({ time: 'yesterday' })), 'progress', 'time', 'yesterday');
    rejects(() => validateProgress(progress({ extra: 1 })), 'progress', 'extra', 1);
  });

  it('names the offending row and option of bad predictions', () => {
    const base = { v: 1, runUid: 'u', attempt: 1, chunk: 0, ids: ['a', 'b'] };
    rejects(() => validatePredictions({ ...base, probs: [[0.5, 0.5]] }), 'predictions', 'probs', 1);
    rejects(() => validatePredictions({ ...base, probs: [[0.5, 0.5], [0.2, 0.3, 0.5]] }), 'predictions', 'probs[1]', 3);
    rejects(() => validatePredictions({ ...base, probs: [[0.5, 0.5], [0.2, 0.7]] }), 'predictions', 'probs[1]');
    rejects(() => validatePredictions({ ...base, probs: [[0.5, 0.5], [1.5, -0.5]] }), 'predictions', 'probs[1][0]', 1.5);
    rejects(() => validatePredictions({ ...base, ids: ['a', 7], probs: [[0.5, 0.5], [0.5, 0.5]] }), 'predictions', 'ids[1]', 7);
    rejects(() => validatePredictions({ ...base, chunk: -1, probs: [[0.5, 0.5], [0.5, 0.5]] }), 'predictions', 'chunk', -1);
  });

  it('rejects a garbled v2 frame, naming the field and value: wrong lengths or row count, NaN, bad sums, bad ids, bad header', () => {
    // One row for two ids; three bytes short of two rows; three ids, two rows; width 4, two rows of 2.
    rejects(() => v2({ values: [0.5, 0.5] }), 'predictions', 'probsF32', 8);
    assert.throws(() => v2({ values: [0.5, 0.5] }), /2 ids need 16 bytes, it holds 8 \(1 rows of 2\)/);
    rejects(() => v2({ floatBytes: new Uint8Array(13) }), 'predictions', 'probsF32', 13);
    rejects(() => v2({ ids: 'a\nb\nc' }), 'predictions', 'probsF32', 16);
    rejects(() => v2({ header: { width: 4 } }), 'predictions', 'probsF32', 16);
    rejects(() => v2({ header: { width: 1 } }), 'predictions', 'width', 1);
    rejects(() => v2({ values: [0.5, 0.5, Number.NaN, 1] }), 'predictions', 'probsF32[1][0]', Number.NaN);
    assert.throws(() => v2({ values: [0.5, 0.5, Number.NaN, 1] }), /probsF32\[1\]\[0\] must be a probability in \[0, 1\] \(got NaN\)/);
    rejects(() => v2({ values: [0.5, 0.5, 1.5, -0.5] }), 'predictions', 'probsF32[1][0]', 1.5);
    rejects(() => v2({ values: [0.5, 0.5, 0.25, 0.25] }), 'predictions', 'probsF32[1]', 0.5);
    // Ids: an empty one, a bad escape, bytes that are not UTF-8, a length past the payload or zero.
    rejects(() => v2({ ids: 'a\n' }), 'predictions', 'ids[1]', '');
    rejects(() => v2({ ids: '\nb' }), 'predictions', 'ids[0]', '');
    rejects(() => v2({ ids: 'a\\x\nb' }), 'predictions', 'ids[0]', 'a\\x');
    rejects(() => v2({ ids: Uint8Array.from([0x61, 0x0a, 0xff]) }), 'predictions', 'ids');
    rejects(() => v2({ header: { idsBytes: 10_000 } }), 'predictions', 'idsBytes', 10_000);
    rejects(() => v2({ header: { idsBytes: 0 } }), 'predictions', 'idsBytes', 0);
    // Header: an unknown field, a missing runUid; padding that is not zero.
    rejects(() => v2({ header: { probs: [[0.5, 0.5]] } }), 'predictions', 'probs');
    rejects(() => v2({ header: { runUid: undefined } }), 'predictions', 'runUid');
    rejects(() => v2({ ids: 'ab\nc', pad: [0, 7] }), 'predictions', 'padding', 7);
    // v2 in JSON (its unreleased first form) and a broken header line: errors, never a crash.
    rejects(() => decodeMessage('predictions', new TextEncoder().encode(JSON.stringify({ v: 2, runUid: 'u', attempt: 1, chunk: 0, width: 2, ids: 'a\nb', probsF32: 'AAAA' }))), 'predictions', 'v', 2);
    rejects(() => validatePredictions({ v: 2, runUid: 'u', attempt: 1, chunk: 0 }), 'predictions', 'v', 2);
    rejects(() => decodeMessage('predictions', Buffer.concat([Buffer.from('{"v":2,"runUid":\n'), v2Frame()])), 'predictions', 'payload');
  });

  it('reads a v2 frame at any byte offset: the values are viewed in place when aligned, copied when not', () => {
    const frame = v2Frame({ ids: 'q1\nq22' });
    for (const offset of [0, 1, 2, 3, 4]) {
      const holder = new Uint8Array(offset + frame.length);
      holder.set(frame, offset);
      const m = decodeMessage('predictions', holder.subarray(offset));
      assert.ok(m.v === 2);
      assert.deepEqual(Array.from(m.probs), [0.5, 0.5, 0.25, 0.75], `offset ${offset}`);
      assert.deepEqual(decodeIds(m.ids), ['q1', 'q22']);
    }
  });

  it('a publisher refuses NaN or rows not summing to 1 before sending anything', () => {
    const bad = { values: new Float32Array([0.5, 0.5, Number.NaN, 1]), width: 2 };
    assert.throws(() => chunkPredictions(['a', 'b'], bad, { runUid: 'u', attempt: 1 }), (e: unknown) => e instanceof MessageValidationError && e.field === 'probs[1][0]');
    assert.throws(() => chunkPredictions(['a', 'b'], { values: new Float32Array([0.5, 0.5, 0.5]), width: 2 }, { runUid: 'u', attempt: 1 }), ChunkingError);
  });

  it('requires a reason for a failed run and consistent counts', () => {
    rejects(() => validateDone(done({ status: 'failed' })), 'done', 'error');
    rejects(() => validateDone(done({ chunks: 0 })), 'done', 'chunks', 0);
    rejects(() => validateDone(done({ validationSha256: 'abc' })), 'done', 'validationSha256', 'abc');
  });

  it('reports a payload that is not JSON as a validation error', () => {
    rejects(() => decodeMessage('done', new TextEncoder().encode('{not json')), 'done', 'payload');
    rejects(() => decodeMessage('done', Uint8Array.from([0xff, 0xfe, 0x00])), 'done', 'payload');
  });

  it('predictionsSha256 (v1) is order- and value-sensitive and unambiguous', () => {
    const { ids, probs, sha256V1 } = fakePredictions(50, 5, 7);
    assert.match(sha256V1, /^[0-9a-f]{64}$/);
    assert.equal(predictionsSha256([...ids], probs.map((r) => [...r])), sha256V1);
    const swapped = [...ids];
    [swapped[0], swapped[1]] = [swapped[1] as string, swapped[0] as string];
    assert.notEqual(predictionsSha256(swapped, probs), sha256V1);
    const nudged = probs.map((r) => [...r]);
    (nudged[3] as number[])[2] = ((nudged[3] as number[])[2] as number) + 1e-12;
    assert.notEqual(predictionsSha256(ids, nudged), sha256V1);
    // Boundaries between id and row must matter: ("ab",[..]) vs ("a", ...) cannot collide.
    assert.notEqual(predictionsSha256(['ab'], [[0.5, 0.5]]), predictionsSha256(['a'], [[0.5, 0.5]]));
  });

  it('predictionsSha256V2 hashes the float32 values as sent: order-, value-, width- and boundary-sensitive', () => {
    const { ids, matrix, sha256 } = fakePredictions(50, 5, 7);
    assert.match(sha256, /^[0-9a-f]{64}$/);
    assert.equal(predictionsSha256V2([...ids], { values: Float32Array.from(matrix.values), width: 5 }), sha256);
    const swapped = [...ids];
    [swapped[0], swapped[1]] = [swapped[1] as string, swapped[0] as string];
    assert.notEqual(predictionsSha256V2(swapped, matrix), sha256);
    // One float32 ulp on one value.
    const nudged = Float32Array.from(matrix.values);
    new Uint32Array(nudged.buffer)[17]! += 1;
    assert.notEqual(predictionsSha256V2(ids, { values: nudged, width: 5 }), sha256);
    const four = { values: new Float32Array([0.25, 0.25, 0.25, 0.25]), width: 2 };
    assert.notEqual(predictionsSha256V2(['ab', 'c'], four), predictionsSha256V2(['a', 'bc'], four));
    assert.throws(() => predictionsSha256V2(['a'], four), ChunkingError);
  });

  it('chunks 100k questions × 5 options under the 1 MiB payload limit and reassembles them exactly (v2)', () => {
    const { ids, matrix, sha256 } = fakePredictions(100_000, 5, 3, 'question-with-a-longish-id-');
    const chunks = chunkPredictions(ids, matrix, { runUid: 'uid-0123456789', attempt: 3 });
    assert.ok(chunks.length > 2, `only ${chunks.length} chunks`);
    const gotIds: string[] = [];
    const got = new Float32Array(matrix.values.length);
    chunks.forEach((c, i) => {
      assert.ok(c.data.byteLength <= DEFAULT_MAX_CHUNK_BYTES && DEFAULT_MAX_CHUNK_BYTES < NATS_DEFAULT_MAX_PAYLOAD, `chunk ${i}: ${c.data.byteLength} bytes`);
      // Greedy packing: every chunk but the last is nearly full (within one row of the limit).
      if (i < chunks.length - 1) assert.ok(c.data.byteLength > DEFAULT_MAX_CHUNK_BYTES - 100, `chunk ${i} only ${c.data.byteLength} bytes`);
      assert.equal(c.chunk, i);
      assert.equal(c.msgId, `uid-0123456789.3.${i}`);
      const m: PredictionsMessage = decodeMessage('predictions', c.data);
      assert.ok(m.v === 2);
      assert.equal(m.chunk, i);
      assert.equal(m.width, 5);
      assert.equal(m.count, c.count);
      got.set(m.probs, gotIds.length * 5);
      gotIds.push(...decodeIds(m.ids));
    });
    assert.deepEqual(gotIds, ids);
    assert.deepEqual(got, matrix.values);
    assert.equal(predictionsSha256V2(gotIds, { values: got, width: 5 }), sha256);
  });

  it('still decodes version 1 chunks (what older trainers wrote) to the same rows', () => {
    const { ids, probs, sha256V1 } = fakePredictions(3000, 5, 4);
    const chunks = chunkPredictionsV1(ids, probs, { runUid: 'old', attempt: 1, maxBytes: 32 * 1024 });
    assert.ok(chunks.length > 1);
    const gotIds: string[] = [];
    const gotRows: number[][] = [];
    for (const c of chunks) {
      const m = decodeMessage('predictions', c.data);
      assert.ok(m.v === 1);
      gotIds.push(...m.ids);
      gotRows.push(...m.probs);
    }
    assert.equal(predictionsSha256(gotIds, gotRows), sha256V1);
  });

  it('carries ids with backslashes, newlines, quotes and non-ASCII exactly, within the limit', () => {
    const odd = ['q"0\\', 'vraag-é-1', 'q2\n', 'a\\nb', '\\', '\n', 'tab\there', '😀'];
    const ids = Array.from({ length: 400 }, (_, i) => `${odd[i % odd.length]}${i}`);
    assert.deepEqual(decodeIds(encodeIds(ids)), ids);
    assert.deepEqual(decodeIds(encodeIds(['a', 'b'])), ['a', 'b']);
    assert.equal(encodeIds(['a', 'b']), 'a\nb');
    const values = new Float32Array(ids.length * 4).fill(0.25);
    const chunks = chunkPredictions(ids, { values, width: 4 }, { runUid: 'u', attempt: 1, maxBytes: 2048 });
    const got: string[] = [];
    for (const c of chunks) {
      assert.ok(c.data.byteLength <= 2048);
      if (c.chunk < chunks.length - 1) assert.ok(c.data.byteLength > 2048 - 60, `chunk ${c.chunk}: ${c.data.byteLength} bytes`);
      const m = decodeMessage('predictions', c.data);
      assert.ok(m.v === 2);
      got.push(...decodeIds(m.ids));
    }
    assert.deepEqual(got, ids);
    // The digest tells lists apart that only the escaping separates.
    const two = { values: new Float32Array([0.5, 0.5, 0.5, 0.5]), width: 2 };
    assert.notEqual(predictionsSha256V2(['a\nb', 'c'], two), predictionsSha256V2(['a', 'b\nc'], two));
    assert.throws(() => chunkPredictions(['a', ''], two, { runUid: 'u', attempt: 1 }), (e: unknown) => e instanceof ChunkingError && e.field === 'ids[1]');
  });

  it('respects a smaller maxBytes and refuses a row that cannot fit', () => {
    const { ids, matrix } = fakePredictions(200, 4, 9);
    const chunks = chunkPredictions(ids, matrix, { runUid: 'u', attempt: 1, maxBytes: 1024 });
    assert.ok(chunks.length > 3);
    for (const c of chunks) assert.ok(c.data.byteLength <= 1024);
    assert.throws(() => chunkPredictions(ids, matrix, { runUid: 'u', attempt: 1, maxBytes: 60 }), (e: unknown) => e instanceof ChunkingError && e.field === 'ids[0]');
    assert.throws(() => chunkPredictions(ids.slice(1), matrix, { runUid: 'u', attempt: 1 }), ChunkingError);
  });

  it('a run with no predictions has no chunks and the digest of nothing, also given as an empty list of rows', () => {
    const empty = predictionsSha256V2([], { values: new Float32Array(0), width: 0 });
    assert.deepEqual(encodePredictions([], toProbabilityMatrix([]), { runUid: 'u', attempt: 1 }), { chunks: [], predictionsSha256: empty });
    assert.deepEqual(encodePredictions([], { values: new Float32Array(0), width: 5 }, { runUid: 'u', attempt: 1 }), { chunks: [], predictionsSha256: empty });
    assert.deepEqual(chunkPredictionsV1([], [], { runUid: 'u', attempt: 1 }), []);
  });

  it('round-trips messages through the wire encoding', () => {
    const m = validateDone(done());
    assert.deepEqual(decodeMessage('done', encodeMessage(m)), m);
  });
});
