// `ablate report DIR`: reprints a finished study's results table and rewrites its report.html
// from the results folder `ablate run` wrote (results.json plus each run's curves.json).
import type { CommandModule } from 'yargs';

interface Args {
  dir: string;
}

const command: CommandModule<object, Args> = {
  command: 'report <dir>',
  describe: "Print a study's results table and rewrite its report.html",
  builder: (y) =>
    y
      .positional('dir', { type: 'string', demandOption: true, describe: 'Results folder written by `ablate run` (holds results.json)' })
      .example('$0 report runs/science-exam', 'Print the table and rewrite runs/science-exam/report.html')
      .example('$0 report runs/science-exam --log-level warn', 'The same, with fewer log lines on stderr'),
  handler: async (args) => {
    const { writeReport } = await import('../../controller/mod.js');
    const written = await writeReport(args.dir);
    process.stdout.write(`${written.table}\nReport: ${written.path}\n`);
  },
};
export default command;
