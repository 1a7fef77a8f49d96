// Prediction files: per-question option probabilities (`id,A,B,C,D,E`, the full information, what
// ensembles are built from) and Kaggle submissions (`id,prediction`, up to three letters best
// first, what the competition scored). Readers keep submission tokens verbatim: the scorer
// decides what matches, exactly as Kaggle's did.
import { readFile, writeFile } from 'node:fs/promises';
import { columnName, formatCsv, parseCsv, type CsvTable } from './csv.js';
import { CsvFormatError, DataShapeError } from './errors.js';
import { parseQuestionsCsv } from './questions.js';

/** Probabilities in validation order: row `i` is `probs[i*c .. i*c+c)`, `c = letters.length`. */
export interface ProbabilitiesFile {
  kind: 'probabilities';
  path: string;
  ids: string[];
  letters: string[];
  probs: Float64Array;
}

/** A submission: id → predicted tokens, best first, as written (not upper-cased, not deduplicated). */
export interface SubmissionFile {
  kind: 'submission';
  path: string;
  predictions: Map<string, string[]>;
}

/** Ground truth: ids and their answer letters (upper-cased), in file order. */
export interface AnswersFile {
  path: string;
  ids: string[];
  answers: string[];
  /** The option letters when the file is a question file (`id,prompt,A,…,answer`). */
  letters?: string[];
}

/** How many letters a submission lists per question. @default 3 (Kaggle's MAP@3) */
export const DEFAULT_SUBMISSION_K = 3;

type Probs = Float32Array | Float64Array;

function checkShape(fn: string, ids: readonly string[], letters: readonly string[], probs: Probs): void {
  if (probs.length !== ids.length * letters.length) {
    throw new DataShapeError(`${fn}: ${probs.length} probabilities for ${ids.length} ids x ${letters.length} options`, 'probs', probs.length);
  }
}

/**
 * The shortest decimal that reads back as the same number: float32 values print as "0.1", not
 * "0.10000000149011612", so files stay small and diffs stay readable.
 */
function formatNumber(x: number, float32: boolean): string {
  if (!float32 || !Number.isFinite(x)) return String(x);
  for (let digits = 1; digits < 9; digits++) {
    const s = x.toPrecision(digits);
    if (Math.fround(Number(s)) === x) return String(Number(s));
  }
  return String(Number(x.toPrecision(9)));
}

/**
 * Option indices of one row, best first, `k` of them: higher probability first, the lower option
 * index first among equals (a stable order, so a file's ranking never depends on the sort used).
 */
export function rankRow(probs: Probs, row: number, options: number, k: number): number[] {
  const base = row * options;
  const order = Array.from({ length: options }, (_, j) => j);
  order.sort((a, b) => (probs[base + b] ?? 0) - (probs[base + a] ?? 0) || a - b);
  return order.slice(0, k);
}

/** Writes `id,A,B,…` with one row per id. */
export async function writeProbabilitiesCsv(path: string, ids: readonly string[], letters: readonly string[], probs: Probs): Promise<void> {
  checkShape('writeProbabilitiesCsv', ids, letters, probs);
  const c = letters.length;
  const f32 = probs instanceof Float32Array;
  const rows: string[][] = [['id', ...letters]];
  for (let i = 0; i < ids.length; i++) {
    const row = [ids[i] ?? ''];
    for (let j = 0; j < c; j++) row.push(formatNumber(probs[i * c + j] ?? NaN, f32));
    rows.push(row);
  }
  await writeFile(path, formatCsv(rows));
}

/** Writes a Kaggle submission `id,prediction`: the top `k` letters, best first, space separated. */
export async function writeSubmissionCsv(path: string, ids: readonly string[], letters: readonly string[], probs: Probs, k = DEFAULT_SUBMISSION_K): Promise<void> {
  checkShape('writeSubmissionCsv', ids, letters, probs);
  const rows: string[][] = [['id', 'prediction']];
  for (let i = 0; i < ids.length; i++) {
    rows.push([ids[i] ?? '', rankRow(probs, i, letters.length, k).map((j) => letters[j]).join(' ')]);
  }
  await writeFile(path, formatCsv(rows));
}

function duplicateCheck(table: CsvTable, idCol: number): void {
  const seen = new Map<string, number>();
  for (const r of table.records) {
    const id = r.fields[idCol] ?? '';
    const place = { file: table.file, line: r.line, column: 'id', value: id };
    if (id.trim() === '') throw new CsvFormatError('missing id', place);
    const earlier = seen.get(id);
    if (earlier !== undefined) throw new CsvFormatError(`duplicate id (first on line ${earlier})`, place);
    seen.set(id, r.line);
  }
}

function probabilitiesFromTable(table: CsvTable): ProbabilitiesFile {
  const letters = table.header.slice(1);
  letters.forEach((l, j) => {
    if (l !== String.fromCharCode(65 + j)) {
      throw new CsvFormatError(`expected column "${String.fromCharCode(65 + j)}" (a probabilities file is id,A,B,…)`, {
        file: table.file,
        line: table.headerLine,
        column: columnName(table.header, j + 1),
        value: table.header.join(','),
      });
    }
  });
  duplicateCheck(table, 0);
  const c = letters.length;
  const probs = new Float64Array(table.records.length * c);
  table.records.forEach((r, i) => {
    for (let j = 0; j < c; j++) {
      const raw = r.fields[j + 1] ?? '';
      const v = raw.trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(v)) {
        throw new CsvFormatError('not a finite number', { file: table.file, line: r.fieldLines[j + 1] ?? r.line, column: letters[j] ?? '?', value: raw });
      }
      probs[i * c + j] = v;
    }
  });
  return { kind: 'probabilities', path: table.file, ids: table.records.map((r) => r.fields[0] ?? ''), letters, probs };
}

function submissionFromTable(table: CsvTable): SubmissionFile {
  duplicateCheck(table, 0);
  const predictions = new Map<string, string[]>();
  for (const r of table.records) {
    const text = r.fields[1] ?? '';
    predictions.set(r.fields[0] ?? '', text.split(/\s+/).filter((t) => t !== ''));
  }
  return { kind: 'submission', path: table.file, predictions };
}

const isSubmissionHeader = (h: readonly string[]) => h.length === 2 && h[0] === 'id' && h[1] === 'prediction';
const isProbabilitiesHeader = (h: readonly string[]) => h.length >= 3 && h[0] === 'id' && h[1] === 'A';

/** Reads either prediction file, told apart by the header (`id,prediction` or `id,A,B,…`). */
export async function readPredictionsCsv(path: string): Promise<ProbabilitiesFile | SubmissionFile> {
  const table = parseCsv(await readFile(path, 'utf8'), path);
  if (isSubmissionHeader(table.header)) return submissionFromTable(table);
  if (isProbabilitiesHeader(table.header)) return probabilitiesFromTable(table);
  throw new CsvFormatError('not a prediction file: expected the header id,prediction (submission) or id,A,B,… (probabilities)', {
    file: path,
    line: table.headerLine,
    column: columnName(table.header, 0),
    value: table.header.join(','),
  });
}

/** Reads a probabilities file `id,A,B,…`. */
export async function readProbabilitiesCsv(path: string): Promise<ProbabilitiesFile> {
  const table = parseCsv(await readFile(path, 'utf8'), path);
  if (!isProbabilitiesHeader(table.header)) {
    throw new CsvFormatError('expected the header id,A,B,…', { file: path, line: table.headerLine, column: columnName(table.header, 0), value: table.header.join(',') });
  }
  return probabilitiesFromTable(table);
}

/** Reads a submission `id,prediction` into id → tokens. */
export async function readSubmissionCsv(path: string): Promise<SubmissionFile> {
  const table = parseCsv(await readFile(path, 'utf8'), path);
  if (!isSubmissionHeader(table.header)) {
    throw new CsvFormatError('expected the header id,prediction', { file: path, line: table.headerLine, column: columnName(table.header, 0), value: table.header.join(',') });
  }
  return submissionFromTable(table);
}

/**
 * Reads ground truth: a question file with an `answer` column (`id,prompt,A,…,answer`), or a
 * two-column `id,answer` file. Answers are trimmed and upper-cased; in an `id,answer` file an
 * answer must be one letter A–Z.
 */
export async function readAnswersCsv(path: string): Promise<AnswersFile> {
  const text = await readFile(path, 'utf8');
  const table = parseCsv(text, path);
  if (table.header.includes('prompt')) {
    const { letters, questions } = parseQuestionsCsv(text, path, { requireAnswer: true });
    return { path, ids: questions.map((q) => q.id), answers: questions.map((q) => letters[q.answer ?? -1] ?? ''), letters };
  }
  const idCol = table.header.indexOf('id');
  const answerCol = table.header.indexOf('answer');
  if (idCol < 0 || answerCol < 0) {
    throw new CsvFormatError(`missing column "${idCol < 0 ? 'id' : 'answer'}" (an answers file is id,answer or a question file with an answer column)`, {
      file: path,
      line: table.headerLine,
      column: idCol < 0 ? 'id' : 'answer',
      value: table.header.join(','),
    });
  }
  duplicateCheck(table, idCol);
  const answers = table.records.map((r) => {
    const raw = r.fields[answerCol] ?? '';
    const a = raw.trim().toUpperCase();
    if (!/^[A-Z]$/.test(a)) {
      throw new CsvFormatError(a === '' ? 'empty answer' : 'answer is not a single letter A-Z', { file: path, line: r.fieldLines[answerCol] ?? r.line, column: 'answer', value: raw });
    }
    return a;
  });
  return { path, ids: table.records.map((r) => r.fields[idCol] ?? ''), answers };
}
