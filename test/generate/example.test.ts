// The committed generated-data example: the generated file joins the demo's training file as one
// set (the shape `spec.data.train.files` needs), its sidecar accounts for every question, and no
// generated question nearly repeats a question of the study's training or validation files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readQuestionsCsv, readQuestionsFiles } from '../../trainer/data/mod.js';
import { DEFAULT_DEDUPE_THRESHOLD, SimilarityIndex, type SidecarRecord } from '../../trainer/generate/mod.js';

const at = (p: string) => fileURLToPath(new URL(`../../examples/${p}`, import.meta.url));

test('examples/generated-data: generated.csv trains beside train.csv and matches its sidecar', async () => {
  const train = at('science-exam/data/train.csv');
  const validation = at('science-exam/data/validation.csv');
  const generated = await readQuestionsCsv(at('generated-data/generated.csv'), { requireAnswer: true });
  const both = await readQuestionsFiles([train, at('generated-data/generated.csv')], { requireAnswer: true });
  assert.equal(both.questions.length, both.files[0]!.questions + generated.questions.length);

  const records = readFileSync(at('generated-data/generated.jsonl'), 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as SidecarRecord);
  const acceptedIds = records.filter((r) => r.status === 'accepted').map((r) => r.id);
  assert.deepEqual(acceptedIds, generated.questions.map((q) => q.id));
  assert.ok(records.every((r) => r.provenance.licence.length > 0 && r.provenance.passageId !== null));

  const index = new SimilarityIndex(DEFAULT_DEDUPE_THRESHOLD);
  for (const path of [train, validation]) {
    for (const q of (await readQuestionsCsv(path)).questions) index.add(q.id, `${q.prompt} ${q.options[q.answer ?? 0]}`, 'reference');
  }
  for (const q of generated.questions) {
    assert.equal(index.findSimilar(`${q.prompt} ${q.options[q.answer ?? 0]}`, 'reference'), undefined, q.prompt);
  }
});
