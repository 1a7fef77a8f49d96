// Seeded randomness keyed by what it is for. Every random choice of a request (its few-shot
// examples, its verification shuffle, its option order) draws from a stream derived from
// (seed, purpose, request index) alone, so the choices do not depend on how many requests run
// at once or in which order they finish, and a resumed run draws exactly what an uninterrupted
// one would.
import { createHash } from 'node:crypto';

/** A uniform [0, 1) generator (mulberry32) seeded from the SHA-256 of its key. */
export function seededRandom(seed: number, purpose: string, index: number): () => number {
  let state = createHash('sha256').update(`${seed}\u0000${purpose}\u0000${index}`).digest().readUInt32LE(0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
export function permutation(n: number, random: () => number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [p[i], p[j]] = [p[j] as number, p[i] as number];
  }
  return p;
}

/** `k` distinct indices from 0..n-1 in random order (k is clamped to n). */
export function sampleIndices(n: number, k: number, random: () => number): number[] {
  return permutation(n, random).slice(0, Math.min(k, n));
}
