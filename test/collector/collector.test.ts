// The prediction collector over real NATS JetStream and over the in-process transport: the same
// scenarios, the same expectations.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Collector, runKey, type ExpectedRun, type ProgressEvent, type RunFailure, type CollectedRun } from '../../controller/collector/mod.js';
import { Publisher, chunkPredictions, chunkPredictionsV1, doneMsgId, encodeMessage, runSubjects, type Transport } from '../../protocol/mod.js';
import { KITS, fakePredictions, uniqueId, until, v2Frame, type TransportKit } from '../protocol/kit.js';

const VALIDATION_SHA = 'b'.repeat(64);
const N = 120;
// Small chunks so every run spans several messages.
const CHUNK_BYTES = 1024;

interface RunSpec {
  job: string;
  ablation: string;
  seed: number;
  attempt?: number;
  runUid?: string;
  predSeed?: number;
}

function predsFor(r: RunSpec): ReturnType<typeof fakePredictions> {
  return fakePredictions(N, 5, r.predSeed ?? 1000 * (r.attempt ?? 1) + 10 * r.seed + r.ablation.length);
}

async function publisherFor(t: Transport, kit: TransportKit, r: RunSpec): Promise<Publisher> {
  return Publisher.create({
    transport: t,
    subjects: runSubjects({ prefix: kit.prefix, namespace: 'local', job: r.job, ablation: r.ablation, seed: r.seed }),
    runUid: r.runUid ?? `${r.job}-${r.ablation}-${r.seed}`,
    attempt: r.attempt ?? 1,
    maxChunkBytes: CHUNK_BYTES,
  });
}

/** Publishes a whole successful run: one progress message, the predictions, done. */
async function publishRun(t: Transport, kit: TransportKit, r: RunSpec): Promise<ReturnType<typeof fakePredictions>> {
  const p = await publisherFor(t, kit, r);
  const preds = predsFor(r);
  await p.progress({ phase: 'train', step: 1, totalSteps: 2, epoch: 0.5, loss: 1.2, learningRates: { backbone: 1e-5 }, examplesPerSecond: 10, elapsedMs: 100 });
  await p.predictions(preds.ids, preds.probs);
  await p.done({ status: 'succeeded', validationSha256: VALIDATION_SHA, metrics: { mapAt3: 0.5 } });
  return preds;
}

/** Publishes a whole successful run as a pre-v2 trainer did: v1 chunks (JSON numbers) and a v1 done with the v1 digest. */
async function publishRunV1(t: Transport, kit: TransportKit, r: RunSpec): Promise<ReturnType<typeof fakePredictions>> {
  const preds = predsFor(r);
  const runUid = r.runUid ?? `${r.job}-${r.ablation}-${r.seed}`;
  const attempt = r.attempt ?? 1;
  const s = runSubjects({ prefix: kit.prefix, namespace: 'local', job: r.job, ablation: r.ablation, seed: r.seed });
  const chunks = chunkPredictionsV1(preds.ids, preds.probs, { runUid, attempt, maxBytes: CHUNK_BYTES });
  for (const c of chunks) await t.publish(s.predictions, c.data, { msgId: c.msgId });
  const done = { v: 1 as const, runUid, attempt, status: 'succeeded' as const, chunks: chunks.length, count: N, validationSha256: VALIDATION_SHA, predictionsSha256: preds.sha256V1, metrics: { mapAt3: 0.25 } };
  await t.publish(s.done, encodeMessage(done), { msgId: doneMsgId(runUid, attempt) });
  return preds;
}

function expectedFor(keys: string[]): Map<string, ExpectedRun> {
  return new Map(keys.map((k) => [k, { expectedCount: N, validationSha256: VALIDATION_SHA }]));
}

function filterFor(kit: TransportKit, job: string): string {
  return `${kit.prefix}.local.${job}.>`;
}

function summary(results: Map<string, CollectedRun>): Record<string, string> {
  return Object.fromEntries([...results].sort(([a], [b]) => a.localeCompare(b)).map(([k, r]) => [k, `${r.attempt}:${r.count}:${r.predictionsSha256}`]));
}

for (const { name, make } of KITS) {
  describe(`collector over ${name}`, () => {
    let kit: TransportKit;
    let t: Transport;
    before(async () => {
      kit = await make();
      t = await kit.open();
    });
    after(async () => {
      await kit.cleanup();
    });

    it('completes every expected run with exactly the published predictions and forwards progress', async () => {
      const job = `ok-${uniqueId()}`;
      const specs = [
        { job, ablation: 'full', seed: 0 },
        { job, ablation: 'frozen-embeddings', seed: 1 },
      ];
      const published = new Map<string, ReturnType<typeof fakePredictions>>();
      for (const r of specs) published.set(runKey(r.ablation, r.seed), await publishRun(t, kit, r));
      const progress: ProgressEvent[] = [];
      const reported: string[] = [];
      const c = await Collector.create({
        transport: t,
        filter: filterFor(kit, job),
        durable: `c-${job}`,
        expected: expectedFor([...published.keys()]),
        prefix: kit.prefix,
        onProgress: (e) => void progress.push(e),
        onRunComplete: (k) => void reported.push(k),
      });
      const results = await c.whenAllComplete(10_000);
      await c.close();
      for (const [k, preds] of published) {
        const r = results.get(k);
        assert.ok(r, `no result for ${k}`);
        assert.deepEqual(r.ids, preds.ids);
        assert.deepEqual(r.probs, preds.matrix.values);
        assert.equal(r.width, 5);
        assert.equal(r.protocolVersion, 2);
        assert.equal(r.predictionsSha256, preds.sha256);
        assert.deepEqual(r.metrics, { mapAt3: 0.5 });
        assert.deepEqual(c.getRun(k), { key: k, state: 'complete', result: r });
      }
      assert.deepEqual(reported.sort(), [...published.keys()].sort());
      assert.deepEqual(progress.map((e) => e.key).sort(), [...published.keys()].sort());
      assert.equal(progress[0]?.progress.phase, 'train');
      assert.equal(c.counters.invalid + c.counters.duplicates + c.counters.mismatched, 0);
      assert.ok(c.counters.chunks >= 2 * 3, `only ${c.counters.chunks} chunks: runs should span several`);
    });

    it('counts and skips a garbled message (not JSON, wrong schema, wrong subject, unexpected run) without crashing', async () => {
      const job = `garbled-${uniqueId()}`;
      const s = runSubjects({ prefix: kit.prefix, namespace: 'local', job, ablation: 'full', seed: 0 });
      const enc = (x: string): Uint8Array => new TextEncoder().encode(x);
      await t.publish(s.predictions, enc('{not json'));
      await t.publish(s.done, enc(JSON.stringify({ v: 1, runUid: 'x', attempt: 1, status: 'maybe' })));
      await t.publish(`${kit.prefix}.local.${job}.full.zero.done`, enc('{}'));
      await t.publish(`${kit.prefix}.local.${job}.full.0`, enc('{}'));
      await publishRun(t, kit, { job, ablation: 'not-in-this-job', seed: 0 });
      const preds = await publishRun(t, kit, { job, ablation: 'full', seed: 0 });
      const c = await Collector.create({ transport: t, filter: filterFor(kit, job), durable: `c-${job}`, expected: expectedFor([runKey('full', 0)]) });
      const results = await c.whenAllComplete(10_000);
      assert.equal(results.get('full/0')?.predictionsSha256, preds.sha256);
      assert.equal(c.counters.invalid, 4);
      assert.ok(c.counters.unexpected >= 3, `unexpected ${c.counters.unexpected}`);
      await c.close();
    });

    it('still collects a run a pre-v2 trainer published (v1 chunks and done), beside a v2 run', async () => {
      const job = `v1-${uniqueId()}`;
      const old = await publishRunV1(t, kit, { job, ablation: 'full', seed: 0 });
      const current = await publishRun(t, kit, { job, ablation: 'full', seed: 1 });
      const c = await Collector.create({ transport: t, filter: filterFor(kit, job), durable: `c-${job}`, expected: expectedFor(['full/0', 'full/1']) });
      const results = await c.whenAllComplete(10_000);
      await c.close();
      const r0 = results.get('full/0');
      assert.equal(r0?.protocolVersion, 1);
      assert.equal(r0?.predictionsSha256, old.sha256V1);
      assert.deepEqual(r0?.ids, old.ids);
      assert.deepEqual(r0?.probs, old.matrix.values);
      assert.deepEqual(r0?.metrics, { mapAt3: 0.25 });
      assert.equal(results.get('full/1')?.protocolVersion, 2);
      assert.equal(results.get('full/1')?.predictionsSha256, current.sha256);
      assert.equal(c.counters.invalid + c.counters.mismatched, 0);
    });

    it('counts and drops garbled v2 chunks (wrong length, NaN, wrong row count, broken header, v2 as JSON) and still completes the run', async () => {
      const job = `garbled2-${uniqueId()}`;
      const s = runSubjects({ prefix: kit.prefix, namespace: 'local', job, ablation: 'full', seed: 0 });
      const runUid = `${job}-full-0`;
      const header = { runUid, attempt: 1, chunk: 0 };
      await t.publish(s.predictions, v2Frame({ header, ids: 'q0\nq1', values: [0.5, 0.5, 0.5] }));
      await t.publish(s.predictions, v2Frame({ header, ids: 'q0\nq1', values: [0.5, 0.5, Number.NaN, 0.5] }));
      await t.publish(s.predictions, v2Frame({ header, ids: 'q0\nq1\nq2', values: [0.5, 0.5, 0.5, 0.5] }));
      await t.publish(s.predictions, Buffer.from(`{"v":2,"runUid":"${runUid}"\nq0\nq1`));
      await t.publish(s.predictions, new TextEncoder().encode(JSON.stringify({ v: 2, runUid, attempt: 1, chunk: 0, width: 2, ids: 'q0\nq1', probsF32: 'AAAAPwAAAD8AAAA/AAAAPw==' })));
      const preds = await publishRun(t, kit, { job, ablation: 'full', seed: 0 });
      const c = await Collector.create({ transport: t, filter: filterFor(kit, job), durable: `c-${job}`, expected: expectedFor(['full/0']) });
      const results = await c.whenAllComplete(10_000);
      assert.equal(results.get('full/0')?.predictionsSha256, preds.sha256);
      assert.deepEqual(results.get('full/0')?.probs, preds.matrix.values);
      assert.equal(c.counters.invalid, 5);
      assert.equal(c.counters.mismatched, 0);
      await c.close();
    });

    it('mixed versions: a v1 attempt replaced by a v2 retry, and an attempt whose chunks and done disagree on the version is a mismatch', async () => {
      const job = `mixed-${uniqueId()}`;
      await publishRunV1(t, kit, { job, ablation: 'full', seed: 0, attempt: 1 });
      const retry = await publishRun(t, kit, { job, ablation: 'full', seed: 0, attempt: 2 });
      // Seed 1: v2 chunks under a v1 done (no trainer does this; it must not be taken as complete).
      const p = await publisherFor(t, kit, { job, ablation: 'full', seed: 1 });
      const w = predsFor({ job, ablation: 'full', seed: 1 });
      await p.predictions(w.ids, w.matrix);
      const runUid = `${job}-full-1`;
      const v1Done = { v: 1 as const, runUid, attempt: 1, status: 'succeeded' as const, chunks: chunkPredictions(w.ids, w.matrix, { runUid, attempt: 1, maxBytes: CHUNK_BYTES }).length, count: N, validationSha256: VALIDATION_SHA, predictionsSha256: w.sha256V1, metrics: {} };
      await t.publish(runSubjects({ prefix: kit.prefix, namespace: 'local', job, ablation: 'full', seed: 1 }).done, encodeMessage(v1Done), { msgId: doneMsgId(runUid, 1) });
      const failures: RunFailure[] = [];
      const reported: string[] = [];
      const c = await Collector.create({
        transport: t,
        filter: filterFor(kit, job),
        durable: `c-${job}`,
        expected: expectedFor(['full/0', 'full/1']),
        onRunComplete: (k, r) => void reported.push(`${k}@${r.attempt}v${r.protocolVersion}`),
        onRunFailed: (_k, f) => void failures.push(f),
      });
      await until(() => reported.length === 2 && failures.length === 1, 10_000, 'both attempts of full/0 and the failure of full/1');
      assert.deepEqual(reported, ['full/0@1v1', 'full/0@2v2']);
      assert.equal(c.completed().get('full/0')?.predictionsSha256, retry.sha256);
      assert.equal(failures[0]?.key, 'full/1');
      assert.equal(failures[0]?.reason, 'mismatch');
      assert.match(failures[0]?.message ?? '', /chunk 0 is protocol v2 but the done message is v1/);
      await c.close();
    });

    it('refuses a run that repeats a question id, also after runs with the validation ids completed', async () => {
      const job = `repeat-${uniqueId()}`;
      const good = await publishRun(t, kit, { job, ablation: 'full', seed: 0 });
      const p = await publisherFor(t, kit, { job, ablation: 'full', seed: 1 });
      const ids = [...good.ids];
      ids[7] = ids[3] as string;
      await p.predictions(ids, good.matrix);
      await p.done({ status: 'succeeded', validationSha256: VALIDATION_SHA, metrics: {} });
      const again = await publishRun(t, kit, { job, ablation: 'full', seed: 2 });
      const failures: RunFailure[] = [];
      const c = await Collector.create({ transport: t, filter: filterFor(kit, job), durable: `c-${job}`, expected: expectedFor(['full/0', 'full/1', 'full/2']), onRunFailed: (_k, f) => void failures.push(f) });
      await until(() => c.completed().size === 2 && failures.length === 1, 10_000, 'two runs and one failure');
      assert.match(failures[0]?.message ?? '', /appears more than once/);
      assert.equal(failures[0]?.key, 'full/1');
      assert.deepEqual(c.completed().get('full/2')?.ids, again.ids);
      await c.close();
    });

    it('uses a duplicated chunk once', async () => {
      const job = `dup-${uniqueId()}`;
      const r = { job, ablation: 'full', seed: 0 };
      const p = await publisherFor(t, kit, r);
      const preds = predsFor(r);
      await p.predictions(preds.ids, preds.probs);
      const chunks = chunkPredictions(preds.ids, preds.matrix, { runUid: `${job}-full-0`, attempt: 1, maxBytes: CHUNK_BYTES });
      const subjects = runSubjects({ prefix: kit.prefix, namespace: 'local', ...r });
      // Same msgId: the stream itself drops it. A new msgId (a republish after the window): the collector must.
      assert.equal((await t.publish(subjects.predictions, (chunks[1] as { data: Uint8Array }).data, { msgId: (chunks[1] as { msgId: string }).msgId })).duplicate, true);
      await t.publish(subjects.predictions, (chunks[1] as { data: Uint8Array }).data, { msgId: 'republished-1' });
      await t.publish(subjects.predictions, (chunks[0] as { data: Uint8Array }).data);
      await p.done({ status: 'succeeded', validationSha256: VALIDATION_SHA, metrics: {} });
      const c = await Collector.create({ transport: t, filter: filterFor(kit, job), durable: `c-${job}`, expected: expectedFor(['full/0']) });
      const results = await c.whenAllComplete(10_000);
      assert.equal(results.get('full/0')?.count, N);
      assert.equal(results.get('full/0')?.predictionsSha256, preds.sha256);
      assert.equal(c.counters.duplicates, 2);
      assert.equal(c.counters.chunks, chunks.length);
      await c.close();
    });

    it('keeps attempt 2 when attempt 1 completes late, and replaces attempt 1 when attempt 2 completes after it', async () => {
      const job = `attempts-${uniqueId()}`;
      const late = { job, ablation: 'full', seed: 0 };
      const a2 = await publishRun(t, kit, { ...late, attempt: 2 });
      await publishRun(t, kit, { ...late, attempt: 1 });
      const inOrder = { job, ablation: 'full', seed: 1 };
      await publishRun(t, kit, { ...inOrder, attempt: 1 });
      const b2 = await publishRun(t, kit, { ...inOrder, attempt: 2 });
      const reported: string[] = [];
      const c = await Collector.create({
        transport: t,
        filter: filterFor(kit, job),
        durable: `c-${job}`,
        expected: expectedFor(['full/0', 'full/1']),
        onRunComplete: (k, r) => void reported.push(`${k}@${r.attempt}`),
      });
      await c.whenAllComplete(10_000);
      await until(() => reported.length === 3, 5000, 'three completions');
      const done = c.completed();
      assert.equal(done.get('full/0')?.attempt, 2);
      assert.equal(done.get('full/0')?.predictionsSha256, a2.sha256);
      assert.equal(done.get('full/1')?.attempt, 2);
      assert.equal(done.get('full/1')?.predictionsSha256, b2.sha256);
      assert.deepEqual(reported, ['full/0@2', 'full/1@1', 'full/1@2']);
      assert.ok(c.counters.stale > 0);
      await c.close();
    });

    it('reports a trainer failure and a predictions mismatch, then accepts a good retry', async () => {
      const job = `fail-${uniqueId()}`;
      const failed = await publisherFor(t, kit, { job, ablation: 'full', seed: 0 });
      await failed.done({ status: 'failed', validationSha256: VALIDATION_SHA, metrics: {}, error: 'CUDA out of memory' });
      // Wrong validation set, and a done whose digest does not match its chunks.
      const wrongSet = await publisherFor(t, kit, { job, ablation: 'full', seed: 1 });
      const w = predsFor({ job, ablation: 'full', seed: 1 });
      await wrongSet.predictions(w.ids, w.probs);
      await wrongSet.done({ status: 'succeeded', validationSha256: 'c'.repeat(64), metrics: {} });
      const badHash = await publisherFor(t, kit, { job, ablation: 'full', seed: 2 });
      const h = predsFor({ job, ablation: 'full', seed: 2 });
      await badHash.predictions(h.ids, h.probs);
      await badHash.done({ status: 'succeeded', validationSha256: VALIDATION_SHA, metrics: {}, predictionsSha256: 'd'.repeat(64) });
      // "Succeeded" without a single prediction (no chunks, count 0).
      const none = await publisherFor(t, kit, { job, ablation: 'full', seed: 3 });
      await none.predictions([], []);
      await none.done({ status: 'succeeded', validationSha256: VALIDATION_SHA, metrics: {} });

      const failures: RunFailure[] = [];
      const c = await Collector.create({
        transport: t,
        filter: filterFor(kit, job),
        durable: `c-${job}`,
        expected: expectedFor(['full/0', 'full/1', 'full/2', 'full/3']),
        onRunFailed: (_k, f) => void failures.push(f),
      });
      await until(() => failures.length === 4, 10_000, 'four failures');
      const byKey = new Map(failures.map((f) => [f.key, f]));
      assert.equal(byKey.get('full/0')?.reason, 'trainer-failed');
      assert.match(byKey.get('full/0')?.message ?? '', /CUDA out of memory/);
      assert.equal(byKey.get('full/1')?.reason, 'mismatch');
      assert.match(byKey.get('full/1')?.message ?? '', /validation set/);
      assert.equal(byKey.get('full/2')?.reason, 'mismatch');
      assert.match(byKey.get('full/2')?.message ?? '', /hash/);
      assert.equal(byKey.get('full/3')?.message, `run delivered 0 predictions; the validation set has ${N}`);
      assert.equal(c.counters.mismatched, 3);
      assert.equal(c.getRun('full/0')?.state, 'failed');

      const retry = await publishRun(t, kit, { job, ablation: 'full', seed: 0, attempt: 2 });
      await until(() => c.getRun('full/0')?.state === 'complete', 10_000, 'the retry');
      assert.equal(c.completed().get('full/0')?.predictionsSha256, retry.sha256);
      await c.close();
    });

    it('collects a run once when its done arrives after the ack wait (redeliveries are not duplicates)', async () => {
      const job = `slow-${uniqueId()}`;
      const r = { job, ablation: 'full', seed: 0 };
      const p = await publisherFor(t, kit, r);
      const preds = predsFor(r);
      const sent = await p.predictions(preds.ids, preds.probs);
      const c = await Collector.create({ transport: t, filter: filterFor(kit, job), durable: `c-${job}`, expected: expectedFor(['full/0']) });
      await until(() => c.counters.received > sent.chunks, 8000, 'a redelivery of a held chunk');
      await p.done({ status: 'succeeded', validationSha256: VALIDATION_SHA, metrics: {} });
      const results = await c.whenAllComplete(10_000);
      assert.equal(results.get('full/0')?.predictionsSha256, preds.sha256);
      assert.equal(c.counters.duplicates, 0);
      assert.equal(c.counters.chunks, sent.chunks);
      await c.close();
    });

    it('a collector closed mid-stream and re-created on the same durable ends with identical results, nothing lost or repeated', async () => {
      const job = `restart-${uniqueId()}`;
      const keys: string[] = [];
      const publishers: Publisher[] = [];
      // Every run's chunks first, then the dones: when the first collector stops, it holds chunks
      // of runs it has not finished, which must not be lost.
      for (const ablation of ['full', 'frozen-embeddings', 'differential-lr']) {
        for (const seed of [0, 1]) {
          const spec = { job, ablation, seed };
          const p = await publisherFor(t, kit, spec);
          const preds = predsFor(spec);
          await p.predictions(preds.ids, preds.probs);
          publishers.push(p);
          keys.push(runKey(ablation, seed));
        }
      }
      for (const p of publishers) await p.done({ status: 'succeeded', validationSha256: VALIDATION_SHA, metrics: { mapAt3: 0.5 } });
      // One republished chunk, so a duplicate is in the stream across the restart too.
      const dupe = chunkPredictions(predsFor({ job, ablation: 'differential-lr', seed: 1 }).ids, predsFor({ job, ablation: 'differential-lr', seed: 1 }).matrix, {
        runUid: `${job}-differential-lr-1`,
        attempt: 1,
        maxBytes: CHUNK_BYTES,
      })[0];
      await t.publish(runSubjects({ prefix: kit.prefix, namespace: 'local', job, ablation: 'differential-lr', seed: 1 }).predictions, (dupe as { data: Uint8Array }).data);

      const reference = await Collector.create({ transport: t, filter: filterFor(kit, job), durable: `ref-${job}`, expected: expectedFor(keys) });
      const want = summary(await reference.whenAllComplete(10_000));
      await reference.close();

      const reported = new Map<string, CollectedRun>();
      let reached!: () => void;
      const reachedP = new Promise<void>((r) => (reached = r));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const first = await kit.open();
      const a = await Collector.create({
        transport: first,
        filter: filterFor(kit, job),
        durable: `c-${job}`,
        expected: expectedFor(keys),
        onRunComplete: async (k, r) => {
          assert.equal(reported.has(k), false, `${k} reported twice`);
          reported.set(k, r);
          if (reported.size === 2) {
            reached();
            await gate;
          }
        },
      });
      await reachedP;
      const closing = a.close();
      release();
      await closing;
      await kit.release(first);
      assert.equal(reported.size, 2, 'the first collector stopped mid-stream');

      const second = await kit.open();
      const b = await Collector.create({
        transport: second,
        filter: filterFor(kit, job),
        durable: `c-${job}`,
        expected: expectedFor(keys),
        onRunComplete: (k, r) => {
          assert.equal(reported.has(k), false, `${k} reported again after the restart`);
          reported.set(k, r);
        },
      });
      await until(() => reported.size === keys.length, 15_000, 'every run across both collectors');
      assert.deepEqual(summary(reported), want);
      assert.equal(b.counters.mismatched, 0);
      await b.close();
      await kit.release(second);
    });
  });
}
