// The NATS account of docs/security.md, run as written by a real nats-server: the controller's
// user can create the stream and consume it durably; a trainer's user can publish under its own
// job's subjects and is refused under another job's or another namespace's, and cannot read the
// stream. The configuration is the ```conf block of the doc itself, so the doc cannot drift.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath, NatsTransport } from '../../protocol/mod.js';
import { REPO_ROOT } from '../../scripts/generate.js';

const server = findOnPath('nats-server');
const CONTROLLER_PASSWORD = 'controller-pw-3f9a';
const TRAINER_PASSWORD = 'trainer-pw-81c2';

function confFromDoc(storeDir: string): string {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'security.md'), 'utf8');
  const block = /```conf\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(block, 'docs/security.md has no ```conf block');
  assert.match(block, /store_dir: \/data/);
  return block.replace('store_dir: /data', `store_dir: ${JSON.stringify(storeDir)}`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nats-server exited ${child.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${port}: ${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('NATS permissions of docs/security.md', { skip: server === undefined ? 'nats-server is not on PATH' : false }, () => {
  let dir: string;
  let child: ChildProcess;
  let port: number;
  let stderr = '';
  const open: NatsTransport[] = [];

  const url = (user: string, password: string): string => `nats://${user}:${password}@127.0.0.1:${port}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ablate-nats-perm-'));
    const conf = join(dir, 'nats.conf');
    writeFileSync(conf, confFromDoc(join(dir, 'store')));
    port = await freePort();
    child = spawn(server!, ['-c', conf, '-a', '127.0.0.1', '-p', String(port)], {
      env: { PATH: process.env['PATH'] ?? '', ABLATE_CONTROLLER_PASSWORD: CONTROLLER_PASSWORD, ABLATE_TRAINER_PASSWORD: TRAINER_PASSWORD },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    await waitForPort(port, child, () => stderr);
  });

  after(async () => {
    for (const t of open) await t.close();
    child?.kill('SIGTERM');
    if (child && child.exitCode === null) await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
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
    assert.doesNotMatch(stderr, new RegExp(`${CONTROLLER_PASSWORD}|${TRAINER_PASSWORD}`), 'the server logged a password');
  });
});
