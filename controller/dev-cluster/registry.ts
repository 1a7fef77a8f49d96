// The stand-in's request semantics, independent of HTTP: create / get / list / update / patch /
// delete with the apiserver's rules (resourceVersion preconditions and 409s, unconditional-update
// rules per kind, generation bumps on spec changes only, the status subresource, finalizers and
// deletionTimestamp, ownerReference garbage collection, namespace lifecycle, MicroTime parsing,
// defaulting and validation of custom resources from their CRD). The HTTP layer (server.ts) and
// the Job runner both go through here, so a write by either is indistinguishable on the wire.
import { randomBytes, randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { logger } from '../../common/mod.js';
import {
  AlreadyExistsError,
  BadRequestError,
  ConflictError,
  ExpiredError,
  InvalidError,
  NamespaceTerminatingError,
  NotFoundError,
  UnsupportedMediaTypeError,
  fieldError,
  type StatusCause,
} from './errors.js';
import { fromCoreEvent, toCoreEvent } from './events.js';
import { jsonPatch, mergePatch, strategicMergePatch, type Json } from './patch.js';
import { BUILTIN_TYPES, apiVersionOf, storageKey, typesFromCrd, type ResourceType } from './resources.js';
import { OwnerGraph } from './owner-graph.js';
import { labelSelectorFromObject, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { Store, type Obj } from './store.js';

/** What custom-resource admission needs from the schema engine (the one `ablate validate` uses). */
export interface SchemaEngine {
  applyDefaults(schema: Record<string, unknown>, obj: Record<string, unknown>): Record<string, unknown>;
  validate(schema: Record<string, unknown>, obj: Record<string, unknown>, oldObject?: Record<string, unknown>): StatusCause[];
  /** Paths of fields the schema does not declare (pruned, or refused under fieldValidation=Strict). */
  prune(schema: Record<string, unknown>, obj: Record<string, unknown>): { pruned: Record<string, unknown>; unknown: string[] };
}

export interface WriteOptions {
  dryRun?: boolean;
  subresource?: 'status';
  /** `fieldValidation` query parameter: Strict refuses unknown fields, Warn/Ignore prune them. */
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  fieldManager?: string;
  /** Warnings for the `Warning` response header. */
  warnings?: string[];
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface DeleteOptions {
  dryRun?: boolean;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { resourceVersion?: string; uid?: string };
}

/** Fields whose Go type is metav1.MicroTime: exactly six fractional digits on the wire. */
const MICROTIME_FIELDS: Record<string, string[][]> = {
  '/events': [['eventTime'], ['series', 'lastObservedTime']],
  'coordination.k8s.io/leases': [
    ['spec', 'acquireTime'],
    ['spec', 'renewTime'],
  ],
};
const MICROTIME_LAYOUT = '2006-01-02T15:04:05.000000Z07:00';
const MICROTIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Finalizer the real apiextensions-apiserver puts on every CRD so its instances go first. */
const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';
const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

const nowIso = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const clone = <T>(v: T): T => structuredClone(v);
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Everything but metadata (and status when it has its own subresource): what generation tracks. */
function specPart(t: ResourceType, o: Obj): string {
  const { metadata: _m, status, apiVersion: _a, kind: _k, ...rest } = o;
  return JSON.stringify(t.statusSubresource ? rest : { ...rest, status });
}

/** Where the fractional part of a timestamp stops parsing as Go's `.000000` layout element. */
function microTimeError(kind: string, version: string, value: string): BadRequestError {
  const frac = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(.*)$/.exec(value)?.[1] ?? value;
  const sixDigits = /^\.\d{6}(.*)$/.exec(frac);
  const detail = sixDigits ? `cannot parse "${sixDigits[1]}" as "Z07:00"` : `cannot parse "${frac}" as ".000000"`;
  return new BadRequestError(
    `${kind} in version "${version}" cannot be handled as a ${kind}: parsing time "${value}" as "${MICROTIME_LAYOUT}": ${detail}`,
    { field: 'MicroTime', value },
  );
}

export class Registry {
  readonly store: Store;
  private readonly types: ResourceType[] = [...BUILTIN_TYPES];
  /** What the garbage collector knows of the store; a pass looks only at what writes marked. */
  private readonly graph = new OwnerGraph();
  private gcScheduled = false;
  private closed = false;

  constructor(
    window: number,
    private readonly schemas: SchemaEngine,
  ) {
    this.store = new Store(window);
    this.store.observe((key, e) => this.graph.observe(key, e));
    for (const ns of INITIAL_NAMESPACES) {
      this.create(this.typeFor('', 'v1', 'namespaces')!, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    }
  }

  close(): void {
    this.closed = true;
    this.store.closeAll();
  }

  // ---- types ---------------------------------------------------------------------------------

  allTypes(): ResourceType[] {
    return [...this.types];
  }

  typeFor(group: string, version: string, resource: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.version === version && t.resource === resource);
  }

  typeForKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.types.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
  }

  private syncCrdTypes(): void {
    const crdKey = 'apiextensions.k8s.io/customresourcedefinitions';
    const served = this.store
      .list(crdKey)
      .filter((crd) => !crd.metadata.deletionTimestamp || this.store.list(storageKey({ group: String((crd['spec'] as { group?: string }).group), resource: String((crd['spec'] as { names?: { plural?: string } }).names?.plural) })).length > 0)
      .flatMap((crd) => typesFromCrd(crd));
    this.types.splice(0, this.types.length, ...BUILTIN_TYPES, ...served);
  }

  // ---- reads ---------------------------------------------------------------------------------

  get(t: ResourceType, ns: string | undefined, name: string): Obj {
    const o = this.store.get(storageKey(t), t.namespaced ? ns : undefined, name);
    if (!o) throw new NotFoundError(t.resource, t.group, name);
    return this.present(t, o);
  }

  /** Stamps the request's apiVersion/kind (one store serves every version of a kind). */
  present(t: ResourceType, o: Obj): Obj {
    const { apiVersion: _a, kind: _k, ...rest } = t.storedAs === '/events' ? fromCoreEvent(o) : o;
    return { apiVersion: apiVersionOf(t), kind: t.kind, ...rest } as Obj;
  }

  list(t: ResourceType, ns: string | undefined, opts: ListOptions = {}): { items: Obj[]; resourceVersion: string; continue?: string; remainingItemCount?: number } {
    const labels = parseLabelSelector(opts.labelSelector);
    const fields = parseFieldSelector(opts.fieldSelector);
    const key = storageKey(t);
    let items = this.store
      .list(key, t.namespaced ? ns : undefined)
      .map((o) => this.present(t, o))
      .filter((o) => labels(o.metadata.labels ?? {}) && fields(o));
    let rv = this.store.currentRv;
    if (opts.continue) {
      let token: { rv: number; after: string };
      try {
        token = JSON.parse(Buffer.from(opts.continue, 'base64url').toString('utf8')) as { rv: number; after: string };
      } catch (err) {
        throw new BadRequestError(`continue key is not valid: ${opts.continue}`, { field: 'continue', value: opts.continue, cause: err });
      }
      if (token.rv < this.store.oldestUsableRv(key)) throw new ExpiredError(String(token.rv));
      // A continued list reads at the first page's revision in a real server; objects written
      // since then are shown at their newest state here, which clients cannot tell apart.
      rv = token.rv;
      items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > token.after);
    }
    if (opts.limit && opts.limit > 0 && items.length > opts.limit) {
      const page = items.slice(0, opts.limit);
      const last = page[page.length - 1]!;
      const token = Buffer.from(JSON.stringify({ rv, after: `${last.metadata.namespace ?? ''}/${last.metadata.name}` })).toString('base64url');
      return { items: page, resourceVersion: String(rv), continue: token, remainingItemCount: items.length - page.length };
    }
    return { items, resourceVersion: String(rv) };
  }

  // ---- admission -----------------------------------------------------------------------------

  private requireNamespace(t: ResourceType, ns: string | undefined): void {
    if (!t.namespaced) return;
    if (!ns) throw new BadRequestError(`an empty namespace may not be set when a resource name is provided for namespaced ${t.resource}`, { field: 'metadata.namespace', value: ns });
    const nsObj = this.store.get('/namespaces', undefined, ns);
    if (!nsObj) throw new NotFoundError('namespaces', '', ns);
    if (nsObj.metadata.deletionTimestamp) {
      throw new NamespaceTerminatingError(t.resource, t.group, ns);
    }
  }

  private checkBody(t: ResourceType, body: unknown): Obj {
    if (!isObj(body)) throw new BadRequestError(`the body of the request must be a ${t.kind} object`, { field: 'body', value: body });
    const o = clone(body) as Obj;
    if (o['apiVersion'] !== undefined && o['apiVersion'] !== apiVersionOf(t)) {
      throw new BadRequestError(`the API version in the data (${String(o['apiVersion'])}) does not match the expected API version (${apiVersionOf(t)})`, { field: 'apiVersion', value: o['apiVersion'] });
    }
    if (o['kind'] !== undefined && o['kind'] !== t.kind) {
      throw new BadRequestError(`the kind in the data (${String(o['kind'])}) does not match the expected kind (${t.kind})`, { field: 'kind', value: o['kind'] });
    }
    if (!isObj(o.metadata)) o.metadata = {};
    o['apiVersion'] = apiVersionOf(t);
    o['kind'] = t.kind;
    return t.storedAs === '/events' ? toCoreEvent(o) : o;
  }

  private checkMicroTimes(t: ResourceType, o: Obj): void {
    for (const path of MICROTIME_FIELDS[storageKey(t)] ?? []) {
      let cur: unknown = o;
      for (const p of path) cur = isObj(cur) ? cur[p] : undefined;
      if (cur === undefined || cur === null) continue;
      if (typeof cur !== 'string' || !MICROTIME_RE.test(cur)) throw microTimeError(t.kind, t.version, String(cur));
    }
  }

  /** Secrets: `stringData` is write-only and folded into base64 `data`, as the real server does. */
  private foldStringData(t: ResourceType, o: Obj): void {
    if (storageKey(t) !== '/secrets' || !isObj(o['stringData'])) return;
    const data = { ...((o['data'] as Record<string, string> | undefined) ?? {}) };
    for (const [k, v] of Object.entries(o['stringData'])) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    o['data'] = data;
    delete o['stringData'];
  }

  /** Kind-specific defaulting, as the real registry strategies do on create. */
  private defaultOnCreate(t: ResourceType, o: Obj): void {
    const key = storageKey(t);
    this.foldStringData(t, o);
    if (key === '/secrets' && !o['type']) o['type'] = 'Opaque';
    if (key === 'batch/jobs') {
      const spec = (o['spec'] ?? {}) as Record<string, unknown>;
      o['spec'] = spec;
      spec['backoffLimit'] ??= 6;
      spec['completions'] ??= 1;
      spec['parallelism'] ??= 1;
      spec['suspend'] ??= false;
      spec['completionMode'] ??= 'NonIndexed';
      const uid = o.metadata.uid!;
      const tmpl = (spec['template'] ?? {}) as { metadata?: Obj['metadata']; spec?: Record<string, unknown> };
      spec['template'] = tmpl;
      tmpl.metadata = { ...(tmpl.metadata ?? {}) };
      // SetDefaults_Job: a Job without labels takes its template's (before the generated ones).
      if (tmpl.metadata.labels && Object.keys(o.metadata.labels ?? {}).length === 0) o.metadata.labels = { ...tmpl.metadata.labels };
      tmpl.metadata.labels = {
        ...(tmpl.metadata.labels ?? {}),
        'batch.kubernetes.io/controller-uid': uid,
        'batch.kubernetes.io/job-name': o.metadata.name!,
        'controller-uid': uid,
        'job-name': o.metadata.name!,
      };
      spec['selector'] ??= { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
    }
    if (key === '/pods') {
      const spec = (o['spec'] ?? {}) as Record<string, unknown>;
      o['spec'] = spec;
      spec['restartPolicy'] ??= 'Always';
      o['status'] = { phase: 'Pending' };
    }
    if (key === '/namespaces') {
      o['status'] = { phase: 'Active' };
      o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata.name! };
    }
    if (key === 'apiextensions.k8s.io/customresourcedefinitions') {
      const f = o.metadata.finalizers ?? [];
      if (!f.includes(CRD_CLEANUP_FINALIZER)) o.metadata.finalizers = [...f, CRD_CLEANUP_FINALIZER];
    }
  }

  /** Built-in validation of the fields ablate and kubectl rely on. */
  private validateBuiltin(t: ResourceType, o: Obj, old: Obj | undefined): StatusCause[] {
    const causes: StatusCause[] = [];
    const key = storageKey(t);
    if (key === 'batch/jobs') {
      const spec = (o['spec'] ?? {}) as Record<string, unknown>;
      const pod = ((spec['template'] as { spec?: Record<string, unknown> } | undefined)?.spec ?? {}) as Record<string, unknown>;
      const rp = pod['restartPolicy'];
      if (rp !== 'Never' && rp !== 'OnFailure') causes.push(fieldError.notSupported('spec.template.spec.restartPolicy', rp ?? '', ['OnFailure', 'Never']));
      const containers = pod['containers'];
      if (!Array.isArray(containers) || containers.length === 0) causes.push(fieldError.required('spec.template.spec.containers'));
      if (old && JSON.stringify((old['spec'] as Record<string, unknown>)['template']) !== JSON.stringify(spec['template'])) {
        causes.push(fieldError.invalid('spec.template', spec['template'], 'field is immutable'));
      }
    }
    if (key === '/pods' && !old) {
      const containers = (o['spec'] as Record<string, unknown> | undefined)?.['containers'];
      if (!Array.isArray(containers) || containers.length === 0) causes.push(fieldError.required('spec.containers'));
    }
    return causes;
  }

  /** Custom resources: prune or refuse unknown fields, apply schema defaults, run schema + CEL. */
  private admitCustom(t: ResourceType, o: Obj, old: Obj | undefined, opts: WriteOptions): Obj {
    if (!t.schema) return o;
    const { pruned, unknown } = this.schemas.prune(t.schema, o);
    if (unknown.length > 0) {
      if (opts.fieldValidation === 'Strict') {
        throw new BadRequestError(`strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`, { field: unknown[0], value: unknown });
      }
      if (opts.fieldValidation === 'Warn') opts.warnings?.push(...unknown.map((u) => `unknown field "${u}"`));
    }
    const defaulted = this.schemas.applyDefaults(t.schema, pruned) as Obj;
    const causes = this.schemas.validate(t.schema, defaulted, old);
    if (causes.length > 0) throw new InvalidError(t.kind, t.group, o.metadata.name ?? '', causes);
    return defaulted;
  }

  private validateName(t: ResourceType, name: string | undefined): void {
    if (!name) throw new InvalidError(t.kind, t.group, '', [fieldError.required('metadata.name', 'name or generateName is required')]);
    const re = t.resource === 'namespaces' ? DNS_LABEL : DNS_SUBDOMAIN;
    if (!re.test(name) || name.length > 253) {
      throw new InvalidError(t.kind, t.group, name, [
        fieldError.invalid('metadata.name', name, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"),
      ]);
    }
  }

  // ---- writes --------------------------------------------------------------------------------

  create(t: ResourceType, ns: string | undefined, body: unknown, opts: WriteOptions = {}): Obj {
    let o = this.checkBody(t, body);
    const namespace = t.namespaced ? (o.metadata.namespace ?? ns) : undefined;
    if (t.namespaced && ns && o.metadata.namespace && o.metadata.namespace !== ns) {
      throw new BadRequestError('the namespace of the provided object does not match the namespace sent on the request', { field: 'metadata.namespace', value: o.metadata.namespace });
    }
    this.requireNamespace(t, namespace);
    if (!o.metadata.name && o.metadata.generateName) {
      o.metadata.name = `${o.metadata.generateName}${randomBytes(4).toString('hex').replace(/[^a-z0-9]/g, '').slice(0, 5)}`;
    }
    this.validateName(t, o.metadata.name);
    const key = storageKey(t);
    if (this.store.get(key, namespace, o.metadata.name!)) throw new AlreadyExistsError(t.resource, t.group, o.metadata.name!);
    this.checkMicroTimes(t, o);
    const meta = o.metadata;
    for (const k of ['resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields']) delete meta[k];
    if (namespace) meta.namespace = namespace;
    else delete meta.namespace;
    meta.uid = randomUUID();
    meta.creationTimestamp = nowIso();
    if (t.generation) meta.generation = 1;
    // Kinds with a status subresource ignore a client's status on create (the strategies reset it).
    if (t.statusSubresource) delete o['status'];
    this.defaultOnCreate(t, o);
    if (t.crd) o = this.admitCustom(t, o, undefined, opts);
    const causes = this.validateBuiltin(t, o, undefined);
    if (causes.length > 0) throw new InvalidError(t.kind, t.group, meta.name!, causes);
    if (key === 'apiextensions.k8s.io/customresourcedefinitions') o = this.admitCrd(o);
    if (opts.dryRun) return this.present(t, o);
    return this.commit(t, o);
  }

  /** CRDs are accepted at once: Established and NamesAccepted, so `kubectl wait` succeeds. */
  private admitCrd(o: Obj): Obj {
    const spec = (o['spec'] ?? {}) as { group?: string; names?: { plural?: string; kind?: string } };
    const expected = `${spec.names?.plural ?? ''}.${spec.group ?? ''}`;
    if (o.metadata.name !== expected) {
      throw new InvalidError('CustomResourceDefinition', 'apiextensions.k8s.io', o.metadata.name ?? '', [
        fieldError.invalid('metadata.name', o.metadata.name, `must be spec.names.plural+"."+spec.group`),
      ]);
    }
    const now = nowIso();
    o['status'] = {
      acceptedNames: spec.names,
      storedVersions: ((o['spec'] as { versions?: { name: string; storage?: boolean }[] }).versions ?? []).filter((v) => v.storage).map((v) => v.name),
      conditions: [
        { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: now },
        { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: now },
      ],
    };
    return o;
  }

  private commit(t: ResourceType, o: Obj): Obj {
    const key = storageKey(t);
    const stored = this.store.put(key, o);
    if (key === 'apiextensions.k8s.io/customresourcedefinitions') this.syncCrdTypes();
    this.afterWrite();
    return this.present(t, stored);
  }

  /** Schedules one garbage-collector pass after the current write settles. */
  private afterWrite(): void {
    if (this.gcScheduled || this.closed) return;
    this.gcScheduled = true;
    setImmediate(() => {
      this.gcScheduled = false;
      if (!this.closed) this.collectGarbage();
    });
  }

  /**
   * PUT semantics. `subresource: 'status'` replaces only `.status`; the main endpoint keeps the
   * stored status when the kind has a status subresource. Custom resources require
   * `metadata.resourceVersion`; a stale one is a 409 Conflict.
   */
  update(t: ResourceType, ns: string | undefined, name: string, body: unknown, opts: WriteOptions = {}): Obj {
    const incoming = this.checkBody(t, body);
    const key = storageKey(t);
    const namespace = t.namespaced ? ns : undefined;
    if (incoming.metadata.name !== undefined && incoming.metadata.name !== name) {
      throw new BadRequestError(`the name of the object (${String(incoming.metadata.name)}) does not match the name on the URL (${name})`, { field: 'metadata.name', value: incoming.metadata.name });
    }
    const old = this.store.get(key, namespace, name);
    if (!old) {
      if (t.allowCreateOnUpdate && !opts.subresource) return this.create(t, ns, { ...incoming, metadata: { ...incoming.metadata, name } }, opts);
      throw new NotFoundError(t.resource, t.group, name);
    }
    const rv = incoming.metadata.resourceVersion;
    if (rv === undefined || rv === '') {
      if (!t.allowUnconditionalUpdate) {
        throw new InvalidError(t.kind, t.group, name, [fieldError.invalid('metadata.resourceVersion', '0x0', 'must be specified for an update')]);
      }
    } else if (rv !== old.metadata.resourceVersion) {
      throw new ConflictError(t.resource, t.group, name);
    }
    if (incoming.metadata.uid && incoming.metadata.uid !== old.metadata.uid) {
      throw new ConflictError(t.resource, t.group, name, `Precondition failed: UID in precondition: ${incoming.metadata.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    return this.replace(t, old, incoming, opts);
  }

  /** The common tail of update and patch: merge rules, generation, finalizers, admission. */
  private replace(t: ResourceType, old: Obj, incoming: Obj, opts: WriteOptions): Obj {
    const key = storageKey(t);
    let next: Obj;
    if (opts.subresource === 'status') {
      next = clone(old);
      if (incoming['status'] === undefined) delete next['status'];
      else next['status'] = incoming['status'];
    } else {
      next = incoming;
      if (t.statusSubresource) {
        if (old['status'] === undefined) delete next['status'];
        else next['status'] = old['status'];
      }
      const m = next.metadata;
      m.finalizers = m.finalizers?.length ? m.finalizers : undefined;
      if (old.metadata.deletionTimestamp) {
        const added = (m.finalizers ?? []).filter((f) => !(old.metadata.finalizers ?? []).includes(f));
        if (added.length > 0) {
          throw new InvalidError(t.kind, t.group, old.metadata.name!, [fieldError.forbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`)]);
        }
      }
    }
    // Fields the client cannot change through an update.
    const meta = next.metadata;
    for (const k of ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
      if (old.metadata[k] === undefined) delete meta[k];
      else meta[k] = old.metadata[k] as never;
    }
    if (!meta.finalizers || meta.finalizers.length === 0) delete meta.finalizers;
    this.foldStringData(t, next);
    this.checkMicroTimes(t, next);
    if (t.crd && opts.subresource !== 'status') next = this.admitCustom(t, next, old, opts);
    else if (t.crd && t.schema) {
      const causes = this.schemas.validate(t.schema, next, old);
      if (causes.length > 0) throw new InvalidError(t.kind, t.group, old.metadata.name!, causes);
    }
    const causes = opts.subresource === 'status' ? [] : this.validateBuiltin(t, next, old);
    if (causes.length > 0) throw new InvalidError(t.kind, t.group, old.metadata.name!, causes);
    if (t.generation && specPart(t, next) !== specPart(t, old)) next.metadata.generation = (old.metadata.generation ?? 0) + 1;
    if (key === 'apiextensions.k8s.io/customresourcedefinitions' && opts.subresource !== 'status') next = this.admitCrd(next);
    next.metadata.resourceVersion = old.metadata.resourceVersion!;
    if (opts.dryRun) return this.present(t, next);
    // Unchanged writes are no-ops in the real apiserver: no new resourceVersion, no watch event.
    if (JSON.stringify(next) === JSON.stringify(old)) return this.present(t, old);
    if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length) {
      const gone = this.store.remove(key, next.metadata.namespace, next.metadata.name!)!;
      this.afterRemove(t);
      return this.present(t, gone);
    }
    return this.commit(t, next);
  }

  /** PATCH: merge, JSON, strategic merge (built-ins only) and server-side apply (as a merge). */
  patch(t: ResourceType, ns: string | undefined, name: string, contentType: string, raw: string, opts: WriteOptions = {}): Obj {
    const ct = contentType.split(';')[0]!.trim();
    let body: Json;
    try {
      body = (ct === 'application/apply-patch+yaml' ? parseYaml(raw) : JSON.parse(raw)) as Json;
    } catch (err) {
      throw new BadRequestError(`error decoding patch: ${(err as Error).message}`, { field: 'body', value: raw.slice(0, 200), cause: err });
    }
    const key = storageKey(t);
    const namespace = t.namespaced ? ns : undefined;
    const old = this.store.get(key, namespace, name);
    if (ct === 'application/apply-patch+yaml') {
      if (!opts.fieldManager) throw new BadRequestError('PATCH, fieldManager: Required value: is required for apply patch', { field: 'fieldManager' });
      if (!old) {
        if (opts.subresource) throw new NotFoundError(t.resource, t.group, name);
        return this.create(t, ns, body, opts);
      }
    }
    if (!old) throw new NotFoundError(t.resource, t.group, name);
    const base = this.present(t, old) as unknown as Json;
    let patched: Json;
    switch (ct) {
      case 'application/merge-patch+json':
        patched = mergePatch(base, body);
        break;
      case 'application/json-patch+json':
        patched = jsonPatch(base, body);
        break;
      case 'application/strategic-merge-patch+json':
        if (!t.strategicMerge) throw new UnsupportedMediaTypeError(ct);
        patched = strategicMergePatch(base, body);
        break;
      case 'application/apply-patch+yaml':
        patched = t.strategicMerge ? strategicMergePatch(base, body) : mergePatch(base, body);
        break;
      default:
        throw new UnsupportedMediaTypeError(ct);
    }
    if (!isObj(patched)) throw new BadRequestError('patch produced a non-object', { field: 'body', value: patched });
    const next = patched as Obj;
    if (!isObj(next.metadata)) next.metadata = {};
    // A resourceVersion in the patch body is a precondition; the patched copy carries the old one otherwise.
    const rvInPatch = isObj(body) && isObj(body['metadata']) ? body['metadata']['resourceVersion'] : undefined;
    if (typeof rvInPatch === 'string' && rvInPatch !== old.metadata.resourceVersion) throw new ConflictError(t.resource, t.group, name);
    next.metadata.resourceVersion = old.metadata.resourceVersion!;
    return this.replace(t, old, this.checkBody(t, next), opts);
  }

  /**
   * DELETE: with finalizers (or Foreground) the object gets a deletionTimestamp and stays until
   * they are removed; otherwise it goes at once and its dependents are garbage-collected.
   */
  delete(t: ResourceType, ns: string | undefined, name: string, opts: DeleteOptions = {}): Obj {
    const key = storageKey(t);
    const namespace = t.namespaced ? ns : undefined;
    const old = this.store.get(key, namespace, name);
    if (!old) throw new NotFoundError(t.resource, t.group, name);
    const pre = opts.preconditions ?? {};
    if (pre.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw new ConflictError(t.resource, t.group, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
    }
    if (pre.uid && pre.uid !== old.metadata.uid) {
      throw new ConflictError(t.resource, t.group, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (opts.dryRun) return this.present(t, old);
    // batch/v1 Jobs default to orphaning their pods when the client names no policy (legacy
    // behaviour kept by the real apiserver); kubectl always sends Background.
    const policy = opts.propagationPolicy ?? (key === 'batch/jobs' ? 'Orphan' : 'Background');
    if (policy === 'Orphan') this.orphanDependents(old.metadata.uid!);
    const finalizers = [...(old.metadata.finalizers ?? [])];
    if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
    if (key === '/namespaces') {
      const next = clone(old);
      next.metadata.deletionTimestamp ??= nowIso();
      next['status'] = { phase: 'Terminating' };
      return this.commit(t, next);
    }
    if (finalizers.length > 0) {
      if (old.metadata.deletionTimestamp) return this.present(t, old);
      const next = clone(old);
      next.metadata.deletionTimestamp = nowIso();
      next.metadata.deletionGracePeriodSeconds = 0;
      next.metadata.finalizers = finalizers;
      if (t.generation) next.metadata.generation = (old.metadata.generation ?? 0) + 1;
      return this.commit(t, next);
    }
    const gone = this.store.remove(key, namespace, name)!;
    this.afterRemove(t);
    return this.present(t, gone);
  }

  private afterRemove(t: ResourceType): void {
    const key = storageKey(t);
    if (key === 'apiextensions.k8s.io/customresourcedefinitions') this.syncCrdTypes();
    this.afterWrite();
  }

  private orphanDependents(ownerUid: string): void {
    for (const uid of this.graph.dependentsOf(ownerUid)) {
      const at = this.graph.locate(uid);
      const o = at && this.store.peekOne(at.key, at.namespace, at.name);
      if (!at || !o) continue;
      const next = clone(o);
      next.metadata.ownerReferences = (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
      if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
      this.store.put(at.key, next);
    }
  }

  private typeOfKey(key: string): ResourceType | undefined {
    return this.types.find((t) => storageKey(t) === key);
  }

  /** Objects the garbage collector has looked at since start (tests check a write's cost does not grow with the store). */
  gcExamined = 0;

  /**
   * One garbage-collector pass (the kube-controller-manager's GC, namespace and CRD-cleanup
   * controllers) over the objects the writes since the last pass marked in the owner graph (see
   * owner-graph.ts): deletes objects whose owners are all gone, drops dangling owner references,
   * completes Foreground deletions, empties terminating namespaces and deleted CRDs. What this
   * pass writes is marked for the next one, so a cascade advances one level per pass.
   */
  collectGarbage(): void {
    for (const uid of this.graph.takeDirty()) {
      this.gcExamined++;
      const at = this.graph.locate(uid);
      const t = at && this.typeOfKey(at.key);
      const o = at && this.store.peekOne(at.key, at.namespace, at.name);
      if (!at || !t || !o) continue;
      try {
        this.collectOne(t, at.key, o);
      } catch (err) {
        // One failed object must not stop the others; its next write (or its owner's) marks it again.
        logger({ component: 'dev-cluster-gc' }).error({ err, key: at.key, namespace: at.namespace, name: at.name }, 'garbage collection of an object failed');
      }
    }
  }

  private deleteQuietly(t: ResourceType, o: Obj): void {
    if (o.metadata.deletionTimestamp) return;
    try {
      this.delete(t, o.metadata.namespace, o.metadata.name!, { propagationPolicy: 'Background' });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }

  /** What the collector does about one stored object `o` (the current version) of type `t`. */
  private collectOne(t: ResourceType, key: string, o: Obj): void {
    const refs = o.metadata.ownerReferences ?? [];
    if (refs.length > 0) {
      const live = refs.filter((r) => this.graph.has(r.uid));
      if (live.length === 0) {
        this.deleteQuietly(t, o);
        return;
      }
      if (live.length < refs.length) {
        const next = clone(o);
        next.metadata.ownerReferences = live;
        this.commit(t, next);
        return;
      }
    }
    if (!o.metadata.deletionTimestamp) return;
    const uid = o.metadata.uid!;
    if (o.metadata.finalizers?.includes('foregroundDeletion')) {
      const dependents = this.graph.dependentsOf(uid);
      for (const d of dependents) {
        const at = this.graph.locate(d);
        const dt = at && this.typeOfKey(at.key);
        const obj = at && this.store.peekOne(at.key, at.namespace, at.name);
        if (dt && obj) this.deleteQuietly(dt, obj);
      }
      if (dependents.length === 0) this.dropFinalizer(t, o, 'foregroundDeletion');
    }
    if (key === '/namespaces') {
      const ns = o.metadata.name!;
      let left = 0;
      for (const k of this.store.keys()) {
        const kt = this.typeOfKey(k);
        if (!kt?.namespaced) continue;
        for (const d of this.store.peek(k, ns)) {
          left++;
          this.deleteQuietly(kt, d);
        }
      }
      if (left === 0) {
        const gone = this.store.remove(key, undefined, ns);
        if (gone) this.afterWrite();
      }
    }
    if (key === 'apiextensions.k8s.io/customresourcedefinitions' && o.metadata.finalizers?.includes(CRD_CLEANUP_FINALIZER)) {
      const spec = o['spec'] as { group: string; names: { plural: string } };
      const crKey = storageKey({ group: spec.group, resource: spec.names.plural });
      const crType = this.typeOfKey(crKey);
      const instances = this.store.peek(crKey);
      for (const d of instances) if (crType) this.deleteQuietly(crType, d);
      if (instances.length === 0) this.dropFinalizer(t, o, CRD_CLEANUP_FINALIZER);
    }
  }

  /** Whether `o` (seen earlier in a GC pass) is still the stored version, so writing it loses nothing. */
  private isCurrent(key: string, o: Obj): boolean {
    return this.store.get(key, o.metadata.namespace, o.metadata.name!)?.metadata.resourceVersion === o.metadata.resourceVersion;
  }

  private dropFinalizer(t: ResourceType, o: Obj, finalizer: string): void {
    if (!this.isCurrent(storageKey(t), o)) return;
    const next = clone(o);
    next.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    if (next.metadata.finalizers.length === 0) {
      if (this.store.remove(storageKey(t), o.metadata.namespace, o.metadata.name!)) this.afterRemove(t);
    } else this.commit(t, next);
  }

  /** The pods a Job selects (used by the runner and by `kubectl logs job/…`). */
  podsOfJob(job: Obj): Obj[] {
    const sel = labelSelectorFromObject((job['spec'] as Record<string, unknown> | undefined)?.['selector']);
    return this.store.list('/pods', job.metadata.namespace).filter((p) => sel(p.metadata.labels ?? {}));
  }
}
