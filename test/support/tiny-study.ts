// A tiny, self-contained study for runtime tests: a random DeBERTa-v3 model (the fixture's
// architecture with the spm-tiny tokenizer), a few demo questions, and a job file. Small enough
// that a run trains in seconds on a busy 2-core machine.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { DebertaForMultipleChoice, parseConfig, selectBackend } from '../../trainer/mod.js';

const root = new URL('../../', import.meta.url).pathname;

export interface TinyStudy {
  dir: string;
  jobFile: string;
  outDir: string;
}

export interface TinyStudyOptions {
  name?: string;
  ablations?: unknown[];
  seeds?: number[];
  training?: Record<string, unknown>;
  train?: number;
  validation?: number;
  /** Extra files written into the study folder: name → content. */
  files?: Record<string, string>;
  execution?: Record<string, unknown>;
}

let modelDir: string | undefined;

/** A random tiny model with the spm-tiny tokenizer (made once per process). */
export async function tinyModel(): Promise<string> {
  if (modelDir) return modelDir;
  await selectBackend('cpu');
  const base = JSON.parse(readFileSync(join(root, 'test/fixtures/deberta-v3-tiny/config.json'), 'utf8')) as Record<string, unknown>;
  const config = parseConfig({ ...base, vocab_size: 400, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 });
  const dir = join(mkdtempSync(join(tmpdir(), 'ablate-tiny-model-')), 'model');
  const model = DebertaForMultipleChoice.create(config, { seed: 7 });
  await model.save(dir);
  model.dispose();
  copyFileSync(join(root, 'test/fixtures/spm-tiny/spm.model'), join(dir, 'spm.model'));
  modelDir = dir;
  return dir;
}

function firstLines(file: string, n: number): string {
  return readFileSync(file, 'utf8').split('\n').slice(0, n + 1).join('\n') + '\n';
}

export async function tinyStudy(opts: TinyStudyOptions = {}): Promise<TinyStudy> {
  const dir = mkdtempSync(join(tmpdir(), 'ablate-study-'));
  const model = await tinyModel();
  writeFileSync(join(dir, 'train.csv'), firstLines(join(root, 'examples/science-exam/data/train.csv'), opts.train ?? 16));
  writeFileSync(join(dir, 'validation.csv'), firstLines(join(root, 'examples/science-exam/data/validation.csv'), opts.validation ?? 12));
  for (const [name, content] of Object.entries(opts.files ?? {})) writeFileSync(join(dir, name), content);
  const name = opts.name ?? `tiny-${Math.random().toString(36).slice(2, 8)}`;
  const job = {
    apiVersion: 'ablate.dev/v1alpha1',
    kind: 'FineTuneJob',
    metadata: { name },
    spec: {
      model: { uri: model, maxLength: 40 },
      data: { train: { uri: './train.csv' }, validation: { uri: './validation.csv' } },
      training: {
        epochs: 1,
        batchSize: 8,
        learningRate: { value: 1e-3 },
        headWarmup: { steps: 1, learningRate: 1e-3 },
        checkpointEverySteps: 1,
        evalBatchSize: 6,
        backend: 'cpu',
        ...opts.training,
      },
      ablations: opts.ablations ?? [{ name: 'full' }, { name: 'frozen-embeddings', training: { freezeEmbeddings: true } }],
      seeds: opts.seeds ?? [0],
      execution: { parallelism: 2, backoffLimit: 1, ...opts.execution },
    },
  };
  const jobFile = join(dir, 'job.yaml');
  writeFileSync(jobFile, stringify(job));
  return { dir, jobFile, outDir: join(dir, 'out') };
}
