// `ablate run`: a whole study on one machine. The same expansion as the cluster (expandRuns),
// each (ablation, seed) trained by an `ablate trainer` child process under a parallelism limit,
// the same prediction stream and collector, the same aggregation — then the table, results.json,
// per-run and per-ensemble CSVs, curves and report.html.
//
// Flow: load + validate the job (nothing starts on a bad file) → read the validation set →
// pick the transport → start the collector → run children (retrying a failed attempt up to
// `execution.backoffLimit`; a new attempt resumes from the run's checkpoints) → aggregate → write.
// Guarantees: a run counts only when the collector verified its `done` message (counts and
// hashes); predictions of a failed or older attempt never count; a child's failure does not stop
// the others.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { expandRuns, loadFineTuneJob, resolveUri, type LoadedFineTuneJob, type Run, type TrainData } from '../../api/mod.js';
import { ablateCommand, AblateError, logger, type Logger } from '../../common/mod.js';
import { DEFAULT_STREAM_NAME, DEFAULT_SUBJECT_PREFIX, jobFilter, LOCAL_NAMESPACE, NatsTransport, relayIpc, resolveTransport, type ResolvedTransport } from '../../protocol/mod.js';
import { readQuestionsCsv, writeProbabilitiesCsv, writeSubmissionCsv, type QuestionSet } from '../../trainer/data/mod.js';
import type { RunConfig } from '../../trainer/run/mod.js';
import { aggregateStudy, type StudyRunInput } from '../aggregate/mod.js';
import { Collector, runKey, type CollectedRun, type RunFailure } from '../collector/mod.js';
import { writeReport, type StudyResults } from '../report/mod.js';
import { formatDuration, ProgressView } from './progress.js';

/** Exit code `ablate trainer` uses for errors a retry cannot fix (bad data, bad config). */
export const EXIT_PERMANENT = 3;
/** How long to wait after a trainer exits 0 for its verified `done` to reach the collector, in milliseconds. @default 30000 */
export const DEFAULT_COLLECT_GRACE_MS = 30_000;

export interface LocalRunOptions {
  /** The FineTuneJob file. */
  file: string;
  /** Output folder. @default runs/<job name> */
  out?: string;
  /** Concurrent trainer processes. @default spec.execution.parallelism capped at the number of cores */
  parallel?: number;
  /** Overrides every run's `training.backend`. */
  backend?: string;
  /** `--nats URL` (else NATS_URL, else a nats-server on PATH, else in-process). */
  natsUrl?: string;
  /** Skip NATS entirely. @default false */
  inProcess?: boolean;
  /** JetStream stream for the predictions. @default DEFAULT_STREAM_NAME ('ABLATE') */
  stream?: string;
  /** First subject token (the stream covers `<prefix>.>`). @default DEFAULT_SUBJECT_PREFIX ('ablate') */
  subjectPrefix?: string;
  /** Extra environment for the trainer children (tests inject failures this way). */
  childEnv?: NodeJS.ProcessEnv;
  /** Called with each child process once started (tests kill one mid-run). */
  onChild?: (run: Run, attempt: number, pid: number) => void;
}

export interface LocalRunResult {
  results: StudyResults;
  outDir: string;
  table: string;
  reportPath: string;
  counters: Record<string, number>;
}

/** The job file was fine but the study could not produce a result at all. */
export class StudyFailedError extends AblateError {}

interface RunPlan {
  run: Run;
  key: string;
  slug: string;
  runUid: string;
  dir: string;
  /** The training files this run reads (the ablation's own, or the spec's). */
  trainPaths: string[];
  attempts: number;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  message?: string;
  result?: CollectedRun;
}

export async function runLocalStudy(opts: LocalRunOptions): Promise<LocalRunResult> {
  const { job, baseDir } = loadFineTuneJob(opts.file);
  const name = job.metadata.name;
  const log = logger({ job: name });
  const spec = job.spec;
  const outDir = resolve(opts.out ?? join('runs', name));
  const work = join(outDir, 'work');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });

  // Paths the trainers read, resolved against the job file's folder.
  const modelPath = resolveUri(spec.model.uri, baseDir);
  const trainFiles = (t: TrainData): string[] => ('uri' in t ? [resolveUri(t.uri, baseDir)] : t.files.map((f) => resolveUri(f.uri, baseDir)));
  const trainPaths = trainFiles(spec.data.train);
  const validationPath = resolveUri(spec.data.validation.uri, baseDir);
  // Saved models: under spec.output.uri/<job>/ when set (the same rule as the operator), else in the results folder.
  const modelsDir = spec.output ? join(resolveUri(spec.output.uri, baseDir), name) : join(outDir, 'models');
  await stat(modelPath).catch(() => {
    throw new StudyFailedError(`spec.model.uri: ${spec.model.uri} → ${modelPath} does not exist`);
  });
  const validation = await readQuestionsCsv(validationPath, { requireAnswer: true });
  if (spec.data.validation.sha256 && spec.data.validation.sha256 !== validation.sha256) {
    throw new StudyFailedError(`spec.data.validation.sha256: ${validationPath} has sha256 ${validation.sha256}, the job pins ${spec.data.validation.sha256}`);
  }

  const invocation = randomBytes(4).toString('hex');
  const plans: RunPlan[] = expandRuns(spec).map((run) => {
    const slug = `${run.ablation}-seed${run.seed}`;
    const trainPathsOfRun = run.data ? trainFiles(run.data.train) : trainPaths;
    return { run, key: runKey(run.ablation, run.seed), slug, runUid: `${name}-${invocation}-${slug}`, dir: join(work, slug), trainPaths: trainPathsOfRun, attempts: 0, phase: 'Pending' };
  });
  // Every training file of the study (the spec's and the ablations' own), for the report.
  const training = await describeTraining([...new Set(plans.flatMap((p) => p.trainPaths))]);
  const parallel = Math.max(1, opts.parallel ?? spec.execution.parallelism);
  log.info({ event: 'study', runs: plans.length, parallel, out: outDir }, `${name}: ${plans.length} runs, ${parallel} at a time → ${outDir}`);

  const prefix = opts.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX;
  const stream = opts.stream ?? DEFAULT_STREAM_NAME;
  const transport = await resolveTransport({ natsUrl: opts.natsUrl, inProcess: opts.inProcess === true, nats: { stream, subjects: [`${prefix}.>`], name: `ablate-run-${name}` } });
  const progress = new ProgressView(log);
  progress.note(`transport: ${transport.description}`);
  const durable = `ablate-local-${name}-${invocation}`;
  const expected = new Map(plans.map((p) => [p.key, { expectedCount: validation.questions.length, validationSha256: validation.sha256, runUidPrefix: p.runUid }]));
  const waiters = new Map<string, (r: { ok: true; result: CollectedRun } | { ok: false; failure: RunFailure }) => void>();
  const collector = await Collector.create({
    transport: transport.transport,
    filter: jobFilter({ prefix, namespace: LOCAL_NAMESPACE, job: name }),
    durable,
    expected,
    prefix,
    onRunComplete: (key, result) => waiters.get(`${key}#${result.attempt}`)?.({ ok: true, result }),
    onRunFailed: (key, failure) => waiters.get(`${key}#${failure.attempt}`)?.({ ok: false, failure }),
    onProgress: (e) => {
      const plan = plans.find((p) => p.key === e.key);
      if (!plan || e.progress.runUid !== plan.runUid) return;
      const m = e.progress;
      const rate = m.step > 0 ? m.elapsedMs / 1000 / m.step : undefined;
      progress.update({ key: e.key, phase: m.phase, step: m.step, totalSteps: m.totalSteps, loss: Number.isFinite(m.loss) ? m.loss : undefined, attempt: m.attempt, etaSeconds: rate === undefined ? undefined : (m.totalSteps - m.step) * rate });
    },
  });

  const started = Date.now();
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  process.once('SIGINT', onSignal);
  try {
    const queue = [...plans];
    const workers = Array.from({ length: Math.min(parallel, plans.length) }, async () => {
      for (let plan = queue.shift(); plan !== undefined && !interrupted; plan = queue.shift()) {
        await executeRun(plan, { spec, name, modelPath, validationPath, validation, transport, prefix, stream, opts, log, progress, waiters, outDir, modelsDir });
      }
    });
    await Promise.all(workers);
  } finally {
    process.off('SIGINT', onSignal);
    progress.close();
    await collector.close();
    // The durable belongs to this invocation alone: do not leave it on a shared server.
    if (transport.transport instanceof NatsTransport) await transport.transport.deleteConsumer(durable).catch(() => false);
    await transport.close();
  }
  log.info({ event: 'trained', seconds: (Date.now() - started) / 1000 }, `all runs ended after ${formatDuration((Date.now() - started) / 1000)}`);
  if (interrupted) throw new StudyFailedError('interrupted: runs were stopped; nothing was aggregated');

  const results = await writeStudy({ job, plans, validation, training, outDir, modelsDir });
  const written = await writeReport(outDir);
  return { results, outDir, table: written.table, reportPath: written.path, counters: { ...collector.counters } };
}

/** Each training file with its question count (0 for a broken file: the runs that read it fail with the CSV error, the others go on). */
async function describeTraining(paths: string[]): Promise<QuestionSet['files']> {
  return Promise.all(
    paths.map((path) =>
      readQuestionsCsv(path, { requireAnswer: true }).then(
        (set) => ({ path, sha256: set.sha256, questions: set.questions.length }),
        () => ({ path, sha256: '', questions: 0 }),
      ),
    ),
  );
}

interface ExecContext {
  spec: LoadedFineTuneJob['spec'];
  name: string;
  modelPath: string;
  validationPath: string;
  validation: QuestionSet;
  transport: ResolvedTransport;
  prefix: string;
  stream: string;
  opts: LocalRunOptions;
  log: Logger;
  progress: ProgressView;
  waiters: Map<string, (r: { ok: true; result: CollectedRun } | { ok: false; failure: RunFailure }) => void>;
  outDir: string;
  modelsDir: string;
}

/** Trains one run, retrying failed attempts up to `backoffLimit`; records the outcome on `plan`. */
async function executeRun(plan: RunPlan, c: ExecContext): Promise<void> {
  const { run } = plan;
  const log = c.log.child({ ablation: run.ablation, seed: run.seed });
  await mkdir(plan.dir, { recursive: true });
  const training = c.opts.backend ? { ...run.training, backend: c.opts.backend as Run['training']['backend'] } : run.training;
  const maxAttempts = c.spec.execution.backoffLimit + 1;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    plan.attempts = attempt;
    plan.phase = 'Running';
    const cfg: RunConfig = {
      job: c.name,
      namespace: LOCAL_NAMESPACE,
      ablation: run.ablation,
      seed: run.seed,
      runUid: plan.runUid,
      attempt,
      training,
      model: { path: c.modelPath, maxLength: c.spec.model.maxLength },
      data: { train: plan.trainPaths, validation: c.validationPath, validationSha256: c.validation.sha256 },
      checkpointDir: join(plan.dir, 'checkpoints'),
      outputDir: join(c.modelsDir, plan.slug),
      curvesPath: join(c.outDir, 'runs', plan.slug, 'curves.json'),
      transport: c.transport.route === 'in-process' ? { kind: 'ipc', prefix: c.prefix } : { kind: 'nats', servers: natsServers(c.transport), stream: c.stream, prefix: c.prefix },
      progressIntervalSeconds: 1,
    };
    const configPath = join(plan.dir, `run-attempt${attempt}.json`);
    await writeFile(configPath, JSON.stringify(cfg, null, 2));
    const outcome = new Promise<{ ok: true; result: CollectedRun } | { ok: false; failure: RunFailure }>((res) => c.waiters.set(`${plan.key}#${attempt}`, res));
    c.progress.update({ key: plan.key, phase: attempt > 1 ? 'retrying' : 'starting', step: 0, totalSteps: 0, attempt });
    const exit = await runChild(plan, cfg, configPath, c);
    // A trainer that exited 0 has had its messages acknowledged; give the collector a moment to
    // verify them. A failed one may still have published a `done` (status failed): take its reason.
    const collected = await within(outcome, exit.code === 0 ? DEFAULT_COLLECT_GRACE_MS : 500);
    c.waiters.delete(`${plan.key}#${attempt}`);
    if (collected?.ok) {
      plan.phase = 'Succeeded';
      plan.result = collected.result;
      c.progress.update({ key: plan.key, phase: 'done', step: 1, totalSteps: 1, attempt });
      log.info({ event: 'run-succeeded', attempt }, `${plan.key} succeeded (attempt ${attempt})`);
      return;
    }
    const reason = collected && !collected.ok ? collected.failure.message : exit.code === 0 ? 'the trainer exited 0 but its predictions never arrived complete' : `the trainer exited with ${exit.signal ?? `code ${exit.code}`}${exit.lastError ? `: ${exit.lastError}` : ''}`;
    plan.message = reason;
    const permanent = exit.code === EXIT_PERMANENT;
    log.warn({ event: 'run-attempt-failed', attempt, reason, permanent, log: join(plan.dir, 'trainer.log') }, `${plan.key} attempt ${attempt} failed: ${reason}`);
    c.progress.update({ key: plan.key, phase: 'failed', step: 0, totalSteps: 0, attempt, message: reason.slice(0, 80) });
    if (permanent) break;
  }
  plan.phase = 'Failed';
}

function natsServers(t: ResolvedTransport): string {
  if (t.natsUrl === undefined) throw new StudyFailedError(`no NATS URL for the trainers from "${t.description}"`);
  return t.natsUrl;
}

/** `p`'s value, or undefined when it has not settled within `ms` milliseconds. */
function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Runs `ablate trainer` for one attempt; its output goes to the run's trainer.log. */
function runChild(plan: RunPlan, cfg: RunConfig, configPath: string, c: ExecContext): Promise<{ code: number | null; signal: NodeJS.Signals | null; lastError?: string }> {
  const [cmd, ...base] = ablateCommand();
  const ipc = cfg.transport.kind === 'ipc';
  const logFile = createWriteStream(join(plan.dir, 'trainer.log'), { flags: 'a' });
  logFile.write(`--- attempt ${cfg.attempt} ${new Date().toISOString()}\n`);
  const child = spawn(cmd, [...base, 'trainer', '--run-config', configPath], {
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    // trainer.log keeps the run's whole story whatever this process's own verbosity.
    env: { ...process.env, ABLATE_LOG_FORMAT: 'json', ABLATE_LOG_LEVEL: 'info', ...c.opts.childEnv },
  });
  const stopRelay = ipc ? relayIpc(child, c.transport.transport, (err) => c.log.warn({ err: err.message }, 'relaying a trainer message failed')) : () => {};
  if (child.pid !== undefined) c.opts.onChild?.(plan.run, cfg.attempt, child.pid);
  let lastError: string | undefined;
  child.stdout!.pipe(logFile, { end: false });
  child.stderr!.on('data', (d: Buffer) => {
    logFile.write(d);
    for (const line of d.toString('utf8').split('\n')) {
      if (line.startsWith('ablate: ')) lastError = line.slice('ablate: '.length);
    }
  });
  return new Promise((res) => {
    child.on('close', (code, signal) => {
      stopRelay();
      logFile.end();
      res({ code, signal, ...(lastError === undefined ? {} : { lastError }) });
    });
  });
}

interface WriteInput {
  job: LoadedFineTuneJob;
  plans: RunPlan[];
  validation: QuestionSet;
  training: QuestionSet['files'];
  outDir: string;
  modelsDir: string;
}

/** Aggregates and writes results.json, per-run and per-ensemble CSVs. */
async function writeStudy(w: WriteInput): Promise<StudyResults> {
  const { job, plans, validation, outDir } = w;
  const spec = job.spec;
  const ids = validation.questions.map((q) => q.id);
  const letters = validation.letters;
  const c = letters.length;
  const runInputs: StudyRunInput[] = plans.map((p) => ({
    ablation: p.run.ablation,
    seed: p.run.seed,
    ids: p.result?.ids ?? [],
    probs: p.result ? p.result.probs : null,
  }));
  const ablationNames = [...new Set(plans.map((p) => p.run.ablation))];
  const agg = aggregateStudy({
    questionIds: ids,
    answers: validation.questions.map((q) => q.answer ?? -1),
    options: c,
    runs: runInputs,
    ablations: ablationNames,
    baseline: spec.evaluation.baseline,
    k: spec.evaluation.k,
    ensemble: spec.evaluation.ensemble,
    bootstrap: spec.evaluation.bootstrap,
  });
  const rel = (p: string): string => relative(outDir, p);
  const runs: StudyResults['runs'] = [];
  for (const [i, p] of plans.entries()) {
    const dir = join(outDir, 'runs', p.slug);
    await mkdir(dir, { recursive: true });
    let files: StudyResults['runs'][number]['files'] = { probabilities: null, submission: null, curves: null };
    if (p.result) {
      const probs = p.result.probs;
      await writeProbabilitiesCsv(join(dir, 'probabilities.csv'), p.result.ids, letters, probs);
      await writeSubmissionCsv(join(dir, 'submission.csv'), p.result.ids, letters, probs);
      files = { probabilities: rel(join(dir, 'probabilities.csv')), submission: rel(join(dir, 'submission.csv')), curves: (await exists(join(dir, 'curves.json'))) ? rel(join(dir, 'curves.json')) : null };
    }
    const model = join(w.modelsDir, p.slug);
    runs.push({
      ablation: p.run.ablation,
      seed: p.run.seed,
      phase: p.phase,
      attempts: p.attempts,
      mapAtK: agg.summary.runs[i]?.mapAtK ?? null,
      predictions: { received: p.result?.count ?? 0, expected: ids.length },
      files,
      ...(p.result && (await exists(model)) ? { model: { path: rel(model) } } : {}),
      ...(p.phase === 'Failed' && p.message ? { message: p.message } : {}),
    });
  }
  const ablations: StudyResults['ablations'] = [];
  for (const a of agg.summary.ablations) {
    const e = agg.ensembles.get(a.name);
    let files: { probabilities: string | null; submission: string | null } = { probabilities: null, submission: null };
    if (e) {
      const dir = join(outDir, 'ensembles', a.name);
      await mkdir(dir, { recursive: true });
      await writeProbabilitiesCsv(join(dir, 'probabilities.csv'), ids, letters, e.probs);
      await writeSubmissionCsv(join(dir, 'submission.csv'), ids, letters, e.probs);
      files = { probabilities: rel(join(dir, 'probabilities.csv')), submission: rel(join(dir, 'submission.csv')) };
    }
    ablations.push({ ...a, files });
  }
  const results: StudyResults = {
    job: job.metadata.name,
    createdAt: new Date().toISOString(),
    k: spec.evaluation.k,
    evaluation: { k: spec.evaluation.k, ensemble: spec.evaluation.ensemble, baseline: spec.evaluation.baseline, bootstrap: spec.evaluation.bootstrap },
    validation: { path: validation.path, sha256: validation.sha256, questions: ids.length },
    training: { files: w.training.map((f) => ({ path: f.path, questions: f.questions })) },
    runs,
    ablations,
    best: agg.summary.best,
  };
  const tmp = join(outDir, `results.json.tmp-${process.pid}`);
  await writeFile(tmp, `${JSON.stringify(results, null, 2)}\n`);
  await rename(tmp, join(outDir, 'results.json'));
  return results;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

