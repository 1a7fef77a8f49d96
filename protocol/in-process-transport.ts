// An in-memory stand-in for a JetStream stream with durable pull consumers, for local runs where
// no NATS is reachable. Same semantics as NatsTransport where the collector relies on them:
// msgId dedupe inside a window, durable positions per name (a new durable starts at the first
// message), explicit acks, redelivery of un-acked messages after the ack wait, after a nak, and on
// the next consume of the same durable, max deliveries, and stream-order delivery one at a time.
// What it does not give: persistence (everything dies with the process) and sharing a durable
// between two live consumptions (a second concurrent consume of one durable is an error).
import { logger } from '../common/mod.js';
import { NATS_DEFAULT_MAX_PAYLOAD } from './chunking.js';
import { ProtocolError, PublishError, TransportClosedError } from './errors.js';
import { subjectMatches } from './subjects.js';
import type { Consumption, ConsumeOptions, InboundMessage, MessageHandler, PublishOptions, PublishResult, Transport } from './transport.js';

/** @default 120 s, as NatsTransport's stream */
export const DEFAULT_IN_PROCESS_DUPLICATE_WINDOW_MS = 120_000;
/** @default 60 s, as NatsTransport's consumers */
export const DEFAULT_IN_PROCESS_ACK_WAIT_MS = 60_000;
/** @default 20, as NatsTransport's consumers */
export const DEFAULT_IN_PROCESS_MAX_DELIVER = 20;

export interface InProcessTransportOptions {
  /** Largest payload accepted, as a NATS server's max_payload. @default NATS_DEFAULT_MAX_PAYLOAD (1 MiB) */
  maxPayloadBytes?: number;
  /** @default DEFAULT_IN_PROCESS_DUPLICATE_WINDOW_MS */
  duplicateWindowMs?: number;
  /** @default DEFAULT_IN_PROCESS_ACK_WAIT_MS */
  ackWaitMs?: number;
  /** @default DEFAULT_IN_PROCESS_MAX_DELIVER */
  maxDeliver?: number;
}

interface Stored {
  seq: number;
  subject: string;
  data: Uint8Array;
  msgId?: string;
}

interface Durable {
  filter: string;
  /** Next never-delivered sequence to look at. */
  next: number;
  /** Delivered, not yet acked/termed: seq → ack deadline (ms since epoch). */
  pending: Map<number, number>;
  /** Due for redelivery, in stream order. */
  redeliver: Set<number>;
  deliveries: Map<number, number>;
  active?: InProcessConsumption;
}

class InProcessConsumption implements Consumption {
  private stopped = false;
  private wake: (() => void) | undefined;
  private readonly loop: Promise<void>;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly transport: InProcessTransport,
    private readonly durableName: string,
    private readonly durable: Durable,
    private readonly handler: MessageHandler,
  ) {
    // Ack deadlines are checked on a coarse tick; a quarter of the ack wait keeps redelivery near it.
    this.timer = setInterval(() => this.expire(), Math.max(10, Math.floor(transport.ackWaitMs / 4)));
    this.timer.unref();
    this.loop = this.run();
  }

  notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private expire(): void {
    const now = Date.now();
    let any = false;
    for (const [seq, deadline] of this.durable.pending) {
      if (deadline <= now) {
        this.durable.pending.delete(seq);
        this.durable.redeliver.add(seq);
        any = true;
      }
    }
    if (any) this.notify();
  }

  private take(): Stored | undefined {
    const d = this.durable;
    for (const seq of [...d.redeliver].sort((a, b) => a - b)) {
      d.redeliver.delete(seq);
      if ((d.deliveries.get(seq) ?? 0) >= this.transport.maxDeliver) continue;
      const m = this.transport.stored(seq);
      if (m) return m;
    }
    while (d.next <= this.transport.lastSeq) {
      const m = this.transport.stored(d.next);
      d.next++;
      if (m && subjectMatches(d.filter, m.subject)) return m;
    }
    return undefined;
  }

  private async run(): Promise<void> {
    // Start on a later tick, as a network consumer would: consume() returns before any delivery.
    await Promise.resolve();
    while (!this.stopped) {
      const m = this.take();
      if (!m) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      const d = this.durable;
      const count = (d.deliveries.get(m.seq) ?? 0) + 1;
      d.deliveries.set(m.seq, count);
      d.pending.set(m.seq, Date.now() + this.transport.ackWaitMs);
      const inbound = this.inbound(m, count);
      try {
        await this.handler(inbound);
      } catch (err) {
        logger().warn({ subject: m.subject, err }, 'in-process transport: handler threw; message will be redelivered');
        inbound.nak();
      }
    }
  }

  private inbound(m: Stored, deliveryCount: number): InboundMessage {
    const d = this.durable;
    const settle = (redeliver: boolean): void => {
      if (!d.pending.delete(m.seq)) return;
      if (redeliver) {
        d.redeliver.add(m.seq);
        d.active?.notify();
      } else d.deliveries.delete(m.seq);
    };
    const out: InboundMessage = {
      subject: m.subject,
      data: m.data,
      seq: m.seq,
      deliveryCount,
      ack: () => settle(false),
      nak: () => settle(true),
      term: () => settle(false),
    };
    if (m.msgId !== undefined) out.msgId = m.msgId;
    return out;
  }

  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      clearInterval(this.timer);
      this.notify();
    }
    await this.loop;
    if (this.durable.active === this) this.durable.active = undefined;
    this.transport.forget(this.durableName, this);
  }
}

/** A JetStream-like stream and durable consumers in this process's memory. */
export class InProcessTransport implements Transport {
  readonly description = 'in-process';
  readonly duplicateWindowMs: number;
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
  readonly maxPayloadBytes: number;
  private readonly messages: Stored[] = [];
  private readonly seen = new Map<string, { seq: number; at: number }>();
  private readonly durables = new Map<string, Durable>();
  private readonly consumptions = new Set<InProcessConsumption>();
  private closed = false;

  constructor(opts: InProcessTransportOptions = {}) {
    this.duplicateWindowMs = opts.duplicateWindowMs ?? DEFAULT_IN_PROCESS_DUPLICATE_WINDOW_MS;
    this.ackWaitMs = opts.ackWaitMs ?? DEFAULT_IN_PROCESS_ACK_WAIT_MS;
    this.maxDeliver = opts.maxDeliver ?? DEFAULT_IN_PROCESS_MAX_DELIVER;
    this.maxPayloadBytes = opts.maxPayloadBytes ?? NATS_DEFAULT_MAX_PAYLOAD;
  }

  /** Symmetry with NatsTransport.create. */
  static create(opts: InProcessTransportOptions = {}): Promise<InProcessTransport> {
    return Promise.resolve(new InProcessTransport(opts));
  }

  get lastSeq(): number {
    return this.messages.length;
  }

  stored(seq: number): Stored | undefined {
    return this.messages[seq - 1];
  }

  publish(subject: string, data: Uint8Array, opts: PublishOptions = {}): Promise<PublishResult> {
    if (this.closed) return Promise.reject(new TransportClosedError(`in-process transport: publish to ${subject} after close`, 'publish'));
    // Refused here as NATS would, so a trainer that only ever ran locally does not break on a cluster.
    if (data.byteLength > this.maxPayloadBytes) {
      return Promise.reject(new PublishError(`in-process transport: publish to ${subject}: ${data.byteLength} bytes exceeds max payload ${this.maxPayloadBytes}`, subject));
    }
    const now = Date.now();
    if (opts.msgId !== undefined) {
      const prior = this.seen.get(opts.msgId);
      if (prior && now - prior.at < this.duplicateWindowMs) return Promise.resolve({ duplicate: true });
    }
    const seq = this.messages.length + 1;
    // A copy: the stream owns its bytes, as a server would.
    const m: Stored = { seq, subject, data: Uint8Array.from(data) };
    if (opts.msgId !== undefined) {
      m.msgId = opts.msgId;
      this.seen.set(opts.msgId, { seq, at: now });
    }
    this.messages.push(m);
    for (const c of this.consumptions) c.notify();
    return Promise.resolve({ duplicate: false });
  }

  consume(opts: ConsumeOptions, handler: MessageHandler): Promise<Consumption> {
    if (this.closed) return Promise.reject(new TransportClosedError(`in-process transport: consume ${opts.durable} after close`, 'consume'));
    let d = this.durables.get(opts.durable);
    if (!d) {
      d = { filter: opts.filter, next: 1, pending: new Map(), redeliver: new Set(), deliveries: new Map() };
      this.durables.set(opts.durable, d);
    }
    if (d.active) {
      return Promise.reject(new ProtocolError(`in-process transport: durable ${JSON.stringify(opts.durable)} is already being consumed`));
    }
    d.filter = opts.filter;
    // Whatever the previous consumption left un-acked is due again now, as after a consumer restart.
    for (const seq of d.pending.keys()) d.redeliver.add(seq);
    d.pending.clear();
    const c = new InProcessConsumption(this, opts.durable, d, handler);
    d.active = c;
    this.consumptions.add(c);
    return Promise.resolve(c);
  }

  forget(_durable: string, c: InProcessConsumption): void {
    this.consumptions.delete(c);
  }

  /** Removes a durable's position (the in-process twin of NatsTransport.deleteConsumer). */
  deleteConsumer(durable: string): Promise<boolean> {
    const d = this.durables.get(durable);
    if (!d || d.active) return Promise.resolve(false);
    this.durables.delete(durable);
    return Promise.resolve(true);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumptions].map((c) => c.stop()));
  }
}
