// Reading a results folder (results.json and each run's curves.json) and writing its report.html.
// The reader checks the shape of what it renders and names the first field that is wrong, so a
// hand-edited or truncated results.json gives a message that points at the problem instead of a
// TypeError deep inside the renderer.
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ReportTargetError, ResultsNotFoundError, ResultsParseError, ResultsShapeError } from './errors.js';
import { renderReportHtml } from './html.js';
import { renderTable } from './table.js';
import type { RunCurves, StudyResults } from './types.js';

/** The results file inside a results folder. */
export const RESULTS_FILE = 'results.json';
/** The report page inside a results folder. */
export const REPORT_FILE = 'report.html';

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ResultsNotFoundError(path, { cause });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new ResultsParseError(path, { cause });
  }
}

type Check = (v: unknown) => boolean;
const isObj: Check = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr: Check = (v) => typeof v === 'string';
const isNum: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const isNumOrNull: Check = (v) => v === null || isNum(v);
const isStrOrNull: Check = (v) => v === null || isStr(v);

/** Walks `obj` and throws a ResultsShapeError for the first field that fails its check. */
class Checker {
  constructor(private readonly file: string) {}

  field(obj: unknown, path: string, key: string, check: Check, expected: string, optional = false): unknown {
    const v = (obj as Record<string, unknown>)[key];
    if (optional && v === undefined) return v;
    if (!check(v)) throw new ResultsShapeError(this.file, `${path}.${key}`, expected, v);
    return v;
  }

  array(obj: unknown, path: string, key: string): unknown[] {
    return this.field(obj, path, key, Array.isArray, 'an array') as unknown[];
  }
}

/** Checks that `value` has the shape of results.json (the fields the report uses). */
export function checkResults(value: unknown, file: string): StudyResults {
  const c = new Checker(file);
  if (!isObj(value)) throw new ResultsShapeError(file, '$', 'an object', value);
  c.field(value, '$', 'job', isStr, 'a string');
  c.field(value, '$', 'namespace', isStr, 'a string', true);
  c.field(value, '$', 'createdAt', isStr, 'a string');
  c.field(value, '$', 'k', isNum, 'a number');
  const ev = c.field(value, '$', 'evaluation', isObj, 'an object');
  c.field(ev, '$.evaluation', 'ensemble', isStr, 'a string');
  c.field(ev, '$.evaluation', 'baseline', isStr, 'a string');
  const bs = c.field(ev, '$.evaluation', 'bootstrap', isObj, 'an object');
  for (const k of ['resamples', 'confidence', 'seed']) c.field(bs, '$.evaluation.bootstrap', k, isNum, 'a number');
  c.field(bs, '$.evaluation.bootstrap', 'resampleSeeds', (v) => typeof v === 'boolean', 'true or false', true);
  const val = c.field(value, '$', 'validation', isObj, 'an object');
  c.field(val, '$.validation', 'path', isStr, 'a string');
  c.field(val, '$.validation', 'sha256', isStr, 'a string');
  c.field(val, '$.validation', 'questions', isNum, 'a number');
  const training = c.field(value, '$', 'training', isObj, 'an object', true);
  if (training !== undefined) {
    c.array(training, '$.training', 'files').forEach((f, i) => {
      const p = `$.training.files[${i}]`;
      if (!isObj(f)) throw new ResultsShapeError(file, p, 'an object', f);
      c.field(f, p, 'path', isStr, 'a string');
      c.field(f, p, 'questions', isNum, 'a number');
    });
  }
  c.array(value, '$', 'runs').forEach((r, i) => {
    const p = `$.runs[${i}]`;
    if (!isObj(r)) throw new ResultsShapeError(file, p, 'an object', r);
    c.field(r, p, 'ablation', isStr, 'a string');
    c.field(r, p, 'seed', isNum, 'a number');
    c.field(r, p, 'phase', isStr, 'a string');
    c.field(r, p, 'attempts', isNum, 'a number');
    c.field(r, p, 'mapAtK', isNumOrNull, 'a number or null');
    const pr = c.field(r, p, 'predictions', isObj, 'an object');
    c.field(pr, `${p}.predictions`, 'received', isNum, 'a number');
    c.field(pr, `${p}.predictions`, 'expected', isNum, 'a number');
    const files = c.field(r, p, 'files', isObj, 'an object');
    for (const k of ['probabilities', 'submission', 'curves']) c.field(files, `${p}.files`, k, isStrOrNull, 'a path or null');
  });
  c.array(value, '$', 'ablations').forEach((a, i) => {
    const p = `$.ablations[${i}]`;
    if (!isObj(a)) throw new ResultsShapeError(file, p, 'an object', a);
    c.field(a, p, 'name', isStr, 'a string');
    c.field(a, p, 'seeds', (v) => Array.isArray(v) && v.every(isNum), 'an array of numbers');
    for (const k of ['seedMean', 'seedStd', 'seedMin', 'seedMax', 'ensembleMapAtK']) c.field(a, p, k, isNumOrNull, 'a number or null');
    const files = c.field(a, p, 'files', isObj, 'an object');
    for (const k of ['probabilities', 'submission']) c.field(files, `${p}.files`, k, isStrOrNull, 'a path or null');
    const v = c.field(a, p, 'vsBaseline', isObj, 'an object', true);
    if (v !== undefined) {
      const vp = `${p}.vsBaseline`;
      c.field(v, vp, 'baseline', isStr, 'a string');
      for (const k of ['delta', 'ciLow', 'ciHigh', 'pValue']) c.field(v, vp, k, isNum, 'a number');
      for (const k of ['pValueHolm', 'minDetectable']) c.field(v, vp, k, isNum, 'a number', true);
      c.field(v, vp, 'questionsNeeded', isNumOrNull, 'a number or null', true);
      const sa = c.field(v, vp, 'seedAware', isObj, 'an object', true);
      if (sa !== undefined) for (const k of ['ciLow', 'ciHigh', 'pValue', 'pValueHolm']) c.field(sa, `${vp}.seedAware`, k, isNum, 'a number');
    }
  });
  const best = (value as Record<string, unknown>)['best'];
  if (best !== null) {
    c.field(value, '$', 'best', isObj, 'an object or null');
    c.field(best, '$.best', 'ablation', isStr, 'a string');
    c.field(best, '$.best', 'ensembleMapAtK', isNum, 'a number');
  }
  return value as unknown as StudyResults;
}

/** Checks that `value` has the shape of a curves.json. */
export function checkCurves(value: unknown, file: string): RunCurves {
  const c = new Checker(file);
  if (!isObj(value)) throw new ResultsShapeError(file, '$', 'an object', value);
  c.field(value, '$', 'ablation', isStr, 'a string');
  c.field(value, '$', 'seed', isNum, 'a number');
  c.array(value, '$', 'points').forEach((pt, i) => {
    const p = `$.points[${i}]`;
    if (!isObj(pt)) throw new ResultsShapeError(file, p, 'an object', pt);
    for (const k of ['step', 'totalSteps', 'epoch', 'elapsedMs']) c.field(pt, p, k, isNum, 'a number');
    c.field(pt, p, 'phase', isStr, 'a string');
    c.field(pt, p, 'loss', isNumOrNull, 'a number or null');
    c.field(pt, p, 'examplesPerSecond', isNumOrNull, 'a number or null');
    const lr = c.field(pt, p, 'learningRates', isObj, 'an object');
    for (const [g, v] of Object.entries(lr as Record<string, unknown>)) if (!isNum(v)) throw new ResultsShapeError(file, `${p}.learningRates.${g}`, 'a number', v);
  });
  return value as unknown as RunCurves;
}

/** Reads and checks `dir/results.json`. */
export async function readResults(dir: string): Promise<StudyResults> {
  const path = join(dir, RESULTS_FILE);
  return checkResults(await readJson(path), path);
}

/** Reads every run's curves.json that results.json names (paths relative to `dir`). A run whose
 * file is missing is left out — the page says so — but a file that exists and is malformed is an
 * error, since it means something wrote it wrong. */
export async function readCurves(dir: string, results: StudyResults): Promise<RunCurves[]> {
  const out: RunCurves[] = [];
  for (const run of results.runs) {
    if (run.files.curves === null) continue;
    const path = resolve(dir, run.files.curves);
    let value: unknown;
    try {
      value = await readJson(path);
    } catch (err) {
      if (err instanceof ResultsNotFoundError) continue;
      throw err;
    }
    out.push(checkCurves(value, path));
  }
  return out;
}

export interface WrittenReport {
  /** Absolute path of the report.html written. */
  path: string;
  /** The plain-text table (what `ablate report` prints). */
  table: string;
  results: StudyResults;
}

/** Reads a results folder and (re)writes its report.html. */
export async function writeReport(dir: string): Promise<WrittenReport> {
  const abs = resolve(dir);
  const info = await stat(abs).catch(() => null);
  if (info === null || !info.isDirectory()) throw new ReportTargetError(dir);
  const results = await readResults(abs);
  const curves = await readCurves(abs, results);
  const path = join(abs, REPORT_FILE);
  await writeFile(path, renderReportHtml(results, curves));
  return { path, table: renderTable(results), results };
}
