// A trie over UTF-8 bytes, walked one byte at a time. SentencePiece's unigram lattice and its
// user-defined-symbol matcher both walk a trie byte by byte from each character position. Keys
// are gathered in a Map keyed by (node, byte), then laid out in flat typed arrays: a dense table
// for the root, whose fan-out is the whole alphabet, and label-sorted edge runs for the other
// nodes, whose fan-out is small. Lookups in flat arrays are several times cheaper than in a Map.

export class ByteTrie {
  /** values[node] is the id stored at that node, or -1. */
  private readonly values: number[] = [-1];
  private readonly root = new Int32Array(256).fill(-1);
  private readonly edgeStart: Int32Array;
  private readonly labels: Uint8Array;
  private readonly targets: Int32Array;

  /** Builds the trie; a key given twice keeps its first value (SentencePiece does too). */
  static from(entries: Iterable<readonly [Uint8Array, number]>): ByteTrie {
    return new ByteTrie(entries);
  }

  private constructor(entries: Iterable<readonly [Uint8Array, number]>) {
    const edges = new Map<number, number>();
    for (const [key, value] of entries) {
      let node = 0;
      for (const b of key) {
        const edge = node * 256 + b;
        let next = edges.get(edge);
        if (next === undefined) {
          next = this.values.length;
          this.values.push(-1);
          edges.set(edge, next);
        }
        node = next;
      }
      if (this.values[node] === -1) this.values[node] = value;
    }
    // Lay the edges out by parent (counting sort), then order each parent's short run by label.
    const n = this.values.length;
    this.edgeStart = new Int32Array(n + 1);
    for (const e of edges.keys()) if (e >= 256) this.edgeStart[Math.floor(e / 256) + 1]!++;
    for (let i = 1; i <= n; i++) this.edgeStart[i]! += this.edgeStart[i - 1]!;
    const fill = this.edgeStart.slice(0, n);
    this.labels = new Uint8Array(this.edgeStart[n]!);
    this.targets = new Int32Array(this.edgeStart[n]!);
    for (const [e, t] of edges) {
      if (e < 256) {
        this.root[e] = t;
        continue;
      }
      const at = fill[Math.floor(e / 256)]!++;
      this.labels[at] = e & 0xff;
      this.targets[at] = t;
    }
    for (let node = 1; node < n; node++) {
      const end = this.edgeStart[node + 1]!;
      for (let i = this.edgeStart[node]! + 1; i < end; i++) {
        const l = this.labels[i]!;
        const t = this.targets[i]!;
        let j = i - 1;
        for (; j >= this.edgeStart[node]! && this.labels[j]! > l; j--) {
          this.labels[j + 1] = this.labels[j]!;
          this.targets[j + 1] = this.targets[j]!;
        }
        this.labels[j + 1] = l;
        this.targets[j + 1] = t;
      }
    }
  }

  /** The child of `node` along byte `b`, or -1. The root is node 0. */
  child(node: number, b: number): number {
    if (node === 0) return this.root[b]!;
    const end = this.edgeStart[node + 1]!;
    for (let i = this.edgeStart[node]!; i < end; i++) {
      const l = this.labels[i]!;
      if (l === b) return this.targets[i]!;
      if (l > b) break;
    }
    return -1;
  }

  /** The value stored at `node`, or -1. */
  value(node: number): number {
    return this.values[node] ?? -1;
  }

  /** Length of the longest key that is a prefix of bytes[pos, end), or 0. */
  longestPrefix(bytes: Uint8Array, pos: number, end: number): number {
    let node = 0;
    let longest = 0;
    for (let i = pos; i < end; i++) {
      node = this.child(node, bytes[i]!);
      if (node < 0) break;
      if (this.values[node] !== -1) longest = i + 1 - pos;
    }
    return longest;
  }
}

/** Bytes in the UTF-8 character whose lead byte is `b` (1 for stray continuation bytes), as SentencePiece's OneCharLen. */
export function oneCharLen(b: number): number {
  const hi = b >> 4;
  return hi < 0xc ? 1 : hi < 0xe ? 2 : hi === 0xe ? 3 : 4;
}
