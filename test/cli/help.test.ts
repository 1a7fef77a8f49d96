import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../support/cli.js';

test('ablate --help prints usage and exits 0', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ablate <command>/);
});

test('ablate with an unknown command exits 2 and says so', async () => {
  const r = await runCli(['no-such-command']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Unknown argument|Name a command|Did you mean/i);
});
