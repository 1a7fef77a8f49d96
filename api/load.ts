// Reading resource files: YAML or JSON, one or many documents (`---`), each kept apart so an
// error names its file and document.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { AblateError } from '../common/mod.js';
import { withDefaults } from './defaults.js';
import { validateFineTuneJob } from './finetunejob.js';
import { KIND, type FineTuneJob, type ResolvedFineTuneJobSpec, type Violation } from './types.js';

export interface ResourceDocument {
  /** 1-based position in the file (empty documents count). */
  index: number;
  /** The parsed value; undefined where the YAML did not parse. */
  value: unknown;
  /** YAML syntax errors in this document. */
  errors: string[];
}

/** A resource file that cannot be read at all. */
export class ResourceFileError extends AblateError {
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`${file}: cannot read: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** A resource that fails validation; carries every violation. */
export class InvalidResourceError extends AblateError {
  constructor(
    readonly file: string,
    readonly document: number,
    readonly violations: Violation[],
  ) {
    super(
      `${file}${document > 1 ? `:doc ${document}` : ''}: invalid ${KIND}:\n` +
        violations.map((v) => `  ${v.path || '(root)'}: ${v.message} (value: ${JSON.stringify(v.value)})`).join('\n'),
    );
  }
}

/** The file has no FineTuneJob, or more than one, where exactly one is needed. */
export class NotOneFineTuneJobError extends AblateError {
  constructor(
    readonly file: string,
    readonly found: number,
  ) {
    super(`${file}: expected exactly one ${KIND} document, found ${found}`);
  }
}

/** Every non-empty document of a YAML/JSON file. */
export function parseResourceFile(path: string): { documents: ResourceDocument[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ResourceFileError(path, err);
  }
  const documents: ResourceDocument[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    // yaml's messages end in a multi-line source excerpt; the first line has the position.
    const errors = doc.errors.map((e) => (e.message.split('\n')[0] ?? e.message).replace(/:$/, ''));
    const value = errors.length === 0 ? (doc.toJS() as unknown) : undefined;
    if (errors.length === 0 && (value === null || value === undefined)) return;
    documents.push({ index: i + 1, value, errors });
  });
  return { documents };
}

/** A FineTuneJob after validation with every default applied. */
export interface LoadedFineTuneJob extends Omit<FineTuneJob, 'spec'> {
  spec: ResolvedFineTuneJobSpec;
}

/**
 * Reads the one FineTuneJob in `path`, validates it (throwing InvalidResourceError with every
 * violation) and applies the defaults. `baseDir` is the file's folder: relative URIs resolve
 * against it (see resolveUri).
 */
export function loadFineTuneJob(path: string): { job: LoadedFineTuneJob; baseDir: string } {
  const { documents } = parseResourceFile(path);
  const jobs = documents.filter((d) => d.errors.length > 0 || (d.value as { kind?: unknown } | undefined)?.kind === KIND);
  const [doc] = jobs;
  if (jobs.length !== 1 || doc === undefined) throw new NotOneFineTuneJobError(path, jobs.length);
  if (doc.errors.length > 0) {
    throw new InvalidResourceError(path, doc.index, doc.errors.map((message) => ({ path: '', value: undefined, rule: 'yaml', message })));
  }
  const violations = validateFineTuneJob(doc.value);
  if (violations.length > 0) throw new InvalidResourceError(path, doc.index, violations);
  const job = doc.value as FineTuneJob;
  return { job: { ...job, spec: withDefaults(job.spec) }, baseDir: dirname(resolve(path)) };
}
