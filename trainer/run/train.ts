// One training run, top to bottom: `ablate trainer` runs this in a child process (local) or a
// pod (Kubernetes).
//
//   config → backend → tokenizer, model, data → resume? → phase 1: head warm-up (backbone frozen)
//   → phase 2: the ablation's recipe (freezing, per-layer rates, scaled LR, AdamW, warm-up/decay)
//   → evaluation on the validation set → predictions + done message → saved model.
//
// Inside each phase the loop keeps a fixed order: set the learning rate; micro-batches (gradient
// accumulation); clip; step; log; checkpoint on the interval; check for a stop request. SIGTERM
// (a pod being stopped, `ablate run` interrupted) checkpoints after the current step and exits.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedTrainingConfig } from '../../api/mod.js';
import { logger, type Logger } from '../../common/mod.js';
import { IpcTransport, NatsTransport, Publisher, runSubjects, type Transport } from '../../protocol/mod.js';
import { readQuestionsCsv, readQuestionsFiles, type Question } from '../data/mod.js';
import {
  AdamW,
  DataOrder,
  DebertaForMultipleChoice,
  buildParamGroups,
  clipGradNorm,
  GradientAccumulator,
  isFrozen,
  makeSchedule,
  multipleChoiceLoss,
  releaseBackend,
  scaledLearningRate,
  selectBackend,
  type FreezeMode,
  type ParamGroup,
  type Schedule,
} from '../mod.js';
import { loadTokenizer } from '../tokenizer/mod.js';
import { loadLatestCheckpoint, saveCheckpoint, type CheckpointState, type CurvePoint, type Phase } from './checkpoint.js';
import type { RunConfig } from './config.js';
import { batchTensors, encodeQuestions, predictProbabilities, probabilityRows, saveModel, type Encoded } from './predict.js';

/** Seconds between progress messages. @default 2 */
export const DEFAULT_PROGRESS_INTERVAL_SECONDS = 2;
/** Exit code after a SIGTERM/SIGINT checkpoint: 128 + SIGTERM, as a killed process reports. */
export const EXIT_STOPPED = 143;

export interface RunOutcome {
  status: 'succeeded' | 'stopped';
  steps: number;
  predictions: number;
}

/** Runs one (ablation, seed) training run to the end (or until a stop request). */
export async function runTraining(cfg: RunConfig, opts: { signal?: AbortSignal } = {}): Promise<RunOutcome> {
  const log = logger({ job: cfg.job, ablation: cfg.ablation, seed: cfg.seed, attempt: cfg.attempt });
  const t = cfg.training;
  const started = Date.now();

  // --- backend ---------------------------------------------------------------------------------
  const backend = await selectBackend(t.backend);
  for (const f of backend.fallbacks) log.info({ event: 'backend-fallback', backend: f.backend, reason: f.reason }, `backend ${f.backend} unavailable: ${f.reason}`);
  log.info({ event: 'backend', backend: backend.name }, `training on the ${backend.name} backend`);

  const transport = await openTransport(cfg);
  try {
    const subjects = runSubjects({ prefix: cfg.transport.prefix, namespace: cfg.namespace, job: cfg.job, ablation: cfg.ablation, seed: cfg.seed });
    const publisher = await Publisher.create({ transport, subjects, runUid: cfg.runUid, attempt: cfg.attempt });

    // --- tokenizer, model, data ----------------------------------------------------------------
    const tokenizer = await loadTokenizer(cfg.model.path);
    const model = await DebertaForMultipleChoice.load(cfg.model.path, { seed: cfg.seed });
    try {
      const train = await readQuestionsFiles(cfg.data.train, { requireAnswer: true });
      const validation = await readQuestionsCsv(cfg.data.validation);
      if (cfg.data.validationSha256 !== undefined && cfg.data.validationSha256 !== validation.sha256) {
        throw new Error(`${cfg.data.validation}: sha256 ${validation.sha256} does not match the pinned ${cfg.data.validationSha256}`);
      }
      const trainEnc = encodeQuestions(tokenizer, train.questions, cfg.model.maxLength);
      const trainLabels = train.questions.map((q) => q.answer ?? 0);
      log.info({ event: 'data', train: train.questions.length, validation: validation.questions.length, trainFiles: train.files.length }, 'data loaded and tokenized');

      // --- derived values ------------------------------------------------------------------------
      const stepsPerEpoch = Math.ceil(train.questions.length / t.batchSize);
      const trainSteps = Math.min(t.epochs * stepsPerEpoch, t.maxSteps ?? Number.POSITIVE_INFINITY);
      const headSteps = t.headWarmup.steps;
      const numLayers = model.config.num_hidden_layers;

      // --- resume ---------------------------------------------------------------------------------
      const ckpt = await loadLatestCheckpoint(cfg.checkpointDir);
      let state: CheckpointState = { sequence: 0, phase: headSteps > 0 ? 'head-warmup' : 'train', stepInPhase: 0, dataOrder: { epoch: 0, offset: 0 }, curve: [], elapsedMs: 0 };
      if (ckpt) {
        for (const [name, v] of model.params) {
          const w = ckpt.weights.get(name);
          if (!w) throw new Error(`checkpoint ${ckpt.path} lacks tensor ${name}`);
          v.assign(tf.tensor(w, v.shape));
        }
        state = ckpt.state;
        log.info({ event: 'resumed', checkpoint: ckpt.path, phase: state.phase, step: state.stepInPhase }, `resumed from checkpoint ${basename(ckpt.path)}: phase ${state.phase}, step ${state.stepInPhase}`);
      }
      const elapsedBefore = state.elapsedMs;
      const progressEvery = (cfg.progressIntervalSeconds ?? DEFAULT_PROGRESS_INTERVAL_SECONDS) * 1000;
      let lastProgress = 0;
      const report = async (point: CurvePoint, force = false): Promise<void> => {
        const now = Date.now();
        if (!force && now - lastProgress < progressEvery) return;
        lastProgress = now;
        await publisher.progress({ phase: point.phase, step: point.step, totalSteps: point.totalSteps, epoch: point.epoch, loss: point.loss, learningRates: point.learningRates, examplesPerSecond: point.examplesPerSecond, elapsedMs: point.elapsedMs });
      };

      // --- the two training phases ----------------------------------------------------------------
      const phases: { phase: Phase; steps: number; freeze: FreezeMode; groups: () => ParamGroup[]; schedule: Schedule; dataSeed: number }[] = [];
      if (headSteps > 0) {
        phases.push({
          phase: 'head-warmup',
          steps: headSteps,
          freeze: 'backbone',
          groups: () => buildParamGroups(model.params.keys(), { baseLr: t.headWarmup.learningRate, weightDecay: t.optimizer.weightDecay, numLayers, freeze: 'backbone' }),
          schedule: makeSchedule('constant', { totalSteps: headSteps }),
          dataSeed: cfg.seed * 2 + 1,
        });
      }
      const freeze: FreezeMode = t.freezeEmbeddings ? (t.freezeEmbeddingsScope === 'all' ? 'embeddings' : 'word-embeddings') : 'none';
      const baseLr = scaledLearningRate('value' in t.learningRate ? { value: t.learningRate.value } : { ...t.learningRate, batchSize: t.batchSize });
      phases.push({
        phase: 'train',
        steps: trainSteps,
        freeze,
        groups: () => buildParamGroups(model.params.keys(), { baseLr, weightDecay: t.optimizer.weightDecay, numLayers, freeze, layerwise: t.layerwiseLearningRate }),
        schedule: makeSchedule(t.schedule, { totalSteps: trainSteps, warmupRatio: t.warmupRatio }),
        dataSeed: cfg.seed * 2,
      });

      const phaseOrder: Phase[] = ['head-warmup', 'train', 'eval'];
      let sequence = state.sequence;
      const checkpoint = async (s: CheckpointState, optimizerState: Map<string, tf.Tensor>): Promise<void> => {
        sequence += 1;
        await saveCheckpoint(cfg.checkpointDir, { ...s, sequence, elapsedMs: elapsedBefore + (Date.now() - started) }, model.params, optimizerState);
      };
      for (const p of phases) {
        if (phaseOrder.indexOf(state.phase) > phaseOrder.indexOf(p.phase)) continue;
        if (state.phase !== p.phase) state = { ...state, phase: p.phase, stepInPhase: 0, dataOrder: { epoch: 0, offset: 0 } };
        const resumeOptimizer = ckpt && ckpt.state.phase === p.phase && ckpt.state.stepInPhase === state.stepInPhase && state.stepInPhase > 0 ? ckpt.optimizer : undefined;
        const r = await trainPhase({ model, t, p, state, log, report, trainEnc, trainLabels, resumeOptimizer, started, elapsedBefore, cfg, signal: opts.signal, onCheckpoint: checkpoint });
        state = r.state;
        if (r.stopped) return { status: 'stopped', steps: state.curve.length, predictions: 0 };
        state = { ...state, phase: phaseOrder[phaseOrder.indexOf(p.phase) + 1]!, stepInPhase: 0, dataOrder: { epoch: 0, offset: 0 } };
      }
      if (cfg.curvesPath) await writeCurves(cfg, state.curve);

      // --- evaluation -----------------------------------------------------------------------------
      // The same code `ablate predict` runs, so a saved model reproduces these numbers exactly.
      const flat = await predictProbabilities(model, tokenizer, validation.questions, { maxLength: cfg.model.maxLength, batchSize: t.evalBatchSize });
      const probs = probabilityRows(flat, validation.letters.length);
      const ids = validation.questions.map((q) => q.id);
      const valLoss = labelledLoss(probs, validation.questions);
      await report({ step: ids.length, totalSteps: ids.length, epoch: t.epochs, phase: 'eval', loss: valLoss ?? Number.NaN, learningRates: {}, examplesPerSecond: 0, elapsedMs: elapsedBefore + Date.now() - started }, true);
      const published = await publisher.predictions(ids, { values: flat, width: validation.letters.length });
      log.info({ event: 'predictions', count: published.count, chunks: published.chunks, duplicates: published.duplicates }, `published ${published.count} predictions in ${published.chunks} chunks`);

      // --- saved model ------------------------------------------------------------------------------
      if (cfg.outputDir) {
        await saveModel(model, cfg.model.path, cfg.outputDir, {
          job: cfg.job,
          ablation: cfg.ablation,
          seed: cfg.seed,
          maxLength: cfg.model.maxLength,
          evalBatchSize: t.evalBatchSize,
          backend: backend.name,
          validationSha256: validation.sha256,
        });
      }

      const last = state.curve.at(-1);
      const metrics: Record<string, number> = { steps: state.curve.length, trainSeconds: (elapsedBefore + Date.now() - started) / 1000 };
      if (last && Number.isFinite(last.loss)) metrics['trainLoss'] = last.loss;
      if (valLoss !== undefined) metrics['validationLoss'] = valLoss;
      await publisher.done({ status: 'succeeded', validationSha256: validation.sha256, metrics });
      log.info({ event: 'done', metrics }, 'run finished');
      return { status: 'succeeded', steps: state.curve.length, predictions: ids.length };
    } catch (err) {
      // Tell the collector this attempt failed (best effort), then fail the process.
      await publisher.done({ status: 'failed', validationSha256: '0'.repeat(64), metrics: {}, error: err instanceof Error ? err.message : String(err) }).catch(() => undefined);
      throw err;
    } finally {
      model.dispose();
    }
  } finally {
    await transport.close();
    releaseBackend();
  }
}

async function openTransport(cfg: RunConfig): Promise<Transport> {
  if (cfg.transport.kind === 'ipc') return IpcTransport.create();
  return NatsTransport.create({ servers: cfg.transport.servers, stream: cfg.transport.stream, subjects: [`${cfg.transport.prefix}.>`], name: `ablate-trainer-${cfg.ablation}-${cfg.seed}` });
}

interface PhaseArgs {
  model: DebertaForMultipleChoice;
  t: ResolvedTrainingConfig;
  p: { phase: Phase; steps: number; freeze: FreezeMode; groups: () => ParamGroup[]; schedule: Schedule; dataSeed: number };
  state: CheckpointState;
  log: Logger;
  report: (p: CurvePoint, force?: boolean) => Promise<void>;
  trainEnc: Encoded[];
  trainLabels: number[];
  resumeOptimizer: Map<string, tf.Tensor> | undefined;
  started: number;
  elapsedBefore: number;
  cfg: RunConfig;
  signal: AbortSignal | undefined;
  onCheckpoint: (s: CheckpointState, optimizer: Map<string, tf.Tensor>) => Promise<void>;
}

/** Runs one phase from `state.stepInPhase`; `stopped` when a stop was requested (after a checkpoint). */
async function trainPhase(a: PhaseArgs): Promise<{ state: CheckpointState; stopped: boolean }> {
  const { model, t, p, log } = a;
  const groups = p.groups();
  const optimizer = new AdamW(model.params, groups, { betas: t.optimizer.betas, eps: t.optimizer.eps });
  const labels = groups.map((g, i) => g.label ?? `group ${i}`);
  try {
    if (a.resumeOptimizer) optimizer.setState(a.resumeOptimizer);
    const trainable = [...model.params.keys()].filter((n) => !isFrozen(n, p.freeze));
    const vars = trainable.map((n) => model.params.get(n)!);
    const hfName = new Map([...model.params].map(([name, v]) => [v.name, name]));
    const order = new DataOrder({ size: a.trainEnc.length, seed: p.dataSeed, position: a.state.dataOrder });
    const micro = Math.max(1, t.gradientAccumulationSteps);
    let state = a.state;
    log.info({ event: 'phase', phase: p.phase, steps: p.steps, from: state.stepInPhase, groups: groups.length, trainable: vars.reduce((n, v) => n + v.size, 0) }, `phase ${p.phase}: ${p.steps} steps`);
    let windowStart = Date.now();
    let windowExamples = 0;
    for (let step = state.stepInPhase; step < p.steps; step++) {
      const multiplier = p.schedule.multiplier(step);
      const batch = order.nextBatch(t.batchSize);
      const acc = new GradientAccumulator();
      let lossSum = 0;
      const size = Math.ceil(batch.indices.length / micro);
      for (let m = 0; m < batch.indices.length; m += size) {
        const idx = batch.indices.slice(m, m + size);
        const { ids, mask } = batchTensors(a.trainEnc, idx);
        const y = tf.tensor1d(idx.map((i) => a.trainLabels[i]!), 'int32');
        const dropoutSeed = a.cfg.seed * 1_000_003 + (p.phase === 'train' ? 500_000 : 0) + step * 64 + m;
        const { value, grads } = tf.variableGrads(() => multipleChoiceLoss(model.forward(ids, mask, { training: true, dropoutSeed }), y), vars);
        lossSum += (await value.data())[0]! * idx.length;
        acc.add(new Map(Object.entries(grads).map(([n, g]) => [hfName.get(n) ?? n, g])), idx.length);
        tf.dispose([value, ids, mask, y, ...Object.values(grads)]);
      }
      const mean = acc.mean();
      acc.dispose();
      const { grads, totalNorm } = clipGradNorm(mean, t.gradientClipNorm);
      optimizer.step(grads, multiplier);
      tf.dispose([...mean.values(), ...grads.values(), totalNorm]);

      windowExamples += batch.indices.length;
      const now = Date.now();
      const lrs = optimizer.learningRates(multiplier);
      const point: CurvePoint = {
        step: step + 1,
        totalSteps: p.steps,
        epoch: batch.epoch,
        phase: p.phase,
        loss: lossSum / batch.indices.length,
        learningRates: Object.fromEntries(labels.map((l, i) => [l, lrs[i]!])),
        examplesPerSecond: windowExamples / Math.max(1e-3, (now - windowStart) / 1000),
        elapsedMs: a.elapsedBefore + now - a.started,
      };
      if (now - windowStart > 10_000) {
        windowStart = now;
        windowExamples = 0;
      }
      state = { ...state, stepInPhase: step + 1, dataOrder: order.position, curve: [...state.curve, point] };
      await a.report(point, step + 1 === p.steps);
      const stopRequested = a.signal?.aborted === true;
      if ((step + 1) % t.checkpointEverySteps === 0 || step + 1 === p.steps || stopRequested) {
        const optState = optimizer.getState();
        await a.onCheckpoint(state, optState);
        tf.dispose([...optState.values()]);
        log.debug({ event: 'checkpoint', phase: p.phase, step: step + 1 }, 'checkpoint written');
      }
      if (stopRequested) {
        log.warn({ event: 'stopped', phase: p.phase, step: step + 1 }, `stop requested: checkpointed at ${p.phase} step ${step + 1}`);
        return { state, stopped: true };
      }
    }
    return { state, stopped: false };
  } finally {
    optimizer.dispose();
  }
}

function labelledLoss(probs: number[][], questions: Question[]): number | undefined {
  if (questions.some((q) => q.answer === undefined)) return undefined;
  let sum = 0;
  questions.forEach((q, i) => (sum -= Math.log(Math.max(1e-12, probs[i]![q.answer!]!))));
  return sum / questions.length;
}

async function writeCurves(cfg: RunConfig, curve: CurvePoint[]): Promise<void> {
  const path = cfg.curvesPath!;
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify({ ablation: cfg.ablation, seed: cfg.seed, points: curve }));
  await rename(tmp, path);
}
