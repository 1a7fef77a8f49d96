// `ablate data generate`: multiple-choice training questions written by an LLM behind any
// OpenAI-compatible chat-completions endpoint, few-shot from a Kaggle CSV, optionally grounded
// on passages, checked, verified and deduplicated, with a JSONL provenance sidecar. The API key
// is read from the environment variable `--api-key-env` names, never from the command line
// (where `ps` and shell history would show it).
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { UsageError } from '../../../common/mod.js';

interface GenerateArgs {
  endpoint: string;
  model: string;
  apiKeyEnv?: string;
  examples: string;
  shots: number;
  context?: string;
  topics?: string;
  n: number;
  out: string;
  concurrency: number;
  maxRetries: number;
  maxRequests?: number;
  seed: number;
  verify: boolean;
  verifyModel?: string;
  dedupeAgainst: string[];
  dedupeThreshold: number;
  licence: string;
  resume: boolean;
  idPrefix: string;
  temperature: number;
  maxTokens: number;
  jsonMode: boolean;
  requestTimeoutS: number;
  backoffS: number;
  retryAfterMaxS: number;
  minPromptChars: number;
  maxPromptChars: number;
  maxOptionChars: number;
  json: boolean;
}

/** Exit status of a run stopped by Ctrl-C, as shells report SIGINT. */
const EXIT_INTERRUPTED = 130;

const command: CommandModule<object, GenerateArgs> = {
  command: 'generate',
  describe: 'Generate multiple-choice training questions with an LLM (OpenAI-compatible endpoint)',
  builder: (y: Argv) =>
    y
      .option('endpoint', { type: 'string', demandOption: true, describe: 'OpenAI-compatible base URL (e.g. http://localhost:8000/v1) or its /chat/completions URL' })
      .option('model', { type: 'string', demandOption: true, describe: 'Model name sent with each request' })
      .option('api-key-env', { type: 'string', describe: 'Name of the environment variable holding the API key (sent as a Bearer token; never logged or written)' })
      .option('examples', { type: 'string', demandOption: true, describe: 'Few-shot examples: a Kaggle-format CSV with answers (also used as dedupe references)' })
      .option('shots', { type: 'number', default: 3, describe: 'Examples per request, sampled per request with the seed' })
      .option('context', { type: 'string', describe: 'Passages to ground questions on: one per line, or JSONL {"id","text"}; used in turn' })
      .option('topics', { type: 'string', describe: 'Topics, one per line; used in turn' })
      .option('n', { type: 'number', demandOption: true, describe: 'Questions to accept' })
      .option('out', { type: 'string', demandOption: true, describe: 'Output Kaggle CSV; the provenance sidecar is the same name with .jsonl' })
      .option('concurrency', { type: 'number', default: 4, describe: 'Requests in flight (the output does not depend on it)' })
      .option('max-retries', { type: 'number', default: 3, describe: 'Retries per request for 429/5xx, timeouts, malformed JSON, refusals, truncation' })
      .option('max-requests', { type: 'number', describe: 'Stop after this many requests (default: 3 × n + 10)' })
      .option('seed', { type: 'number', default: 0, describe: 'Seed for few-shot sampling, option shuffles and answer placement' })
      .option('verify', { type: 'boolean', default: false, describe: 'Ask for a blind answer to each question; keep it only when it agrees' })
      .option('verify-model', { type: 'string', describe: 'Model for --verify (default: --model)' })
      .option('dedupe-against', { type: 'string', array: true, default: [], describe: 'Question CSVs no generated question may nearly repeat (repeatable or comma-separated)' })
      .option('dedupe-threshold', { type: 'number', default: 0.8, describe: 'Character 5-gram Jaccard similarity that counts as a near-duplicate' })
      .option('licence', { type: 'string', default: '', describe: "The generating model's licence terms, recorded verbatim with every question" })
      .option('resume', { type: 'boolean', default: false, describe: 'Continue the run whose files are at --out (same settings required)' })
      .option('id-prefix', { type: 'string', default: 'gen-', describe: 'Prefix of generated question ids' })
      .option('temperature', { type: 'number', default: 0.7, describe: 'Sampling temperature of generation requests (verification uses 0)' })
      .option('max-tokens', { type: 'number', default: 1024, describe: 'max_tokens of generation requests' })
      .option('json-mode', { type: 'boolean', default: true, describe: 'Request response_format json_object (dropped automatically if the server rejects it)' })
      .option('request-timeout-s', { type: 'number', default: 120, describe: 'Timeout of one request attempt, seconds' })
      .option('backoff-s', { type: 'number', default: 1, describe: 'First retry delay, seconds; doubles per retry (with jitter), at most 60 s' })
      .option('retry-after-max-s', { type: 'number', default: 120, describe: "Longest server Retry-After honoured, seconds" })
      .option('min-prompt-chars', { type: 'number', default: 10, describe: 'Shortest accepted prompt' })
      .option('max-prompt-chars', { type: 'number', default: 2000, describe: 'Longest accepted prompt' })
      .option('max-option-chars', { type: 'number', default: 500, describe: 'Longest accepted option' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the run summary as JSON on stdout' })
      .example('$0 data generate --endpoint http://localhost:8000/v1 --model Qwen/Qwen2.5-7B-Instruct --examples train.csv --n 500 --out gen.csv', 'Few-shot generation against a local vLLM server')
      .example('$0 data generate --endpoint https://api.openai.com/v1 --model gpt-4o-mini --api-key-env OPENAI_API_KEY --examples train.csv --context passages.jsonl --verify --dedupe-against train.csv,val.csv --licence "OpenAI terms of use" --n 1000 --out gen.csv', 'Grounded, verified, deduplicated against the study data')
      .example('$0 data generate … --out gen.csv --resume', 'Continue an interrupted run (same flags plus --resume)') as unknown as Argv<GenerateArgs>,
  handler: async (args: ArgumentsCamelCase<GenerateArgs>) => {
    const g = await import('../../../trainer/generate/mod.js');
    let apiKey: string | undefined;
    if (args.apiKeyEnv !== undefined) {
      apiKey = process.env[args.apiKeyEnv];
      if (apiKey === undefined || apiKey === '') throw new UsageError(`--api-key-env ${args.apiKeyEnv}: the environment variable is not set or empty`);
    }
    const seconds = (flag: string, v: number) => {
      if (!Number.isFinite(v) || v < 0) throw new UsageError(`--${flag} must be a number of seconds ≥ 0, got ${String(v)}`);
      return v * 1000;
    };
    const controller = new AbortController();
    const onSigint = () => controller.abort(new Error('interrupted (SIGINT)'));
    process.once('SIGINT', onSigint);
    let summary;
    try {
      summary = await g.generateQuestions(
        {
          endpoint: args.endpoint,
          model: args.model,
          apiKey,
          examples: args.examples,
          shots: args.shots,
          context: args.context,
          topics: args.topics,
          n: args.n,
          out: args.out,
          concurrency: args.concurrency,
          maxRetries: args.maxRetries,
          maxRequests: args.maxRequests,
          seed: args.seed,
          verify: args.verify,
          verifyModel: args.verifyModel,
          dedupeAgainst: args.dedupeAgainst.flatMap((s) => s.split(',')).filter((s) => s !== ''),
          dedupeThreshold: args.dedupeThreshold,
          licence: args.licence,
          resume: args.resume,
          idPrefix: args.idPrefix,
          temperature: args.temperature,
          maxTokens: args.maxTokens,
          jsonMode: args.jsonMode,
          requestTimeoutMs: seconds('request-timeout-s', args.requestTimeoutS),
          backoffBaseMs: seconds('backoff-s', args.backoffS),
          backoffMaxMs: Math.max(60_000, seconds('backoff-s', args.backoffS)),
          retryAfterMaxMs: seconds('retry-after-max-s', args.retryAfterMaxS),
          minPromptChars: args.minPromptChars,
          maxPromptChars: args.maxPromptChars,
          maxOptionChars: args.maxOptionChars,
        },
        { signal: controller.signal },
      );
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
    if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (summary.interrupted) {
      process.exitCode = EXIT_INTERRUPTED;
      return;
    }
    if (summary.accepted < summary.wanted) throw new g.GenerateShortfallError(summary.accepted, summary.wanted, summary.requests, summary.out);
  },
};
export default command;
