// `ablate run`: a whole study on one machine. The same expansion as the cluster (expandRuns),
// each (ablation, seed) trained by an `ablate trainer` child process under a parallelism limit,
// the same prediction stream and collector, the same aggregation — then the table, results.json,
// per-run and per-ensemble CSVs, curves and report.html.
//
// Flow: load + validate the job (nothing starts on a bad file) → check the output folder (an
// existing study is never wiped without `--fresh`) → read the validation set → fingerprint each
// run → with `--resume`, keep the runs whose persisted result matches → pick the transport → start
// the collector → run children (retrying a failed attempt up to `execution.backoffLimit`; a new
// attempt resumes from the run's checkpoints) → aggregate → write.
// Guarantees: a run counts only when the collector verified its `done` message (counts and
// hashes), and is persisted (work/<slug>/result.json, see resume.ts) before its messages are
// acknowledged; predictions of a failed or older attempt never count; a child's failure does not
// stop the others. Ctrl-C (SIGINT) or SIGTERM stops the study: every trainer checkpoints and
// exits, nothing is aggregated, and `--resume` continues from what was finished and checkpointed.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { expandRuns, loadFineTuneJob, resolveUri, type LoadedFineTuneJob, type Run, type TrainData } from '../../api/mod.js';
import { ablateCommand, AblateError, logger, UsageError, type Logger } from '../../common/mod.js';
import { DEFAULT_STREAM_NAME, DEFAULT_SUBJECT_PREFIX, jobFilter, LOCAL_NAMESPACE, NatsTransport, relayIpc, resolveTransport, type ResolvedTransport } from '../../protocol/mod.js';
import { readQuestionsCsv, writeProbabilitiesCsv, writeSubmissionCsv, type QuestionSet } from '../../trainer/data/mod.js';
import type { RunConfig } from '../../trainer/run/mod.js';
import { aggregateStudy, type StudyRunInput } from '../aggregate/mod.js';
import { Collector, runKey, type CollectedRun, type RunFailure } from '../collector/mod.js';
import { writeReport, type StudyResults } from '../report/mod.js';
import { formatDuration, ProgressView } from './progress.js';
import {
  changedFields,
  earlierStudyOutputs,
  EVALUATION_ONLY_FIELDS,
  hashModelFolder,
  inspectFolder,
  PersistedResultError,
  readFingerprint,
  readRunResult,
  runFingerprint,
  sha256File,
  writeFingerprint,
  writeRunResult,
  writeStudyMarker,
  type Fingerprint,
  type FolderState,
  UnreadableModelFileError,
} from './resume.js';

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
  /**
   * Continue the study already in `out`: runs whose persisted result matches their current
   * fingerprint are kept, the others train again (from their checkpoints where those match).
   * @default false
   */
  resume?: boolean;
  /** Delete the study already in `out` (its work/ folder, results.json, report.html and its runs' CSVs, curves and models there) and start over. @default false */
  fresh?: boolean;
  /** How the user ran this, for the commands messages suggest. @default `ablate run <file>` (with `--out` when given) */
  command?: string;
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

/** Ctrl-C or SIGTERM stopped the study; what was finished is kept for `--resume`. */
export class StudyInterruptedError extends StudyFailedError {
  constructor(
    message: string,
    readonly signal: NodeJS.Signals,
    readonly finished: number,
    readonly runs: number,
  ) {
    super(message);
  }

  /** 128 + the signal's number, as a shell reports a process the signal stopped. */
  get exitCode(): number {
    return signalExitCode(this.signal);
  }
}

/** The output folder already holds a study and neither `--resume` nor `--fresh` said what to do with it. */
export class ExistingStudyError extends UsageError {
  constructor(
    readonly outDir: string,
    message: string,
  ) {
    super(message);
  }
}

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
  /** Everything that determines the run's result (resume.ts). */
  fingerprint?: Fingerprint;
  /** The training config its trainer gets (`--backend` applied). */
  training: Run['training'];
}

export async function runLocalStudy(opts: LocalRunOptions): Promise<LocalRunResult> {
  const { job, baseDir } = loadFineTuneJob(opts.file);
  const name = job.metadata.name;
  const log = logger({ job: name });
  const spec = job.spec;
  const outDir = resolve(opts.out ?? join('runs', name));
  const work = join(outDir, 'work');
  const command = opts.command ?? `ablate run ${shellWord(opts.file)}${opts.out === undefined ? '' : ` --out ${shellWord(opts.out)}`}`;
  if (opts.resume && opts.fresh) throw new UsageError('--resume and --fresh contradict each other: --resume keeps the finished runs, --fresh deletes them');
  // Decide what happens to an existing study before anything is written.
  const folder = await inspectFolder(outDir);
  checkFolder(folder, { outDir, name, command, resume: opts.resume === true, fresh: opts.fresh === true });

  // Paths the trainers read, resolved against the job file's folder.
  const modelPath = resolveUri(spec.model.uri, baseDir);
  const trainFiles = (t: TrainData): string[] => ('uri' in t ? [resolveUri(t.uri, baseDir)] : t.files.map((f) => resolveUri(f.uri, baseDir)));
  const trainPaths = trainFiles(spec.data.train);
  const validationPath = resolveUri(spec.data.validation.uri, baseDir);
  // Saved models: under spec.output.uri/<job>/ when set (the same rule as the operator), else in the results folder.
  const modelsDir = spec.output ? join(resolveUri(spec.output.uri, baseDir), name) : join(outDir, 'models');
  const modelStat = await stat(modelPath).catch(() => {
    throw new StudyFailedError(`spec.model.uri: ${spec.model.uri} → ${modelPath} does not exist`);
  });
  // Its files are fingerprinted for --resume (and a trainer reads config.json and the weights from it).
  if (!modelStat.isDirectory()) throw new StudyFailedError(`spec.model.uri: ${spec.model.uri} → ${modelPath} is a file; it must be the model's folder (config.json, model.safetensors, the tokenizer)`);
  // Hashed before anything is written or deleted: a file ablate cannot read stops it here, named.
  const modelFiles = await hashModelFolder(modelPath).catch((err: unknown) => {
    if (!(err instanceof UnreadableModelFileError)) throw err;
    throw new StudyFailedError(`spec.model.uri: ${spec.model.uri} → ${modelPath}: ${err.message}; every file in the model folder must be readable (its fingerprint for --resume, and the trainers load it)`, { cause: err });
  });
  const validation = await readQuestionsCsv(validationPath, { requireAnswer: true });
  if (spec.data.validation.sha256 && spec.data.validation.sha256 !== validation.sha256) {
    throw new StudyFailedError(`spec.data.validation.sha256: ${validationPath} has sha256 ${validation.sha256}, the job pins ${spec.data.validation.sha256}`);
  }

  const resuming = opts.resume === true && folder.kind === 'study';
  if (opts.resume && !resuming) log.info({ event: 'resume-nothing', out: outDir }, `nothing to resume in ${outDir}: starting the study`);
  if (opts.fresh) await removeEarlierOutputs(outDir);
  if (!resuming) {
    // A new study (an empty folder, or --fresh): nothing of an earlier one may be mistaken for its own.
    await rm(work, { recursive: true, force: true });
    await rm(join(outDir, 'results.json'), { force: true });
  }
  await mkdir(work, { recursive: true });

  const invocation = randomBytes(4).toString('hex');
  const plans: RunPlan[] = expandRuns(spec).map((run) => {
    const slug = `${run.ablation}-seed${run.seed}`;
    const trainPathsOfRun = run.data ? trainFiles(run.data.train) : trainPaths;
    const training = opts.backend ? { ...run.training, backend: opts.backend as Run['training']['backend'] } : run.training;
    return { run, key: runKey(run.ablation, run.seed), slug, runUid: `${name}-${invocation}-${slug}`, dir: join(work, slug), trainPaths: trainPathsOfRun, attempts: 0, phase: 'Pending', training };
  });
  // Every training file of the study (the spec's and the ablations' own), for the report.
  const training = await describeTraining([...new Set(plans.flatMap((p) => p.trainPaths))]);
  await fingerprintRuns(plans, { modelFiles, maxLength: spec.model.maxLength, validation });
  const parallel = Math.max(1, opts.parallel ?? spec.execution.parallelism);
  await writeStudyMarker(work, { job: name, state: 'running', runs: plans.length, succeeded: 0 });
  if (resuming) await keepFinishedRuns(plans, log);
  const toTrain = plans.filter((p) => p.phase !== 'Succeeded');
  log.info(
    { event: 'study', runs: plans.length, kept: plans.length - toTrain.length, parallel, out: outDir },
    `${name}: ${plans.length} runs${resuming ? ` (${plans.length - toTrain.length} kept, ${toTrain.length} to train)` : ''}, ${parallel} at a time → ${outDir}`,
  );

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
    // Persisted before the collector acknowledges the run's messages: a verified run survives
    // anything that happens to this process afterwards.
    onRunComplete: async (key, result) => {
      const plan = plans.find((p) => p.key === key);
      if (plan?.fingerprint && result.runUid === plan.runUid) {
        await writeRunResult(plan.dir, result, plan.fingerprint).catch((err: Error) =>
          log.error({ event: 'result-not-persisted', ablation: plan.run.ablation, seed: plan.run.seed, err: err.message }, `${key}: its result could not be saved for --resume (${err.message}); it counts in this invocation only`),
        );
      }
      waiters.get(`${key}#${result.attempt}`)?.({ ok: true, result });
    },
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
  const children = new Set<ChildProcess>();
  const interrupt = interruptHandler({
    children,
    note: (msg, fields) => progress.note(msg, fields),
    exit: (code) => {
      progress.close();
      process.exit(code);
    },
  });
  const onSignal = interrupt.onSignal;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const queue = [...toTrain];
    const ctx: ExecContext = { spec, name, modelPath, validationPath, validation, transport, prefix, stream, opts, log, progress, waiters, outDir, modelsDir, children, stopping: () => interrupt.signal() !== undefined };
    const workers = Array.from({ length: Math.min(parallel, toTrain.length) }, async () => {
      for (let plan = queue.shift(); plan !== undefined && !interrupt.signal(); plan = queue.shift()) {
        await executeRun(plan, ctx);
      }
    });
    await Promise.all(workers);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress.close();
    await collector.close();
    // The durable belongs to this invocation alone: do not leave it on a shared server.
    if (transport.transport instanceof NatsTransport) await transport.transport.deleteConsumer(durable).catch(() => false);
    await transport.close();
  }
  const interrupted = interrupt.signal();
  const succeeded = plans.filter((p) => p.phase === 'Succeeded').length;
  log.info({ event: 'trained', seconds: (Date.now() - started) / 1000 }, `all runs ended after ${formatDuration((Date.now() - started) / 1000)}`);
  if (interrupted) {
    await writeStudyMarker(work, { job: name, state: 'interrupted', runs: plans.length, succeeded });
    throw new StudyInterruptedError(`interrupted: ${succeeded} of ${plans.length} runs finished and kept; continue with ${command} --resume`, interrupted, succeeded, plans.length);
  }

  const results = await writeStudy({ job, plans, validation, training, outDir, modelsDir });
  const written = await writeReport(outDir);
  await writeStudyMarker(work, { job: name, state: succeeded === plans.length ? 'finished' : 'incomplete', runs: plans.length, succeeded });
  return { results, outDir, table: written.table, reportPath: written.path, counters: { ...collector.counters } };
}

/** 128 + the signal's number, as a shell reports a process the signal stopped. */
function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? 143 : 130;
}

/**
 * What Ctrl-C and SIGTERM do to a study. The first (of either kind) stops it gently: no new
 * trainer starts, and the running ones get SIGTERM, checkpoint after their current step and exit.
 * A terminal's Ctrl-C reaches them too (same process group); the forwarded SIGTERM covers a signal
 * sent to this process alone. A second signal, of either kind, stops everything at once: every
 * trainer gets SIGKILL and `exit` is called with 128 + that signal's number (runs then continue
 * from their last periodic checkpoint).
 */
export function interruptHandler(o: {
  children: Iterable<Pick<ChildProcess, 'kill'>> & { size: number };
  note: (message: string, fields: Record<string, unknown>) => void;
  exit: (code: number) => void;
}): { onSignal: (signal: NodeJS.Signals) => void; signal: () => NodeJS.Signals | undefined } {
  let first: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (first === undefined) {
      first = signal;
      o.note(`${signal}: stopping ${o.children.size} trainer(s) after their next checkpoint (Ctrl-C again stops at once)`, { event: 'interrupt', signal });
      for (const child of o.children) child.kill('SIGTERM');
      return;
    }
    o.note(`${signal} after ${first}: killing ${o.children.size} trainer(s) now; --resume continues from their last periodic checkpoint`, { event: 'interrupt-now', signal });
    for (const child of o.children) child.kill('SIGKILL');
    o.exit(signalExitCode(signal));
  };
  return { onSignal, signal: () => first };
}

/** Refuses to touch a folder that holds a study unless `--resume` or `--fresh` says what to do with it. */
function checkFolder(folder: FolderState, o: { outDir: string; name: string; command: string; resume: boolean; fresh: boolean }): void {
  if (folder.kind === 'none') return;
  if (folder.liveWriter !== undefined) {
    throw new ExistingStudyError(o.outDir, `${o.outDir} is in use by another ablate run (pid ${folder.liveWriter}); wait for it to end or stop it (if no such run is going on, delete ${join(o.outDir, 'work', 'study.json')})`);
  }
  if (o.resume && folder.marker && folder.marker.job !== o.name) {
    throw new ExistingStudyError(o.outDir, `${o.outDir} holds the study "${folder.marker.job}", not "${o.name}": resume it with its own job file, or give this one another --out`);
  }
  if (o.resume || o.fresh) return;
  const runs = folder.marker ? ` (${folder.kept} of ${folder.marker.runs} runs finished)` : folder.kept > 0 ? ` (${folder.kept} runs finished)` : '';
  const what = folder.finished ? `a finished study${runs}` : `an unfinished study${runs}`;
  throw new ExistingStudyError(
    o.outDir,
    `${o.outDir} already holds ${what}; nothing was changed. Continue it with \`${o.command} --resume\` (keeps every finished run whose inputs did not change, trains the rest, aggregates again), or start over with \`${o.command} --fresh\` (deletes ${join(o.outDir, 'work')}, results.json and the earlier runs' CSVs, curves and models)`,
  );
}

/**
 * `--fresh`: removes what the earlier study in `outDir` wrote besides work/ and results.json —
 * report.html, and runs/<run>/, ensembles/<ablation>/ and models/<run>/ of each of its runs — so
 * that the new study's folder holds only its own runs, also when the spec dropped some. Anything
 * else in the folder stays, and so do models saved under `spec.output.uri` (a place the user chose,
 * which other folders' studies of the job may share).
 */
async function removeEarlierOutputs(outDir: string): Promise<void> {
  const earlier = await earlierStudyOutputs(outDir);
  const paths = [
    ...earlier.runs.flatMap((slug) => [join(outDir, 'runs', slug), join(outDir, 'models', slug)]),
    ...earlier.ablations.map((a) => join(outDir, 'ensembles', a)),
    join(outDir, 'report.html'),
  ];
  for (const p of paths) await rm(p, { recursive: true, force: true });
  // The folders themselves when nothing else is left in them.
  for (const d of ['runs', 'ensembles', 'models']) await rmdir(join(outDir, d)).catch(() => undefined);
}

/** Computes every run's fingerprint from the model's file hashes; each data file is hashed once. */
async function fingerprintRuns(plans: RunPlan[], o: { modelFiles: { name: string; sha256: string }[]; maxLength: number; validation: QuestionSet }): Promise<void> {
  const hashes = new Map<string, Promise<string>>();
  const hash = (p: string): Promise<string> => {
    // A file that cannot be read fingerprints as such: its runs fail with the reader's error.
    if (!hashes.has(p)) hashes.set(p, sha256File(p).catch((err: NodeJS.ErrnoException) => `unreadable: ${err.code ?? err.message}`));
    return hashes.get(p)!;
  };
  for (const p of plans) {
    p.fingerprint = runFingerprint({
      run: p.run,
      training: p.training,
      maxLength: o.maxLength,
      modelFiles: o.modelFiles,
      train: await Promise.all(p.trainPaths.map(hash)),
      validationSha256: o.validation.sha256,
      numOptions: o.validation.letters.length,
    });
  }
}

/**
 * `--resume`: marks the runs whose persisted result matches their fingerprint Succeeded, and
 * clears what another run cannot use (a result or checkpoints made under other inputs), saying why.
 */
async function keepFinishedRuns(plans: RunPlan[], log: Logger): Promise<void> {
  for (const p of plans) {
    const runLog = log.child({ ablation: p.run.ablation, seed: p.run.seed });
    const fp = p.fingerprint!;
    let persisted: Awaited<ReturnType<typeof readRunResult>>;
    try {
      persisted = await readRunResult(p.dir);
    } catch (err) {
      if (!(err instanceof PersistedResultError)) throw err;
      runLog.warn({ event: 'result-unusable', file: err.path, reason: err.reason }, `${p.key}: cannot use ${err.message}; the run trains again (moved aside to ${RESULT_ASIDE})`);
      await rename(err.path, join(p.dir, RESULT_ASIDE)).catch(() => undefined);
    }
    if (persisted && persisted.fingerprint.sha256 === fp.sha256) {
      p.phase = 'Succeeded';
      p.result = persisted.result;
      p.attempts = persisted.result.attempt;
      runLog.info({ event: 'run-kept', attempt: persisted.result.attempt, runUid: persisted.result.runUid }, `${p.key} kept from the previous invocation (attempt ${persisted.result.attempt})`);
      continue;
    }
    // The checkpoints were made with the inputs recorded when the run last started.
    const before = persisted?.fingerprint ?? (await readFingerprint(p.dir));
    const checkpoints = join(p.dir, 'checkpoints');
    const hasCheckpoints = await exists(checkpoints);
    if (persisted) await rm(join(p.dir, 'result.json'), { force: true });
    if (!before) {
      if (hasCheckpoints) {
        runLog.info({ event: 'run-restart', reason: 'no-fingerprint' }, `${p.key} starts clean: no record of the inputs its checkpoints were made with`);
        await rm(checkpoints, { recursive: true, force: true });
      }
      continue;
    }
    const changed = changedFields(before.fields, fp.fields);
    if (changed.length === 0) {
      if (hasCheckpoints) runLog.info({ event: 'run-resume' }, `${p.key} resumes from its checkpoints`);
    } else if (changed.every((f) => EVALUATION_ONLY_FIELDS.has(f))) {
      runLog.info({ event: 'run-reevaluate', changed }, `${p.key}: ${changed.join(', ')} changed; ${hasCheckpoints ? 'evaluates again from its checkpoints' : 'trains again'}`);
    } else {
      runLog.info({ event: 'run-restart', changed }, `${p.key} starts clean: ${changed.join(', ')} changed`);
      await rm(checkpoints, { recursive: true, force: true });
    }
  }
}

/** Where an unusable result.json is moved, so that it is not read again but stays to be looked at. */
const RESULT_ASIDE = 'result.json.unusable';

/** `s` as one shell word (quoted only when it needs to be). */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
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
  /** The trainer processes running now (a stop request goes to each). */
  children: Set<ChildProcess>;
  /** The study is being stopped: start no trainer, retry nothing. */
  stopping: () => boolean;
}

/** Trains one run, retrying failed attempts up to `backoffLimit`; records the outcome on `plan`. */
async function executeRun(plan: RunPlan, c: ExecContext): Promise<void> {
  const { run } = plan;
  const log = c.log.child({ ablation: run.ablation, seed: run.seed });
  await mkdir(plan.dir, { recursive: true });
  // Recorded before training: the checkpoints this run writes belong to these inputs.
  await writeFingerprint(plan.dir, plan.fingerprint!);
  const training = plan.training;
  const maxAttempts = c.spec.execution.backoffLimit + 1;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (c.stopping()) break;
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
    if (c.stopping()) {
      // Stopped by the interrupt, not failed: its checkpoints are where --resume continues.
      plan.phase = 'Pending';
      plan.message = 'interrupted';
      log.info({ event: 'run-stopped', attempt, exit: exit.code ?? exit.signal }, `${plan.key} stopped (attempt ${attempt}); --resume continues it from its checkpoint`);
      return;
    }
    const reason = collected && !collected.ok ? collected.failure.message : exit.code === 0 ? 'the trainer exited 0 but its predictions never arrived complete' : `the trainer exited with ${exit.signal ?? `code ${exit.code}`}${exit.lastError ? `: ${exit.lastError}` : ''}`;
    plan.message = reason;
    const permanent = exit.code === EXIT_PERMANENT;
    log.warn({ event: 'run-attempt-failed', attempt, reason, permanent, log: join(plan.dir, 'trainer.log') }, `${plan.key} attempt ${attempt} failed: ${reason}`);
    c.progress.update({ key: plan.key, phase: 'failed', step: 0, totalSteps: 0, attempt, message: reason.slice(0, 80) });
    if (permanent) break;
  }
  plan.phase = c.stopping() ? 'Pending' : 'Failed';
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
  c.children.add(child);
  // A stop request that came while this child was being started.
  if (c.stopping()) child.kill('SIGTERM');
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
      c.children.delete(child);
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

