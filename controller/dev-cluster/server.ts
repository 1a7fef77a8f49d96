// `DevCluster`: a development stand-in for the Kubernetes API server, served over plain HTTP on
// loopback, so the controller, `@kubernetes/client-node` and the real kubectl can be exercised
// without a cluster. It is NOT a cluster: no scheduler, no kubelet, no RBAC, no authentication,
// no persistence; pods "run" as local processes through the Job runner when one is attached.
// This file is the HTTP layer: routing, discovery, OpenAPI, list/watch streaming, Table output and
// the error format. The semantics of each verb live in registry.ts.
import { randomUUID } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stringify as toYaml } from 'yaml';
import { logger } from '../../common/mod.js';
import { ApiStatusError, BadRequestError, ExpiredError, MethodNotAllowedError, NotFoundError } from './errors.js';
import { decodeProtobufBody } from './protobuf.js';
import { JobRunner, type JobRunnerOptions } from './job-runner.js';
import { openApiDocument, openApiIndex, typesOfGv } from './openapi.js';
import { Registry, type DeleteOptions, type SchemaEngine, type WriteOptions } from './registry.js';
import { apiVersionOf, resourceList, storageKey, type ResourceType } from './resources.js';
import { defaultSchemaEngine } from './schema.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { Obj, StoreEvent } from './store.js';
import { toTable } from './table.js';

/** @default 0 (a free port) */
export const DEFAULT_DEV_CLUSTER_PORT = 0;
/** @default '127.0.0.1' */
export const DEFAULT_DEV_CLUSTER_HOST = '127.0.0.1';
/** Watch events kept per kind before older resourceVersions answer 410. @default 1000 */
export const DEFAULT_COMPACTION_WINDOW = 1000;
/** How often a watch that asked for bookmarks gets one, in milliseconds. @default 5000 */
export const DEFAULT_BOOKMARK_INTERVAL_MS = 5000;
/** Largest request body accepted, in bytes (the real apiserver's limit is 3 MiB). @default 3145728 */
export const DEV_CLUSTER_MAX_BODY_BYTES = 3 * 1024 * 1024;
/** The Kubernetes version reported by `/version`. */
export const SERVED_KUBERNETES_VERSION = { major: '1', minor: '35', gitVersion: 'v1.35.0-ablate-dev-cluster' };

export interface DevClusterOptions {
  /** TCP port; 0 picks a free one. @default 0 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Watch events kept per kind; older resourceVersions get 410 Expired. @default 1000 */
  compactionWindow?: number;
  /** @default 5000 */
  bookmarkIntervalMs?: number;
  /** Attach a Job runner (pods run as local processes). @default undefined (Jobs stay pending) */
  jobRunner?: JobRunnerOptions;
  /** Schema engine for custom resources. @default the one `ablate validate` uses (api/mod.ts) */
  schemaEngine?: SchemaEngine;
}

interface Route {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

const JSON_TYPE = 'application/json';

function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(req.headers.accept ?? '');
}

function send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** A create/update body: JSON, or the protobuf kubectl's typed commands send. */
async function readObjectBody(req: IncomingMessage, what: string): Promise<unknown> {
  const contentType = req.headers['content-type'] ?? '';
  if (contentType.startsWith('application/vnd.kubernetes.protobuf')) return decodeProtobufBody(await readRawBody(req), contentType);
  return parseJson((await readRawBody(req)).toString('utf8'), what);
}

async function readBody(req: IncomingMessage): Promise<string> {
  return (await readRawBody(req)).toString('utf8');
}

function readRawBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > DEV_CLUSTER_MAX_BODY_BYTES) {
        reject(new BadRequestError(`request entity too large: ${size} bytes`, { field: 'body', value: size }));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJson(text: string, what: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`${what}: couldn't decode JSON: ${(err as Error).message}`, { field: 'body', value: text.slice(0, 200), cause: err });
  }
}

export class DevCluster {
  readonly registry: Registry;
  /** Present when created with `jobRunner` options. */
  readonly jobRunner: JobRunner | undefined;
  private readonly server: Server;
  private readonly openWatches = new Set<() => void>();
  private readonly bookmarkIntervalMs: number;
  private closing: Promise<void> | undefined;
  private readonly log = logger({ component: 'dev-cluster' });
  url = '';

  private constructor(opts: DevClusterOptions) {
    this.registry = new Registry(opts.compactionWindow ?? DEFAULT_COMPACTION_WINDOW, opts.schemaEngine ?? defaultSchemaEngine());
    this.bookmarkIntervalMs = opts.bookmarkIntervalMs ?? DEFAULT_BOOKMARK_INTERVAL_MS;
    this.jobRunner = opts.jobRunner ? new JobRunner(this.registry, opts.jobRunner) : undefined;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => this.fail(res, err));
    });
  }

  /** Starts serving; resolves once the port is bound (the kubeconfig is then valid). */
  static async create(opts: DevClusterOptions = {}): Promise<DevCluster> {
    const c = new DevCluster(opts);
    await new Promise<void>((resolve, reject) => {
      c.server.once('error', reject);
      c.server.listen(opts.port ?? DEFAULT_DEV_CLUSTER_PORT, opts.host ?? DEFAULT_DEV_CLUSTER_HOST, () => resolve());
    });
    const addr = c.server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    c.url = `http://${host}:${addr.port}`;
    c.jobRunner?.start();
    return c;
  }

  /** A kubeconfig (as a plain object) pointing at this server; a token user, namespace default. */
  kubeconfig(): Record<string, unknown> {
    return {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'ablate-dev', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'ablate-dev', user: { token: 'ablate-dev-cluster' } }],
      contexts: [{ name: 'ablate-dev', context: { cluster: 'ablate-dev', user: 'ablate-dev', namespace: 'default' } }],
      'current-context': 'ablate-dev',
      preferences: {},
    };
  }

  /** Writes the kubeconfig atomically (temp file + rename), so a watcher never reads half a file. */
  writeKubeconfig(path: string): void {
    const tmp = `${path}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
    writeFileSync(tmp, toYaml(this.kubeconfig()), { mode: 0o600 });
    renameSync(tmp, path);
  }

  /**
   * Creates one object as a client would (type from its apiVersion/kind; namespace from its
   * metadata, else `default`), e.g. to preload a CRD; an existing object of that name is replaced.
   */
  apply(obj: Record<string, unknown>): Record<string, unknown> {
    const t = this.registry.typeForKind(String(obj['apiVersion']), String(obj['kind']));
    if (!t) throw new BadRequestError(`no resource type serves apiVersion ${String(obj['apiVersion'])} kind ${String(obj['kind'])}; apply its CRD first`, { field: 'kind', value: obj['kind'] });
    const meta = (obj['metadata'] ?? {}) as { name?: string; namespace?: string };
    const ns = t.namespaced ? (meta.namespace ?? 'default') : undefined;
    const existing = meta.name ? this.registry.store.get(storageKey(t), ns, meta.name) : undefined;
    if (!existing) return this.registry.create(t, ns, obj);
    return this.registry.update(t, ns, meta.name!, { ...obj, metadata: { ...meta, resourceVersion: existing.metadata.resourceVersion } });
  }

  /** Drops all watch history and expires open watches with an in-stream 410 (see Store.compact). */
  compact(): void {
    this.registry.store.compact();
  }

  /** Stops the Job runner (killing its processes), ends watches and the server. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.jobRunner?.close();
      for (const end of [...this.openWatches]) end();
      this.registry.close();
      this.server.closeAllConnections();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
    })();
    return this.closing;
  }

  // ---- routing -------------------------------------------------------------------------------

  private fail(res: ServerResponse, err: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof ApiStatusError) {
      send(res, err.code, err.toStatus());
      return;
    }
    this.log.error({ err }, 'dev-cluster internal error');
    send(res, 500, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `Internal error occurred: ${(err as Error)?.message ?? String(err)}`, reason: 'InternalError', code: 500 });
  }

  private groups(): Map<string, ResourceType[]> {
    const m = new Map<string, ResourceType[]>();
    for (const t of this.registry.allTypes()) if (t.group) m.set(t.group, [...(m.get(t.group) ?? []), t]);
    return m;
  }

  private apiGroup(name: string, types: ResourceType[]): Record<string, unknown> {
    const versions = [...new Set(types.map((t) => t.version))].map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
    return { name, versions, preferredVersion: versions[0] };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dev-cluster');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const segs = path.split('/').filter((s) => s !== '');
    if (method === 'GET') {
      if (path === '/version') return send(res, 200, { ...SERVED_KUBERNETES_VERSION, goVersion: 'n/a', compiler: 'node', platform: `${process.platform}/${process.arch}`, buildDate: '2026-01-01T00:00:00Z', gitCommit: 'dev-cluster', gitTreeState: 'clean' });
      if (path === '/healthz' || path === '/readyz' || path === '/livez') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return void res.end('ok');
      }
      if (path === '/api') return send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: new URL(this.url).host }] });
      if (path === '/apis') {
        return send(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [...this.groups()].map(([g, ts]) => this.apiGroup(g, ts)) });
      }
      if (path === '/api/v1') return send(res, 200, resourceList('v1', this.registry.allTypes().filter((t) => t.group === '')));
      if (segs[0] === 'apis' && segs.length === 2) {
        const ts = this.groups().get(segs[1]!);
        if (!ts) throw new NotFoundError('groups', '', segs[1]!);
        return send(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...this.apiGroup(segs[1]!, ts) });
      }
      if (segs[0] === 'apis' && segs.length === 3) {
        const ts = this.registry.allTypes().filter((t) => t.group === segs[1] && t.version === segs[2]);
        if (ts.length === 0) throw new NotFoundError('groupversions', segs[1]!, segs[2]!);
        return send(res, 200, resourceList(`${segs[1]}/${segs[2]}`, ts));
      }
      if (path === '/openapi/v3') return send(res, 200, openApiIndex(this.registry.allTypes()));
      if (segs[0] === 'openapi' && segs[1] === 'v3') {
        const ts = typesOfGv(this.registry.allTypes(), segs.slice(2).join('/'));
        if (ts.length === 0) throw new NotFoundError('openapi', '', segs.slice(2).join('/'));
        return send(res, 200, openApiDocument(ts));
      }
    }
    const route = this.route(segs);
    if (!route) throw new NotFoundError('paths', '', path);
    await this.serveResource(req, res, method, route, url.searchParams);
  }

  /** `/api/v1/...` or `/apis/<g>/<v>/...` → type, namespace, name, subresource. */
  private route(segs: string[]): Route | undefined {
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api' && segs.length >= 3) {
      group = '';
      version = segs[1]!;
      rest = segs.slice(2);
    } else if (segs[0] === 'apis' && segs.length >= 4) {
      group = segs[1]!;
      version = segs[2]!;
      rest = segs.slice(3);
    } else return undefined;
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const inner = this.registry.typeFor(group, version, rest[2]!);
      if (inner?.namespaced) {
        namespace = rest[1];
        rest = rest.slice(2);
      }
    }
    const type = this.registry.typeFor(group, version, rest[0]!);
    if (!type) return undefined;
    if (!type.namespaced && namespace) return undefined;
    return { type, namespace, name: rest[1], subresource: rest[2] };
  }

  private writeOptions(q: URLSearchParams, subresource: string | undefined): WriteOptions {
    if (subresource !== undefined && subresource !== 'status') throw new BadRequestError(`subresource ${subresource} is not writable`, { field: 'subresource', value: subresource });
    const fv = q.get('fieldValidation');
    if (fv !== null && fv !== 'Strict' && fv !== 'Warn' && fv !== 'Ignore') {
      throw new BadRequestError(`fieldValidation: Unsupported value: "${fv}": supported values: "Ignore", "Strict", "Warn"`, { field: 'fieldValidation', value: fv });
    }
    const dry = q.get('dryRun');
    if (dry !== null && dry !== 'All') throw new BadRequestError(`dryRun: Unsupported value: "${dry}": supported values: "All"`, { field: 'dryRun', value: dry });
    return {
      dryRun: dry === 'All',
      ...(subresource === 'status' ? { subresource: 'status' as const } : {}),
      ...(fv ? { fieldValidation: fv } : {}),
      ...(q.get('fieldManager') ? { fieldManager: q.get('fieldManager')! } : {}),
      warnings: [],
    };
  }

  private sendWritten(res: ServerResponse, code: number, obj: Obj, opts: WriteOptions): void {
    const headers: Record<string, string> = {};
    if (opts.warnings?.length) headers['Warning'] = opts.warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ');
    send(res, code, obj, headers);
  }

  private async serveResource(req: IncomingMessage, res: ServerResponse, method: string, r: Route, q: URLSearchParams): Promise<void> {
    const reg = this.registry;
    const t = r.type;
    if (r.subresource === 'log') {
      if (method !== 'GET' || t.resource !== 'pods' || !r.name) throw new MethodNotAllowedError(method, req.url ?? '');
      return this.serveLog(res, r, q);
    }
    if (r.subresource !== undefined && !(r.subresource === 'status' && t.statusSubresource)) throw new NotFoundError(`${t.resource}/${r.subresource}`, t.group, r.name ?? '');
    switch (method) {
      case 'GET': {
        if (r.name) {
          const obj = reg.get(t, r.namespace, r.name);
          if (wantsTable(req)) return send(res, 200, toTable(t, [obj], obj.metadata.resourceVersion!, includeObject(q)));
          return send(res, 200, obj);
        }
        if (q.get('watch') === 'true' || q.get('watch') === '1') return this.serveWatch(req, res, r, q);
        const rvMatch = q.get('resourceVersionMatch');
        const rv = q.get('resourceVersion');
        if (rvMatch === 'Exact' && rv && Number(rv) < reg.store.oldestUsableRv(storageKey(t))) throw new ExpiredError(rv);
        const list = reg.list(t, r.namespace, {
          labelSelector: q.get('labelSelector') ?? '',
          fieldSelector: q.get('fieldSelector') ?? '',
          limit: Number(q.get('limit') ?? 0),
          continue: q.get('continue') ?? '',
        });
        if (wantsTable(req)) {
          const table = toTable(t, list.items, list.resourceVersion, includeObject(q));
          (table['metadata'] as Record<string, unknown>)['continue'] = list.continue;
          return send(res, 200, table);
        }
        // Real list items of built-in kinds carry no apiVersion/kind; custom resources do.
        const items = t.crd ? list.items : list.items.map(({ apiVersion: _a, kind: _k, ...o }) => o);
        return send(res, 200, {
          kind: `${t.kind}List`,
          apiVersion: apiVersionOf(t),
          metadata: { resourceVersion: list.resourceVersion, ...(list.continue ? { continue: list.continue, remainingItemCount: list.remainingItemCount } : {}) },
          items,
        });
      }
      case 'POST': {
        if (r.name) throw new MethodNotAllowedError(method, req.url ?? '');
        const opts = this.writeOptions(q, undefined);
        const obj = reg.create(t, r.namespace, await readObjectBody(req, `${t.kind} create`), opts);
        return this.sendWritten(res, 201, obj, opts);
      }
      case 'PUT': {
        if (!r.name) throw new MethodNotAllowedError(method, req.url ?? '');
        const opts = this.writeOptions(q, r.subresource);
        const obj = reg.update(t, r.namespace, r.name, await readObjectBody(req, `${t.kind} update`), opts);
        return this.sendWritten(res, 200, obj, opts);
      }
      case 'PATCH': {
        if (!r.name) throw new MethodNotAllowedError(method, req.url ?? '');
        const opts = this.writeOptions(q, r.subresource);
        const existed = reg.store.get(storageKey(t), t.namespaced ? r.namespace : undefined, r.name) !== undefined;
        const obj = reg.patch(t, r.namespace, r.name, req.headers['content-type'] ?? '', await readBody(req), opts);
        return this.sendWritten(res, existed ? 200 : 201, obj, opts);
      }
      case 'DELETE': {
        const body = parseJson(await readBody(req), 'DeleteOptions') as { propagationPolicy?: string; orphanDependents?: boolean; preconditions?: DeleteOptions['preconditions']; dryRun?: string[] } | undefined;
        const policyRaw = q.get('propagationPolicy') ?? body?.propagationPolicy ?? (body?.orphanDependents === true || q.get('orphanDependents') === 'true' ? 'Orphan' : undefined);
        if (policyRaw !== undefined && policyRaw !== 'Background' && policyRaw !== 'Foreground' && policyRaw !== 'Orphan') {
          throw new BadRequestError(`propagationPolicy: Unsupported value: "${policyRaw}": supported values: "Background", "Foreground", "Orphan"`, { field: 'propagationPolicy', value: policyRaw });
        }
        const opts: DeleteOptions = {
          dryRun: q.get('dryRun') === 'All' || (body?.dryRun ?? []).includes('All'),
          ...(policyRaw ? { propagationPolicy: policyRaw } : {}),
          ...(body?.preconditions ? { preconditions: body.preconditions } : {}),
        };
        if (r.name) return send(res, 200, reg.delete(t, r.namespace, r.name, opts));
        const list = reg.list(t, r.namespace, { labelSelector: q.get('labelSelector') ?? '', fieldSelector: q.get('fieldSelector') ?? '' });
        const deleted = list.items.map((o) => reg.delete(t, o.metadata.namespace, o.metadata.name!, opts));
        return send(res, 200, { kind: `${t.kind}List`, apiVersion: apiVersionOf(t), metadata: { resourceVersion: String(reg.store.currentRv) }, items: deleted });
      }
      default:
        throw new MethodNotAllowedError(method, req.url ?? '');
    }
  }

  private serveLog(res: ServerResponse, r: Route, q: URLSearchParams): void {
    this.registry.get(r.type, r.namespace, r.name!);
    let text = this.jobRunner?.logs(r.namespace ?? '', r.name!) ?? '';
    const tail = q.get('tailLines');
    if (tail !== null) {
      const lines = text.split('\n');
      const hasTrailing = lines[lines.length - 1] === '';
      const body = hasTrailing ? lines.slice(0, -1) : lines;
      text = body.slice(Math.max(0, body.length - Number(tail))).join('\n') + (hasTrailing && body.length ? '\n' : '');
    }
    const limit = q.get('limitBytes');
    if (limit !== null) text = Buffer.from(text).subarray(0, Number(limit)).toString('utf8');
    if (q.get('follow') === 'true' && this.jobRunner?.isRunning(r.namespace ?? '', r.name!)) {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write(text);
      const stop = this.jobRunner.followLogs(r.namespace ?? '', r.name!, (chunk) => res.write(chunk), () => res.end());
      res.on('close', stop);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  /**
   * A watch: newline-delimited `{type, object}` events. Starts with synthetic ADDED events for
   * the current state when no resourceVersion (or "0") is given, or replays history after the
   * given one; a resourceVersion older than the kept history yields an in-stream ERROR 410
   * (what the real watch cache answers). Objects leaving or entering a selector arrive as
   * DELETED / ADDED. Bookmarks only when asked for.
   */
  private serveWatch(req: IncomingMessage, res: ServerResponse, r: Route, q: URLSearchParams): void {
    const t = r.type;
    const key = storageKey(t);
    const labels = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'));
    const ns = t.namespaced ? r.namespace : undefined;
    const matches = (o: Obj | undefined): boolean => o !== undefined && (ns === undefined || o.metadata.namespace === ns) && labels(o.metadata.labels ?? {}) && fields(o);
    const asTable = wantsTable(req);
    const incl = includeObject(q);
    res.writeHead(200, { 'Content-Type': JSON_TYPE, 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const write = (type: string, obj: Obj | Record<string, unknown>): void => {
      if (res.writableEnded || res.destroyed) return;
      const object = asTable && type !== 'ERROR' && type !== 'BOOKMARK' ? toTable(t, [obj as Obj], String((obj as Obj).metadata.resourceVersion), incl) : obj;
      res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const bookmark = (annotations?: Record<string, string>): void =>
      write('BOOKMARK', { kind: t.kind, apiVersion: apiVersionOf(t), metadata: { resourceVersion: String(this.registry.store.currentRv), ...(annotations ? { annotations } : {}) } });
    const deliver = (e: StoreEvent): void => {
      const obj = this.registry.present(t, e.object);
      const now = matches(obj) && e.type !== 'DELETED';
      const before = e.previous !== undefined && matches(this.registry.present(t, e.previous));
      if (e.type === 'DELETED') {
        if (before) write('DELETED', obj);
      } else if (now && before) write('MODIFIED', obj);
      else if (now) write('ADDED', obj);
      else if (before) write('DELETED', obj);
    };
    let unsubscribe = (): void => {};
    const timers: NodeJS.Timeout[] = [];
    const end = (): void => {
      unsubscribe();
      for (const tm of timers) clearTimeout(tm);
      this.openWatches.delete(end);
      if (!res.writableEnded) res.end();
    };
    this.openWatches.add(end);
    // The response closes when the client goes away (the request's own 'close' only means its body was read).
    res.on('close', end);
    const expire = (rv: string): void => {
      write('ERROR', new ExpiredError(rv).toStatus());
      end();
    };
    const rv = q.get('resourceVersion') ?? '';
    const initial = q.get('sendInitialEvents') === 'true';
    if (rv === '' || rv === '0' || initial) {
      for (const o of this.registry.store.list(key, ns).map((s) => this.registry.present(t, s))) if (matches(o)) write('ADDED', o);
      if (initial) bookmark({ 'k8s.io/initial-events-end': 'true' });
    } else {
      const n = Number(rv);
      if (!Number.isInteger(n) || n < 0) throw new BadRequestError(`invalid resource version: ${rv}`, { field: 'resourceVersion', value: rv });
      const events = this.registry.store.eventsSince(key, n);
      if (events === 'expired') return expire(rv);
      for (const e of events) deliver(e);
    }
    unsubscribe = this.registry.store.subscribe(key, deliver, () => expire(rv || String(this.registry.store.currentRv)));
    if (q.get('allowWatchBookmarks') === 'true') {
      const tick = (): void => {
        bookmark();
        timers[0] = setTimeout(tick, this.bookmarkIntervalMs);
      };
      timers[0] = setTimeout(tick, this.bookmarkIntervalMs);
    }
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    if (timeout > 0) timers[1] = setTimeout(end, timeout * 1000);
  }
}

function includeObject(q: URLSearchParams): 'None' | 'Metadata' | 'Object' {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}
