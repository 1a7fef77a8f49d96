// events.k8s.io/v1 and core/v1 Events are two views of one stored object in the real apiserver,
// so `kubectl get events` and `kubectl describe` show what a controller records through
// events.k8s.io. The field renames follow k8s.io/kubernetes pkg/apis/events/v1 conversion.
import type { Obj } from './store.js';

/** events.k8s.io/v1 field → core/v1 field. */
const RENAMES: readonly (readonly [string, string])[] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

function rename(o: Obj, pairs: readonly (readonly [string, string])[], apiVersion: string): Obj {
  const out: Record<string, unknown> = { ...o, apiVersion, kind: 'Event' };
  for (const [from, to] of pairs) {
    if (from in out) {
      out[to] = out[from];
      delete out[from];
    }
  }
  return out as Obj;
}

/** An events.k8s.io/v1 Event in its stored (core/v1) form. */
export function toCoreEvent(o: Obj): Obj {
  return rename(o, RENAMES, 'v1');
}

/** A stored core/v1 Event as events.k8s.io/v1 shows it. */
export function fromCoreEvent(o: Obj): Obj {
  return rename(o, RENAMES.map(([a, b]) => [b, a] as const), 'events.k8s.io/v1');
}
