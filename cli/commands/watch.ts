// `ablate watch NAME`: live progress of a FineTuneJob — one bar per run from the status, with
// the trainer's step and loss from the stream's progress subjects when --nats is given — until the
// study ends (exit 0 when it Succeeded, 1 when it Failed).
import type { CommandModule } from 'yargs';

interface Args {
  name: string;
  kubeconfig: string | undefined;
  namespace: string | undefined;
  nats: string | undefined;
  stream: string;
  'subject-prefix': string;
  interval: number;
  json: boolean;
}

const BAR = 24;

const command: CommandModule<object, Args> = {
  command: 'watch <name>',
  describe: 'Follow a FineTuneJob: a progress bar per run until the study ends',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true, describe: 'FineTuneJob name' })
      .option('kubeconfig', { type: 'string', describe: 'Kubeconfig file (default: in-cluster, else ~/.kube/config)' })
      .option('namespace', { alias: 'n', type: 'string', describe: "Namespace (default: the context's, else default)" })
      .option('nats', { type: 'string', describe: 'NATS URL for live step/loss from the progress subjects (env NATS_URL)' })
      .option('stream', { type: 'string', default: 'ABLATE', describe: 'JetStream stream name' })
      .option('subject-prefix', { type: 'string', default: 'ablate', describe: 'Subject prefix the trainers publish under' })
      .option('interval', { type: 'number', default: 2, describe: 'Seconds between status reads' })
      .option('json', { type: 'boolean', default: false, describe: 'One JSON line {phase, progress, runs} per change' })
      .example('$0 watch science-exam --kubeconfig dev.yaml', 'Bars from the status until the study ends')
      .example('$0 watch science-exam --nats nats://127.0.0.1:4222', 'With live step and loss from the trainers') as never,
  handler: async (args) => {
    const { UsageError } = await import('../../common/mod.js');
    if (!(args.interval > 0)) throw new UsageError(`--interval must be > 0, got ${args.interval}`);
    const { fineTuneJobClient } = await import('../../controller/mod.js');
    const client = await fineTuneJobClient({ kubeconfig: args.kubeconfig, namespace: args.namespace });
    let ftj = await client.get(args.name);
    const live = new Map<string, { step: number; total: number; loss: number; phase: string }>();
    let stopLive: (() => Promise<void>) | undefined;
    const natsUrl = args.nats ?? process.env['NATS_URL'];
    if (natsUrl) {
      const { NatsTransport, decodeMessage, parseSubject } = await import('../../protocol/mod.js');
      const t = await NatsTransport.create({ servers: natsUrl, stream: args.stream, subjects: [`${args['subject-prefix']}.>`], name: 'ablate-watch' });
      const durable = `ablate-watch-${process.pid}-${Date.now().toString(36)}`;
      const uid = ftj.metadata.uid ?? '';
      const c = await t.consume({ filter: `${args['subject-prefix']}.${client.namespace}.${args.name}.*.*.progress`, durable }, (m) => {
        try {
          const s = parseSubject(m.subject);
          const p = decodeMessage('progress', m.data);
          if (p.runUid.startsWith(`${uid}-`)) live.set(`${s.ablation}/${s.seed}`, { step: p.step, total: p.totalSteps, loss: p.loss, phase: p.phase });
        } catch {
          // Not a progress message we can show.
        }
        m.ack();
      });
      stopLive = async () => {
        await c.stop();
        await t.deleteConsumer(durable).catch(() => false);
        await t.close();
      };
    }
    const tty = process.stdout.isTTY === true && !args.json;
    let drawn = 0;
    let previous = '';
    try {
      for (;;) {
        const s = ftj.status ?? {};
        const runs = (s.runs ?? []).map((r) => {
          const key = `${r.ablation}/${r.seed}`;
          const l = live.get(key);
          const frac = r.phase === 'Succeeded' ? 1 : l && l.total > 0 ? l.step / l.total : 0;
          return { key, phase: r.phase, attempts: r.attempts, fraction: frac, step: l?.step ?? null, totalSteps: l?.total ?? null, loss: l && Number.isFinite(l.loss) ? l.loss : null, mapAtK: r.mapAtK ?? null, message: r.message ?? null };
        });
        const snapshot = { phase: s.phase ?? 'Pending', progress: s.progress ?? null, runs };
        const text = JSON.stringify(snapshot);
        if (text !== previous) {
          previous = text;
          if (args.json) process.stdout.write(`${text}\n`);
          else {
            const lines = [`${args.name}: ${snapshot.phase} ${snapshot.progress ?? ''}`];
            for (const r of runs) {
              const filled = Math.round(r.fraction * BAR);
              const detail = r.phase === 'Succeeded' ? `MAP ${r.mapAtK?.toFixed(4) ?? '—'}` : r.step !== null ? `step ${r.step}/${r.totalSteps}${r.loss !== null ? ` loss ${r.loss.toFixed(4)}` : ''}` : (r.message ?? '');
              lines.push(`  ${r.key.padEnd(28)} ${'█'.repeat(filled)}${'░'.repeat(BAR - filled)} ${r.phase.padEnd(9)} ${r.attempts > 1 ? `attempt ${r.attempts} ` : ''}${detail}`);
            }
            if (tty && drawn > 0) process.stdout.write(`\x1b[${drawn}A\x1b[J`);
            process.stdout.write(`${lines.join('\n')}\n`);
            drawn = lines.length;
          }
        }
        if (snapshot.phase === 'Succeeded' || snapshot.phase === 'Failed') {
          if (snapshot.phase === 'Failed') process.exitCode = 1;
          return;
        }
        await new Promise((r) => setTimeout(r, args.interval * 1000));
        ftj = await client.get(args.name);
      }
    } finally {
      await stopLive?.();
    }
  },
};
export default command;
