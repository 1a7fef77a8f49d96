// work/<slug>/result.json, read back for `ablate run --resume`: a file written by writeRunResult
// reads back exactly; a damaged or hand-edited one is refused with PersistedResultError naming the
// file and what is wrong (the run then trains again), never a crash further on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PersistedResultError, readRunResult, writeRunResult } from '../../controller/local/resume.js';
import type { CollectedRun } from '../../controller/collector/mod.js';

const run: CollectedRun = {
  key: 'full/0',
  job: 'j',
  ablation: 'full',
  seed: 0,
  runUid: 'j-1234-full-seed0',
  attempt: 2,
  protocolVersion: 2,
  ids: ['q0', 'q\n1', 'q\\2'],
  probs: new Float32Array([0.5, 0.5, 0.25, 0.75, 0.1, 0.9]),
  width: 2,
  count: 3,
  metrics: { mapAt3: 0.5 },
  validationSha256: 'b'.repeat(64),
  predictionsSha256: 'c'.repeat(64),
};
const fingerprint = { sha256: 'f'.repeat(64), fields: { seed: 0, 'training.epochs': 1 } };

test('a persisted result reads back exactly; a damaged one is refused naming the file and the fault', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ablate-result-'));
  try {
    await writeRunResult(dir, run, fingerprint);
    assert.deepEqual(await readRunResult(dir), { result: run, fingerprint });
    const path = join(dir, 'result.json');
    const good = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    const refused = async (edit: Record<string, unknown>, why: RegExp): Promise<void> => {
      writeFileSync(path, JSON.stringify({ ...good, ...edit }));
      await assert.rejects(readRunResult(dir), (err: unknown) => err instanceof PersistedResultError && err.path === path && why.test(err.reason), JSON.stringify(edit));
    };
    await refused({ fingerprint: { sha256: 'f'.repeat(64) } }, /^field fingerprint is \{"sha256":"f+"\}, expected \{sha256, fields\}$/);
    await refused({ fingerprint: { sha256: 1, fields: {} } }, /^field fingerprint/);
    await refused({ count: -3 }, /^field count is -3, expected an integer ≥ 0$/);
    await refused({ width: 1.5 }, /^field width is 1.5/);
    await refused({ ids: 'q0\nq1' }, /^holds 2 ids, expected 3$/);
    await refused({ probabilities: Buffer.alloc(24).toString('base64') }, /^contents do not match their sha256/);
    writeFileSync(path, JSON.stringify(good).slice(0, 50));
    await assert.rejects(readRunResult(dir), (err: unknown) => err instanceof PersistedResultError && /^is not valid JSON/.test(err.reason));
    rmSync(path);
    assert.equal(await readRunResult(dir), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
