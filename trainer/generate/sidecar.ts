// The JSONL sidecar next to the output CSV: the run's journal. Line 1 is a header with every
// setting that shapes the output; then one record per request, in request order, accepted or
// rejected, appended as each is decided. The sidecar is the source of truth for `--resume`: the
// CSV is rewritten from its accepted records. A process killed mid-append leaves a last line
// without its newline; reading drops it (and the writer truncates it away) so the request is
// simply asked again. Nothing time- or machine-dependent is recorded, so an interrupted and
// resumed run writes the same bytes as an uninterrupted one.
import { readFile } from 'node:fs/promises';
import { SidecarFormatError } from './errors.js';
import { REJECT_REASONS, type RejectReason } from './reasons.js';

export const SIDECAR_VERSION = 1;

/**
 * Settings a resumed run must share with the run that wrote the sidecar. The endpoint is not one
 * of them (a server may come back on another port); each record names the host it came from.
 */
export interface SidecarHeader {
  type: 'header';
  version: number;
  model: string;
  verifyModel: string | null;
  seed: number;
  shots: number;
  letters: string[];
  idPrefix: string;
  temperature: number;
  maxTokens: number;
  examples: { file: string; sha256: string };
  context: { file: string; sha256: string } | null;
  topics: { file: string; sha256: string } | null;
  dedupeAgainst: { file: string; sha256: string }[];
  dedupeThreshold: number;
  bounds: { minPromptChars: number; maxPromptChars: number; maxOptionChars: number };
  licence: string;
}

export interface Verification {
  model: string;
  /** The letter the blind answer named, in the lettering of `question`. */
  answer: string;
  agreed: boolean;
}

export interface Provenance {
  model: string;
  endpointHost: string;
  /** SHA-256 (hex) of the JSON of the generation request's messages. */
  promptSha256: string;
  passageId: string | null;
  topic: string | null;
  /** Ids of the few-shot examples, in prompt order. */
  shots: string[];
  verification: Verification | null;
  licence: string;
  /** Tokens of the request and its retries, as the server reported them. */
  usage: { promptTokens: number; completionTokens: number };
}

export interface SidecarRecord {
  type: 'question';
  /** Request index, from 0; the id is derived from it, so ids skip rejected requests. */
  index: number;
  status: 'accepted' | 'rejected';
  /** The CSV id of an accepted question. */
  id: string | null;
  reason: RejectReason | null;
  detail: string | null;
  /** The Kaggle row: final (options shuffled) when accepted, as generated when rejected; null when none parsed. */
  question: Record<string, string> | null;
  /** Accepted only: `optionOrder[j]` is the position the model gave the option now at position j. */
  optionOrder: number[] | null;
  provenance: Provenance;
}

export function formatSidecarLine(r: SidecarHeader | SidecarRecord): string {
  return `${JSON.stringify(r)}\n`;
}

export interface SidecarContents {
  header: SidecarHeader;
  records: SidecarRecord[];
  /** Bytes of complete lines; anything after is a partial line to cut off before appending. */
  completeBytes: number;
}

/** Reads a sidecar; undefined when the file is empty or holds only a partial first line. */
export async function readSidecar(path: string): Promise<SidecarContents | undefined> {
  const buf = await readFile(path);
  const end = buf.lastIndexOf(0x0a) + 1;
  const text = buf.subarray(0, end).toString('utf8');
  const rows = text.split('\n').slice(0, -1);
  if (rows.length === 0) return undefined;
  let header: SidecarHeader | undefined;
  const records: SidecarRecord[] = [];
  rows.forEach((row, i) => {
    const line = i + 1;
    let v: unknown;
    try {
      v = JSON.parse(row);
    } catch (err) {
      throw new SidecarFormatError(path, line, row, `not JSON: ${(err as Error).message}`, { cause: err });
    }
    const o = v as { type?: unknown; version?: unknown; index?: unknown; status?: unknown; reason?: unknown };
    if (line === 1) {
      if (o.type !== 'header') throw new SidecarFormatError(path, line, row, 'the first line must be the header record');
      if (o.version !== SIDECAR_VERSION) throw new SidecarFormatError(path, line, row, `sidecar version ${String(o.version)} is not ${SIDECAR_VERSION}`);
      header = v as SidecarHeader;
      return;
    }
    if (o.type !== 'question') throw new SidecarFormatError(path, line, row, 'expected a question record');
    if (o.index !== records.length) throw new SidecarFormatError(path, line, row, `expected request index ${records.length}, found ${String(o.index)}`);
    if (o.status !== 'accepted' && o.status !== 'rejected') throw new SidecarFormatError(path, line, row, 'status must be accepted or rejected');
    if (o.status === 'rejected' && !REJECT_REASONS.includes(o.reason as RejectReason)) throw new SidecarFormatError(path, line, row, `unknown reason ${JSON.stringify(o.reason)}`);
    records.push(v as SidecarRecord);
  });
  if (!header) return undefined;
  return { header, records, completeBytes: end };
}
