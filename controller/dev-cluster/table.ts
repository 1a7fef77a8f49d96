// Server-side `Table` output (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), which is
// what `kubectl get` prints. Custom resources get the CRD's additionalPrinterColumns (or Age when
// it declares none) after Name; built-in kinds get the columns kubectl users know. As in the real
// apiserver, date columns are rendered on the server as a human duration ("5m", "2d3h").
import type { PrinterColumn, ResourceType } from './resources.js';
import type { Obj } from './store.js';

interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

type Cell = string | number | boolean | null;

const NAME_COLUMN: ColumnDefinition = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace.',
  priority: 0,
};
const AGE_COLUMN: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

/** `duration.HumanDuration` from k8s.io/apimachinery: the Age format kubectl users read. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  if (h < 24 * 365 * 8) return d % 365 === 0 ? `${y}y` : `${y}y${d % 365}d`;
  return `${y}y`;
}

function age(ts: unknown, now: number): string {
  if (typeof ts !== 'string') return '<unknown>';
  const t = Date.parse(ts);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
}

/** The simple JSONPath subset printer columns use: `.a.b`, `.a[0].b`, `.a['x.y']`. */
export function jsonPathValue(obj: unknown, path: string): unknown {
  const parts: (string | number)[] = [];
  const re = /\.([A-Za-z0-9_$-]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/g;
  let m: RegExpExecArray | null;
  const p = path.trim().replace(/^\{|\}$/g, '');
  while ((m = re.exec(p)) !== null) parts.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : (m[3] ?? m[4]!)));
  let cur: unknown = obj;
  for (const part of parts) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[part];
  }
  return cur;
}

function cellFor(col: PrinterColumn, obj: Obj, now: number): Cell {
  const v = jsonPathValue(obj, col.jsonPath);
  if (v === undefined || v === null) return null;
  switch (col.type) {
    case 'date':
      return age(v, now);
    case 'integer':
    case 'number':
      return typeof v === 'number' ? v : Number(v);
    case 'boolean':
      return Boolean(v);
    default:
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
}

function condition(obj: Obj, type: string): boolean {
  const conds = ((obj['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []);
  return conds.some((c) => c.type === type && c.status === 'True');
}

/** Built-in columns after Name (kubectl's printers, trimmed to what the stand-in knows). */
function builtinColumns(t: ResourceType, now: number): { cols: ColumnDefinition[]; cells: (o: Obj) => Cell[] } {
  const col = (name: string, type = 'string', priority = 0, format = ''): ColumnDefinition => ({ name, type, format, description: name, priority });
  const st = (o: Obj): Record<string, unknown> => (o['status'] ?? {}) as Record<string, unknown>;
  const sp = (o: Obj): Record<string, unknown> => (o['spec'] ?? {}) as Record<string, unknown>;
  const ageOf = (o: Obj): string => age(o.metadata.creationTimestamp, now);
  switch (`${t.group}/${t.resource}`) {
    case '/namespaces':
      return { cols: [col('Status'), col('Age')], cells: (o) => [String(st(o)['phase'] ?? ''), ageOf(o)] };
    case '/pods':
      return {
        cols: [col('Ready'), col('Status'), col('Restarts', 'string'), col('Age'), col('IP', 'string', 1), col('Node', 'string', 1)],
        cells: (o) => {
          const n = ((sp(o)['containers'] as unknown[] | undefined) ?? []).length;
          const ready = ((st(o)['containerStatuses'] as { ready?: boolean }[] | undefined) ?? []).filter((c) => c.ready).length;
          // kubectl shows the container's terminated reason (Completed, Error) over the phase.
          const terminated = ((st(o)['containerStatuses'] as { state?: { terminated?: { reason?: string } } }[] | undefined) ?? [])[0]?.state?.terminated?.reason;
          const reason = st(o)['reason'] ?? terminated;
          return [`${ready}/${n}`, String(reason ?? st(o)['phase'] ?? 'Pending'), '0', ageOf(o), String(st(o)['podIP'] ?? '<none>'), 'dev-cluster'];
        },
      };
    case 'batch/jobs':
      return {
        cols: [col('Status'), col('Completions'), col('Duration'), col('Age')],
        cells: (o) => {
          const s = st(o);
          const status = condition(o, 'Complete') ? 'Complete' : condition(o, 'Failed') ? 'Failed' : sp(o)['suspend'] === true ? 'Suspended' : 'Running';
          const start = typeof s['startTime'] === 'string' ? Date.parse(s['startTime']) : NaN;
          const end = typeof s['completionTime'] === 'string' ? Date.parse(s['completionTime']) : now;
          return [status, `${Number(s['succeeded'] ?? 0)}/${Number(sp(o)['completions'] ?? 1)}`, Number.isNaN(start) ? '' : humanDuration(end - start), ageOf(o)];
        },
      };
    case '/secrets':
      return { cols: [col('Type'), col('Data', 'string'), col('Age')], cells: (o) => [String(o['type'] ?? 'Opaque'), String(Object.keys((o['data'] as object | undefined) ?? {}).length), ageOf(o)] };
    case 'coordination.k8s.io/leases':
      return { cols: [col('Holder'), col('Age')], cells: (o) => [String(sp(o)['holderIdentity'] ?? ''), ageOf(o)] };
    case '/events':
      return {
        cols: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Message')],
        cells: (o) => {
          const io = (o['involvedObject'] ?? {}) as { kind?: string; name?: string };
          return [age(o['lastTimestamp'] ?? o['eventTime'] ?? o.metadata.creationTimestamp, now), String(o['type'] ?? ''), String(o['reason'] ?? ''), `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`, String(o['message'] ?? '')];
        },
      };
    case 'apiextensions.k8s.io/customresourcedefinitions':
      return { cols: [col('Created At', 'date')], cells: (o) => [String(o.metadata.creationTimestamp ?? '')] };
    default:
      return { cols: [col('Age')], cells: (o) => [ageOf(o)] };
  }
}

/** Builds a `meta.k8s.io/v1` Table for a list of objects of one type. */
export function toTable(t: ResourceType, objs: Obj[], resourceVersion: string, includeObject: 'None' | 'Metadata' | 'Object', now = Date.now()): Record<string, unknown> {
  let cols: ColumnDefinition[];
  let cells: (o: Obj) => Cell[];
  if (t.crd) {
    const printer = t.printerColumns?.length ? t.printerColumns : [AGE_COLUMN];
    cols = printer.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 }));
    cells = (o) => printer.map((c) => cellFor(c, o, now));
  } else ({ cols, cells } = builtinColumns(t, now));
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: [NAME_COLUMN, ...cols],
    rows: objs.map((o) => ({
      cells: [o.metadata.name ?? '', ...cells(o)],
      ...(includeObject === 'None'
        ? {}
        : {
            object:
              includeObject === 'Object'
                ? o
                : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
          }),
    })),
  };
}
