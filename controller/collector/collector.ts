// The prediction collector: consumes a job's protocol messages from a durable consumer, checks
// each one, assembles each run attempt's prediction chunks, and declares a run complete only when
// its done message has arrived and the assembled predictions match it and the expected validation
// set.
//
// Flow
//   1. Every delivery is parsed (subject, then payload against its schema). A bad message is
//      logged with its subject and reason, counted (`invalid` / `unexpected`) and termed.
//   2. Progress goes to the onProgress listeners, then is acked (progress is live display only).
//   3. Chunks and done messages are held, un-acked, per (run, runUid, attempt). A chunk index or
//      done already held for that attempt is a duplicate: counted and acked, never used twice; a
//      redelivery of the very message held (same stream sequence) just replaces the held handle.
//   4. When the done and all its chunks are held, the attempt is verified: chunk count, every chunk
//      of the done's protocol version, row count (= done.count = expectedCount), one row width,
//      validationSha256 = the expected one, no repeated id, predictionsSha256 recomputed over the
//      assembled predictions with the done's version of the digest (v1: the rows' doubles; v2: the
//      float32 values as sent). Pass: the run's result (probabilities in one Float32Array), reported to
//      onRunComplete. Fail: `mismatched`, reported to onRunFailed (reason 'mismatch'). A done with
//      status 'failed' is reported to onRunFailed (reason 'trainer-failed').
//   5. Only after every listener has returned (awaited when it returns a promise) are the
//      attempt's messages acked, together with those of older attempts of the run.
//
// Guarantees
//   - Nothing is lost across a collector restart on the same durable: a message is acked only once
//     its effect has been handed to the listeners, so anything not yet reported is redelivered to
//     the next collector (soon after close(), which nak's what it holds — on NATS a nak can still
//     wait one ack wait, see InboundMessage.nak; after the ack wait when the process died).
//   - Nothing is double-counted: chunks are keyed by index within an attempt, so republished or
//     redelivered chunks are used once, and the digest check rejects any assembly that differs
//     from what the trainer hashed. (`counters.duplicates` may include a stale redelivery of a
//     message already used; results never do.)
//   - The latest complete attempt wins: once attempt n is complete, messages of attempts < n (and
//     repeats of n itself) are acked and ignored (`stale` / `duplicates`); a later attempt that
//     completes replaces it and is reported again.
//
// Assumptions
//   - The transport delivers one message at a time (both Transport implementations do).
//   - runUid + attempt identify one trainer execution; the trainer publishes chunks before done.
//   - A listener that must survive a controller restart persists what it is given before it
//     returns; the collector does not persist anything itself.
//
// Caveats
//   - A listener that throws is logged; the run's messages are acked all the same.
//   - A run reported before a restart is not reported again by the successor (its messages were
//     acked): the owner keeps what its listener was given.
//   - Chunks of an attempt whose done never comes (a trainer killed mid-publish) are redelivered
//     every ack wait until the transport's max deliveries, then dropped; a later attempt is needed.
import { logger } from '../../common/mod.js';
import {
  MessageValidationError,
  SubjectError,
  decodeMessage,
  parseSubject,
  predictionsSha256,
  predictionsSha256V2Encoded,
  decodeIds,
  type Consumption,
  type DoneMessage,
  type InboundMessage,
  type PredictionsMessage,
  type PredictionsMessageV1,
  type PredictionsMessageV2,
  type ProgressMessage,
  type ProtocolVersion,
  type Transport,
} from '../../protocol/mod.js';
import { CollectorClosedError, CollectorTimeoutError } from './errors.js';

/** `<ablation>/<seed>` */
export type RunKey = string;

/** `<ablation>/<seed>`, the key runs are reported under. */
export function runKey(ablation: string, seed: number): RunKey {
  return `${ablation}/${seed}`;
}

/** What the collector must see before it accepts a run's predictions. */
export interface ExpectedRun {
  /** Rows (validation questions) the run must deliver. */
  expectedCount: number;
  /** sha256 of the validation file the controller handed the trainers. */
  validationSha256: string;
  /**
   * Only messages whose runUid starts with this count (the operator passes
   * `<FineTuneJob uid>-<ablation>-<seed>`, so a deleted and re-created FineTuneJob of the same
   * name never sees its predecessor's stream messages); others are acked and counted `foreign`.
   * @default any runUid
   */
  runUidPrefix?: string;
}

export interface CollectedRun {
  key: RunKey;
  job: string;
  ablation: string;
  seed: number;
  runUid: string;
  attempt: number;
  /** The protocol version the attempt was published with (its done message's `v`). */
  protocolVersion: ProtocolVersion;
  /** Question ids in the order the trainer sent them; runs that sent the same list share one array (do not modify it). */
  ids: string[];
  /** `count × width` probabilities, row-major, in `ids` order (v1's doubles rounded to float32). */
  probs: Float32Array;
  /** Options per question. */
  width: number;
  count: number;
  metrics: Record<string, number>;
  validationSha256: string;
  predictionsSha256: string;
}

export type RunFailureReason = 'trainer-failed' | 'mismatch';

export interface RunFailure {
  key: RunKey;
  ablation: string;
  seed: number;
  runUid: string;
  attempt: number;
  reason: RunFailureReason;
  message: string;
}

export interface ProgressEvent {
  key: RunKey;
  job: string;
  ablation: string;
  seed: number;
  progress: ProgressMessage;
}

export type RunState =
  | { key: RunKey; state: 'pending'; attempt?: number; chunksReceived: number; chunksExpected?: number }
  | { key: RunKey; state: 'complete'; result: CollectedRun }
  | { key: RunKey; state: 'failed'; failure: RunFailure };

export interface CollectorCounters {
  /** Deliveries handled (redeliveries included). */
  received: number;
  progress: number;
  /** Distinct chunks held. */
  chunks: number;
  /** Distinct done messages held. */
  done: number;
  /** Not JSON, wrong schema, or a subject that does not parse. */
  invalid: number;
  /** Well-formed, but for a run that is not in `expected`. */
  unexpected: number;
  /** A chunk index or done already held (or used) for that attempt. */
  duplicates: number;
  /** Messages of an attempt older than the run's complete one. */
  stale: number;
  /** Messages whose runUid lacks the run's expected `runUidPrefix` (another incarnation of the job). */
  foreign: number;
  /** Attempts whose assembled predictions did not match their done or the expected run. */
  mismatched: number;
  /** Run completions reported (a newer attempt replacing an older one counts again). */
  completed: number;
  /** Run failures reported (trainer-failed and mismatch). */
  failed: number;
}

export type RunCompleteListener = (key: RunKey, result: CollectedRun) => void | Promise<void>;
export type RunFailedListener = (key: RunKey, failure: RunFailure) => void | Promise<void>;
export type ProgressListener = (event: ProgressEvent) => void | Promise<void>;

export interface CollectorOptions {
  transport: Transport;
  /** e.g. `ablate.local.science-exam.>` (see `jobFilter`). */
  filter: string;
  /** Durable consumer name; a restarted collector passes the same one. */
  durable: string;
  expected: Map<RunKey, ExpectedRun>;
  /** Reject subjects under another prefix. @default any prefix */
  prefix?: string;
  /** Registered before the first message is consumed, so no event can be missed. */
  onRunComplete?: RunCompleteListener;
  onRunFailed?: RunFailedListener;
  onProgress?: ProgressListener;
}

interface Held<T> {
  m: InboundMessage;
  message: T;
}

interface Assembly {
  runUid: string;
  attempt: number;
  chunks: Map<number, Held<PredictionsMessage>>;
  done?: Held<DoneMessage>;
  /** Verified or failed: its remaining messages are acked on arrival. */
  settled: boolean;
}

interface Run {
  key: RunKey;
  job: string;
  ablation: string;
  seed: number;
  assemblies: Map<string, Assembly>;
  best?: CollectedRun;
  failure?: RunFailure;
}

function assemblyKey(runUid: string, attempt: number): string {
  return `${runUid}#${attempt}`;
}

/** Lifecycle: 'running' from create(); 'closed' from close(). */
export type CollectorState = 'running' | 'closed';

export class Collector {
  readonly counters: CollectorCounters = {
    received: 0,
    progress: 0,
    chunks: 0,
    done: 0,
    invalid: 0,
    unexpected: 0,
    duplicates: 0,
    stale: 0,
    foreign: 0,
    mismatched: 0,
    completed: 0,
    failed: 0,
  };
  private readonly runs = new Map<RunKey, Run>();
  /** The last verified v2 id list: the next run with the same list shares it (and skips the repeat check). */
  private knownIds: KnownIds | undefined;
  private readonly completeListeners: RunCompleteListener[] = [];
  private readonly failedListeners: RunFailedListener[] = [];
  private readonly progressListeners: ProgressListener[] = [];
  private readonly waiters = new Set<() => void>();
  private consumption: Consumption | undefined;
  private closing: Promise<void> | undefined;
  private _state: CollectorState = 'running';

  private constructor(private readonly opts: CollectorOptions) {
    if (opts.onRunComplete) this.completeListeners.push(opts.onRunComplete);
    if (opts.onRunFailed) this.failedListeners.push(opts.onRunFailed);
    if (opts.onProgress) this.progressListeners.push(opts.onProgress);
  }

  /** Starts consuming `filter` on `durable`. */
  static async create(opts: CollectorOptions): Promise<Collector> {
    const c = new Collector(opts);
    c.consumption = await opts.transport.consume({ filter: opts.filter, durable: opts.durable }, (m) => c.handle(m));
    return c;
  }

  get state(): CollectorState {
    return this._state;
  }

  /** Listeners added after create() miss events already reported; see `completed()`. Returns an unsubscribe. */
  onRunComplete(fn: RunCompleteListener): () => void {
    return add(this.completeListeners, fn);
  }

  onRunFailed(fn: RunFailedListener): () => void {
    return add(this.failedListeners, fn);
  }

  onProgress(fn: ProgressListener): () => void {
    return add(this.progressListeners, fn);
  }

  /**
   * Adds or changes what a run must deliver (e.g. a run added after create). Call it before the
   * run's messages arrive: messages for a run not expected at that moment are dropped for good.
   */
  expect(key: RunKey, expected: ExpectedRun): void {
    this.opts.expected.set(key, expected);
  }

  getRun(key: RunKey): RunState | undefined {
    if (!this.opts.expected.has(key)) return undefined;
    const run = this.runs.get(key);
    if (run?.best) return { key, state: 'complete', result: run.best };
    let latest: Assembly | undefined;
    for (const a of run?.assemblies.values() ?? []) if (!a.settled && (!latest || a.attempt >= latest.attempt)) latest = a;
    if (run?.failure && (!latest || latest.attempt <= run.failure.attempt)) return { key, state: 'failed', failure: run.failure };
    if (!latest) return { key, state: 'pending', chunksReceived: 0 };
    const out: RunState = { key, state: 'pending', attempt: latest.attempt, chunksReceived: latest.chunks.size };
    if (latest.done) out.chunksExpected = latest.done.message.chunks;
    return out;
  }

  /** The winning result of every complete run. */
  completed(): Map<RunKey, CollectedRun> {
    const out = new Map<RunKey, CollectedRun>();
    for (const [key, run] of this.runs) if (run.best) out.set(key, run.best);
    return out;
  }

  /** Resolves once every expected run is complete; rejects after `timeoutMs` or on close. */
  whenAllComplete(timeoutMs?: number): Promise<Map<RunKey, CollectedRun>> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const check = (): void => {
        if (this._state === 'closed') {
          finish();
          reject(new CollectorClosedError('collector closed before every run completed', this.opts.durable));
          return;
        }
        const done = this.completed();
        if ([...this.opts.expected.keys()].every((k) => done.has(k))) {
          finish();
          resolve(done);
        }
      };
      const finish = (): void => {
        this.waiters.delete(check);
        if (timer) clearTimeout(timer);
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          finish();
          const missing = [...this.opts.expected.keys()].filter((k) => !this.completed().has(k));
          reject(new CollectorTimeoutError(`collector ${this.opts.durable}: runs ${missing.join(', ')} not complete after ${timeoutMs} ms`, this.opts.durable, missing));
        }, timeoutMs);
      }
      this.waiters.add(check);
      check();
    });
  }

  /**
   * Stops consuming and gives back (nak) every held message so a successor gets them at once;
   * completed() and getRun() keep answering with what was reported. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.consumption?.stop();
      for (const run of this.runs.values()) {
        for (const a of run.assemblies.values()) {
          for (const h of a.chunks.values()) h.m.nak();
          a.done?.m.nak();
        }
        // Results already reported stay readable; half-assembled attempts belong to the successor.
        run.assemblies.clear();
      }
      this._state = 'closed';
      for (const w of [...this.waiters]) w();
    })();
    return this.closing;
  }

  private async handle(m: InboundMessage): Promise<void> {
    this.counters.received++;
    let parsed;
    try {
      parsed = parseSubject(m.subject, this.opts.prefix === undefined ? {} : { expectedPrefix: this.opts.prefix });
    } catch (err) {
      return this.reject(m, err, {});
    }
    const key = runKey(parsed.ablation, parsed.seed);
    const bindings = { job: parsed.job, ablation: parsed.ablation, seed: parsed.seed };
    if (!this.opts.expected.has(key)) {
      this.counters.unexpected++;
      logger(bindings).warn({ subject: m.subject }, `collector: message for run ${key}, which this job does not expect; dropped`);
      m.term();
      return;
    }
    let run = this.runs.get(key);
    if (!run) {
      run = { key, job: parsed.job, ablation: parsed.ablation, seed: parsed.seed, assemblies: new Map() };
      this.runs.set(key, run);
    }
    try {
      const prefix = this.opts.expected.get(key)?.runUidPrefix;
      const foreign = (runUid: string): boolean => {
        if (prefix === undefined || runUid.startsWith(prefix)) return false;
        this.counters.foreign++;
        m.ack();
        return true;
      };
      switch (parsed.kind) {
        case 'progress': {
          const p = decodeMessage('progress', m.data);
          return foreign(p.runUid) ? undefined : await this.onProgressMessage(run, m, p);
        }
        case 'predictions': {
          const p = decodeMessage('predictions', m.data);
          return foreign(p.runUid) ? undefined : await this.onChunk(run, m, p);
        }
        case 'done': {
          const d = decodeMessage('done', m.data);
          return foreign(d.runUid) ? undefined : await this.onDone(run, m, d);
        }
      }
    } catch (err) {
      if (err instanceof MessageValidationError) return this.reject(m, err, bindings);
      throw err;
    }
  }

  private reject(m: InboundMessage, err: unknown, bindings: Record<string, unknown>): void {
    this.counters.invalid++;
    const reason = err instanceof MessageValidationError || err instanceof SubjectError ? err.message : String(err);
    logger(bindings).warn({ subject: m.subject, reason }, `collector: invalid message on ${m.subject}: ${reason}`);
    m.term();
  }

  private async onProgressMessage(run: Run, m: InboundMessage, p: ProgressMessage): Promise<void> {
    this.counters.progress++;
    const event: ProgressEvent = { key: run.key, job: run.job, ablation: run.ablation, seed: run.seed, progress: p };
    for (const fn of this.progressListeners) {
      try {
        await fn(event);
      } catch (err) {
        // A broken progress bar must not stall collection.
        logger({ job: run.job, ablation: run.ablation, seed: run.seed, attempt: p.attempt }).warn({ err }, 'collector: progress listener threw');
      }
    }
    m.ack();
  }

  /** The attempt's assembly, or undefined when the message can no longer matter (acked here). */
  private assemblyFor(run: Run, m: InboundMessage, runUid: string, attempt: number): Assembly | undefined {
    const best = run.best;
    if (best && (best.attempt > attempt || (best.attempt === attempt && best.runUid === runUid))) {
      if (best.attempt === attempt) this.counters.duplicates++;
      else this.counters.stale++;
      m.ack();
      return undefined;
    }
    const k = assemblyKey(runUid, attempt);
    let a = run.assemblies.get(k);
    if (!a) {
      a = { runUid, attempt, chunks: new Map(), settled: false };
      run.assemblies.set(k, a);
    }
    if (a.settled) {
      this.counters.duplicates++;
      m.ack();
      return undefined;
    }
    return a;
  }

  private async onChunk(run: Run, m: InboundMessage, p: PredictionsMessage): Promise<void> {
    const a = this.assemblyFor(run, m, p.runUid, p.attempt);
    if (!a) return;
    const held = a.chunks.get(p.chunk);
    if (held) {
      if (held.m.seq === m.seq) held.m = m;
      else {
        this.counters.duplicates++;
        m.ack();
      }
      return;
    }
    this.counters.chunks++;
    a.chunks.set(p.chunk, { m, message: p });
    await this.tryComplete(run, a);
  }

  private async onDone(run: Run, m: InboundMessage, d: DoneMessage): Promise<void> {
    const a = this.assemblyFor(run, m, d.runUid, d.attempt);
    if (!a) return;
    if (a.done) {
      if (a.done.m.seq === m.seq) a.done.m = m;
      else {
        this.counters.duplicates++;
        m.ack();
      }
      return;
    }
    this.counters.done++;
    a.done = { m, message: d };
    if (d.status === 'failed') {
      await this.fail(run, a, 'trainer-failed', `trainer reported failure: ${d.error ?? '(no reason)'}`);
      return;
    }
    await this.tryComplete(run, a);
  }

  private async tryComplete(run: Run, a: Assembly): Promise<void> {
    const done = a.done?.message;
    if (!done || done.status !== 'succeeded') return;
    const beyond = [...a.chunks.keys()].filter((i) => i >= done.chunks);
    if (beyond.length > 0) {
      return this.fail(run, a, 'mismatch', `chunk ${beyond[0]} received but done says ${done.chunks} chunks`);
    }
    if (a.chunks.size < done.chunks) return;

    const expected = this.opts.expected.get(run.key) as ExpectedRun;
    const chunks: PredictionsMessage[] = [];
    for (let i = 0; i < done.chunks; i++) chunks.push((a.chunks.get(i) as Held<PredictionsMessage>).message);
    const assembled = assemble(chunks, done.v, this.knownIds);
    const ids = assembled.ids;
    const problem =
      assembled.problem !== undefined
        ? assembled.problem
        : ids.length !== done.count
          ? `assembled ${ids.length} predictions but done says ${done.count}`
          : ids.length !== expected.expectedCount
            ? `run delivered ${ids.length} predictions; the validation set has ${expected.expectedCount}`
            : done.validationSha256 !== expected.validationSha256
              ? `trainer predicted on validation set ${done.validationSha256}, expected ${expected.validationSha256}`
              : !assembled.idsUnique && new Set(ids).size !== ids.length
                ? `a question id appears more than once`
                : assembled.digest() !== done.predictionsSha256
                  ? `assembled predictions hash differs from done.predictionsSha256 ${done.predictionsSha256} (protocol v${done.v} digest)`
                  : undefined;
    if (problem !== undefined) return this.fail(run, a, 'mismatch', problem);
    if (assembled.encodedIds !== undefined && !assembled.idsUnique) this.knownIds = { encoded: assembled.encodedIds, ids };

    const result: CollectedRun = {
      key: run.key,
      job: run.job,
      ablation: run.ablation,
      seed: run.seed,
      runUid: a.runUid,
      attempt: a.attempt,
      protocolVersion: done.v,
      ids,
      probs: assembled.probs,
      width: assembled.width,
      count: ids.length,
      metrics: done.metrics,
      validationSha256: done.validationSha256,
      predictionsSha256: done.predictionsSha256,
    };
    run.best = result;
    this.counters.completed++;
    logger({ job: run.job, ablation: run.ablation, seed: run.seed, attempt: a.attempt }).info(
      { count: result.count, chunks: done.chunks },
      `collector: run ${run.key} complete (attempt ${a.attempt}, ${result.count} predictions)`,
    );
    await this.tell(this.completeListeners, (fn) => fn(run.key, result), run, a);
    // Reported: this attempt's messages and every older attempt's can go.
    for (const [k, other] of run.assemblies) {
      if (other === a || other.attempt < a.attempt || (other.attempt === a.attempt && other.runUid !== a.runUid)) {
        ackAll(other);
        run.assemblies.delete(k);
      }
    }
    this.wakeWaiters();
  }

  private async fail(run: Run, a: Assembly, reason: RunFailureReason, message: string): Promise<void> {
    if (reason === 'mismatch') this.counters.mismatched++;
    this.counters.failed++;
    a.settled = true;
    const failure: RunFailure = { key: run.key, ablation: run.ablation, seed: run.seed, runUid: a.runUid, attempt: a.attempt, reason, message };
    if (!run.failure || run.failure.attempt <= a.attempt) run.failure = failure;
    logger({ job: run.job, ablation: run.ablation, seed: run.seed, attempt: a.attempt }).warn({ reason }, `collector: run ${run.key} attempt ${a.attempt} not collected: ${message}`);
    await this.tell(this.failedListeners, (fn) => fn(run.key, failure), run, a);
    ackAll(a);
    a.chunks.clear();
    delete a.done;
    this.wakeWaiters();
  }

  /**
   * Calls each listener in turn. One that throws is logged and the messages are acked anyway:
   * redelivering them would report the same run again to the listeners that did succeed.
   */
  private async tell<F>(listeners: F[], call: (fn: F) => void | Promise<void>, run: Run, a: Assembly): Promise<void> {
    for (const fn of listeners) {
      try {
        await call(fn);
      } catch (err) {
        logger({ job: run.job, ablation: run.ablation, seed: run.seed, attempt: a.attempt }).error({ err }, `collector: listener for run ${run.key} threw`);
      }
    }
  }

  private wakeWaiters(): void {
    for (const w of [...this.waiters]) w();
  }
}

interface Assembled {
  /** Why the chunks cannot be put together (then the other fields are empty). */
  problem?: string;
  ids: string[];
  probs: Float32Array;
  width: number;
  /** False when `ids` may repeat an id (not yet checked). */
  idsUnique: boolean;
  /** v2: the ids as the chunks carried them, joined (see KnownIds). */
  encodedIds?: Buffer;
  /** The digest a done message of this version carries, over what was assembled. */
  digest(): string;
}

/** A list of ids already verified free of repeats, in its v2 form (UTF-8): a run that sends the same list shares the array. */
interface KnownIds {
  encoded: Buffer;
  ids: string[];
}

/**
 * Concatenates an attempt's chunks (in index order) into ids and one Float32Array. Every chunk must
 * be of the done message's version (one trainer publishes an attempt) and of one row width. v2:
 * when the ids are `known`'s (every run of a job predicts the same validation set, in order), the
 * result shares its array instead of decoding another.
 */
function assemble(chunks: readonly PredictionsMessage[], version: ProtocolVersion, known: KnownIds | undefined): Assembled {
  const failed = (problem: string): Assembled => ({ problem, ids: [], probs: new Float32Array(0), width: 0, idsUnique: false, digest: () => '' });
  const other = chunks.findIndex((c) => c.v !== version);
  if (other >= 0) return failed(`chunk ${other} is protocol v${chunks[other]?.v} but the done message is v${version}`);
  const widthOf = (c: PredictionsMessage): number => (c.v === 2 ? c.width : (c.probs[0]?.length ?? 0));
  const width = chunks.length === 0 ? 0 : widthOf(chunks[0] as PredictionsMessage);
  if (chunks.some((c) => widthOf(c) !== width)) return failed('chunks disagree on the number of options');
  if (version === 2) {
    const v2 = chunks as readonly PredictionsMessageV2[];
    let count = 0;
    for (const c of v2) count += c.count;
    const probs = new Float32Array(count * width);
    let row = 0;
    for (const c of v2) {
      probs.set(c.probs, row * width);
      row += c.count;
    }
    const pieces = v2.map((c) => c.ids);
    const same = known !== undefined && sameJoined(known.encoded, pieces);
    const encoded = same ? known.encoded : joinPieces(pieces);
    // No chunks: no ids (decoding the empty list would give one empty id).
    const ids = same ? known.ids : count === 0 ? [] : decodeIds(encoded);
    return { ids, probs, width, idsUnique: same, encodedIds: encoded, digest: () => predictionsSha256V2Encoded(pieces, count, { values: probs, width }) };
  }
  const v1 = chunks as readonly PredictionsMessageV1[];
  const ids = v1.flatMap((c) => c.ids);
  const rows = v1.flatMap((c) => c.probs);
  const probs = new Float32Array(rows.length * width);
  rows.forEach((p, r) => probs.set(p, r * width));
  // v1 hashes the doubles as sent, before they were rounded to float32.
  return { ids, probs, width, idsUnique: false, digest: () => predictionsSha256(ids, rows) };
}

/** Whether `whole` is `pieces` joined by newlines (compared in place, nothing joined). */
function sameJoined(whole: Buffer, pieces: readonly Uint8Array[]): boolean {
  let at = 0;
  for (const [i, p] of pieces.entries()) {
    if (i > 0 && whole[at++] !== NEWLINE) return false;
    if (at + p.length > whole.length || whole.compare(p, 0, p.length, at, at + p.length) !== 0) return false;
    at += p.length;
  }
  return at === whole.length;
}

/** The pieces joined by newlines, in one new buffer. */
function joinPieces(pieces: readonly Uint8Array[]): Buffer {
  let size = Math.max(0, pieces.length - 1);
  for (const p of pieces) size += p.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const [i, p] of pieces.entries()) {
    if (i > 0) out[at++] = NEWLINE;
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const NEWLINE = 0x0a;

function ackAll(a: Assembly): void {
  for (const h of a.chunks.values()) h.m.ack();
  a.done?.m.ack();
}

function add<T>(list: T[], fn: T): () => void {
  list.push(fn);
  return () => {
    const i = list.indexOf(fn);
    if (i >= 0) list.splice(i, 1);
  };
}
