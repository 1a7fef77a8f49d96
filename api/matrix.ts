// Matrix expansion: an ablation with `matrix: {<training field path>: [values…]}` stands for
// one ablation per combination of values. Kept apart from defaults.ts and expand.ts because
// both need it (the default baseline is the first expanded ablation).
import { createHash } from 'node:crypto';
import type { Ablation, TrainingConfig } from './types.js';

/** Kubernetes label values and DNS labels stop at 63 characters. */
export const MAX_EXPANDED_NAME_LENGTH = 63;
/** Hex digits of sha256 appended to a name that had to be shortened. */
const HASH_SUFFIX_LENGTH = 8;

/** The shorter of plain and exponent notation: 2e-5 rather than 0.00002, but 0.1 as is. */
function shortNumber(v: number): string {
  const plain = String(v);
  const exp = v.toExponential().replace('e+', 'e');
  return exp.length < plain.length ? exp : plain;
}

/** `learningRate.value` → `learning-rate-value`; `1e-5` → `1e-5`; `0.1` → `0-1`. */
function nameToken(v: unknown): string {
  const text = typeof v === 'string' ? v : typeof v === 'number' ? shortNumber(v) : JSON.stringify(v);
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * A DNS label made from `parts`: lower-case, runs of other characters become `-`; longer than
 * 63 characters → cut and suffixed with 8 hex digits of the full name's sha256, so two long
 * names that share a prefix stay distinct and the same input always gives the same name.
 */
export function expandedAblationName(parts: unknown[]): string {
  const full = parts.map(nameToken).filter((p) => p !== '').join('-');
  if (full.length <= MAX_EXPANDED_NAME_LENGTH) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, HASH_SUFFIX_LENGTH);
  const head = full.slice(0, MAX_EXPANDED_NAME_LENGTH - HASH_SUFFIX_LENGTH - 1).replace(/-+$/, '');
  return `${head}-${hash}`;
}

/** Sets `value` at a dotted path inside `obj`, creating objects on the way. */
function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur = obj;
  for (const key of keys.slice(0, -1)) {
    const next = cur[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1] ?? path] = structuredClone(value);
}

/** Every combination, first key slowest (key order, then value order). */
function cartesian(entries: Array<[string, unknown[]]>): Array<Array<[string, unknown]>> {
  let combos: Array<Array<[string, unknown]>> = [[]];
  for (const [key, values] of entries) {
    combos = combos.flatMap((c) => values.map((v): Array<[string, unknown]> => [...c, [key, v]]));
  }
  return combos;
}

/**
 * The ablations with every matrix expanded, in order: a matrix ablation is replaced by its
 * combinations, each named `<name>-<key>-<value>-…` with its values set in its `training`
 * overlay (over the ablation's own `training`). Collisions are not checked here (the offline
 * validator reports them).
 */
export function expandAblations(spec: { ablations: Ablation[] }): Ablation[] {
  const out: Ablation[] = [];
  for (const a of spec.ablations) {
    const entries = Object.entries(a.matrix ?? {});
    if (entries.length === 0) {
      const { matrix: _matrix, ...rest } = a;
      out.push(structuredClone(rest));
      continue;
    }
    for (const combo of cartesian(entries)) {
      const training = structuredClone(a.training ?? {}) as Record<string, unknown>;
      for (const [path, value] of combo) setPath(training, path, value);
      out.push({
        name: expandedAblationName([a.name, ...combo.flat()]),
        ...(a.description === undefined ? {} : { description: a.description }),
        training: training as TrainingConfig,
        ...(a.data === undefined ? {} : { data: structuredClone(a.data) }),
      });
    }
  }
  return out;
}

/** Runs per ablation: the product of its matrix's value counts (1 without a matrix). */
export function matrixSize(a: Ablation): number {
  return Object.values(a.matrix ?? {}).reduce((n, values) => n * values.length, 1);
}

/** The name the first ablation expands to first: the default baseline. */
export function firstAblationName(ablations: Ablation[]): string {
  const first = ablations[0];
  if (first === undefined) return '';
  return expandAblations({ ablations: [first] })[0]?.name ?? first.name;
}
