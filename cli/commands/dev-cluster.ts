// `ablate dev-cluster`: serves a development stand-in for the Kubernetes API server (NOT a
// cluster) until interrupted, so `kubectl` and `ablate controller --kubeconfig FILE` can be tried
// end to end on one machine. The kubeconfig is written (atomically) only once the server answers,
// so a script may wait for the file to appear; it is removed again on shutdown.
import type { CommandModule } from 'yargs';

interface Args {
  port: number;
  host: string;
  kubeconfig: string;
  workdir: string | undefined;
  'run-jobs': boolean;
  apply: string[] | undefined;
  'compaction-window': number;
}

const command: CommandModule<object, Args> = {
  command: 'dev-cluster',
  describe: 'Serve a development stand-in for the Kubernetes API server (not a cluster) for kubectl and the controller',
  builder: (y) =>
    y
      .usage(
        '$0 dev-cluster --kubeconfig FILE [--port N] [--workdir DIR] [--no-run-jobs]\n\n' +
          'A DEVELOPMENT STAND-IN, NOT A CLUSTER: an in-memory HTTP server that speaks the Kubernetes API for the kinds ablate uses ' +
          '(namespaces, secrets, configmaps, pods, events, jobs, leases, CRDs and their custom resources) with the real semantics ' +
          '(resourceVersions and 409s, watch with bookmarks and 410, selectors, patches, CRD schema + CEL admission, finalizers, ' +
          'ownerReference GC, server-side tables for kubectl get). Each Job runs its pod as a local process (`ablate ...` runs this CLI). ' +
          'No scheduler, nodes, images, networking, RBAC, authentication or persistence. See docs/dev-cluster.md.',
      )
      .option('kubeconfig', { type: 'string', demandOption: true, describe: 'Write a kubeconfig for this server here once it is ready' })
      .option('port', { type: 'number', default: 0, describe: 'TCP port (0 picks a free one)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on' })
      .option('workdir', { type: 'string', describe: 'Working directory of pod processes (default: the current directory)' })
      .option('run-jobs', { type: 'boolean', default: true, describe: 'Run each Job\'s pod as a local process (--no-run-jobs: Jobs stay pending)' })
      .option('apply', { type: 'string', array: true, describe: 'YAML files to create before serving (e.g. the CRD)' })
      .option('compaction-window', { type: 'number', default: 1000, describe: 'Watch events kept per kind; older resourceVersions get 410 Gone' })
      .example('$0 dev-cluster --kubeconfig /tmp/dev.kubeconfig', 'Serve on a free port; then `kubectl --kubeconfig /tmp/dev.kubeconfig get ns`')
      .example('$0 dev-cluster --kubeconfig dev.yaml --apply manifests/crds/ablate.dev_finetunejobs.yaml --workdir runs/', 'Preload the FineTuneJob CRD; pods run in runs/')
      .example('$0 dev-cluster --kubeconfig dev.yaml --no-run-jobs --port 6443', 'API only, fixed port; Jobs are never started') as never,
  handler: async (args) => {
    const { readFileSync, rmSync } = await import('node:fs');
    const { resolve } = await import('node:path');
    const { parseAllDocuments } = await import('yaml');
    const { UsageError, logger } = await import('../../common/mod.js');
    const { DevCluster } = await import('../../controller/mod.js');
    if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65_535) throw new UsageError(`--port must be 0..65535, got ${args.port}`);
    if (!Number.isInteger(args['compaction-window']) || args['compaction-window'] < 1) {
      throw new UsageError(`--compaction-window must be a positive integer, got ${args['compaction-window']}`);
    }
    const manifests: Record<string, unknown>[] = [];
    for (const file of args.apply ?? []) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new UsageError(`--apply ${file}: cannot read: ${(err as Error).message}`);
      }
      for (const doc of parseAllDocuments(text)) {
        if (doc.errors.length > 0) throw new UsageError(`--apply ${file}: ${doc.errors[0]!.message}`);
        const value = doc.toJS() as unknown;
        if (value && typeof value === 'object') manifests.push(value as Record<string, unknown>);
      }
    }
    const cluster = await DevCluster.create({
      port: args.port,
      host: args.host,
      compactionWindow: args['compaction-window'],
      ...(args['run-jobs'] ? { jobRunner: { workdir: resolve(args.workdir ?? process.cwd()) } } : {}),
    });
    const log = logger({ component: 'dev-cluster' });
    const kubeconfig = resolve(args.kubeconfig);
    let stopping = false;
    const stop = async (signal: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'dev-cluster stopping');
      rmSync(kubeconfig, { force: true });
      await cluster.close();
    };
    try {
      // CRDs first, so the custom resources in the same files find their type.
      const isCrd = (m: Record<string, unknown>): boolean => m['kind'] === 'CustomResourceDefinition';
      for (const m of [...manifests.filter(isCrd), ...manifests.filter((m) => !isCrd(m))]) cluster.apply(m);
      cluster.writeKubeconfig(kubeconfig);
    } catch (err) {
      await cluster.close();
      throw err;
    }
    log.info({ url: cluster.url, kubeconfig, runJobs: args['run-jobs'] }, 'dev-cluster ready (a development stand-in, not a cluster)');
    process.stdout.write(`dev-cluster serving ${cluster.url}; kubeconfig ${kubeconfig}\n`);
    await new Promise<void>((done) => {
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void stop(sig).then(done));
    });
  },
};
export default command;
