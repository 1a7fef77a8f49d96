// The v2 form of a list of question ids: one string, the ids separated by newlines, each id with
// `\` written `\\` and a newline written `\n` (backslash, n). A v2 frame carries it as UTF-8 bytes,
// which the collector compares, counts and hashes as they are (no text is made of them unless the
// list is new to it), and splits once per distinct list instead of interning 100,000 strings a
// chunk as a JSON array would.

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

/** Rows an encoded id list holds: its newlines plus one. */
function countIds(text: string): number {
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

/** The ids of an encoded list, as a string or its UTF-8 bytes (assumed valid: see idProblem). */
export function decodeIds(encoded: string | Uint8Array): string[] {
  const text = typeof encoded === 'string' ? encoded : Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength).toString('utf8');
  const parts = text.split('\n');
  if (!text.includes('\\')) return parts;
  return parts.map((p) => (p.includes('\\') ? p.replace(/\\([\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : '\\')) : p));
}
