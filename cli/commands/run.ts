// `ablate run FILE`: the whole study on this machine — every (ablation, seed) trained as a child
// process, seeds ensembled, each ablation compared with the baseline — then the table, and the
// results folder with results.json, CSVs, curves and report.html.
import type { CommandModule } from 'yargs';
import { BACKEND_CHOICES } from '../backends.js';

interface Args {
  file: string;
  out?: string;
  parallel?: number;
  backend?: string;
  nats?: string;
  'in-process': boolean;
  resume?: boolean;
  fresh?: boolean;
}

const command: CommandModule<object, Args> = {
  command: 'run <file>',
  describe: 'Run a FineTuneJob on this machine: train every (ablation, seed), ensemble, compare, report',
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'FineTuneJob file (YAML or JSON)' })
      .option('out', { type: 'string', describe: 'Output folder (default runs/<job name>/)' })
      .option('parallel', { type: 'number', describe: 'Trainer processes at a time (default spec.execution.parallelism)' })
      .option('backend', { type: 'string', choices: BACKEND_CHOICES, describe: "Override every run's training.backend" })
      .option('nats', { type: 'string', describe: 'NATS server URL for the prediction stream (default NATS_URL, else a nats-server on PATH, else in-process)' })
      .option('in-process', { type: 'boolean', default: false, describe: 'Do not use NATS: trainers report to this process directly' })
      .option('resume', { type: 'boolean', describe: 'Continue the study in the output folder: keep finished runs whose inputs did not change, resume the others from their checkpoints, aggregate again' })
      .option('fresh', { type: 'boolean', describe: "Delete the study in the output folder (work/, results.json, report.html, its runs' CSVs, curves and models there) and start over" })
      .conflicts('resume', 'fresh')
      .example('$0 run examples/science-exam/finetunejob.yaml', 'The reference study: 3 ablations × 3 seeds on the demo model')
      .example('$0 run job.yaml --parallel 2 --backend wasm --out /tmp/study', 'Two trainers at a time on the wasm backend')
      .example('$0 run job.yaml --resume', 'After Ctrl-C (or a changed evaluation): keep what finished, train the rest')
      .epilogue('Ctrl-C stops the study: every trainer checkpoints and exits, finished runs are kept, and --resume continues; a second Ctrl-C (or SIGTERM) kills the trainers at once. An output folder that already holds a study is never overwritten without --fresh.') as never,
  handler: async (args) => {
    const { runLocalStudy, StudyInterruptedError } = await import('../../controller/mod.js');
    const r = await runLocalStudy({
      file: args.file,
      ...(args.out === undefined ? {} : { out: args.out }),
      ...(args.parallel === undefined ? {} : { parallel: args.parallel }),
      ...(args.backend === undefined ? {} : { backend: args.backend }),
      ...(args.nats === undefined ? {} : { natsUrl: args.nats }),
      inProcess: args['in-process'],
      resume: args.resume === true,
      fresh: args.fresh === true,
    }).catch((err: unknown) => {
      if (!(err instanceof StudyInterruptedError)) throw err;
      // 128 + the signal, as a shell reports a process the signal stopped.
      process.stderr.write(`ablate: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return undefined;
    });
    if (r === undefined) return;
    process.stdout.write(`${r.table}\nResults: ${r.outDir}/results.json\nReport:  ${r.reportPath}\n`);
    const failed = r.results.runs.filter((x) => x.phase !== 'Succeeded').length;
    if (failed > 0) process.exitCode = 1;
  },
};
export default command;
