import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { demoTokens, makeDemoData, type DemoData } from '../../scripts/make-demo-data.js';
import { parseQuestionsCsv, type Question } from '../../trainer/data/mod.js';

const dataDir = fileURLToPath(new URL('../../examples/science-exam/data/', import.meta.url));
const data = makeDemoData();

function questions(name: 'train.csv' | 'validation.csv', d: DemoData = data): Question[] {
  return parseQuestionsCsv(d[name], name, { requireAnswer: true }).questions;
}

/** MAP@3 of one question: 1/rank of the answer when it is in the top three (ties: lower index first). */
function ap3(scores: number[], answer: number): number {
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, i]) => i);
  const rank = order.indexOf(answer);
  return rank < 3 ? 1 / (rank + 1) : 0;
}

function map3(qs: Question[], score: (q: Question, option: number) => number): number {
  return qs.reduce((s, q) => s + ap3(q.options.map((_, i) => score(q, i)), q.answer ?? -1), 0) / qs.length;
}

test('demo data: the same seed gives the same bytes, and the committed files are that output', () => {
  const again = makeDemoData();
  for (const name of Object.keys(data) as Array<keyof DemoData>) {
    assert.equal(again[name], data[name], `${name} differs between two runs`);
    assert.equal(readFileSync(`${dataDir}${name}`, 'utf8'), data[name], `examples/science-exam/data/${name} is stale: run npx tsx scripts/make-demo-data.ts`);
  }
  assert.notEqual(makeDemoData({ seed: 1 })['train.csv'], data['train.csv']);
});

test('demo data: Kaggle format, unique ids, five distinct options, balanced answers, small files', () => {
  const total = Object.values(data).reduce((s, t) => s + Buffer.byteLength(t), 0);
  assert.ok(total < 1_000_000, `demo files total ${total} bytes`);
  assert.match(data['train.csv'], /^id,prompt,A,B,C,D,E,answer\n/);
  for (const name of ['train.csv', 'validation.csv'] as const) {
    const qs = questions(name);
    assert.equal(new Set(qs.map((q) => q.id)).size, qs.length, `${name}: ids repeat`);
    const counts = [0, 0, 0, 0, 0];
    for (const q of qs) {
      assert.equal(new Set(q.options).size, 5, `${name} id ${q.id}: options repeat`);
      counts[q.answer ?? -1]! += 1;
    }
    assert.deepEqual(counts, Array(5).fill(qs.length / 5), `${name}: answers not balanced`);
    assert.ok(/^[\x20-\x7e\n]*$/.test(data[name]), `${name} is not plain ASCII`);
  }
  assert.equal(questions('train.csv').length, 1500);
  assert.equal(questions('validation.csv').length, 400);
});

test('demo data: no validation question repeats a training question', () => {
  const key = (q: Question) => `${q.prompt}|${[...q.options].sort().join('|')}`;
  const train = new Set(questions('train.csv').map(key));
  assert.equal(questions('validation.csv').filter((q) => train.has(key(q))).length, 0);
});

test('demo data: surface cues sit at chance, word associations learned from train do well', () => {
  const train = questions('train.csv');
  const val = questions('validation.csv');
  const longest = map3(val, (q, i) => (q.options[i] ?? '').length);
  const overlap = map3(val, (q, i) => {
    const p = new Set(demoTokens(q.prompt));
    return demoTokens(q.options[i] ?? '').filter((t) => p.has(t)).length;
  });
  // A softmax over (prompt word, option word) pair features, trained by SGD on train.csv: a
  // stand-in for "a tiny model that learns associations", with no pretraining on the corpus.
  const w = new Map<string, number>();
  const feats = (q: Question, i: number) => {
    const p = new Set(demoTokens(q.prompt));
    return [...new Set(demoTokens(q.options[i] ?? ''))].flatMap((t) => [`o|${t}`, ...[...p].map((s) => `${s}|${t}`)]);
  };
  const score = (f: string[]) => f.reduce((s, k) => s + (w.get(k) ?? 0), 0) / Math.sqrt(f.length);
  for (let epoch = 0; epoch < 10; epoch++) {
    for (const q of train) {
      const fs = q.options.map((_, i) => feats(q, i));
      const s = fs.map(score);
      const max = Math.max(...s);
      const e = s.map((x) => Math.exp(x - max));
      const z = e.reduce((a, b) => a + b, 0);
      fs.forEach((f, i) => {
        const g = (i === q.answer ? 1 : 0) - (e[i] ?? 0) / z;
        for (const k of f) w.set(k, (w.get(k) ?? 0) + (0.5 * g) / Math.sqrt(f.length));
      });
    }
  }
  const learned = map3(val, (q, i) => score(feats(q, i)));
  assert.ok(longest < 0.42 && overlap < 0.42, `surface cues too strong: longest ${longest.toFixed(3)}, overlap ${overlap.toFixed(3)} (chance 0.367)`);
  assert.ok(learned > 0.5 && learned < 0.8, `associations learned from train give ${learned.toFixed(3)}, want 0.5–0.8`);
});

test('demo data: the corpus states facts in plain sentences and the vocabulary covers every word', () => {
  const lines = data['corpus.txt'].trimEnd().split('\n');
  assert.ok(lines.length > 500);
  assert.ok(lines.every((l) => /^[A-Z].*\.$/.test(l)), 'every corpus line is a sentence');
  const vocab = new Set(data['vocab.txt'].trimEnd().split('\n').map((l) => l.split('\t')[0]));
  const texts = [...questions('train.csv'), ...questions('validation.csv')].flatMap((q) => [q.prompt, ...q.options]);
  for (const word of new Set([...texts, data['corpus.txt']].flatMap(demoTokens))) assert.ok(vocab.has(word), `vocab.txt lacks "${word}"`);
  assert.ok(vocab.size < 1000, `vocabulary of ${vocab.size} words is not small`);
});
