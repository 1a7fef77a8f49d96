// The contract between the chart and `ablate controller`: the arguments of the rendered
// Deployment — cluster-wide, namespaced, and with every value customised — pass the command's own
// parser (strict, with its conflicts) and mean what the chart intends. Parsed in-process with the
// command module and the CLI's global options; secrets.test.ts runs the real process.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
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
  });

  test('namespaced', async () => {
    const a = await parseAsCli(renderedControllerArgs(['--set', 'controller.watch.allNamespaces=false', '--set', 'controller.watch.namespaces={ml-team-a,ml-team-b}']));
    assert.equal(a['namespaces'], 'ml-team-a,ml-team-b');
  });

  test('every value customised: secret references, ports, lease, trainer image, base dir, log level', async () => {
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
  });
});
