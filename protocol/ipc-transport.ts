// Publishing from a trainer child process to its parent's transport over Node's IPC channel, for
// local runs on the in-process transport (which lives in the parent's memory and so cannot be
// reached any other way). The child side is a publish-only Transport; the parent relays each
// publish to its own transport and answers with the result, so msgId dedupe and errors reach the
// trainer exactly as they would over NATS.
import type { ChildProcess } from 'node:child_process';
import { ProtocolError, PublishError, TransportClosedError } from './errors.js';
import type { Consumption, PublishOptions, PublishResult, Transport } from './transport.js';

interface PublishRequest {
  type: 'ablate-publish';
  id: number;
  subject: string;
  /** base64: the IPC channel carries JSON. */
  data: string;
  msgId?: string;
}

interface PublishReply {
  type: 'ablate-publish-result';
  id: number;
  duplicate?: boolean;
  error?: string;
}

function isRequest(m: unknown): m is PublishRequest {
  const r = m as Partial<PublishRequest> | null;
  return typeof r === 'object' && r !== null && r.type === 'ablate-publish' && typeof r.id === 'number' && typeof r.subject === 'string' && typeof r.data === 'string' && (r.msgId === undefined || typeof r.msgId === 'string');
}

function isReply(m: unknown): m is PublishReply {
  const r = m as Partial<PublishReply> | null;
  return typeof r === 'object' && r !== null && r.type === 'ablate-publish-result' && typeof r.id === 'number';
}

/** The child's side: publishes go to the parent (which runs `relayIpc`); consuming is not offered. */
export class IpcTransport implements Transport {
  readonly description = 'IPC to the parent process';
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: PublishResult) => void; reject: (e: Error) => void; subject: string }>();
  private closing: Promise<void> | undefined;
  private readonly onMessage = (m: unknown): void => {
    if (!isReply(m)) return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.error !== undefined) p.reject(new PublishError(`publish to ${p.subject} through the parent failed: ${m.error}`, p.subject));
    else p.resolve({ duplicate: m.duplicate === true });
    this.settled();
  };
  private readonly onDisconnect = (): void => {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new PublishError(`publish to ${p.subject}: the parent closed the IPC channel`, p.subject));
    }
    this.settled();
  };
  private settled: () => void = () => undefined;

  private constructor() {
    process.on('message', this.onMessage);
    process.on('disconnect', this.onDisconnect);
  }

  /** Fails unless this process was started with an IPC channel (`stdio: [..., 'ipc']`). */
  static create(): Promise<IpcTransport> {
    if (typeof process.send !== 'function' || !process.connected) {
      return Promise.reject(new ProtocolError('IPC transport: this process has no IPC channel to its parent (start it with an "ipc" stdio entry)'));
    }
    return Promise.resolve(new IpcTransport());
  }

  publish(subject: string, data: Uint8Array, opts: PublishOptions = {}): Promise<PublishResult> {
    if (this.closing) return Promise.reject(new TransportClosedError(`IPC transport: publish to ${subject} after close`, 'publish'));
    if (!process.connected || !process.send) return Promise.reject(new PublishError(`publish to ${subject}: the IPC channel to the parent is closed`, subject));
    const id = this.nextId++;
    const request: PublishRequest = { type: 'ablate-publish', id, subject, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') };
    if (opts.msgId !== undefined) request.msgId = opts.msgId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, subject });
      process.send?.(request, undefined, {}, (err: Error | null) => {
        if (!err) return;
        this.pending.delete(id);
        reject(new PublishError(`publish to ${subject}: sending to the parent failed: ${err.message}`, subject, { cause: err }));
        this.settled();
      });
    });
  }

  consume(): Promise<Consumption> {
    return Promise.reject(new ProtocolError('IPC transport: publishes only; the parent consumes from its own transport'));
  }

  /** Waits for outstanding publishes, then lets go of the channel so the process can exit; idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.pending.size > 0) await new Promise<void>((r) => (this.settled = () => this.pending.size === 0 && r()));
      process.off('message', this.onMessage);
      process.off('disconnect', this.onDisconnect);
      if (process.connected) process.disconnect();
    })();
    return this.closing;
  }
}

/**
 * The parent's side: publishes every request `child` sends to `transport`, in order, and answers
 * each. Returns a function that stops relaying. A failed publish is answered with its error (the
 * child's publish rejects) and reported to `onError`.
 */
export function relayIpc(child: ChildProcess, transport: Transport, onError: (err: Error) => void = () => undefined): () => void {
  let chain = Promise.resolve();
  const reply = (r: PublishReply): void => {
    if (child.connected) child.send(r, (err) => err && onError(err));
  };
  const onMessage = (m: unknown): void => {
    if (!isRequest(m)) return;
    chain = chain.then(async () => {
      try {
        const opts = m.msgId === undefined ? {} : { msgId: m.msgId };
        const r = await transport.publish(m.subject, Buffer.from(m.data, 'base64'), opts);
        reply({ type: 'ablate-publish-result', id: m.id, duplicate: r.duplicate });
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        onError(e);
        reply({ type: 'ablate-publish-result', id: m.id, error: e.message });
      }
    });
  };
  child.on('message', onMessage);
  return () => {
    child.off('message', onMessage);
  };
}
