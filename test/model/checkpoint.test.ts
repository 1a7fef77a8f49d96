// Checkpoints: safetensors in F32/F16/BF16, sharded, round trips, and the errors a user sees
// when a file does not fit the model.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../trainer/backend.js';
import { CheckpointMismatchError, DebertaForMultipleChoice, SafetensorsError, readSafetensors, writeSafetensors, type TensorToWrite, type WriteDtype } from '../../trainer/model/mod.js';
import { FIXTURE_DIR, expected, fixtureTensors, maxAbsDiff } from './support.js';

let work: string;
let reference: TensorToWrite[];

/** A checkpoint directory with the fixture's config and the given tensors. */
async function checkpoint(name: string, tensors: TensorToWrite[], dtype: WriteDtype = 'F32'): Promise<string> {
  const dir = join(work, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await copyFile(join(FIXTURE_DIR, 'config.json'), join(dir, 'config.json'));
  await writeSafetensors(join(dir, 'model.safetensors'), tensors, { dtype });
  return dir;
}

async function logitsOf(dir: string, opts: { seed?: number } = {}): Promise<number[][]> {
  const m = await DebertaForMultipleChoice.load(dir, opts);
  const t = fixtureTensors();
  const l = m.forward(t.ids, t.mask);
  const v = l.arraySync();
  m.dispose();
  tf.dispose([l, t.ids, t.mask, t.labels]);
  return v;
}

async function rejects(dir: string, check: (e: CheckpointMismatchError) => boolean): Promise<void> {
  await assert.rejects(DebertaForMultipleChoice.load(dir), (e: unknown) => e instanceof CheckpointMismatchError && check(e));
}

describe('checkpoints', () => {
  before(async () => {
    // wasm: the fastest backend present everywhere (these tests are about files, not kernels).
    await selectBackend('wasm');
    work = await mkdtemp(join(tmpdir(), 'ablate-model-'));
    const c = await readSafetensors(join(FIXTURE_DIR, 'model.safetensors'));
    reference = [...c.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  test('F16 and BF16 copies load (widened to float32) and give logits within their precision', async () => {
    const f16 = await logitsOf(await checkpoint('f16', reference, 'F16'));
    const bf16 = await logitsOf(await checkpoint('bf16', reference, 'BF16'));
    const d16 = maxAbsDiff(f16, expected.logits);
    const dbf = maxAbsDiff(bf16, expected.logits);
    // Weights of size ~0.25–1.5 rounded to 11 (F16) or 8 (BF16) significant bits.
    assert.ok(d16 < 5e-3, `F16 logits off by ${d16}`);
    assert.ok(dbf < 5e-2, `BF16 logits off by ${dbf}`);
    assert.ok(d16 > 0 && dbf > d16, 'the lower precisions should cost something, BF16 more than F16');
    const read = await readSafetensors(join(work, 'bf16', 'model.safetensors'));
    const w = read.tensors.get('classifier.weight')!;
    assert.equal(w.dtype, 'BF16');
    const orig = reference.find((t) => t.name === 'classifier.weight')!.data;
    w.data.forEach((v, i) => assert.ok(Math.abs(v - orig[i]!) <= Math.abs(orig[i]!) * 2 ** -8, `bf16 value ${i}`));
  });

  test('save → load round trip is bit-identical, config included', async () => {
    const m = await DebertaForMultipleChoice.load(FIXTURE_DIR);
    const dir = join(work, 'saved');
    await m.save(dir);
    const again = await DebertaForMultipleChoice.load(dir);
    assert.deepEqual(again.config, m.config);
    assert.deepEqual([...again.params.keys()], [...m.params.keys()]);
    for (const [name, v] of m.params) {
      assert.deepEqual(again.params.get(name)!.dataSync(), v.dataSync(), name);
    }
    const back = await readSafetensors(join(dir, 'model.safetensors'));
    assert.deepEqual(back.metadata, { format: 'pt' });
    const bytes = await readFile(join(dir, 'model.safetensors'));
    assert.equal(Number(bytes.readBigUInt64LE(0)) % 8, 0, 'header padded to 8 bytes');
    m.dispose();
    again.dispose();
  });

  test('a missing backbone tensor is an error naming it', async () => {
    const dir = await checkpoint('missing', reference.filter((t) => t.name !== 'deberta.encoder.layer.1.output.dense.weight'));
    await rejects(dir, (e) => e.problem === 'missing' && e.tensor === 'deberta.encoder.layer.1.output.dense.weight' && e.message.includes('deberta.encoder.layer.1.output.dense.weight'));
  });

  test('an unexpected tensor is an error naming it; position_ids and pre-training heads are ignored', async () => {
    const extra = { name: 'deberta.encoder.layer.7.attention.self.query_proj.weight', shape: [2], data: new Float32Array(2) };
    await rejects(await checkpoint('unexpected', [...reference, extra]), (e) => e.problem === 'unexpected' && e.message.includes(extra.name));
    const ignorable = [
      { name: 'deberta.embeddings.position_ids', shape: [1, 4], data: new Float32Array(4) },
      { name: 'lm_predictions.lm_head.bias', shape: [320], data: new Float32Array(320) },
    ];
    assert.deepEqual(await logitsOf(await checkpoint('ignorable', [...reference, ...ignorable])), await logitsOf(FIXTURE_DIR));
  });

  test('a shape mismatch is an error naming the tensor and both shapes', async () => {
    const bad = reference.map((t) => (t.name === 'pooler.dense.bias' ? { ...t, shape: [16], data: t.data.slice(0, 16) } : t));
    await rejects(await checkpoint('shape', bad), (e) => e.problem === 'shape' && e.tensor === 'pooler.dense.bias' && /\[16\].*\[32\]/.test(e.message));
  });

  test('a backbone-only checkpoint gets a fresh head, deterministic in the seed', async () => {
    const dir = await checkpoint('headless', reference.filter((t) => !t.name.startsWith('pooler.') && !t.name.startsWith('classifier.')));
    const a = await logitsOf(dir, { seed: 7 });
    assert.deepEqual(await logitsOf(dir, { seed: 7 }), a);
    assert.notDeepEqual(await logitsOf(dir, { seed: 8 }), a);
    assert.ok(maxAbsDiff(a, expected.logits) > 1e-3, 'fresh head should not reproduce the fixture head');
  });

  test('a checkpoint saved from the bare DebertaV2Model (no deberta. prefix) loads as HF does', async () => {
    const bare = reference.map((t) => ({ ...t, name: t.name.replace(/^deberta\./, '') }));
    assert.deepEqual(await logitsOf(await checkpoint('bare', bare)), await logitsOf(FIXTURE_DIR));
  });

  test('a sharded checkpoint (model.safetensors.index.json) loads like the single file', async () => {
    const dir = join(work, 'sharded');
    await mkdir(dir, { recursive: true });
    await copyFile(join(FIXTURE_DIR, 'config.json'), join(dir, 'config.json'));
    const half = Math.floor(reference.length / 2);
    const shards = [reference.slice(0, half), reference.slice(half)];
    const weightMap: Record<string, string> = {};
    for (const [i, part] of shards.entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      await writeSafetensors(join(dir, file), part);
      for (const t of part) weightMap[t.name] = file;
    }
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    assert.deepEqual(await logitsOf(dir), await logitsOf(FIXTURE_DIR));
  });

  test('malformed safetensors files are errors naming the file and, where one is at fault, the tensor', async () => {
    const file = join(work, 'bad.safetensors');
    const header = (obj: unknown, dataBytes: number): Buffer => {
      const h = Buffer.from(JSON.stringify(obj));
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(h.length));
      return Buffer.concat([len, h, Buffer.alloc(dataBytes)]);
    };
    const cases: [string, Buffer, RegExp, string | undefined][] = [
      ['truncated', Buffer.from([1, 2, 3]), /too short/, undefined],
      ['header longer than file', Buffer.concat([Buffer.from([255, 255, 0, 0, 0, 0, 0, 0]), Buffer.alloc(16)]), /header length/, undefined],
      ['bad JSON', Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{{{{')]), /not valid JSON/, undefined],
      ['offsets out of range', header({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8), /out of range/, 'w'],
      ['unsupported dtype', header({ w: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] } }, 4), /unsupported dtype 'F8_E4M3'/, 'w'],
      ['size disagrees with shape', header({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /expected 12/, 'w'],
    ];
    for (const [what, bytes, message, tensor] of cases) {
      await writeFile(file, bytes);
      await assert.rejects(readSafetensors(file), (e: unknown) => e instanceof SafetensorsError && e.file === file && e.tensor === tensor && message.test(e.message) && e.message.includes(file), what);
    }
  });
});
