// Validation against a structural schema the way the Kubernetes API server does it: types,
// enums, bounds, patterns, list types, unknown fields (as `kubectl --validate=strict` reports
// them), then the CEL rules (`x-kubernetes-validations`, transition rules only given the old
// object). Generic over the schema: the dev API server stand-in calls it with whatever CRD was
// applied; `validateFineTuneJob` adds the checks only possible offline.
import { isDeepStrictEqual } from 'node:util';
import { compileExpression, evaluate, fromCel, isTransitionRule, toCelValue } from './cel.js';
import type { CelRule, SchemaNode } from './openapi.js';
import type { Violation } from './types.js';

export interface ValidateOptions {
  /** The stored object on an update; transition rules (`oldSelf`) run only when it is given. */
  oldObject?: unknown;
  /** Prefix of every reported path. @default '' */
  basePath?: string;
  /** `reject` reports fields the schema does not declare; `ignore` leaves them (the API server prunes). @default 'reject' */
  unknownFields?: 'reject' | 'ignore';
}

/** Marks "no old value here" (distinct from an old value of `undefined`). */
const NO_OLD = Symbol('no old value');
type Old = unknown | typeof NO_OLD;

interface Ctx {
  out: Violation[];
  unknownFields: 'reject' | 'ignore';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(type: NonNullable<SchemaNode['type']>, v: unknown): boolean {
  switch (type) {
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
  }
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const FORMATS: Record<string, (s: string) => boolean> = {
  'date-time': (s) => RFC3339.test(s) && !Number.isNaN(Date.parse(s)),
  date: (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)),
  uri: (s) => URL.canParse(s),
};

const patternCache = new Map<string, RegExp>();
function regex(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    re = new RegExp(pattern, 'u');
    patternCache.set(pattern, re);
  }
  return re;
}

function push(ctx: Ctx, path: string, value: unknown, rule: string, message: string, reason = 'FieldValueInvalid'): void {
  ctx.out.push({ path, value, rule, message, reason });
}

/** Value checks of one node that do not descend (enum, bounds, pattern, format). */
function checkScalar(ctx: Ctx, s: SchemaNode, v: unknown, path: string): void {
  if (s.enum && !s.enum.some((e) => isDeepStrictEqual(e, v))) {
    push(ctx, path, v, 'enum', `must be one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}`, 'FieldValueNotSupported');
  }
  if (typeof v === 'string') {
    const length = [...v].length;
    if (s.minLength !== undefined && length < s.minLength) push(ctx, path, v, 'minLength', `must be at least ${s.minLength} characters`);
    if (s.maxLength !== undefined && length > s.maxLength) push(ctx, path, v, 'maxLength', `must be at most ${s.maxLength} characters (got ${length})`, 'FieldValueTooLong');
    if (s.pattern !== undefined && !regex(s.pattern).test(v)) push(ctx, path, v, 'pattern', `must match ${s.pattern}`);
    const format = s.format === undefined ? undefined : FORMATS[s.format];
    if (format && !format(v)) push(ctx, path, v, 'format', `must be a ${s.format}`);
  }
  if (typeof v === 'number') {
    if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)) {
      push(ctx, path, v, 'minimum', `must be ${s.exclusiveMinimum ? 'greater than' : 'at least'} ${s.minimum}`);
    }
    if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)) {
      push(ctx, path, v, 'maximum', `must be ${s.exclusiveMaximum ? 'less than' : 'at most'} ${s.maximum}`);
    }
    if (s.multipleOf !== undefined && Math.abs(v / s.multipleOf - Math.round(v / s.multipleOf)) > 1e-9) {
      push(ctx, path, v, 'multipleOf', `must be a multiple of ${s.multipleOf}`);
    }
  }
}

/** The sub-schema checks (allOf/anyOf/oneOf/not) a structural schema may carry. */
function checkJunctors(ctx: Ctx, s: SchemaNode, v: unknown, path: string): void {
  const errorsOf = (sub: SchemaNode): number => {
    const inner: Ctx = { out: [], unknownFields: 'ignore' };
    walk(inner, sub, v, NO_OLD, path, false);
    return inner.out.length;
  };
  for (const sub of s.allOf ?? []) walk(ctx, sub, v, NO_OLD, path, false);
  if (s.anyOf && !s.anyOf.some((sub) => errorsOf(sub) === 0)) push(ctx, path, v, 'anyOf', 'must match at least one of the allowed forms');
  if (s.oneOf && s.oneOf.filter((sub) => errorsOf(sub) === 0).length !== 1) push(ctx, path, v, 'oneOf', 'must match exactly one of the allowed forms');
  if (s.not && errorsOf(s.not) === 0) push(ctx, path, v, 'not', 'must not match the excluded form');
}

function listKey(item: unknown, keys: string[]): string {
  return JSON.stringify(keys.map((k) => (isObject(item) ? item[k] : undefined)));
}

function checkArray(ctx: Ctx, s: SchemaNode, v: unknown[], old: Old, path: string): void {
  if (s.minItems !== undefined && v.length < s.minItems) push(ctx, path, v, 'minItems', `must have at least ${s.minItems} items`, 'FieldValueRequired');
  if (s.maxItems !== undefined && v.length > s.maxItems) push(ctx, path, v, 'maxItems', `must have at most ${s.maxItems} items (got ${v.length})`, 'FieldValueTooMany');
  const listType = s['x-kubernetes-list-type'];
  const mapKeys = s['x-kubernetes-list-map-keys'] ?? [];
  const oldByKey = new Map<string, unknown>();
  if (listType === 'map' && Array.isArray(old)) for (const o of old) oldByKey.set(listKey(o, mapKeys), o);
  const seen = new Map<string, number>();
  v.forEach((item, i) => {
    const itemPath = `${path}[${i}]`;
    if (listType === 'set' || listType === 'map') {
      const key = listType === 'map' ? listKey(item, mapKeys) : JSON.stringify(item);
      const first = seen.get(key);
      if (first !== undefined) {
        push(ctx, itemPath, item, `x-kubernetes-list-type=${listType}`, `duplicate of ${path}[${first}]${listType === 'map' ? ` (same ${mapKeys.join(', ')})` : ''}`, 'FieldValueDuplicate');
      } else {
        seen.set(key, i);
      }
    }
    // Only map lists correlate items across updates (by key), so only they give oldSelf to items.
    const oldItem = listType === 'map' && oldByKey.has(listKey(item, mapKeys)) ? oldByKey.get(listKey(item, mapKeys)) : NO_OLD;
    if (s.items) walk(ctx, s.items, item, oldItem, itemPath, false);
  });
}

function checkObject(ctx: Ctx, s: SchemaNode, v: Record<string, unknown>, old: Old, path: string, isRoot: boolean): void {
  for (const key of s.required ?? []) {
    if (v[key] === undefined) push(ctx, join(path, key), undefined, 'required', 'is required', 'FieldValueRequired');
  }
  const count = Object.keys(v).length;
  if (s.minProperties !== undefined && count < s.minProperties) push(ctx, path, v, 'minProperties', `must have at least ${s.minProperties} entries`);
  if (s.maxProperties !== undefined && count > s.maxProperties) push(ctx, path, v, 'maxProperties', `must have at most ${s.maxProperties} entries (got ${count})`, 'FieldValueTooMany');
  const oldObj = isObject(old) ? old : undefined;
  for (const [key, child] of Object.entries(v)) {
    if (child === undefined) continue;
    const childPath = join(path, key);
    const childOld = oldObj !== undefined && key in oldObj ? oldObj[key] : NO_OLD;
    const prop = s.properties?.[key];
    if (prop) {
      // The root's metadata is ObjectMeta, which the API server validates itself.
      if (isRoot && key === 'metadata') continue;
      walk(ctx, prop, child, childOld, childPath, false);
    } else if (typeof s.additionalProperties === 'object') {
      walk(ctx, s.additionalProperties, child, childOld, childPath, false);
    } else if (
      ctx.unknownFields === 'reject' &&
      s.properties !== undefined &&
      s.additionalProperties !== true &&
      !s['x-kubernetes-preserve-unknown-fields'] &&
      // A resource (the root, or an embedded one) always has these, declared or not.
      !((isRoot || s['x-kubernetes-embedded-resource']) && (key === 'apiVersion' || key === 'kind' || key === 'metadata'))
    ) {
      push(ctx, childPath, child, 'unknown-field', `unknown field "${key}"`, 'FieldValueForbidden');
    }
  }
}

/** Resolves a rule's `fieldPath` (`.a.b`, `.a['b']`, `.a[0]`) under the node's path and value. */
function atFieldPath(path: string, value: unknown, fieldPath: string | undefined): { path: string; value: unknown } {
  if (fieldPath === undefined || fieldPath === '') return { path, value };
  let p = path;
  let cur: unknown = value;
  for (const m of fieldPath.matchAll(/\.([A-Za-z0-9_-]+)|\[(\d+)\]|\['([^']*)'\]/g)) {
    const key = m[1] ?? m[3];
    if (key !== undefined) {
      p = join(p, key);
      cur = isObject(cur) ? cur[key] : undefined;
    } else {
      const i = Number(m[2]);
      p = `${p}[${i}]`;
      cur = Array.isArray(cur) ? cur[i] : undefined;
    }
  }
  return { path: p, value: cur };
}

function checkRules(ctx: Ctx, s: SchemaNode, v: unknown, old: Old, path: string): void {
  const rules = s['x-kubernetes-validations'];
  if (!rules || rules.length === 0) return;
  const self = toCelValue(s, v);
  const oldSelf = old === NO_OLD ? undefined : toCelValue(s, old);
  for (const rule of rules) {
    const transition = isTransitionRule(rule);
    if (transition && old === NO_OLD && !rule.optionalOldSelf) continue;
    const bindings: Record<string, unknown> = { self };
    if (transition) bindings['oldSelf'] = oldSelf ?? null;
    const at = atFieldPath(path, v, rule.fieldPath);
    const result = evaluate(compileExpression(rule.rule, path), bindings);
    if ('error' in result) {
      push(ctx, at.path, at.value, rule.rule, `rule evaluation error: ${result.error}`);
    } else if (result.value !== true) {
      push(ctx, at.path, at.value, rule.rule, ruleMessage(rule, bindings), rule.reason ?? 'FieldValueInvalid');
    }
  }
}

/** The failure message: messageExpression when it yields a non-empty string, else message. */
function ruleMessage(rule: CelRule, bindings: Record<string, unknown>): string {
  if (rule.messageExpression !== undefined) {
    const r = evaluate(compileExpression(rule.messageExpression, ''), bindings);
    if ('value' in r && typeof fromCel(r.value) === 'string' && r.value !== '') return r.value as string;
  }
  return rule.message ?? `failed rule: ${rule.rule}`;
}

function walk(ctx: Ctx, s: SchemaNode, v: unknown, old: Old, path: string, isRoot: boolean): void {
  if (v === null) {
    if (!s.nullable && !s['x-kubernetes-preserve-unknown-fields']) push(ctx, path, v, 'nullable', 'must not be null');
    return;
  }
  if (s['x-kubernetes-int-or-string']) {
    if (typeOf(v) !== 'integer' && typeof v !== 'string') {
      push(ctx, path, v, 'type', `must be an integer or a string (got ${typeOf(v)})`, 'FieldValueTypeInvalid');
      return;
    }
  } else if (s.type !== undefined && !typeMatches(s.type, v)) {
    push(ctx, path, v, 'type', `must be ${s.type === 'integer' || s.type === 'array' || s.type === 'object' ? 'an' : 'a'} ${s.type} (got ${typeOf(v)})`, 'FieldValueTypeInvalid');
    return;
  }
  checkScalar(ctx, s, v, path);
  checkJunctors(ctx, s, v, path);
  if (Array.isArray(v)) checkArray(ctx, s, v, old, path);
  else if (isObject(v)) checkObject(ctx, s, v, old, path, isRoot);
  checkRules(ctx, s, v, old, path);
}

/**
 * Every violation of `obj` against `schema` (structural checks, then CEL rules), in document
 * order. Paths read like `spec.ablations[1].name` (prefixed by `basePath`).
 */
export function validateAgainstSchema(schema: SchemaNode, obj: unknown, opts: ValidateOptions = {}): Violation[] {
  const ctx: Ctx = { out: [], unknownFields: opts.unknownFields ?? 'reject' };
  walk(ctx, schema, obj, opts.oldObject === undefined ? NO_OLD : opts.oldObject, opts.basePath ?? '', (opts.basePath ?? '') === '');
  return ctx.out;
}

function defaultNode(s: SchemaNode, v: unknown): unknown {
  if (Array.isArray(v)) return s.items ? v.map((item) => defaultNode(s.items as SchemaNode, item)) : v;
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = { ...v };
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    const missing = out[key] === undefined || (out[key] === null && !prop.nullable);
    if (missing && prop.default !== undefined) out[key] = structuredClone(prop.default);
  }
  for (const [key, child] of Object.entries(out)) {
    const prop = s.properties?.[key] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
    if (prop) out[key] = defaultNode(prop, child);
  }
  return out;
}

/**
 * `obj` with the schema's defaults applied as the API server applies them: top-down, a missing
 * (or null, where not nullable) property takes its default, and defaults inside that default's
 * own schema apply in turn. Returns a copy.
 */
export function applySchemaDefaults<T>(schema: SchemaNode, obj: T): T {
  return defaultNode(schema, structuredClone(obj)) as T;
}
