// DESIGN.md's transport selection for local runs, one route per test.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect as tcpConnect } from 'node:net';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { InProcessTransport, NatsConnectionError, NatsTransport, findOnPath, resolveTransport } from '../../protocol/mod.js';
import { NATS_URL, uniqueId, until } from './kit.js';

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 1));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

async function roundTrip(r: Awaited<ReturnType<typeof resolveTransport>>, prefix: string): Promise<void> {
  await r.transport.publish(`${prefix}.local.j.full.0.progress`, new TextEncoder().encode('hi'));
  let got = '';
  const c = await r.transport.consume({ filter: `${prefix}.>`, durable: 'resolve' }, (m) => {
    got = new TextDecoder().decode(m.data);
    m.ack();
  });
  await until(() => got === 'hi', 5000, 'the message');
  await c.stop();
}

describe('resolveTransport', () => {
  it('an unreachable --nats URL is an error naming the URL, not a fallback', async () => {
    const url = `nats://127.0.0.1:${await closedPort()}`;
    await assert.rejects(resolveTransport({ natsUrl: url, env: {} }), (e: unknown) => e instanceof NatsConnectionError && e.message.includes(url) && e.servers === url);
  });

  it('uses NATS_URL when no --nats is given', async () => {
    const id = uniqueId();
    const r = await resolveTransport({ env: { NATS_URL: NATS_URL, PATH: '' }, nats: { stream: `T_${id}`, subjects: [`t${id}.>`] } });
    try {
      assert.equal(r.route, 'nats-url');
      assert.equal(r.natsUrl, NATS_URL);
      assert.ok(r.transport instanceof NatsTransport);
      assert.match(r.description, /NATS_URL/);
      await roundTrip(r, `t${id}`);
      await (r.transport as NatsTransport).deleteStream();
    } finally {
      await r.close();
    }
  });

  it('starts the nats-server on PATH on a free port when no URL is given, and stops it on close', async (t) => {
    const server = findOnPath('nats-server');
    if (!server) return t.skip('nats-server is not on PATH');
    const r = await resolveTransport({ env: { PATH: dirname(server) } });
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(r.description)?.[1]);
    try {
      assert.equal(r.route, 'started-nats-server');
      assert.equal(r.natsUrl, `nats://127.0.0.1:${port}`);
      assert.ok(r.transport instanceof NatsTransport);
      assert.notEqual(port, 4222);
      await roundTrip(r, 'ablate');
    } finally {
      await r.close();
      await r.close();
    }
    assert.equal(await accepts(port), false, `port ${port} still open after close`);
    const store = /store (\S+),/.exec(r.description)?.[1] ?? '';
    assert.ok(store !== '' && !existsSync(store), `temporary store ${store} left behind`);
  });

  it('falls back to in-process when nothing else is there, and when asked to', async () => {
    const none = await resolveTransport({ env: { PATH: '' } });
    assert.equal(none.route, 'in-process');
    assert.ok(none.transport instanceof InProcessTransport);
    await roundTrip(none, 'ablate');
    await none.close();
    const forced = await resolveTransport({ inProcess: true, env: { NATS_URL: NATS_URL } });
    assert.equal(forced.route, 'in-process');
    await forced.close();
  });
});
