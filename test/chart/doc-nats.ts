// A real nats-server running the account configuration of docs/security.md (its ```conf block,
// so the doc cannot drift from what is tested), on a free loopback port with a temporary store.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath } from '../../protocol/mod.js';
import { REPO_ROOT } from '../../scripts/generate.js';

export const NATS_SERVER = findOnPath('nats-server');
export const CONTROLLER_PASSWORD = 'controller-pw-3f9a';
export const TRAINER_PASSWORD = 'trainer-pw-81c2';

export interface DocNats {
  port: number;
  /** `nats://user:password@127.0.0.1:port` */
  url(user: string, password: string): string;
  /** What the server printed so far. */
  log(): string;
  close(): Promise<void>;
}

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

/** Starts the server; the passwords reach it as environment variables, as the doc's config expects. */
export async function startDocNats(): Promise<DocNats> {
  assert.ok(NATS_SERVER, 'nats-server is not on PATH');
  const dir = mkdtempSync(join(tmpdir(), 'ablate-doc-nats-'));
  const conf = join(dir, 'nats.conf');
  writeFileSync(conf, confFromDoc(join(dir, 'store')));
  const port = await freePort();
  const child = spawn(NATS_SERVER, ['-c', conf, '-a', '127.0.0.1', '-p', String(port)], {
    env: { PATH: process.env['PATH'] ?? '', ABLATE_CONTROLLER_PASSWORD: CONTROLLER_PASSWORD, ABLATE_TRAINER_PASSWORD: TRAINER_PASSWORD },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, () => stderr);
  } catch (err) {
    await close();
    throw err;
  }
  return { port, url: (user, password) => `nats://${user}:${password}@127.0.0.1:${port}`, log: () => stderr, close };
}
