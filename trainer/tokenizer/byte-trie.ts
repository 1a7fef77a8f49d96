// A trie over UTF-8 bytes, walked one byte at a time. SentencePiece's unigram lattice and its
// user-defined-symbol matcher both walk a trie byte by byte from each character position; edges
// live in one Map keyed by (node, byte), which stays small for a 128k-piece vocabulary.

export class ByteTrie {
  private readonly edges = new Map<number, number>();
  /** values[node] is the id stored at that node, or -1. */
  private readonly values: number[] = [-1];

  /** Stores `value` under `key`; an existing key keeps its first value (SentencePiece does too). */
  insert(key: Uint8Array, value: number): void {
    let node = 0;
    for (const b of key) {
      const edge = node * 256 + b;
      let next = this.edges.get(edge);
      if (next === undefined) {
        next = this.values.length;
        this.values.push(-1);
        this.edges.set(edge, next);
      }
      node = next;
    }
    if (this.values[node] === -1) this.values[node] = value;
  }

  /** The child of `node` along byte `b`, or -1. The root is node 0. */
  child(node: number, b: number): number {
    return this.edges.get(node * 256 + b) ?? -1;
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
