// `ablate controller`: runs the Kubernetes operator — in a cluster (service account) or against
// any API server with --kubeconfig (the dev cluster included) — until SIGTERM/SIGINT, then drains.
import type { CommandModule } from 'yargs';

interface Args {
  kubeconfig: string | undefined;
  namespaces: string | undefined;
  'all-namespaces': boolean | undefined;
  nats: string | undefined;
  'nats-creds-secret': string | undefined;
  stream: string;
  'metrics-addr': string;
  'probe-addr': string;
  'leader-elect': boolean;
  'lease-namespace': string | undefined;
  'lease-name': string;
  'trainer-image': string | undefined;
  'base-dir': string | undefined;
  'queue-workers': string | undefined;
  'consumer-inactive-threshold': string | undefined;
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * `90s`, `30m`, `1h`, `1h30m`, `500ms` (whole numbers, units ms/s/m/h, as in Go and the chart's
 * other durations) or a plain number of seconds (`5400`, as `watch --interval` takes) → ms;
 * undefined when it is neither.
 */
export function parseDurationMs(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  if (!/^(\d+(ms|s|m|h))+$/.test(t)) return undefined;
  let ms = 0;
  for (const [, n, unit] of t.matchAll(/(\d+)(ms|s|m|h)/g)) ms += Number(n) * (DURATION_UNITS_MS[unit as string] as number);
  return ms;
}

const command: CommandModule<object, Args> = {
  command: 'controller',
  describe: 'Run the Kubernetes operator: FineTuneJobs in, one GPU Job per run out, results in the status',
  builder: (y) =>
    y
      .option('kubeconfig', { type: 'string', describe: 'Kubeconfig file (default: in-cluster service account, else ~/.kube/config)' })
      .option('namespaces', { type: 'string', describe: 'Comma-separated namespaces to watch (default: all)' })
      .option('all-namespaces', { type: 'boolean', describe: 'Watch every namespace (the default when --namespaces is not given)' })
      .option('nats', { type: 'string', describe: 'NATS URL the controller collects predictions from (env NATS_URL)' })
      .option('nats-creds-secret', { type: 'string', describe: "Secret (key 'url') whose NATS URL trainer pods use, credentials included; default: pods get --nats" })
      .option('stream', { type: 'string', default: 'ABLATE', describe: 'JetStream stream name' })
      .option('metrics-addr', { type: 'string', default: ':8080', describe: "Prometheus /metrics address ('0' disables)" })
      .option('probe-addr', { type: 'string', default: ':8081', describe: "/healthz and /readyz address ('0' disables)" })
      .option('leader-elect', { type: 'boolean', default: false, describe: 'Hold a coordination.k8s.io Lease; only the leader reconciles' })
      .option('lease-namespace', { type: 'string', describe: 'Namespace of the Lease (default: env POD_NAMESPACE, else default)' })
      .option('lease-name', { type: 'string', default: 'ablate-controller', describe: 'Name of the Lease' })
      .option('trainer-image', { type: 'string', describe: "Trainer image when a FineTuneJob's template names none" })
      .option('base-dir', { type: 'string', describe: 'Folder relative model/data URIs resolve against, for the controller and the pods (default: the working directory)' })
      .option('queue-workers', { type: 'string', describe: 'FineTuneJobs reconciled at once, each by one worker at a time (default: 4); each creates its Jobs 8 at a time' })
      .option('consumer-inactive-threshold', {
        type: 'string',
        describe: "How long NATS keeps a collector durable nobody pulls from (a killed controller's), e.g. 90s, 30m, 1h, or seconds; at least the ack wait, 60s (default: 1h)",
      })
      .conflicts('namespaces', 'all-namespaces')
      .example('$0 controller --kubeconfig dev.yaml --nats nats://127.0.0.1:4222 --base-dir examples/science-exam', 'Run against the dev cluster; relative URIs of the example resolve in its folder')
      .example('$0 controller --leader-elect --nats-creds-secret ablate-nats --namespaces ml,research', 'In a cluster: two namespaces, leader election, pods read NATS credentials from a Secret')
      .example('$0 controller --metrics-addr 127.0.0.1:9090 --probe-addr 0', 'Metrics on loopback only, no probe server') as never,
  handler: async (args) => {
    const { UsageError, logger } = await import('../../common/mod.js');
    const { Operator, OperatorConfigError } = await import('../../controller/mod.js');
    const log = logger({ component: 'controller' });
    // Read as text: a number option turns 'many' into NaN, and the message would not show what was typed.
    const workersText = args['queue-workers'];
    const workers = workersText === undefined ? undefined : /^\s*\d+\s*$/.test(String(workersText)) ? Number(workersText) : NaN;
    if (workers !== undefined && !(workers >= 1)) throw new UsageError(`--queue-workers must be an integer ≥ 1, got ${String(workersText)}`);
    const thresholdText = args['consumer-inactive-threshold'];
    const { DEFAULT_ACK_WAIT_SECONDS } = await import('../../protocol/mod.js');
    const thresholdMs = thresholdText === undefined ? undefined : consumerInactiveThresholdMs(thresholdText, DEFAULT_ACK_WAIT_SECONDS * 1000, UsageError);
    let op;
    try {
      op = await Operator.create({
        ...(args.kubeconfig ? { kubeconfig: args.kubeconfig } : {}),
        namespaces: args.namespaces ? args.namespaces.split(',') : [],
        ...(args.nats ?? process.env['NATS_URL'] ? { natsUrl: (args.nats ?? process.env['NATS_URL']) as string } : {}),
        ...(args['nats-creds-secret'] ? { natsCredsSecret: args['nats-creds-secret'] } : {}),
        stream: args.stream,
        metricsAddr: args['metrics-addr'],
        probeAddr: args['probe-addr'],
        leaderElect: args['leader-elect'],
        ...(args['lease-namespace'] ? { leaseNamespace: args['lease-namespace'] } : {}),
        leaseName: args['lease-name'],
        ...(args['trainer-image'] ? { trainerImage: args['trainer-image'] } : {}),
        ...(args['base-dir'] ? { baseDir: args['base-dir'] } : {}),
        ...(workers === undefined ? {} : { queueWorkers: workers }),
        ...(thresholdMs === undefined ? {} : { consumerInactiveThresholdMs: thresholdMs }),
        onLostLeadership: () => {
          process.exitCode = 1;
        },
      });
    } catch (err) {
      if (err instanceof OperatorConfigError) throw new UsageError(err.message, { cause: err });
      throw err;
    }
    const operator = op;
    const { queueWorkers, consumerInactiveThresholdMs: inactiveMs } = operator.settings;
    log.info({ addresses: operator.addresses(), queueWorkers, consumerInactiveThresholdMs: inactiveMs }, 'controller started');
    await new Promise<void>((done) => {
      const stop = (signal: string): void => {
        log.info({ signal }, 'draining');
        void operator.close().then(done);
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      const poll = setInterval(() => {
        if (operator.state === 'closed') {
          clearInterval(poll);
          done();
        }
      }, 500);
      poll.unref();
    });
  },
};
export default command;

/**
 * --consumer-inactive-threshold in ms, at least `minMs`: the controller's ack wait
 * (DEFAULT_ACK_WAIT_SECONDS; the operator sets no other). The threshold counts time without a
 * pull. A live controller with nothing to read still pulls (30 s long polls) and a reconnect takes
 * seconds, so a threshold near those could let the server delete a live controller's durable and
 * make its collector replay the whole stream; the ack wait leaves a margin of two pulls. (The
 * operator setting itself only needs > 0, so tests can watch a durable expire quickly.)
 */
function consumerInactiveThresholdMs(text: string, minMs: number, UsageError: new (message: string) => Error): number {
  const ms = parseDurationMs(text);
  if (ms === undefined) throw new UsageError(`--consumer-inactive-threshold must be a duration such as 90s, 30m, 1h or 1h30m, or a number of seconds, got '${text}'`);
  if (ms < minMs) throw new UsageError(`--consumer-inactive-threshold must be at least ${minMs / 1000}s (the controller's ack wait; shorter, a live controller's durable could be dropped between pulls), got '${text}'`);
  return ms;
}
