// The operator: informers on FineTuneJobs and on the Jobs they own, a per-key work queue, one
// prediction collector per FineTuneJob on the shared stream, the pure `reconcile` in between,
// Events, status through the status subresource, leader election, metrics and probes.
//
// Flow (per FineTuneJob key `<namespace>/<name>`, one worker at a time):
//   read the cached FineTuneJob → ensure its study state (validation set read, collector started
//   on a fresh durable that replays the job's subjects from the stream's start) → reconcile →
//   create Jobs → (aggregate, then reconcile again) → patch status (merge patch guarded by the
//   read resourceVersion: a concurrent writer gives 409 and a retry with fresh data) → Events.
//
// Guarantees
//   - Jobs have deterministic names; a create that meets AlreadyExists is taken as done, so a
//     restart or a second leader never creates a Job twice.
//   - Nothing is lost across restarts: predictions live in the JetStream stream (limits
//     retention); each controller process replays the job's subjects on its own durable and the
//     collector dedupes and verifies. Results already in the status stay there while the replay
//     catches up. Editing `spec.evaluation` re-aggregates the same predictions.
//   - Finished Jobs are kept (their logs and history stay visible) and go with the FineTuneJob
//     by garbage collection (ownerReference), i.e. only after their results are in the status.
//
// Caveats
//   - The controller must read the validation file (it scores the predictions): run it with the
//     data volume mounted, or `--base-dir` pointing where relative URIs live.
//   - A controller that is killed (not drained) leaves its durable consumers behind; the next one
//     uses new durables. The server deletes the old ones after `consumerInactiveThresholdMs`
//     (1 h) without a consumer; a live controller's are pulled from continuously and stay.
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { Server } from 'node:http';
import type * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, expandRuns, PLURAL, resolveUri, withDefaults, type FineTuneJob, type FineTuneJobStatus } from '../../api/mod.js';
import { logger } from '../../common/mod.js';
import { jobFilter, NatsTransport, type Transport } from '../../protocol/mod.js';
import type { QuestionSet } from '../../trainer/mod.js';
import { aggregateStudy } from '../aggregate/mod.js';
import { Collector, runKey, type CollectedRun, type CollectorCounters, type RunKey } from '../collector/mod.js';
import { createConcurrently, CREATES_IN_FLIGHT } from './creates.js';
import { InvalidSpecError, KubeApiError } from './errors.js';
import { KeepAliveAuth, keepAliveClient } from './http.js';
import { WatchedInformer } from './informer.js';
import type { JobObject } from './job.js';
import { LeaderElector, microTime } from './leader.js';
import { CONTROLLER_NAME, LABEL_JOB, runUidPrefix } from './names.js';
import { errorPolicy, reconcile, type Action, type Decision, type JobLike, type Observed } from './reconcile.js';
import { createMetrics, serve, type OperatorMetrics } from './server.js';
import { WorkQueue } from './queue.js';
import { compileSettings, type CompiledSettings, type OperatorOptions } from './settings.js';

export interface OperatorCreateOptions extends OperatorOptions {
  /** A kubeconfig file, a loaded KubeConfig, or absent: in-cluster / ~/.kube/config. */
  kubeconfig?: string | k8s.KubeConfig;
  /** A transport to use instead of connecting to `natsUrl` (tests). */
  transport?: Transport;
  /** Called when leadership is lost (the CLI exits so the pod restarts clean). */
  onLostLeadership?: () => void;
}

interface Study {
  uid: string;
  key: string;
  durable: string;
  collector?: Collector;
  since: number;
  validation: { ok: true; set: QuestionSet } | { ok: false; message: string };
  collected: Map<RunKey, CollectedRun>;
  failures: Map<RunKey, string>;
  aggregate?: Observed['aggregate'];
  counters: CollectorCounters | undefined;
  runPhases: Record<string, number>;
}

/** Lifecycle: 'starting' in create(); 'standby' (leader election, not leading); 'running'; 'closing' from close(); 'closed'. */
export type OperatorState = 'starting' | 'standby' | 'running' | 'closing' | 'closed';

export class Operator {
  readonly metrics: OperatorMetrics;
  private _state: OperatorState = 'starting';
  private k!: typeof k8s;
  private kc!: k8s.KubeConfig;
  private custom!: k8s.CustomObjectsApi;
  private batch!: k8s.BatchV1Api;
  private events!: k8s.EventsV1Api;
  private auth: KeepAliveAuth | undefined;
  private transport: Transport | undefined;
  private ownsTransport = false;
  private ftjInformers: WatchedInformer<k8s.KubernetesObject>[] = [];
  private jobInformers: WatchedInformer<k8s.KubernetesObject>[] = [];
  private queue: WorkQueue | undefined;
  private elector: LeaderElector | undefined;
  private servers: Server[] = [];
  private resync: NodeJS.Timeout | undefined;
  private readonly studies = new Map<string, Study>();
  private readonly pendingCreates = new Map<string, Set<string>>();
  /** Per key: the resourceVersion this controller's last successful status write was based on. */
  private readonly statusWrites = new Map<string, { uid: string | undefined; basedOn: string | undefined }>();
  private readonly validationSets = new Map<string, { size: number; mtimeMs: number; set: WeakRef<QuestionSet> }>();
  /** Runs per phase over every study (the runs gauge), kept by difference as studies change. */
  private readonly runTotals: Record<string, number> = { Pending: 0, Running: 0, Succeeded: 0, Failed: 0 };
  private readonly retries = new Map<string, number>();
  private readonly instance = randomBytes(3).toString('hex');
  private readonly log = logger({ component: 'operator' });
  private closing: Promise<void> | undefined;
  private synced = false;

  private constructor(
    readonly settings: CompiledSettings,
    metrics: OperatorMetrics,
    private readonly opts: OperatorCreateOptions,
  ) {
    this.metrics = metrics;
  }

  static async create(opts: OperatorCreateOptions): Promise<Operator> {
    const settings = compileSettings(opts);
    const op = new Operator(settings, await createMetrics(), opts);
    try {
      await op.start();
    } catch (err) {
      await op.close();
      throw err;
    }
    return op;
  }

  get state(): OperatorState {
    return this._state;
  }

  /** Bound addresses of the metrics and probe servers (port 0 picks one). */
  addresses(): string[] {
    return this.servers.map((s) => {
      const a = s.address();
      return typeof a === 'object' && a ? `${a.address}:${a.port}` : String(a);
    });
  }

  private async start(): Promise<void> {
    this.k = await import('@kubernetes/client-node');
    if (typeof this.opts.kubeconfig === 'object') this.kc = this.opts.kubeconfig;
    else {
      this.kc = new this.k.KubeConfig();
      if (this.opts.kubeconfig) this.kc.loadFromFile(this.opts.kubeconfig);
      else this.kc.loadFromDefault();
    }
    // One keep-alive agent for every API call (client-node would open a connection per request).
    this.auth = new KeepAliveAuth(this.kc);
    this.custom = keepAliveClient(this.k, this.kc, this.auth, this.k.CustomObjectsApi);
    this.batch = keepAliveClient(this.k, this.kc, this.auth, this.k.BatchV1Api);
    this.events = keepAliveClient(this.k, this.kc, this.auth, this.k.EventsV1Api);
    const s = this.settings;
    const probes = { healthy: () => this._state !== 'closed', ready: () => this._state === 'standby' || (this._state === 'running' && this.synced) };
    if (s.metrics) this.servers.push(await serve(s.metrics, s.probe && sameAddr(s.metrics, s.probe) ? { metrics: this.metrics.registry, probes } : { metrics: this.metrics.registry }));
    if (s.probe && !(s.metrics && sameAddr(s.metrics, s.probe))) this.servers.push(await serve(s.probe, { probes }));
    if (this.opts.transport) this.transport = this.opts.transport;
    else if (s.natsUrl) {
      this.transport = await NatsTransport.create({ servers: s.natsUrl, stream: s.stream, subjects: [`${s.prefix}.>`], name: `ablate-controller-${this.instance}`, inactiveThresholdMs: s.consumerInactiveThresholdMs });
      this.ownsTransport = true;
    }
    if (s.leaderElect) {
      this._state = 'standby';
      this.elector = await LeaderElector.create({
        kc: this.kc,
        namespace: s.leaseNamespace,
        name: s.leaseName,
        identity: s.identity,
        onStartedLeading: async () => {
          this.metrics.isLeader.set(1);
          await this.startControllers();
        },
        onStoppedLeading: () => {
          this.metrics.isLeader.set(0);
          this.log.error('lost leadership; stopping');
          void this.close().then(() => this.opts.onLostLeadership?.());
        },
      });
    } else {
      await this.startControllers();
    }
  }

  /** Resolves once informers have listed and the first reconciles were queued. */
  private async startControllers(): Promise<void> {
    if (this._state === 'closing' || this._state === 'closed') return;
    this._state = 'running';
    this.queue = new WorkQueue(
      (key) => this.handle(key),
      this.settings.queueWorkers,
      (key, err) => this.log.error({ key, err }, 'work queue handler threw'),
    );
    const namespaces = this.settings.namespaces.length > 0 ? this.settings.namespaces : [undefined];
    for (const ns of namespaces) {
      const where = ns ? `/namespaces/${ns}` : '';
      this.ftjInformers.push(
        await WatchedInformer.start({
          kc: this.kc,
          name: `finetunejobs${ns ? `@${ns}` : ''}`,
          path: `/apis/${API_GROUP}/${API_VERSION}${where}/${PLURAL}`,
          list: () =>
            (ns
              ? this.custom.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: ns, plural: PLURAL })
              : this.custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: PLURAL })) as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>,
          onEvent: (_type, obj) => this.enqueue(`${obj.metadata?.namespace ?? 'default'}/${obj.metadata?.name ?? ''}`),
          onRestart: (reason) => this.metrics.informerRestarts.inc({ informer: 'finetunejobs', reason }),
        }),
      );
      this.jobInformers.push(
        await WatchedInformer.start({
          kc: this.kc,
          name: `jobs${ns ? `@${ns}` : ''}`,
          path: `/apis/batch/v1${where}/jobs`,
          labelSelector: LABEL_JOB,
          // A reconcile reads only its own Jobs: `<namespace>/<FineTuneJob name>`, the queue key.
          indexBy: (obj) => {
            const owner = obj.metadata?.labels?.[LABEL_JOB];
            return owner === undefined ? undefined : `${obj.metadata?.namespace ?? 'default'}/${owner}`;
          },
          list: () => (ns ? this.batch.listNamespacedJob({ namespace: ns, labelSelector: LABEL_JOB }) : this.batch.listJobForAllNamespaces({ labelSelector: LABEL_JOB })) as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>,
          onEvent: (_type, obj) => {
            const key = `${obj.metadata?.namespace ?? 'default'}/${obj.metadata?.labels?.[LABEL_JOB] ?? ''}`;
            this.pendingCreates.get(key)?.delete(obj.metadata?.name ?? '');
            this.enqueue(key);
          },
          onRestart: (reason) => this.metrics.informerRestarts.inc({ informer: 'jobs', reason }),
        }),
      );
    }
    this.synced = true;
    for (const f of this.allFtjs()) this.enqueue(keyOf(f));
    // The safety net for missed watch events: every FineTuneJob is reconciled at least this often.
    this.resync = setInterval(() => {
      for (const f of this.allFtjs()) this.enqueue(keyOf(f));
    }, this.settings.resyncMs);
    this.resync.unref();
    this.log.info({ namespaces: this.settings.namespaces.length > 0 ? this.settings.namespaces : 'all', nats: this.transport?.description ?? 'none' }, 'controller running');
  }

  private enqueue(key: string): void {
    this.queue?.add(key);
    this.metrics.queueDepth.set(this.queue?.depth ?? 0);
  }

  private allFtjs(): FineTuneJob[] {
    return this.ftjInformers.flatMap((i) => i.list() as unknown as FineTuneJob[]);
  }

  private cachedFtj(namespace: string, name: string): FineTuneJob | undefined {
    for (const i of this.ftjInformers) {
      const f = i.get(name, namespace);
      if (f) return f as unknown as FineTuneJob;
    }
    return undefined;
  }

  private async handle(key: string): Promise<{ requeueAfterMs?: number }> {
    this.metrics.queueDepth.set(this.queue?.depth ?? 0);
    const [ns, name] = key.split('/') as [string, string];
    const ftj = this.cachedFtj(ns, name);
    const log = logger({ job: name, namespace: ns });
    try {
      if (!ftj) {
        await this.forget(key);
        return {};
      }
      const decision = await this.reconcileOnce(key, ftj);
      this.retries.delete(key);
      this.metrics.reconciles.inc({ result: 'ok' });
      return decision.requeueAfterMs === undefined ? {} : { requeueAfterMs: decision.requeueAfterMs };
    } catch (err) {
      const n = this.retries.get(key) ?? 0;
      this.retries.set(key, n + 1);
      const d = errorPolicy(err, n);
      if ('terminal' in d) {
        this.metrics.reconciles.inc({ result: 'terminal' });
        log.error({ err: d.terminal.message }, 'terminal error');
        return {};
      }
      this.metrics.reconciles.inc({ result: 'error' });
      this.metrics.errors.inc({ kind: err instanceof KubeApiError ? 'api' : 'reconcile' });
      log.warn({ err: err instanceof Error ? err.message : String(err), retryInMs: d.requeueAfterMs }, 'reconcile failed; will retry');
      return { requeueAfterMs: d.requeueAfterMs };
    }
  }

  private async reconcileOnce(key: string, ftj: FineTuneJob): Promise<Decision> {
    const study = ftj.metadata['deletionTimestamp'] ? undefined : await this.studyFor(key, ftj);
    let decision: Decision;
    for (let round = 0; ; round++) {
      decision = reconcile(this.observe(key, ftj, study));
      const aggregate = decision.actions.find((a): a is Extract<Action, { kind: 'aggregate' }> => a.kind === 'aggregate');
      if (!aggregate || !study || round > 0) break;
      this.aggregate(ftj, study, aggregate);
    }
    const creates = decision.actions.flatMap((a) => (a.kind === 'createJob' ? [a.job] : []));
    await createConcurrently(creates, CREATES_IN_FLIGHT, (job) => this.createJob(key, job));
    if (decision.actions.some((a) => a.kind === 'forget')) await this.forget(key);
    // The cache has not shown this controller's last status write yet (the cached object is the one
    // that write was based on): a status and Events computed from it are stale, and a patch would
    // only meet a 409. The write's own watch event requeues this key with fresh data.
    const written = this.statusWrites.get(key);
    if (written && written.uid === ftj.metadata.uid && written.basedOn !== undefined && written.basedOn === ftj.metadata.resourceVersion) return decision;
    if (decision.status && study) {
      this.countRuns(study, decision.status);
      if (canonicalJson(decision.status) !== canonicalJson(ftj.status ?? {})) {
        const stored = await this.patchStatus(ftj, decision.status);
        // A write the server found unchanged (a field it pruned, a key a merge patch cannot drop)
        // keeps the resourceVersion and sends no watch event: recording it would skip every later
        // reconcile's status until something else changed the object.
        if (stored !== undefined && stored !== ftj.metadata.resourceVersion) this.statusWrites.set(key, { uid: ftj.metadata.uid, basedOn: ftj.metadata.resourceVersion });
        else this.statusWrites.delete(key);
      }
    }
    for (const a of decision.actions) if (a.kind === 'event') await this.recordEvent(ftj, a);
    return decision;
  }

  private observe(key: string, ftj: FineTuneJob, study: Study | undefined): Observed {
    const ns = ftj.metadata.namespace ?? 'default';
    // The index holds this FineTuneJob's Jobs by label (a few per study, whatever the cluster
    // holds); an older FineTuneJob of the same name owned the rest.
    const jobs = this.jobInformers
      .flatMap((i) => i.indexed(`${ns}/${ftj.metadata.name}`) as unknown as Array<JobLike & { metadata: { ownerReferences?: Array<{ uid: string }> } }>)
      .filter((j) => (j.metadata.ownerReferences ?? []).some((r) => r.uid === ftj.metadata.uid));
    const collected = new Map<RunKey, { count: number }>();
    for (const [k, r] of study?.collected ?? []) collected.set(k, { count: r.count });
    return {
      ftj,
      jobs,
      collected,
      collectorFailures: study?.failures ?? new Map(),
      pendingCreates: this.pendingCreates.get(key) ?? new Set(),
      aggregate: study?.aggregate,
      stream: this.transport && study?.collector ? { ok: true, since: study.since } : { ok: false, message: this.transport ? 'collector not started' : 'the controller runs without --nats: no predictions can be collected' },
      validation: study?.validation.ok ? { ok: true, questions: study.validation.set.questions.length, sha256: study.validation.set.sha256 } : { ok: false, message: study?.validation.ok === false ? study.validation.message : 'not read yet' },
      now: Date.now(),
      settings: { ...this.settings },
    };
  }

  /** The study state of `ftj`: its validation set and its collector (started once per uid). */
  private async studyFor(key: string, ftj: FineTuneJob): Promise<Study> {
    const uid = ftj.metadata.uid ?? '';
    let study = this.studies.get(key);
    if (study && study.uid !== uid) {
      await this.forget(key);
      study = undefined;
    }
    if (!study) {
      study = { uid, key, durable: `ablate-op-${uid}-${this.instance}`, since: Date.now(), validation: { ok: false, message: 'not read yet' }, collected: new Map(), failures: new Map(), counters: undefined, runPhases: {} };
      this.studies.set(key, study);
    }
    if (!study.validation.ok) {
      try {
        const spec = withDefaults(ftj.spec);
        const path = resolveUri(spec.data.validation.uri, this.settings.baseDir);
        const set = await this.readValidation(path);
        if (spec.data.validation.sha256 && spec.data.validation.sha256 !== set.sha256) {
          throw new InvalidSpecError('spec.data.validation.sha256', spec.data.validation.sha256, `${path} has sha256 ${set.sha256}`);
        }
        study.validation = { ok: true, set };
      } catch (err) {
        study.validation = { ok: false, message: `cannot read the validation set (${ftj.spec.data.validation.uri}, base dir ${this.settings.baseDir}): ${err instanceof Error ? err.message : String(err)}` };
      }
    }
    if (!study.collector && this.transport && study.validation.ok) {
      const set = study.validation.set;
      const expected = new Map(
        expandRuns(ftj.spec).map((r) => [runKey(r.ablation, r.seed), { expectedCount: set.questions.length, validationSha256: set.sha256, runUidPrefix: runUidPrefix(uid, r.ablation, r.seed) }]),
      );
      const s = study;
      study.since = Date.now();
      study.collector = await Collector.create({
        transport: this.transport,
        filter: jobFilter({ prefix: this.settings.prefix, namespace: ftj.metadata.namespace ?? 'default', job: ftj.metadata.name }),
        durable: study.durable,
        expected,
        prefix: this.settings.prefix,
        onRunComplete: (k, result) => {
          s.collected.set(k, result);
          s.failures.delete(k);
          this.syncCounters(s);
          this.enqueue(key);
        },
        onRunFailed: (k, failure) => {
          s.failures.set(k, failure.message);
          this.syncCounters(s);
          this.enqueue(key);
        },
      });
    }
    return study;
  }

  /**
   * A validation file's questions, shared by every study that reads the same unchanged file (a
   * set is ~180 KiB for 400 questions, most of a study's memory when each kept its own copy).
   * Held weakly: the last study to let go of a set frees it.
   */
  private async readValidation(path: string): Promise<QuestionSet> {
    const st = await stat(path);
    const hit = this.validationSets.get(path);
    const cached = hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs ? hit.set.deref() : undefined;
    if (cached) return cached;
    const { readQuestionsCsv } = await import('../../trainer/mod.js');
    const set = await readQuestionsCsv(path, { requireAnswer: true });
    this.validationSets.set(path, { size: st.size, mtimeMs: st.mtimeMs, set: new WeakRef(set) });
    return set;
  }

  private aggregate(ftj: FineTuneJob, study: Study, a: Extract<Action, { kind: 'aggregate' }>): void {
    if (!study.validation.ok) return;
    const spec = withDefaults(ftj.spec);
    const set = study.validation.set;
    const include = new Set(a.runs);
    const runs = expandRuns(ftj.spec).map((r) => {
      const c = include.has(runKey(r.ablation, r.seed)) ? study.collected.get(runKey(r.ablation, r.seed)) : undefined;
      return { ablation: r.ablation, seed: r.seed, ids: c?.ids ?? [], probs: c ? c.probs : null };
    });
    const agg = aggregateStudy({
      questionIds: set.questions.map((q) => q.id),
      answers: set.questions.map((q) => q.answer ?? -1),
      options: set.letters.length,
      runs,
      ablations: [...new Set(runs.map((r) => r.ablation))],
      baseline: spec.evaluation.baseline,
      k: spec.evaluation.k,
      ensemble: spec.evaluation.ensemble,
      bootstrap: spec.evaluation.bootstrap,
    });
    study.aggregate = { key: a.key, summary: agg.summary };
  }

  private async createJob(key: string, job: JobObject): Promise<void> {
    let pending = this.pendingCreates.get(key);
    if (!pending) this.pendingCreates.set(key, (pending = new Set()));
    try {
      await this.batch.createNamespacedJob({ namespace: job.metadata.namespace, body: job as unknown as k8s.V1Job });
      logger({ job: job.metadata.labels['ablate.dev/job'], ablation: job.metadata.labels['ablate.dev/ablation'], seed: job.metadata.labels['ablate.dev/seed'] }).info({ jobName: job.metadata.name }, `created Job ${job.metadata.name}`);
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code !== 409) throw apiError('create', `jobs/${job.metadata.name}`, err);
    }
    if (!this.jobInformers.some((i) => i.get(job.metadata.name, job.metadata.namespace) !== undefined)) pending.add(job.metadata.name);
  }

  /** Merge-patches the status (precondition: the cached resourceVersion); the stored object's resourceVersion. */
  private async patchStatus(ftj: FineTuneJob, status: FineTuneJobStatus): Promise<string | undefined> {
    try {
      const stored = (await this.custom.patchNamespacedCustomObjectStatus(
        { group: API_GROUP, version: API_VERSION, namespace: ftj.metadata.namespace ?? 'default', plural: PLURAL, name: ftj.metadata.name, body: { metadata: { resourceVersion: ftj.metadata.resourceVersion }, status } },
        this.k.setHeaderOptions('Content-Type', this.k.PatchStrategy.MergePatch),
      )) as { metadata?: { resourceVersion?: unknown } } | undefined;
      const rv = stored?.metadata?.resourceVersion;
      return typeof rv === 'string' ? rv : undefined;
    } catch (err) {
      throw apiError('patch', `finetunejobs/${ftj.metadata.name}/status`, err);
    }
  }

  private async recordEvent(ftj: FineTuneJob, e: Extract<Action, { kind: 'event' }>): Promise<void> {
    const namespace = ftj.metadata.namespace ?? 'default';
    const body: k8s.EventsV1Event = {
      metadata: { generateName: `${ftj.metadata.name}.`, namespace },
      eventTime: microTime(),
      reportingController: CONTROLLER_NAME,
      reportingInstance: this.settings.identity,
      action: e.action,
      reason: e.reason,
      type: e.type,
      note: e.note,
      regarding: { apiVersion: ftj.apiVersion, kind: ftj.kind, name: ftj.metadata.name, namespace, uid: ftj.metadata.uid ?? '' },
    };
    if (e.jobName) body.related = { apiVersion: 'batch/v1', kind: 'Job', name: e.jobName, namespace };
    try {
      await this.events.createNamespacedEvent({ namespace, body });
    } catch (err) {
      // An Event is a courtesy; losing one must not stop reconciling.
      this.metrics.errors.inc({ kind: 'api' });
      logger({ job: ftj.metadata.name }).warn({ err: apiError('create', 'events', err).message }, 'recording an Event failed');
    }
  }

  private countRuns(study: Study, status: FineTuneJobStatus): void {
    const phases: Record<string, number> = { Pending: 0, Running: 0, Succeeded: 0, Failed: 0 };
    for (const r of status.runs ?? []) phases[r.phase] = (phases[r.phase] ?? 0) + 1;
    this.setRunPhases(study, phases);
  }

  /** Replaces a study's share of the runs gauge (O(phases), not O(studies)). */
  private setRunPhases(study: Study, phases: Record<string, number>): void {
    for (const [p, n] of Object.entries(study.runPhases)) this.runTotals[p] = (this.runTotals[p] ?? 0) - n;
    for (const [p, n] of Object.entries(phases)) this.runTotals[p] = (this.runTotals[p] ?? 0) + n;
    study.runPhases = phases;
    for (const [phase, n] of Object.entries(this.runTotals)) this.metrics.runs.set({ phase }, n);
  }

  /** Adds the collector's counter increments since last time to the prediction-message metric. */
  private syncCounters(study: Study): void {
    const now = study.collector?.counters;
    if (!now) return;
    const before = study.counters;
    for (const kind of ['progress', 'chunks', 'done', 'invalid', 'duplicates', 'stale', 'foreign', 'unexpected'] as const) {
      const d = now[kind] - (before?.[kind] ?? 0);
      if (d > 0) this.metrics.predictionMessages.inc({ kind }, d);
    }
    study.counters = { ...now };
  }

  /** Stops collecting for `key` and deletes its durable (the stream keeps the messages). */
  private async forget(key: string): Promise<void> {
    const study = this.studies.get(key);
    this.studies.delete(key);
    this.pendingCreates.delete(key);
    this.retries.delete(key);
    this.statusWrites.delete(key);
    if (!study) return;
    this.setRunPhases(study, {});
    if (study.collector) {
      this.syncCounters(study);
      await study.collector.close();
      if (this.transport instanceof NatsTransport) await this.transport.deleteConsumer(study.durable).catch(() => false);
    }
  }

  /**
   * Drains: no new work is taken, reconciles in progress finish, collectors give back what they
   * hold and their durables are deleted, the Lease is released, servers stop. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this._state = 'closing';
      if (this.resync) clearInterval(this.resync);
      await this.queue?.shutdown();
      await Promise.all([...this.ftjInformers, ...this.jobInformers].map((i) => i.close()));
      for (const key of [...this.studies.keys()]) await this.forget(key);
      this.auth?.close();
      if (this.ownsTransport) await this.transport?.close();
      await this.elector?.close();
      await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      this._state = 'closed';
      this.log.info('controller stopped');
    })();
    return this.closing;
  }
}

/**
 * JSON for comparing a computed status with the one read back: object keys sorted (a real API
 * server stores custom resources as sorted maps, not in the order written) and null-valued
 * properties left out (in a merge patch `"best": null` deletes the field, so it reads back
 * absent). Either difference alone would cost a status write on every reconcile.
 */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (x === null || typeof x !== 'object' || Array.isArray(x)) return x;
    const o = x as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .filter((k) => o[k] !== null)
        .map((k) => [k, o[k]]),
    );
  });
}

function keyOf(f: FineTuneJob): string {
  return `${f.metadata.namespace ?? 'default'}/${f.metadata.name}`;
}

function sameAddr(a: { host: string; port: number }, b: { host: string; port: number }): boolean {
  return a.host === b.host && a.port === b.port && a.port !== 0;
}

function apiError(verb: string, resource: string, err: unknown): KubeApiError {
  const code = (err as { code?: number }).code;
  let reason: string | undefined;
  let message = err instanceof Error ? err.message : String(err);
  const body = (err as { body?: unknown }).body;
  try {
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as { reason?: string; message?: string } | undefined;
    reason = status?.reason;
    if (status?.message) message = status.message;
  } catch {
    // A body that is not a Status: keep the error's own message.
  }
  return new KubeApiError(verb, resource, code, reason, message, { cause: err });
}
