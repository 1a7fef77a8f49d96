// Leader election on a coordination.k8s.io/v1 Lease, after client-go's tools/leaderelection:
// every `retryPeriodMs` the candidate reads the Lease; it creates it when missing, renews it when
// it holds it, and takes it over only when the holder has not renewed for `leaseDurationMs` as
// measured by this process's own clock (when it last saw the record change — never the remote
// renewTime, so clock skew between nodes does not matter). A leader that cannot renew within
// `renewDeadlineMs` steps down. close() releases the Lease (holderIdentity cleared) so a
// successor takes over at once.
//
// MicroTime: acquireTime/renewTime must carry exactly six fractional digits; the client
// serialises a Date with three, which real API servers reject, so we pass preformatted strings.
import type * as k8s from '@kubernetes/client-node';
import { logger } from '../../common/mod.js';

/** @default 15000 */
export const DEFAULT_LEASE_DURATION_MS = 15_000;
/** @default 10000 */
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
/** @default 2000 */
export const DEFAULT_RETRY_PERIOD_MS = 2000;

/** RFC 3339 with six fractional digits (metav1.MicroTime), typed as Date for the client's models. */
export function microTime(d: Date = new Date()): Date {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') as unknown as Date;
}

/** The client hands MicroTime fields back as Date (or, from older servers, a string). */
function asDate(v: Date | string): Date {
  return v instanceof Date ? v : new Date(v);
}

export interface LeaderElectorOptions {
  kc: k8s.KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  onStartedLeading: () => void | Promise<void>;
  onStoppedLeading: () => void;
  /** @default DEFAULT_LEASE_DURATION_MS */
  leaseDurationMs?: number;
  /** @default DEFAULT_RENEW_DEADLINE_MS */
  renewDeadlineMs?: number;
  /** @default DEFAULT_RETRY_PERIOD_MS */
  retryPeriodMs?: number;
}

export class LeaderElector {
  private api!: k8s.CoordinationV1Api;
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private lastRenew = 0;
  private observed: { record: string; at: number } | undefined;
  private closed = false;
  /** The read-and-write in progress: close() waits for it, so its renew cannot race the release. */
  private ticking: Promise<void> | undefined;
  private readonly log;
  private readonly duration: number;
  private readonly deadline: number;
  private readonly period: number;

  private constructor(private readonly o: LeaderElectorOptions) {
    this.log = logger({ lease: `${o.namespace}/${o.name}`, identity: o.identity });
    this.duration = o.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
    this.deadline = o.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS;
    this.period = o.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS;
  }

  static async create(o: LeaderElectorOptions): Promise<LeaderElector> {
    const k = await import('@kubernetes/client-node');
    const e = new LeaderElector(o);
    e.api = o.kc.makeApiClient(k.CoordinationV1Api);
    e.runTick();
    return e;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  private schedule(): void {
    if (this.closed) return;
    // Jitter so candidates do not poll in lockstep.
    this.timer = setTimeout(() => this.runTick(), this.period * (1 + Math.random() * 0.2));
    this.timer.unref();
  }

  private runTick(): void {
    if (this.closed) return;
    this.ticking = this.tick();
  }

  private async tick(): Promise<void> {
    try {
      await this.tryAcquireOrRenew();
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : err }, 'lease: read or write failed');
    }
    if (this.leading && Date.now() - this.lastRenew > this.deadline) {
      this.log.error('lease: not renewed within the renew deadline; stepping down');
      this.leading = false;
      this.o.onStoppedLeading();
    }
    this.schedule();
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const now = new Date();
    let lease: k8s.V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name: this.o.name, namespace: this.o.namespace });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
      await this.api.createNamespacedLease({
        namespace: this.o.namespace,
        body: {
          metadata: { name: this.o.name, namespace: this.o.namespace },
          spec: { holderIdentity: this.o.identity, leaseDurationSeconds: Math.ceil(this.duration / 1000), acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        },
      });
      return this.becameLeader();
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, lease.metadata?.resourceVersion]);
    if (!this.observed || this.observed.record !== record) this.observed = { record, at: Date.now() };
    const mine = spec.holderIdentity === this.o.identity;
    const free = !spec.holderIdentity;
    const expired = Date.now() - this.observed.at > (spec.leaseDurationSeconds ?? this.duration / 1000) * 1000;
    if (!mine && !free && !expired) return;
    const body: k8s.V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.o.identity,
        leaseDurationSeconds: Math.ceil(this.duration / 1000),
        renewTime: microTime(now),
        acquireTime: mine && spec.acquireTime ? microTime(asDate(spec.acquireTime)) : microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    };
    // The read resourceVersion rides along: a concurrent writer makes this a 409, not an overwrite.
    await this.api.replaceNamespacedLease({ name: this.o.name, namespace: this.o.namespace, body });
    if (mine) this.lastRenew = Date.now();
    else this.becameLeader();
  }

  private becameLeader(): void {
    this.lastRenew = Date.now();
    if (this.leading) return;
    this.leading = true;
    this.log.info('lease: acquired; leading');
    void Promise.resolve(this.o.onStartedLeading()).catch((err: unknown) => this.log.error({ err }, 'lease: onStartedLeading threw'));
  }

  /** Stops campaigning and, when leading, releases the Lease. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    // A renew in flight would otherwise write after the release read the Lease: a 409, and the
    // successor waiting out the whole lease.
    await this.ticking;
    if (!this.leading) return;
    this.leading = false;
    for (let attempt = 1; ; attempt++) {
      try {
        const lease = await this.api.readNamespacedLease({ name: this.o.name, namespace: this.o.namespace });
        if (lease.spec?.holderIdentity === this.o.identity) {
          const spec = lease.spec;
          await this.api.replaceNamespacedLease({
            name: this.o.name,
            namespace: this.o.namespace,
            body: { ...lease, spec: { ...spec, holderIdentity: '', renewTime: microTime(), acquireTime: spec.acquireTime ? microTime(asDate(spec.acquireTime)) : microTime() } },
          });
        }
        return;
      } catch (err) {
        // A conflict (someone wrote the Lease since it was read) is retried with a fresh read.
        if ((err as { code?: number }).code === 409 && attempt < 3) continue;
        this.log.warn({ err: err instanceof Error ? err.message : err }, 'lease: release failed; the successor waits out the lease');
        return;
      }
    }
  }
}
