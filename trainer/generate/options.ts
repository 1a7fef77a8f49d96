// Options of the question generator in three steps, as elsewhere in ablate: what a caller may
// give (GenerateOptions), every default filled in, and the compiled form the run uses (URLs
// parsed, units in milliseconds, cross-field rules checked). Parsing rejects a bad value with
// the field's name, so `ablate data generate` can report it as a usage error.
import { basename, dirname, extname, join } from 'node:path';
import { GenerateOptionError } from './errors.js';

/** @default 3 few-shot examples per request */
export const DEFAULT_SHOTS = 3;
/** @default 4 requests in flight */
export const DEFAULT_CONCURRENCY = 4;
/** @default 3 retries per request after the first attempt */
export const DEFAULT_MAX_RETRIES = 3;
/** @default 0 */
export const DEFAULT_SEED = 0;
/** `--max-requests` defaults to this many requests per wanted question, plus 10. @default 3 */
export const DEFAULT_REQUESTS_PER_QUESTION = 3;
/** @default 0.7: varied questions; the verification pass always asks at temperature 0 */
export const DEFAULT_TEMPERATURE = 0.7;
/** @default 1024 completion tokens per generation request */
export const DEFAULT_MAX_TOKENS = 1024;
/** @default 64 completion tokens per verification request (`{"answer": "C"}` needs about 8) */
export const DEFAULT_VERIFY_MAX_TOKENS = 64;
/** @default 120000 ms per request attempt */
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;
/** First retry waits about this long, doubling per retry (with jitter). @default 1000 ms */
export const DEFAULT_BACKOFF_BASE_MS = 1000;
/** @default 60000 ms: the longest computed backoff */
export const DEFAULT_BACKOFF_MAX_MS = 60_000;
/** A server's `Retry-After` is honoured up to this. @default 120000 ms */
export const DEFAULT_RETRY_AFTER_MAX_MS = 120_000;
/** Word-shingle Jaccard similarity at or above which two questions count as near-duplicates. @default 0.8 */
export const DEFAULT_DEDUPE_THRESHOLD = 0.8;
/** @default 'gen-' (ids must not collide with the original training file's) */
export const DEFAULT_ID_PREFIX = 'gen-';
/** @default 10 characters */
export const DEFAULT_MIN_PROMPT_CHARS = 10;
/** @default 2000 characters */
export const DEFAULT_MAX_PROMPT_CHARS = 2000;
/** @default 500 characters */
export const DEFAULT_MAX_OPTION_CHARS = 500;

export interface GenerateOptions {
  /** OpenAI-compatible base URL (`http://host:8000/v1`) or the full `…/chat/completions` URL. */
  endpoint: string;
  model: string;
  /** Sent as `Authorization: Bearer …`; never logged or written. @default none (no header) */
  apiKey?: string;
  /** Kaggle-format CSV of few-shot examples, with answers. */
  examples: string;
  /** @default DEFAULT_SHOTS */
  shots?: number;
  /** Passages to ground questions on: one per line, or JSONL `{"id","text"}`. @default none */
  context?: string;
  /** Topics, one per line. @default none */
  topics?: string;
  /** Questions to accept. */
  n: number;
  /** Kaggle CSV to write; the sidecar is the same path with `.jsonl` for `.csv`. */
  out: string;
  /** @default DEFAULT_CONCURRENCY */
  concurrency?: number;
  /** @default DEFAULT_MAX_RETRIES */
  maxRetries?: number;
  /** @default n × DEFAULT_REQUESTS_PER_QUESTION + 10 */
  maxRequests?: number;
  /** @default DEFAULT_SEED */
  seed?: number;
  /** Ask for a blind answer and keep only agreeing questions. @default false */
  verify?: boolean;
  /** @default `model` */
  verifyModel?: string;
  /** Question CSVs a generated question must not nearly repeat. @default [] (the examples always count) */
  dedupeAgainst?: string[];
  /** @default DEFAULT_DEDUPE_THRESHOLD */
  dedupeThreshold?: number;
  /** Licence terms of the generating model, recorded verbatim with every question. @default '' */
  licence?: string;
  /** Continue from what `out` and its sidecar hold. @default false */
  resume?: boolean;
  /** @default DEFAULT_ID_PREFIX */
  idPrefix?: string;
  /** @default DEFAULT_TEMPERATURE */
  temperature?: number;
  /** @default DEFAULT_MAX_TOKENS */
  maxTokens?: number;
  /** Ask for `response_format: {type: "json_object"}` (dropped for the run if the server rejects it). @default true */
  jsonMode?: boolean;
  /** @default DEFAULT_REQUEST_TIMEOUT_MS */
  requestTimeoutMs?: number;
  /** @default DEFAULT_BACKOFF_BASE_MS */
  backoffBaseMs?: number;
  /** @default DEFAULT_BACKOFF_MAX_MS */
  backoffMaxMs?: number;
  /** @default DEFAULT_RETRY_AFTER_MAX_MS */
  retryAfterMaxMs?: number;
  /** @default DEFAULT_MIN_PROMPT_CHARS */
  minPromptChars?: number;
  /** @default DEFAULT_MAX_PROMPT_CHARS */
  maxPromptChars?: number;
  /** @default DEFAULT_MAX_OPTION_CHARS */
  maxOptionChars?: number;
}

/** Options with every default applied; the run reads only this. */
export interface CompiledGenerateOptions extends Required<Omit<GenerateOptions, 'apiKey' | 'context' | 'topics'>> {
  apiKey: string | undefined;
  context: string | undefined;
  topics: string | undefined;
  /** The chat-completions URL requests go to. */
  chatUrl: string;
  /** host[:port] of the endpoint, recorded in provenance (no credentials, no path). */
  endpointHost: string;
  /** The JSONL sidecar next to `out`. */
  sidecar: string;
}

/** The sidecar path for an output CSV: `data/gen.csv` → `data/gen.jsonl`. */
export function sidecarPath(out: string): string {
  const ext = extname(out);
  const stem = ext.toLowerCase() === '.csv' ? basename(out, ext) : basename(out);
  return join(dirname(out), `${stem}.jsonl`);
}

function int(field: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new GenerateOptionError(field, v, `must be an integer ≥ ${min}`);
  return v;
}

function num(field: string, v: unknown, min: number, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new GenerateOptionError(field, v, `must be a number in [${min}, ${max === Infinity ? '∞' : max}]`);
  }
  return v;
}

function text(field: string, v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '') throw new GenerateOptionError(field, v, 'must be a non-empty string');
  return v;
}

/** Fills in defaults and checks every field; throws GenerateOptionError naming the first bad one. */
export function compileGenerateOptions(o: GenerateOptions): CompiledGenerateOptions {
  const endpoint = text('endpoint', o.endpoint);
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (err) {
    throw new GenerateOptionError('endpoint', endpoint, `not a URL: ${(err as Error).message}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new GenerateOptionError('endpoint', endpoint, 'must be an http or https URL');
  // A key in the URL would end up in logs and provenance; it belongs in --api-key-env.
  if (url.username !== '' || url.password !== '') throw new GenerateOptionError('endpoint', `${url.protocol}//${url.host}`, 'must not carry credentials; use the API key variable');
  const path = url.pathname.replace(/\/+$/, '');
  const chatUrl = `${url.origin}${path.endsWith('/chat/completions') ? path : `${path}/chat/completions`}${url.search}`;
  const n = int('n', o.n, 1);
  const minPromptChars = int('minPromptChars', o.minPromptChars ?? DEFAULT_MIN_PROMPT_CHARS, 1);
  const maxPromptChars = int('maxPromptChars', o.maxPromptChars ?? DEFAULT_MAX_PROMPT_CHARS, minPromptChars);
  const backoffBaseMs = num('backoffBaseMs', o.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS, 0);
  const idPrefix = o.idPrefix ?? DEFAULT_ID_PREFIX;
  if (!/^[A-Za-z0-9._-]*$/.test(idPrefix)) throw new GenerateOptionError('idPrefix', idPrefix, 'may hold only letters, digits, ".", "_" and "-"');
  const out = text('out', o.out);
  const sidecar = sidecarPath(out);
  if (sidecar === out) throw new GenerateOptionError('out', out, 'must not end in .jsonl (that name is the sidecar)');
  return {
    endpoint,
    model: text('model', o.model),
    apiKey: o.apiKey === undefined || o.apiKey === '' ? undefined : o.apiKey,
    examples: text('examples', o.examples),
    shots: int('shots', o.shots ?? DEFAULT_SHOTS, 0),
    context: o.context,
    topics: o.topics,
    n,
    out,
    concurrency: int('concurrency', o.concurrency ?? DEFAULT_CONCURRENCY, 1),
    maxRetries: int('maxRetries', o.maxRetries ?? DEFAULT_MAX_RETRIES, 0),
    maxRequests: int('maxRequests', o.maxRequests ?? n * DEFAULT_REQUESTS_PER_QUESTION + 10, 1),
    seed: int('seed', o.seed ?? DEFAULT_SEED, 0),
    verify: o.verify ?? false,
    verifyModel: o.verifyModel ?? o.model,
    dedupeAgainst: [...(o.dedupeAgainst ?? [])],
    dedupeThreshold: num('dedupeThreshold', o.dedupeThreshold ?? DEFAULT_DEDUPE_THRESHOLD, 0, 1),
    licence: o.licence ?? '',
    resume: o.resume ?? false,
    idPrefix,
    temperature: num('temperature', o.temperature ?? DEFAULT_TEMPERATURE, 0, 2),
    maxTokens: int('maxTokens', o.maxTokens ?? DEFAULT_MAX_TOKENS, 1),
    jsonMode: o.jsonMode ?? true,
    requestTimeoutMs: num('requestTimeoutMs', o.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, 1),
    backoffBaseMs,
    backoffMaxMs: num('backoffMaxMs', o.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS, backoffBaseMs),
    retryAfterMaxMs: num('retryAfterMaxMs', o.retryAfterMaxMs ?? DEFAULT_RETRY_AFTER_MAX_MS, 0),
    minPromptChars,
    maxPromptChars,
    maxOptionChars: int('maxOptionChars', o.maxOptionChars ?? DEFAULT_MAX_OPTION_CHARS, 1),
    chatUrl,
    endpointHost: url.host,
    sidecar,
  };
}
