// reconcile() driven with plain objects: what Jobs are created, what the status says, which
// Events are recorded, for each situation a study goes through.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FineTuneJob, FineTuneJobStatus, RunStatus } from '../../api/mod.js';
import { aggregateKey, errorPolicy, jobName, reconcile, InvalidSpecError, KubeApiError, type Action, type JobLike, type Observed } from '../../controller/mod.js';
import { withDefaults } from '../../api/mod.js';

const UID = '3f0c9a52-1111-4222-8333-944455556666';
const NOW = Date.parse('2026-11-27T12:00:00Z');

function ftj(over: Partial<FineTuneJob['spec']> = {}, status?: FineTuneJobStatus, meta: Record<string, unknown> = {}): FineTuneJob {
  return {
    apiVersion: 'ablate.dev/v1alpha1',
    kind: 'FineTuneJob',
    metadata: { name: 'study', namespace: 'ml', uid: UID, generation: 1, resourceVersion: '10', ...meta },
    spec: {
      model: { uri: 'file:///models/m' },
      data: { train: { uri: 'file:///data/train.csv' }, validation: { uri: 'file:///data/val.csv' } },
      ablations: [{ name: 'full' }, { name: 'frozen', training: { freezeEmbeddings: true } }],
      seeds: [0, 1],
      execution: { parallelism: 3, backoffLimit: 1 },
      evaluation: { baseline: 'full' },
      ...over,
    },
    ...(status ? { status } : {}),
  } as FineTuneJob;
}

const names = (a: string, s: number): string => jobName('study', UID, a, s);

function job(ablation: string, seed: number, st: JobLike['status'] = { active: 1 }): JobLike {
  return { metadata: { name: names(ablation, seed), labels: { 'ablate.dev/job': 'study', 'ablate.dev/ablation': ablation, 'ablate.dev/seed': String(seed) } }, status: st };
}
const complete = (ablation: string, seed: number): JobLike =>
  job(ablation, seed, { succeeded: 1, completionTime: new Date(NOW - 5000).toISOString(), conditions: [{ type: 'Complete', status: 'True' }] });

function observed(f: FineTuneJob, over: Partial<Observed> = {}): Observed {
  return {
    ftj: f,
    jobs: [],
    collected: new Map(),
    collectorFailures: new Map(),
    pendingCreates: new Set(),
    stream: { ok: true, since: NOW - 60_000 },
    validation: { ok: true, questions: 100, sha256: 'a'.repeat(64) },
    now: NOW,
    settings: { natsUrl: 'nats://nats:4222', natsCredsSecret: undefined, stream: 'ABLATE', prefix: 'ablate', trainerImage: 'img:1', baseDir: '/work', predictionsTimeoutMs: 120_000 },
    ...over,
  };
}

const creates = (actions: Action[]): string[] => actions.flatMap((a) => (a.kind === 'createJob' ? [a.run] : []));
const events = (actions: Action[]): string[] => actions.flatMap((a) => (a.kind === 'event' ? [a.reason] : []));
const run = (s: FineTuneJobStatus | undefined, key: string): RunStatus | undefined => s?.runs?.find((r) => `${r.ablation}/${r.seed}` === key);
const cond = (s: FineTuneJobStatus | undefined, type: string): { status: string; reason: string; observedGeneration?: number | undefined } | undefined => s?.conditions?.find((c) => c.type === type);
const summary = (runs: Array<[string, number, number]>) => ({
  k: 3,
  questions: 100,
  runs: runs.map(([ablation, seed, mapAtK]) => ({ ablation, seed, mapAtK })),
  ablations: [
    { name: 'full', seeds: [0, 1], seedMean: 0.5, seedStd: 0.01, seedMin: 0.49, seedMax: 0.51, ensembleMapAtK: 0.52 },
    { name: 'frozen', seeds: [0, 1], seedMean: 0.55, seedStd: 0.02, seedMin: 0.53, seedMax: 0.57, ensembleMapAtK: 0.58, vsBaseline: { baseline: 'full', delta: 0.06, ciLow: 0.01, ciHigh: 0.11, pValue: 0.02, pValueHolm: 0.02, minDetectable: 0.05, questionsNeeded: null } },
  ],
  best: { ablation: 'frozen', ensembleMapAtK: 0.58 },
});

describe('reconcile', () => {
  it('new job: creates Jobs up to parallelism, records them Pending, phase Pending', () => {
    const d = reconcile(observed(ftj()));
    assert.deepEqual(creates(d.actions), ['full/0', 'full/1', 'frozen/0']);
    assert.equal(d.status?.phase, 'Pending');
    assert.equal(d.status?.progress, '0/4');
    assert.equal(d.status?.observedGeneration, 1);
    assert.equal(run(d.status, 'full/0')?.jobName, names('full', 0));
    assert.equal(run(d.status, 'full/0')?.attempts, 1);
    assert.equal(run(d.status, 'frozen/1')?.jobName, undefined);
    assert.equal(cond(d.status, 'Progressing')?.status, 'True');
    assert.equal(cond(d.status, 'Progressing')?.reason, 'RunsPending');
    const first = d.actions.find((a) => a.kind === 'createJob');
    assert.ok(first?.kind === 'createJob');
    assert.equal(first.job.metadata.ownerReferences[0]?.uid, UID);
  });

  it('created Jobs not yet in the cache count against parallelism and are not created twice', () => {
    const d = reconcile(observed(ftj(), { pendingCreates: new Set([names('full', 0), names('full', 1), names('frozen', 0)]) }));
    assert.deepEqual(creates(d.actions), []);
  });

  it('after creates failed mid-way, the retry creates only the runs the server has not accepted, once each', () => {
    const ablations = ['a', 'b', 'c', 'd'];
    const f = ftj({ ablations: ablations.map((name) => ({ name })), seeds: [0, 1, 2, 3], execution: { parallelism: 16, backoffLimit: 1 }, evaluation: { baseline: 'a' } });
    const all = ablations.flatMap((a) => [0, 1, 2, 3].map((s) => `${a}/${s}`));
    const first = reconcile(observed(f));
    assert.deepEqual(creates(first.actions), all, 'one create per run, all at once (parallelism 16)');
    // The creates went out together and the 7th failed: 5 are in the cache already, 2 were
    // accepted but not seen yet (pendingCreates); the failed one and those never sent remain.
    // The status was not written (the reconcile threw before its patch).
    const inCache = all.slice(0, 5);
    const pending = all.slice(5, 7);
    const d = reconcile(observed(f, { jobs: inCache.map((k) => job(k.split('/')[0] as string, Number(k.split('/')[1]), {})), pendingCreates: new Set(pending.map((k) => names(k.split('/')[0] as string, Number(k.split('/')[1])))) }));
    assert.deepEqual(creates(d.actions), all.slice(7));
    assert.deepEqual(d.status?.runs?.map((r) => r.attempts), Array<number>(16).fill(1), 'no run counts a second attempt');
    assert.equal(d.status?.runs?.filter((r) => r.jobName !== undefined).length, 16);
  });

  it('partial progress: collected runs succeed, a freed slot starts the next run, progress counts', () => {
    const prev = reconcile(observed(ftj())).status;
    const f = ftj({}, prev);
    const d = reconcile(observed(f, { jobs: [complete('full', 0), job('full', 1), job('frozen', 0)], collected: new Map([['full/0', { count: 100 }]]) }));
    assert.deepEqual(creates(d.actions), ['frozen/1']);
    assert.equal(run(d.status, 'full/0')?.phase, 'Succeeded');
    assert.deepEqual(run(d.status, 'full/0')?.predictions, { received: 100, expected: 100 });
    assert.equal(run(d.status, 'full/1')?.phase, 'Running');
    assert.equal(d.status?.phase, 'Running');
    assert.equal(d.status?.progress, '1/4');
    assert.ok(events(d.actions).includes('RunSucceeded'));
    assert.ok(events(d.actions).includes('RunStarted'));
    assert.ok(d.requeueAfterMs !== undefined);
  });

  it('a Job complete without verified predictions waits, then fails PredictionsIncomplete', () => {
    const f = ftj({ seeds: [0], ablations: [{ name: 'full' }] });
    const waiting = reconcile(observed(f, { jobs: [complete('full', 0)] }));
    assert.equal(run(waiting.status, 'full/0')?.phase, 'Running');
    assert.match(run(waiting.status, 'full/0')?.message ?? '', /WaitingForPredictions/);
    assert.ok((waiting.requeueAfterMs ?? 0) <= 115_000);
    const late = reconcile(observed(f, { jobs: [complete('full', 0)], now: NOW + 200_000 }));
    assert.equal(run(late.status, 'full/0')?.phase, 'Failed');
    assert.match(run(late.status, 'full/0')?.message ?? '', /PredictionsIncomplete/);
    assert.equal(late.status?.phase, 'Failed');
  });

  it('Job failed within budget: still Running, attempts from the pods, RunRetried with the trainer report', () => {
    const prev = reconcile(observed(ftj(), { jobs: [job('full', 0), job('full', 1), job('frozen', 0)] })).status;
    const d = reconcile(
      observed(ftj({}, prev), { jobs: [job('full', 0, { active: 1, failed: 1 }), job('full', 1), job('frozen', 0)], collectorFailures: new Map([['full/0', 'trainer reported failure: out of memory']]) }),
    );
    const r = run(d.status, 'full/0');
    assert.equal(r?.phase, 'Running');
    assert.equal(r?.attempts, 2);
    assert.match(r?.message ?? '', /out of memory/);
    assert.ok(events(d.actions).includes('RunRetried'));
    assert.equal(cond(d.status, 'Degraded')?.status, 'False');
  });

  it('Job failed past its budget: run Failed with the Job reason, Degraded RunFailed, never recreated', () => {
    const failed = job('frozen', 0, { failed: 2, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] });
    const prev = reconcile(observed(ftj())).status;
    const d = reconcile(observed(ftj({}, prev), { jobs: [job('full', 0), job('full', 1), failed] }));
    assert.equal(run(d.status, 'frozen/0')?.phase, 'Failed');
    assert.match(run(d.status, 'frozen/0')?.message ?? '', /BackoffLimitExceeded/);
    assert.equal(cond(d.status, 'Degraded')?.reason, 'RunFailed');
    assert.ok(events(d.actions).includes('RunFailed'));
    assert.ok(!creates(d.actions).includes('frozen/0'));
    // The Job gone later (cleaned up by hand): still Failed, not recreated.
    const again = reconcile(observed(ftj({}, d.status), { jobs: [job('full', 0), job('full', 1)] }));
    assert.equal(run(again.status, 'frozen/0')?.phase, 'Failed');
    assert.ok(!creates(again.actions).includes('frozen/0'));
  });

  it('all runs terminal: asks for aggregation, then Succeeded with the summary; baseline failures fail the study', () => {
    const f = ftj({ seeds: [0, 1] });
    const all = new Map(['full/0', 'full/1', 'frozen/0', 'frozen/1'].map((k) => [k, { count: 100 }]));
    const jobs = [complete('full', 0), complete('full', 1), complete('frozen', 0), complete('frozen', 1)];
    const d1 = reconcile(observed(f, { jobs, collected: all }));
    assert.equal(d1.status?.phase, 'Aggregating');
    const agg = d1.actions.find((a) => a.kind === 'aggregate');
    assert.ok(agg?.kind === 'aggregate');
    assert.equal(agg.runs.length, 4);
    const s = summary([['full', 0, 0.5], ['full', 1, 0.51], ['frozen', 0, 0.55], ['frozen', 1, 0.57]]);
    const d2 = reconcile(observed(ftj({ seeds: [0, 1] }, d1.status), { jobs, collected: all, aggregate: { key: agg.key, summary: s } }));
    assert.equal(d2.status?.phase, 'Succeeded');
    assert.equal(d2.status?.progress, '4/4');
    assert.deepEqual(d2.status?.best, { ablation: 'frozen', ensembleMapAtK: 0.58 });
    assert.equal(run(d2.status, 'frozen/1')?.mapAtK, 0.57);
    assert.deepEqual(d2.status?.ablations?.[1]?.vsBaseline, { delta: 0.06, ciLow: 0.01, ciHigh: 0.11, pValue: 0.02, pValueHolm: 0.02, minDetectable: 0.05, questionsNeeded: null });
    assert.equal(cond(d2.status, 'Complete')?.reason, 'AllRunsSucceeded');
    assert.equal(cond(d2.status, 'Progressing')?.status, 'False');
    assert.ok(events(d2.actions).includes('StudySucceeded'));
    // Baseline without a succeeded seed: Failed/BaselineIncomplete.
    const failedJob = (a: string, s2: number): JobLike => job(a, s2, { failed: 2, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] });
    const d3 = reconcile(observed(f, { jobs: [failedJob('full', 0), failedJob('full', 1), complete('frozen', 0), complete('frozen', 1)], collected: new Map([['frozen/0', { count: 100 }], ['frozen/1', { count: 100 }]]) }));
    assert.equal(d3.status?.phase, 'Failed');
    assert.equal(cond(d3.status, 'Failed')?.reason, 'BaselineIncomplete');
  });

  it('Job deleted by hand: recreated and counted as an attempt; past the budget it fails with JobDeleted', () => {
    const f = ftj({ seeds: [0], ablations: [{ name: 'full' }], execution: { parallelism: 1, backoffLimit: 1 } });
    const s1 = reconcile(observed(f, { jobs: [job('full', 0)] })).status;
    assert.equal(run(s1, 'full/0')?.jobName, names('full', 0));
    const d = reconcile(observed(ftj(f.spec, s1)));
    assert.deepEqual(creates(d.actions), ['full/0']);
    assert.equal(run(d.status, 'full/0')?.attempts, 2);
    assert.match(run(d.status, 'full/0')?.message ?? '', /JobDeleted/);
    assert.ok(events(d.actions).includes('RunRetried'));
    const d2 = reconcile(observed(ftj(f.spec, d.status)));
    assert.deepEqual(creates(d2.actions), []);
    assert.equal(run(d2.status, 'full/0')?.phase, 'Failed');
    assert.match(run(d2.status, 'full/0')?.message ?? '', /JobDeleted/);
  });

  it('a Job deleted after its results arrived is not recreated', () => {
    const f = ftj({ seeds: [0], ablations: [{ name: 'full' }] });
    const s1 = reconcile(observed(f, { jobs: [complete('full', 0)], collected: new Map([['full/0', { count: 100 }]]) })).status;
    const d = reconcile(observed(ftj(f.spec, s1)));
    assert.deepEqual(creates(d.actions), []);
    assert.equal(run(d.status, 'full/0')?.phase, 'Succeeded');
  });

  it('a finished study seen by a restarted controller (no aggregate in memory yet) stays Succeeded, with no new events', () => {
    const f = ftj({ seeds: [0, 1] });
    const all = new Map(['full/0', 'full/1', 'frozen/0', 'frozen/1'].map((k) => [k, { count: 100 }]));
    const jobs = [complete('full', 0), complete('full', 1), complete('frozen', 0), complete('frozen', 1)];
    const key = aggregateKey(withDefaults(f.spec), [...all.keys()]);
    const s = summary([['full', 0, 0.5], ['full', 1, 0.51], ['frozen', 0, 0.55], ['frozen', 1, 0.57]]);
    const done = reconcile(observed(f, { jobs, collected: all, aggregate: { key, summary: s } })).status;
    const after = reconcile(observed(ftj({ seeds: [0, 1] }, done), { jobs, collected: new Map(), now: NOW + 3_600_000 }));
    assert.equal(after.status?.phase, 'Succeeded');
    assert.deepEqual(after.status, done);
    assert.deepEqual(after.actions, []);
  });

  it('evaluation edited: same runs, no Jobs, re-aggregated under a new key; observedGeneration follows', () => {
    const base = ftj({ seeds: [0, 1] });
    const all = new Map(['full/0', 'full/1', 'frozen/0', 'frozen/1'].map((k) => [k, { count: 100 }]));
    const jobs = [complete('full', 0), complete('full', 1), complete('frozen', 0), complete('frozen', 1)];
    const oldKey = aggregateKey(withDefaults(base.spec), [...all.keys()]);
    const s = summary([['full', 0, 0.5], ['full', 1, 0.51], ['frozen', 0, 0.55], ['frozen', 1, 0.57]]);
    const done = reconcile(observed(base, { jobs, collected: all, aggregate: { key: oldKey, summary: s } })).status;
    assert.equal(done?.phase, 'Succeeded');
    const edited = ftj({ seeds: [0, 1], evaluation: { baseline: 'full', k: 1 } }, done, { generation: 2 });
    const d = reconcile(observed(edited, { jobs, collected: all, aggregate: { key: oldKey, summary: s } }));
    assert.deepEqual(creates(d.actions), []);
    assert.equal(d.status?.phase, 'Aggregating');
    assert.equal(d.status?.observedGeneration, 2);
    const agg = d.actions.find((a) => a.kind === 'aggregate');
    assert.ok(agg?.kind === 'aggregate');
    assert.notEqual(agg.key, oldKey);
    // Previous numbers stay visible until the new ones are in.
    assert.deepEqual(d.status?.best, done?.best);
    const d2 = reconcile(observed(edited, { jobs, collected: all, aggregate: { key: agg.key, summary: { ...s, k: 1, best: { ablation: 'full', ensembleMapAtK: 0.4 } } } }));
    assert.equal(d2.status?.phase, 'Succeeded');
    assert.deepEqual(d2.status?.best, { ablation: 'full', ensembleMapAtK: 0.4 });
    assert.equal(cond(d2.status, 'Complete')?.observedGeneration, 2);
  });

  it('suspended: no new Jobs; running ones go on; phase Suspended once none runs', () => {
    const f = ftj({ suspend: true });
    const d = reconcile(observed(f));
    assert.deepEqual(creates(d.actions), []);
    assert.equal(d.status?.phase, 'Suspended');
    assert.equal(cond(d.status, 'Progressing')?.reason, 'HoldingNewRuns');
    const running = reconcile(observed(f, { jobs: [job('full', 0)] }));
    assert.equal(running.status?.phase, 'Running');
    assert.deepEqual(creates(running.actions), []);
  });

  it('deletion: no Jobs, no status write, the collector is let go', () => {
    const d = reconcile(observed(ftj({}, undefined, { deletionTimestamp: '2026-11-27T12:00:00Z' })));
    assert.deepEqual(d.actions, [{ kind: 'forget' }]);
    assert.equal(d.status, undefined);
  });

  it('no stream or no validation set: Degraded with the reason, nothing started', () => {
    const d = reconcile(observed(ftj(), { stream: { ok: false, message: 'the controller runs without --nats' } }));
    assert.deepEqual(creates(d.actions), []);
    assert.equal(cond(d.status, 'Degraded')?.reason, 'PredictionStreamUnavailable');
    const v = reconcile(observed(ftj(), { validation: { ok: false, message: 'ENOENT /data/val.csv' } }));
    assert.deepEqual(creates(v.actions), []);
    assert.equal(cond(v.status, 'Degraded')?.reason, 'ValidationUnavailable');
    assert.match(v.status?.conditions?.find((c) => c.type === 'Degraded')?.message ?? '', /val\.csv/);
  });

  it('a spec the operator cannot run (unsupported URI) is terminal: Failed/InvalidSpec, no Jobs', () => {
    const d = reconcile(observed(ftj({ model: { uri: 's3://bucket/model' } })));
    assert.deepEqual(creates(d.actions), []);
    assert.equal(d.status?.phase, 'Failed');
    assert.equal(cond(d.status, 'Failed')?.reason, 'InvalidSpec');
    assert.match(d.status?.conditions?.find((c) => c.type === 'Failed')?.message ?? '', /spec\.model\.uri.*s3/);
    assert.deepEqual(events(d.actions), ['InvalidSpec']);
  });

  it('conditions keep lastTransitionTime while their status holds', () => {
    const s1 = reconcile(observed(ftj())).status;
    const s2 = reconcile(observed(ftj({}, s1), { now: NOW + 60_000 })).status;
    assert.equal(cond(s2, 'Progressing')?.status, 'True');
    assert.equal(s2?.conditions?.find((c) => c.type === 'Progressing')?.lastTransitionTime, '2026-11-27T12:00:00Z');
  });
});

describe('errorPolicy', () => {
  it('bad spec is terminal, a conflict retries at once, others back off exponentially up to a cap', () => {
    assert.ok('terminal' in errorPolicy(new InvalidSpecError('spec.x', 1, 'bad'), 0));
    assert.deepEqual(errorPolicy(new KubeApiError('patch', 'finetunejobs/a/status', 409, 'Conflict', 'stale'), 5), { requeueAfterMs: 100 });
    const d0 = errorPolicy(new Error('ECONNRESET'), 0);
    const d3 = errorPolicy(new Error('ECONNRESET'), 3);
    const d30 = errorPolicy(new Error('ECONNRESET'), 30);
    assert.ok('requeueAfterMs' in d0 && 'requeueAfterMs' in d3 && 'requeueAfterMs' in d30);
    assert.equal(d3.requeueAfterMs, d0.requeueAfterMs * 8);
    assert.equal(d30.requeueAfterMs, 60_000);
  });
});
