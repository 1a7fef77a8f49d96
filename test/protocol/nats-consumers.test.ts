// Durable consumers on a real NATS server (nats-server 2.9.10 here): an inactive threshold makes
// the server delete a durable nobody consumes from, while a consume within it resumes the same
// durable; a durable the server deleted under a running consumption is created again.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { NatsConnectionError, NatsTransport } from '../../protocol/mod.js';
import { NATS_URL, uniqueId, until } from './kit.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('NATS durable consumers: inactive threshold', () => {
  const id = uniqueId();
  const prefix = `t${id}`;
  const stream = `T_${id}`;
  let t: NatsTransport;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  before(async () => {
    t = await NatsTransport.create({ servers: NATS_URL, stream, subjects: [`${prefix}.>`], name: `test-${id}`, ackWaitSeconds: 2 });
    nc = await connect({ servers: NATS_URL });
    jsm = await jetstreamManager(nc);
  });
  after(async () => {
    await t.deleteStream();
    await t.close();
    await nc.close();
  });

  /** The durable's inactive threshold in ms as the server reports it; undefined when it has none, 'gone' when it does not exist. */
  async function threshold(durable: string): Promise<number | undefined | 'gone'> {
    try {
      const ns = (await jsm.consumers.info(stream, durable)).config.inactive_threshold;
      return ns ? ns / 1e6 : undefined;
    } catch {
      return 'gone';
    }
  }

  it('the server deletes a durable 2 s after its consumer stopped; a consume within that resumes where it was', async () => {
    const subject = `${prefix}.local.inactive.full.0.progress`;
    const seen: string[] = [];
    const consume = (): ReturnType<NatsTransport['consume']> =>
      t.consume({ filter: `${prefix}.local.inactive.>`, durable: 'short', inactiveThresholdMs: 2000 }, (m) => {
        seen.push(dec(m.data));
        m.ack();
      });
    await t.publish(subject, enc('a'));
    let c = await consume();
    assert.equal(await threshold('short'), 2000);
    await until(() => seen.length === 1, 5000, 'first message');
    // Consuming and idle for longer than the threshold: the waiting pull keeps the durable alive.
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(await threshold('short'), 2000, 'an idle consumer that is pulling is not inactive');
    await c.stop();

    // Back within the threshold: the same durable, so only what came since.
    await new Promise((r) => setTimeout(r, 500));
    await t.publish(subject, enc('b'));
    c = await consume();
    await until(() => seen.length === 2, 5000, 'second message');
    await c.stop();
    assert.deepEqual(seen, ['a', 'b'], 'resumed after its acks, nothing replayed');

    // Away for longer: gone, and a new consume starts a fresh durable from the stream's start.
    const stoppedAt = Date.now();
    for (;;) {
      if ((await threshold('short')) === 'gone') break;
      assert.ok(Date.now() - stoppedAt < 8000, 'the durable should be deleted about 2 s after its consumer stopped');
      await new Promise((r) => setTimeout(r, 200));
    }
    c = await consume();
    await until(() => seen.length === 4, 5000, 'replay');
    await c.stop();
    assert.deepEqual(seen.slice(2), ['a', 'b']);
    await t.deleteConsumer('short');
  });

  it('a consume sets, changes or removes the threshold of an existing durable; the transport default applies when a consume names none', async () => {
    const filter = `${prefix}.local.update.>`;
    let c = await t.consume({ filter, durable: 'upd' }, (m) => m.ack());
    await c.stop();
    assert.equal(await threshold('upd'), undefined, 'no threshold unless asked');
    c = await t.consume({ filter, durable: 'upd', inactiveThresholdMs: 3_600_000 }, (m) => m.ack());
    await c.stop();
    assert.equal(await threshold('upd'), 3_600_000);
    c = await t.consume({ filter, durable: 'upd' }, (m) => m.ack());
    await c.stop();
    assert.equal(await threshold('upd'), undefined);
    await t.deleteConsumer('upd');

    const withDefault = await NatsTransport.create({ servers: NATS_URL, stream, subjects: [`${prefix}.>`], name: `test-${id}-d`, inactiveThresholdMs: 60_000 });
    try {
      c = await withDefault.consume({ filter, durable: 'dflt' }, (m) => m.ack());
      await c.stop();
      assert.equal(await threshold('dflt'), 60_000);
      c = await withDefault.consume({ filter, durable: 'dflt', inactiveThresholdMs: 30_000 }, (m) => m.ack());
      await c.stop();
      assert.equal(await threshold('dflt'), 30_000, 'the consume\'s own value wins');
      await withDefault.deleteConsumer('dflt');
    } finally {
      await withDefault.close();
    }
  });

  it('a bad threshold is refused naming the option and the value', async () => {
    await assert.rejects(
      () => t.consume({ filter: `${prefix}.>`, durable: 'bad', inactiveThresholdMs: 0 }, () => undefined),
      (err: unknown) => err instanceof NatsConnectionError && /inactiveThresholdMs \(durable bad\)=0 must be a number of milliseconds ≥ 1/.test(err.message),
    );
    await assert.rejects(
      () => NatsTransport.create({ servers: NATS_URL, stream, name: 'x', inactiveThresholdMs: Number.NaN }),
      (err: unknown) => err instanceof NatsConnectionError && /inactiveThresholdMs=NaN/.test(err.message),
    );
    assert.equal(await threshold('bad'), 'gone', 'nothing was created');
  });

  it('a durable deleted on the server under a running consumption is created again and replays', async () => {
    const subject = `${prefix}.local.recreate.full.0.progress`;
    const seen: string[] = [];
    await t.publish(subject, enc('1'));
    const c = await t.consume({ filter: `${prefix}.local.recreate.>`, durable: 'again' }, (m) => {
      seen.push(dec(m.data));
      m.ack();
    });
    try {
      await until(() => seen.length === 1, 5000, 'first message');
      await jsm.consumers.delete(stream, 'again');
      await t.publish(subject, enc('2'));
      await until(() => seen.length === 3, 10_000, 'the replay and the new message');
      assert.deepEqual(seen, ['1', '1', '2']);
      assert.notEqual(await threshold('again'), 'gone');
    } finally {
      await c.stop();
      await t.deleteConsumer('again');
    }
  });
});
