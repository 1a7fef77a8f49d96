// Subjects between trainers and the collector:
//   <prefix>.<namespace>.<job>.<ablation>.<seed>.<kind>     kind ∈ progress | predictions | done
// FineTuneJob and ablation names are DNS labels (the API schema enforces that), so they are used
// verbatim; a token that could change the subject's shape (`.`, `*`, `>`, whitespace) is rejected
// here rather than producing a subject that matches someone else's filter.
import { SubjectError } from './errors.js';

/** @default 'ablate' — the first token of every subject; tests use a unique one per stream. */
export const DEFAULT_SUBJECT_PREFIX = 'ablate';
/** @default 'local' — the namespace token for runs started by `ablate run` outside Kubernetes. */
export const LOCAL_NAMESPACE = 'local';
/** @default 'ABLATE' — the JetStream stream that holds every subject under the prefix. */
export const DEFAULT_STREAM_NAME = 'ABLATE';

export const MESSAGE_KINDS = ['progress', 'predictions', 'done'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** The identity of one run (one ablation × seed of one FineTuneJob). */
export interface RunAddress {
  /** @default DEFAULT_SUBJECT_PREFIX */
  prefix?: string;
  namespace: string;
  job: string;
  ablation: string;
  seed: number;
}

export interface ParsedSubject {
  prefix: string;
  namespace: string;
  job: string;
  ablation: string;
  seed: number;
  kind: MessageKind;
}

/** The three subjects one run publishes on. */
export interface RunSubjects {
  progress: string;
  predictions: string;
  done: string;
}

// Anything NATS treats as structure or wildcard, plus whitespace (illegal in subjects).
const BAD_TOKEN = /[.*>\s]/;

function checkToken(field: string, value: string, subject: string): void {
  if (value.length === 0) throw new SubjectError(`subject ${JSON.stringify(subject)}: ${field} "" is empty`, subject, field, value);
  const bad = BAD_TOKEN.exec(value);
  if (bad) {
    throw new SubjectError(
      `subject ${JSON.stringify(subject)}: ${field} ${JSON.stringify(value)} contains ${JSON.stringify(bad[0])} (tokens may not contain '.', '*', '>' or whitespace)`,
      subject,
      field,
      value,
    );
  }
}

function checkSeed(seed: number, subject: string): void {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new SubjectError(`subject ${JSON.stringify(subject)}: seed ${String(seed)} is not a non-negative integer`, subject, 'seed', seed);
  }
}

/** Checks a subject prefix (one token); throws SubjectError naming the value. */
export function checkPrefix(prefix: string): void {
  checkToken('prefix', prefix, prefix);
}

/** `<prefix>.<ns>.<job>.<ablation>.<seed>.<kind>`, every token checked. */
export function runSubject(run: RunAddress, kind: MessageKind): string {
  const prefix = run.prefix ?? DEFAULT_SUBJECT_PREFIX;
  const subject = `${prefix}.${run.namespace}.${run.job}.${run.ablation}.${String(run.seed)}.${kind}`;
  checkToken('prefix', prefix, subject);
  checkToken('namespace', run.namespace, subject);
  checkToken('job', run.job, subject);
  checkToken('ablation', run.ablation, subject);
  checkSeed(run.seed, subject);
  return subject;
}

/** The progress, predictions and done subjects of one run. */
export function runSubjects(run: RunAddress): RunSubjects {
  return {
    progress: runSubject(run, 'progress'),
    predictions: runSubject(run, 'predictions'),
    done: runSubject(run, 'done'),
  };
}

/**
 * The filter that matches every message of a job (`<prefix>.<ns>.<job>.>`), or of every job in a
 * namespace when `job` is left out (`<prefix>.<ns>.>`).
 */
export function jobFilter(opts: { prefix?: string; namespace: string; job?: string }): string {
  const prefix = opts.prefix ?? DEFAULT_SUBJECT_PREFIX;
  const filter = opts.job === undefined ? `${prefix}.${opts.namespace}.>` : `${prefix}.${opts.namespace}.${opts.job}.>`;
  checkToken('prefix', prefix, filter);
  checkToken('namespace', opts.namespace, filter);
  if (opts.job !== undefined) checkToken('job', opts.job, filter);
  return filter;
}

/** The stream subject that covers every message under `prefix` (`<prefix>.>`). */
export function streamSubject(prefix: string = DEFAULT_SUBJECT_PREFIX): string {
  checkPrefix(prefix);
  return `${prefix}.>`;
}

/**
 * Splits a subject into its parts. With `expectedPrefix`, a subject under another prefix is an
 * error too. Throws SubjectError naming the subject and the offending token.
 */
export function parseSubject(subject: string, opts: { expectedPrefix?: string } = {}): ParsedSubject {
  if (/\s/.test(subject)) throw new SubjectError(`subject ${JSON.stringify(subject)} contains whitespace`, subject, 'subject', subject);
  const tokens = subject.split('.');
  if (tokens.length !== 6) {
    throw new SubjectError(
      `subject ${JSON.stringify(subject)} has ${tokens.length} tokens; expected 6 (<prefix>.<namespace>.<job>.<ablation>.<seed>.<kind>)`,
      subject,
      'subject',
      subject,
    );
  }
  const [prefix, namespace, job, ablation, seedText, kind] = tokens as [string, string, string, string, string, string];
  checkToken('prefix', prefix, subject);
  if (opts.expectedPrefix !== undefined && prefix !== opts.expectedPrefix) {
    throw new SubjectError(`subject ${JSON.stringify(subject)}: prefix ${JSON.stringify(prefix)} is not ${JSON.stringify(opts.expectedPrefix)}`, subject, 'prefix', prefix);
  }
  checkToken('namespace', namespace, subject);
  checkToken('job', job, subject);
  checkToken('ablation', ablation, subject);
  if (!/^(0|[1-9][0-9]*)$/.test(seedText)) {
    throw new SubjectError(`subject ${JSON.stringify(subject)}: seed ${JSON.stringify(seedText)} is not a non-negative integer`, subject, 'seed', seedText);
  }
  const seed = Number(seedText);
  checkSeed(seed, subject);
  if (!(MESSAGE_KINDS as readonly string[]).includes(kind)) {
    throw new SubjectError(`subject ${JSON.stringify(subject)}: kind ${JSON.stringify(kind)} is not one of ${MESSAGE_KINDS.join(', ')}`, subject, 'kind', kind);
  }
  return { prefix, namespace, job, ablation, seed, kind: kind as MessageKind };
}

/** NATS subject matching: `*` matches one token, a trailing `>` one or more. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    const tok = f[i];
    if (tok === '>') return i === f.length - 1 && s.length > i;
    if (i >= s.length) return false;
    if (tok !== '*' && tok !== s[i]) return false;
  }
  return f.length === s.length;
}
