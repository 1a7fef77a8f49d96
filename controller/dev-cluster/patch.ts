// The three patch formats the apiserver accepts, as pure functions over JSON values:
// JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch (built-in kinds
// only). Strategic merge knows the list keys of the fields kubectl touches (containers and env by
// name, volumeMounts by mountPath, ownerReferences by uid, conditions by type …) and the
// directives kubectl emits (`$patch`, `$setElementOrder/…`, `$retainKeys`,
// `$deleteFromPrimitiveList/…`); any other list is replaced, as for a field without a patch
// strategy.
import { BadRequestError } from './errors.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

/** RFC 7386: objects merge recursively, `null` deletes, anything else (lists too) replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

function unescapePointer(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new BadRequestError(`json patch: path "${path}" must start with "/"`, { field: 'path', value: path });
  return path.slice(1).split('/').map(unescapePointer);
}

function locate(doc: Json, segs: string[], path: string): { parent: JsonObject | Json[]; key: string } {
  let cur: Json = doc;
  for (const seg of segs.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(cur) ? cur[Number(seg)] : isObject(cur) ? cur[seg] : undefined;
    if (next === undefined) throw new BadRequestError(`json patch: path "${path}" does not exist`, { field: 'path', value: path });
    cur = next;
  }
  if (!Array.isArray(cur) && !isObject(cur)) throw new BadRequestError(`json patch: path "${path}" does not name a container`, { field: 'path', value: path });
  return { parent: cur, key: segs[segs.length - 1] ?? '' };
}

function getAt(doc: Json, path: string): Json {
  let cur: Json | undefined = doc;
  for (const seg of pointer(path)) {
    cur = Array.isArray(cur) ? cur[Number(seg)] : isObject(cur) ? cur[seg] : undefined;
    if (cur === undefined) throw new BadRequestError(`json patch: path "${path}" does not exist`, { field: 'path', value: path });
  }
  return cur;
}

function removeAt(doc: Json, path: string): Json {
  const { parent, key } = locate(doc, pointer(path), path);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= parent.length) throw new BadRequestError(`json patch: index ${key} out of range at "${path}"`, { field: 'path', value: path });
    return parent.splice(i, 1)[0]!;
  }
  if (!(key in parent)) throw new BadRequestError(`json patch: path "${path}" does not exist`, { field: 'path', value: path });
  const old = parent[key]!;
  delete parent[key];
  return old;
}

function addAt(doc: Json, path: string, value: Json, replace: boolean): Json {
  const segs = pointer(path);
  if (segs.length === 0) return clone(value);
  const { parent, key } = locate(doc, segs, path);
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : Number(key);
    if (!Number.isInteger(i) || i < 0 || i > parent.length - (replace ? 1 : 0)) {
      throw new BadRequestError(`json patch: index ${key} out of range at "${path}"`, { field: 'path', value: path });
    }
    parent.splice(i, replace ? 1 : 0, clone(value));
  } else {
    if (replace && !(key in parent)) throw new BadRequestError(`json patch: replace of missing path "${path}"`, { field: 'path', value: path });
    parent[key] = clone(value);
  }
  return doc;
}

/** RFC 6902 JSON patch: add, remove, replace, move, copy, test. */
export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new BadRequestError('json patch: body must be a JSON array of operations', { field: 'body', value: ops });
  let doc = clone(target);
  for (const raw of ops) {
    if (!isObject(raw)) throw new BadRequestError('json patch: each operation must be an object', { field: 'body', value: raw });
    const op = raw['op'];
    const path = typeof raw['path'] === 'string' ? raw['path'] : '';
    const from = typeof raw['from'] === 'string' ? raw['from'] : '';
    switch (op) {
      case 'add':
        doc = addAt(doc, path, raw['value'] ?? null, false);
        break;
      case 'replace':
        doc = addAt(doc, path, raw['value'] ?? null, true);
        break;
      case 'remove':
        removeAt(doc, path);
        break;
      case 'move': {
        const v = removeAt(doc, from);
        doc = addAt(doc, path, v, false);
        break;
      }
      case 'copy':
        doc = addAt(doc, path, getAt(doc, from), false);
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(raw['value'] ?? null)) {
          throw new BadRequestError(`json patch: test failed at "${path}"`, { field: 'path', value: path });
        }
        break;
      default:
        throw new BadRequestError(`json patch: unknown op ${JSON.stringify(op)}`, { field: 'op', value: op });
    }
  }
  return doc;
}

/**
 * Merge keys of the built-in list fields, by field name (the same name means the same merge key
 * across the kinds served here). `''` marks a list of scalars merged as a set (finalizers).
 */
export const STRATEGIC_MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  ownerReferences: 'uid',
  conditions: 'type',
  hostAliases: 'ip',
  finalizers: '',
};

function smpList(field: string, target: Json[], patch: Json[], order: Json[] | undefined): Json[] {
  const key = STRATEGIC_MERGE_KEYS[field];
  if (key === undefined) return clone(patch).filter((p) => !(isObject(p) && p['$patch'] !== undefined));
  if (key === '') {
    const out = clone(target);
    for (const p of patch) if (!out.some((o) => JSON.stringify(o) === JSON.stringify(p))) out.push(clone(p));
    return out;
  }
  if (patch.some((p) => isObject(p) && p['$patch'] === 'replace')) {
    return clone(patch).filter((p) => !(isObject(p) && p['$patch'] === 'replace'));
  }
  const out = clone(target);
  for (const p of patch) {
    if (!isObject(p)) continue;
    const idx = out.findIndex((o) => isObject(o) && o[key] === p[key]);
    if (p['$patch'] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMergePatch(out[idx]!, p);
    else out.push(strategicMergePatch({}, p));
  }
  if (order) {
    const rank = (o: Json): number => {
      const i = order.findIndex((e) => isObject(e) && isObject(o) && e[key] === o[key]);
      return i < 0 ? order.length : i;
    };
    out.sort((a, b) => rank(a) - rank(b));
  }
  return out;
}

/** Strategic merge patch for built-in kinds (see the module comment for what it covers). */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  if (patch['$patch'] === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return clone(rest);
  }
  if (patch['$patch'] === 'delete') return null;
  let out: JsonObject = isObject(target) ? clone(target) : {};
  const retain = patch['$retainKeys'];
  if (Array.isArray(retain)) {
    const keep = new Set(retain.map(String));
    out = Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k)));
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$retainKeys' || k === '$patch' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(v)) out[field] = cur.filter((x) => !v.some((d) => JSON.stringify(d) === JSON.stringify(x)));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = out[k];
    if (Array.isArray(v)) {
      const order = patch[`$setElementOrder/${k}`];
      out[k] = smpList(k, Array.isArray(cur) ? cur : [], v, Array.isArray(order) ? order : undefined);
    } else if (isObject(v)) {
      const merged = strategicMergePatch(cur ?? null, v);
      if (merged === null) delete out[k];
      else out[k] = merged;
    } else out[k] = clone(v);
  }
  return out;
}
