// Carrying out a reconcile's creates: its Jobs are independent, so they go to the API server
// several at a time instead of one awaited POST after another (a latency-bound controller at
// scale, BENCHMARKS.md "Controller at scale").
//
// The no-double-create guarantee stays with the caller's `create`, which records every Job the
// server accepted (`pendingCreates`) before it resolves. This function adds the rule that makes
// that enough when one create fails mid-way: once a create has failed no new one starts, the
// creates already in flight are waited for (so their successes are recorded), and only then is
// the first failure thrown — the retry then sees every Job that exists, and creates only the rest.

/** Job creates in flight per reconcile. @default 8 */
export const CREATES_IN_FLIGHT = 8;

/**
 * Calls `create` on every item, at most `limit` at once, in order. Resolves when all succeeded;
 * after a failure starts no further item, waits for those in flight, then throws the first error.
 */
export async function createConcurrently<T>(items: readonly T[], limit: number, create: (item: T) => Promise<void>): Promise<void> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`createConcurrently: limit must be an integer ≥ 1, got ${limit}`);
  let next = 0;
  let failed = false;
  let first: unknown;
  const lane = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await create(item);
      } catch (err) {
        if (!failed) first = err;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failed) throw first;
}
