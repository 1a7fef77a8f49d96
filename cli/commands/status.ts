// `ablate status NAME`: a FineTuneJob's status as the operator wrote it — phase, conditions,
// each run, and the results table once there is one.
import type { CommandModule } from 'yargs';

interface Args {
  name: string;
  kubeconfig: string | undefined;
  namespace: string | undefined;
  json: boolean;
}

const command: CommandModule<object, Args> = {
  command: 'status <name>',
  describe: "Show a FineTuneJob's phase, conditions, runs and results",
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true, describe: 'FineTuneJob name' })
      .option('kubeconfig', { type: 'string', describe: 'Kubeconfig file (default: in-cluster, else ~/.kube/config)' })
      .option('namespace', { alias: 'n', type: 'string', describe: "Namespace (default: the context's, else default)" })
      .option('json', { type: 'boolean', default: false, describe: 'Print the status object as JSON' })
      .example('$0 status science-exam --kubeconfig dev.yaml', 'Phase, conditions, a line per run, the table')
      .example('$0 status science-exam -n ml --json', 'The raw status (what `kubectl get ftj -o json` has under .status)') as never,
  handler: async (args) => {
    const { fineTuneJobClient, renderStatus, renderTable } = await import('../../controller/mod.js');
    const client = await fineTuneJobClient({ kubeconfig: args.kubeconfig, namespace: args.namespace });
    const ftj = await client.get(args.name);
    if (args.json) process.stdout.write(`${JSON.stringify(ftj.status ?? {}, null, 2)}\n`);
    else process.stdout.write(renderStatus(ftj, renderTable));
  },
};
export default command;
