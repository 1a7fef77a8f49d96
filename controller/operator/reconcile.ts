// The pure heart of the operator: what should exist and what the status says, given what was
// observed. No I/O — the driver (operator.ts) gathers `Observed`, carries out the actions and
// patches the status; the unit tests call `reconcile` with plain objects.
//
// Level-based: every call recomputes the whole decision from the FineTuneJob, its Jobs (from the
// informer cache), the collector's verified runs and the previous status. Nothing depends on
// which event woke it, so a missed or repeated event costs nothing, and the periodic resync
// (DEFAULT_RESYNC_MS) is the safety net.
//
// Per run, in order of precedence:
//   1. its predictions were collected and verified           → Succeeded
//   2. the previous status says Succeeded                     → Succeeded (results already recorded;
//      after a controller restart the stream replay brings the predictions back for aggregation)
//   3. its Job exists: Failed condition → Failed; Complete → waiting for the verified `done`,
//      Failed (PredictionsIncomplete) once `predictionsTimeoutMs` has passed; active → Running;
//      else Pending. attempts = pods tried (failed + succeeded + active).
//   4. no Job: Failed before → Failed (never recreated); created but not yet in the cache →
//      Pending; it existed and is gone (deleted by hand) → recreated while attempts remain within
//      backoffLimit + 1, else Failed (JobDeleted); never created → created when the FineTuneJob is
//      not suspended and fewer than `execution.parallelism` runs are in flight.
// When every run is terminal the driver is asked to aggregate (the `aggregate` action) the
// succeeded runs under the current `spec.evaluation`; the study is Succeeded once that summary is
// in, or Failed when the baseline has no succeeded seed. Editing `spec.evaluation` changes the
// aggregate key, so the same stored predictions are aggregated again — nothing is retrained.
import { expandRuns, withDefaults, type Condition, type FineTuneJob, type FineTuneJobStatus, type JobPhase, type ResolvedFineTuneJobSpec, type Run, type RunStatus } from '../../api/mod.js';
import type { StudySummary } from '../aggregate/mod.js';
import { runKey, type RunKey } from '../collector/mod.js';
import { InvalidSpecError, KubeApiError } from './errors.js';
import { buildJob, type JobObject, type JobSettings } from './job.js';
import { jobName, LABEL_ABLATION, LABEL_SEED } from './names.js';

/** What the operator reads of a batch/v1 Job. */
export interface JobLike {
  metadata: { name: string; labels?: Record<string, string> | undefined; deletionTimestamp?: string | Date | undefined };
  status?: {
    active?: number | undefined;
    succeeded?: number | undefined;
    failed?: number | undefined;
    completionTime?: string | Date | undefined;
    conditions?: Array<{ type: string; status: string; reason?: string | undefined; message?: string | undefined }> | undefined;
  };
}

export interface Observed {
  ftj: FineTuneJob;
  /** The Jobs the FineTuneJob owns (informer cache). */
  jobs: readonly JobLike[];
  /** Runs whose predictions the collector verified. */
  collected: ReadonlyMap<RunKey, { count: number }>;
  /** The collector's latest complaint per run (a trainer-reported failure, a mismatch). */
  collectorFailures: ReadonlyMap<RunKey, string>;
  /** Jobs created by this controller that the cache has not shown yet. */
  pendingCreates: ReadonlySet<string>;
  /** The summary last computed, under its aggregate key. */
  aggregate?: { key: string; summary: StudySummary } | undefined;
  /** Whether predictions can be collected; `since`: when the collector started (ms since epoch). */
  stream: { ok: true; since: number } | { ok: false; message: string };
  /** The validation set as the controller read it. */
  validation: { ok: true; questions: number; sha256: string } | { ok: false; message: string };
  /** Milliseconds since the epoch. */
  now: number;
  settings: JobSettings & { predictionsTimeoutMs: number };
}

export type EventType = 'Normal' | 'Warning';

export type Action =
  | { kind: 'createJob'; run: RunKey; job: JobObject }
  /** Aggregate the collected predictions of `runs` under the current evaluation; store it as `key`. */
  | { kind: 'aggregate'; key: string; runs: RunKey[] }
  | { kind: 'event'; type: EventType; reason: string; action: string; note: string; jobName?: string }
  /** The FineTuneJob is being deleted: stop collecting for it (its Jobs go by garbage collection). */
  | { kind: 'forget' };

export interface Decision {
  actions: Action[];
  /** The status to write; undefined: leave it. */
  status?: FineTuneJobStatus;
  requeueAfterMs?: number;
}

/** Requeue while runs are active, so waiting-for-predictions deadlines are noticed. @default 15000 */
export const ACTIVE_REQUEUE_MS = 15_000;
/** Requeue while the validation set or the stream is unavailable. @default 30000 */
export const UNAVAILABLE_REQUEUE_MS = 30_000;

interface RunView {
  run: Run;
  key: RunKey;
  jobName: string;
  status: RunStatus;
  /** Holds a GPU (or soon will): counts against parallelism. */
  inFlight: boolean;
  /** Waiting for the verified `done` of a finished Job. */
  awaiting: boolean;
}

/** The aggregate key: the evaluation settings and the runs that go in. */
export function aggregateKey(spec: ResolvedFineTuneJobSpec, runs: readonly RunKey[]): string {
  return JSON.stringify({ evaluation: spec.evaluation, runs: [...runs].sort() });
}

function condition(job: JobLike, type: string): { reason?: string | undefined; message?: string | undefined } | undefined {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

function ms(t: string | Date | undefined): number | undefined {
  if (t === undefined) return undefined;
  const v = typeof t === 'string' ? Date.parse(t) : t.getTime();
  return Number.isNaN(v) ? undefined : v;
}

export function reconcile(o: Observed): Decision {
  const { ftj } = o;
  if (ftj.metadata['deletionTimestamp']) return { actions: [{ kind: 'forget' }] };
  const generation = typeof ftj.metadata.generation === 'number' ? ftj.metadata.generation : 1;
  const prev = ftj.status ?? {};
  const actions: Action[] = [];
  let spec: ResolvedFineTuneJobSpec;
  let runs: Run[];
  try {
    spec = withDefaults(ftj.spec);
    runs = expandRuns(ftj.spec);
  } catch (err) {
    return terminal(o, generation, new InvalidSpecError('spec', null, err instanceof Error ? err.message : String(err), { cause: err }));
  }
  const uid = ftj.metadata.uid ?? '';
  const jobsByRun = new Map<RunKey, JobLike>();
  for (const j of o.jobs) {
    const a = j.metadata.labels?.[LABEL_ABLATION];
    const s = j.metadata.labels?.[LABEL_SEED];
    if (a !== undefined && s !== undefined) jobsByRun.set(runKey(a, Number(s)), j);
  }
  const prevRuns = new Map((prev.runs ?? []).map((r) => [runKey(r.ablation, r.seed), r]));
  const summaryRun = new Map((o.aggregate?.summary.runs ?? []).map((r) => [runKey(r.ablation, r.seed), r.mapAtK]));
  const expected = o.validation.ok ? o.validation.questions : 0;
  const ready = o.validation.ok && o.stream.ok;

  const views: RunView[] = [];
  let requeue: number | undefined;
  const soon = (t: number): void => {
    requeue = requeue === undefined ? t : Math.min(requeue, t);
  };
  for (const run of runs) {
    const key = runKey(run.ablation, run.seed);
    const name = jobName(ftj.metadata.name, uid, run.ablation, run.seed);
    const p = prevRuns.get(key);
    const job = jobsByRun.get(key);
    const collected = o.collected.get(key);
    const attemptsOf = (j: JobLike): number => Math.max(p?.attempts ?? 0, (j.status?.failed ?? 0) + (j.status?.succeeded ?? 0) + (j.status?.active ?? 0), 1);
    const st: RunStatus = { ablation: run.ablation, seed: run.seed, phase: 'Pending', attempts: p?.attempts ?? 0 };
    const view: RunView = { run, key, jobName: name, status: st, inFlight: false, awaiting: false };
    views.push(view);
    if (job || p?.jobName) st.jobName = name;
    if (job) st.attempts = attemptsOf(job);
    if (collected || p?.phase === 'Succeeded') {
      st.phase = 'Succeeded';
      st.attempts = Math.max(st.attempts, 1);
      const count = collected?.count ?? p?.predictions?.received ?? expected;
      st.predictions = { received: count, expected: expected || count };
      const score = summaryRun.get(key) ?? p?.mapAtK ?? null;
      st.mapAtK = score;
      continue;
    }
    st.predictions = { received: 0, expected };
    const complaint = o.collectorFailures.get(key);
    if (job) {
      const failed = condition(job, 'Failed');
      const complete = condition(job, 'Complete');
      if (failed) {
        st.phase = 'Failed';
        st.message = `Job ${name} failed (${failed.reason ?? 'Failed'}): ${failed.message ?? ''}${complaint ? `; last trainer report: ${complaint}` : ''}`.slice(0, 4096);
      } else if (complete) {
        const doneAt = Math.max(ms(job.status?.completionTime) ?? o.now, o.stream.ok ? o.stream.since : 0);
        const deadline = doneAt + o.settings.predictionsTimeoutMs;
        if (o.now >= deadline) {
          st.phase = 'Failed';
          st.message = `PredictionsIncomplete: Job ${name} completed but no verified predictions arrived within ${Math.round(o.settings.predictionsTimeoutMs / 1000)} s${complaint ? ` (${complaint})` : ''}`;
        } else {
          st.phase = 'Running';
          st.message = `WaitingForPredictions: Job ${name} completed; waiting for its verified done message`;
          view.awaiting = true;
          soon(deadline - o.now);
        }
      } else {
        st.phase = (job.status?.active ?? 0) > 0 ? 'Running' : 'Pending';
        view.inFlight = true;
        if ((job.status?.failed ?? 0) > 0 && complaint) st.message = `retrying after: ${complaint}`.slice(0, 4096);
      }
      continue;
    }
    if (p?.phase === 'Failed') {
      st.phase = 'Failed';
      if (p.message) st.message = p.message;
      continue;
    }
    if (o.pendingCreates.has(name)) {
      // Accepted by the server, not in the cache yet: it exists, and it is (at least) attempt 1.
      view.inFlight = true;
      st.jobName = name;
      st.attempts = Math.max(st.attempts, 1);
      continue;
    }
    if (p?.jobName) {
      // It existed (the status recorded it) and is gone without results: deleted by hand.
      const limit = spec.execution.backoffLimit + 1;
      if (st.attempts >= limit) {
        st.phase = 'Failed';
        st.message = `JobDeleted: Job ${name} was deleted before its predictions arrived, after ${st.attempts} of ${limit} attempts`;
        continue;
      }
      st.message = `JobDeleted: Job ${name} was deleted before its predictions arrived; created again`;
    }
  }

  // Start runs that never had a Job (or lost it), up to the parallelism limit.
  let inFlight = views.filter((v) => v.inFlight).length;
  const toStart = views.filter((v) => !o.jobs.some((j) => j.metadata.name === v.jobName) && v.status.phase === 'Pending' && !o.pendingCreates.has(v.jobName));
  let invalid: InvalidSpecError | undefined;
  if (!spec.suspend && ready) {
    for (const v of toStart) {
      if (inFlight >= spec.execution.parallelism) break;
      let job: JobObject;
      try {
        job = buildJob(ftj, spec, v.run, o.settings, o.validation.ok ? o.validation.sha256 : undefined);
      } catch (err) {
        if (err instanceof InvalidSpecError) {
          invalid = err;
          break;
        }
        throw err;
      }
      actions.push({ kind: 'createJob', run: v.key, job });
      v.status.jobName = v.jobName;
      v.status.attempts += 1;
      inFlight++;
    }
  }
  if (invalid) return terminal(o, generation, invalid);

  const statuses = views.map((v) => v.status);
  const total = statuses.length;
  const succeeded = statuses.filter((r) => r.phase === 'Succeeded');
  const failed = statuses.filter((r) => r.phase === 'Failed');
  const allTerminal = succeeded.length + failed.length === total;
  const baselineOk = succeeded.some((r) => r.ablation === spec.evaluation.baseline);

  const status: FineTuneJobStatus = { observedGeneration: generation, progress: `${succeeded.length}/${total}`, runs: statuses };
  let phase: JobPhase;
  const conds: Array<Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>> = [];
  if (allTerminal && !baselineOk) {
    phase = 'Failed';
    const reason = succeeded.length === 0 ? 'NoRunSucceeded' : 'BaselineIncomplete';
    const message = succeeded.length === 0 ? `all ${total} runs failed` : `no run of the baseline ablation ${spec.evaluation.baseline} succeeded, so no comparison can be made`;
    conds.push({ type: 'Failed', status: 'True', reason, message }, { type: 'Complete', status: 'False', reason, message }, { type: 'Progressing', status: 'False', reason, message });
    status.ablations = prev.ablations ?? [];
    status.best = null;
  } else if (allTerminal) {
    const key = aggregateKey(spec, succeeded.map((r) => runKey(r.ablation, r.seed)));
    const missing = succeeded.filter((r) => !o.collected.has(runKey(r.ablation, r.seed)));
    const fresh = o.aggregate?.key === key ? o.aggregate.summary : undefined;
    // A study already Succeeded for this generation with these runs needs no new aggregate (a
    // restarted controller has none in memory until the replay is complete): keep its numbers.
    const prevSucceeded = (prev.runs ?? []).filter((r) => r.phase === 'Succeeded').map((r) => runKey(r.ablation, r.seed));
    const settled = !fresh && prev.phase === 'Succeeded' && prev.observedGeneration === generation && aggregateKey(spec, prevSucceeded) === key;
    if (fresh || settled) {
      phase = 'Succeeded';
      const best = fresh ? fresh.best : (prev.best ?? null);
      const reason = failed.length === 0 ? 'AllRunsSucceeded' : 'CompletedWithFailures';
      const message = `${succeeded.length}/${total} runs succeeded; best: ${best ? `${best.ablation} (MAP@${spec.evaluation.k} ${best.ensembleMapAtK.toFixed(4)})` : 'none'}`;
      conds.push({ type: 'Complete', status: 'True', reason, message }, { type: 'Progressing', status: 'False', reason, message }, { type: 'Failed', status: 'False', reason, message });
      status.ablations = fresh ? toAblationStatus(fresh) : (prev.ablations ?? []);
      status.best = best;
    } else {
      phase = 'Aggregating';
      if (missing.length === 0) actions.push({ kind: 'aggregate', key, runs: succeeded.map((r) => runKey(r.ablation, r.seed)) });
      else soon(UNAVAILABLE_REQUEUE_MS);
      const message = missing.length === 0 ? 'aggregating the runs' : `replaying the stored predictions of ${missing.length} runs before aggregating`;
      conds.push({ type: 'Progressing', status: 'True', reason: 'Aggregating', message }, { type: 'Complete', status: 'False', reason: 'Aggregating', message }, { type: 'Failed', status: 'False', reason: 'Aggregating', message });
      // Keep showing the previous numbers until the new ones are in.
      status.ablations = prev.ablations ?? [];
      status.best = prev.best ?? null;
    }
  } else {
    const running = statuses.filter((r) => r.phase === 'Running').length;
    const awaiting = views.filter((v) => v.awaiting).length;
    phase = spec.suspend && running === 0 ? 'Suspended' : running > 0 ? 'Running' : 'Pending';
    const [reason, message] = spec.suspend
      ? ['HoldingNewRuns', `suspended: no new runs start; ${running} running`]
      : awaiting > 0 && awaiting === running
        ? ['WaitingForPredictions', `${awaiting} finished runs await their verified predictions`]
        : running > 0
          ? ['RunsRunning', `${running} running, ${succeeded.length}/${total} succeeded`]
          : ['RunsPending', `${total - succeeded.length - failed.length} runs pending`];
    conds.push({ type: 'Progressing', status: 'True', reason, message }, { type: 'Complete', status: 'False', reason, message }, { type: 'Failed', status: 'False', reason, message });
    status.ablations = prev.ablations ?? [];
    status.best = prev.best ?? null;
    if (running > 0) soon(ACTIVE_REQUEUE_MS);
  }
  if (!o.validation.ok) {
    conds.push({ type: 'Degraded', status: 'True', reason: 'ValidationUnavailable', message: o.validation.message });
    soon(UNAVAILABLE_REQUEUE_MS);
  } else if (!o.stream.ok) {
    conds.push({ type: 'Degraded', status: 'True', reason: 'PredictionStreamUnavailable', message: o.stream.message });
    soon(UNAVAILABLE_REQUEUE_MS);
  } else if (failed.length > 0) {
    conds.push({ type: 'Degraded', status: 'True', reason: 'RunFailed', message: `${failed.length} run(s) failed: ${failed.map((r) => `${r.ablation}/${r.seed}`).join(', ')}`.slice(0, 32_768) });
  } else {
    conds.push({ type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no run failed' });
  }
  status.phase = phase;
  status.conditions = withTimes(prev.conditions ?? [], conds, generation, o.now);
  actions.push(...eventsFor(prev, status, views));
  const out: Decision = { actions, status };
  if (requeue !== undefined) out.requeueAfterMs = Math.max(1000, requeue);
  return out;
}

function toAblationStatus(s: StudySummary): NonNullable<FineTuneJobStatus['ablations']> {
  return s.ablations.map((a) => ({
    name: a.name,
    seeds: a.seeds,
    seedMean: a.seedMean,
    seedStd: a.seedStd,
    ensembleMapAtK: a.ensembleMapAtK,
    vsBaseline: a.vsBaseline
      ? {
          delta: a.vsBaseline.delta,
          ciLow: a.vsBaseline.ciLow,
          ciHigh: a.vsBaseline.ciHigh,
          pValue: a.vsBaseline.pValue,
          pValueHolm: a.vsBaseline.pValueHolm,
          minDetectable: a.vsBaseline.minDetectable,
          questionsNeeded: a.vsBaseline.questionsNeeded,
          ...(a.vsBaseline.seedAware ? { seedAware: a.vsBaseline.seedAware } : {}),
        }
      : null,
  }));
}

/** RFC 3339 with whole seconds, as metav1.Time serialises. */
export function rfc3339(msSinceEpoch: number): string {
  return new Date(msSinceEpoch).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Conditions keep their lastTransitionTime unless their status flips. */
function withTimes(prev: readonly Condition[], next: Array<Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>>, generation: number, now: number): Condition[] {
  return next.map((c) => {
    const old = prev.find((p) => p.type === c.type);
    return { ...c, observedGeneration: generation, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : rfc3339(now) };
  });
}

/** Events for what changed between the previous status and this one. */
function eventsFor(prev: FineTuneJobStatus, next: FineTuneJobStatus, views: readonly RunView[]): Action[] {
  const out: Action[] = [];
  const before = new Map((prev.runs ?? []).map((r) => [runKey(r.ablation, r.seed), r]));
  for (const v of views) {
    const p = before.get(v.key);
    const r = v.status;
    const label = `run ${v.key}`;
    const jobName = v.jobName;
    if (r.attempts > (p?.attempts ?? 0) && (p?.attempts ?? 0) > 0 && r.phase !== 'Succeeded') {
      out.push({ kind: 'event', type: 'Warning', reason: 'RunRetried', action: 'Retry', note: `${label}: attempt ${r.attempts}${r.message ? ` (${r.message})` : ''}`.slice(0, 1024), jobName });
    } else if (r.phase === 'Running' && p?.phase !== 'Running') {
      out.push({ kind: 'event', type: 'Normal', reason: 'RunStarted', action: 'Start', note: `${label} started in Job ${jobName}`, jobName });
    }
    if (r.phase === 'Failed' && p?.phase !== 'Failed') out.push({ kind: 'event', type: 'Warning', reason: 'RunFailed', action: 'Fail', note: `${label} failed: ${r.message ?? ''}`.slice(0, 1024), jobName });
    if (r.phase === 'Succeeded' && p?.phase !== 'Succeeded') out.push({ kind: 'event', type: 'Normal', reason: 'RunSucceeded', action: 'Complete', note: `${label} succeeded: ${r.predictions?.received ?? 0} predictions verified`, jobName });
  }
  if (next.phase !== prev.phase && (next.phase === 'Succeeded' || next.phase === 'Failed')) {
    const c = next.conditions?.find((x) => x.type === (next.phase === 'Succeeded' ? 'Complete' : 'Failed'));
    out.push({ kind: 'event', type: next.phase === 'Succeeded' ? 'Normal' : 'Warning', reason: next.phase === 'Succeeded' ? 'StudySucceeded' : 'StudyFailed', action: 'Complete', note: (c?.message ?? next.phase).slice(0, 1024) });
  }
  return out;
}

/** A terminal spec problem: the Failed condition, no retries, no Jobs. */
function terminal(o: Observed, generation: number, err: InvalidSpecError): Decision {
  const prev = o.ftj.status ?? {};
  const message = err.message.slice(0, 32_768);
  const conds = [
    { type: 'Failed', status: 'True' as const, reason: 'InvalidSpec', message },
    { type: 'Progressing', status: 'False' as const, reason: 'InvalidSpec', message },
    { type: 'Complete', status: 'False' as const, reason: 'InvalidSpec', message },
  ];
  const status: FineTuneJobStatus = { ...prev, observedGeneration: generation, phase: 'Failed', conditions: withTimes(prev.conditions ?? [], conds, generation, o.now) };
  const actions: Action[] = prev.phase === 'Failed' ? [] : [{ kind: 'event', type: 'Warning', reason: 'InvalidSpec', action: 'Validate', note: message.slice(0, 1024) }];
  return { actions, status };
}

/** What to do after reconcile (or carrying out its actions) threw. */
export type ErrorDecision = { requeueAfterMs: number } | { terminal: InvalidSpecError };

/** Base delay of the per-key exponential backoff, in milliseconds. @default 500 */
export const ERROR_BACKOFF_BASE_MS = 500;
/** Cap of the per-key exponential backoff, in milliseconds. @default 60000 */
export const ERROR_BACKOFF_MAX_MS = 60_000;

/**
 * Pure error policy. A bad spec is terminal (a condition, no retry); a conflict (someone wrote
 * the object since it was read) is retried at once with fresh data; anything else backs off
 * exponentially per key: `retries` counts consecutive failures of this key.
 */
export function errorPolicy(err: unknown, retries: number): ErrorDecision {
  if (err instanceof InvalidSpecError) return { terminal: err };
  if (err instanceof KubeApiError && err.code === 409) return { requeueAfterMs: 100 };
  return { requeueAfterMs: Math.min(ERROR_BACKOFF_MAX_MS, ERROR_BACKOFF_BASE_MS * 2 ** Math.max(0, retries)) };
}
