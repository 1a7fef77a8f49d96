// Seeded randomness for the data order. A run's order must be a pure function of (seed, epoch)
// so that seeds are reproducible across machines and backends (TF.js random ops differ between
// backends) and so that a resumed run continues exactly where the interrupted one stopped.
//
// Generator: xoshiro128** (Blackman & Vigna), 32-bit arithmetic only, seeded through a
// SplitMix32-style mixer so that nearby seeds give unrelated streams.
import { InvalidOptimOptionError } from './errors.js';

const GOLDEN_GAMMA = 0x9e3779b9;

function mix32(z: number): number {
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The four 32-bit words of a generator; enough to continue its sequence exactly. */
export type PrngState = [number, number, number, number];

/** A small, fast, seedable generator for shuffles and derived seeds (not for cryptography). */
export class Prng {
  private s: Uint32Array;

  private constructor(state: PrngState) {
    this.s = Uint32Array.from(state);
    if (this.s.every((w) => w === 0)) throw new InvalidOptimOptionError('prng.state', state, 'must not be all zero');
  }

  /**
   * A generator for `seed` (a non-negative safe integer) and an optional `stream` (e.g. the epoch),
   * so one run seed yields independent sequences per purpose.
   */
  static fromSeed(seed: number, stream = 0): Prng {
    for (const [field, v] of [['seed', seed], ['stream', stream]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new InvalidOptimOptionError(`prng.${field}`, v, 'must be a non-negative safe integer');
    }
    let x = mix32((seed >>> 0) ^ mix32(Math.floor(seed / 2 ** 32) + GOLDEN_GAMMA));
    x = mix32(x ^ mix32((stream >>> 0) + 2 * GOLDEN_GAMMA) ^ Math.floor(stream / 2 ** 32));
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      x = (x + GOLDEN_GAMMA) >>> 0;
      words.push(mix32(x));
    }
    if (words.reduce((a, b) => a | b, 0) === 0) words[0] = 1;
    return new Prng(words as PrngState);
  }

  /** Continues a generator saved with `state()`. */
  static fromState(state: PrngState): Prng {
    return new Prng(state);
  }

  /** The generator's position; `Prng.fromState` of it produces the same continuation. */
  state(): PrngState {
    return [this.s[0]!, this.s[1]!, this.s[2]!, this.s[3]!];
  }

  /** The next uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const s0 = s[0]!;
    const s1 = s[1]!;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s[2] = s[2]! ^ s0;
    s[3] = s[3]! ^ s1;
    s[1] = s1 ^ s[2]!;
    s[0] = s0 ^ s[3]!;
    s[2] = s[2]! ^ t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** A uniform float in [0, 1) with 32 random bits. */
  nextFloat(): number {
    return this.nextUint32() / 2 ** 32;
  }

  /** A uniform integer in [0, n), unbiased (rejection of the incomplete top range). */
  nextBelow(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new InvalidOptimOptionError('prng.nextBelow', n, 'must be an integer in [1, 2^32]');
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }
}

/** The permutation of `0..size-1` for `epoch` of a run seeded `seed` (Fisher–Yates). */
export function shuffledIndices(size: number, seed: number, epoch: number): Uint32Array {
  if (!Number.isInteger(size) || size < 0) throw new InvalidOptimOptionError('dataOrder.size', size, 'must be a non-negative integer');
  const rng = Prng.fromSeed(seed, epoch);
  const order = new Uint32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  for (let i = size - 1; i > 0; i--) {
    const j = rng.nextBelow(i + 1);
    const tmp = order[i]!;
    order[i] = order[j]!;
    order[j] = tmp;
  }
  return order;
}

/** Where a data order stands: the epoch and how many of its examples were already handed out. */
export interface DataOrderPosition {
  epoch: number;
  offset: number;
}

/** One batch of example indices and the epoch they belong to. */
export interface DataBatch {
  epoch: number;
  indices: number[];
}

/**
 * The order in which a run visits its training examples: a fresh shuffle per epoch from the run
 * seed. Batches never straddle epochs (the last batch of an epoch may be short), so an epoch is
 * exactly one pass. Save `position` with a checkpoint and pass it back to resume.
 */
export class DataOrder {
  readonly size: number;
  readonly seed: number;
  private epoch: number;
  private offset: number;
  private order: Uint32Array;

  constructor(opts: { size: number; seed: number; position?: DataOrderPosition }) {
    const { size, seed, position = { epoch: 0, offset: 0 } } = opts;
    if (!Number.isInteger(size) || size < 1) throw new InvalidOptimOptionError('dataOrder.size', size, 'must be an integer ≥ 1');
    if (!Number.isSafeInteger(position.epoch) || position.epoch < 0) {
      throw new InvalidOptimOptionError('dataOrder.position.epoch', position.epoch, 'must be a non-negative integer');
    }
    if (!Number.isInteger(position.offset) || position.offset < 0 || position.offset > size) {
      throw new InvalidOptimOptionError('dataOrder.position.offset', position.offset, `must be an integer in [0, ${size}]`);
    }
    this.size = size;
    this.seed = seed;
    this.epoch = position.epoch;
    this.offset = position.offset;
    this.order = shuffledIndices(size, seed, this.epoch);
  }

  /** The position to store in a checkpoint. */
  get position(): DataOrderPosition {
    return { epoch: this.epoch, offset: this.offset };
  }

  /** The next at most `batchSize` indices; moves to the next epoch when the current one is spent. */
  nextBatch(batchSize: number): DataBatch {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidOptimOptionError('dataOrder.batchSize', batchSize, 'must be an integer ≥ 1');
    if (this.offset >= this.size) {
      this.epoch += 1;
      this.offset = 0;
      this.order = shuffledIndices(this.size, this.seed, this.epoch);
    }
    const end = Math.min(this.size, this.offset + batchSize);
    const indices = Array.from(this.order.subarray(this.offset, end));
    const batch = { epoch: this.epoch, indices };
    this.offset = end;
    return batch;
  }
}
