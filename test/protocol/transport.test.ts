// The Transport contract, run over real NATS JetStream and over the in-process transport.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TransportClosedError, type InboundMessage, type Transport } from '../../protocol/mod.js';
import { KITS, until, type TransportKit } from './kit.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

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
      await until(() => second.length === 2, 5000, 'two redeliveries');
      await c.stop();
      assert.deepEqual(second.map((x) => x.data).sort(), ['b', 'c']);
      for (const x of second) assert.ok(x.count >= 2, `delivery count ${x.count}`);
      assert.deepEqual(second.map((x) => x.seq).sort(), first.slice(1).map((m) => m.seq).sort());
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
