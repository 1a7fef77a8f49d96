// The generator's parts on their own: Retry-After parsing, strict reply parsing, the quality
// checks' reasons, near-duplicate search, passage files, and the client's handling of servers
// that reject response_format or the credentials.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  ChatClient,
  checkQuestion,
  LlmEndpointError,
  LlmRequestError,
  parseRetryAfterMs,
  PassageFormatError,
  readPassages,
  ReplyProblem,
  replyObject,
  SimilarityIndex,
  verifyAnswer,
  type ChatReply,
} from '../../trainer/generate/mod.js';
import { completion, startOpenAiServer, type OpenAiServer } from '../support/openai-server.js';

const LETTERS = ['A', 'B', 'C', 'D', 'E'];
const BOUNDS = { minPromptChars: 10, maxPromptChars: 200, maxOptionChars: 50 };
const reply = (content: string, extra: Partial<ChatReply> = {}): ChatReply => ({ content, finishReason: 'stop', refusal: null, ...extra });
const problem = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    if (err instanceof ReplyProblem) return err.reason;
    throw err;
  }
  return 'none';
};

test('Retry-After: delay-seconds, an HTTP date, and nonsense', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfterMs('3', now), 3000);
  assert.equal(parseRetryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', now), 0, 'a date in the past means now');
  assert.equal(parseRetryAfterMs('soon', now), undefined);
  assert.equal(parseRetryAfterMs(null, now), undefined);
});

test('replies: a bare object or one fenced block parse; everything else is named', () => {
  assert.deepEqual(replyObject(reply('  {"prompt": "x"}\n')), { prompt: 'x' });
  assert.deepEqual(replyObject(reply('Sure:\n```json\n{"prompt": "y"}\n```')), { prompt: 'y' });
  assert.deepEqual(replyObject(reply('```\n{"prompt": "z"}\n```')), { prompt: 'z' });
  assert.equal(problem(() => replyObject(reply('Here: {"prompt": "x"}'))), 'malformed-json');
  assert.equal(problem(() => replyObject(reply('{"prompt": "x",}'))), 'malformed-json');
  assert.equal(problem(() => replyObject(reply('[1, 2]'))), 'malformed-json');
  assert.equal(problem(() => replyObject(reply('```json\n{"a":1}\n```\n```json\n{"b":2}\n```'))), 'malformed-json');
  assert.equal(problem(() => replyObject(reply('{"prompt": "x"}', { finishReason: 'length' }))), 'truncated', 'a cut-off reply is truncated even when it parses');
  assert.equal(problem(() => replyObject(reply('', { refusal: 'no' }))), 'refusal');
  assert.equal(problem(() => replyObject(reply('', { finishReason: 'content_filter' }))), 'refusal');
  assert.equal(problem(() => replyObject(reply('I cannot write that question.'))), 'refusal');
  assert.equal(verifyAnswer(reply('{"answer": " c "}'), LETTERS), 2);
  assert.equal(problem(() => verifyAnswer(reply('{"answer": "F"}'), LETTERS)), 'malformed-json');
});

test('quality checks: each failure gets its own reason, the first that applies', () => {
  const good = { prompt: 'Which planet has the largest mass?', A: 'Jupiter', B: 'Saturn', C: 'Mars', D: 'Venus', E: 'Mercury', answer: 'a' };
  const ok = checkQuestion(good, LETTERS, BOUNDS);
  assert.ok(ok.ok);
  assert.deepEqual(ok.question, { prompt: good.prompt, options: ['Jupiter', 'Saturn', 'Mars', 'Venus', 'Mercury'], answer: 0 });
  const reason = (change: Record<string, unknown>) => {
    const r = checkQuestion({ ...good, ...change }, LETTERS, BOUNDS);
    return r.ok ? 'ok' : r.reason;
  };
  assert.equal(reason({ E: undefined }), 'malformed-question');
  assert.equal(reason({ B: 7 }), 'malformed-question');
  assert.equal(reason({ C: '  ' }), 'options-invalid');
  assert.equal(reason({ D: 'jupiter!' }), 'options-invalid');
  assert.equal(reason({ answer: 'F' }), 'answer-letter-invalid');
  assert.equal(reason({ answer: 'AB' }), 'answer-letter-invalid');
  assert.equal(reason({ answer: 1 }), 'answer-letter-invalid');
  assert.equal(reason({ prompt: 'Which?' }), 'length-out-of-bounds');
  assert.equal(reason({ prompt: `Which ${'very '.repeat(50)}big planet?` }), 'length-out-of-bounds');
  assert.equal(reason({ E: 'x'.repeat(51) }), 'length-out-of-bounds');
  assert.equal(reason({ prompt: 'Which planet, Jupiter, has the largest mass?' }), 'answer-in-prompt');
  assert.equal(reason({ prompt: 'Is Jupiter or Saturn the planet with the largest mass?' }), 'ok', 'naming two options gives nothing away');
  assert.equal(reason({ prompt: 'Which planet has the largest mass, Jupiterian moons aside?' }), 'ok', 'whole words only');
});

test('near-duplicates: reworded copies are found, different questions are not', () => {
  const index = new SimilarityIndex(0.8);
  index.add('q1', 'What kind of animal is the horse? mammal', 'reference');
  index.add('q2', 'Which planet in our solar system has the most prominent ring system? Saturn', 'generated');
  for (let i = 0; i < 500; i++) index.add(`f${i}`, `Filler question number ${i} about topic ${i * 7} answer ${i}`, 'reference');
  const hit = index.findSimilar('What KIND of animal is the horse?? Mammal.', 'reference');
  assert.equal(hit?.id, 'q1');
  assert.equal(hit?.similarity, 1);
  assert.equal(index.findSimilar('What kind of animal is the horse? mammal', 'generated'), undefined, 'sources are searched separately');
  assert.equal(index.findSimilar('Which planet in the solar system has the most prominent ring system? Saturn', 'generated')?.id, 'q2');
  assert.equal(index.findSimilar('What is the chemical symbol for the element sodium? Na', 'reference'), undefined);
  assert.equal(index.findSimilar('What kind of animal is the spider? arachnid', 'reference'), undefined);
});

describe('passage files', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'ablate-passages-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('plain lines get line ids, JSONL keeps its ids, bad lines are named', async () => {
    const plain = join(dir, 'p.txt');
    writeFileSync(plain, 'First passage.\n\nSecond passage.\n');
    assert.deepEqual((await readPassages(plain)).items, [
      { id: 'L1', text: 'First passage.' },
      { id: 'L3', text: 'Second passage.' },
    ]);
    const jsonl = join(dir, 'p.jsonl');
    writeFileSync(jsonl, '{"id": "w-12", "text": "Gold is a metal."}\n{"text": "No id here."}\n');
    assert.deepEqual((await readPassages(jsonl)).items, [
      { id: 'w-12', text: 'Gold is a metal.' },
      { id: 'L2', text: 'No id here.' },
    ]);
    writeFileSync(jsonl, '{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n');
    await assert.rejects(readPassages(jsonl), (e: unknown) => e instanceof PassageFormatError && e.line === 2 && /duplicate passage id/.test(e.message));
    writeFileSync(jsonl, '{"id": "a", "text": "x"}\nnot json\n');
    await assert.rejects(readPassages(jsonl), (e: unknown) => e instanceof PassageFormatError && e.line === 2);
  });
});

describe('chat client', () => {
  let server: OpenAiServer;
  let mode: 'no-json-mode' | 'unauthorized' | 'bad-request';
  before(async () => {
    server = await startOpenAiServer((call) => {
      if (mode === 'unauthorized') return { kind: 'http', status: 401, body: `bad key ${String(call.headers['authorization'])}` };
      if (mode === 'bad-request') return { kind: 'http', status: 400, body: '{"error": "context length exceeded"}' };
      return call.body.response_format ? { kind: 'http', status: 400, body: '{"error": "response_format is not supported"}' } : completion('{"answer": "B"}');
    });
  });
  after(() => server.close());
  const client = () =>
    new ChatClient({ url: `${server.url}/chat/completions`, apiKey: 'k-SECRET', timeoutMs: 2000, maxRetries: 2, backoffBaseMs: 1, backoffMaxMs: 5, retryAfterMaxMs: 10, jsonMode: true });
  const log = pino({ level: 'silent' });
  const request = { model: 'm', messages: [{ role: 'user' as const, content: 'q' }], temperature: 0, maxTokens: 8 };

  test('a server without response_format is asked again without it, for the rest of the run', async () => {
    mode = 'no-json-mode';
    const c = client();
    const from = server.calls.length;
    const r = await c.complete(request, (x) => verifyAnswer(x, LETTERS), new AbortController().signal, log);
    assert.deepEqual([r.value, r.attempts], [1, 1]);
    await c.complete(request, (x) => verifyAnswer(x, LETTERS), new AbortController().signal, log);
    assert.deepEqual(server.calls.slice(from).map((k) => k.body.response_format !== undefined), [true, false, false]);
  });

  test('401 stops the run (no retries, key scrubbed); another 4xx rejects one request', async () => {
    mode = 'unauthorized';
    const from = server.calls.length;
    await assert.rejects(client().complete(request, (x) => x, new AbortController().signal, log), (e: unknown) => {
      assert.ok(e instanceof LlmEndpointError);
      assert.equal(e.status, 401);
      assert.ok(!e.message.includes('SECRET'), e.message);
      return true;
    });
    assert.equal(server.calls.length - from, 1);
    mode = 'bad-request';
    await assert.rejects(client().complete(request, (x) => x, new AbortController().signal, log), (e: unknown) => e instanceof LlmRequestError && e.reason === 'http-error' && e.attempts === 1);
  });
});
