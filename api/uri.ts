// Where a spec's URIs point on this machine. Only local files are supported: `file:///abs/path`,
// `file:relative/path`, or a plain path; relative ones are relative to the job file's folder,
// so an example directory works wherever it is checked out.
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AblateError } from '../common/mod.js';

/** A URI whose scheme (or host) ablate cannot read. */
export class UnsupportedUriError extends AblateError {
  constructor(
    readonly uri: string,
    readonly reason: string,
  ) {
    super(`unsupported URI ${JSON.stringify(uri)}: ${reason}`);
  }
}

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;

/** The filesystem path `uri` names; relative forms resolve against `baseDir`. */
export function resolveUri(uri: string, baseDir: string): string {
  if (uri === '') throw new UnsupportedUriError(uri, 'empty');
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined) return isAbsolute(uri) ? uri : resolve(baseDir, uri);
  if (scheme !== 'file') throw new UnsupportedUriError(uri, `scheme ${scheme}: is not supported (use file:///absolute/path, file:relative/path or a plain path)`);
  const rest = uri.slice('file:'.length);
  if (rest.startsWith('//')) {
    try {
      return fileURLToPath(uri);
    } catch (err) {
      throw new UnsupportedUriError(uri, err instanceof Error ? err.message : String(err));
    }
  }
  return isAbsolute(rest) ? rest : resolve(baseDir, rest);
}
