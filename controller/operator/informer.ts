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
}

export class WatchedInformer<T extends k8s.KubernetesObject> {
  private informer!: k8s.Informer<T> & k8s.ObjectCache<T>;
  private lastHeard = Date.now();
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly log;

  private constructor(private readonly o: WatchedInformerOptions<T>) {
    this.log = logger({ informer: o.name });
  }

  /** Resolves after the first LIST was applied (or failed: then restarts are under way). */
  static async start<T extends k8s.KubernetesObject>(o: WatchedInformerOptions<T>): Promise<WatchedInformer<T>> {
    const k = await import('@kubernetes/client-node');
    const w = new WatchedInformer(o);
    w.informer = k.makeInformer(o.kc, o.path, o.list, o.labelSelector);
    const heard = (): void => {
      w.lastHeard = Date.now();
    };
    w.informer.on('add', (obj) => (heard(), o.onEvent('add', obj)));
    w.informer.on('update', (obj) => (heard(), o.onEvent('update', obj)));
    w.informer.on('delete', (obj) => (heard(), o.onEvent('delete', obj)));
    w.informer.on('connect', () => {
      heard();
      w.failures = 0;
    });
    w.informer.on('error', (err) => w.restartLater('error', err));
    const every = o.watchdogMs ?? DEFAULT_WATCHDOG_MS;
    w.watchdog = setInterval(() => {
      if (!w.closed && w.restartTimer === undefined && Date.now() - w.lastHeard > every) w.restartLater('watchdog');
    }, Math.max(50, every / 4));
    w.watchdog.unref();
    await w.informer.start();
    return w;
  }

  /** The cached objects (all namespaces the path covers). */
  list(): readonly T[] {
    return this.informer.list();
  }

  private restartLater(reason: 'error' | 'watchdog', err?: unknown): void {
    if (this.closed || this.restartTimer !== undefined) return;
    const delay = reason === 'watchdog' ? 0 : Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** this.failures++);
    this.log.warn({ reason, delayMs: delay, err: err instanceof Error ? err.message : err }, `informer ${this.o.name} stopped (${reason}); restarting in ${delay} ms`);
    this.o.onRestart?.(reason);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.closed) return;
      this.lastHeard = Date.now();
      void (async () => {
        if (reason === 'watchdog') await this.informer.stop().catch(() => {});
        await this.informer.start().catch((e: unknown) => this.restartLater('error', e));
      })();
    }, delay);
    this.restartTimer.unref();
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
