// `ablate submit FILE`: validates a FineTuneJob offline (as `ablate validate` does), then creates
// it on the cluster — or updates it, by server-side apply — where the operator picks it up.
import type { CommandModule } from 'yargs';

interface Args {
  file: string;
  kubeconfig: string | undefined;
  namespace: string | undefined;
  json: boolean;
}

const command: CommandModule<object, Args> = {
  command: 'submit <file>',
  describe: 'Create (or update) a FineTuneJob on the cluster for the operator to run',
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'FineTuneJob YAML (validated before anything is sent)' })
      .option('kubeconfig', { type: 'string', describe: 'Kubeconfig file (default: in-cluster, else ~/.kube/config)' })
      .option('namespace', { alias: 'n', type: 'string', describe: "Namespace (default: the file's, else the context's, else default)" })
      .option('json', { type: 'boolean', default: false, describe: 'Print {name, namespace, uid, created} as JSON' })
      .example('$0 submit examples/science-exam/finetunejob.yaml --kubeconfig dev.yaml', 'Send the example to the dev cluster')
      .example('$0 submit study.yaml -n ml --json', 'Into namespace ml; print the result as JSON') as never,
  handler: async (args) => {
    const { fineTuneJobClient, readFineTuneJobFile } = await import('../../controller/mod.js');
    const job = readFineTuneJobFile(args.file);
    const client = await fineTuneJobClient({ kubeconfig: args.kubeconfig, namespace: args.namespace ?? job.metadata.namespace });
    const { job: out, created } = await client.apply(job);
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ name: out.metadata.name, namespace: client.namespace, uid: out.metadata.uid ?? null, created })}\n`);
    } else {
      process.stdout.write(`finetunejob.ablate.dev/${out.metadata.name} ${created ? 'created' : 'configured'} in namespace ${client.namespace}\n`);
    }
  },
};
export default command;
