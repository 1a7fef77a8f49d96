import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { writeStudy } from './fixture.js';

test('ablate report DIR prints the table and the path of the report it rewrote', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ablate-report-cli-'));
  try {
    await writeStudy(dir);
    await writeFile(join(dir, 'report.html'), 'stale');
    const r = await runCli(['report', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^differential-lr \(best\) +0\.632 +0\.639 +0\.627 +0\.632 ± 0\.006 +0\.648 +\+0\.017 \[\+0\.001, \+0\.033\]/m);
    assert.ok(r.stdout.trimEnd().endsWith(`Report: ${join(dir, 'report.html')}`), r.stdout);
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.ok((await stat(join(dir, 'report.html'))).size > 10_000);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('ablate report with something that is not a folder exits 2 and says so', async () => {
  const r = await runCli(['report', 'no-such-study-xyz']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no-such-study-xyz is not a directory/);
  assert.equal(r.stdout, '');
});

test('ablate report on a folder with a broken results.json exits 1 naming the field', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ablate-report-cli-'));
  try {
    await writeFile(join(dir, 'results.json'), JSON.stringify({ job: 'x', createdAt: 'now', k: '3' }));
    const r = await runCli(['report', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /results\.json: \$\.k must be a number, got "3"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
