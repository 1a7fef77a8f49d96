// Loads every command module in a folder (each file default-exports one yargs command), in
// file-name order. Used for the top level (cli/commands/) and for command groups such as
// `ablate model …` (cli/commands/model/), so that adding a command means adding one file.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CommandModule } from 'yargs';

export async function loadCommandDir(dirUrl: URL): Promise<CommandModule[]> {
  const dir = fileURLToPath(dirUrl);
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir)
    .filter((f) => (f.endsWith('.ts') && !f.endsWith('.d.ts')) || f.endsWith('.js'))
    .sort();
  const modules: CommandModule[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { default?: CommandModule };
    if (mod.default) modules.push(mod.default);
  }
  return modules;
}
