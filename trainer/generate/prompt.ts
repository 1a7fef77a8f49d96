// The messages sent to the model. Few-shot examples go in as earlier turns of the conversation
// (the user asks, the assistant answers with the example as JSON), which instruction-tuned
// models follow more reliably than examples pasted into one message; the passage, when there
// is one, grounds the final request. The verification prompt shows the question without its
// answer and asks for a letter.
import type { ChatMessage } from './client.js';

export interface ExampleRow {
  prompt: string;
  options: string[];
  answer: number;
}

/** A question as the Kaggle row object `{"prompt","A",…,"answer"}`. */
export function rowObject(q: ExampleRow, letters: readonly string[]): Record<string, string> {
  const row: Record<string, string> = { prompt: q.prompt };
  letters.forEach((l, i) => (row[l] = q.options[i] ?? ''));
  row['answer'] = letters[q.answer] ?? '';
  return row;
}

function systemPrompt(letters: readonly string[]): string {
  const shape = `{"prompt": "...", ${letters.map((l) => `"${l}": "..."`).join(', ')}, "answer": "<one of ${letters.join(', ')}>"}`;
  return [
    'You write multiple-choice science exam questions.',
    `Reply with exactly one JSON object and nothing else, shaped like ${shape}.`,
    `Exactly one of the ${letters.length} options is correct; the others are plausible but wrong, and all options are different.`,
    'The question must not contain the text of its answer.',
  ].join(' ');
}

function request(passage: string | undefined, topic: string | undefined): string {
  const parts = ['Write one new question, different from the ones before.'];
  if (topic !== undefined) parts.push(`Topic: ${topic}`);
  if (passage !== undefined) parts.push(`Base the question on this passage and make it answerable from it:\n${passage}`);
  return parts.join('\n');
}

/** The conversation for one generation request. */
export function generationMessages(letters: readonly string[], shots: readonly ExampleRow[], passage: string | undefined, topic: string | undefined): ChatMessage[] {
  const messages: ChatMessage[] = [{ role: 'system', content: systemPrompt(letters) }];
  for (const s of shots) {
    messages.push({ role: 'user', content: request(undefined, undefined) });
    messages.push({ role: 'assistant', content: JSON.stringify(rowObject(s, letters)) });
  }
  messages.push({ role: 'user', content: request(passage, topic) });
  return messages;
}

/** The conversation for one blind verification request; `options` in the order shown. */
export function verificationMessages(letters: readonly string[], prompt: string, options: readonly string[]): ChatMessage[] {
  return [
    {
      role: 'system',
      content: `Answer the multiple-choice question. Reply with exactly one JSON object and nothing else: {"answer": "<one of ${letters.join(', ')}>"}.`,
    },
    { role: 'user', content: `${prompt}\n${options.map((o, i) => `${letters[i]}) ${o}`).join('\n')}` },
  ];
}
