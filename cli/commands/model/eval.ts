// `ablate model eval`: one forward pass (eval mode) of a checkpoint on a batch file, printing the
// logits and the loss. On the tiny fixture the numbers match HF transformers to ~1e-6
// (test/fixtures/deberta-v3-tiny/expected.json), so this is the first check after a port or an
// upgrade.
import type { CommandModule } from 'yargs';
import { logger } from '../../../common/mod.js';

/** The trainer's backend names (`training.backend`); `selectBackend` checks them again. */
const BACKEND_CHOICES = ['auto', 'webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;

interface EvalArgs {
  model: string;
  inputs: string;
  backend: (typeof BACKEND_CHOICES)[number];
  json: boolean;
}

const command: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: 'Run one forward pass on a batch file and print the logits and loss',
  builder: (y) =>
    y
      .option('model', { type: 'string', demandOption: true, describe: 'Checkpoint directory (config.json + model.safetensors)' })
      .option('inputs', { type: 'string', demandOption: true, describe: 'JSON with input_ids and attention_mask [questions][choices][tokens] and labels [questions]' })
      .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as const, describe: 'TF.js backend' })
      .option('json', { type: 'boolean', default: false, describe: 'Print {"logits": [[...]], "loss": n} on stdout' })
      .example('$0 model eval --model test/fixtures/deberta-v3-tiny --inputs test/fixtures/deberta-v3-tiny/inputs.json', 'Logits and loss of the reference fixture')
      .example('$0 model eval --model /models/deberta-v3-large --inputs batch.json --backend wasm --json', 'As JSON, on the wasm backend'),
  handler: async (args) => {
    const tf = await import('@tensorflow/tfjs-core');
    const { selectBackend, releaseBackend, DebertaForMultipleChoice, multipleChoiceLoss, readBatchFile } = await import('../../../trainer/mod.js');
    const log = logger({ command: 'model eval' });
    const backend = await selectBackend(args.backend);
    const model = await DebertaForMultipleChoice.load(args.model);
    const batch = await readBatchFile(args.inputs);
    const started = performance.now();
    let logits: number[][];
    let loss: number;
    try {
      const out = tf.tidy(() => {
        const l = model.forward(batch.inputIds, batch.attentionMask);
        return [l, multipleChoiceLoss(l, batch.labels)] as const;
      });
      logits = (await out[0].array()) as number[][];
      loss = (await out[1].data())[0]!;
      tf.dispose([...out]);
    } finally {
      tf.dispose([batch.inputIds, batch.attentionMask, batch.labels]);
      model.dispose();
      releaseBackend();
    }
    const ms = performance.now() - started;
    log.info({ backend: backend.name, questions: logits.length, ms: Math.round(ms) }, 'eval done');
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ logits, loss })}\n`);
      return;
    }
    const lines = logits.map((row, q) => `question ${q}: ${row.map((v) => v.toFixed(6)).join('  ')}`);
    lines.push(`loss ${loss.toFixed(6)} (backend ${backend.name}, ${ms.toFixed(0)} ms)`);
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};
export default command;
