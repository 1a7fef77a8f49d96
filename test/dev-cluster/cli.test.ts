// `ablate dev-cluster` as a user runs it: the kubeconfig appears only once the server answers,
// it is removed again on SIGTERM, the help says plainly that this is not a cluster, and bad
// flags exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ablateCommand } from '../../common/mod.js';
import { runCli } from '../support/cli.js';
import { eventually, tempDir } from './helpers.js';

test('ablate dev-cluster writes the kubeconfig once it serves and removes it on SIGTERM', async () => {
  const tmp = tempDir();
  const kubeconfig = join(tmp.dir, 'dev.kubeconfig');
  const [cmd, ...base] = ablateCommand();
  const child = spawn(cmd, [...base, 'dev-cluster', '--kubeconfig', kubeconfig, '--no-run-jobs'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ABLATE_LOG_FORMAT: 'json' } });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    await eventually(() => (existsSync(kubeconfig) ? true : undefined), 60_000, 'the kubeconfig');
    const cfg = parse(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] };
    const server = cfg.clusters[0]!.cluster.server;
    const version = (await (await fetch(`${server}/version`)).json()) as { major: string; minor: string };
    assert.equal(`${version.major}.${version.minor}`, '1.35', 'ready when the file exists');
    await eventually(() => (stdout.includes(server) ? true : undefined), 5000, 'the serving line');
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(existsSync(kubeconfig), false, 'kubeconfig removed on shutdown');
  } finally {
    child.kill('SIGKILL');
    tmp.cleanup();
  }
});

test('ablate dev-cluster --help says it is a stand-in, not a cluster; a bad --port exits 2', async () => {
  const help = await runCli(['dev-cluster', '--help']);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /NOT A CLUSTER/);
  const bad = await runCli(['dev-cluster', '--kubeconfig', '/dev/null/x', '--port', '70000']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--port must be 0\.\.65535, got 70000/);
});
