// A run's saved model survives being killed mid-save: the folder is absent, the previous complete
// model or the new complete one, never half-written — checked by SIGKILLing a process that saves
// in a loop at random moments, and by replaying the one window (between the two renames) where
// the folder is briefly absent, which the next save repairs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DebertaForMultipleChoice, readSavedModelInfo, recoverSavedModel, saveModel, selectBackend } from '../../trainer/mod.js';
import { tinyModel } from '../support/tiny-study.js';

const CHILD = fileURLToPath(new URL('./save-child.ts', import.meta.url));
const INFO = { job: 'save-test', ablation: 'full', seed: 3, maxLength: 40, evalBatchSize: 6, backend: 'cpu', validationSha256: 'a'.repeat(64) };

/** Asserts `dir` holds a complete saved model: every file, readable sidecar, loadable weights. */
async function assertComplete(dir: string): Promise<void> {
  assert.deepEqual(readdirSync(dir).sort(), ['ablate.json', 'config.json', 'model.safetensors', 'spm.model']);
  assert.ok(await readSavedModelInfo(dir));
  (await DebertaForMultipleChoice.load(dir)).dispose();
}

function leftovers(dir: string): string[] {
  return readdirSync(dirname(dir)).filter((n) => n !== basename(dir));
}

/** Starts the saving child and resolves once its first save is complete. */
function startSaver(source: string, out: string): Promise<{ kill: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), CHILD, source, out], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((res) => child.on('close', () => res()));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((res, rej) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (d.includes('saved')) res({ kill: async () => void (child.kill('SIGKILL'), await exited) });
    });
    void exited.then(() => rej(new Error(`saver exited before its first save: ${stderr}`)));
  });
}

test('a process SIGKILLed while saving its model leaves the previous complete model or the new one', { timeout: 180_000 }, async () => {
  const source = await tinyModel();
  // Three savers at once (their start-up dominates), each killed at a random moment across the
  // saves that follow its first complete one (a tiny model saves in a few milliseconds).
  await Promise.all(
    [0, 1, 2].map(async (round) => {
      const out = join(mkdtempSync(join(tmpdir(), 'ablate-save-kill-')), 'models', 'full-seed0');
      const saver = await startSaver(source, out);
      await new Promise((r) => setTimeout(r, Math.random() * 150));
      await saver.kill();
      if (existsSync(out)) await assertComplete(out);
      const state = await recoverSavedModel(out);
      assert.ok(state === 'present' || state === 'restored', `round ${round}: ${state}`);
      await assertComplete(out);
      assert.deepEqual(leftovers(out), [], 'no temporary or set-aside folder is left after recovery');
    }),
  );
});

test('the window between the two renames: the set-aside previous model is restored by the next save', { timeout: 60_000 }, async () => {
  await selectBackend('cpu');
  const source = await tinyModel();
  const model = await DebertaForMultipleChoice.load(source);
  try {
    const out = join(mkdtempSync(join(tmpdir(), 'ablate-save-window-')), 'full-seed3');
    await saveModel(model, source, out, INFO);
    await assertComplete(out);
    assert.deepEqual(await readSavedModelInfo(out), INFO);
    // What a kill after "old aside" and before "new in" leaves: no model folder, the old one aside, a temporary.
    renameSync(out, `${out}.old-999999`);
    await saveModel(model, source, `${out}.tmp-999999`, INFO);
    assert.equal(await recoverSavedModel(out), 'restored');
    await assertComplete(out);
    assert.deepEqual(leftovers(out), []);
    // A later save replaces the model and leaves nothing beside it.
    await saveModel(model, source, out, { ...INFO, seed: 4 });
    assert.equal((await readSavedModelInfo(out))?.seed, 4);
    assert.deepEqual(leftovers(out), []);
  } finally {
    model.dispose();
  }
});
