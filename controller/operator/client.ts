// The user side of the operator, for `ablate submit|status|watch|report NAME`: reading and
// writing FineTuneJobs through the API server, and turning a status into the results a report
// renders (the same StudyResults shape `ablate run` writes).
import { API_GROUP, API_VERSION, KIND, loadFineTuneJob, parseResourceFile, PLURAL, withDefaults, type FineTuneJob } from '../../api/mod.js';
import { decodeMessage, parseSubject, type Transport } from '../../protocol/mod.js';
import type { RunCurves, StudyResults } from '../report/mod.js';
import { FineTuneJobNotFoundError, KubeApiError } from './errors.js';

export interface ClientOptions {
  /** Kubeconfig file; absent: in-cluster, else ~/.kube/config. */
  kubeconfig?: string | undefined;
  /** @default the kubeconfig context's namespace, else 'default' */
  namespace?: string | undefined;
}

export interface FineTuneJobClient {
  namespace: string;
  get(name: string): Promise<FineTuneJob>;
  /** Server-side apply: creates the FineTuneJob or updates the fields this file sets. */
  apply(job: FineTuneJob): Promise<{ job: FineTuneJob; created: boolean }>;
}

export async function fineTuneJobClient(o: ClientOptions = {}): Promise<FineTuneJobClient> {
  const k = await import('@kubernetes/client-node');
  const kc = new k.KubeConfig();
  if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
  else kc.loadFromDefault();
  const namespace = o.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const api = kc.makeApiClient(k.CustomObjectsApi);
  const g = { group: API_GROUP, version: API_VERSION, namespace, plural: PLURAL };
  const get = async (name: string): Promise<FineTuneJob> => {
    try {
      return (await api.getNamespacedCustomObject({ ...g, name })) as FineTuneJob;
    } catch (err) {
      if ((err as { code?: number }).code === 404) throw new FineTuneJobNotFoundError(namespace, name);
      throw wrap('get', `finetunejobs/${name}`, err);
    }
  };
  return {
    namespace,
    get,
    apply: async (job) => {
      const existed = await get(job.metadata.name).then(
        () => true,
        (err: unknown) => {
          if (err instanceof FineTuneJobNotFoundError) return false;
          throw err;
        },
      );
      const body = { ...job, metadata: { ...job.metadata, namespace } };
      try {
        const out = (await api.patchNamespacedCustomObject({ ...g, name: job.metadata.name, body, fieldManager: 'ablate-cli', force: true }, k.setHeaderOptions('Content-Type', k.PatchStrategy.ServerSideApply))) as FineTuneJob;
        return { job: out, created: !existed };
      } catch (err) {
        throw wrap('apply', `finetunejobs/${job.metadata.name}`, err);
      }
    },
  };
}

function wrap(verb: string, resource: string, err: unknown): KubeApiError {
  const e = err as { code?: number; body?: unknown; message?: string };
  let reason: string | undefined;
  let message = e.message ?? String(err);
  try {
    const s = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as { reason?: string; message?: string } | undefined;
    reason = s?.reason;
    if (s?.message) message = s.message;
  } catch {
    // Not a Status body: keep the client's message.
  }
  return new KubeApiError(verb, resource, e.code, reason, message, { cause: err });
}

/** Reads and validates a FineTuneJob file offline (throws InvalidResourceError), returning it as written (no defaults). */
export function readFineTuneJobFile(path: string): FineTuneJob {
  loadFineTuneJob(path);
  const doc = parseResourceFile(path).documents.find((d) => (d.value as { kind?: unknown } | undefined)?.kind === KIND);
  return doc?.value as FineTuneJob;
}

/** The StudyResults a report renders, from a FineTuneJob's status (cluster runs keep no files). */
export function resultsFromStatus(ftj: FineTuneJob, now: Date = new Date()): StudyResults {
  const spec = withDefaults(ftj.spec);
  const s = ftj.status ?? {};
  const baseline = spec.evaluation.baseline;
  const expected = Math.max(0, ...(s.runs ?? []).map((r) => r.predictions?.expected ?? 0));
  return {
    job: ftj.metadata.name,
    namespace: ftj.metadata.namespace ?? 'default',
    createdAt: now.toISOString(),
    k: spec.evaluation.k,
    evaluation: { k: spec.evaluation.k, ensemble: spec.evaluation.ensemble, baseline, bootstrap: spec.evaluation.bootstrap },
    validation: { path: spec.data.validation.uri, sha256: spec.data.validation.sha256 ?? '', questions: expected },
    runs: (s.runs ?? []).map((r) => ({
      ablation: r.ablation,
      seed: r.seed,
      phase: r.phase,
      attempts: r.attempts,
      mapAtK: r.mapAtK ?? null,
      predictions: r.predictions ?? { received: 0, expected },
      files: { probabilities: null, submission: null, curves: null },
    })),
    ablations: (s.ablations ?? []).map((a) => {
      const scores = (s.runs ?? []).filter((r) => r.ablation === a.name && typeof r.mapAtK === 'number').map((r) => r.mapAtK as number);
      return {
        name: a.name,
        seeds: a.seeds,
        seedMean: a.seedMean ?? null,
        seedStd: a.seedStd ?? null,
        seedMin: scores.length > 0 ? Math.min(...scores) : null,
        seedMax: scores.length > 0 ? Math.max(...scores) : null,
        ensembleMapAtK: a.ensembleMapAtK ?? null,
        files: { probabilities: null, submission: null },
        ...(a.vsBaseline ? { vsBaseline: { baseline, ...a.vsBaseline } } : {}),
      };
    }),
    best: s.best ?? null,
  };
}

/** How long the server keeps a curves reader's throwaway durable once nobody pulls from it. @default 600000 (10 min) */
export const CURVES_CONSUMER_INACTIVE_THRESHOLD_MS = 600_000;

/**
 * Training curves of a job's runs, rebuilt from the progress messages kept in the stream (read
 * on a throwaway durable that is deleted afterwards). Only messages of the FineTuneJob's current
 * uid count; of each run the latest attempt's points are kept.
 */
export async function curvesFromStream(transport: Transport & { deleteConsumer?: (d: string) => Promise<boolean> }, ftj: FineTuneJob, prefix: string, idleMs = 1500): Promise<RunCurves[]> {
  const uid = ftj.metadata.uid ?? '';
  const runs = new Map<string, { runUid: string; points: RunCurves['points'] }>();
  const durable = `ablate-report-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  let last = Date.now();
  // A killed reader leaves its durable behind: the server drops it after the threshold.
  const c = await transport.consume({ filter: `${prefix}.${ftj.metadata.namespace ?? 'default'}.${ftj.metadata.name}.*.*.progress`, durable, inactiveThresholdMs: CURVES_CONSUMER_INACTIVE_THRESHOLD_MS }, (m) => {
    last = Date.now();
    try {
      const s = parseSubject(m.subject);
      const p = decodeMessage('progress', m.data);
      if (!p.runUid.startsWith(`${uid}-`)) return m.ack();
      const key = `${s.ablation}/${s.seed}`;
      let r = runs.get(key);
      if (!r || r.runUid !== p.runUid) runs.set(key, (r = { runUid: p.runUid, points: [] }));
      r.points.push({ step: p.step, totalSteps: p.totalSteps, epoch: p.epoch, phase: p.phase, loss: Number.isFinite(p.loss) ? p.loss : null, learningRates: p.learningRates, examplesPerSecond: p.examplesPerSecond, elapsedMs: p.elapsedMs });
    } catch {
      // A malformed message: not part of any curve.
    }
    m.ack();
  });
  // The stream has no "end": stop once nothing arrived for idleMs.
  while (Date.now() - last < idleMs) await new Promise((r) => setTimeout(r, 200));
  await c.stop();
  await transport.deleteConsumer?.(durable).catch(() => false);
  return [...runs.entries()].map(([key, r]) => {
    const [ablation, seed] = key.split('/') as [string, string];
    return { ablation, seed: Number(seed), points: r.points.sort((a, b) => a.step - b.step) };
  });
}


/** A FineTuneJob's status as text: header, conditions, one line per run, the results table. */
export function renderStatus(ftj: FineTuneJob, renderTable?: (r: StudyResults) => string): string {
  const s = ftj.status ?? {};
  const lines: string[] = [];
  lines.push(`${ftj.metadata.namespace ?? 'default'}/${ftj.metadata.name}: ${s.phase ?? 'Pending'}  progress ${s.progress ?? '0/?'}  generation ${ftj.metadata.generation ?? '?'} (observed ${s.observedGeneration ?? '-'})`);
  for (const c of s.conditions ?? []) lines.push(`  ${c.type.padEnd(12)} ${c.status.padEnd(6)} ${c.reason}: ${c.message}`);
  if ((s.runs ?? []).length > 0) lines.push('', 'runs:');
  for (const r of s.runs ?? []) {
    const map = typeof r.mapAtK === 'number' ? r.mapAtK.toFixed(4) : '—';
    const pred = r.predictions ? `${r.predictions.received}/${r.predictions.expected}` : '—';
    lines.push(`  ${`${r.ablation}/${r.seed}`.padEnd(32)} ${r.phase.padEnd(10)} attempts ${r.attempts}  predictions ${pred.padEnd(11)} MAP ${map}  ${r.jobName ?? ''}${r.message ? `  — ${r.message}` : ''}`);
  }
  if (renderTable && (s.ablations ?? []).length > 0) lines.push('', renderTable(resultsFromStatus(ftj)).trimEnd());
  return `${lines.join('\n')}\n`;
}
