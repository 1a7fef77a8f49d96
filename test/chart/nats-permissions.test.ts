// The NATS account of docs/security.md, run as written by a real nats-server: the controller's
// user can create the stream and consume it durably; a trainer's user can publish under its own
// job's subjects and is refused under another job's or another namespace's, and cannot read the
// stream. The configuration is the ```conf block of the doc itself, so the doc cannot drift.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NatsTransport } from '../../protocol/mod.js';
import { CONTROLLER_PASSWORD, NATS_SERVER, startDocNats, TRAINER_PASSWORD, type DocNats } from './doc-nats.js';

describe('NATS permissions of docs/security.md', { skip: NATS_SERVER === undefined ? 'nats-server is not on PATH' : false }, () => {
  let nats: DocNats;
  const open: NatsTransport[] = [];
  const url = (user: string, password: string): string => nats.url(user, password);

  before(async () => {
    nats = await startDocNats();
  });

  after(async () => {
    for (const t of open) await t.close();
    await nats?.close();
  });

  test('the controller manages the stream and consumes; a trainer publishes only under its own job', async () => {
    const controller = await NatsTransport.create({ servers: url('ablate-controller', CONTROLLER_PASSWORD), name: 'test-controller', connectTimeoutMs: 5000 });
    open.push(controller);
    const received: string[] = [];
    const consumption = await controller.consume({ filter: 'ablate.>', durable: 'perm-test' }, (m) => {
      received.push(m.subject);
      m.ack();
    });

    const trainer = await NatsTransport.create({ servers: url('trainer-ml-science-exam', TRAINER_PASSWORD), name: 'test-trainer', connectTimeoutMs: 5000 });
    open.push(trainer);
    const own = 'ablate.ml.science-exam.full.0.progress';
    await trainer.publish(own, new TextEncoder().encode('{}'), { msgId: 'perm-1' });
    for (const other of ['ablate.ml.other-study.full.0.predictions', 'ablate.other-ns.science-exam.full.0.done']) {
      await assert.rejects(trainer.publish(other, new TextEncoder().encode('{}')), /Permissions Violation for Publish/i, `trainer published to ${other}`);
    }
    // A trainer cannot read the stream (it may not create a consumer).
    await assert.rejects(trainer.consume({ filter: 'ablate.>', durable: 'sneaky' }, () => undefined), /Permissions Violation/i, 'a trainer created a consumer');
    // The URL's credentials authenticate (nats.js ignores URL user information on its own) and
    // stay out of what the transport reports about itself.
    for (const t of [controller, trainer]) assert.doesNotMatch(t.description, /-pw-|@/);

    const deadline = Date.now() + 10_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await consumption.stop();
    assert.deepEqual(received, [own]);
    assert.doesNotMatch(nats.log(), new RegExp(`${CONTROLLER_PASSWORD}|${TRAINER_PASSWORD}`), 'the server logged a password');
  });
});
