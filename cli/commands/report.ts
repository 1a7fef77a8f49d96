// `ablate report DIR | NAME`: reprints a study's results table and (re)writes its report.html.
// DIR: the results folder `ablate run` wrote (results.json plus each run's curves.json).
// NAME: a FineTuneJob on a cluster — the numbers come from its status, the training curves from
// the progress messages kept in the stream (with --nats); results.json and report.html are
// written to --out.
import type { CommandModule } from 'yargs';

interface Args {
  target: string;
  kubeconfig: string | undefined;
  namespace: string | undefined;
  nats: string | undefined;
  stream: string;
  'subject-prefix': string;
  out: string | undefined;
}

const command: CommandModule<object, Args> = {
  command: 'report <target>',
  describe: "Print a study's results table and rewrite its report.html (a results folder, or a FineTuneJob by name)",
  builder: (y) =>
    y
      .positional('target', { type: 'string', demandOption: true, describe: 'Results folder written by `ablate run` (holds results.json), or a FineTuneJob name' })
      .option('kubeconfig', { type: 'string', describe: 'NAME form: kubeconfig file (default: in-cluster, else KUBECONFIG or ~/.kube/config)' })
      .option('namespace', { alias: 'n', type: 'string', describe: "NAME form: namespace (default: the context's, else default)" })
      .option('nats', { type: 'string', describe: 'NAME form: NATS URL to rebuild training curves from the progress subjects (env NATS_URL)' })
      .option('stream', { type: 'string', default: 'ABLATE', describe: 'NAME form: JetStream stream name' })
      .option('subject-prefix', { type: 'string', default: 'ablate', describe: 'NAME form: subject prefix the trainers publish under' })
      .option('out', { type: 'string', describe: 'NAME form: folder for results.json and report.html (default runs/<name>)' })
      .example('$0 report runs/science-exam', 'Print the table and rewrite runs/science-exam/report.html')
      .example('$0 report science-exam --kubeconfig dev.yaml --nats nats://127.0.0.1:4222', 'From the cluster: status numbers, curves from the stream → runs/science-exam/report.html')
      .example('$0 report runs/science-exam --log-level warn', 'The same, with fewer log lines on stderr') as never,
  handler: async (args) => {
    const { existsSync, statSync } = await import('node:fs');
    const { homedir } = await import('node:os');
    const { join } = await import('node:path');
    const { writeReport } = await import('../../controller/mod.js');
    const isDir = existsSync(args.target) && statSync(args.target).isDirectory();
    const clusterKnown =
      args.kubeconfig !== undefined || args.namespace !== undefined || process.env['KUBECONFIG'] !== undefined || process.env['KUBERNETES_SERVICE_HOST'] !== undefined || existsSync(join(homedir(), '.kube', 'config'));
    if (isDir || !clusterKnown || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(args.target)) {
      const written = await writeReport(args.target);
      process.stdout.write(`${written.table}\nReport: ${written.path}\n`);
      return;
    }
    const { mkdir, writeFile } = await import('node:fs/promises');
    const { fineTuneJobClient, resultsFromStatus, curvesFromStream } = await import('../../controller/mod.js');
    const client = await fineTuneJobClient({ kubeconfig: args.kubeconfig, namespace: args.namespace });
    const ftj = await client.get(args.target);
    const results = resultsFromStatus(ftj);
    const out = args.out ?? join('runs', ftj.metadata.name);
    await mkdir(out, { recursive: true });
    const natsUrl = args.nats ?? process.env['NATS_URL'];
    if (natsUrl) {
      const { NatsTransport } = await import('../../protocol/mod.js');
      const t = await NatsTransport.create({ servers: natsUrl, stream: args.stream, subjects: [`${args['subject-prefix']}.>`], name: 'ablate-report' });
      try {
        for (const c of await curvesFromStream(t, ftj, args['subject-prefix'])) {
          const rel = join('runs', `${c.ablation}-seed${c.seed}`, 'curves.json');
          await mkdir(join(out, 'runs', `${c.ablation}-seed${c.seed}`), { recursive: true });
          await writeFile(join(out, rel), `${JSON.stringify(c, null, 2)}\n`);
          const run = results.runs.find((r) => r.ablation === c.ablation && r.seed === c.seed);
          if (run) run.files.curves = rel;
        }
      } finally {
        await t.close();
      }
    }
    await writeFile(join(out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    const written = await writeReport(out);
    process.stdout.write(`${written.table}\nReport: ${written.path}\n`);
  },
};
export default command;
