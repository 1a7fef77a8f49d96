// The one interface the trainer (publishing) and the collector (consuming) see, with two
// implementations: NATS JetStream (nats-transport.ts) and an in-memory one with the same
// semantics (in-process-transport.ts) for local runs where no NATS is reachable.

export interface PublishOptions {
  /** Nats-Msg-Id: a second publish with the same id inside the dedupe window is dropped. */
  msgId?: string;
}

export interface PublishResult {
  /** True when the stream already held a message with this msgId (nothing was stored). */
  duplicate: boolean;
}

export interface ConsumeOptions {
  /** Subject filter, NATS wildcards allowed (e.g. `ablate.local.science-exam.>`). */
  filter: string;
  /** Durable name: a new durable starts at the stream's first message; an existing one resumes. */
  durable: string;
  /**
   * NATS: the server deletes the durable once nobody has consumed from it for this long
   * (JetStream `inactive_threshold`), so a consumer whose process was killed does not live
   * forever; a consume of the same durable within that time resumes where it was. Keep it well
   * above the transport's pull interval (30 s). The in-process transport ignores it (its durables
   * end with the process).
   * @default the transport's `inactiveThresholdMs`; absent there too: the durable lives until deleted
   */
  inactiveThresholdMs?: number;
}

/** One delivery of a stored message. Exactly one of ack/nak/term should be called. */
export interface InboundMessage {
  subject: string;
  data: Uint8Array;
  msgId?: string;
  /** The message's sequence in the stream: a redelivery has the same `seq`, a republish a new one. */
  seq: number;
  /** 1 on first delivery; counts redeliveries (after a nak, an ack timeout or a consumer restart). */
  deliveryCount: number;
  /** Done with it: never delivered to this durable again. */
  ack(): void;
  /**
   * Not done: deliver it again (now) — used when a consumer stops with messages still held. On
   * NATS a nak sent after the consumer stopped may be routed to its still-open pull request and
   * so come back only after the ack wait; delivery is at least once, and consumers tell a
   * redelivery by its `seq`.
   */
  nak(): void;
  /** Never deliver again (a message that can never be processed). */
  term(): void;
}

export interface Consumption {
  /**
   * Stops delivery; messages fetched but not yet handed to the handler are nak'ed so the next
   * consumer of the durable gets them at once. Resolves after the handler's last call returned.
   */
  stop(): Promise<void>;
}

export type MessageHandler = (m: InboundMessage) => Promise<void> | void;

export interface Transport {
  /** Human-readable: which server or `in-process`. */
  readonly description: string;
  publish(subject: string, data: Uint8Array, opts?: PublishOptions): Promise<PublishResult>;
  /**
   * Durable, explicit-ack consumption of `filter`, in stream order, one message at a time: the
   * handler's next call starts after its previous one resolved. A message the handler leaves
   * un-acked stays pending and is redelivered after the ack wait or on the durable's next consume.
   * A handler that throws gets its message nak'ed.
   */
  consume(opts: ConsumeOptions, handler: MessageHandler): Promise<Consumption>;
  /** Stops every consumption and releases the connection; idempotent. */
  close(): Promise<void>;
}
