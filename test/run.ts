// The test suite's single entry: imports every `*.test.ts` under test/ into one process, so the
// suite pays tsx's start-up once (node 20 would otherwise start one process per file).
// `node --import tsx --test-reporter=spec test/run.ts [substring...]` runs only the files whose
// path contains one of the substrings.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

function findTests(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

// In-process runtimes log at info; keep the suite's output to warnings unless asked otherwise.
process.env['ABLATE_LOG_LEVEL'] ??= 'warn';

const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const files = findTests(root).filter(
  (f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)),
);
if (files.length === 0) throw new Error(`no test files match ${JSON.stringify(filters)} under ${root}`);
for (const file of files) await import(pathToFileURL(file).href);
