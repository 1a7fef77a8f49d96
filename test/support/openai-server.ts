// A scripted OpenAI-compatible chat-completions server for tests (node:http on 127.0.0.1, a
// free port). Each request is handed to the test's script, which decides the reply: a chat
// completion (content, finish_reason, refusal, usage), an HTTP error with headers (429 with
// Retry-After), a delay (for timeouts), or a reply held until `release()`. Every request is
// recorded with its parsed body, Authorization header and arrival time.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatCall {
  /** The parsed JSON body (model, messages, response_format …). */
  body: { model?: string; messages?: { role: string; content: string }[]; [k: string]: unknown };
  headers: IncomingHttpHeaders;
  path: string;
  /** Milliseconds since the server started. */
  atMs: number;
}

export type ScriptedReply =
  | {
      kind: 'completion';
      content: string;
      finishReason?: string;
      refusal?: string;
      usage?: { prompt_tokens: number; completion_tokens: number };
      delayMs?: number;
    }
  | { kind: 'http'; status: number; headers?: Record<string, string>; body?: string; delayMs?: number }
  /** No answer until the test calls `release()` (or the server closes). */
  | { kind: 'hold' };

export type Script = (call: ChatCall) => ScriptedReply;

export interface OpenAiServer {
  /** Base URL, `http://127.0.0.1:<port>/v1`. */
  url: string;
  calls: ChatCall[];
  /** Answers every held request with what the script now says. */
  release(): void;
  close(): Promise<void>;
}

/** A chat-completion reply; usage defaults to 10 prompt and 5 completion tokens. */
export function completion(content: string, extra: Omit<Extract<ScriptedReply, { kind: 'completion' }>, 'kind' | 'content'> = {}): ScriptedReply {
  return { kind: 'completion', content, ...extra };
}

function send(res: ServerResponse, reply: Exclude<ScriptedReply, { kind: 'hold' }>): void {
  if (res.destroyed || res.writableEnded) return;
  if (reply.kind === 'http') {
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(reply.body ?? JSON.stringify({ error: { message: `scripted HTTP ${reply.status}` } }));
    return;
  }
  const body = {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 0,
    model: 'scripted',
    choices: [{ index: 0, message: { role: 'assistant', content: reply.content, refusal: reply.refusal ?? null }, finish_reason: reply.finishReason ?? 'stop' }],
    usage: reply.usage ?? { prompt_tokens: 10, completion_tokens: 5 },
  };
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startOpenAiServer(script: Script): Promise<OpenAiServer> {
  const calls: ChatCall[] = [];
  const held: { call: ChatCall; res: ServerResponse }[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const t0 = Date.now();
  const answer = (call: ChatCall, res: ServerResponse) => {
    const reply = script(call);
    if (reply.kind === 'hold') {
      held.push({ call, res });
      return;
    }
    if (reply.delayMs) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        send(res, reply);
      }, reply.delayMs);
      timers.add(timer);
    } else send(res, reply);
  };
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (raw += d));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        send(res, { kind: 'http', status: 404 });
        return;
      }
      let body: ChatCall['body'];
      try {
        body = JSON.parse(raw) as ChatCall['body'];
      } catch {
        send(res, { kind: 'http', status: 400, body: '{"error":{"message":"body is not JSON"}}' });
        return;
      }
      const call: ChatCall = { body, headers: req.headers, path: req.url, atMs: Date.now() - t0 };
      calls.push(call);
      answer(call, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let closed = false;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    calls,
    release() {
      for (const h of held.splice(0)) answer(h.call, h.res);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      for (const h of held.splice(0)) h.res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
