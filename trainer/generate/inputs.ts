// The generator's text inputs besides the examples: passages to ground questions on and topics.
// Passages are plain lines (id `L<line>`) or JSONL objects `{"id", "text"}`; a file is JSONL when
// its first non-blank line starts with "{". Blank lines are skipped in both.
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { PassageFormatError } from './errors.js';

export interface Passage {
  id: string;
  text: string;
}

export interface TextInput<T> {
  items: T[];
  sha256: string;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function lines(text: string): { line: number; value: string }[] {
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((value, i) => ({ line: i + 1, value }))
    .filter((l) => l.value.trim() !== '');
}

/** Reads a `--context` file. Ids must be unique, since each question records its passage's. */
export async function readPassages(path: string): Promise<TextInput<Passage>> {
  const bytes = await readFile(path);
  const all = lines(bytes.toString('utf8'));
  const jsonl = all[0]?.value.trimStart().startsWith('{') ?? false;
  const seen = new Map<string, number>();
  const items = all.map(({ line, value }) => {
    let p: Passage;
    if (jsonl) {
      let obj: unknown;
      try {
        obj = JSON.parse(value);
      } catch (err) {
        throw new PassageFormatError(path, line, value, `not JSON (the file is JSONL because its first line is): ${(err as Error).message}`, { cause: err });
      }
      const o = obj as { id?: unknown; text?: unknown };
      if (typeof obj !== 'object' || obj === null || typeof o.text !== 'string' || o.text.trim() === '') {
        throw new PassageFormatError(path, line, value, 'a JSONL passage needs a non-empty string "text"');
      }
      if (o.id !== undefined && typeof o.id !== 'string' && typeof o.id !== 'number') throw new PassageFormatError(path, line, value, '"id" must be a string or number');
      p = { id: o.id === undefined ? `L${line}` : String(o.id), text: o.text };
    } else {
      p = { id: `L${line}`, text: value.trim() };
    }
    const earlier = seen.get(p.id);
    if (earlier !== undefined) throw new PassageFormatError(path, line, p.id, `duplicate passage id (first on line ${earlier})`);
    seen.set(p.id, line);
    return p;
  });
  if (items.length === 0) throw new PassageFormatError(path, 1, '', 'no passages in the file');
  return { items, sha256: sha256Hex(bytes) };
}

/** Reads a `--topics` file: one topic a line. */
export async function readTopics(path: string): Promise<TextInput<string>> {
  const bytes = await readFile(path);
  const items = lines(bytes.toString('utf8')).map((l) => l.value.trim());
  if (items.length === 0) throw new PassageFormatError(path, 1, '', 'no topics in the file');
  return { items, sha256: sha256Hex(bytes) };
}
