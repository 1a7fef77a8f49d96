// Why a request produced no question. Each reason is one counter in the run's summary and the
// `reason` field of a rejected sidecar record; docs/data.md lists what each one means.

export const REJECT_REASONS = [
  // Transport: the request failed after its retries.
  'rate-limited', // HTTP 429 on every attempt
  'server-error', // HTTP 5xx on every attempt
  'http-error', // another HTTP status no retry fixes (400, 413, 422 …)
  'timeout', // no complete answer within the request timeout on every attempt
  'network-error', // connection refused or reset on every attempt
  // The answer: retried like transport failures, because a new sample may well be fine.
  'malformed-json', // no JSON object in the reply, or one that does not parse
  'refusal', // the model declined (a `refusal` field, a content filter, or a bare apology)
  'truncated', // finish_reason "length": the reply was cut off
  // Quality checks on a parsed question: not retried, the question is simply not kept.
  'malformed-question', // the JSON object lacks the prompt or an option, or a field is not a string
  'options-invalid', // an option is empty, or two options are the same text
  'answer-letter-invalid', // the answer is not one of the option letters
  'answer-in-prompt', // the correct option's text appears in the prompt and no other option's does
  'length-out-of-bounds', // prompt or an option is shorter or longer than the bounds
  'near-duplicate', // too similar to an accepted question or to a reference question
  // Verification (`--verify`).
  'verify-disagreed', // the blind answer names another option
  'verify-failed', // the verification request failed after its retries
] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];

/** A zeroed counter per reason, in the order above (so summaries list them the same way). */
export function emptyReasonCounts(): Record<RejectReason, number> {
  return Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
}
