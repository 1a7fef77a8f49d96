#!/usr/bin/env node
// The `ablate` command. Every file in cli/commands/ default-exports one yargs command module;
// they are loaded here in file-name order, so adding a command means adding one file. Command
// modules import heavy parts (TF.js, NATS, the Kubernetes client) inside their handlers so that
// `ablate --help` stays fast.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadCommandDir } from './load.js';
import { configureLogger, describeError, LOG_LEVELS, UsageError } from '../common/mod.js';

export async function main(argv: string[]): Promise<void> {
  const commands = await loadCommandDir(new URL('./commands/', import.meta.url));
  let cli = yargs(argv)
    .scriptName('ablate')
    .usage('$0 <command> [options]\n\nFine-tuning ablation studies: every (ablation, seed) trained, seeds ensembled, gains tested.')
    .option('log-level', { choices: LOG_LEVELS, default: 'info', describe: 'Log verbosity (logs go to stderr)', global: true })
    .middleware((args) => {
      configureLogger(args['log-level'] as (typeof LOG_LEVELS)[number]);
    })
    .strict()
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err, y) => {
      if (err) throw err;
      void y;
      process.stderr.write(`ablate: ${msg}\nRun 'ablate --help' for usage.\n`);
      process.exit(2);
    })
    .help()
    .alias('h', 'help')
    .version();
  for (const c of commands) cli = cli.command(c);
  cli = cli.command('$0', false, () => {}, (args) => {
    const name = args._[0];
    throw new UsageError(name === undefined ? 'name a command; `ablate --help` lists them' : `unknown command '${String(name)}'; \`ablate --help\` lists them`);
  });
  await cli.parseAsync();
}

const isEntry = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === realpathSync(process.argv[1]);
if (isEntry) {
  try {
    await main(hideBin(process.argv));
  } catch (err) {
    process.stderr.write(`ablate: ${describeError(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}
