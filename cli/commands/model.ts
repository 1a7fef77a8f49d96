// `ablate model …`: diagnostics on a DeBERTa-v3 checkpoint directory. Each subcommand is one file
// in cli/commands/model/.
import type { CommandModule } from 'yargs';
import { loadCommandDir } from '../load.js';

const subcommands = await loadCommandDir(new URL('./model/', import.meta.url));

const command: CommandModule = {
  command: 'model <command>',
  describe: 'Inspect, evaluate and overfit-check a DeBERTa-v3 checkpoint',
  builder: (y) => {
    for (const c of subcommands) y = y.command(c);
    return y.demandCommand(1, 'Name a model subcommand (ablate model --help)');
  },
  handler: () => {},
};
export default command;
