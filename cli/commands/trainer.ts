// `ablate trainer`: runs one (ablation, seed) training run — the entrypoint of every trainer child
// process (`ablate run`) and pod (Kubernetes). Not usually run by hand.
import type { CommandModule } from 'yargs';
import { UsageError } from '../../common/mod.js';

/** Exit code for errors a retry cannot fix (bad data, config, model or tokenizer files). */
export const EXIT_PERMANENT = 3;
const PERMANENT_ERRORS = new Set([
  'CsvFormatError',
  'DataShapeError',
  'RunConfigError',
  'ModelConfigError',
  'SafetensorsError',
  'CheckpointMismatchError',
  'TokenizerNotFoundError',
  'SentencePieceModelError',
  'UnsupportedTokenizerError',
  'TokenizerJsonError',
  'UnsupportedUriError',
]);

function isPermanent(err: unknown): boolean {
  return err instanceof Error && PERMANENT_ERRORS.has(err.name);
}

interface Args {
  'run-config'?: string;
}

const command: CommandModule<object, Args> = {
  command: 'trainer',
  describe: 'Run one (ablation, seed) training run (the entrypoint of trainer processes and pods)',
  builder: (y) =>
    y
      .option('run-config', { type: 'string', describe: 'Run configuration JSON file (else the ABLATE_RUN_CONFIG environment variable holds the JSON)' })
      .example('$0 trainer --run-config runs/science-exam/work/full-seed0/run.json', 'what `ablate run` starts for each run'),
  handler: async (args) => {
    const { parseRunConfig, readRunConfig, runTraining, EXIT_STOPPED } = await import('../../trainer/mod.js');
    let cfg;
    if (args['run-config']) cfg = await readRunConfig(args['run-config']);
    else if (process.env['ABLATE_RUN_CONFIG']) cfg = parseRunConfig(JSON.parse(process.env['ABLATE_RUN_CONFIG']));
    else throw new UsageError('give --run-config FILE or set ABLATE_RUN_CONFIG');
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    let outcome;
    try {
      outcome = await runTraining(cfg, { signal: stop.signal });
    } catch (err) {
      // Bad data or a bad checkpoint will fail the same way on every retry: exit 3 tells
      // `ablate run` (and the Job's pod failure policy) not to retry.
      if (isPermanent(err)) {
        process.stderr.write(`ablate: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = EXIT_PERMANENT;
        return;
      }
      throw err;
    }
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    if (outcome.status === 'stopped') process.exitCode = EXIT_STOPPED;
  },
};
export default command;
