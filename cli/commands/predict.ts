// `ablate predict`: one or several saved models (the seeds of an ablation) on a Kaggle-format
// question file, mean-ensembled, written as a Kaggle submission plus a probabilities CSV beside
// it, and scored when the file has answers.
//
// Models run one after another (one in memory at a time) through the same prediction code as the
// trainer's final evaluation, and are combined by the same `ensemble` the study uses. With the
// batch size and maximum length a run recorded in its `ablate.json` (the defaults here), on the
// backend it ran on, the ensemble reproduces the study's `ensembleMapAtK` exactly. Questions are
// tokenized a batch at a time; memory grows only with questions × options × models floats.
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { logger, UsageError } from '../../common/mod.js';
import { BACKEND_CHOICES, type BackendChoice } from '../backends.js';

/** The seed-ensemble methods (controller/aggregate's ENSEMBLE_METHODS, kept here so `--help` loads no TF.js). */
const ENSEMBLE_CHOICES = ['mean-probabilities', 'mean-logits'] as const;

/** Questions per forward pass when neither `--batch-size` nor the model's `ablate.json` says. @default 16 (api's DEFAULT_EVAL_BATCH_SIZE) */
export const DEFAULT_PREDICT_BATCH_SIZE = 16;
/** Tokens per (prompt, option) row when neither `--max-length` nor the model's `ablate.json` says. @default 256 (api's DEFAULT_MAX_LENGTH) */
export const DEFAULT_PREDICT_MAX_LENGTH = 256;

interface PredictArgs {
  models: string[];
  data: string;
  out: string;
  ensemble: (typeof ENSEMBLE_CHOICES)[number];
  backend: BackendChoice;
  batchSize?: number;
  maxLength?: number;
  k: number;
  json: boolean;
}

/** `sub.csv` → `sub.probabilities.csv`, beside the submission. */
export function probabilitiesPath(out: string): string {
  const ext = extname(out);
  return join(dirname(out), `${basename(out, ext)}.probabilities.csv`);
}

function positiveInt(flag: string, v: number | undefined): number | undefined {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new UsageError(`${flag} must be a positive integer, got ${String(v)}`);
  return v;
}

/** A one-line progress bar on stderr, redrawn in place; silent when stderr is not a terminal. */
class ProgressBar {
  private readonly tty = process.stderr.isTTY === true;
  private last = 0;

  draw(label: string, done: number, total: number, started: number): void {
    if (!this.tty) return;
    const now = Date.now();
    if (done < total && now - this.last < 100) return;
    this.last = now;
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    const rate = done / Math.max(1e-3, (now - started) / 1000);
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} questions, ${rate.toFixed(1)}/s\x1b[K`);
  }

  close(): void {
    if (this.tty) process.stderr.write('\r\x1b[K');
  }
}

const command: CommandModule<object, PredictArgs> = {
  command: 'predict',
  describe: 'Predict a question file with saved models (seed-ensembled): Kaggle submission, probabilities, MAP@k',
  builder: (y: Argv) =>
    y
      .option('models', { type: 'string', array: true, demandOption: true, describe: 'Saved model folders (config.json, model.safetensors, tokenizer), e.g. the seeds of one ablation' })
      .option('data', { type: 'string', demandOption: true, describe: 'Question CSV id,prompt,A,B,…[,answer]; with answers, MAP@k is reported' })
      .option('out', { type: 'string', demandOption: true, describe: 'Submission CSV to write (id,prediction); the probabilities go to <stem>.probabilities.csv beside it' })
      .option('ensemble', { choices: ENSEMBLE_CHOICES, default: 'mean-probabilities' as const, describe: 'How the models are combined' })
      .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as const, describe: 'TF.js backend (the run’s own backend reproduces its numbers bit for bit)' })
      .option('batch-size', { type: 'number', describe: `Questions per forward pass [default: the model's evalBatchSize from ablate.json, else ${DEFAULT_PREDICT_BATCH_SIZE}]` })
      .option('max-length', { type: 'number', describe: `Tokens per prompt+option row [default: the model's maxLength from ablate.json, else ${DEFAULT_PREDICT_MAX_LENGTH}]` })
      .option('k', { type: 'number', default: 3, describe: 'Letters per submission row, and the cut-off of MAP@k' })
      .option('json', { type: 'boolean', default: false, describe: 'Print {"questions","mapAtK","k"} (or {"questions"} without answers) as JSON' })
      .example('$0 predict --models runs/science-exam/models/full-seed0 runs/science-exam/models/full-seed1 --data val.csv --out full.csv', 'Ensemble two seeds; writes full.csv and full.probabilities.csv')
      .example('$0 predict --models export/*-seed* --data test.csv --out submission.csv --backend wasm --json', 'A Kaggle submission for an unlabeled test set, as JSON') as unknown as Argv<PredictArgs>,
  handler: async (args: ArgumentsCamelCase<PredictArgs>) => {
    const batchFlag = positiveInt('--batch-size', args.batchSize);
    const maxLengthFlag = positiveInt('--max-length', args.maxLength);
    const k = positiveInt('--k', args.k) ?? 3;
    if (args.models.length === 0) throw new UsageError('--models: name at least one saved model folder');
    for (const dir of args.models) {
      const s = await stat(dir).catch(() => undefined);
      if (!s?.isDirectory()) throw new UsageError(`--models: ${dir} is not a folder`);
    }
    const log = logger({ command: 'predict' });
    const tr = await import('../../trainer/mod.js');
    const agg = await import('../../controller/mod.js');
    const questions = await tr.readQuestionsCsv(args.data);
    if (questions.questions.length === 0) throw new UsageError(`--data: ${args.data} has no questions`);
    const options = questions.letters.length;

    const backend = await tr.selectBackend(args.backend);
    const bar = new ProgressBar();
    const perModel: Float32Array[] = [];
    try {
      for (const [m, dir] of args.models.entries()) {
        const info = await tr.readSavedModelInfo(dir);
        const batchSize = batchFlag ?? info?.evalBatchSize ?? DEFAULT_PREDICT_BATCH_SIZE;
        const maxLength = maxLengthFlag ?? info?.maxLength ?? DEFAULT_PREDICT_MAX_LENGTH;
        if (info !== undefined && info.backend !== backend.name) {
          log.warn({ model: dir, trained: info.backend, backend: backend.name }, `${dir} ran on ${info.backend}, predicting on ${backend.name}: probabilities may differ in the last digits from the run's`);
        }
        const tokenizer = await tr.loadTokenizer(dir);
        const model = await tr.DebertaForMultipleChoice.load(dir);
        const started = Date.now();
        try {
          const label = `model ${m + 1}/${args.models.length}`;
          perModel.push(await tr.predictProbabilities(model, tokenizer, questions.questions, { maxLength, batchSize, onBatch: (done, total) => bar.draw(label, done, total, started) }));
        } finally {
          model.dispose();
          bar.close();
        }
        log.info({ model: dir, questions: questions.questions.length, batchSize, maxLength, backend: backend.name, seconds: (Date.now() - started) / 1000 }, `${dir}: ${questions.questions.length} questions predicted`);
      }
    } finally {
      tr.releaseBackend();
    }

    // The study's own ensemble function, even for one model: it renormalises rows exactly as the study did.
    const probs = agg.ensemble(perModel, args.ensemble, options);
    const ids = questions.questions.map((q) => q.id);
    await mkdir(dirname(args.out), { recursive: true });
    const probsPath = probabilitiesPath(args.out);
    await tr.writeSubmissionCsv(args.out, ids, questions.letters, probs, k);
    await tr.writeProbabilitiesCsv(probsPath, ids, questions.letters, probs);

    const labelled = questions.questions.every((q) => q.answer !== undefined);
    const mapAtK = labelled ? agg.mapAtK(probs, questions.questions.map((q) => q.answer ?? -1), k) : undefined;
    if (args.json) {
      process.stdout.write(`${JSON.stringify(mapAtK === undefined ? { questions: ids.length } : { questions: ids.length, mapAtK, k })}\n`);
      return;
    }
    const score = mapAtK === undefined ? '' : `; MAP@${k} ${mapAtK.toFixed(4)}`;
    process.stdout.write(`${ids.length} questions, ${args.models.length} model${args.models.length === 1 ? '' : 's'} (${args.ensemble})${score}\nSubmission: ${args.out}\nProbabilities: ${probsPath}\n`);
  },
};
export default command;
