// Shared fixture access for the tokenizer tests: the spm-tiny model and its reference encodings.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/spm-tiny/', import.meta.url));
export const SPM_PATH = `${FIXTURE_DIR}spm.model`;

export interface ExpectedPair {
  prompt: string;
  option: string;
  prompt_pieces: string[];
  option_pieces: string[];
  prompt_ids: number[];
  option_ids: number[];
  input_ids: number[];
  token_type_ids: number[];
  attention_mask: number[];
  truncation?: string;
  max_length?: number;
  num_tokens_removed_from_prompt?: number;
}

export interface Expected {
  special_tokens: Record<string, number>;
  vocab_size: number;
  pairs: ExpectedPair[];
}

export interface ReferenceCase {
  text: string;
  pieces: string[];
  ids: number[];
}

export const expected = JSON.parse(readFileSync(`${FIXTURE_DIR}expected.json`, 'utf8')) as Expected;
export const referenceCases = (JSON.parse(readFileSync(`${FIXTURE_DIR}spm-cases.json`, 'utf8')) as { cases: ReferenceCase[] }).cases;
export const spmBytes = (): Uint8Array => new Uint8Array(readFileSync(SPM_PATH));

/** A length no fixture pair reaches, for encodings that must not truncate. */
export const NO_TRUNCATION = 4096;
