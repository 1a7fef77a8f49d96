// The Kaggle "LLM Science Exam" question files (`id,prompt,A,B,C,D,E,answer`, also 4-option
// files `A..D`), and the two prediction files derived from them: probabilities
// (`id,A,B,C,D,E`) and submissions (`id,prediction`, top three letters best first).
//
// Answer letters in question and answer files are trimmed and upper-cased: a `b` in a file we
// read as ground truth can only mean option B, and rejecting it would help no one. Prediction
// tokens in submissions are kept exactly as written, because Kaggle's scorer compares them
// verbatim (see controller/aggregate, which scores them).
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { columnName, formatCsv, parseCsv, type CsvTable } from './csv.js';
import { CsvFormatError, DataShapeError } from './errors.js';

/** One multiple-choice question. Every text field is kept exactly as in the file. */
export interface Question {
  id: string;
  prompt: string;
  /** Option texts in letter order (`options[0]` is A). */
  options: string[];
  /** Index of the correct option; absent in unlabeled sets. */
  answer?: number;
}

/** The questions of one file (or several, concatenated). */
export interface QuestionSet {
  /** The file read; for several files, their paths joined with ", ". */
  path: string;
  /** The option letters, e.g. ['A','B','C','D','E']. */
  letters: string[];
  questions: Question[];
  /** SHA-256 (hex) of the file bytes; for several files, of their bytes concatenated in order. */
  sha256: string;
  /** Per file: path, hash and question count (one entry for a single file). */
  files: { path: string; sha256: string; questions: number }[];
}

export interface ReadQuestionsOptions {
  /**
   * Demand an `answer` column (training and validation sets). Either way, a file that has the
   * column must fill it on every row: a half-labeled file is a mistake, not an unlabeled set.
   * @default false
   */
  requireAnswer?: boolean;
}

/** The option columns a file may have: A, B, … — at least two, contiguous from A. */
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');

/** @default letters of a 5-option Kaggle file */
export const DEFAULT_LETTERS: readonly string[] = ['A', 'B', 'C', 'D', 'E'];

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function requireColumn(table: CsvTable, name: string): number {
  const i = table.header.indexOf(name);
  if (i < 0) {
    throw new CsvFormatError(`missing column "${name}" in the header`, {
      file: table.file,
      line: table.headerLine,
      column: name,
      value: table.header.join(','),
    });
  }
  return i;
}

/** The contiguous option letters A, B, … of a header; a gap (A,B,C,E) names the missing letter. */
function optionLetters(table: CsvTable): string[] {
  const letters: string[] = [];
  for (const l of LETTERS) {
    if (table.header.includes(l)) letters.push(l);
    else break;
  }
  const stray = LETTERS.slice(letters.length + 1).find((l) => table.header.includes(l));
  const missing = LETTERS[letters.length] ?? 'A';
  if (letters.length < 2 || stray !== undefined) {
    throw new CsvFormatError(`missing column "${missing}" in the header (option columns run A, B, … without gaps, at least A and B)`, {
      file: table.file,
      line: table.headerLine,
      column: missing,
      value: table.header.join(','),
    });
  }
  return letters;
}

/** Parses questions from CSV text; `file` names the source in errors. */
export function parseQuestionsCsv(text: string, file: string, opts: ReadQuestionsOptions = {}): { letters: string[]; questions: Question[] } {
  const table = parseCsv(text, file);
  const idCol = requireColumn(table, 'id');
  const promptCol = requireColumn(table, 'prompt');
  const letters = optionLetters(table);
  const optionCols = letters.map((l) => table.header.indexOf(l));
  const answerCol = opts.requireAnswer ? requireColumn(table, 'answer') : table.header.indexOf('answer');
  const seen = new Map<string, number>();
  const questions: Question[] = [];
  for (const r of table.records) {
    const place = (col: number) => ({ file, line: r.fieldLines[col] ?? r.line, column: columnName(table.header, col), value: r.fields[col] ?? '' });
    const id = r.fields[idCol] ?? '';
    if (id.trim() === '') throw new CsvFormatError('missing id', place(idCol));
    const earlier = seen.get(id);
    if (earlier !== undefined) throw new CsvFormatError(`duplicate id (first on line ${earlier})`, place(idCol));
    seen.set(id, r.line);
    const prompt = r.fields[promptCol] ?? '';
    if (prompt.trim() === '') throw new CsvFormatError('empty prompt', place(promptCol));
    const options = optionCols.map((c) => {
      const o = r.fields[c] ?? '';
      if (o.trim() === '') throw new CsvFormatError('empty option', place(c));
      return o;
    });
    const q: Question = { id, prompt, options };
    if (answerCol >= 0) q.answer = parseAnswer(r.fields[answerCol] ?? '', letters, place(answerCol));
    questions.push(q);
  }
  return { letters, questions };
}

/** An answer letter (trimmed, upper-cased) → option index; anything else is a CsvFormatError. */
function parseAnswer(raw: string, letters: readonly string[], place: { file: string; line: number; column: string; value: string }): number {
  const norm = raw.trim().toUpperCase();
  const index = letters.indexOf(norm);
  if (index < 0) {
    const why = norm === '' ? 'empty answer' : `answer is not one of the options ${letters.join(', ')}`;
    throw new CsvFormatError(why, place);
  }
  return index;
}

/** Reads one question file. */
export async function readQuestionsCsv(path: string, opts: ReadQuestionsOptions = {}): Promise<QuestionSet> {
  const bytes = await readFile(path);
  const { letters, questions } = parseQuestionsCsv(bytes.toString('utf8'), path, opts);
  const sha256 = sha256Hex(bytes);
  return { path, letters, questions, sha256, files: [{ path, sha256, questions: questions.length }] };
}

/**
 * Reads several question files as one set, in order. All must have the same option letters and
 * ids must be unique across them (the error names both files).
 */
export async function readQuestionsFiles(paths: readonly string[], opts: ReadQuestionsOptions = {}): Promise<QuestionSet> {
  const first = paths[0];
  if (first === undefined) throw new RangeError('readQuestionsFiles: no paths given');
  const hash = createHash('sha256');
  const owner = new Map<string, string>();
  const sets: QuestionSet[] = [];
  for (const p of paths) {
    const bytes = await readFile(p);
    hash.update(bytes);
    const { letters, questions } = parseQuestionsCsv(bytes.toString('utf8'), p, opts);
    const set: QuestionSet = { path: p, letters, questions, sha256: sha256Hex(bytes), files: [] };
    const base = sets[0];
    if (base && base.letters.join('') !== letters.join('')) {
      throw new CsvFormatError(`options ${letters.join(',')} differ from ${base.path}'s ${base.letters.join(',')}`, {
        file: p,
        line: 1,
        column: letters[letters.length - 1] ?? 'A',
        value: letters.join(','),
      });
    }
    for (const q of questions) {
      const other = owner.get(q.id);
      if (other !== undefined) {
        throw new CsvFormatError(`duplicate id: also in ${other}`, { file: p, line: lineOfId(bytes.toString('utf8'), p, q.id), column: 'id', value: q.id });
      }
      owner.set(q.id, p);
    }
    sets.push(set);
  }
  return {
    path: paths.join(', '),
    letters: sets[0]?.letters ?? [...DEFAULT_LETTERS],
    questions: sets.flatMap((s) => s.questions),
    sha256: hash.digest('hex'),
    files: sets.map((s) => ({ path: s.path, sha256: s.sha256, questions: s.questions.length })),
  };
}

/** The physical line of the record with `id` (only computed on the error path). */
function lineOfId(text: string, file: string, id: string): number {
  const table = parseCsv(text, file);
  const col = table.header.indexOf('id');
  return table.records.find((r) => r.fields[col] === id)?.line ?? 1;
}

/** Writes questions in the Kaggle format; the `answer` column is written when any question has one. */
export async function writeQuestionsCsv(path: string, set: { letters: readonly string[]; questions: readonly Question[] }): Promise<void> {
  const labeled = set.questions.some((q) => q.answer !== undefined);
  const rows: string[][] = [['id', 'prompt', ...set.letters, ...(labeled ? ['answer'] : [])]];
  for (const q of set.questions) {
    if (q.options.length !== set.letters.length) {
      throw new DataShapeError(`writeQuestionsCsv ${path}: question ${q.id} has ${q.options.length} options, expected ${set.letters.length}`, 'options', q.options.length);
    }
    const row = [q.id, q.prompt, ...q.options];
    if (labeled) {
      const letter = q.answer === undefined ? undefined : set.letters[q.answer];
      // A half-labeled file would not read back; say which question lacks its answer.
      if (letter === undefined) throw new DataShapeError(`writeQuestionsCsv ${path}: question ${q.id} has no valid answer while others have one`, 'answer', q.answer);
      row.push(letter);
    }
    rows.push(row);
  }
  await writeFile(path, formatCsv(rows));
}
