// Label and field selectors with the apiserver's grammar: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
// `a notin (x)`, `a` (exists), `!a` (does not exist), comma-separated and ANDed. Field selectors
// support what clients send (`metadata.name`, `metadata.namespace`, plus any dotted path with
// `=`/`==`/`!=`, which covers `status.phase` and `involvedObject.*`).
import { BadRequestError } from './errors.js';

type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' };

export type Selector = (labels: Record<string, string>) => boolean;

/** Splits at commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

function parseLabelTerm(term: string, whole: string): Requirement {
  let m = /^([A-Za-z0-9._/-]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
  if (m) {
    const values = m[3]!.split(',').map((v) => v.trim()).filter((v) => v !== '');
    return { key: m[1]!, op: m[2] as 'in' | 'notin', values };
  }
  m = /^([A-Za-z0-9._/-]+)\s*(!=|==|=)\s*([A-Za-z0-9._-]*)$/.exec(term);
  if (m) return { key: m[1]!, op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]!] };
  m = /^!\s*([A-Za-z0-9._/-]+)$/.exec(term);
  if (m) return { key: m[1]!, op: '!exists' };
  m = /^([A-Za-z0-9._/-]+)$/.exec(term);
  if (m) return { key: m[1]!, op: 'exists' };
  throw new BadRequestError(`unable to parse requirement: found '${term}' in labelSelector "${whole}"`, { field: 'labelSelector', value: whole });
}

/** Compiles a label selector; an empty or absent selector matches everything. */
export function parseLabelSelector(s: string | null | undefined): Selector {
  if (!s) return () => true;
  const reqs = splitTerms(s).map((t) => parseLabelTerm(t, s));
  return (labels) =>
    reqs.every((r) => {
      const has = Object.prototype.hasOwnProperty.call(labels, r.key);
      switch (r.op) {
        case 'exists':
          return has;
        case '!exists':
          return !has;
        case 'in':
          return has && r.values.includes(labels[r.key]!);
        case 'notin':
          return !has || !r.values.includes(labels[r.key]!);
      }
    });
}

function getPath(obj: unknown, path: string): string | undefined {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return undefined;
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

/** Compiles a field selector over the object itself (missing fields compare as ""). */
export function parseFieldSelector(s: string | null | undefined): (obj: unknown) => boolean {
  if (!s) return () => true;
  const reqs = splitTerms(s).map((term) => {
    const m = /^([A-Za-z0-9._-]+)\s*(!=|==|=)\s*(.*)$/.exec(term);
    if (!m) throw new BadRequestError(`invalid selector: '${term}'; can't understand fieldSelector "${s}"`, { field: 'fieldSelector', value: s });
    return { path: m[1]!, negate: m[2] === '!=', value: m[3]!.trim() };
  });
  return (obj) => reqs.every((r) => ((getPath(obj, r.path) ?? '') === r.value) !== r.negate);
}

/** A `metav1.LabelSelector` (matchLabels + matchExpressions), as Jobs carry in `spec.selector`. */
export function labelSelectorFromObject(sel: unknown): Selector {
  if (!sel || typeof sel !== 'object') return () => false;
  const { matchLabels = {}, matchExpressions = [] } = sel as {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  };
  const terms = Object.entries(matchLabels).map(([k, v]) => `${k}=${v}`);
  for (const e of matchExpressions) {
    const op = e.operator.toLowerCase();
    if (op === 'exists') terms.push(e.key);
    else if (op === 'doesnotexist') terms.push(`!${e.key}`);
    else terms.push(`${e.key} ${op} (${(e.values ?? []).join(',')})`);
  }
  return parseLabelSelector(terms.join(','));
}
