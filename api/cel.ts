// CEL as the Kubernetes API server runs it for `x-kubernetes-validations`, on @bufbuild/cel:
// the standard library, the strings extension, and the Kubernetes list extras the FineTuneJob
// rules use (`sum`). Values are converted by their schema: `integer` fields become CEL ints
// (bigint), `number` fields doubles, objects maps — so `size(x) * size(y) <= 256` and
// `self.k <= self.data.numOptions` type the way they do on a cluster.
import { celEnv, celMethod, CelScalar, isCelError, listType, parse, plan, type CelEnv, type CelResult } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { AblateError } from '../common/mod.js';
import type { CelRule, SchemaNode } from './openapi.js';

/** A rule or message expression that does not compile (syntax, or a function CEL here lacks). */
export class CelCompileError extends AblateError {
  constructor(
    readonly path: string,
    readonly expression: string,
    readonly reason: string,
  ) {
    super(`${path === '' ? '<root>' : path}: CEL expression ${JSON.stringify(expression)} does not compile: ${reason}`);
  }
}

/** Kubernetes' list library: `[1, 2].sum()` (ints stay ints, doubles stay doubles). */
const sum = celMethod('sum', listType(CelScalar.DYN), [], CelScalar.DYN, function () {
  let total: bigint | number | undefined;
  for (const v of this) {
    if (typeof v === 'bigint') total = (total === undefined ? 0n : BigInt(total)) + v;
    else if (typeof v === 'number') total = (total === undefined ? 0 : Number(total)) + v;
    else throw new Error(`sum() needs numbers, got ${typeof v}`);
  }
  return total ?? 0n;
});

const env: CelEnv = celEnv({ funcs: [...strings, sum] });

type Planned = (ctx: Record<string, unknown>) => CelResult;
const cache = new Map<string, Planned>();

interface ExprLike {
  exprKind: { case: string | undefined; value?: unknown };
}

/** Calls whose function CEL here does not know; operators and macros are always there. */
function unknownFunctions(e: ExprLike, out: Set<string>): Set<string> {
  const { case: kind, value } = e.exprKind;
  const v = value as Record<string, unknown> | undefined;
  const visit = (x: unknown): void => {
    if (x !== undefined && x !== null) unknownFunctions(x as ExprLike, out);
  };
  switch (kind) {
    case 'callExpr': {
      const fn = v?.['function'] as string;
      if (!/^[_@!-]/.test(fn) && env.funcs.find(fn) === undefined) out.add(fn);
      visit(v?.['target']);
      for (const a of (v?.['args'] as unknown[]) ?? []) visit(a);
      break;
    }
    case 'selectExpr':
      visit(v?.['operand']);
      break;
    case 'listExpr':
      for (const el of (v?.['elements'] as unknown[]) ?? []) visit(el);
      break;
    case 'structExpr':
      for (const entry of (v?.['entries'] as Array<Record<string, unknown>>) ?? []) {
        visit(entry['mapKey']);
        visit(entry['value']);
      }
      break;
    case 'comprehensionExpr':
      for (const k of ['iterRange', 'accuInit', 'loopCondition', 'loopStep', 'result']) visit(v?.[k]);
      break;
    default:
      break;
  }
  return out;
}

/** Parses and plans `expression` once (cached); throws CelCompileError naming `path`. */
export function compileExpression(expression: string, path: string): Planned {
  const hit = cache.get(expression);
  if (hit) return hit;
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(expression);
  } catch (err) {
    throw new CelCompileError(path, expression, err instanceof Error ? err.message : String(err));
  }
  const missing = [...unknownFunctions(parsed.expr as unknown as ExprLike, new Set())];
  if (missing.length > 0) throw new CelCompileError(path, expression, `unknown function ${missing.join(', ')}`);
  const planned = plan(env, parsed) as unknown as Planned;
  cache.set(expression, planned);
  return planned;
}

/** Whether a rule compares with the old object (a transition rule, checked on update only). */
export function isTransitionRule(rule: CelRule): boolean {
  return /\boldSelf\b/.test(rule.rule);
}

/** Evaluates a compiled expression; CEL errors become `{error}`. */
export function evaluate(planned: Planned, bindings: Record<string, unknown>): { value: unknown } | { error: string } {
  try {
    const r = planned(bindings);
    return isCelError(r) ? { error: r.message } : { value: r };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * A JSON value as CEL sees it under `schema`: integers as bigint, everything else as is.
 * Where the schema says nothing (preserve-unknown-fields), integral numbers become ints, as
 * the API server's JSON decoding makes them.
 */
export function toCelValue(schema: SchemaNode | undefined, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'number') {
    if (schema?.type === 'integer' || (schema?.type === undefined && Number.isInteger(value))) return BigInt(value);
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => toCelValue(schema?.items, v));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const child = schema?.properties?.[k] ?? (typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      out[k] = toCelValue(child, v);
    }
    return out;
  }
  return value;
}

/** A CEL result as JSON-friendly JS (bigint → number), for messages. */
export function fromCel(v: unknown): unknown {
  return typeof v === 'bigint' ? Number(v) : v;
}

/**
 * Compiles every rule and message expression in `schema`; throws CelCompileError naming the
 * first that does not compile (its schema path and expression).
 */
export function compileCelRules(schema: SchemaNode, path = ''): number {
  let count = 0;
  for (const rule of schema['x-kubernetes-validations'] ?? []) {
    compileExpression(rule.rule, path);
    if (rule.messageExpression !== undefined) compileExpression(rule.messageExpression, path);
    count++;
  }
  const join = (k: string): string => (path === '' ? k : `${path}.${k}`);
  for (const [k, child] of Object.entries(schema.properties ?? {})) count += compileCelRules(child, join(k));
  if (schema.items) count += compileCelRules(schema.items, `${path}[]`);
  if (typeof schema.additionalProperties === 'object') count += compileCelRules(schema.additionalProperties, join('*'));
  for (const sub of [...(schema.allOf ?? []), ...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) count += compileCelRules(sub, path);
  return count;
}
