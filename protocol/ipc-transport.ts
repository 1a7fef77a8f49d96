// Local runs without a NATS server: the trainer child publishes over the Node IPC channel that
// `child_process.fork`/`spawn(..., {stdio: [..., 'ipc']})` opens, and the parent relays each message
// into its in-process transport (`relayIpc`), which answers with the dedupe result. The message
// bytes and schemas are exactly those that would cross NATS; only the wire differs.
import type { ChildProcess } from 'node:child_process';
import type { ConsumeOptions, Consumption, MessageHandler, PublishOptions, PublishResult, Transport } from './transport.js';
import { TransportClosedError, PublishError } from './errors.js';

interface PublishRequest {
  ablate: 'publish';
  id: number;
  subject: string;
  data: string; // base64
  msgId?: string;
}

interface PublishReply {
  ablate: 'published';
  id: number;
  duplicate?: boolean;
  error?: string;
}

function isPublishRequest(m: unknown): m is PublishRequest {
  const o = m as Partial<PublishRequest> | null;
  return typeof o === 'object' && o !== null && o.ablate === 'publish' && typeof o.id === 'number' && typeof o.subject === 'string' && typeof o.data === 'string';
}

function isPublishReply(m: unknown): m is PublishReply {
  const o = m as Partial<PublishReply> | null;
  return typeof o === 'object' && o !== null && o.ablate === 'published' && typeof o.id === 'number';
}

/** The child's side: publish-only (a trainer never consumes). */
export class IpcTransport implements Transport {
  readonly description = 'the parent process (IPC)';
  private nextId = 1;
  private readonly pending = new Map<number, { subject: string; resolve: (r: PublishResult) => void; reject: (e: Error) => void }>();
  private closed = false;
  private readonly onMessage = (m: unknown): void => {
    if (!isPublishReply(m)) return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.error !== undefined) p.reject(new PublishError(`the parent refused the message: ${m.error}`, p.subject));
    else p.resolve({ duplicate: m.duplicate === true });
  };

  private constructor() {
    process.on('message', this.onMessage);
  }

  /** Fails when this process has no IPC channel (it was not started by `ablate run`). */
  static create(): Promise<IpcTransport> {
    if (typeof process.send !== 'function') {
      return Promise.reject(new TransportClosedError('no IPC channel to a parent process: start the trainer from `ablate run`, or give it a NATS transport', 'create'));
    }
    return Promise.resolve(new IpcTransport());
  }

  publish(subject: string, data: Uint8Array, opts: PublishOptions = {}): Promise<PublishResult> {
    if (this.closed) return Promise.reject(new TransportClosedError('IPC transport is closed', 'publish'));
    const id = this.nextId++;
    const req: PublishRequest = { ablate: 'publish', id, subject, data: Buffer.from(data).toString('base64') };
    if (opts.msgId !== undefined) req.msgId = opts.msgId;
    return new Promise<PublishResult>((resolve, reject) => {
      this.pending.set(id, { subject, resolve, reject });
      process.send!(req, undefined, undefined, (err) => {
        if (err) {
          this.pending.delete(id);
          reject(new PublishError(`cannot send to the parent process: ${err.message}`, subject, { cause: err }));
        }
      });
    });
  }

  consume(_opts: ConsumeOptions, _handler: MessageHandler): Promise<Consumption> {
    return Promise.reject(new TransportClosedError('the IPC transport only publishes', 'consume'));
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    process.off('message', this.onMessage);
    for (const p of this.pending.values()) p.reject(new TransportClosedError('IPC transport closed before the parent answered', 'publish'));
    this.pending.clear();
    // Let the process exit although the channel stays open.
    process.channel?.unref();
    return Promise.resolve();
  }
}

/**
 * The parent's side: every publish request from `child` is published on `target` (normally the
 * in-process transport the collector consumes) and answered. Returns a function that stops relaying.
 */
export function relayIpc(child: ChildProcess, target: Transport, onError?: (err: Error) => void): () => void {
  const handler = (m: unknown): void => {
    if (!isPublishRequest(m)) return;
    const reply = (r: Omit<PublishReply, 'ablate' | 'id'>): void => {
      if (child.connected) child.send({ ablate: 'published', id: m.id, ...r } satisfies PublishReply);
    };
    const opts: PublishOptions = m.msgId === undefined ? {} : { msgId: m.msgId };
    target.publish(m.subject, Buffer.from(m.data, 'base64'), opts).then(
      (r) => reply({ duplicate: r.duplicate }),
      (err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err));
        onError?.(e);
        reply({ error: e.message });
      },
    );
  };
  child.on('message', handler);
  return () => child.off('message', handler);
}
