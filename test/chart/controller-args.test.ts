// The contract between the chart and `ablate controller`: the arguments of the rendered
// Deployment — cluster-wide, namespaced, and with every value customised — pass the command's own
// parser (strict, with its conflicts) and mean what the chart intends. Parsed in-process with the
// command module and the CLI's global options; secrets.test.ts runs the real process.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import yargs, { type CommandModule } from 'yargs';
import { LOG_LEVELS } from '../../common/mod.js';
import { REPO_ROOT } from '../../scripts/generate.js';
import { renderedControllerArgs } from './render.js';

/** Parses `args` as cli/main.ts would, with the controller's handler replaced by a capture. */
async function parseAsCli(args: string[]): Promise<Record<string, unknown>> {
  const mod = (await import('../../cli/commands/controller.js')) as unknown as { default: CommandModule<object, Record<string, unknown>> };
  let parsed: Record<string, unknown> | undefined;
  let failure: string | undefined;
  await yargs(args)
    .option('log-level', { choices: LOG_LEVELS, default: 'info', global: true })
    .strict()
    .fail((msg, err) => {
      failure = msg ?? String(err);
    })
    .command({ ...mod.default, handler: (a: Record<string, unknown>) => void (parsed = a) })
    .parseAsync();
  assert.equal(failure, undefined, `ablate ${args.join(' ')} is refused: ${failure}`);
  assert.ok(parsed, `ablate ${args.join(' ')} did not reach the controller command`);
  return parsed;
}

describe('the chart’s controller arguments, parsed by ablate controller', () => {
  test('cluster-wide with leader election (the defaults)', async () => {
    const a = await parseAsCli(renderedControllerArgs([]));
    assert.equal(a['all-namespaces'], true);
    assert.equal(a['namespaces'], undefined);
    assert.equal(a['leader-elect'], true);
    assert.equal(a['lease-namespace'], 'ablate');
    assert.equal(a['nats'], 'nats://nats.nats.svc.cluster.local:4222');
    assert.equal(a['log-level'], 'info');
    // Unset by default: the controller's own defaults (4 workers, 1 h) apply.
    assert.equal(a['queue-workers'], undefined);
    assert.equal(a['consumer-inactive-threshold'], undefined);
  });

  test('namespaced', async () => {
    const a = await parseAsCli(renderedControllerArgs(['--set', 'controller.watch.allNamespaces=false', '--set', 'controller.watch.namespaces={ml-team-a,ml-team-b}']));
    assert.equal(a['namespaces'], 'ml-team-a,ml-team-b');
  });

  test('every value customised: secret references, ports, lease, trainer image, base dir, queue workers, inactive threshold, log level', async () => {
    const args = renderedControllerArgs(['-f', join(REPO_ROOT, 'test', 'chart', 'fixtures', 'full-values.yaml'), '--set', 'controller.watch.allNamespaces=true']);
    const a = await parseAsCli(args);
    assert.equal(a['nats'], '$(ABLATE_NATS_URL)');
    assert.equal(a['nats-creds-secret'], 'ablate-trainer-nats');
    assert.equal(a['stream'], 'STUDIES');
    assert.equal(a['metrics-addr'], ':9090');
    assert.equal(a['probe-addr'], ':9091');
    assert.equal(a['lease-name'], 'studies-leader');
    assert.equal(a['trainer-image'], 'registry.example.com/ml/ablate-trainer:0.1.0-rc.1');
    assert.equal(a['base-dir'], '/srv/ablate');
    assert.equal(a['log-level'], 'debug');
    assert.equal(a['queue-workers'], '8', 'the flag text; ablate controller checks it is an integer ≥ 1');
    assert.equal(a['consumer-inactive-threshold'], '90m');
  });

  test('controller.queueWorkers and controller.consumerInactiveThreshold, as durations or seconds, reach the flags the CLI accepts', async () => {
    const { parseDurationMs } = await import('../../cli/commands/controller.js');
    const dir = mkdtempSync(join(tmpdir(), 'ablate-chart-threshold-'));
    try {
      // A values file hands helm numbers as float64: 5400000 must not render as 5.4e+06.
      const cases: Array<{ value: string | number; flag: string; ms: number }> = [
        { value: '60s', flag: '60s', ms: 60_000 },
        { value: '1m', flag: '1m', ms: 60_000 },
        { value: '1h30m', flag: '1h30m', ms: 5_400_000 },
        { value: 60, flag: '60', ms: 60_000 },
        { value: 5_400_000, flag: '5400000', ms: 5_400_000_000 },
      ];
      for (const [i, c] of cases.entries()) {
        const file = join(dir, `values-${i}.yaml`);
        writeFileSync(file, stringify({ controller: { queueWorkers: 16, consumerInactiveThreshold: c.value } }));
        const a = await parseAsCli(renderedControllerArgs(['-f', file]));
        assert.equal(a['queue-workers'], '16');
        assert.equal(a['consumer-inactive-threshold'], c.flag, `${JSON.stringify(c.value)}`);
        assert.equal(parseDurationMs(c.flag), c.ms, `${JSON.stringify(c.value)}`);
      }
      const viaSet = await parseAsCli(renderedControllerArgs(['--set', 'controller.queueWorkers=2', '--set', 'controller.consumerInactiveThreshold=7200']));
      assert.equal(viaSet['queue-workers'], '2');
      assert.equal(viaSet['consumer-inactive-threshold'], '7200');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
