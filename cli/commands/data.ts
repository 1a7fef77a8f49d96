// `ablate data …`: training-data tools. Each subcommand is one file
// in cli/command./data/.
import type { CommandModule } from 'yargs';
import { loadCommandDir } from '../load.js';

const subcommands = await loadCommandDir(new URL('./data/', import.meta.url));

const command: CommandModule = {
  command: 'data <command>',
  describe: 'Make and check training data (LLM-generated questions)',
  builder: (y) => {
    for (const c of subcommands) y = y.command(c);
    return y.demandCommand(1, 'Name a data subcommand (ablate data --help)');
  },
  handler: () => {},
};
export default command;
