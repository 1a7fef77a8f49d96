// Public face of training-data generation (`ablate data generate`): questions written by an LLM
// behind any OpenAI-compatible endpoint, checked, verified, deduplicated, with provenance.
export { generateQuestions, type GenerateSummary, type GenerateHooks } from './generate.js';
export {
  compileGenerateOptions,
  sidecarPath,
  DEFAULT_SHOTS,
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_RETRIES,
  DEFAULT_SEED,
  DEFAULT_REQUESTS_PER_QUESTION,
  DEFAULT_TEMPERATURE,
  DEFAULT_MAX_TOKENS,
  DEFAULT_VERIFY_MAX_TOKENS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_RETRY_AFTER_MAX_MS,
  DEFAULT_DEDUPE_THRESHOLD,
  DEFAULT_ID_PREFIX,
  DEFAULT_MIN_PROMPT_CHARS,
  DEFAULT_MAX_PROMPT_CHARS,
  DEFAULT_MAX_OPTION_CHARS,
  type GenerateOptions,
  type CompiledGenerateOptions,
} from './options.js';
export { REJECT_REASONS, type RejectReason } from './reasons.js';
export {
  GenerateOptionError,
  PassageFormatError,
  SidecarFormatError,
  ResumeMismatchError,
  LlmEndpointError,
  LlmRequestError,
  GenerateShortfallError,
} from './errors.js';
export { ChatClient, ReplyProblem, parseRetryAfterMs, type ChatClientOptions, type ChatMessage, type ChatRequest, type ChatReply, type TokenUsage } from './client.js';
export { SimilarityIndex, jaccard, shingles, normalizeText, type SimilarMatch, type SimilaritySource } from './similarity.js';
export { readSidecar, SIDECAR_VERSION, type SidecarHeader, type SidecarRecord, type Provenance, type Verification } from './sidecar.js';
export { checkQuestion, type DraftQuestion, type LengthBounds } from './checks.js';
export { replyObject, verifyAnswer } from './parse.js';
export { readPassages, readTopics, type Passage, type TextInput } from './inputs.js';
