// The Transport contract, run over real NATS JetStream and over the in-process transport.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NATS_DEFAULT_MAX_PAYLOAD, PublishError, TransportClosedError, chunkPredictions, type EncodedChunk, type InboundMessage, type Transport } from '../../protocol/mod.js';
import { KITS, fakePredictions, until, type TransportKit } from './kit.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

let bigRun: EncodedChunk[] | undefined;
/** The chunks of one 100k × 5 run, made once for both transports. */
function bigRunChunks(): EncodedChunk[] {
  if (!bigRun) {
    const { ids, matrix } = fakePredictions(100_000, 5, 5, 'science-exam-question-');
    bigRun = chunkPredictions(ids, matrix, { runUid: 'big-run', attempt: 1 });
  }
  return bigRun;
}

for (const { name, make } of KITS) {
  describe(`transport contract over ${name}`, () => {
    let kit: TransportKit;
    let t: Transport;
    before(async () => {
      kit = await make();
      t = await kit.open();
    });
    after(async () => {
      await kit.cleanup();
    });

    it('drops a second publish with the same msgId and says so', async () => {
      const s = `${kit.prefix}.local.dedupe.full.0.done`;
      assert.deepEqual(await t.publish(s, enc('one'), { msgId: 'run-1.1.done' }), { duplicate: false });
      assert.deepEqual(await t.publish(s, enc('two'), { msgId: 'run-1.1.done' }), { duplicate: true });
      assert.deepEqual(await t.publish(s, enc('three'), { msgId: 'run-1.2.done' }), { duplicate: false });
      const got: string[] = [];
      const c = await t.consume({ filter: `${kit.prefix}.local.dedupe.>`, durable: 'dedupe' }, (m) => {
        got.push(`${dec(m.data)}@${m.msgId}`);
        m.ack();
      });
      await until(() => got.length >= 2, 5000, 'two messages');
      await new Promise((r) => setTimeout(r, 100));
      await c.stop();
      assert.deepEqual(got, ['one@run-1.1.done', 'three@run-1.2.done']);
    });

    it('a new durable replays from the start, filtered, in order; an existing one resumes after its acks', async () => {
      const base = `${kit.prefix}.local.replay`;
      for (let i = 0; i < 5; i++) await t.publish(`${base}.full.${i}.progress`, enc(String(i)));
      await t.publish(`${kit.prefix}.local.other.full.0.progress`, enc('other'));
      const seen: string[] = [];
      let c = await t.consume({ filter: `${base}.>`, durable: 'replay' }, (m) => {
        seen.push(dec(m.data));
        m.ack();
      });
      await until(() => seen.length === 5, 5000, 'five messages');
      await c.stop();
      assert.deepEqual(seen, ['0', '1', '2', '3', '4']);

      await t.publish(`${base}.full.5.progress`, enc('5'));
      const resumed: string[] = [];
      c = await t.consume({ filter: `${base}.>`, durable: 'replay' }, (m) => {
        resumed.push(dec(m.data));
        m.ack();
      });
      await until(() => resumed.length >= 1, 5000, 'the new message');
      await new Promise((r) => setTimeout(r, 100));
      await c.stop();
      assert.deepEqual(resumed, ['5']);
    });

    it('redelivers un-acked and nak-ed messages to the next consumer of the durable, with a higher delivery count', async () => {
      const base = `${kit.prefix}.local.redeliver`;
      for (const x of ['a', 'b', 'c']) await t.publish(`${base}.full.0.predictions`, enc(x), { msgId: `r.1.${x}` });
      const first: InboundMessage[] = [];
      let c = await t.consume({ filter: `${base}.>`, durable: 'redeliver' }, (m) => {
        first.push(m);
        if (dec(m.data) === 'a') m.ack();
        // 'b' is held (neither acked nor nak-ed), 'c' is nak-ed below after the stop
      });
      await until(() => first.length === 3, 5000, 'three deliveries');
      await c.stop();
      for (const m of first.slice(1)) m.nak();
      const second: { data: string; count: number; seq: number }[] = [];
      c = await t.consume({ filter: `${base}.>`, durable: 'redeliver' }, (m) => {
        second.push({ data: dec(m.data), count: m.deliveryCount, seq: m.seq });
        m.ack();
      });
      // At least once: NATS may hand a redelivery to the stopped consumer's outstanding pull, in
      // which case it comes back after the ack wait, and may show a stale delivery count once.
      const redelivered = (x: string): boolean => second.some((d) => d.data === x && d.count >= 2);
      await until(() => redelivered('b') && redelivered('c'), 8000, 'b and c redelivered');
      await c.stop();
      assert.deepEqual([...new Set(second.map((x) => x.data))].sort(), ['b', 'c'], 'an acked message came back');
      const seqOf = new Map(first.map((m) => [dec(m.data), m.seq]));
      for (const x of second) assert.equal(x.seq, seqOf.get(x.data), 'a redelivery keeps its stream sequence');
    });

    it('redelivers a message the handler threw on, and a message left un-acked past the ack wait', async () => {
      const base = `${kit.prefix}.local.throws`;
      await t.publish(`${base}.full.0.done`, enc('boom'));
      await t.publish(`${base}.full.1.done`, enc('slow'));
      const deliveries: string[] = [];
      const c = await t.consume({ filter: `${base}.>`, durable: 'throws' }, (m) => {
        deliveries.push(`${dec(m.data)}#${m.deliveryCount}`);
        if (m.deliveryCount === 1 && dec(m.data) === 'boom') throw new Error('handler failure');
        if (m.deliveryCount === 1) return; // 'slow': no ack, comes back after the ack wait
        m.ack();
      });
      await until(() => deliveries.includes('boom#2') && deliveries.includes('slow#2'), 8000, 'both redeliveries');
      await c.stop();
    });

    it('stores every chunk of a 100k-question × 5-option run (the server enforces the real payload limit)', async () => {
      const subject = `${kit.prefix}.local.big.full.0.predictions`;
      for (const c of bigRunChunks()) assert.deepEqual(await t.publish(subject, c.data, { msgId: c.msgId }), { duplicate: false });
      await assert.rejects(t.publish(subject, new Uint8Array(NATS_DEFAULT_MAX_PAYLOAD + 1)), (e: unknown) => e instanceof PublishError && e.subject === subject);
    });

    it('refuses to publish after close, and close is idempotent', async () => {
      const other = await kit.open();
      if (kit.kind === 'nats') {
        await other.close();
        await other.close();
        await assert.rejects(other.publish(`${kit.prefix}.local.x.full.0.done`, enc('x')), TransportClosedError);
      } else {
        await kit.release(other);
      }
    });
  });
}
