// The Transport over NATS JetStream (@nats-io v3): one stream with file storage and a dedupe
// window, publishes carrying Nats-Msg-Id, and durable pull consumers with explicit acks.
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  StorageType,
  jetstream,
  jetstreamManager,
  type Consumer,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { logger } from '../common/mod.js';
import { NatsConnectionError, PublishError, TransportClosedError } from './errors.js';
import { DEFAULT_STREAM_NAME, streamSubject } from './subjects.js';
import type { Consumption, ConsumeOptions, InboundMessage, MessageHandler, PublishOptions, PublishResult, Transport } from './transport.js';

/** @default 120 s — JetStream's own default; a trainer retrying a publish inside it is deduped. */
export const DEFAULT_DUPLICATE_WINDOW_SECONDS = 120;
/**
 * How long a delivered message may stay un-acked before the server redelivers it. The collector
 * holds a run's chunks un-acked until the run's done arrives, so this bounds how soon a crashed
 * collector's successor sees them, not how long a run may take. @default 60 s
 */
export const DEFAULT_ACK_WAIT_SECONDS = 60;
/** @default 20 deliveries, then the server gives the message up for this durable */
export const DEFAULT_MAX_DELIVER = 20;
/**
 * Un-acked messages the server lets one durable hold. The collector keeps every chunk of every
 * unfinished run pending: 256 runs × ~10 chunks fits with room; JetStream's default of 1000 does
 * not. @default 20000
 */
export const DEFAULT_MAX_ACK_PENDING = 20_000;
/** @default 5000 ms for the first connection; after that the client reconnects forever */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/**
 * Bytes one pull asks for (the client also caps it at 100 messages; a stopping consumer nak's at
 * most those). Bounded by bytes, not by a message count: 64 predictions chunks of ~1 MiB pulled at
 * once from a full stream (a restarted controller catching up) exceed the server's 64 MiB
 * max_pending for the connection, which the server then drops as a slow consumer — every message
 * in flight came back only after the ack wait (bench/stream.ts: 60 s to drain 30 runs; 0.6 s with
 * this bound). @default 16 MiB
 */
export const DEFAULT_PULL_BYTES = 16 * 1024 * 1024;

export interface NatsCredentials {
  user?: string;
  pass?: string;
  token?: string;
}

export interface NatsTransportOptions {
  /** Server URL(s), e.g. `nats://127.0.0.1:4222`. */
  servers: string | string[];
  /** @default DEFAULT_STREAM_NAME ('ABLATE') */
  stream?: string;
  /** @default ['ablate.>'] */
  subjects?: string[];
  /** Drop messages older than this; 0 keeps them until the stream's other limits apply. @default 0 */
  maxAgeSeconds?: number;
  /** @default DEFAULT_DUPLICATE_WINDOW_SECONDS */
  duplicateWindowSeconds?: number;
  /** @default DEFAULT_ACK_WAIT_SECONDS */
  ackWaitSeconds?: number;
  /** @default DEFAULT_MAX_DELIVER */
  maxDeliver?: number;
  /** @default DEFAULT_MAX_ACK_PENDING */
  maxAckPending?: number;
  /** @default DEFAULT_CONNECT_TIMEOUT_MS */
  connectTimeoutMs?: number;
  /**
   * Milliseconds without a consumer after which the server deletes a durable, for the consumes
   * that name no `inactiveThresholdMs` of their own (see ConsumeOptions.inactiveThresholdMs).
   * @default undefined: durables live until deleted
   */
  inactiveThresholdMs?: number;
  /** Connection name shown by the server (`ablate-controller`, `ablate-trainer-…`). */
  name: string;
  credentials?: NatsCredentials;
}

interface CompiledNatsOptions {
  servers: string[];
  stream: string;
  subjects: string[];
  maxAgeNanos: number;
  duplicateWindowNanos: number;
  ackWaitNanos: number;
  maxDeliver: number;
  maxAckPending: number;
  connectTimeoutMs: number;
  /** For consumes that name none; undefined: none. */
  inactiveThresholdNanos: number | undefined;
  name: string;
  credentials: NatsCredentials;
}

/** A durable's inactive threshold in nanoseconds, or undefined for none; a bad value names itself. */
function inactiveThresholdNanos(field: string, ms: number | undefined, servers: string): number | undefined {
  if (ms === undefined) return undefined;
  if (!Number.isFinite(ms) || ms < 1) throw new NatsConnectionError(`NATS transport option ${field}=${ms} must be a number of milliseconds ≥ 1`, servers);
  return nanos(ms);
}

function compileNatsOptions(opts: NatsTransportOptions): CompiledNatsOptions {
  const servers = Array.isArray(opts.servers) ? opts.servers : [opts.servers];
  if (servers.length === 0 || servers.some((s) => s.trim() === '')) {
    throw new NatsConnectionError(`NATS servers ${JSON.stringify(opts.servers)}: need at least one non-empty URL`, String(opts.servers));
  }
  const { bare, credentials } = liftUrlCredentials(servers, opts.credentials ?? {});
  const seconds = (field: string, value: number | undefined, fallback: number, min: number): number => {
    const v = value ?? fallback;
    if (!Number.isFinite(v) || v < min) throw new NatsConnectionError(`NATS transport option ${field}=${v} must be a number ≥ ${min}`, servers.join(','));
    return v;
  };
  return {
    servers: bare,
    stream: opts.stream ?? DEFAULT_STREAM_NAME,
    subjects: opts.subjects ?? [streamSubject()],
    maxAgeNanos: nanos(seconds('maxAgeSeconds', opts.maxAgeSeconds, 0, 0) * 1000),
    duplicateWindowNanos: nanos(seconds('duplicateWindowSeconds', opts.duplicateWindowSeconds, DEFAULT_DUPLICATE_WINDOW_SECONDS, 0.001) * 1000),
    ackWaitNanos: nanos(seconds('ackWaitSeconds', opts.ackWaitSeconds, DEFAULT_ACK_WAIT_SECONDS, 0.001) * 1000),
    maxDeliver: seconds('maxDeliver', opts.maxDeliver, DEFAULT_MAX_DELIVER, 1),
    maxAckPending: seconds('maxAckPending', opts.maxAckPending, DEFAULT_MAX_ACK_PENDING, 1),
    connectTimeoutMs: seconds('connectTimeoutMs', opts.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 1),
    inactiveThresholdNanos: inactiveThresholdNanos('inactiveThresholdMs', opts.inactiveThresholdMs, servers.join(',')),
    name: opts.name,
    credentials,
  };
}

/**
 * Credentials inside a server URL (`nats://user:pass@host:4222`, or `nats://token@host:4222`: the
 * form a Kubernetes Secret hands a pod) become connect options: nats.js ignores URL user
 * information, and the bare URLs keep passwords out of descriptions, logs and error messages.
 * Explicit `credentials` win over the URL's.
 */
function liftUrlCredentials(servers: string[], given: NatsCredentials): { bare: string[]; credentials: NatsCredentials } {
  const credentials: NatsCredentials = { ...given };
  const bare = servers.map((s) => {
    let u: URL;
    try {
      u = new URL(s.trim());
    } catch {
      return s;
    }
    if (u.username === '' && u.password === '') return s;
    if (u.password !== '') {
      credentials.user ??= decodeURIComponent(u.username);
      credentials.pass ??= decodeURIComponent(u.password);
    } else {
      credentials.token ??= decodeURIComponent(u.username);
    }
    u.username = '';
    u.password = '';
    return u.toString();
  });
  return { bare, credentials };
}

function isApiError(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

class NatsConsumption implements Consumption {
  private stopping = false;
  private messages: ConsumerMessages | undefined;
  private readonly loop: Promise<void>;

  constructor(
    private readonly transport: NatsTransport,
    private readonly js: JetStreamClient,
    private readonly stream: string,
    private readonly durable: string,
    /** Creates the durable again when the server no longer has it. */
    private readonly recreate: () => Promise<void>,
    private readonly handler: MessageHandler,
  ) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const log = logger({ stream: this.stream, durable: this.durable });
    while (!this.stopping) {
      try {
        const consumer = await this.getOrRecreate(log);
        if (this.stopping) return;
        // abort_on_missing_resource: a deleted durable ends the iteration with an error (the client
        // would otherwise wait, pulling, for it to reappear) and is created again below.
        this.messages = await consumer.consume({ max_bytes: DEFAULT_PULL_BYTES, abort_on_missing_resource: true });
        // stop() may have run while consume() was starting, before there was a stream to close.
        if (this.stopping) {
          await this.messages.close();
          return;
        }
        for await (const m of this.messages) {
          // Pulled but not handed over: give it straight back so the durable's next consumer has it.
          if (this.stopping) {
            m.nak();
            continue;
          }
          const inbound = toInbound(m);
          try {
            await this.handler(inbound);
          } catch (err) {
            log.warn({ subject: m.subject, err }, 'NATS transport: handler threw; message nak\'ed for redelivery');
            m.nak();
          }
        }
      } catch (err) {
        if (this.stopping) return;
        log.warn({ err }, 'NATS transport: consumer stopped; resuming in 1 s');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /**
   * The durable, created again (from the stream's first message, with the same settings) when the
   * server has deleted it — its inactive threshold passed while this process could not pull (a
   * long disconnection), or an operator removed it. Consumers see the replay as redeliveries.
   */
  private async getOrRecreate(log: ReturnType<typeof logger>): Promise<Consumer> {
    try {
      return await this.js.consumers.get(this.stream, this.durable);
    } catch (err) {
      if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound) || this.stopping) throw err;
      log.warn('NATS transport: the durable consumer is gone from the server (inactive threshold or deleted); creating it again, it replays its filter from the stream\'s start');
      await this.recreate();
      return await this.js.consumers.get(this.stream, this.durable);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.messages?.close();
    await this.loop;
    this.transport.forget(this);
  }
}

function toInbound(m: JsMsg): InboundMessage {
  const out: InboundMessage = {
    subject: m.subject,
    data: m.data,
    seq: m.seq,
    deliveryCount: m.info.deliveryCount,
    ack: () => m.ack(),
    nak: () => m.nak(),
    term: () => m.term(),
  };
  const msgId = m.headers?.get('Nats-Msg-Id');
  if (msgId) out.msgId = msgId;
  return out;
}

/** Transport over one JetStream stream; `create()` connects and makes sure the stream exists. */
export class NatsTransport implements Transport {
  readonly description: string;
  private readonly consumptions = new Set<NatsConsumption>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly opts: CompiledNatsOptions,
  ) {
    this.description = `NATS ${opts.servers.join(',')} (stream ${opts.stream})`;
  }

  /** Connects (reconnecting forever after the first success) and creates or widens the stream. */
  static async create(options: NatsTransportOptions): Promise<NatsTransport> {
    const opts = compileNatsOptions(options);
    const where = opts.servers.join(',');
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: opts.servers,
        name: opts.name,
        // The client's default gives up after 10 reconnects; a controller must outlive server restarts.
        maxReconnectAttempts: -1,
        timeout: opts.connectTimeoutMs,
        ...opts.credentials,
      });
    } catch (err) {
      throw new NatsConnectionError(`cannot connect to NATS at ${where}: ${err instanceof Error ? err.message : String(err)}`, where, { cause: err });
    }
    try {
      const jsm = await jetstreamManager(nc);
      await ensureStream(jsm, opts);
      return new NatsTransport(nc, jsm, jetstream(nc), opts);
    } catch (err) {
      await nc.close().catch(() => undefined);
      if (err instanceof NatsConnectionError) throw err;
      throw new NatsConnectionError(`NATS at ${where}: cannot set up JetStream stream ${opts.stream}: ${err instanceof Error ? err.message : String(err)}`, where, { cause: err });
    }
  }

  get stream(): string {
    return this.opts.stream;
  }

  async publish(subject: string, data: Uint8Array, opts: PublishOptions = {}): Promise<PublishResult> {
    if (this.closing) throw new TransportClosedError(`NATS transport: publish to ${subject} after close`, 'publish');
    try {
      const ack = await this.js.publish(subject, data, opts.msgId === undefined ? {} : { msgID: opts.msgId });
      return { duplicate: ack.duplicate };
    } catch (err) {
      throw new PublishError(`NATS publish to ${subject} (${data.byteLength} bytes) failed: ${err instanceof Error ? err.message : String(err)}`, subject, { cause: err });
    }
  }

  async consume(opts: ConsumeOptions, handler: MessageHandler): Promise<Consumption> {
    if (this.closing) throw new TransportClosedError(`NATS transport: consume ${opts.durable} after close`, 'consume');
    const where = this.opts.servers.join(',');
    const threshold = opts.inactiveThresholdMs === undefined ? this.opts.inactiveThresholdNanos : inactiveThresholdNanos(`inactiveThresholdMs (durable ${opts.durable})`, opts.inactiveThresholdMs, where);
    // What a consume asks for is what the durable gets: a consume without a threshold also
    // removes one set earlier (0 = none; the client's update keeps fields it is not given).
    const config = {
      filter_subject: opts.filter,
      ack_wait: this.opts.ackWaitNanos,
      max_deliver: this.opts.maxDeliver,
      max_ack_pending: this.opts.maxAckPending,
      inactive_threshold: threshold ?? 0,
    };
    const add = async (): Promise<void> => {
      const { inactive_threshold, ...rest } = config;
      await this.jsm.consumers.add(this.opts.stream, { ...rest, ...(inactive_threshold ? { inactive_threshold } : {}), durable_name: opts.durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
    };
    try {
      await this.jsm.consumers.info(this.opts.stream, opts.durable);
      await this.jsm.consumers.update(this.opts.stream, opts.durable, config);
    } catch (err) {
      if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound)) {
        throw new NatsConnectionError(`NATS: cannot set up durable consumer ${opts.durable} on stream ${this.opts.stream}: ${String(err)}`, where, { cause: err });
      }
      await add();
    }
    const c = new NatsConsumption(this, this.js, this.opts.stream, opts.durable, add, handler);
    this.consumptions.add(c);
    return c;
  }

  forget(c: NatsConsumption): void {
    this.consumptions.delete(c);
  }

  /** Deletes a durable consumer; false when it did not exist. */
  async deleteConsumer(durable: string): Promise<boolean> {
    try {
      return await this.jsm.consumers.delete(this.opts.stream, durable);
    } catch (err) {
      if (isApiError(err, JetStreamApiCodes.ConsumerNotFound)) return false;
      throw err;
    }
  }

  /** Deletes the whole stream (tests, `ablate` cleanup); false when it did not exist. */
  async deleteStream(): Promise<boolean> {
    try {
      return await this.jsm.streams.delete(this.opts.stream);
    } catch (err) {
      if (isApiError(err, JetStreamApiCodes.StreamNotFound)) return false;
      throw err;
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.consumptions].map((c) => c.stop()));
      // drain() flushes the acks and naks the consumptions just sent before the socket closes.
      await this.nc.drain().catch(() => this.nc.close());
    })();
    return this.closing;
  }
}

async function ensureStream(jsm: JetStreamManager, opts: CompiledNatsOptions): Promise<void> {
  try {
    const info = await jsm.streams.info(opts.stream);
    const have = new Set(info.config.subjects ?? []);
    const missing = opts.subjects.filter((s) => !have.has(s));
    if (missing.length > 0) {
      await jsm.streams.update(opts.stream, { subjects: [...have, ...missing] });
    }
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.StreamNotFound)) throw err;
    await jsm.streams.add({
      name: opts.stream,
      subjects: opts.subjects,
      storage: StorageType.File,
      duplicate_window: opts.duplicateWindowNanos,
      max_age: opts.maxAgeNanos,
    });
  }
}
