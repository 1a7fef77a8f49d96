// `ablate model overfit`: N AdamW steps on one batch, printing the loss of each. A correctly wired
// model, loss and optimizer drive one batch's loss towards zero; on the tiny fixture the numbers
// match PyTorch's AdamW run (test/fixtures/deberta-v3-tiny/expected.json, `training`).
import type { CommandModule } from 'yargs';
import { logger, UsageError } from '../../../common/mod.js';

/** @default 10 */
const DEFAULT_STEPS = 10;
/** The trainer's backend names (`training.backend`); `selectBackend` checks them again. */
const BACKEND_CHOICES = ['auto', 'webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;

interface OverfitArgs {
  model: string;
  inputs: string;
  steps: number;
  lr: number;
  'weight-decay': number;
  eps: number;
  'freeze-embeddings': boolean;
  backend: (typeof BACKEND_CHOICES)[number];
  json: boolean;
}

function check(flag: string, value: number, ok: boolean, what: string): void {
  if (!ok) throw new UsageError(`--${flag}: must be ${what}, got ${value}`);
}

const command: CommandModule<object, OverfitArgs> = {
  command: 'overfit',
  describe: 'Train on one batch for N AdamW steps and print each step\'s loss (a wiring check)',
  builder: (y) =>
    y
      .option('model', { type: 'string', demandOption: true, describe: 'Checkpoint directory (config.json + model.safetensors)' })
      .option('inputs', { type: 'string', demandOption: true, describe: 'JSON with input_ids and attention_mask [questions][choices][tokens] and labels [questions]' })
      .option('steps', { type: 'number', default: DEFAULT_STEPS, describe: 'AdamW steps on the batch' })
      .option('lr', { type: 'number', default: 1e-3, describe: 'Learning rate (constant: no schedule)' })
      .option('weight-decay', { type: 'number', default: 0.01, describe: 'Decoupled weight decay, on every trained parameter' })
      .option('eps', { type: 'number', default: 1e-6, describe: 'AdamW epsilon (betas are 0.9, 0.999)' })
      .option('freeze-embeddings', { type: 'boolean', default: false, describe: 'Freeze the word embeddings: no gradient, left bit-identical' })
      .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as const, describe: 'TF.js backend' })
      .option('json', { type: 'boolean', default: false, describe: 'Print {"losses": [...], "logits": [[...]]} on stdout' })
      .example('$0 model overfit --model test/fixtures/deberta-v3-tiny --inputs test/fixtures/deberta-v3-tiny/inputs.json --steps 3', 'Three steps at lr 1e-3 on the fixture batch')
      .example('$0 model overfit --model DIR --inputs batch.json --steps 50 --lr 1e-4 --freeze-embeddings --backend wasm --json', 'Fifty steps with frozen word embeddings, as JSON'),
  handler: async (args) => {
    check('steps', args.steps, Number.isInteger(args.steps) && args.steps >= 1, 'an integer ≥ 1');
    check('lr', args.lr, args.lr > 0 && Number.isFinite(args.lr), 'a number > 0');
    check('weight-decay', args['weight-decay'], args['weight-decay'] >= 0 && Number.isFinite(args['weight-decay']), 'a number ≥ 0');
    check('eps', args.eps, args.eps >= 0 && Number.isFinite(args.eps), 'a number ≥ 0');
    const { selectBackend, releaseBackend, DebertaForMultipleChoice, overfitBatch, readBatchFile } = await import('../../../trainer/mod.js');
    const log = logger({ command: 'model overfit' });
    const backend = await selectBackend(args.backend);
    // The inputs first: a malformed file should fail before a large checkpoint is read.
    const batch = await readBatchFile(args.inputs);
    const model = await DebertaForMultipleChoice.load(args.model);
    const started = performance.now();
    let result;
    try {
      result = overfitBatch(model, batch, {
        steps: args.steps,
        lr: args.lr,
        weightDecay: args['weight-decay'],
        eps: args.eps,
        freeze: args['freeze-embeddings'] ? 'word-embeddings' : 'none',
        onStep: (step, loss) => log.debug({ step, loss }, 'overfit step'),
      });
    } finally {
      for (const t of [batch.inputIds, batch.attentionMask, batch.labels]) t.dispose();
      model.dispose();
      releaseBackend();
    }
    const seconds = (performance.now() - started) / 1000;
    log.info({ backend: backend.name, steps: args.steps, seconds: Number(seconds.toFixed(3)) }, 'overfit done');
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ losses: result.losses, logits: result.logits })}\n`);
      return;
    }
    const lines = ['step  loss', ...result.losses.map((l, i) => `${String(i + 1).padStart(4)}  ${l.toFixed(6)}`)];
    lines.push(`backend ${backend.name}, ${args.steps} steps in ${seconds.toFixed(2)} s; loss ${result.losses[0]!.toFixed(4)} → ${result.losses.at(-1)!.toFixed(4)}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};
export default command;
