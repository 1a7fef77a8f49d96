// A small client for OpenAI-compatible chat completions (vLLM, llama.cpp server, Ollama, hosted
// APIs) over Node's fetch, with the retry policy a long generation run needs: 429 and 5xx are
// retried after the server's `Retry-After` (seconds or an HTTP date, capped) or an exponential
// backoff with jitter; every attempt has its own timeout; a reply the caller's check rejects
// (malformed JSON, a refusal, a truncated answer) is retried too, because a new sample may be
// fine. What no retry can fix for one question ends as LlmRequestError (a rejection); what no
// retry can fix for any question (bad key, wrong URL) ends as LlmEndpointError (the run stops).
// The API key goes into the Authorization header and nowhere else; text quoted from a server is
// scrubbed of it before it reaches an error message.
import type { Logger } from '../../common/mod.js';
import { AblateError } from '../../common/mod.js';
import { LlmEndpointError, LlmRequestError } from './errors.js';
import type { RejectReason } from './reasons.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  temperature: number;
  maxTokens: number;
  /** Passed as `seed` for servers that sample reproducibly with one. */
  seed?: number;
}

export interface ChatReply {
  content: string;
  /** `choices[0].finish_reason`: "stop", "length", "content_filter" … */
  finishReason: string | null;
  /** `choices[0].message.refusal` where the server reports refusals that way. */
  refusal: string | null;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/** Thrown by a reply check: this attempt's answer is unusable for `reason`; try again. */
export class ReplyProblem extends AblateError {
  readonly reason: RejectReason;

  constructor(reason: RejectReason, detail: string) {
    super(detail);
    this.reason = reason;
  }
}

export interface ChatClientOptions {
  url: string;
  apiKey: string | undefined;
  timeoutMs: number;
  maxRetries: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  retryAfterMaxMs: number;
  jsonMode: boolean;
  /** Called with the tokens of every answered attempt, retried ones included (for the progress line). */
  onUsage?: (u: TokenUsage) => void;
}

/**
 * Milliseconds a `Retry-After` value asks for: delay-seconds or an HTTP date (RFC 9110 §10.2.3);
 * undefined when absent or unreadable. A date in the past means "now".
 */
export function parseRetryAfterMs(value: string | null | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Sleeps `ms`, or rejects with the signal's reason as soon as it aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

interface Failure {
  reason: RejectReason;
  detail: string;
  /** Wait the server asked for, if any. */
  retryAfterMs?: number;
}

export class ChatClient {
  private readonly opts: ChatClientOptions;
  /** Cleared for the rest of the run when the server rejects `response_format`. */
  private jsonMode: boolean;

  constructor(opts: ChatClientOptions) {
    this.opts = opts;
    this.jsonMode = opts.jsonMode;
  }

  /** Text from a server with the API key removed, short enough for a message. */
  private scrub(s: string): string {
    const key = this.opts.apiKey;
    const clean = key ? s.split(key).join('[redacted]') : s;
    return clean.length > 200 ? `${clean.slice(0, 197)}...` : clean;
  }

  /**
   * Sends `req` until `check` accepts a reply or the retries are spent. Resolves with the checked
   * value, the tokens of all attempts and how many attempts it took; rejects with
   * LlmRequestError (this request is lost), LlmEndpointError (every request would be), or the
   * signal's reason when `signal` aborts.
   */
  async complete<T>(req: ChatRequest, check: (reply: ChatReply) => T, signal: AbortSignal, log: Logger): Promise<{ value: T; usage: TokenUsage; attempts: number }> {
    const usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
    const attemptsAllowed = this.opts.maxRetries + 1;
    let last: Failure = { reason: 'network-error', detail: 'no attempt made' };
    let attempt = 0;
    while (attempt < attemptsAllowed) {
      attempt++;
      if (signal.aborted) throw signal.reason;
      const result = await this.attempt(req, check, signal, usage);
      if (result.ok) return { value: result.value, usage, attempts: attempt };
      if (result.failure === 'json-mode-dropped') {
        // Not the question's fault: the same attempt again, without response_format.
        attempt--;
        log.warn({ url: this.opts.url }, 'the server rejects response_format json_object; asking without it for the rest of the run');
        continue;
      }
      last = result.failure;
      if (attempt >= attemptsAllowed) break;
      const backoff = Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** (attempt - 1)) * (0.5 + Math.random() * 0.5);
      const waitMs = last.retryAfterMs !== undefined ? Math.min(last.retryAfterMs, this.opts.retryAfterMaxMs) : backoff;
      log.debug({ attempt, reason: last.reason, detail: last.detail, waitMs: Math.round(waitMs) }, 'request failed; retrying');
      await sleep(waitMs, signal);
    }
    throw new LlmRequestError(last.reason, `${last.detail} (after ${attempt} attempt${attempt === 1 ? '' : 's'})`, attempt);
  }

  private async attempt<T>(
    req: ChatRequest,
    check: (reply: ChatReply) => T,
    signal: AbortSignal,
    usage: TokenUsage,
  ): Promise<{ ok: true; value: T } | { ok: false; failure: Failure | 'json-mode-dropped' }> {
    const body: Record<string, unknown> = {
      model: req.model,
      messages: req.messages,
      temperature: req.temperature,
      max_tokens: req.maxTokens,
    };
    if (req.seed !== undefined) body['seed'] = req.seed;
    const jsonMode = this.jsonMode;
    if (jsonMode) body['response_format'] = { type: 'json_object' };
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.opts.apiKey) headers['authorization'] = `Bearer ${this.opts.apiKey}`;
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const both = AbortSignal.any([signal, timeout]);
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const res = await fetch(this.opts.url, { method: 'POST', headers, body: JSON.stringify(body), signal: both });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      text = await res.text();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (timeout.aborted) return { ok: false, failure: { reason: 'timeout', detail: `no answer within ${this.opts.timeoutMs} ms` } };
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      return { ok: false, failure: { reason: 'network-error', detail: this.scrub(cause?.code ?? cause?.message ?? (err as Error).message) } };
    }
    if (status === 429) return { ok: false, failure: { reason: 'rate-limited', detail: 'HTTP 429', retryAfterMs: parseRetryAfterMs(retryAfter) } };
    if (status >= 500 || status === 408) return { ok: false, failure: { reason: 'server-error', detail: `HTTP ${status}: ${this.scrub(text)}`, retryAfterMs: parseRetryAfterMs(retryAfter) } };
    if (status === 401 || status === 403 || status === 404) throw new LlmEndpointError(this.opts.url, status, this.scrub(text));
    if (status === 400 && jsonMode && /response_format/i.test(text)) {
      this.jsonMode = false;
      return { ok: false, failure: 'json-mode-dropped' };
    }
    if (status < 200 || status >= 300) throw new LlmRequestError('http-error', `HTTP ${status}: ${this.scrub(text)}`, 1);
    let reply: ChatReply;
    try {
      reply = this.readCompletion(text, usage);
    } catch (err) {
      return { ok: false, failure: { reason: 'malformed-json', detail: `not a chat completion: ${(err as Error).message}` } };
    }
    try {
      return { ok: true, value: check(reply) };
    } catch (err) {
      if (err instanceof ReplyProblem) return { ok: false, failure: { reason: err.reason, detail: this.scrub(err.message) } };
      throw err;
    }
  }

  /** The first choice of a completion body; adds its usage to `usage`. */
  private readCompletion(text: string, usage: TokenUsage): ChatReply {
    const json = JSON.parse(text) as unknown;
    if (typeof json !== 'object' || json === null) throw new Error('body is not an object');
    const u = (json as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } }).usage;
    const add: TokenUsage = {
      promptTokens: typeof u?.prompt_tokens === 'number' ? u.prompt_tokens : 0,
      completionTokens: typeof u?.completion_tokens === 'number' ? u.completion_tokens : 0,
    };
    usage.promptTokens += add.promptTokens;
    usage.completionTokens += add.completionTokens;
    this.opts.onUsage?.(add);
    const choice = (json as { choices?: unknown }).choices;
    const first = Array.isArray(choice) ? (choice[0] as { message?: { content?: unknown; refusal?: unknown }; finish_reason?: unknown } | undefined) : undefined;
    if (!first || typeof first.message !== 'object' || first.message === null) throw new Error('no choices[0].message');
    const content = first.message.content;
    return {
      content: typeof content === 'string' ? content : '',
      finishReason: typeof first.finish_reason === 'string' ? first.finish_reason : null,
      refusal: typeof first.message.refusal === 'string' && first.message.refusal !== '' ? first.message.refusal : null,
    };
  }
}
