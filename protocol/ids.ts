// The v2 form of a list of question ids: one string, the ids separated by newlines, each id with
// `\` written `\\` and a newline written `\n` (backslash, n). One JSON string parses and splits
// several times faster than a JSON array of 100,000 short strings (which V8 interns one by one),
// and the digest hashes it as it is, so neither side walks the ids one at a time.

/** Whether an id needs escaping (holds a backslash or a newline). */
function needsEscape(id: string): boolean {
  return id.includes('\\') || id.includes('\n');
}

function escapeId(id: string): string {
  return needsEscape(id) ? id.replace(/\\/g, '\\\\').replace(/\n/g, '\\n') : id;
}

/** `ids` in the v2 form: escaped, joined by newlines. */
export function encodeIds(ids: readonly string[]): string {
  const joined = ids.join('\n');
  // No backslash, and no newline but the separators: nothing to escape.
  if (!joined.includes('\\') && (ids.length === 0 || countIds(joined) === ids.length)) return joined;
  return ids.map(escapeId).join('\n');
}

/** Each id as it appears in `encodeIds(ids)` (escaped where needed), for sizing chunks. */
export function escapedIds(ids: readonly string[]): readonly string[] {
  return ids.some(needsEscape) ? ids.map(escapeId) : ids;
}

/** Rows an encoded id list holds: its newlines plus one. */
export function countIds(text: string): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Why an encoded id is not a valid one (empty, or an escape other than `\\` and `\n`); undefined when it is. */
export function idProblem(escaped: string): string | undefined {
  if (escaped === '') return 'must be a non-empty string';
  if (!/^(?:[^\\]|\\[\\n])*$/.test(escaped)) return 'has a backslash that does not start \\\\ or \\n';
  return undefined;
}

/** Whether the encoded list might hold an empty id or an escape (then check each with idProblem). */
export function mayHoldIdProblems(text: string): boolean {
  return text === '' || text.startsWith('\n') || text.endsWith('\n') || text.includes('\n\n') || text.includes('\\');
}

/** The ids of an encoded list (assumed valid: see idProblem). */
export function decodeIds(text: string): string[] {
  const parts = text.split('\n');
  if (!text.includes('\\')) return parts;
  return parts.map((p) => (p.includes('\\') ? p.replace(/\\([\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : '\\')) : p));
}
