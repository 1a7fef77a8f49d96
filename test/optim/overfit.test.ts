// Training parity with PyTorch on the tiny fixture: three AdamW steps (lr 1e-3, eps 1e-6,
// wd 0.01 on every parameter) must give torch's losses and post-training logits within 1e-4,
// with and without frozen word embeddings, on cpu and wasm — through the library and through
// `ablate model overfit --json`. Raw logits carry an implementation-dependent per-row offset (the
// classifier bias gradient is float noise, see the fixture README), so logits are compared
// centred on their row mean.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend, DebertaForMultipleChoice, overfitBatch, readBatchFile, BatchFileError, type FreezeMode } from '../../trainer/mod.js';
import { runCli } from '../support/cli.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/deberta-v3-tiny/', import.meta.url));
const INPUTS = join(FIXTURE, 'inputs.json');
const TOL = 1e-4;
const WORD_EMBEDDINGS = 'deberta.embeddings.word_embeddings.weight';

interface TrainingExpectation {
  train_losses_steps_1_to_3: number[];
  after_3_steps: { logits_minus_row_mean: number[][]; loss: number };
}
const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as {
  training: TrainingExpectation;
  training_frozen_word_embeddings: TrainingExpectation;
};

function centred(logits: number[][]): number[][] {
  return logits.map((row) => {
    const mean = row.reduce((a, b) => a + b, 0) / row.length;
    return row.map((x) => x - mean);
  });
}

function assertParity(result: { losses: number[]; logits: number[][] }, want: TrainingExpectation, what: string): void {
  assert.equal(result.losses.length, 3, what);
  result.losses.forEach((l, i) => {
    const w = want.train_losses_steps_1_to_3[i]!;
    assert.ok(Math.abs(l - w) <= TOL, `${what}: loss of step ${i + 1} ${l} vs torch ${w}`);
  });
  const got = centred(result.logits);
  want.after_3_steps.logits_minus_row_mean.forEach((row, b) =>
    row.forEach((w, c) => {
      const g = got[b]![c]!;
      assert.ok(Math.abs(g - w) <= TOL, `${what}: centred logit [${b}][${c}] ${g} vs torch ${w}`);
    }),
  );
}

const RUNS: { freeze: FreezeMode; want: TrainingExpectation; label: string }[] = [
  { freeze: 'none', want: expected.training, label: 'all parameters' },
  { freeze: 'word-embeddings', want: expected.training_frozen_word_embeddings, label: 'frozen word embeddings' },
];

describe('overfitBatch reproduces the PyTorch AdamW run of the tiny fixture', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    for (const run of RUNS) {
      test(`${backend}, ${run.label}: losses and centred logits within 1e-4 after 3 steps`, async () => {
        await selectBackend(backend);
        const model = await DebertaForMultipleChoice.load(FIXTURE);
        const batch = await readBatchFile(INPUTS);
        const before = model.params.get(WORD_EMBEDDINGS)!.dataSync().slice();
        try {
          const result = overfitBatch(model, batch, { steps: 3, lr: 1e-3, weightDecay: 0.01, eps: 1e-6, freeze: run.freeze });
          assertParity(result, run.want, `${backend}/${run.freeze}`);
          const after = model.params.get(WORD_EMBEDDINGS)!.dataSync();
          if (run.freeze === 'word-embeddings') {
            assert.deepEqual(after, before, 'the frozen word embeddings changed');
          } else {
            assert.notDeepEqual(after, before, 'the word embeddings should train when not frozen');
          }
        } finally {
          for (const t of [batch.inputIds, batch.attentionMask, batch.labels]) t.dispose();
          model.dispose();
        }
      });
    }
  }
});

describe('ablate model overfit', () => {
  test('--json on cpu (all parameters) and on wasm (--freeze-embeddings) matches the fixture', async () => {
    const base = ['model', 'overfit', '--model', FIXTURE, '--inputs', INPUTS, '--steps', '3', '--lr', '1e-3', '--weight-decay', '0.01', '--eps', '1e-6', '--json'];
    const [full, frozen] = await Promise.all([
      runCli([...base, '--backend', 'cpu']),
      runCli([...base, '--backend', 'wasm', '--freeze-embeddings']),
    ]);
    for (const [r, run, what] of [[full, RUNS[0]!, 'cpu'], [frozen, RUNS[1]!, 'wasm --freeze-embeddings']] as const) {
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { losses: number[]; logits: number[][] };
      assert.deepEqual(Object.keys(out), ['losses', 'logits'], 'stdout must be exactly the documented JSON');
      assertParity(out, run.want, `cli ${what}`);
    }
  });

  test('a bad flag value exits 2 naming the flag; a malformed inputs file exits 1 naming the field', async () => {
    const usage = await runCli(['model', 'overfit', '--model', FIXTURE, '--inputs', INPUTS, '--steps', '0']);
    assert.equal(usage.code, 2, usage.stderr);
    assert.match(usage.stderr, /--steps: must be an integer ≥ 1, got 0/);

    const dir = await mkdtemp(join(tmpdir(), 'ablate-overfit-'));
    try {
      const inputs = JSON.parse(readFileSync(INPUTS, 'utf8')) as { labels: number[] };
      const bad = join(dir, 'bad.json');
      await writeFile(bad, JSON.stringify({ ...inputs, labels: [3, 7] }));
      await assert.rejects(readBatchFile(bad), (err: unknown) => err instanceof BatchFileError && err.field === 'labels[1]' && err.file === bad);
      const r = await runCli(['model', 'overfit', '--model', FIXTURE, '--inputs', bad, '--steps', '1', '--backend', 'wasm']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /labels\[1\]: must be an integer in \[0, 4\], got 7/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
