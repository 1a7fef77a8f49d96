// Prediction stream (issue #7 item 4a): predictions for 100,000 questions × 30 runs go through
// JetStream into the collector — ours: 30 Publishers (checks, v2 binary frames of ids and float32,
// digest, one awaited publish per chunk, done) and one Collector (parse, validate, assemble into
// one Float32Array per run, digest check, ack) — against the
// limit: a raw JetStream publish/consume of the same bytes (the chunks ours sends, encoded
// beforehand) on the same server with the same concurrency (runs published one after another, one
// pull consumer acking every message). Each measurement uses a fresh stream with a unique name,
// deleted afterwards. On both sides the publishing happens in a child process (as trainers publish
// from their own pods) and the consuming in this one; the child generates the same data itself.
//
//   npx tsx bench/stream.ts [--questions 100000] [--runs 30] [--repeats 3] [--publishers 1] [--no-drain] [--nats nats://127.0.0.1:4222]
//   node --cpu-prof --import tsx bench/stream.ts --only ours [--profile-child DIR]   # profiles of the collector (and the publishers)
//
// Writes bench/results/stream.json (rows per second; ratio = ours / raw, goal ≥ 0.5).
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Collector, runKey, type ExpectedRun } from '../controller/collector/mod.js';
import {
  DEFAULT_PULL_BYTES,
  NatsTransport,
  Publisher,
  PROTOCOL_VERSION,
  chunkPredictions,
  doneMsgId,
  encodeMessage,
  predictionsSha256V2,
  runSubjects,
  type RunSubjects,
} from '../protocol/mod.js';
import { DEFAULT_REPEATS, flag, intFlag, machine, ratioOf, round, summary, writeResult } from './common.js';

const argv = process.argv.slice(2);
const questions = intFlag(argv, '--questions', 100_000);
const runs = intFlag(argv, '--runs', 30);
const repeats = intFlag(argv, '--repeats', Math.min(DEFAULT_REPEATS, 3));
const servers = flag(argv, '--nats') ?? process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
/** `--only ours` (or ours-drain, raw) runs one side, for a CPU profile of it (`node --cpu-prof --import tsx`); no result is written. */
const only = flag(argv, '--only');
/** `--no-drain`: skip the drain-only measurement (each can wait out 30 s pull expiries; see BENCHMARKS.md). */
const drainToo = !argv.includes('--no-drain');
/** `--profile-child DIR`: the publishing child writes a CPU profile (`--cpu-prof`) into DIR. */
const profileChild = flag(argv, '--profile-child');
/** Set in the publishing child process this script forks (see `publisherChild`). */
const isChild = argv.includes('--publisher-child');
if (only !== undefined && !['ours', 'ours-drain', 'raw'].includes(only)) throw new Error(`--only: '${only}' is not one of ours, ours-drain, raw`);
/**
 * Runs publishing at once. All 30 at once in one process would block the event loop for every
 * run's encoding together (seconds) and time out the first publishes' acks, which no real
 * trainer pod (its own process) sees; runs finishing one after another is the honest model here.
 * @default 1
 */
const publishers = intFlag(argv, '--publishers', 1);
const OPTIONS = 5;
const SEEDS = 3;
const VALIDATION_SHA = 'a'.repeat(64);
/** Held chunks per durable: the collector keeps every chunk of an unfinished run un-acked. */
const MAX_ACK_PENDING = 20_000;
/** Bytes per pull of the raw consumer, the same as NatsTransport's (DEFAULT_PULL_BYTES). */
const PULL_BYTES = DEFAULT_PULL_BYTES;
const JOB = 'stream';

interface Run {
  ablation: string;
  seed: number;
  runUid: string;
  ids: string[];
  /**
   * `questions × OPTIONS` float32 softmax values, row-major, as a trainer's `dataSync()` hands them
   * over — and as the trainer passes them to `Publisher.predictions` (trainer/run/train.ts).
   */
  flat: Float32Array;
}

/** The runs' names, as both processes know them. */
function runNames(): { ablation: string; seed: number; runUid: string }[] {
  return Array.from({ length: runs }, (_, r) => ({ ablation: `ablation${Math.floor(r / SEEDS)}`, seed: r % SEEDS, runUid: `bench-${r}` }));
}

function makeRuns(): Run[] {
  let s = 7;
  const rand = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const ids = Array.from({ length: questions }, (_, i) => `q${String(i).padStart(6, '0')}`);
  const e = new Float64Array(OPTIONS);
  return runNames().map((name) => {
    const flat = new Float32Array(questions * OPTIONS);
    for (let q = 0; q < questions; q++) {
      let sum = 0;
      for (let j = 0; j < OPTIONS; j++) sum += e[j] = Math.exp(4 * rand());
      for (let j = 0; j < OPTIONS; j++) flat[q * OPTIONS + j] = (e[j] ?? 0) / sum;
    }
    return { ...name, ids, flat };
  });
}

function subjectsOf(prefix: string, r: { ablation: string; seed: number }): RunSubjects {
  return runSubjects({ prefix, namespace: 'local', job: JOB, ablation: r.ablation, seed: r.seed });
}

/** Calls `fn` on every item, `publishers` at a time. */
async function inParallel<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(publishers, items.length) }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

function uniqueId(): string {
  return randomBytes(4).toString('hex');
}

/**
 * What the parent asks the publishing child to do: `prepare` connects a NatsTransport to `stream`
 * (ours), `publish` publishes every run on `stream` under `prefix` (ours or raw), `close` closes
 * the stream's transport.
 */
interface PublishCommand {
  op: 'prepare' | 'publish' | 'close';
  side: 'ours' | 'raw';
  stream: string;
  prefix: string;
}

/** The child's answer: for `publish`, ms from the command's receipt until every run was published (acks included). */
interface PublishReply {
  ok: boolean;
  publishMs?: number;
  /** In the first reply (ready): messages and bytes of one whole publish. */
  messages?: number;
  bytes?: number;
  error?: string;
}

/** The bytes ours puts on the wire, per run: its chunks and its done message. */
function encodeAll(data: Run[]): { run: Run; messages: { kind: 'predictions' | 'done'; msgId: string; data: Uint8Array }[] }[] {
  return data.map((r) => {
    const probs = { values: r.flat, width: OPTIONS };
    const chunks = chunkPredictions(r.ids, probs, { runUid: r.runUid, attempt: 1 });
    const done = encodeMessage({
      v: PROTOCOL_VERSION,
      runUid: r.runUid,
      attempt: 1,
      status: 'succeeded',
      chunks: chunks.length,
      count: r.ids.length,
      validationSha256: VALIDATION_SHA,
      predictionsSha256: predictionsSha256V2(r.ids, probs),
      metrics: {},
    });
    return { run: r, messages: [...chunks.map((c) => ({ kind: 'predictions' as const, msgId: c.msgId, data: c.data })), { kind: 'done' as const, msgId: doneMsgId(r.runUid, 1), data: done }] };
  });
}

/**
 * The publishing side, in its own process (trainers publish from their own pods): ours through
 * `Publisher` over NatsTransport, raw the pre-encoded messages with the bare JetStream client. Both
 * are connected before the parent's clock starts (ours: `prepare`, raw: one connection for all).
 */
async function publisherChild(): Promise<void> {
  const data = makeRuns();
  const encoded = encodeAll(data);
  const nc = await connect({ servers, name: `bench-stream-publisher-${process.pid}` });
  const js = jetstream(nc);
  const transports = new Map<string, NatsTransport>();
  const publishOurs = async (cmd: PublishCommand): Promise<void> => {
    const transport = transports.get(cmd.stream);
    if (!transport) throw new Error(`publish before prepare of ${cmd.stream}`);
    await inParallel(data, async (r) => {
      const p = await Publisher.create({ transport, subjects: subjectsOf(cmd.prefix, r), runUid: r.runUid, attempt: 1 });
      await p.predictions(r.ids, { values: r.flat, width: OPTIONS });
      await p.done({ status: 'succeeded', validationSha256: VALIDATION_SHA, metrics: {} });
    });
  };
  const publishRaw = (cmd: PublishCommand): Promise<void> =>
    inParallel(encoded, async (e) => {
      const s = subjectsOf(cmd.prefix, e.run);
      for (const m of e.messages) await js.publish(m.kind === 'done' ? s.done : s.predictions, m.data, { msgID: m.msgId });
    });
  const handle = async (cmd: PublishCommand): Promise<PublishReply> => {
    switch (cmd.op) {
      case 'prepare':
        transports.set(cmd.stream, await NatsTransport.create({ servers, stream: cmd.stream, subjects: [`${cmd.prefix}.>`], name: `bench-publisher-${cmd.stream}`, maxAckPending: MAX_ACK_PENDING }));
        return { ok: true };
      case 'close':
        await transports.get(cmd.stream)?.close();
        transports.delete(cmd.stream);
        return { ok: true };
      case 'publish': {
        const t0 = performance.now();
        await (cmd.side === 'ours' ? publishOurs(cmd) : publishRaw(cmd));
        return { ok: true, publishMs: performance.now() - t0 };
      }
    }
  };
  process.on('message', (cmd: PublishCommand) => {
    handle(cmd).then(
      (r) => process.send?.(r),
      (err: unknown) => process.send?.({ ok: false, error: err instanceof Error ? err.message : String(err) } satisfies PublishReply),
    );
  });
  process.on('disconnect', () => void nc.close().then(() => process.exit(0)));
  const messages = encoded.reduce((n, e) => n + e.messages.length, 0);
  const bytes = encoded.reduce((n, e) => n + e.messages.reduce((m, x) => m + x.data.byteLength, 0), 0);
  process.send?.({ ok: true, messages, bytes } satisfies PublishReply);
}

/** The publishing child process and a way to ask it for one thing at a time. */
class Publishers {
  private constructor(
    private readonly child: ChildProcess,
    /** Messages and bytes of one whole publish. */
    readonly messages: number,
    readonly bytes: number,
  ) {}

  static async start(): Promise<Publishers> {
    const child = fork(fileURLToPath(import.meta.url), [...argv, '--publisher-child'], {
      execArgv: [...(profileChild === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileChild}`]), '--import', import.meta.resolve('tsx')],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await replyOf(child); // data generated and encoded, connected
    return new Publishers(child, ready.messages ?? 0, ready.bytes ?? 0);
  }

  /** Runs one command in the child; resolves with its publish time (publish) once done. */
  async send(cmd: PublishCommand): Promise<number> {
    const answer = replyOf(this.child);
    this.child.send(cmd);
    return (await answer).publishMs ?? Number.NaN;
  }

  stop(): void {
    this.child.disconnect();
  }
}

function replyOf(child: ChildProcess): Promise<PublishReply> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`publisher child exited (${code})`));
    child.once('exit', onExit);
    child.once('message', (m: PublishReply) => {
      child.off('exit', onExit);
      if (m.ok) resolve(m);
      else reject(new Error(`publisher child: ${m.error}`));
    });
  });
}

/**
 * Ours: the child's Publishers and the collector here over NatsTransport; ms until every run is
 * complete. `drain`: everything is published first (untimed), then the collector alone is timed
 * draining the stream — the controller's own share.
 */
async function oursOnce(pubs: Publishers, drain = false): Promise<{ ms: number; publishMs: number }> {
  const id = uniqueId();
  const prefix = `b${id}`;
  const stream = `BENCH_STREAM_${id}`;
  const sub = await NatsTransport.create({ servers, stream, subjects: [`${prefix}.>`], name: `bench-collector-${id}`, maxAckPending: MAX_ACK_PENDING });
  try {
    const expected = new Map<string, ExpectedRun>(runNames().map((r) => [runKey(r.ablation, r.seed), { expectedCount: questions, validationSha256: VALIDATION_SHA }]));
    const cmd: PublishCommand = { op: 'publish', side: 'ours', stream, prefix };
    await pubs.send({ ...cmd, op: 'prepare' });
    if (drain) await pubs.send(cmd);
    const t0 = performance.now();
    const collector = await Collector.create({ transport: sub, filter: `${prefix}.local.${JOB}.>`, durable: `bench-${id}`, expected });
    const all = collector.whenAllComplete();
    if (!drain) await pubs.send(cmd);
    const publishMs = performance.now() - t0;
    const done = await all;
    const ms = performance.now() - t0;
    await collector.close();
    if (done.size !== runs) throw new Error(`collector completed ${done.size} of ${runs} runs`);
    return { ms, publishMs };
  } finally {
    await pubs.send({ op: 'close', side: 'ours', stream, prefix });
    await sub.deleteStream();
    await sub.close();
  }
}

/** The limit: the same messages published by the child with the bare JetStream client and consumed here. */
async function rawOnce(pubs: Publishers, drain = false): Promise<{ ms: number; publishMs: number }> {
  const id = uniqueId();
  const prefix = `b${id}`;
  const stream = `BENCH_RAW_${id}`;
  const nc = await connect({ servers, name: `bench-raw-sub-${id}` });
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`], storage: StorageType.File, duplicate_window: 120 * 1e9 });
    await jsm.consumers.add(stream, { durable_name: `raw-${id}`, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, filter_subject: `${prefix}.local.${JOB}.>`, max_ack_pending: MAX_ACK_PENDING });
    const cmd: PublishCommand = { op: 'publish', side: 'raw', stream, prefix };
    const total = pubs.messages;
    if (drain) await pubs.send(cmd);
    const t0 = performance.now();
    const consumed = (async (): Promise<void> => {
      const consumer = await jetstream(nc).consumers.get(stream, `raw-${id}`);
      const messages = await consumer.consume({ max_bytes: PULL_BYTES });
      let n = 0;
      for await (const m of messages) {
        m.ack();
        if (++n === total) break;
      }
      await messages.close();
    })();
    if (!drain) await pubs.send(cmd);
    const publishMs = performance.now() - t0;
    await consumed;
    return { ms: performance.now() - t0, publishMs };
  } finally {
    await jsm.streams.delete(stream).catch(() => false);
    await nc.drain().catch(() => nc.close());
  }
}

async function main(): Promise<void> {
  const pubs = await Publishers.start();
  try {
    await measure(pubs);
  } finally {
    pubs.stop();
  }
}

async function measure(pubs: Publishers): Promise<void> {
  if (only === 'ours' || only === 'ours-drain') {
    const ours = await oursOnce(pubs, only === 'ours-drain');
    console.log(`ours only: ${ours.ms.toFixed(0)} ms (publishers done at ${ours.publishMs.toFixed(0)} ms)`);
    return;
  }
  if (only === 'raw') {
    const raw = await rawOnce(pubs);
    console.log(`raw only: ${raw.ms.toFixed(0)} ms (publishers done at ${raw.publishMs.toFixed(0)} ms)`);
    return;
  }
  const rows = questions * runs;
  const { messages, bytes } = pubs;
  const oursMs: number[] = [];
  const rawMs: number[] = [];
  const oursDrainMs: number[] = [];
  const rawDrainMs: number[] = [];
  // Interleaved, so a burst of load from other work on the machine hits both sides alike.
  for (let i = 0; i < repeats; i++) {
    rawMs.push((await rawOnce(pubs)).ms);
    oursMs.push((await oursOnce(pubs)).ms);
    if (drainToo) {
      rawDrainMs.push((await rawOnce(pubs, true)).ms);
      oursDrainMs.push((await oursOnce(pubs, true)).ms);
    }
    process.stderr.write(
      `repeat ${i + 1}/${repeats}: publish→collected raw ${rawMs.at(-1)?.toFixed(0)} ms, ours ${oursMs.at(-1)?.toFixed(0)} ms` +
        (drainToo ? `; drain only raw ${rawDrainMs.at(-1)?.toFixed(0)} ms, collector ${oursDrainMs.at(-1)?.toFixed(0)} ms\n` : '\n'),
    );
  }
  const rate = (xs: number[]): number => rows / (Math.min(...xs) / 1000);
  const oursRate = rate(oursMs);
  const rawRate = rate(rawMs);
  const r = {
    name: 'stream',
    ours: Math.round(oursRate),
    peer: Math.round(rawRate),
    ratio: ratioOf(oursRate, rawRate, 'higher'),
    unit: 'prediction rows/s (publish → collected)',
    machine: machine(),
    peerName: 'raw JetStream publish/consume of the same bytes (@nats-io/jetstream, same server)',
    goal: '≥ 50 % of the raw rate (ratio ≥ 0.5)',
    command: `npx tsx bench/stream.ts --questions ${questions} --runs ${runs} --repeats ${repeats} --publishers ${publishers}${drainToo ? '' : ' --no-drain'}`,
    repeats,
    time: new Date().toISOString(),
    details: {
      shape: `${questions} questions × ${runs} runs × ${OPTIONS} options = ${rows} rows; ${messages} messages, ${(bytes / 2 ** 20).toFixed(1)} MiB`,
      server: servers,
      processes: 'both sides publish from one child process (node --import tsx; ours: Publisher, raw: the pre-encoded messages) and consume in the parent (ours: Collector, raw: a bare acking pull consumer)',
      oursMs: oursMs.map((x) => round(x, 0)),
      rawMs: rawMs.map((x) => round(x, 0)),
      rawMiBps: round(bytes / 2 ** 20 / (Math.min(...rawMs) / 1000), 1),
      drainOnly: !drainToo ? 'not measured (--no-drain)' : {
        what: 'stream filled first (untimed), then only the consumer timed: the collector vs a raw acking consumer',
        oursRowsPerS: Math.round(rate(oursDrainMs)),
        rawRowsPerS: Math.round(rate(rawDrainMs)),
        ratio: ratioOf(rate(oursDrainMs), rate(rawDrainMs), 'higher'),
        oursMs: oursDrainMs.map((x) => round(x, 0)),
        rawMs: rawDrainMs.map((x) => round(x, 0)),
      },
    },
  };
  const path = await writeResult(r);
  console.log(summary(r));
  console.log(`wrote ${path}`);
}

if (isChild) await publisherChild();
else await main();
