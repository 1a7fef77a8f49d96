// Near-duplicate search: Jaccard similarity of character 5-gram sets (robust on the short texts
// of exam questions, where one changed article flips most word n-grams), found through MinHash
// with locality-sensitive banding so that tens of thousands of reference questions stay cheap,
// and then measured exactly on the candidates so the threshold means what it says. See Broder,
// "On the resemblance and containment of documents" (1997), and Leskovec et al., "Mining of
// Massive Datasets", ch. 3, for the banding trade-off.

/** Characters per shingle. */
const SHINGLE = 5;
/** MinHash values per text. */
const HASHES = 100;

export type SimilaritySource = 'reference' | 'generated';

export interface SimilarMatch {
  id: string;
  source: SimilaritySource;
  /** Exact Jaccard similarity of the two shingle sets. */
  similarity: number;
}

/** Lower-case letters and digits separated by single spaces: what "the same text" means here. */
export function normalizeText(s: string): string {
  return s.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

/** murmur3's 32-bit finaliser: a cheap, well-mixed hash of a 32-bit value. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over UTF-16 code units. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The sorted, distinct shingle hashes of a text (a text shorter than one shingle is one shingle). */
export function shingles(text: string): Uint32Array {
  const t = normalizeText(text);
  const set = new Set<number>();
  if (t.length <= SHINGLE) set.add(fnv1a(t));
  for (let i = 0; i + SHINGLE <= t.length; i++) set.add(fnv1a(t.slice(i, i + SHINGLE)));
  return Uint32Array.from(set).sort();
}

/** Jaccard similarity of two sorted hash sets. */
export function jaccard(a: Uint32Array, b: Uint32Array): number {
  let i = 0;
  let j = 0;
  let both = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) {
      both++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  const union = a.length + b.length - both;
  return union === 0 ? 1 : both / union;
}

const HASH_SEEDS = Array.from({ length: HASHES }, (_, i) => fmix32(0x9e3779b9 ^ Math.imul(i + 1, 0x27d4eb2d)));

function signature(set: Uint32Array): Uint32Array {
  const sig = new Uint32Array(HASHES).fill(0xffffffff);
  for (const x of set) {
    for (let k = 0; k < HASHES; k++) {
      const h = fmix32(x ^ (HASH_SEEDS[k] as number));
      if (h < (sig[k] as number)) sig[k] = h;
    }
  }
  return sig;
}

interface Entry {
  id: string;
  source: SimilaritySource;
  set: Uint32Array;
}

/**
 * Texts indexed for near-duplicate search. With threshold t ≥ 0.6 the signature is cut into 20
 * bands of 5 rows (a pair at similarity 0.6 becomes a candidate with probability 0.80, at 0.8
 * with 0.9996); below 0.6 into 50 bands of 2 rows (at 0.3: 0.99), since low thresholds need
 * more candidates.
 */
export class SimilarityIndex {
  readonly threshold: number;
  private readonly rows: number;
  private readonly entries: Entry[] = [];
  private readonly buckets = new Map<number, number[]>();

  constructor(threshold: number) {
    this.threshold = threshold;
    this.rows = threshold >= 0.6 ? 5 : 2;
  }

  get size(): number {
    return this.entries.length;
  }

  private bandKeys(sig: Uint32Array): number[] {
    const keys: number[] = [];
    for (let b = 0; b * this.rows < HASHES; b++) {
      let h = b + 1;
      for (let r = 0; r < this.rows; r++) h = fmix32(h ^ (sig[b * this.rows + r] as number));
      // Band number in the high part keeps equal row values in different bands apart.
      keys.push(b * 2 ** 32 + h);
    }
    return keys;
  }

  add(id: string, text: string, source: SimilaritySource): void {
    const set = shingles(text);
    const n = this.entries.push({ id, source, set }) - 1;
    for (const key of this.bandKeys(signature(set))) {
      const bucket = this.buckets.get(key);
      if (bucket) bucket.push(n);
      else this.buckets.set(key, [n]);
    }
  }

  /** The most similar indexed text of `source` at or above the threshold, if any. */
  findSimilar(text: string, source: SimilaritySource): SimilarMatch | undefined {
    const set = shingles(text);
    const seen = new Set<number>();
    let best: SimilarMatch | undefined;
    for (const key of this.bandKeys(signature(set))) {
      for (const n of this.buckets.get(key) ?? []) {
        if (seen.has(n)) continue;
        seen.add(n);
        const e = this.entries[n];
        if (!e || e.source !== source) continue;
        const similarity = jaccard(set, e.set);
        if (similarity >= this.threshold && (best === undefined || similarity > best.similarity)) best = { id: e.id, source, similarity };
      }
    }
    return best;
  }
}
