// What `ablate run` keeps between invocations, so that an interrupted study (Ctrl-C, a crash, a
// failed run) continues with `--resume` instead of starting over.
//
// Layout under `<out>/work/`:
//   study.json               which job, which process, and how the last invocation ended
//   <slug>/fingerprint.json  everything that determines the run's result, written before it trains
//   <slug>/result.json       the run's collector-verified predictions, written when it completes
//   <slug>/checkpoints/      the trainer's own (a new attempt resumes from the newest)
//
// Guarantees: every file is written under a temporary name and renamed into place, so a reader
// sees the previous complete file or the new one. A result counts on a later invocation only when
// its fingerprint equals the run's current one and its contents match their digest; anything else
// is named in a warning and the run trains again (from its checkpoints where their fingerprint
// still matches). The fingerprint leaves out `spec.evaluation`, `spec.execution` and where models
// are saved: they change what is done with the predictions, not the predictions.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Run } from '../../api/mod.js';
import { AblateError } from '../../common/mod.js';
import { decodeIds, encodeIds, float32FromLittleEndian, float32ToLittleEndian, predictionsSha256V2Encoded, type ProtocolVersion } from '../../protocol/mod.js';
import type { CollectedRun } from '../collector/mod.js';

export const STUDY_FILE = 'study.json';
export const FINGERPRINT_FILE = 'fingerprint.json';
export const RESULT_FILE = 'result.json';
const STUDY_FORMAT = 'ablate.local-study/v1';
const RESULT_FORMAT = 'ablate.run-result/v1';

/**
 * Fingerprint fields that only change the run's evaluation, not its training: when nothing else
 * changed, its checkpoints are still valid and the run re-evaluates from the last one.
 */
export const EVALUATION_ONLY_FIELDS: ReadonlySet<string> = new Set(['data.validation', 'data.numOptions', 'training.evalBatchSize']);

/** Everything that determines one run's predictions, as named fields, and their digest. */
export interface Fingerprint {
  sha256: string;
  /** `seed`, `model.files`, `model.maxLength`, `data.train`, `data.validation`, `data.numOptions`, `training.<field>`. */
  fields: Record<string, unknown>;
}

export interface FingerprintInput {
  run: Run;
  /** The training config the trainer gets (after `--backend`). */
  training: Run['training'];
  maxLength: number;
  /** sha256 of every file in the model folder, by name. */
  modelFiles: { name: string; sha256: string }[];
  /** sha256 of the run's training files, in the order they are read. */
  train: string[];
  validationSha256: string;
  numOptions: number;
}

export function runFingerprint(f: FingerprintInput): Fingerprint {
  const fields: Record<string, unknown> = {
    seed: f.run.seed,
    'model.files': f.modelFiles,
    'model.maxLength': f.maxLength,
    'data.train': f.train,
    'data.validation': f.validationSha256,
    'data.numOptions': f.numOptions,
  };
  for (const [k, v] of Object.entries(f.training)) fields[`training.${k}`] = v;
  return { sha256: createHash('sha256').update(canonicalJson(fields)).digest('hex'), fields };
}

/** The fields whose values differ between two fingerprints, sorted. */
export function changedFields(before: Fingerprint['fields'], after: Fingerprint['fields']): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.filter((k) => canonicalJson(before[k]) !== canonicalJson(after[k]));
}

/** JSON with object keys sorted at every level, so equal values always give equal text. */
function canonicalJson(v: unknown): string {
  if (v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** sha256 of a file's bytes, read as a stream (model weights can be gigabytes). */
export function sha256File(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => hash.update(d))
      .on('error', rej)
      .on('end', () => res(hash.digest('hex')));
  });
}

/** A file (or the folder) of the model that cannot be read: names it and the system's reason. */
export class UnreadableModelFileError extends AblateError {
  constructor(
    readonly path: string,
    readonly code: string,
    options: { cause?: unknown } = {},
  ) {
    super(`cannot read ${path} (${code})`, options);
  }
}

/**
 * sha256 of every file directly in the model folder, by name. Links are followed: a Hugging Face
 * cache snapshot is a folder of links to its blobs. Throws UnreadableModelFileError naming the
 * folder or the first file that cannot be read (permissions, an I/O error).
 */
export async function hashModelFolder(dir: string): Promise<{ name: string; sha256: string }[]> {
  const unreadable = (path: string) => (err: NodeJS.ErrnoException) => {
    // "EACCES: permission denied, open '<path>'": the path is named already.
    throw new UnreadableModelFileError(path, err.code ? err.message.split(',')[0]! : err.message, { cause: err });
  };
  const names = (await readdir(dir).catch(unreadable(dir))).sort();
  const files: { name: string; sha256: string }[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if ((await stat(path).catch(() => undefined))?.isFile()) files.push({ name, sha256: await sha256File(path).catch(unreadable(path)) });
  }
  return files;
}

/** Writes `data` as JSON to `path` through a temporary file and a rename. */
async function writeJsonAtomic(path: string, data: unknown): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(data)}\n`);
  await rename(tmp, path);
}

// --- the run's fingerprint and result --------------------------------------------------------------

export async function writeFingerprint(runDir: string, fp: Fingerprint): Promise<void> {
  await writeJsonAtomic(join(runDir, FINGERPRINT_FILE), fp);
}

/** The fingerprint the run's checkpoints were made with, or undefined when none was recorded. */
export async function readFingerprint(runDir: string): Promise<Fingerprint | undefined> {
  const text = await readFile(join(runDir, FINGERPRINT_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const fp: unknown = JSON.parse(text);
    return isFingerprint(fp) ? fp : undefined;
  } catch {
    return undefined;
  }
}

function isFingerprint(v: unknown): v is Fingerprint {
  const fp = v as Partial<Fingerprint> | null;
  return typeof fp === 'object' && fp !== null && typeof fp.sha256 === 'string' && typeof fp.fields === 'object' && fp.fields !== null && !Array.isArray(fp.fields);
}

/** A persisted result that cannot be used: names the file and what is wrong with it. */
export class PersistedResultError extends AblateError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

interface ResultFile {
  format: typeof RESULT_FORMAT;
  fingerprint: Fingerprint;
  job: string;
  ablation: string;
  seed: number;
  runUid: string;
  attempt: number;
  protocolVersion: ProtocolVersion;
  count: number;
  width: number;
  metrics: Record<string, number>;
  validationSha256: string;
  /** The digest the trainer sent and the collector verified (its protocol version's). */
  predictionsSha256: string;
  /** `predictionsSha256V2` of `ids` and `probabilities` as stored here: checks the file itself. */
  sha256: string;
  /** The ids as the protocol sends them (`encodeIds`). */
  ids: string;
  /** `count × width` float32 values, little-endian, base64. */
  probabilities: string;
}

/** Persists a collector-verified run with the fingerprint it was trained under. */
export async function writeRunResult(runDir: string, r: CollectedRun, fingerprint: Fingerprint): Promise<void> {
  const ids = encodeIds(r.ids);
  const file: ResultFile = {
    format: RESULT_FORMAT,
    fingerprint,
    job: r.job,
    ablation: r.ablation,
    seed: r.seed,
    runUid: r.runUid,
    attempt: r.attempt,
    protocolVersion: r.protocolVersion,
    count: r.count,
    width: r.width,
    metrics: r.metrics,
    validationSha256: r.validationSha256,
    predictionsSha256: r.predictionsSha256,
    sha256: predictionsSha256V2Encoded(ids, r.count, { values: r.probs, width: r.width }),
    ids,
    probabilities: Buffer.from(float32ToLittleEndian(r.probs)).toString('base64'),
  };
  await writeJsonAtomic(join(runDir, RESULT_FILE), file);
}

/**
 * The run's persisted result with its fingerprint; undefined when there is none. Throws
 * PersistedResultError when the file exists but is not a complete, self-consistent result.
 */
export async function readRunResult(runDir: string): Promise<{ result: CollectedRun; fingerprint: Fingerprint } | undefined> {
  const path = join(runDir, RESULT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PersistedResultError(path, `cannot be read: ${(err as Error).message}`);
  }
  let f: ResultFile;
  try {
    f = JSON.parse(text) as ResultFile;
  } catch (err) {
    throw new PersistedResultError(path, `is not valid JSON (${(err as Error).message})`);
  }
  if (f === null || typeof f !== 'object' || f.format !== RESULT_FORMAT) throw new PersistedResultError(path, `format is ${JSON.stringify((f as { format?: unknown } | null)?.format)}, expected "${RESULT_FORMAT}"`);
  for (const [k, type] of [['job', 'string'], ['ablation', 'string'], ['seed', 'number'], ['runUid', 'string'], ['attempt', 'number'], ['protocolVersion', 'number'], ['count', 'number'], ['width', 'number'], ['metrics', 'object'], ['validationSha256', 'string'], ['predictionsSha256', 'string'], ['sha256', 'string'], ['ids', 'string'], ['probabilities', 'string'], ['fingerprint', 'object']] as const) {
    if (typeof f[k] !== type || f[k] === null) throw new PersistedResultError(path, `field ${k} is ${JSON.stringify(f[k])}, expected a ${type}`);
  }
  if (!isFingerprint(f.fingerprint)) throw new PersistedResultError(path, `field fingerprint is ${JSON.stringify(f.fingerprint).slice(0, 80)}, expected {sha256, fields}`);
  for (const k of ['count', 'width'] as const) {
    if (!Number.isSafeInteger(f[k]) || f[k] < 0) throw new PersistedResultError(path, `field ${k} is ${f[k]}, expected an integer ≥ 0`);
  }
  const bytes = Buffer.from(f.probabilities, 'base64');
  if (bytes.length !== f.count * f.width * 4) throw new PersistedResultError(path, `probabilities hold ${bytes.length} bytes, expected ${f.count} × ${f.width} float32 values (${f.count * f.width * 4} bytes)`);
  const probs = float32FromLittleEndian(bytes);
  const ids = decodeIds(f.ids);
  if (ids.length !== f.count) throw new PersistedResultError(path, `holds ${ids.length} ids, expected ${f.count}`);
  const digest = predictionsSha256V2Encoded(f.ids, f.count, { values: probs, width: f.width });
  if (digest !== f.sha256) throw new PersistedResultError(path, `contents do not match their sha256 (file says ${f.sha256.slice(0, 12)}…, contents give ${digest.slice(0, 12)}…)`);
  const result: CollectedRun = {
    key: `${f.ablation}/${f.seed}`,
    job: f.job,
    ablation: f.ablation,
    seed: f.seed,
    runUid: f.runUid,
    attempt: f.attempt,
    protocolVersion: f.protocolVersion,
    ids,
    probs,
    width: f.width,
    count: f.count,
    metrics: f.metrics,
    validationSha256: f.validationSha256,
    predictionsSha256: f.predictionsSha256,
  };
  return { result, fingerprint: f.fingerprint };
}


// --- the study folder ------------------------------------------------------------------------------

/** How an invocation left the folder: still going (or killed), stopped by a signal, ended with failed runs, or every run succeeded. */
export type StudyState = 'running' | 'interrupted' | 'incomplete' | 'finished';

export interface StudyMarker {
  format: typeof STUDY_FORMAT;
  job: string;
  /** The `ablate run` process that wrote it. */
  pid: number;
  updatedAt: string;
  state: StudyState;
  runs: number;
  succeeded: number;
}

export async function writeStudyMarker(work: string, m: Omit<StudyMarker, 'format' | 'pid' | 'updatedAt'>): Promise<void> {
  await writeJsonAtomic(join(work, STUDY_FILE), { format: STUDY_FORMAT, pid: process.pid, updatedAt: new Date().toISOString(), ...m });
}

/** What an output folder holds before an invocation starts. */
export type FolderState =
  | { kind: 'none' }
  | {
      kind: 'study';
      /** Every run succeeded and the results were written. */
      finished: boolean;
      marker?: StudyMarker;
      /** Runs with a persisted result (not yet checked against the current spec). */
      kept: number;
      /** The process that wrote the marker is still alive (another `ablate run` on this folder). */
      liveWriter?: number;
    };

export async function inspectFolder(outDir: string): Promise<FolderState> {
  const work = join(outDir, 'work');
  const workEntries = await readdir(work, { withFileTypes: true }).catch(() => []);
  const hasResults = await stat(join(outDir, 'results.json')).then(
    () => true,
    () => false,
  );
  if (workEntries.length === 0 && !hasResults) return { kind: 'none' };
  let marker: StudyMarker | undefined;
  try {
    const m = JSON.parse(await readFile(join(work, STUDY_FILE), 'utf8')) as StudyMarker;
    if (m.format === STUDY_FORMAT) marker = m;
  } catch {
    marker = undefined;
  }
  let kept = 0;
  for (const e of workEntries) {
    if (e.isDirectory() && (await stat(join(work, e.name, RESULT_FILE)).catch(() => undefined))) kept++;
  }
  // Without a marker (work/ deleted to free the checkpoints' space, or written by an older ablate
  // that kept none), results.json is what a finished study leaves.
  const finished = marker ? marker.state === 'finished' : hasResults;
  const liveWriter = marker && marker.state === 'running' && marker.pid !== process.pid && alive(marker.pid) ? marker.pid : undefined;
  return { kind: 'study', finished, kept, ...(marker ? { marker } : {}), ...(liveWriter === undefined ? {} : { liveWriter }) };
}

/**
 * What an earlier study in `outDir` wrote outputs for: the run of every folder in work/ (each run
 * that started has one) and every run and ablation its results.json names. Only plain names are
 * returned (no `/`, not `.` or `..`), so a hand-edited file cannot point outside the folder.
 */
export async function earlierStudyOutputs(outDir: string): Promise<{ runs: string[]; ablations: string[] }> {
  const runs = new Set<string>();
  const ablations = new Set<string>();
  for (const e of await readdir(join(outDir, 'work'), { withFileTypes: true }).catch(() => [])) {
    const m = /^(.+)-seed\d+$/.exec(e.name);
    if (!e.isDirectory() || !m) continue;
    runs.add(e.name);
    ablations.add(m[1]!);
  }
  try {
    const r = JSON.parse(await readFile(join(outDir, 'results.json'), 'utf8')) as { runs?: unknown; ablations?: unknown };
    for (const x of Array.isArray(r.runs) ? (r.runs as { ablation?: unknown; seed?: unknown }[]) : []) {
      if (typeof x?.ablation === 'string' && typeof x.seed === 'number') runs.add(`${x.ablation}-seed${x.seed}`);
    }
    for (const a of Array.isArray(r.ablations) ? (r.ablations as { name?: unknown }[]) : []) {
      if (typeof a?.name === 'string') ablations.add(a.name);
    }
  } catch {
    // No results.json (an unfinished study) or not one ablate wrote: work/ is all there is to go by.
  }
  const plain = (n: string): boolean => n !== '' && n !== '.' && n !== '..' && !/[/\\]/.test(n);
  return { runs: [...runs].filter(plain).sort(), ablations: [...ablations].filter(plain).sort() };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
