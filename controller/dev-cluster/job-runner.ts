// The Job controller and kubelet of the stand-in. For each batch/v1 Job it creates a Pod object
// (`<job>-<5 random>`, labels `job-name`/`controller-uid`, ownerReference to the Job) and runs the
// pod's first container as a local child process, so a FineTuneJob's trainer pods really train.
// It keeps Pod phase and Job status the way the real controllers do (active / succeeded / failed,
// startTime, completionTime, Complete / Failed conditions with BackoffLimitExceeded or
// DeadlineExceeded), honours backoffLimit (a new pod per retry), activeDeadlineSeconds, suspend
// and podFailurePolicy (an evicted pod matching `onPodConditions: DisruptionTarget → Ignore` does
// not count). Tests inject failures with `injectFailure`. Parallelism and completions are 1.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { ablateCommand, logger } from '../../common/mod.js';
import type { Registry } from './registry.js';
import { parseLabelSelector } from './selectors.js';
import type { Obj } from './store.js';

export interface JobRunnerOptions {
  /** Working directory of pod processes. @default process.cwd() */
  workdir?: string;
  /** Environment every pod process starts from, before the container's env. @default process.env */
  baseEnv?: NodeJS.ProcessEnv;
  /** Bytes of output kept per pod for `kubectl logs` (older output is dropped). @default 4194304 */
  maxLogBytes?: number;
}

/** @default 4 MiB */
export const DEFAULT_POD_LOG_BYTES = 4 * 1024 * 1024;
/** Real Job default when spec.backoffLimit is absent. */
const DEFAULT_JOB_BACKOFF_LIMIT = 6;
/** Letters the real controller uses for generated name suffixes (no vowels, no look-alikes). */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export interface FailureInjection {
  /** Jobs to affect, by name … */
  jobName?: string;
  /** … or by a label selector over the Job's labels. */
  labelSelector?: string;
  namespace?: string;
  /** How many pods to fail (each failure consumes one). */
  times: number;
  /** exit: the container exits 1 without running; kill: SIGKILL mid-run (exit 137);
   *  evict: the pod is evicted (DisruptionTarget condition, reason Evicted). */
  mode: 'exit' | 'kill' | 'evict';
}

interface PodLog {
  text: string;
  running: boolean;
  followers: Set<{ onChunk: (c: string) => void; onEnd: () => void }>;
}

type Container = {
  name?: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; fieldRef?: { fieldPath: string } } }[];
};

const nowIso = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Resolves one container's command: `ablate …` (or no command: the trainer image's entrypoint) runs this project's CLI. */
export function localCommand(c: Container): string[] {
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  if (c.command === undefined || c.command.length === 0) return [...ablateCommand(), ...argv];
  if (argv[0] === 'ablate') return [...ablateCommand(), ...argv.slice(1)];
  if (argv[0] === 'node') return [process.execPath, ...argv.slice(1)];
  return argv;
}

export class JobRunner {
  private readonly injections: (FailureInjection & { remaining: number })[] = [];
  private readonly children = new Map<string, ChildProcess>();
  private readonly logsByPod = new Map<string, PodLog>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly queue = new Set<string>();
  private readonly unsubscribe: (() => void)[] = [];
  private drainScheduled = false;
  private closed = false;
  private readonly log = logger({ component: 'dev-cluster-job-runner' });

  constructor(
    private readonly registry: Registry,
    private readonly opts: JobRunnerOptions = {},
  ) {}

  private get jobType() {
    return this.registry.typeFor('batch', 'v1', 'jobs')!;
  }
  private get podType() {
    return this.registry.typeFor('', 'v1', 'pods')!;
  }

  start(): void {
    const store = this.registry.store;
    this.unsubscribe.push(
      store.subscribe('batch/jobs', (e) => this.schedule(`${e.object.metadata.namespace}/${e.object.metadata.name}`), () => {}),
      store.subscribe(
        '/pods',
        (e) => {
          const pod = e.object;
          const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
          if ((e.type === 'DELETED' || pod.metadata.deletionTimestamp) && this.children.has(key)) this.children.get(key)!.kill('SIGKILL');
          const job = pod.metadata.labels?.['job-name'];
          if (job) this.schedule(`${pod.metadata.namespace}/${job}`);
        },
        () => {},
      ),
    );
    for (const j of store.list('batch/jobs')) this.schedule(`${j.metadata.namespace}/${j.metadata.name}`);
  }

  /** Makes the next `times` pods of matching Jobs fail in the given way. */
  injectFailure(f: FailureInjection): void {
    if (!f.jobName && !f.labelSelector) throw new Error('injectFailure needs jobName or labelSelector');
    this.injections.push({ ...f, remaining: f.times });
  }

  /** The output kept for a pod (stdout and stderr interleaved), or undefined if it never ran. */
  logs(namespace: string, pod: string): string | undefined {
    return this.logsByPod.get(`${namespace}/${pod}`)?.text;
  }

  isRunning(namespace: string, pod: string): boolean {
    return this.logsByPod.get(`${namespace}/${pod}`)?.running === true;
  }

  /** Streams further output of a running pod; returns a function that stops following. */
  followLogs(namespace: string, pod: string, onChunk: (c: string) => void, onEnd: () => void): () => void {
    const l = this.logsByPod.get(`${namespace}/${pod}`);
    if (!l?.running) {
      onEnd();
      return () => {};
    }
    const f = { onChunk, onEnd };
    l.followers.add(f);
    return () => l.followers.delete(f);
  }

  /** Kills every pod process and waits for them to exit. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    for (const u of this.unsubscribe.splice(0)) u();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    const exits = [...this.children.values()].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGKILL');
        }),
    );
    await Promise.all(exits);
  }

  private schedule(key: string): void {
    if (this.closed) return;
    this.queue.add(key);
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      for (const k of [...this.queue]) {
        this.queue.delete(k);
        if (this.closed) return;
        try {
          this.reconcile(k);
        } catch (err) {
          this.log.error({ err, job: k }, 'job runner reconcile failed; retrying in 1s');
          this.timers.set(`retry/${k}`, setTimeout(() => this.schedule(k), 1000));
        }
      }
    });
  }

  /** Records a core/v1 Event on the Job as the real job-controller does (`kubectl describe job`). */
  private event(job: Obj, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const now = nowIso();
    this.registry.create(this.registry.typeFor('', 'v1', 'events')!, job.metadata.namespace, {
      metadata: { generateName: `${job.metadata.name}.` },
      involvedObject: { apiVersion: 'batch/v1', kind: 'Job', namespace: job.metadata.namespace, name: job.metadata.name, uid: job.metadata.uid },
      type,
      reason,
      message,
      source: { component: 'job-controller' },
      reportingComponent: 'job-controller',
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
  }

  private writeJobStatus(job: Obj, status: Record<string, unknown>): void {
    if (JSON.stringify(job['status'] ?? {}) === JSON.stringify(status)) return;
    this.registry.update(this.jobType, job.metadata.namespace, job.metadata.name!, { ...job, status }, { subresource: 'status' });
  }

  private writePodStatus(ns: string, name: string, patch: (s: Record<string, unknown>) => Record<string, unknown>): void {
    const pod = this.registry.store.get('/pods', ns, name);
    if (!pod) return;
    const status = patch({ ...((pod['status'] as Record<string, unknown>) ?? {}) });
    this.registry.update(this.podType, ns, name, { ...pod, status }, { subresource: 'status' });
  }

  /** Does this failed pod count against backoffLimit, or does podFailurePolicy say otherwise? */
  private failureAction(job: Obj, pod: Obj): 'Count' | 'Ignore' | 'FailJob' {
    const rules = ((job['spec'] as { podFailurePolicy?: { rules?: unknown[] } }).podFailurePolicy?.rules ?? []) as {
      action: 'Count' | 'Ignore' | 'FailJob' | 'FailIndex';
      onPodConditions?: { type: string; status?: string }[];
      onExitCodes?: { containerName?: string; operator: 'In' | 'NotIn'; values: number[] };
    }[];
    const status = (pod['status'] ?? {}) as { conditions?: { type: string; status: string }[]; containerStatuses?: { name: string; state?: { terminated?: { exitCode: number } } }[] };
    for (const r of rules) {
      const byCondition = r.onPodConditions?.some((pc) => (status.conditions ?? []).some((c) => c.type === pc.type && c.status === (pc.status ?? 'True')));
      const byExit =
        r.onExitCodes &&
        (status.containerStatuses ?? []).some((cs) => {
          const code = cs.state?.terminated?.exitCode;
          if (code === undefined || code === 0) return false;
          if (r.onExitCodes!.containerName && r.onExitCodes!.containerName !== cs.name) return false;
          return r.onExitCodes!.operator === 'In' ? r.onExitCodes!.values.includes(code) : !r.onExitCodes!.values.includes(code);
        });
      if (byCondition || byExit) return r.action === 'FailIndex' ? 'FailJob' : r.action;
    }
    return 'Count';
  }

  private reconcile(key: string): void {
    const [ns, name] = key.split('/') as [string, string];
    const job = this.registry.store.get('batch/jobs', ns, name);
    if (!job || job.metadata.deletionTimestamp) return;
    const spec = (job['spec'] ?? {}) as { suspend?: boolean; backoffLimit?: number; activeDeadlineSeconds?: number; completions?: number };
    const status = { ...((job['status'] as Record<string, unknown> | undefined) ?? {}) };
    const conditions = [...((status['conditions'] as Record<string, unknown>[] | undefined) ?? [])];
    const finished = conditions.some((c) => (c['type'] === 'Complete' || c['type'] === 'Failed') && c['status'] === 'True');
    const pods = this.registry.podsOfJob(job);
    const active = pods.filter((p) => !['Succeeded', 'Failed'].includes(String((p['status'] as { phase?: string } | undefined)?.phase)) && !p.metadata.deletionTimestamp);
    const killActive = (): void => {
      for (const p of active) this.registry.delete(this.podType, ns, p.metadata.name!, { propagationPolicy: 'Background' });
    };
    if (finished) {
      if (active.length) killActive();
      return;
    }
    const setCondition = (type: string, reason: string, message: string, s = 'True'): void => {
      const now = nowIso();
      const i = conditions.findIndex((c) => c['type'] === type);
      const c = { type, status: s, reason, message, lastProbeTime: now, lastTransitionTime: now };
      if (i >= 0) {
        if (conditions[i]!['status'] !== s) conditions[i] = c;
      } else conditions.push(c);
    };
    if (spec.suspend) {
      killActive();
      if (!conditions.some((c) => c['type'] === 'Suspended' && c['status'] === 'True')) this.event(job, 'Normal', 'Suspended', 'Job suspended');
      setCondition('Suspended', 'JobSuspended', 'Job suspended');
      this.writeJobStatus(job, { ...status, active: 0, ready: 0, conditions });
      return;
    }
    if (conditions.some((c) => c['type'] === 'Suspended' && c['status'] === 'True')) {
      setCondition('Suspended', 'JobResumed', 'Job resumed', 'False');
      this.event(job, 'Normal', 'Resumed', 'Job resumed');
    }
    status['startTime'] ??= nowIso();
    let failed = 0;
    let failJob: string | undefined;
    for (const p of pods) {
      if ((p['status'] as { phase?: string } | undefined)?.phase !== 'Failed') continue;
      const action = this.failureAction(job, p);
      if (action === 'Count') failed++;
      if (action === 'FailJob') failJob = `Container of pod ${ns}/${p.metadata.name} matched a FailJob rule`;
    }
    const succeeded = pods.filter((p) => (p['status'] as { phase?: string } | undefined)?.phase === 'Succeeded').length;
    status['failed'] = failed;
    status['succeeded'] = succeeded;
    const terminal = (type: 'Complete' | 'Failed', reason: string, message: string): void => {
      killActive();
      if (type === 'Complete') setCondition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods');
      else setCondition('FailureTarget', reason, message);
      setCondition(type, type === 'Complete' ? 'CompletionsReached' : reason, message);
      if (type === 'Complete') status['completionTime'] = nowIso();
      this.event(job, type === 'Complete' ? 'Normal' : 'Warning', type === 'Complete' ? 'Completed' : reason, type === 'Complete' ? 'Job completed' : message);
      this.clearTimer(key);
      this.writeJobStatus(job, { ...status, active: 0, ready: 0, conditions });
    };
    const deadline = spec.activeDeadlineSeconds;
    const elapsed = Date.now() - Date.parse(String(status['startTime']));
    if (succeeded >= (spec.completions ?? 1)) return terminal('Complete', '', 'Reached expected number of succeeded pods');
    if (failJob) return terminal('Failed', 'PodFailurePolicy', failJob);
    if (failed > (spec.backoffLimit ?? DEFAULT_JOB_BACKOFF_LIMIT)) return terminal('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    if (deadline !== undefined && elapsed >= deadline * 1000) return terminal('Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline');
    if (deadline !== undefined && !this.timers.has(key)) this.timers.set(key, setTimeout(() => this.schedule(key), Math.max(0, deadline * 1000 - elapsed) + 10));
    let running = active.length;
    if (running === 0) {
      this.startPod(job);
      running = 1;
    }
    this.writeJobStatus(job, { ...status, active: running, ready: running, terminating: 0, conditions, uncountedTerminatedPods: {} });
  }

  private clearTimer(key: string): void {
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    this.timers.delete(key);
  }

  private takeInjection(job: Obj): FailureInjection['mode'] | undefined {
    const labels = job.metadata.labels ?? {};
    for (const f of this.injections) {
      if (f.remaining <= 0) continue;
      if (f.namespace && f.namespace !== job.metadata.namespace) continue;
      if (f.jobName && f.jobName !== job.metadata.name) continue;
      if (f.labelSelector && !parseLabelSelector(f.labelSelector)(labels)) continue;
      f.remaining--;
      return f.mode;
    }
    return undefined;
  }

  private resolveEnv(ns: string, pod: Obj, c: Container): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...(this.opts.baseEnv ?? process.env) };
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v: string) => env[v] ?? m);
      const ref = e.valueFrom?.secretKeyRef;
      if (ref) {
        const secret = this.registry.store.get('/secrets', ns, ref.name);
        const data = (secret?.['data'] ?? {}) as Record<string, string>;
        if (data[ref.key] !== undefined) env[e.name] = Buffer.from(data[ref.key]!, 'base64').toString('utf8');
        else if (!ref.optional) throw new Error(`secret "${ref.name}" key "${ref.key}" not found for env ${e.name} of pod ${ns}/${pod.metadata.name}`);
      }
      const field = e.valueFrom?.fieldRef?.fieldPath;
      if (field) {
        const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(field);
        env[e.name] = m
          ? ((pod.metadata[m[1] as 'labels' | 'annotations'] ?? {}) as Record<string, string>)[m[2]!] ?? ''
          : field === 'metadata.name'
            ? pod.metadata.name
            : field === 'metadata.namespace'
              ? ns
              : field === 'metadata.uid'
                ? pod.metadata.uid
                : field === 'status.podIP'
                  ? '127.0.0.1'
                  : '';
      }
    }
    return env;
  }

  private startPod(job: Obj): void {
    const ns = job.metadata.namespace!;
    const template = ((job['spec'] as { template?: { metadata?: Obj['metadata']; spec?: Record<string, unknown> } }).template ?? {});
    let suffix = '';
    for (let i = 0; i < 5; i++) suffix += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
    const podName = `${job.metadata.name}-${suffix}`;
    const pod = this.registry.create(this.podType, ns, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...(template.metadata ?? {}),
        name: podName,
        namespace: ns,
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name!, uid: job.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
      spec: { ...(template.spec ?? {}), nodeName: 'dev-cluster' },
    });
    this.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${podName}`);
    const containers = ((pod['spec'] as { containers?: Container[] }).containers ?? []) as Container[];
    const c = containers[0]!;
    const key = `${ns}/${podName}`;
    const log: PodLog = { text: '', running: true, followers: new Set() };
    this.logsByPod.set(key, log);
    const started = nowIso();
    this.writePodStatus(ns, podName, (s) => ({
      ...s,
      phase: 'Running',
      startTime: started,
      podIP: '127.0.0.1',
      hostIP: '127.0.0.1',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: started }],
      containerStatuses: [{ name: c.name ?? 'main', image: c.image ?? '', ready: true, restartCount: 0, started: true, state: { running: { startedAt: started } } }],
    }));
    const mode = this.takeInjection(job);
    const append = (chunk: string): void => {
      log.text += chunk;
      const max = this.opts.maxLogBytes ?? DEFAULT_POD_LOG_BYTES;
      if (log.text.length > max) log.text = log.text.slice(log.text.length - max);
      for (const f of log.followers) f.onChunk(chunk);
    };
    const finish = (exitCode: number, evicted: boolean): void => {
      log.running = false;
      for (const f of log.followers) f.onEnd();
      log.followers.clear();
      this.children.delete(key);
      if (this.closed) return;
      const finishedAt = nowIso();
      this.writePodStatus(ns, podName, (s) => ({
        ...s,
        phase: exitCode === 0 ? 'Succeeded' : 'Failed',
        ...(evicted ? { reason: 'Evicted', message: 'The pod was evicted by the dev-cluster failure injector' } : {}),
        conditions: [
          { type: 'Ready', status: 'False', reason: 'PodCompleted', lastTransitionTime: finishedAt },
          ...(evicted ? [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting', lastTransitionTime: finishedAt }] : []),
        ],
        containerStatuses: [
          {
            name: c.name ?? 'main',
            image: c.image ?? '',
            ready: false,
            restartCount: 0,
            started: false,
            state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: started, finishedAt } },
          },
        ],
      }));
    };
    if (mode === 'exit') {
      append('dev-cluster: injected failure: container exited with code 1\n');
      setImmediate(() => finish(1, false));
      return;
    }
    let argv: string[];
    let env: NodeJS.ProcessEnv;
    try {
      argv = localCommand(c);
      env = this.resolveEnv(ns, pod, c);
    } catch (err) {
      append(`dev-cluster: ${(err as Error).message}\n`);
      setImmediate(() => finish(1, false));
      return;
    }
    const child = spawn(argv[0]!, argv.slice(1), { cwd: this.opts.workdir ?? process.cwd(), env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.set(key, child);
    child.stdout!.setEncoding('utf8').on('data', append);
    child.stderr!.setEncoding('utf8').on('data', append);
    child.on('error', (err) => append(`dev-cluster: cannot start ${argv[0]}: ${err.message}\n`));
    child.on('close', (code, signal) => finish(mode === 'evict' ? 137 : code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : 1), mode === 'evict'));
    this.log.info({ job: job.metadata.name, pod: podName, argv }, 'pod started');
    if (mode === 'kill' || mode === 'evict') setTimeout(() => child.kill('SIGKILL'), 50);
  }
}
