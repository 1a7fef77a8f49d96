import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CsvFormatError,
  readAnswersCsv,
  readPredictionsCsv,
  readProbabilitiesCsv,
  readQuestionsCsv,
  readQuestionsFiles,
  readSubmissionCsv,
  writeProbabilitiesCsv,
  writeQuestionsCsv,
  writeSubmissionCsv,
} from '../../trainer/data/mod.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ablate-data-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}

const HEADER5 = 'id,prompt,A,B,C,D,E,answer\n';

test('questions: a 5-option Kaggle file keeps every field a string and hashes the bytes', async () => {
  const text = `${HEADER5}0,"What is 2+2, roughly?",4,"""four""",007,0.50,"multi\nline",A\n1,Q2,a,b,c,d,e,e\n`;
  const p = await file('five.csv', text);
  const set = await readQuestionsCsv(p, { requireAnswer: true });
  assert.deepEqual(set.letters, ['A', 'B', 'C', 'D', 'E']);
  assert.deepEqual(set.questions[0], { id: '0', prompt: 'What is 2+2, roughly?', options: ['4', '"four"', '007', '0.50', 'multi\nline'], answer: 0 });
  // Lowercase answer letters are normalised: "e" is option E.
  assert.equal(set.questions[1]?.answer, 4);
  assert.equal(set.sha256, createHash('sha256').update(text).digest('hex'));
});

test('questions: 4-option files, unlabeled files, BOM and CRLF', async () => {
  const p = await file('four.csv', '\uFEFFid,prompt,A,B,C,D,answer\r\nq1,P,w,x,y,z,D\r\n');
  const set = await readQuestionsCsv(p);
  assert.deepEqual(set.letters, ['A', 'B', 'C', 'D']);
  assert.equal(set.questions[0]?.answer, 3);
  const u = await readQuestionsCsv(await file('test.csv', 'id,prompt,A,B,C,D,E\n7,P,a,b,c,d,e\n'));
  assert.equal(u.questions[0]?.answer, undefined);
  await assert.rejects(readQuestionsCsv(join(dir, 'test.csv'), { requireAnswer: true }), (e: unknown) => e instanceof CsvFormatError && e.column === 'answer' && e.line === 1);
});

/** Each malformed file and where its error must point: [name, text, line, column, message pattern]. */
const BAD: [string, string, number, string, RegExp][] = [
  ['missing column', 'id,A,B,C,D,E,answer\n1,a,b,c,d,e,A\n', 1, 'prompt', /missing column "prompt"/],
  ['gap in options', 'id,prompt,A,B,C,E,answer\n1,p,a,b,c,e,A\n', 1, 'D', /missing column "D"/],
  ['wrong field count', `${HEADER5}1,"p\nq",a,b,c,d,e,A\n2,p,a,b,c,d,A\n`, 4, 'answer', /expected 8 fields/],
  ['unterminated quote', `${HEADER5}1,"p\nq",a,b,c,d,e,A\n2,"open,a,b,c,d,e,A\n`, 4, 'prompt', /unterminated quoted field/],
  ['empty prompt', `${HEADER5}1,"p\nq",a,b,c,d,e,A\n2, ,a,b,c,d,e,A\n`, 4, 'prompt', /empty prompt/],
  ['empty option', `${HEADER5}1,"p\nq",a,b,c,d,e,A\n2,p,a,b,,d,e,A\n`, 4, 'C', /empty option/],
  ['answer not an option', 'id,prompt,A,B,C,D,answer\n1,"p\nq",a,b,c,d,A\n2,p,a,b,c,d,E\n', 4, 'answer', /answer is not one of the options A, B, C, D/],
  ['empty answer', `${HEADER5}1,p,a,b,c,d,e,\n`, 2, 'answer', /empty answer/],
  ['duplicate id', `${HEADER5}1,"p\nq",a,b,c,d,e,A\n1,p,a,b,c,d,e,B\n`, 4, 'id', /duplicate id \(first on line 2\)/],
  ['missing id', `${HEADER5}1,"p\nq",a,b,c,d,e,A\n,p,a,b,c,d,e,B\n`, 4, 'id', /missing id/],
];

for (const [name, text, line, column, pattern] of BAD) {
  test(`questions: ${name} → CsvFormatError at line ${line}, column ${column}`, async () => {
    const p = await file(`bad-${name.replace(/ /g, '-')}.csv`, text);
    await assert.rejects(readQuestionsCsv(p), (e: unknown) => {
      assert.ok(e instanceof CsvFormatError, String(e));
      assert.equal(e.file, p);
      assert.equal(e.line, line, e.message);
      assert.equal(e.column, column, e.message);
      assert.match(e.message, pattern);
      assert.ok(e.message.startsWith(`${p}:${line}: column ${column}:`), e.message);
      return true;
    });
  });
}

test('questions: several files concatenate; an id in two files names both', async () => {
  const a = await file('a.csv', `${HEADER5}1,p,a,b,c,d,e,A\n`);
  const b = await file('b.csv', `${HEADER5}2,p,a,b,c,d,e,B\n`);
  const set = await readQuestionsFiles([a, b]);
  assert.deepEqual(set.questions.map((q) => q.id), ['1', '2']);
  assert.deepEqual(set.files.map((f) => f.questions), [1, 1]);
  const bytes = Buffer.concat([await readFile(a), await readFile(b)]);
  assert.equal(set.sha256, createHash('sha256').update(bytes).digest('hex'));
  const c = await file('c.csv', `${HEADER5}3,p,a,b,c,d,e,A\n1,"p\nx",a,b,c,d,e,C\n`);
  await assert.rejects(readQuestionsFiles([a, c]), (e: unknown) => {
    assert.ok(e instanceof CsvFormatError);
    assert.equal(e.file, c);
    assert.equal(e.line, 3);
    assert.ok(e.message.includes(a) && e.message.includes(c), e.message);
    return true;
  });
  const four = await file('four-opt.csv', 'id,prompt,A,B,C,D,answer\n9,p,a,b,c,d,A\n');
  await assert.rejects(readQuestionsFiles([a, four]), /differ/);
});

test('questions: writeQuestionsCsv reads back the same questions', async () => {
  const questions = [
    { id: 'x1', prompt: 'Comma, "quote"\nand newline', options: ['1', ' 2 ', '', '4', '5'].map((o) => o || 'empty?'), answer: 2 },
    { id: 'x2', prompt: 'plain', options: ['a', 'b', 'c', 'd', 'e'], answer: 4 },
  ];
  const p = join(dir, 'roundtrip.csv');
  await writeQuestionsCsv(p, { letters: ['A', 'B', 'C', 'D', 'E'], questions });
  const back = await readQuestionsCsv(p, { requireAnswer: true });
  assert.deepEqual(back.questions, questions);
});

test('predictions: probabilities round-trip exactly, float32 written short', async () => {
  const probs = new Float32Array([0.1, 0.2, 0.3, 0.15, 0.25, 1 / 3, 1 / 3, 1 / 3, 0, 0]);
  const p = join(dir, 'probs.csv');
  await writeProbabilitiesCsv(p, ['q1', 'q,2'], ['A', 'B', 'C', 'D', 'E'], probs);
  const text = await readFile(p, 'utf8');
  assert.ok(text.startsWith('id,A,B,C,D,E\nq1,0.1,0.2,0.3,0.15,0.25\n"q,2",'), text);
  const back = await readProbabilitiesCsv(p);
  assert.deepEqual(back.ids, ['q1', 'q,2']);
  assert.deepEqual(Array.from(back.probs, (x) => Math.fround(x)), Array.from(probs));
  assert.equal((await readPredictionsCsv(p)).kind, 'probabilities');
});

test('predictions: submissions list the top 3, ties to the lower option; tokens read back verbatim', async () => {
  const probs = new Float64Array([0.2, 0.2, 0.2, 0.2, 0.2, 0.1, 0.4, 0.1, 0.3, 0.1]);
  const p = join(dir, 'sub.csv');
  await writeSubmissionCsv(p, ['a', 'b'], ['A', 'B', 'C', 'D', 'E'], probs);
  assert.equal(await readFile(p, 'utf8'), 'id,prediction\na,A B C\nb,B D A\n');
  const hand = await file('hand-sub.csv', 'id,prediction\n1,a  B\tC D\n2,\n');
  const sub = await readSubmissionCsv(hand);
  assert.deepEqual(sub.predictions.get('1'), ['a', 'B', 'C', 'D']);
  assert.deepEqual(sub.predictions.get('2'), []);
  assert.equal((await readPredictionsCsv(hand)).kind, 'submission');
  await assert.rejects(readPredictionsCsv(await file('neither.csv', 'id,guess\n1,A\n')), /not a prediction file/);
  await assert.rejects(readProbabilitiesCsv(await file('nan.csv', 'id,A,B\n1,0.5,\n')), (e: unknown) => e instanceof CsvFormatError && e.line === 2 && e.column === 'B');
});

test('answers: a question file or an id,answer file; letters upper-cased', async () => {
  const q = await readAnswersCsv(await file('ans-q.csv', `${HEADER5}1,p,a,b,c,d,e,c\n`));
  assert.deepEqual([q.ids, q.answers, q.letters], [['1'], ['C'], ['A', 'B', 'C', 'D', 'E']]);
  const two = await readAnswersCsv(await file('ans-2.csv', 'id,answer\n1, b\n2,E\n'));
  assert.deepEqual([two.ids, two.answers], [['1', '2'], ['B', 'E']]);
  await assert.rejects(readAnswersCsv(await file('ans-bad.csv', 'id,answer\n1,AB\n')), (e: unknown) => e instanceof CsvFormatError && e.line === 2);
});
