// The trainer's side of the protocol (version 2): progress while training, then the predictions in
// chunks, then one done message that lets the collector verify it received all of them.
import { chunkMsgId, doneMsgId, encodePredictions, predictionsSha256V2, toProbabilityMatrix, DEFAULT_MAX_CHUNK_BYTES, type ProbabilityMatrix } from './chunking.js';
import { ProtocolError } from './errors.js';
import { encodeMessage, PROTOCOL_VERSION, validateDone, validateProgress, type DoneMessage, type ProgressMessage } from './messages.js';
import type { RunSubjects } from './subjects.js';
import type { Transport } from './transport.js';

export interface PublisherOptions {
  transport: Transport;
  subjects: RunSubjects;
  runUid: string;
  /** 1-based attempt (Job retry) number. */
  attempt: number;
  /** @default DEFAULT_MAX_CHUNK_BYTES */
  maxChunkBytes?: number;
}

/** What `predictions()` published; `done()` reports it unless told otherwise. */
export interface PublishedPredictions {
  chunks: number;
  count: number;
  predictionsSha256: string;
  /** Chunks the stream already held (a retried publish): not stored twice. */
  duplicates: number;
}

export type ProgressInput = Omit<ProgressMessage, 'v' | 'runUid' | 'attempt' | 'time'> & { time?: string };
export type DoneInput = Omit<DoneMessage, 'v' | 'runUid' | 'attempt' | 'chunks' | 'count' | 'predictionsSha256'> &
  Partial<Pick<DoneMessage, 'chunks' | 'count' | 'predictionsSha256'>>;

export class Publisher {
  private published: PublishedPredictions | undefined;

  private constructor(private readonly opts: Required<PublisherOptions>) {}

  static create(opts: PublisherOptions): Promise<Publisher> {
    if (!Number.isSafeInteger(opts.attempt) || opts.attempt < 1) {
      return Promise.reject(new ProtocolError(`Publisher: attempt ${opts.attempt} must be an integer ≥ 1`));
    }
    return Promise.resolve(new Publisher({ maxChunkBytes: DEFAULT_MAX_CHUNK_BYTES, ...opts }));
  }

  /** Publishes one progress message (validated first, so a trainer bug fails here, not in the collector). */
  async progress(p: ProgressInput): Promise<void> {
    const message = validateProgress({ v: PROTOCOL_VERSION, runUid: this.opts.runUid, attempt: this.opts.attempt, ...p, time: p.time ?? new Date().toISOString() });
    await this.opts.transport.publish(this.opts.subjects.progress, encodeMessage(message));
  }

  /**
   * Chunks and publishes every prediction as v2 chunks (float32), each with Nats-Msg-Id
   * `<runUid>.<attempt>.<chunk>`. `probs`: the row-major Float32Array and its width as the model
   * gave them, or rows (converted to float32). Values outside [0, 1] or rows not summing to 1
   * throw MessageValidationError before anything is published.
   */
  async predictions(ids: readonly string[], probs: ProbabilityMatrix | readonly (readonly number[])[]): Promise<PublishedPredictions> {
    const { runUid, attempt, transport, subjects } = this.opts;
    const matrix = isRows(probs) ? toProbabilityMatrix(probs) : probs;
    const { chunks, predictionsSha256 } = encodePredictions(ids, matrix, { runUid, attempt, maxBytes: this.opts.maxChunkBytes });
    let duplicates = 0;
    for (const c of chunks) {
      const r = await transport.publish(subjects.predictions, c.data, { msgId: chunkMsgId(runUid, attempt, c.chunk) });
      if (r.duplicate) duplicates++;
    }
    this.published = { chunks: chunks.length, count: ids.length, predictionsSha256, duplicates };
    return this.published;
  }

  /** Publishes the attempt's done message (Nats-Msg-Id `<runUid>.<attempt>.done`). */
  async done(d: DoneInput): Promise<DoneMessage> {
    const { runUid, attempt, transport, subjects } = this.opts;
    const message = validateDone({
      v: PROTOCOL_VERSION,
      runUid,
      attempt,
      chunks: this.published?.chunks ?? 0,
      count: this.published?.count ?? 0,
      predictionsSha256: this.published?.predictionsSha256 ?? predictionsSha256V2([], { values: new Float32Array(0), width: 0 }),
      ...d,
    });
    await transport.publish(subjects.done, encodeMessage(message), { msgId: doneMsgId(runUid, attempt) });
    return message;
  }
}

function isRows(probs: ProbabilityMatrix | readonly (readonly number[])[]): probs is readonly (readonly number[])[] {
  return Array.isArray(probs);
}
