// Custom-resource admission with the SAME schema engine as `ablate validate` (api/mod.ts):
// defaulting and validation (types, bounds, patterns, CEL rules, transition rules given the old
// object). Pruning of undeclared fields is the apiserver's own step, so it lives here: unknown
// fields are dropped (or refused under `fieldValidation=Strict`), honouring
// `x-kubernetes-preserve-unknown-fields`, `additionalProperties` and embedded resources.
import { applySchemaDefaults, validateAgainstSchema, type SchemaNode, type Violation } from '../../api/mod.js';
import type { StatusCause } from './errors.js';
import type { SchemaEngine } from './registry.js';

type Schema = Record<string, unknown>;
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The apiserver's wording of a field error (`field.Invalid(...).ErrorBody()`). */
function causeOf(v: Violation): StatusCause {
  const reason = v.reason ?? 'FieldValueInvalid';
  const shown = Array.isArray(v.value) ? '"array"' : isObj(v.value) ? '"object"' : JSON.stringify(v.value ?? null);
  let message: string;
  switch (reason) {
    case 'FieldValueRequired':
      message = v.rule === 'required' ? 'Required value' : `Required value: ${v.message}`;
      break;
    case 'FieldValueNotSupported':
      message = `Unsupported value: ${shown}: ${v.message.replace(/^must be one of /, 'supported values: ')}`;
      break;
    case 'FieldValueForbidden':
      message = `Forbidden: ${v.message}`;
      break;
    case 'FieldValueTooLong':
      message = `Too long: ${v.message}`;
      break;
    case 'FieldValueTooMany':
      message = `Too many: ${v.message}`;
      break;
    case 'FieldValueDuplicate':
      message = `Duplicate value: ${shown}`;
      break;
    default:
      message = `Invalid value: ${shown}: ${v.message}`;
  }
  return { field: v.path, message, reason };
}

/** Drops undeclared fields in place of a copy; returns their dotted paths. */
export function pruneUnknown(schema: Schema, value: unknown, path: string, isRoot: boolean, out: string[]): unknown {
  if (schema['x-kubernetes-preserve-unknown-fields'] === true && !schema['properties']) return value;
  if (Array.isArray(value)) {
    const items = schema['items'];
    return isObj(items) ? value.map((v, i) => pruneUnknown(items, v, `${path}[${i}]`, false, out)) : value;
  }
  if (!isObj(value)) return value;
  const props = isObj(schema['properties']) ? (schema['properties'] as Record<string, Schema>) : undefined;
  const additional = schema['additionalProperties'];
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  const result: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const childPath = path ? `${path}.${k}` : k;
    if ((isRoot || embedded) && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) result[k] = v;
    else if (props?.[k]) result[k] = pruneUnknown(props[k], v, childPath, false, out);
    else if (isObj(additional)) result[k] = pruneUnknown(additional, v, childPath, false, out);
    else if (additional === true || schema['x-kubernetes-preserve-unknown-fields'] === true) result[k] = v;
    else out.push(childPath);
  }
  return result;
}

/** The engine the stand-in uses unless a test injects another. */
export function defaultSchemaEngine(): SchemaEngine {
  return {
    applyDefaults: (schema, obj) => applySchemaDefaults(schema as SchemaNode, obj),
    validate: (schema, obj, oldObject) =>
      validateAgainstSchema(schema as SchemaNode, obj, { unknownFields: 'ignore', ...(oldObject !== undefined ? { oldObject } : {}) }).map(causeOf),
    prune: (schema, obj) => {
      const unknown: string[] = [];
      const pruned = pruneUnknown(schema, obj, '', true, unknown) as Record<string, unknown>;
      return { pruned, unknown };
    },
  };
}
