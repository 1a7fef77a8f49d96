// Test support for protocol and collector tests: the same suite runs over real NATS (a unique
// stream and subject prefix per kit, deleted afterwards) and over the in-process transport.
import { randomBytes } from 'node:crypto';
import { InProcessTransport, NatsTransport, predictionsSha256, predictionsSha256V2, toProbabilityMatrix, type ProbabilityMatrix, type Transport } from '../../protocol/mod.js';

export const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';

export interface TransportKit {
  kind: 'nats' | 'in-process';
  /** Unique first subject token, e.g. `t3f9a0c`. */
  prefix: string;
  /** A connection to the kit's stream; a second call is a second client (a "restarted" process). */
  open(): Promise<Transport>;
  /** Ends one connection from open() (NATS: closes it; in-process: the stream lives on). */
  release(t: Transport): Promise<void>;
  /** Deletes the stream and closes everything. */
  cleanup(): Promise<void>;
}

export function uniqueId(): string {
  return randomBytes(4).toString('hex');
}

/** Short ack wait so a message stranded by a stopped consumer comes back within the test. */
const TEST_ACK_WAIT_SECONDS = 2;

export async function natsKit(): Promise<TransportKit> {
  const id = uniqueId();
  const prefix = `t${id}`;
  const stream = `T_${id}`;
  const open = (): Promise<NatsTransport> =>
    NatsTransport.create({ servers: NATS_URL, stream, subjects: [`${prefix}.>`], name: `test-${id}`, ackWaitSeconds: TEST_ACK_WAIT_SECONDS, duplicateWindowSeconds: 60 });
  const admin = await open();
  const opened = new Set<Transport>();
  return {
    kind: 'nats',
    prefix,
    async open() {
      const t = await open();
      opened.add(t);
      return t;
    },
    async release(t) {
      opened.delete(t);
      await t.close();
    },
    async cleanup() {
      await Promise.all([...opened].map((t) => t.close()));
      await admin.deleteStream();
      await admin.close();
    },
  };
}

export function inProcessKit(): TransportKit {
  const t = new InProcessTransport({ ackWaitMs: TEST_ACK_WAIT_SECONDS * 1000 });
  return {
    kind: 'in-process',
    prefix: `t${uniqueId()}`,
    open: () => Promise.resolve(t),
    release: () => Promise.resolve(),
    cleanup: () => t.close(),
  };
}

export const KITS: { name: string; make: () => Promise<TransportKit> }[] = [
  { name: 'NATS JetStream', make: natsKit },
  { name: 'in-process', make: () => Promise.resolve(inProcessKit()) },
];

export interface FakePredictions {
  ids: string[];
  /** Rows of float32 values (as a trainer's dataSync() gives them), summing to 1. */
  probs: number[][];
  /** The same values row-major. */
  matrix: ProbabilityMatrix;
  /** The v2 digest (what a publisher's done carries). */
  sha256: string;
  /** The v1 digest of the same rows (what a pre-v2 trainer's done carried). */
  sha256V1: string;
}

/** Deterministic pseudo-random predictions: `n` questions × `width` options, float32 rows summing to 1. */
export function fakePredictions(n: number, width = 5, seed = 1, idPrefix = 'q'): FakePredictions {
  let s = seed >>> 0 || 1;
  const rnd = (): number => {
    // xorshift32: cheap, seeded, and enough to make every row different.
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 1) / 4294967297;
  };
  const ids: string[] = [];
  const probs: number[][] = [];
  for (let i = 0; i < n; i++) {
    const raw = Array.from({ length: width }, rnd);
    const sum = raw.reduce((a, b) => a + b, 0);
    ids.push(`${idPrefix}${i}`);
    probs.push(raw.map((x) => Math.fround(x / sum)));
  }
  const matrix = toProbabilityMatrix(probs);
  return { ids, probs, matrix, sha256: predictionsSha256V2(ids, matrix), sha256V1: predictionsSha256(ids, probs) };
}

/** What `v2Frame` writes; every part can be set wrong on purpose. */
export interface FrameParts {
  /** Header fields over `{v: 2, runUid: 'u', attempt: 1, chunk: 0, width: 2, idsBytes: <ids' byte length>}`. */
  header?: Record<string, unknown>;
  /** @default 'a\nb' */
  ids?: string | Uint8Array;
  /** The float32 values. @default [0.5, 0.5, 0.25, 0.75] */
  values?: number[];
  /** Raw bytes instead of `values`. */
  floatBytes?: Uint8Array;
  /** The bytes between the ids and the values. @default zeros to the next multiple of 4 */
  pad?: number[];
}

/**
 * A v2 predictions frame written by hand from docs/protocol.md (header line, ids, zero padding to
 * a multiple of 4, float32 little-endian), independently of the publisher's encoder.
 */
export function v2Frame(parts: FrameParts = {}): Uint8Array {
  const ids = typeof parts.ids === 'string' || parts.ids === undefined ? Buffer.from(parts.ids ?? 'a\nb', 'utf8') : Buffer.from(parts.ids);
  const header = { v: 2, runUid: 'u', attempt: 1, chunk: 0, width: 2, idsBytes: ids.length, ...parts.header };
  const line = Buffer.from(`${JSON.stringify(header)}\n`, 'utf8');
  const used = line.length + ids.length;
  const pad = Buffer.from(parts.pad ?? new Array<number>((4 - (used % 4)) % 4).fill(0));
  const floats = parts.floatBytes ?? new Uint8Array(new Float32Array(parts.values ?? [0.5, 0.5, 0.25, 0.75]).buffer);
  return Buffer.concat([line, ids, pad, floats]);
}

/** Waits until `cond()` holds, polling; fails the test after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
