// How to start another `ablate` process (trainer children, tests): the built CLI when this code
// runs from dist/, the TypeScript source through tsx when it runs from source.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `[executable, ...args]` that runs the ablate CLI; append the subcommand and its flags. */
export function ablateCommand(): [string, ...string[]] {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) {
    return [process.execPath, fileURLToPath(new URL('../cli/main.js', import.meta.url))];
  }
  const source = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
  if (!existsSync(source)) throw new Error(`ablate CLI source not found at ${source}`);
  // `--import tsx` would resolve tsx from the child's cwd (a run or pod directory outside the
  // project), so pass the loader's absolute URL.
  return [process.execPath, '--import', import.meta.resolve('tsx'), source];
}
