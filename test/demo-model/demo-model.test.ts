// The demo's committed base model (examples/science-exam/model): it loads as a multiple-choice
// model with only the head missing, its tokenizer covers the demo questions within maxLength 32,
// it is what scripts/pretrain-demo.ts builds, and its word embeddings carry what MLM pretraining
// put there (words of one kind closer to each other than to words of another kind), which a
// random initialisation does not.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../../trainer/backend.js';
import { DebertaForMultipleChoice, parameterSpecs, readCheckpoint } from '../../trainer/model/mod.js';
import { parseQuestionsCsv } from '../../trainer/data/mod.js';
import { loadTokenizer } from '../../trainer/tokenizer/mod.js';
import { MAX_MODEL_BYTES, buildTokenizerJson, readVocab } from '../../scripts/pretrain-demo.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const modelDir = join(root, 'examples/science-exam/model');
const dataDir = join(root, 'examples/science-exam/data');
/** The demo's fine-tuning length budget (finetunejob.yaml may ask for more; the data needs this). */
const MAX_LENGTH = 32;

/** Words of a kind, read from corpus sentences of one template (`re` captures the word). */
function wordsOf(corpus: string[], re: RegExp): string[] {
  const words = new Set<string>();
  for (const line of corpus) {
    const m = re.exec(line);
    if (m?.[1] !== undefined && /^[a-z]+$/.test(m[1].toLowerCase())) words.add(m[1].toLowerCase());
  }
  return [...words];
}

function rowsOf(table: Float32Array, width: number, ids: number[]): Float32Array[] {
  return ids.map((id) => {
    const row = table.slice(id * width, (id + 1) * width);
    const norm = Math.hypot(...row);
    return row.map((x) => x / norm);
  });
}

function meanCosine(a: Float32Array[], b: Float32Array[], same: boolean): number {
  let sum = 0, n = 0;
  a.forEach((x, i) => b.forEach((y, j) => {
    if (same && j <= i) return;
    sum += x.reduce((acc, v, k) => acc + v * y[k]!, 0);
    n++;
  }));
  return sum / n;
}

describe('demo base model (examples/science-exam/model)', () => {
  let model: DebertaForMultipleChoice | undefined;
  before(async () => {
    await selectBackend('wasm');
    model = await DebertaForMultipleChoice.load(modelDir, { seed: 0 });
  });
  after(() => model?.dispose());

  it('is a backbone-only safetensors file under 2 MB: every deberta.* tensor, no head', async () => {
    assert.ok(statSync(join(modelDir, 'model.safetensors')).size < MAX_MODEL_BYTES);
    const ckpt = await readCheckpoint(modelDir);
    const specs = parameterSpecs(model!.config);
    assert.deepEqual([...ckpt.tensors.keys()].sort(), specs.map((s) => s.name).filter((n) => n.startsWith('deberta.')).sort());
    // The multiple-choice head is created fresh at load, as for a real pretrained checkpoint.
    assert.deepEqual([...model!.params.keys()].filter((n) => !ckpt.tensors.has(n)).sort(), ['classifier.bias', 'classifier.weight', 'pooler.dense.bias', 'pooler.dense.weight']);
  });

  it('has DeBERTa-v3 architecture flags', () => {
    const c = model!.config;
    assert.equal(c.relative_attention, true);
    assert.equal(c.position_biased_input, false);
    assert.equal(c.type_vocab_size, 0);
    assert.equal(c.share_att_key, true);
    assert.deepEqual([...c.pos_att_type].sort(), ['c2p', 'p2c']);
    assert.ok(c.position_buckets > 0);
    assert.deepEqual(c.norm_rel_ebd, ['layer_norm']);
  });

  it('tokenizer.json is the one the script builds from data/vocab.txt', () => {
    const committed: unknown = JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8'));
    assert.deepEqual(committed, buildTokenizerJson(readVocab(readFileSync(join(dataDir, 'vocab.txt'), 'utf8'))));
  });

  it('tokenizes every demo question and option without [UNK] and within maxLength 32', async () => {
    const tok = await loadTokenizer(modelDir);
    assert.equal(tok.vocabSize, model!.config.vocab_size);
    let pairs = 0;
    for (const file of ['train.csv', 'validation.csv']) {
      for (const q of parseQuestionsCsv(readFileSync(join(dataDir, file), 'utf8'), file).questions) {
        for (const option of q.options) {
          const enc = tok.encodePair(q.prompt, option, MAX_LENGTH);
          assert.deepEqual(enc.truncated, { prompt: 0, option: 0 }, `${file}: '${q.prompt}' / '${option}' does not fit ${MAX_LENGTH} tokens`);
          assert.ok(!enc.inputIds.includes(tok.specialIds.unk), `${file}: [UNK] in '${q.prompt}' / '${option}'`);
          pairs++;
        }
      }
    }
    assert.equal(pairs, 1900 * 5);
    // Word-level: a known word is one piece, lower-cased.
    assert.deepEqual(tok.pieces('What is the chemical symbol for Sodium?'), ['▁what', '▁is', '▁the', '▁chemical', '▁symbol', '▁for', '▁sodium', '?']);
  });

  it('word embeddings group words of a kind (elements, animals), unlike a random initialisation', async () => {
    const tok = await loadTokenizer(modelDir);
    const corpus = readFileSync(join(dataDir, 'corpus.txt'), 'utf8').split('\n');
    const elements = wordsOf(corpus, /^The chemical symbol for (\w+) is/);
    const animals = wordsOf(corpus, /^By its diet the (\w+) is/);
    assert.ok(elements.length >= 10 && animals.length >= 10, `found ${elements.length} elements and ${animals.length} animals in corpus.txt`);
    const idOf = (w: string): number => {
      const ids = tok.encode(w);
      assert.equal(ids.length, 1, `'${w}' is not one piece`);
      return ids[0]!;
    };
    const gap = async (m: DebertaForMultipleChoice): Promise<number> => {
      const table = (await m.params.get('deberta.embeddings.word_embeddings.weight')!.data()) as Float32Array;
      const h = m.config.hidden_size;
      const e = rowsOf(table, h, elements.map(idOf));
      const a = rowsOf(table, h, animals.map(idOf));
      return (meanCosine(e, e, true) + meanCosine(a, a, true)) / 2 - meanCosine(e, a, false);
    };
    const random = DebertaForMultipleChoice.create(model!.config, { seed: 1 });
    try {
      const pretrained = await gap(model!);
      const untrained = await gap(random);
      assert.ok(Math.abs(untrained) < 0.05, `random embeddings: within-minus-across cosine ${untrained.toFixed(3)}`);
      assert.ok(pretrained > 0.15, `pretrained embeddings: within-minus-across cosine ${pretrained.toFixed(3)}, want > 0.15`);
    } finally {
      random.dispose();
    }
  });
});
