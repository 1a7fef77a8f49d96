// Config parsing (HF names and defaults), parameter bookkeeping, and the `ablate model` commands.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelConfigError, UnknownParameterError, countParameters, isFrozen, layerDepth, loadConfig, parameterSpecs, parseConfig } from '../../trainer/model/mod.js';
import { runCli } from '../support/cli.js';
import { FIXTURE_DIR, expected, maxAbsDiff } from './support.js';

/** microsoft/deberta-v3-large (research/science.md §4.2). */
const V3_LARGE = {
  model_type: 'deberta-v2',
  hidden_size: 1024,
  num_hidden_layers: 24,
  num_attention_heads: 16,
  intermediate_size: 4096,
  hidden_act: 'gelu',
  vocab_size: 128100,
  max_position_embeddings: 512,
  relative_attention: true,
  position_buckets: 256,
  max_relative_positions: -1,
  pos_att_type: 'p2c|c2p',
  norm_rel_ebd: 'layer_norm',
  share_att_key: true,
  position_biased_input: false,
  type_vocab_size: 0,
  layer_norm_eps: 1e-7,
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  pooler_hidden_size: 1024,
  pooler_dropout: 0,
  pooler_hidden_act: 'gelu',
  pad_token_id: 0,
  initializer_range: 0.02,
};

describe('config', () => {
  test('HF defaults fill absent fields; strings and sentinels are normalised', () => {
    const c = parseConfig({ hidden_size: 64, num_attention_heads: 4, pos_att_type: 'p2c|c2p', hidden_dropout_prob: 0.2 });
    assert.equal(c.pooler_hidden_size, 64);
    assert.equal(c.max_relative_positions, 512, 'max_relative_positions -1 → max_position_embeddings');
    assert.deepEqual(c.pos_att_type, ['p2c', 'c2p']);
    assert.equal(c.cls_dropout, 0.2, 'cls_dropout falls back to hidden_dropout_prob');
    assert.equal(c.position_buckets, -1);
    assert.deepEqual(c.norm_rel_ebd, ['none']);
    assert.equal(c.share_att_key, false);
    assert.equal(c.position_biased_input, true);
    assert.equal(c.layer_norm_eps, 1e-7);
    assert.equal(c.hidden_act, 'gelu');
    assert.equal(c.vocab_size, 128100);
  });

  test('unsupported features are rejected naming the field', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ conv_kernel_size: 3 }, 'conv_kernel_size'],
      [{ hidden_size: 64, num_attention_heads: 4, embedding_size: 32 }, 'embedding_size'],
      [{ hidden_act: 'swish' }, 'hidden_act'],
      [{ hidden_size: 30, num_attention_heads: 4 }, 'hidden_size'],
      [{ pos_att_type: ['c2p', 'p2p'] }, 'pos_att_type'],
      [{ hidden_dropout_prob: 'a lot' }, 'hidden_dropout_prob'],
      [{ norm_rel_ebd: 'batch_norm' }, 'norm_rel_ebd'],
    ];
    for (const [json, fieldName] of cases) {
      assert.throws(() => parseConfig(json, 'x/config.json'), (e: unknown) => e instanceof ModelConfigError && e.field === fieldName && e.message.includes(`'${fieldName}'`) && e.message.startsWith('x/config.json'), fieldName);
    }
  });

  test('the fixture config parses to the reference architecture', async () => {
    const c = await loadConfig(FIXTURE_DIR);
    assert.equal(c.hidden_size, 32);
    assert.equal(c.position_buckets, 16);
    assert.deepEqual(c.pos_att_type, ['p2c', 'c2p']);
    assert.deepEqual(parameterSpecs(c).length, Object.keys(expected.grad_l2_norms_at_init).length);
    assert.deepEqual(parameterSpecs(c).map((s) => s.name), Object.keys(expected.grad_l2_norms_at_init), 'checkpoint order');
  });

  test('deberta-v3-large counts: 435,062,785 total, 303,888,385 with word embeddings frozen', () => {
    const counts = countParameters(parseConfig(V3_LARGE));
    assert.equal(counts.total, 435_062_785);
    assert.equal(counts.trainable['word-embeddings'], 303_888_385);
    assert.equal(counts.trainable.none, counts.total);
    assert.equal(counts.trainable.backbone, 1_050_625, 'head only: pooler.dense + classifier');
  });

  test('freezing modes and layer depths name the right parameters', () => {
    assert.equal(isFrozen('deberta.embeddings.word_embeddings.weight', 'word-embeddings'), true);
    assert.equal(isFrozen('deberta.embeddings.LayerNorm.weight', 'word-embeddings'), false);
    assert.equal(isFrozen('deberta.embeddings.LayerNorm.weight', 'embeddings'), true);
    assert.equal(isFrozen('deberta.encoder.rel_embeddings.weight', 'embeddings'), false);
    assert.equal(isFrozen('deberta.encoder.layer.3.output.dense.bias', 'backbone'), true);
    assert.equal(isFrozen('classifier.weight', 'backbone'), false);
    assert.equal(isFrozen('deberta.embeddings.word_embeddings.weight', 'none'), false);
    assert.equal(layerDepth('deberta.embeddings.word_embeddings.weight', 24), 0);
    assert.equal(layerDepth('deberta.encoder.rel_embeddings.weight', 24), 0);
    assert.equal(layerDepth('deberta.encoder.LayerNorm.bias', 24), 0);
    assert.equal(layerDepth('deberta.encoder.layer.0.attention.self.query_proj.weight', 24), 1);
    assert.equal(layerDepth('deberta.encoder.layer.23.output.LayerNorm.weight', 24), 24);
    assert.equal(layerDepth('pooler.dense.weight', 24), 'head');
    assert.equal(layerDepth('classifier.bias', 24), 'head');
    assert.throws(() => layerDepth('deberta.encoder.layer.24.output.dense.weight', 24), UnknownParameterError);
  });
});

describe('ablate model info / eval', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ablate-model-cli-'));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  test('model info on a config-only deberta-v3-large directory counts without weights', async () => {
    const dir = join(work, 'deberta-v3-large');
    await mkdir(dir);
    await writeFile(join(dir, 'config.json'), JSON.stringify(V3_LARGE));
    const json = await runCli(['model', 'info', '--model', dir, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const out = JSON.parse(json.stdout) as { total: number; trainable: Record<string, number>; weights: string[] };
    assert.equal(out.total, 435_062_785);
    assert.equal(out.trainable['word-embeddings'], 303_888_385);
    assert.deepEqual(out.weights, []);
    const text = await runCli(['model', 'info', '--model', dir]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /435,062,785/);
    assert.match(text.stdout, /303,888,385\s+freeze word-embeddings/);
  });

  test('model eval --json prints the fixture logits and loss', async () => {
    const r = await runCli(['model', 'eval', '--model', FIXTURE_DIR, '--inputs', join(FIXTURE_DIR, 'inputs.json'), '--backend', 'wasm', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { logits: number[][]; loss: number };
    assert.ok(maxAbsDiff(out.logits, expected.logits) < 1e-4);
    assert.ok(Math.abs(out.loss - expected.loss) < 1e-4);
  });

  test('model info on a directory without config.json fails naming the file', async () => {
    const r = await runCli(['model', 'info', '--model', join(work, 'nothing-here')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /nothing-here\/config\.json/);
  });
});
