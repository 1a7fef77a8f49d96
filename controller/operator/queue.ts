// A per-key work queue in the manner of client-go's: a key is processed by one worker at a
// time; adding a key that is queued is a no-op, adding one that is being processed marks it to
// run again afterwards; delayed adds keep the earliest time. Errors are not handled here — the
// handler returns the next delay (from reconcile or errorPolicy) and the queue schedules it.

export type QueueHandler = (key: string) => Promise<{ requeueAfterMs?: number | undefined }>;

/**
 * Workers processing keys at once. A new FineTuneJob's reconcile waits on several round trips in
 * turn (its JetStream consumer, its Job creates, its status write), so a few run side by side.
 * @default 4
 */
export const DEFAULT_QUEUE_WORKERS = 4;

/** Lifecycle: 'running' from the constructor; 'draining' from shutdown() until its promise resolves; 'stopped'. */
export type QueueState = 'running' | 'draining' | 'stopped';

export class WorkQueue {
  private readonly ready: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly idle: Array<() => void> = [];
  private active = 0;
  private _state: QueueState = 'running';

  constructor(
    private readonly handler: QueueHandler,
    private readonly workers: number = DEFAULT_QUEUE_WORKERS,
    private readonly onError: (key: string, err: unknown) => void = () => {},
  ) {}

  get state(): QueueState {
    return this._state;
  }

  /** Keys waiting to be processed (not counting delayed ones). */
  get depth(): number {
    return this.ready.length;
  }

  add(key: string): void {
    if (this._state !== 'running') return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.ready.push(key);
    this.pump();
  }

  addAfter(key: string, delayMs: number): void {
    if (this._state !== 'running') return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Stops taking keys, drops delayed ones, and resolves when the keys in progress are done. Idempotent. */
  async shutdown(): Promise<void> {
    if (this._state === 'running') {
      this._state = 'draining';
      for (const t of this.timers.values()) clearTimeout(t.timer);
      this.timers.clear();
      this.ready.length = 0;
      this.queued.clear();
    }
    if (this.active > 0) await new Promise<void>((r) => this.idle.push(r));
    this._state = 'stopped';
  }

  private pump(): void {
    while (this._state === 'running' && this.active < this.workers) {
      const key = this.ready.shift();
      if (key === undefined) return;
      this.queued.delete(key);
      this.processing.add(key);
      this.active++;
      void this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    let delay: number | undefined;
    try {
      delay = (await this.handler(key)).requeueAfterMs;
    } catch (err) {
      this.onError(key, err);
    }
    this.processing.delete(key);
    this.active--;
    if (this.dirty.delete(key)) this.add(key);
    else if (delay !== undefined) this.addAfter(key, delay);
    if (this.active === 0) for (const r of this.idle.splice(0)) r();
    this.pump();
  }
}
