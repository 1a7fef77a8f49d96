// The garbage collector's view of the store, kept up to date from every write as the real one
// keeps its graph from watches: where each object lives, whom it names as owners, who names it,
// and which objects are waiting for something (a deletionTimestamp). A write marks what it can
// affect — the object itself, the dependents of an object that is gone, the owners, namespace or
// CRD that are waiting on it — and a collector pass looks only at those, so the work per write no
// longer grows with the number of stored objects.
import { storageKey } from './resources.js';
import type { Obj, StoreEvent } from './store.js';

/** Where an object is stored, and what the collector needs to know about it without reading it. */
export interface GraphNode {
  key: string;
  namespace: string | undefined;
  name: string;
  /** Uids its ownerReferences name (present or not). */
  owners: readonly string[];
  /** It has a deletionTimestamp: it waits for its finalizers (and maybe for dependents). */
  deleting: boolean;
}

const CRD_KEY = 'apiextensions.k8s.io/customresourcedefinitions';
const NAMESPACES_KEY = '/namespaces';

const ownersOf = (o: Obj): string[] => (o.metadata.ownerReferences ?? []).map((r) => r.uid);

/** The storage key of a CRD's instances. */
function instancesKey(crd: Obj): string | undefined {
  const spec = crd['spec'] as { group?: unknown; names?: { plural?: unknown } } | undefined;
  if (typeof spec?.group !== 'string' || typeof spec.names?.plural !== 'string') return undefined;
  return storageKey({ group: spec.group, resource: spec.names.plural });
}

export class OwnerGraph {
  private readonly nodes = new Map<string, GraphNode>();
  /** Owner uid → uids of the stored objects naming it (the owner itself may be gone). */
  private readonly dependents = new Map<string, Set<string>>();
  /** Namespace name → its uid. */
  private readonly namespaces = new Map<string, string>();
  /** Storage key of a custom resource → the uid of its CRD. */
  private readonly crds = new Map<string, string>();
  /** Uids a collector pass should look at. */
  private dirty = new Set<string>();

  /** Whether an object with this uid is stored. */
  has(uid: string): boolean {
    return this.nodes.has(uid);
  }

  locate(uid: string): GraphNode | undefined {
    return this.nodes.get(uid);
  }

  /** Uids of the stored objects naming `uid` as an owner. */
  dependentsOf(uid: string): string[] {
    return [...(this.dependents.get(uid) ?? [])];
  }

  /** The uids marked since the last call, in the order they were marked; the mark is cleared. */
  takeDirty(): string[] {
    const out = [...this.dirty];
    this.dirty = new Set();
    return out;
  }

  /** Follows one store event (Store.observe). */
  observe(key: string, e: StoreEvent): void {
    const uid = e.object.metadata.uid;
    if (!uid) return;
    if (e.type === 'DELETED') this.removed(key, uid, e.object);
    else this.written(key, uid, e.object);
  }

  private written(key: string, uid: string, o: Obj): void {
    const owners = ownersOf(o);
    const before = this.nodes.get(uid);
    for (const owner of before?.owners ?? []) if (!owners.includes(owner)) this.unlink(owner, uid);
    for (const owner of owners) {
      let set = this.dependents.get(owner);
      if (!set) this.dependents.set(owner, (set = new Set()));
      set.add(uid);
    }
    const node: GraphNode = { key, namespace: o.metadata.namespace, name: o.metadata.name ?? '', owners, deleting: Boolean(o.metadata.deletionTimestamp) };
    this.nodes.set(uid, node);
    if (key === NAMESPACES_KEY) this.namespaces.set(node.name, uid);
    if (key === CRD_KEY) {
      const k = instancesKey(o);
      if (k) this.crds.set(k, uid);
    }
    // Its own owner references (dangling ones included) and its own deletion state.
    this.dirty.add(uid);
    // An owner in Foreground deletion gained or lost a dependent.
    for (const owner of new Set([...(before?.owners ?? []), ...owners])) this.markIfDeleting(owner);
    // A terminating namespace or a deleted CRD gets new work (the collector deletes what it holds).
    this.markWaiters(key, node.namespace);
  }

  private removed(key: string, uid: string, o: Obj): void {
    const node = this.nodes.get(uid);
    if (!node) return;
    this.nodes.delete(uid);
    this.dirty.delete(uid);
    for (const owner of node.owners) this.unlink(owner, uid);
    // Its dependents lost an owner: each is deleted, or drops the dangling reference.
    for (const d of this.dependents.get(uid) ?? []) this.dirty.add(d);
    if (key === NAMESPACES_KEY && this.namespaces.get(node.name) === uid) this.namespaces.delete(node.name);
    if (key === CRD_KEY) {
      const k = instancesKey(o);
      if (k && this.crds.get(k) === uid) this.crds.delete(k);
    }
    // Owners in Foreground deletion, a terminating namespace or a deleted CRD may be done now.
    for (const owner of node.owners) this.markIfDeleting(owner);
    this.markWaiters(key, node.namespace);
  }

  private unlink(owner: string, uid: string): void {
    const set = this.dependents.get(owner);
    if (!set) return;
    set.delete(uid);
    if (set.size === 0) this.dependents.delete(owner);
  }

  private markIfDeleting(uid: string): void {
    if (this.nodes.get(uid)?.deleting) this.dirty.add(uid);
  }

  private markWaiters(key: string, namespace: string | undefined): void {
    if (namespace !== undefined) {
      const ns = this.namespaces.get(namespace);
      if (ns) this.markIfDeleting(ns);
    }
    const crd = this.crds.get(key);
    if (crd) this.markIfDeleting(crd);
  }
}
