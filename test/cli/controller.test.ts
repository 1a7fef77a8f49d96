// `ablate controller` flags: checked before anything connects, and handed to the operator.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { ablateCommand } from '../../common/mod.js';
import { DevCluster } from '../../controller/mod.js';
import { runCli } from '../support/cli.js';

test('ablate controller --queue-workers refuses anything but an integer ≥ 1, naming the flag and the value; --help lists it', async () => {
  for (const [value, shown] of [['0', '0'], ['2.5', '2\\.5'], ['many', 'many'], ['-3', '-3'], ['', '']] as const) {
    const r = await runCli(['controller', `--queue-workers=${value}`, '--metrics-addr', '0', '--probe-addr', '0']);
    assert.equal(r.code, 2, `${value}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`--queue-workers must be an integer ≥ 1, got ${shown}$`, 'm'));
  }
  const help = await runCli(['controller', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--queue-workers\s+FineTuneJobs reconciled at once/);
});

test('ablate controller --consumer-inactive-threshold refuses a non-duration or less than the ack wait (60s), naming the flag and the value; --help lists it', async () => {
  const cases = [
    ['soon', /--consumer-inactive-threshold must be a duration such as 90s, 30m, 1h or 1h30m, or a number of seconds, got 'soon'/],
    ['1d', /--consumer-inactive-threshold must be a duration .*got '1d'/],
    ['-5', /--consumer-inactive-threshold must be a duration .*got '-5'/],
    ['30s', /--consumer-inactive-threshold must be at least 60s \(the controller's ack wait.*got '30s'/],
    ['59', /--consumer-inactive-threshold must be at least 60s .*got '59'/],
  ] as const;
  for (const [value, message] of cases) {
    const r = await runCli(['controller', `--consumer-inactive-threshold=${value}`, '--metrics-addr', '0', '--probe-addr', '0']);
    assert.equal(r.code, 2, `${value}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const help = await runCli(['controller', '--help']);
  assert.match(help.stdout, /--consumer-inactive-threshold\s+How long NATS keeps a collector durable/);
});

test('--consumer-inactive-threshold reads Go-style durations and plain seconds', async () => {
  const { parseDurationMs } = await import('../../cli/commands/controller.js');
  for (const [text, ms] of [['90s', 90_000], ['30m', 1_800_000], ['1h', 3_600_000], ['1h30m', 5_400_000], ['2m500ms', 120_500], ['5400', 5_400_000], ['90.5', 90_500]] as const) {
    assert.equal(parseDurationMs(text), ms, text);
  }
  for (const text of ['', 'h', '1.5h', '1 h', '1H', '1h-5m', 'ten']) assert.equal(parseDurationMs(text), undefined, text);
});

test('ablate controller --queue-workers 3 --consumer-inactive-threshold 1h30m runs the operator with 3 workers and a 90-minute threshold, and drains on SIGTERM', { timeout: 60_000 }, async () => {
  const cluster = await DevCluster.create();
  const dir = mkdtempSync(join(tmpdir(), 'ablate-cli-controller-'));
  try {
    cluster.apply(parse(readFileSync(fileURLToPath(new URL('../../manifests/crds/ablate.dev_finetunejobs.yaml', import.meta.url)), 'utf8')) as Record<string, unknown>);
    const kubeconfig = join(dir, 'kubeconfig.yaml');
    writeFileSync(kubeconfig, stringify(cluster.kubeconfig()));
    const [cmd, ...base] = ablateCommand();
    const child = spawn(cmd, [...base, 'controller', '--kubeconfig', kubeconfig, '--namespaces', 'default', '--queue-workers', '3', '--consumer-inactive-threshold', '1h30m', '--metrics-addr', '0', '--probe-addr', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NATS_URL: '', ABLATE_LOG_FORMAT: 'json', ABLATE_LOG_LEVEL: 'info' },
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const started = (): { queueWorkers?: number; consumerInactiveThresholdMs?: number } | undefined =>
      output
        .split('\n')
        .filter((l) => l.includes('"controller started"'))
        .map((l) => JSON.parse(l) as { queueWorkers?: number; consumerInactiveThresholdMs?: number })[0];
    try {
      const end = Date.now() + 45_000;
      while (!started() && Date.now() < end && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      assert.equal(started()?.queueWorkers, 3, output.slice(-2000));
      assert.equal(started()?.consumerInactiveThresholdMs, 5_400_000, output.slice(-2000));
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, output.slice(-2000));
  } finally {
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
