// The seeded data order: the same seed gives the same order on any machine, each epoch is a new
// permutation, and a run resumed from a saved position continues the same sequence.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DataOrder, Prng, shuffledIndices } from '../../trainer/optim/mod.js';

describe('Prng and shuffles', () => {
  test('a seed determines the sequence; nearby seeds and streams give different ones', () => {
    const a = Prng.fromSeed(7);
    const b = Prng.fromSeed(7);
    const seqA = Array.from({ length: 8 }, () => a.nextUint32());
    assert.deepEqual(Array.from({ length: 8 }, () => b.nextUint32()), seqA);
    const c = Prng.fromSeed(8);
    assert.notDeepEqual(Array.from({ length: 8 }, () => c.nextUint32()), seqA);
    const d = Prng.fromSeed(7, 1);
    assert.notDeepEqual(Array.from({ length: 8 }, () => d.nextUint32()), seqA);
  });

  test('a saved generator state continues the same sequence', () => {
    const a = Prng.fromSeed(123);
    for (let i = 0; i < 5; i++) a.nextUint32();
    const saved = a.state();
    const rest = Array.from({ length: 5 }, () => a.nextUint32());
    const b = Prng.fromState(saved);
    assert.deepEqual(Array.from({ length: 5 }, () => b.nextUint32()), rest);
  });

  test('nextBelow covers [0, n) evenly', () => {
    const rng = Prng.fromSeed(1);
    const counts = new Array<number>(10).fill(0);
    const draws = 100_000;
    for (let i = 0; i < draws; i++) counts[rng.nextBelow(10)]! += 1;
    for (const c of counts) assert.ok(Math.abs(c - draws / 10) < 0.03 * (draws / 10), `counts ${counts.join(',')}`);
    for (let i = 0; i < 1000; i++) {
      const f = rng.nextFloat();
      assert.ok(f >= 0 && f < 1);
    }
  });

  test('shuffledIndices is a permutation that depends on seed and epoch', () => {
    const p = shuffledIndices(50, 3, 0);
    assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
    assert.deepEqual(shuffledIndices(50, 3, 0), p);
    assert.notDeepEqual(shuffledIndices(50, 3, 1), p);
    assert.notDeepEqual(shuffledIndices(50, 4, 0), p);
    assert.throws(() => Prng.fromSeed(-1), /prng\.seed/);
  });
});

describe('DataOrder', () => {
  test('batches cover each epoch exactly once without straddling epochs', () => {
    const order = new DataOrder({ size: 10, seed: 5 });
    const sizes: number[] = [];
    const seen = new Map<number, number[]>();
    for (let i = 0; i < 6; i++) {
      const b = order.nextBatch(4);
      sizes.push(b.indices.length);
      seen.set(b.epoch, [...(seen.get(b.epoch) ?? []), ...b.indices]);
    }
    assert.deepEqual(sizes, [4, 4, 2, 4, 4, 2]);
    for (const e of [0, 1]) assert.deepEqual([...seen.get(e)!], [...shuffledIndices(10, 5, e)]);
    assert.deepEqual(order.position, { epoch: 1, offset: 10 });
  });

  test('resuming from a saved position continues the same order', () => {
    const straight = new DataOrder({ size: 7, seed: 11 });
    const all = Array.from({ length: 8 }, () => straight.nextBatch(3));
    const first = new DataOrder({ size: 7, seed: 11 });
    for (let i = 0; i < 4; i++) first.nextBatch(3);
    const resumed = new DataOrder({ size: 7, seed: 11, position: first.position });
    assert.deepEqual(Array.from({ length: 4 }, () => resumed.nextBatch(3)), all.slice(4));
    assert.throws(() => new DataOrder({ size: 7, seed: 11, position: { epoch: 0, offset: 8 } }), /position\.offset/);
  });
});
