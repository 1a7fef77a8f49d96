// The stand-in's etcd: objects per storage key (group/resource), one global monotonically
// increasing resourceVersion, and a per-kind event history that watches resume from. The history
// keeps the last `window` events of each kind; a watch or continue token older than that is
// answered 410 Expired, exactly the situation an informer must recover from by relisting.

export type Obj = Record<string, unknown> & { metadata: Meta };
export interface Meta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  [k: string]: unknown;
}
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  rv: number;
  object: Obj;
  /** The object before this event (absent for ADDED); lets selector watches emit transitions. */
  previous?: Obj;
}

interface Subscription {
  key: string;
  onEvent: (e: StoreEvent) => void;
  onExpire: () => void;
}

const objKey = (ns: string | undefined, name: string): string => `${ns ?? ''}/${name}`;

export class Store {
  private rv = 0;
  private readonly objects = new Map<string, Map<string, Obj>>();
  private readonly history = new Map<string, StoreEvent[]>();
  /** Per storage key: watches must start at or after this resourceVersion. */
  private readonly compactedRv = new Map<string, number>();
  private readonly subs = new Set<Subscription>();
  /** Told of every event of every kind, before watchers; compaction does not end them. */
  private readonly observers = new Set<(key: string, e: StoreEvent) => void>();

  constructor(private readonly window: number) {}

  get currentRv(): number {
    return this.rv;
  }

  get(key: string, ns: string | undefined, name: string): Obj | undefined {
    const o = this.objects.get(key)?.get(objKey(ns, name));
    return o ? structuredClone(o) : undefined;
  }

  /** Every object of a kind (optionally one namespace), sorted by namespace/name. */
  list(key: string, ns?: string): Obj[] {
    const m = this.objects.get(key);
    if (!m) return [];
    return [...m.entries()]
      .filter(([, o]) => ns === undefined || o.metadata.namespace === ns)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => structuredClone(o));
  }

  /** The stored objects themselves, unsorted and uncloned: for read-only scans (garbage collection). */
  peek(key: string, ns?: string): readonly Obj[] {
    const all = [...(this.objects.get(key)?.values() ?? [])];
    return ns === undefined ? all : all.filter((o) => o.metadata.namespace === ns);
  }

  /** One stored object itself, uncloned: for read-only use (garbage collection). */
  peekOne(key: string, ns: string | undefined, name: string): Obj | undefined {
    return this.objects.get(key)?.get(objKey(ns, name));
  }

  /** Storage keys that hold at least one object. */
  keys(): string[] {
    return [...this.objects.keys()];
  }

  /** Writes an object under a fresh resourceVersion and tells watchers; returns the stored copy. */
  put(key: string, obj: Obj): Obj {
    const m = this.objects.get(key) ?? new Map<string, Obj>();
    this.objects.set(key, m);
    const k = objKey(obj.metadata.namespace, obj.metadata.name ?? '');
    const previous = m.get(k);
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(++this.rv);
    m.set(k, stored);
    this.record(key, { type: previous ? 'MODIFIED' : 'ADDED', rv: this.rv, object: stored, ...(previous ? { previous } : {}) });
    return structuredClone(stored);
  }

  /** Removes an object; the DELETED event carries a fresh resourceVersion, as in etcd. */
  remove(key: string, ns: string | undefined, name: string): Obj | undefined {
    const m = this.objects.get(key);
    const previous = m?.get(objKey(ns, name));
    if (!m || !previous) return undefined;
    m.delete(objKey(ns, name));
    const gone = structuredClone(previous);
    gone.metadata.resourceVersion = String(++this.rv);
    this.record(key, { type: 'DELETED', rv: this.rv, object: gone, previous });
    return structuredClone(gone);
  }

  private record(key: string, e: StoreEvent): void {
    const h = this.history.get(key) ?? [];
    this.history.set(key, h);
    h.push(e);
    while (h.length > this.window) {
      const dropped = h.shift()!;
      this.compactedRv.set(key, dropped.rv);
    }
    for (const o of this.observers) o(key, e);
    for (const s of [...this.subs]) if (s.key === key) s.onEvent(e);
  }

  /** Calls `fn` with every event of every kind (the garbage collector's graph follows the store). */
  observe(fn: (key: string, e: StoreEvent) => void): () => void {
    this.observers.add(fn);
    return () => this.observers.delete(fn);
  }

  /** Events of a kind after `rv`, or 'expired' when the history no longer reaches back that far. */
  eventsSince(key: string, rv: number): StoreEvent[] | 'expired' {
    if (rv < (this.compactedRv.get(key) ?? 0)) return 'expired';
    return (this.history.get(key) ?? []).filter((e) => e.rv > rv);
  }

  /** The oldest resourceVersion a list continuation or watch of this kind may still use. */
  oldestUsableRv(key: string): number {
    return this.compactedRv.get(key) ?? 0;
  }

  subscribe(key: string, onEvent: (e: StoreEvent) => void, onExpire: () => void): () => void {
    const s: Subscription = { key, onEvent, onExpire };
    this.subs.add(s);
    return () => this.subs.delete(s);
  }

  /**
   * Drops all history (as an etcd compaction past the watch cache would) and expires every open
   * watch with an in-stream 410, so clients must relist.
   */
  compact(): void {
    for (const key of new Set([...this.history.keys(), ...this.objects.keys()])) {
      this.history.set(key, []);
      this.compactedRv.set(key, this.rv);
    }
    for (const s of [...this.subs]) {
      this.subs.delete(s);
      s.onExpire();
    }
  }

  /** Ends every subscription (server shutdown). */
  closeAll(): void {
    this.subs.clear();
  }
}
