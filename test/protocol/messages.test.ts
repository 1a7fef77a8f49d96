import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ChunkingError,
  DEFAULT_MAX_CHUNK_BYTES,
  MessageValidationError,
  NATS_DEFAULT_MAX_PAYLOAD,
  chunkPredictions,
  decodeMessage,
  encodeMessage,
  predictionsSha256,
  validateDone,
  validatePredictions,
  validateProgress,
  type PredictionsMessage,
} from '../../protocol/mod.js';
import { fakePredictions } from './kit.js';

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
  it('accepts well-formed progress, predictions and done messages', () => {
    assert.equal(validateProgress(progress()).step, 10);
    assert.equal(validatePredictions({ v: 1, runUid: 'u', attempt: 2, chunk: 0, ids: ['a', 'b'], probs: [[0.5, 0.5], [0.1, 0.9]] }).attempt, 2);
    assert.equal(validateDone(done()).status, 'succeeded');
    assert.equal(validateDone(done({ status: 'failed', error: 'OOM', chunks: 0, count: 0 })).error, 'OOM');
  });

  it('names the offending field and value of a bad progress message', () => {
    rejects(() => validateProgress(progress({ v: 2 })), 'progress', 'v', 2);
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

  it('requires a reason for a failed run and consistent counts', () => {
    rejects(() => validateDone(done({ status: 'failed' })), 'done', 'error');
    rejects(() => validateDone(done({ chunks: 0 })), 'done', 'chunks', 0);
    rejects(() => validateDone(done({ validationSha256: 'abc' })), 'done', 'validationSha256', 'abc');
  });

  it('reports a payload that is not JSON as a validation error', () => {
    rejects(() => decodeMessage('done', new TextEncoder().encode('{not json')), 'done', 'payload');
    rejects(() => decodeMessage('done', Uint8Array.from([0xff, 0xfe, 0x00])), 'done', 'payload');
  });

  it('predictionsSha256 is order- and value-sensitive and unambiguous', () => {
    const { ids, probs, sha256 } = fakePredictions(50, 5, 7);
    assert.match(sha256, /^[0-9a-f]{64}$/);
    assert.equal(predictionsSha256([...ids], probs.map((r) => [...r])), sha256);
    const swapped = [...ids];
    [swapped[0], swapped[1]] = [swapped[1] as string, swapped[0] as string];
    assert.notEqual(predictionsSha256(swapped, probs), sha256);
    const nudged = probs.map((r) => [...r]);
    (nudged[3] as number[])[2] = ((nudged[3] as number[])[2] as number) + 1e-12;
    assert.notEqual(predictionsSha256(ids, nudged), sha256);
    // Boundaries between id and row must matter: ("ab",[..]) vs ("a", ...) cannot collide.
    assert.notEqual(predictionsSha256(['ab'], [[0.5, 0.5]]), predictionsSha256(['a'], [[0.5, 0.5]]));
  });

  it('chunks 100k questions × 5 options under the 1 MiB payload limit and reassembles them exactly', () => {
    const { ids, probs, sha256 } = fakePredictions(100_000, 5, 3, 'question-with-a-longish-id-');
    const chunks = chunkPredictions(ids, probs, { runUid: 'uid-0123456789', attempt: 3 });
    assert.ok(chunks.length > 5, `only ${chunks.length} chunks`);
    const gotIds: string[] = [];
    const gotProbs: number[][] = [];
    chunks.forEach((c, i) => {
      assert.ok(c.data.byteLength <= DEFAULT_MAX_CHUNK_BYTES && DEFAULT_MAX_CHUNK_BYTES < NATS_DEFAULT_MAX_PAYLOAD, `chunk ${i}: ${c.data.byteLength} bytes`);
      // Greedy packing: every chunk but the last is nearly full (within one row of the limit).
      if (i < chunks.length - 1) assert.ok(c.data.byteLength > DEFAULT_MAX_CHUNK_BYTES - 500, `chunk ${i} only ${c.data.byteLength} bytes`);
      assert.equal(c.chunk, i);
      assert.equal(c.msgId, `uid-0123456789.3.${i}`);
      const m: PredictionsMessage = decodeMessage('predictions', c.data);
      assert.equal(m.chunk, i);
      assert.equal(m.ids.length, c.count);
      gotIds.push(...m.ids);
      gotProbs.push(...m.probs);
    });
    assert.equal(gotIds.length, 100_000);
    assert.equal(predictionsSha256(gotIds, gotProbs), sha256);
  });

  it('respects a smaller maxBytes and refuses a row that cannot fit', () => {
    const { ids, probs } = fakePredictions(200, 4, 9);
    const chunks = chunkPredictions(ids, probs, { runUid: 'u', attempt: 1, maxBytes: 4096 });
    assert.ok(chunks.length > 3);
    for (const c of chunks) assert.ok(c.data.byteLength <= 4096);
    assert.throws(() => chunkPredictions(ids, probs, { runUid: 'u', attempt: 1, maxBytes: 100 }), (e: unknown) => e instanceof ChunkingError && e.field === 'ids[0]');
    assert.throws(() => chunkPredictions(ids, probs.slice(1), { runUid: 'u', attempt: 1 }), ChunkingError);
  });

  it('round-trips messages through the wire encoding', () => {
    const m = validateDone(done());
    assert.deepEqual(decodeMessage('done', encodeMessage(m)), m);
  });
});
