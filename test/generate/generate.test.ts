// `ablate data generate` end to end against the scripted OpenAI-compatible server: the output
// holds exactly the good questions, every rejection carries its reason, the files do not depend
// on concurrency, a killed run resumed equals an uninterrupted one byte for byte, and the API
// key reaches the server but no file or log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ablateCommand, UsageError } from '../../common/mod.js';
import { readQuestionsCsv } from '../../trainer/data/mod.js';
import { generateQuestions, GenerateOptionError, ResumeMismatchError, type GenerateOptions, type SidecarRecord } from '../../trainer/generate/mod.js';
import { runCli, type CliResult } from '../support/cli.js';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server.js';
import { ACCEPTED_ROW, CASES, EXPECTED_REASON, newState, scenarioScript, TIMEOUT_S, writeInputs, type ScenarioState } from './scenario.js';

const SECRET = 'sk-test-SECRET-5f2c9e';
const KEY_ENV = 'ABLATE_TEST_GENERATE_KEY';
const LICENCE = 'Model licence: Example Community Licence v1 — outputs may be used for training.';

describe('ablate data generate against a scripted server', () => {
  let dir: string;
  let server: OpenAiServer;
  let state: ScenarioState;
  let inputs: ReturnType<typeof writeInputs>;
  let reference: { csv: Buffer; jsonl: Buffer; result: CliResult; callsFrom: number; callsTo: number };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ablate-generate-'));
    inputs = writeInputs(dir);
    state = newState();
    server = await startOpenAiServer((call) => scenarioScript(state)(call));
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const args = (out: string, concurrency: number) => [
    'data', 'generate',
    '--endpoint', server.url,
    '--model', 'scripted-model',
    '--api-key-env', KEY_ENV,
    '--examples', inputs.examples,
    '--shots', '2',
    '--context', inputs.context,
    '--dedupe-against', inputs.reference,
    '--n', '7',
    '--max-requests', String(CASES.length),
    '--out', out,
    '--concurrency', String(concurrency),
    '--max-retries', '2',
    '--seed', '11',
    '--verify',
    '--licence', LICENCE,
    '--request-timeout-s', String(TIMEOUT_S),
    '--backoff-s', '0.01',
    '--json',
    '--log-level', 'debug',
  ];
  const env = { [KEY_ENV]: SECRET };
  const sidecarOf = (out: string) => out.replace(/\.csv$/, '.jsonl');
  const records = (jsonl: string): SidecarRecord[] =>
    jsonl.trim().split('\n').slice(1).map((l) => JSON.parse(l) as SidecarRecord);

  test('keeps exactly the good questions and records the reason of every rejection', async () => {
    const out = join(dir, 'a', 'gen.csv');
    mkdirSync(join(dir, 'a'));
    const callsFrom = server.calls.length;
    const result = await runCli(args(out, 4), { env });
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as { accepted: number; rejected: number; requests: number; reasons: Record<string, number>; answerPositions: Record<string, number> };
    assert.equal(summary.accepted, 7);
    assert.equal(summary.requests, CASES.length);
    reference = { csv: readFileSync(out), jsonl: readFileSync(sidecarOf(out)), result, callsFrom, callsTo: server.calls.length };

    const set = await readQuestionsCsv(out, { requireAnswer: true });
    const goodCases = CASES.filter((c) => ACCEPTED_ROW[c]);
    assert.deepEqual(set.questions.map((q) => q.prompt), goodCases.map((c) => ACCEPTED_ROW[c]?.prompt));
    for (const [k, q] of set.questions.entries()) {
      const want = ACCEPTED_ROW[goodCases[k] as string];
      assert.ok(want);
      // Options are shuffled for balance, but the answer still names the same text.
      assert.equal(q.options[q.answer ?? -1], want[want.answer as 'A'], q.prompt);
      assert.deepEqual([...q.options].sort(), [want.A, want.B, want.C, want.D, want.E].sort());
      assert.equal(q.id, `gen-${String(CASES.indexOf(goodCases[k] as (typeof CASES)[number])).padStart(6, '0')}`);
    }
    const counts = Object.values(summary.answerPositions);
    assert.equal(counts.reduce((a, b) => a + b, 0), 7);
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `answer positions unbalanced: ${JSON.stringify(summary.answerPositions)}`);

    const recs = records(reference.jsonl.toString('utf8'));
    assert.deepEqual(recs.map((r) => r.index), CASES.map((_, i) => i));
    for (const r of recs) {
      const c = CASES[r.index] as string;
      assert.equal(r.status, EXPECTED_REASON[c] ? 'rejected' : 'accepted', `case ${c}: ${r.detail}`);
      assert.equal(r.reason, EXPECTED_REASON[c] ?? null, `case ${c}: ${r.detail}`);
      assert.equal(r.provenance.passageId, `p${r.index}`);
      assert.equal(r.provenance.model, 'scripted-model');
      assert.equal(r.provenance.endpointHost, new URL(server.url).host);
      assert.equal(r.provenance.licence, LICENCE);
      assert.match(r.provenance.promptSha256, /^[0-9a-f]{64}$/);
      assert.equal(r.provenance.shots.length, 2);
      if (r.status === 'accepted') assert.deepEqual(r.provenance.verification, { model: 'scripted-model', answer: r.question?.['answer'], agreed: true });
    }
    const byCase = (c: string) => recs[CASES.indexOf(c as (typeof CASES)[number])] as SidecarRecord;
    assert.equal(byCase('verify-disagree').provenance.verification?.agreed, false);
    assert.match(byCase('dup-of-good-1').detail ?? '', /generated question gen-000000/);
    assert.match(byCase('ref-dup').detail ?? '', /reference question reference\.csv:r1/);
    for (const [reason, n] of Object.entries(summary.reasons)) {
      assert.equal(n, Object.values(EXPECTED_REASON).filter((r) => r === reason).length, reason);
    }

    const calls = server.calls.slice(callsFrom);
    const gen = (c: string) => calls.filter((k) => k.body.messages?.at(-1)?.content.includes(`case:${c} `));
    // 429 with Retry-After: 1 — the retry waited the second the server asked for.
    const [first, second] = gen('rate-limit-once');
    assert.ok(first && second && second.atMs - first.atMs >= 900, `retry after ${String(second && first && second.atMs - first.atMs)} ms`);
    assert.equal(gen('always-slow').length, 3, 'a timeout is retried --max-retries times');
    assert.equal(gen('malformed').length, 3, 'malformed JSON is retried --max-retries times');
    assert.equal(gen('wrong-letter').length, 1, 'a failed quality check is not retried');
    assert.ok(calls.every((k) => k.body.response_format !== undefined && k.body.model === 'scripted-model'));
  });

  test('the API key reaches the server and nothing else', () => {
    const calls = server.calls.slice(reference.callsFrom, reference.callsTo);
    assert.ok(calls.length > CASES.length);
    for (const k of calls) assert.equal(k.headers['authorization'], `Bearer ${SECRET}`);
    for (const [what, text] of [
      ['stdout', reference.result.stdout],
      ['stderr', reference.result.stderr],
      ['csv', reference.csv.toString('utf8')],
      ['sidecar', reference.jsonl.toString('utf8')],
    ] as const) {
      assert.ok(!text.includes('SECRET-5f2c9e'), `the key appears in ${what}`);
    }
    // The echoing server's text did arrive, scrubbed.
    assert.match(reference.jsonl.toString('utf8'), /you sent Bearer \[redacted\]/);
  });

  /** The same run in this process (no CLI start-up), for the runs that compare files. */
  const options = (out: string, concurrency: number, extra: Partial<GenerateOptions> = {}): GenerateOptions => ({
    endpoint: server.url,
    model: 'scripted-model',
    apiKey: SECRET,
    examples: inputs.examples,
    shots: 2,
    context: inputs.context,
    dedupeAgainst: [inputs.reference],
    n: 7,
    maxRequests: CASES.length,
    out,
    concurrency,
    maxRetries: 2,
    seed: 11,
    verify: true,
    licence: LICENCE,
    requestTimeoutMs: TIMEOUT_S * 1000,
    backoffBaseMs: 10,
    ...extra,
  });
  const quiet = { log: pino({ level: 'silent' }) };

  test('the files do not depend on concurrency', async () => {
    state.attempts.clear();
    const out = join(dir, 'serial.csv');
    const summary = await generateQuestions(options(out, 1), quiet);
    assert.equal(summary.accepted, 7);
    assert.ok(readFileSync(out).equals(reference.csv), 'CSV differs between concurrency 1 and 4');
    assert.ok(readFileSync(sidecarOf(out)).equals(reference.jsonl), 'sidecar differs between concurrency 1 and 4');
  });

  test('a killed run resumed with --resume equals an uninterrupted run byte for byte', async () => {
    state.attempts.clear();
    state.generationCalls = 0;
    state.holdAfter = 12;
    const out = join(dir, 'killed.csv');
    const sidecar = sidecarOf(out);
    const [cmd, ...base] = ablateCommand();
    const child = spawn(cmd, [...base, ...args(out, 4)], { env: { ...process.env, ...env, ABLATE_LOG_FORMAT: 'json' }, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 30_000;
    const lines = () => {
      try {
        return readFileSync(sidecar, 'utf8').split('\n').length - 1;
      } catch {
        return 0;
      }
    };
    // Wait until the server holds further replies and the decided records stop growing, then kill.
    while (Date.now() < deadline && state.generationCalls <= state.holdAfter) await new Promise((r) => setTimeout(r, 50));
    for (let seen = -1; Date.now() < deadline && lines() !== seen; ) {
      seen = lines();
      await new Promise((r) => setTimeout(r, 500));
    }
    child.kill('SIGKILL');
    await exited;
    const decided = lines() - 1;
    assert.ok(decided >= 1 && decided < CASES.length, `killed after ${decided} decided requests`);
    // A crash in the middle of an append leaves half a line; resume must cut it away.
    appendFileSync(sidecar, '{"type":"question","index":');
    state.holdAfter = Infinity;
    server.release();

    const summary = await generateQuestions(options(out, 4, { resume: true }), quiet);
    assert.equal(summary.newRequests, CASES.length - decided);
    assert.ok(readFileSync(out).equals(reference.csv), 'resumed CSV differs from the uninterrupted one');
    assert.ok(readFileSync(sidecar).equals(reference.jsonl), 'resumed sidecar differs from the uninterrupted one');
  });

  test('--resume with other settings, or output that exists without --resume, is a usage error naming the field', async () => {
    const out = join(dir, 'serial.csv');
    const before = readFileSync(sidecarOf(out));
    await assert.rejects(generateQuestions(options(out, 4, { seed: 12, resume: true }), quiet), (err: unknown) => {
      assert.ok(err instanceof ResumeMismatchError && err instanceof UsageError);
      assert.equal(err.field, 'seed');
      assert.match(err.message, /seed: this run has 12, the file has 11/);
      return true;
    });
    await assert.rejects(generateQuestions(options(out, 4), quiet), (err: unknown) => {
      assert.ok(err instanceof GenerateOptionError && err instanceof UsageError);
      assert.match(err.message, /serial\.jsonl exists; pass --resume/);
      return true;
    });
    assert.ok(readFileSync(sidecarOf(out)).equals(before), 'a refused run must not touch the files');
  });

  test('--max-requests spent before --n accepted: the run keeps what it has and says so', async () => {
    state.attempts.clear();
    const out = join(dir, 'short.csv');
    const summary = await generateQuestions(options(out, 4, { maxRequests: 3 }), quiet);
    assert.deepEqual([summary.accepted, summary.requests, summary.rejected], [2, 3, 1]);
    assert.equal((await readQuestionsCsv(out)).questions.length, 2);
    // The command says so with exit status 1, so a script does not train on a short file unawares.
    state.attempts.clear();
    const cliOut = join(dir, 'short-cli.csv');
    const r = await runCli(args(cliOut, 1).map((a, i, all) => (all[i - 1] === '--max-requests' ? '1' : a)), { env });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /accepted 1 of 7 questions after 1 requests/);
    assert.equal((await readQuestionsCsv(cliOut)).questions.length, 1);
  });
});
