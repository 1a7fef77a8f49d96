// Reading a model's reply strictly. A reply is either one JSON object and nothing else, or one
// fenced code block (```json … ```) holding one JSON object, with at most prose around the fence.
// Anything else is malformed, except a bare apology, which is a refusal. These checks run inside
// the client's retry loop: they throw ReplyProblem, and the request is asked again.
import { ReplyProblem, type ChatReply } from './client.js';

/** Typical openings of a declined request, for models that refuse in plain text. */
const REFUSAL = /^(?:i['’]m sorry|i am sorry|sorry\b|i can(?:not|['’]t)\b|i won['’]t\b|i am unable|i['’]m unable|i am not able|as an ai\b)/i;

const FENCE = /```[A-Za-z]*[ \t]*\r?\n([\s\S]*?)\r?\n?```/g;

/** The JSON object of a reply, or a ReplyProblem (refusal, truncated, malformed-json). */
export function replyObject(reply: ChatReply): Record<string, unknown> {
  if (reply.refusal !== null) throw new ReplyProblem('refusal', `refused: ${reply.refusal}`);
  if (reply.finishReason === 'content_filter') throw new ReplyProblem('refusal', 'finish_reason content_filter');
  // Checked before parsing: a cut-off reply can still hold a parsable prefix of the answer.
  if (reply.finishReason === 'length') throw new ReplyProblem('truncated', 'finish_reason length: the reply was cut off at max_tokens');
  const content = reply.content.trim();
  let source: string;
  if (content.startsWith('{')) {
    source = content;
  } else {
    const blocks = [...content.matchAll(FENCE)];
    if (blocks.length === 1 && blocks[0]?.[1] !== undefined) source = blocks[0][1].trim();
    else if (!content.includes('{') && REFUSAL.test(content)) throw new ReplyProblem('refusal', `refused: ${content}`);
    else throw new ReplyProblem('malformed-json', `${blocks.length > 1 ? 'several fenced blocks' : 'no JSON object'} in the reply: ${content}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (err) {
    throw new ReplyProblem('malformed-json', `${(err as Error).message}: ${source}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ReplyProblem('malformed-json', `not a JSON object: ${source}`);
  return value as Record<string, unknown>;
}

/**
 * The option index a verification reply names: `{"answer": "<letter>"}` with one of `letters`
 * (trimmed, any case). A reply naming no valid letter is malformed and asked again.
 */
export function verifyAnswer(reply: ChatReply, letters: readonly string[]): number {
  const obj = replyObject(reply);
  const a = obj['answer'];
  const index = typeof a === 'string' ? letters.indexOf(a.trim().toUpperCase()) : -1;
  if (index < 0) throw new ReplyProblem('malformed-json', `verification answer ${JSON.stringify(a)} is not one of ${letters.join(', ')}`);
  return index;
}
