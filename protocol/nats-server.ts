// Starting a private nats-server for a local run when none was named: found on PATH, bound to
// 127.0.0.1 on a free port, JetStream on, its store in a temporary folder removed on close.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { NatsServerStartError } from './errors.js';

/** @default 10 000 ms for the server to accept a TCP connection */
export const DEFAULT_NATS_START_TIMEOUT_MS = 10_000;

export interface StartNatsServerOptions {
  /** JetStream store folder; kept on close when given. @default a new temporary folder, removed on close */
  storeDir?: string;
  /** @default the `nats-server` found on `env.PATH` */
  executable?: string;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** @default DEFAULT_NATS_START_TIMEOUT_MS */
  timeoutMs?: number;
}

export interface NatsServerHandle {
  /** `nats://127.0.0.1:<port>` */
  url: string;
  port: number;
  storeDir: string;
  /** Stops the server and removes a temporary store; idempotent. */
  close(): Promise<void>;
}

/** The path of `name` on `env.PATH`, or undefined. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; next folder
    }
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = tcpConnect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts nats-server with JetStream on a free local port; resolves once it accepts connections. */
export async function startNatsServer(opts: StartNatsServerOptions = {}): Promise<NatsServerHandle> {
  const executable = opts.executable ?? findOnPath('nats-server', opts.env ?? process.env);
  if (executable === undefined) throw new NatsServerStartError('nats-server is not on PATH', 'nats-server');
  const ownStore = opts.storeDir === undefined;
  const storeDir = opts.storeDir ?? mkdtempSync(join(tmpdir(), 'ablate-nats-'));
  const cleanup = (): void => {
    if (ownStore) rmSync(storeDir, { recursive: true, force: true });
  };
  const port = await freePort();
  const child = spawn(executable, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    // Only the tail matters for a start failure message.
    stderr = (stderr + d).slice(-2000);
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));

  const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_NATS_START_TIMEOUT_MS);
  for (;;) {
    if (spawnError || child.exitCode !== null) {
      cleanup();
      throw new NatsServerStartError(
        `${executable} did not start (${spawnError ? spawnError.message : `exit code ${child.exitCode}`}): ${stderr.trim()}`,
        executable,
        { cause: spawnError },
      );
    }
    if (await accepts(port)) break;
    if (Date.now() > deadline) {
      await stopChild(child);
      cleanup();
      throw new NatsServerStartError(`${executable} on port ${port} did not accept connections within ${opts.timeoutMs ?? DEFAULT_NATS_START_TIMEOUT_MS} ms: ${stderr.trim()}`, executable);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  let closing: Promise<void> | undefined;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    close: () =>
      (closing ??= stopChild(child).then(() => {
        cleanup();
      })),
  };
}
