// An informer that keeps going. client-node 1.4.0's informer stops for good on any error other
// than 410 Gone and its watch has no timeout, so a half-open connection can leave it silent
// forever (research/ecosystem.md §1.4). This wrapper restarts it with exponential backoff after
// an error, and a watchdog restarts it (a fresh LIST, then WATCH) when nothing at all was heard
// for `watchdogMs` — a quiet but healthy watch is relisted then too, which costs one LIST.
import type * as k8s from '@kubernetes/client-node';
import { logger } from '../../common/mod.js';

/** Restart an informer that has been silent this long, in milliseconds. @default 300000 */
export const DEFAULT_WATCHDOG_MS = 300_000;
/** First restart delay after an error, in milliseconds; doubles up to RESTART_MAX_MS. @default 1000 */
export const RESTART_BASE_MS = 1000;
/** @default 30000 */
export const RESTART_MAX_MS = 30_000;

export type InformerEvent = 'add' | 'update' | 'delete';

export interface WatchedInformerOptions<T extends k8s.KubernetesObject> {
  kc: k8s.KubeConfig;
  /** Watch path, e.g. `/apis/batch/v1/namespaces/ml/jobs`. */
  path: string;
  list: k8s.ListPromise<T>;
  labelSelector?: string;
  /** For logs and metrics. */
  name: string;
  onEvent: (type: InformerEvent, obj: T) => void;
  /** Called on each restart (errors and watchdog), for metrics. */
  onRestart?: (reason: 'error' | 'watchdog') => void;
  /** @default DEFAULT_WATCHDOG_MS */
  watchdogMs?: number;
  /**
   * An index key per object (undefined: not indexed), kept up to date with the cache, so
   * `indexed(key)` costs the size of its answer instead of a scan of everything cached.
   */
  indexBy?: (obj: T) => string | undefined;
}

export class WatchedInformer<T extends k8s.KubernetesObject> {
  private informer!: k8s.Informer<T> & k8s.ObjectCache<T>;
  private k!: typeof k8s;
  private lastHeard = Date.now();
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly log;
  /** index key → (namespace/name → object); and namespace/name → its index key. */
  private readonly index = new Map<string, Map<string, T>>();
  private readonly indexOf = new Map<string, string>();

  private constructor(private readonly o: WatchedInformerOptions<T>) {
    this.log = logger({ informer: o.name });
  }

  /** Resolves after the first LIST was applied (or failed: then restarts are under way). */
  static async start<T extends k8s.KubernetesObject>(o: WatchedInformerOptions<T>): Promise<WatchedInformer<T>> {
    const w = new WatchedInformer(o);
    w.k = await import('@kubernetes/client-node');
    w.informer = w.make();
    const every = o.watchdogMs ?? DEFAULT_WATCHDOG_MS;
    w.watchdog = setInterval(() => {
      if (!w.closed && w.restartTimer === undefined && Date.now() - w.lastHeard > every) w.restartLater('watchdog');
    }, Math.max(50, every / 4));
    w.watchdog.unref();
    await w.informer.start();
    return w;
  }

  /**
   * A fresh client informer whose events count only while it is the current one: a replaced
   * informer's late events (the abort of its watch shows up as an error) are ignored.
   */
  private make(): k8s.Informer<T> & k8s.ObjectCache<T> {
    const inf = this.k.makeInformer(this.o.kc, this.o.path, this.o.list, this.o.labelSelector);
    const current = (): boolean => this.informer === inf && !this.closed;
    const heard = (): void => {
      this.lastHeard = Date.now();
    };
    for (const type of ['add', 'update', 'delete'] as const) {
      inf.on(type, (obj) => {
        if (!current()) return;
        heard();
        this.emit(type, obj);
      });
    }
    inf.on('connect', () => {
      if (!current()) return;
      heard();
      this.failures = 0;
    });
    inf.on('error', (err) => {
      if (current()) this.restartLater('error', err);
    });
    return inf;
  }

  /** The cached objects (all namespaces the path covers): a fresh array, O(everything cached). */
  list(): readonly T[] {
    return this.informer.list();
  }

  /** One cached object, O(1). */
  get(name: string, namespace: string | undefined): T | undefined {
    return this.informer.get(name, namespace);
  }

  /** The cached objects whose `indexBy` key is `key` (none without `indexBy`). */
  indexed(key: string): T[] {
    const m = this.index.get(key);
    return m ? [...m.values()] : [];
  }

  /** Keeps the index in step with the cache, then tells the owner. */
  private emit(type: InformerEvent, obj: T): void {
    const by = this.o.indexBy;
    if (by) {
      const id = `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
      const before = this.indexOf.get(id);
      const after = type === 'delete' ? undefined : by(obj);
      if (before !== undefined && before !== after) {
        const m = this.index.get(before);
        m?.delete(id);
        if (m?.size === 0) this.index.delete(before);
        this.indexOf.delete(id);
      }
      if (after !== undefined) {
        let m = this.index.get(after);
        if (!m) this.index.set(after, (m = new Map()));
        m.set(id, obj);
        this.indexOf.set(id, after);
      }
    }
    this.o.onEvent(type, obj);
  }

  private restartLater(reason: 'error' | 'watchdog', err?: unknown): void {
    if (this.closed || this.restartTimer !== undefined) return;
    const delay = reason === 'watchdog' ? 0 : Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** this.failures++);
    this.log.warn({ reason, delayMs: delay, err: err instanceof Error ? err.message : err }, `informer ${this.o.name} stopped (${reason}); restarting in ${delay} ms`);
    this.o.onRestart?.(reason);
    this.restartTimer = setTimeout(() => void this.restart(), delay);
    this.restartTimer.unref();
  }

  /**
   * Replaces the client informer with a fresh one (LIST, then WATCH). The old cache keeps serving
   * until the new one has listed; objects that vanished in between are reported as deleted.
   */
  private async restart(): Promise<void> {
    if (this.closed) return;
    this.lastHeard = Date.now();
    const old = this.informer;
    const before = old.list();
    const fresh = this.make();
    this.informer = fresh;
    await old.stop().catch(() => {});
    try {
      await fresh.start();
    } catch (err) {
      this.restartTimer = undefined;
      this.restartLater('error', err);
      return;
    }
    this.restartTimer = undefined;
    const now = new Set(fresh.list().map((x) => `${x.metadata?.namespace}/${x.metadata?.name}`));
    for (const x of before) if (!now.has(`${x.metadata?.namespace}/${x.metadata?.name}`) && !this.closed) this.emit('delete', x);
  }

  /** Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    await this.informer.stop().catch(() => {});
  }
}
