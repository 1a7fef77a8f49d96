// Finds and loads the tokenizer of a model directory (a Hugging Face checkpoint folder).
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TokenizerNotFoundError } from './errors.js';
import { loadSentencePiece } from './sentencepiece.js';
import { loadTokenizerJson } from './tokenizer-json.js';
import type { Tokenizer } from './tokenizer.js';

/** The files looked for, in order: the SentencePiece model is the reference DeBERTa-v3 ships, so it wins. */
export const TOKENIZER_FILES = ['spm.model', 'tokenizer.json'] as const;

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Loads `spm.model` or, failing that, `tokenizer.json` from `dir`. A path to either file itself
 * also works (a `.json` file is read as tokenizer.json, anything else as a SentencePiece model).
 */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  let path: string | undefined;
  if (await isFile(dir)) path = dir;
  else {
    for (const name of TOKENIZER_FILES) {
      if (await isFile(join(dir, name))) {
        path = join(dir, name);
        break;
      }
    }
  }
  if (path === undefined) throw new TokenizerNotFoundError(dir);
  if (path.endsWith('.json')) return loadTokenizerJson(await readFile(path, 'utf8'), path);
  return loadSentencePiece(new Uint8Array(await readFile(path)), path);
}
