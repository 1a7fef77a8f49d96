// `generateQuestions`: the whole run, top to bottom. Inputs are read; the sidecar is started or,
// with `resume`, read back and checked against this run's settings; requests are sent with a
// concurrency limit; each reply is parsed, checked and (optionally) verified as it arrives, but
// decided (near-duplicates among generated questions, option placement, the sidecar record) in
// request order, so the files do not depend on concurrency or timing. The run stops once `n`
// questions are accepted or `maxRequests` requests are decided, cancels what is still in
// flight, and rewrites the CSV atomically (temp file + rename) from the accepted records.
//
// Every random choice draws from a stream keyed by (seed, purpose, request index): few-shot
// examples, the verification shuffle, the option order. The correct option's final position
// follows a seeded sequence that deals every position once per block of `letters.length`
// accepted questions, so positions stay balanced across the output.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, rename, truncate, unlink, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { logger as rootLogger, type Logger } from '../../common/mod.js';
import { readQuestionsCsv, writeQuestionsCsv, type Question } from '../data/mod.js';
import { checkQuestion, dedupeText, type DraftQuestion } from './checks.js';
import { ChatClient, type TokenUsage } from './client.js';
import { GenerateOptionError, LlmRequestError, ResumeMismatchError } from './errors.js';
import { readPassages, readTopics, type Passage } from './inputs.js';
import { compileGenerateOptions, type CompiledGenerateOptions, type GenerateOptions, DEFAULT_VERIFY_MAX_TOKENS } from './options.js';
import { replyObject, verifyAnswer } from './parse.js';
import { ProgressReporter, type ProgressStats } from './progress.js';
import { generationMessages, rowObject, verificationMessages, type ExampleRow } from './prompt.js';
import { emptyReasonCounts, type RejectReason } from './reasons.js';
import { permutation, sampleIndices, seededRandom } from './rng.js';
import { formatSidecarLine, readSidecar, SIDECAR_VERSION, type SidecarHeader, type SidecarRecord, type Verification } from './sidecar.js';
import { SimilarityIndex } from './similarity.js';

/** What a run did, for `--json` and the log. */
export interface GenerateSummary {
  out: string;
  sidecar: string;
  wanted: number;
  accepted: number;
  rejected: number;
  /** Requests decided in the sidecar (this run and the runs it resumed). */
  requests: number;
  /** Requests decided by this invocation. */
  newRequests: number;
  /** Rejections per reason over the whole sidecar. */
  reasons: Record<RejectReason, number>;
  /** Accepted questions whose answer is each letter. */
  answerPositions: Record<string, number>;
  /** Tokens spent by this invocation, all attempts included. */
  tokens: { prompt: number; completion: number };
  /** True when the run stopped early on `signal`. */
  interrupted: boolean;
}

export interface GenerateHooks {
  /** Aborting stops new requests, cancels those in flight and still writes the CSV. */
  signal?: AbortSignal;
  log?: Logger;
  /** Where the progress bar is drawn when it is a TTY. @default process.stderr */
  progressStream?: NodeJS.WriteStream;
}

/** The outcome of one request before it is decided in order. */
interface Draft {
  index: number;
  provenance: SidecarRecord['provenance'];
  question?: DraftQuestion;
  /** The parsed object of a question that failed a check, for the sidecar. */
  raw?: Record<string, string>;
  reject?: { reason: RejectReason; detail: string };
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** A `seed` for servers that sample reproducibly, distinct per request and within int32. */
function requestSeed(seed: number, index: number): number {
  return (seed * 1_000_003 + index) % 2_147_483_647;
}

/** Keeps only string fields of a parsed object, so a rejected draft can be recorded as JSON text. */
function stringFields(obj: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(obj).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** The final position of the correct option of the k-th accepted question. */
function answerPosition(seed: number, k: number, letters: number): number {
  const block = Math.floor(k / letters);
  return permutation(letters, seededRandom(seed, 'answer-position', block))[k % letters] as number;
}

/**
 * Option order for a question whose answer must land on `target`: the distractors in a seeded
 * random order around it. Returns `order[j]` = original position of the option placed at j.
 */
function placeOptions(answer: number, count: number, target: number, seed: number, index: number): number[] {
  const others = Array.from({ length: count }, (_, i) => i).filter((i) => i !== answer);
  const shuffled = permutation(others.length, seededRandom(seed, 'options', index)).map((i) => others[i] as number);
  shuffled.splice(target, 0, answer);
  return shuffled;
}

export async function generateQuestions(options: GenerateOptions, hooks: GenerateHooks = {}): Promise<GenerateSummary> {
  // --- settings and inputs -------------------------------------------------------------------
  const o: CompiledGenerateOptions = compileGenerateOptions(options);
  const log = hooks.log ?? rootLogger({ component: 'generate' });
  const examples = await readQuestionsCsv(o.examples, { requireAnswer: true });
  const letters = examples.letters;
  if (o.shots > 0 && examples.questions.length === 0) throw new GenerateOptionError('examples', o.examples, 'holds no questions to use as few-shot examples');
  const passages = o.context === undefined ? undefined : await readPassages(o.context);
  const topics = o.topics === undefined ? undefined : await readTopics(o.topics);
  const index = new SimilarityIndex(o.dedupeThreshold);
  // The examples count as references: a model that copies its few-shot example adds nothing.
  const references = [examples, ...(await Promise.all(o.dedupeAgainst.map((p) => readQuestionsCsv(p))))];
  for (const set of references) {
    for (const q of set.questions) index.add(`${basename(set.path)}:${q.id}`, dedupeText(q.prompt, q.answer === undefined ? undefined : q.options[q.answer]), 'reference');
  }
  const header: SidecarHeader = {
    type: 'header',
    version: SIDECAR_VERSION,
    model: o.model,
    verifyModel: o.verify ? o.verifyModel : null,
    seed: o.seed,
    shots: o.shots,
    letters,
    idPrefix: o.idPrefix,
    temperature: o.temperature,
    maxTokens: o.maxTokens,
    examples: { file: basename(o.examples), sha256: examples.sha256 },
    context: passages && o.context ? { file: basename(o.context), sha256: passages.sha256 } : null,
    topics: topics && o.topics ? { file: basename(o.topics), sha256: topics.sha256 } : null,
    dedupeAgainst: references.slice(1).map((s) => ({ file: basename(s.path), sha256: s.sha256 })),
    dedupeThreshold: o.dedupeThreshold,
    bounds: { minPromptChars: o.minPromptChars, maxPromptChars: o.maxPromptChars, maxOptionChars: o.maxOptionChars },
    licence: o.licence,
  };

  // --- state: fresh, or replayed from the sidecar ----------------------------------------------
  const accepted: Question[] = [];
  const reasons = emptyReasonCounts();
  const positions: Record<string, number> = Object.fromEntries(letters.map((l) => [l, 0]));
  let decided = 0;
  const replay = (r: SidecarRecord) => {
    decided++;
    if (r.status === 'rejected') {
      if (r.reason) reasons[r.reason]++;
      return;
    }
    const q = r.question;
    const answer = q ? letters.indexOf(q['answer'] ?? '') : -1;
    if (!q || r.id === null || answer < 0) throw new ResumeMismatchError(o.sidecar, `record ${r.index}`, 'an accepted question', q, 'an accepted record lacks its question');
    const question: Question = { id: r.id, prompt: q['prompt'] ?? '', options: letters.map((l) => q[l] ?? ''), answer };
    accepted.push(question);
    positions[letters[answer] as string] = (positions[letters[answer] as string] ?? 0) + 1;
    index.add(question.id, dedupeText(question.prompt, question.options[answer]), 'generated');
  };
  const sidecarExists = existsSync(o.sidecar);
  if (!o.resume && (sidecarExists || existsSync(o.out))) {
    throw new GenerateOptionError('out', o.out, `${sidecarExists ? o.sidecar : o.out} exists; pass --resume to continue that run, or remove it`);
  }
  const previous = sidecarExists ? await readSidecar(o.sidecar) : undefined;
  if (previous) {
    for (const key of Object.keys(header) as (keyof SidecarHeader)[]) {
      if (JSON.stringify(previous.header[key]) !== JSON.stringify(header[key])) {
        throw new ResumeMismatchError(o.sidecar, key, header[key], previous.header[key], 'was written by a run with other settings; resuming would not give the same output');
      }
    }
    await truncate(o.sidecar, previous.completeBytes);
    for (const r of previous.records) replay(r);
    if (existsSync(o.out)) {
      const written = (await readQuestionsCsv(o.out)).questions.map((q) => q.id);
      const known = accepted.map((q) => q.id);
      const stray = written.find((id, i) => known[i] !== id);
      if (stray !== undefined) throw new ResumeMismatchError(o.out, 'id', known[written.indexOf(stray)] ?? null, stray, 'holds a question its sidecar does not record in that place');
    }
    log.info({ sidecar: o.sidecar, accepted: accepted.length, requests: decided }, 'resuming');
  } else {
    if (existsSync(o.out)) throw new ResumeMismatchError(o.out, 'sidecar', o.sidecar, null, 'cannot be resumed without its sidecar');
    await writeFile(o.sidecar, formatSidecarLine(header));
  }
  const alreadyDecided = decided;

  // --- requests ----------------------------------------------------------------------------------
  const tokens: TokenUsage = { promptTokens: 0, completionTokens: 0 };
  const client = new ChatClient({
    url: o.chatUrl,
    apiKey: o.apiKey,
    timeoutMs: o.requestTimeoutMs,
    maxRetries: o.maxRetries,
    backoffBaseMs: o.backoffBaseMs,
    backoffMaxMs: o.backoffMaxMs,
    retryAfterMaxMs: o.retryAfterMaxMs,
    jsonMode: o.jsonMode,
    onUsage: (u) => {
      tokens.promptTokens += u.promptTokens;
      tokens.completionTokens += u.completionTokens;
    },
  });
  const exampleRows: (ExampleRow & { id: string })[] = examples.questions.map((q) => ({ id: q.id, prompt: q.prompt, options: q.options, answer: q.answer ?? 0 }));
  const bounds = { minPromptChars: o.minPromptChars, maxPromptChars: o.maxPromptChars, maxOptionChars: o.maxOptionChars };

  /** One request, parsed, checked and verified; only run-level failures and aborts throw. */
  async function draft(i: number, signal: AbortSignal): Promise<Draft> {
    const rlog = log.child({ index: i });
    const shots = sampleIndices(exampleRows.length, o.shots, seededRandom(o.seed, 'shots', i)).map((k) => exampleRows[k] as ExampleRow & { id: string });
    const passage: Passage | undefined = passages ? passages.items[i % passages.items.length] : undefined;
    const topic = topics ? topics.items[i % topics.items.length] : undefined;
    const messages = generationMessages(letters, shots, passage?.text, topic);
    const provenance: SidecarRecord['provenance'] = {
      model: o.model,
      endpointHost: o.endpointHost,
      promptSha256: sha256Hex(JSON.stringify(messages)),
      passageId: passage?.id ?? null,
      topic: topic ?? null,
      shots: shots.map((s) => s.id),
      verification: null,
      licence: o.licence,
      usage: { promptTokens: 0, completionTokens: 0 },
    };
    const addUsage = (u: TokenUsage) => {
      provenance.usage.promptTokens += u.promptTokens;
      provenance.usage.completionTokens += u.completionTokens;
    };
    let obj: Record<string, unknown>;
    try {
      const r = await client.complete({ model: o.model, messages, temperature: o.temperature, maxTokens: o.maxTokens, seed: requestSeed(o.seed, i) }, replyObject, signal, rlog);
      addUsage(r.usage);
      obj = r.value;
    } catch (err) {
      if (err instanceof LlmRequestError) return { index: i, provenance, reject: { reason: err.reason, detail: err.message } };
      throw err;
    }
    const checked = checkQuestion(obj, letters, bounds);
    if (!checked.ok) return { index: i, provenance, raw: stringFields(obj), reject: { reason: checked.reason, detail: checked.detail } };
    const q = checked.question;
    const raw = rowObject(q, letters);
    const ref = index.findSimilar(dedupeText(q.prompt, q.options[q.answer]), 'reference');
    if (ref) return { index: i, provenance, raw, reject: { reason: 'near-duplicate', detail: `similar to reference question ${ref.id} (Jaccard ${ref.similarity.toFixed(3)})` } };
    if (o.verify) {
      // Shown in a seeded shuffle so the verifier cannot lean on where the generator put the answer.
      const shown = permutation(letters.length, seededRandom(o.seed, 'verify', i));
      const vMessages = verificationMessages(letters, q.prompt, shown.map((k) => q.options[k] ?? ''));
      let picked: number;
      try {
        const r = await client.complete({ model: o.verifyModel, messages: vMessages, temperature: 0, maxTokens: DEFAULT_VERIFY_MAX_TOKENS, seed: requestSeed(o.seed, i) }, (reply) => verifyAnswer(reply, letters), signal, rlog);
        addUsage(r.usage);
        picked = shown[r.value] as number;
      } catch (err) {
        if (err instanceof LlmRequestError) return { index: i, provenance, raw, reject: { reason: 'verify-failed', detail: `${err.reason}: ${err.message}` } };
        throw err;
      }
      const verification: Verification = { model: o.verifyModel, answer: letters[picked] as string, agreed: picked === q.answer };
      provenance.verification = verification;
      if (!verification.agreed) {
        return { index: i, provenance, raw, reject: { reason: 'verify-disagreed', detail: `the blind answer is ${letters[picked]}, the generated answer ${letters[q.answer]}` } };
      }
    }
    return { index: i, provenance, question: q };
  }

  /** Decides one draft in request order and appends its record. */
  async function decide(d: Draft): Promise<void> {
    let record: SidecarRecord;
    const q = d.question;
    const dup = q ? index.findSimilar(dedupeText(q.prompt, q.options[q.answer]), 'generated') : undefined;
    if (q && dup) d.reject = { reason: 'near-duplicate', detail: `similar to generated question ${dup.id} (Jaccard ${dup.similarity.toFixed(3)})` };
    if (!q || d.reject) {
      const reason = d.reject?.reason ?? 'malformed-question';
      reasons[reason]++;
      record = { type: 'question', index: d.index, status: 'rejected', id: null, reason, detail: d.reject?.detail ?? null, question: d.raw ?? (q ? rowObject(q, letters) : null), optionOrder: null, provenance: d.provenance };
    } else {
      const target = answerPosition(o.seed, accepted.length, letters.length);
      const order = placeOptions(q.answer, letters.length, target, o.seed, d.index);
      const id = `${o.idPrefix}${String(d.index).padStart(6, '0')}`;
      const question: Question = { id, prompt: q.prompt, options: order.map((k) => q.options[k] ?? ''), answer: target };
      const v = d.provenance.verification;
      // The verifier agreed, so its answer is the correct option, now at `target`.
      if (v) v.answer = letters[target] as string;
      accepted.push(question);
      positions[letters[target] as string] = (positions[letters[target] as string] ?? 0) + 1;
      index.add(id, dedupeText(q.prompt, q.options[q.answer]), 'generated');
      record = { type: 'question', index: d.index, status: 'accepted', id, reason: null, detail: null, question: rowObject(question as ExampleRow, letters), optionOrder: order, provenance: d.provenance };
    }
    await appendFile(o.sidecar, formatSidecarLine(record));
    decided++;
  }

  const progress = new ProgressReporter(log, hooks.progressStream);
  const stats = (): ProgressStats => ({ accepted: accepted.length, rejected: decided - accepted.length, wanted: o.n, tokens: tokens.promptTokens + tokens.completionTokens });
  const stop = new AbortController();
  const onAbort = () => stop.abort(hooks.signal?.reason);
  if (hooks.signal?.aborted) onAbort();
  hooks.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    await new Promise<void>((resolve, reject) => {
      const drafts = new Map<number, Draft>();
      let next = decided;
      let inFlight = 0;
      let deciding = false;
      let failure: unknown;
      const finished = () => accepted.length >= o.n || decided >= o.maxRequests || stop.signal.aborted || failure !== undefined;
      const pump = () => {
        if (finished()) {
          if (!stop.signal.aborted) stop.abort(new Error('generation finished'));
          if (inFlight === 0 && !deciding) {
            if (failure !== undefined) reject(failure);
            else resolve();
          }
          return;
        }
        // Requests past what could still be needed would be cancelled unanswered; hold them back.
        while (inFlight < o.concurrency && next < o.maxRequests && accepted.length + (next - decided) < o.n) {
          const i = next++;
          inFlight++;
          draft(i, stop.signal).then(
            (d) => {
              drafts.set(i, d);
            },
            (err: unknown) => {
              if (!stop.signal.aborted) failure = err;
            },
          ).finally(() => {
            inFlight--;
            void decideReady();
          });
        }
      };
      const decideReady = async () => {
        if (deciding) return;
        deciding = true;
        try {
          for (let d = drafts.get(decided); d !== undefined && accepted.length < o.n && failure === undefined; d = drafts.get(decided)) {
            drafts.delete(decided);
            await decide(d);
            progress.update(stats());
          }
        } catch (err) {
          failure ??= err;
        } finally {
          deciding = false;
        }
        pump();
      };
      pump();
    });
  } finally {
    hooks.signal?.removeEventListener('abort', onAbort);
  }
  progress.finish(stats());

  // --- output --------------------------------------------------------------------------------
  const tmp = `${o.out}.tmp-${process.pid}`;
  try {
    await writeQuestionsCsv(tmp, { letters, questions: accepted });
    await rename(tmp, o.out);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  const summary: GenerateSummary = {
    out: o.out,
    sidecar: o.sidecar,
    wanted: o.n,
    accepted: accepted.length,
    rejected: decided - accepted.length,
    requests: decided,
    newRequests: decided - alreadyDecided,
    reasons,
    answerPositions: positions,
    tokens: { prompt: tokens.promptTokens, completion: tokens.completionTokens },
    interrupted: hooks.signal?.aborted === true,
  };
  log.info({ ...summary, reasons: Object.fromEntries(Object.entries(reasons).filter(([, c]) => c > 0)) }, 'generation done');
  return summary;
}
