// Quality checks on one generated question, in a fixed order so each rejected question carries
// the first reason that applies: the object's shape, its options, its answer letter, lengths,
// and whether the prompt gives the answer away. Near-duplicates are checked by the generator
// (they depend on the other questions), and so is option-position balance.
import type { RejectReason } from './reasons.js';
import { normalizeText } from './similarity.js';

/** A generated question in the order the model wrote it. */
export interface DraftQuestion {
  prompt: string;
  options: string[];
  /** Index of the correct option. */
  answer: number;
}

export interface LengthBounds {
  minPromptChars: number;
  maxPromptChars: number;
  maxOptionChars: number;
}

export type CheckResult = { ok: true; question: DraftQuestion } | { ok: false; reason: RejectReason; detail: string };

function reject(reason: RejectReason, detail: string): CheckResult {
  return { ok: false, reason, detail };
}

/** Whole-word containment of normalised texts. */
function mentions(haystack: string, needle: string): boolean {
  return needle !== '' && ` ${haystack} `.includes(` ${needle} `);
}

/**
 * Checks the JSON object a model returned against the Kaggle row shape
 * `{"prompt", "A".., "answer"}` for `letters`. Strings only: a number where text belongs is a
 * malformed question, not something to coerce.
 */
export function checkQuestion(obj: Record<string, unknown>, letters: readonly string[], bounds: LengthBounds): CheckResult {
  const missing = ['prompt', ...letters].filter((k) => typeof obj[k] !== 'string');
  if (missing.length > 0) return reject('malformed-question', `field ${missing.map((k) => JSON.stringify(k)).join(', ')} missing or not a string`);
  const prompt = (obj['prompt'] as string).trim();
  const options = letters.map((l) => (obj[l] as string).trim());
  const empty = options.findIndex((o) => o === '');
  if (empty >= 0) return reject('options-invalid', `option ${letters[empty]} is empty`);
  const normalized = options.map(normalizeText);
  for (let i = 0; i < options.length; i++) {
    const j = normalized.indexOf(normalized[i] as string);
    if (j !== i) return reject('options-invalid', `options ${letters[j]} and ${letters[i]} are the same text ${JSON.stringify(options[i])}`);
  }
  const a = obj['answer'];
  const answer = typeof a === 'string' ? letters.indexOf(a.trim().toUpperCase()) : -1;
  if (answer < 0) return reject('answer-letter-invalid', `answer ${JSON.stringify(a)} is not one of ${letters.join(', ')}`);
  if (prompt.length < bounds.minPromptChars || prompt.length > bounds.maxPromptChars) {
    return reject('length-out-of-bounds', `prompt has ${prompt.length} characters, bounds [${bounds.minPromptChars}, ${bounds.maxPromptChars}]`);
  }
  const long = options.findIndex((o) => o.length > bounds.maxOptionChars);
  if (long >= 0) return reject('length-out-of-bounds', `option ${letters[long]} has ${options[long]?.length} characters, at most ${bounds.maxOptionChars}`);
  // The answer's text in the prompt gives it away only when no distractor appears there too:
  // "Is bromine a solid or a liquid?" names two options and reveals nothing.
  const p = normalizeText(prompt);
  const named = normalized.filter((o) => mentions(p, o)).length;
  if (mentions(p, normalized[answer] as string) && named === 1) {
    return reject('answer-in-prompt', `the prompt contains the answer ${JSON.stringify(options[answer])}`);
  }
  return { ok: true, question: { prompt, options, answer } };
}

/** The text near-duplicate search compares: the prompt and the correct option. */
export function dedupeText(prompt: string, answerText: string | undefined): string {
  return answerText === undefined ? prompt : `${prompt} ${answerText}`;
}
