// `ablate model info`: the architecture and parameter counts of a checkpoint directory, total and
// trainable under each freezing mode. Counts come from config.json alone, so a directory with
// only a config (or a 1.7 GB checkpoint) answers instantly without allocating the model.
import type { CommandModule } from 'yargs';

interface InfoArgs {
  model: string;
  json: boolean;
}

const command: CommandModule<object, InfoArgs> = {
  command: 'info',
  describe: 'Print the architecture and the total/trainable parameter counts under each freezing mode',
  builder: (y) =>
    y
      .option('model', { type: 'string', demandOption: true, describe: 'Model directory (config.json; weights not needed)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print {"total": n, "trainable": {mode: n}, "config": {...}, "weights": [files]} on stdout' })
      .example('$0 model info --model /models/deberta-v3-large', '435,062,785 total; 303,888,385 with word embeddings frozen')
      .example('$0 model info --model test/fixtures/deberta-v3-tiny --json', 'As JSON'),
  handler: async (args) => {
    const { loadConfig, countParameters, checkpointFiles, FREEZE_MODES } = await import('../../../trainer/mod.js');
    const config = await loadConfig(args.model);
    const counts = countParameters(config);
    const weights = (await checkpointFiles(args.model)) ?? [];
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ total: counts.total, trainable: counts.trainable, config, weights })}\n`);
      return;
    }
    const n = (v: number): string => v.toLocaleString('en-US');
    const lines = [
      `model       ${args.model}`,
      `layers      ${config.num_hidden_layers} × hidden ${config.hidden_size}, ${config.num_attention_heads} heads, intermediate ${config.intermediate_size}`,
      `vocabulary  ${n(config.vocab_size)}; relative attention ${config.relative_attention ? `${config.pos_att_type.join('+')}, buckets ${config.position_buckets}` : 'off'}`,
      `weights     ${weights.length > 0 ? weights.join(', ') : 'none (config only)'}`,
      `total       ${n(counts.total)}`,
      ...FREEZE_MODES.map((m) => `trainable   ${n(counts.trainable[m]).padStart(n(counts.total).length)}  freeze ${m}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};
export default command;
