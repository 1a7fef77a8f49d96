// `ablate plan`: before training, how many validation questions a study needs to see a given
// MAP@k difference, and what a given number of questions can see (power analysis, issue #9).
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { UsageError } from '../../common/mod.js';

interface PlanArgs {
  questions: number;
  map: number;
  delta: number;
  correlation?: number;
  seeds?: number;
  seedStd?: number;
  options?: number;
  k?: number;
  alpha?: number;
  power?: number;
  json: boolean;
}

/** `seedStd` → `--seed-std`: errors name the flag the user typed. */
const flag = (field: string) => `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

const command: CommandModule<object, PlanArgs> = {
  command: 'plan',
  describe: 'Power analysis: questions needed to detect a MAP@k difference, and the smallest difference a study can detect',
  builder: (y: Argv) =>
    y
      .option('questions', { type: 'number', demandOption: true, describe: 'Validation questions available' })
      .option('map', { type: 'number', demandOption: true, describe: 'Expected baseline MAP@k, e.g. 0.74' })
      .option('delta', { type: 'number', demandOption: true, describe: 'Improvement to detect, e.g. 0.01' })
      .option('correlation', { type: 'number', describe: "Correlation of the two systems' per-question scores [default: 0.8]" })
      .option('seeds', { type: 'number', describe: 'Seeds per ablation (divides the seed noise) [default: 3]' })
      .option('seed-std', { type: 'number', describe: "Std of one seed's MAP@k across training seeds [default: 0, not modelled]" })
      .option('options', { type: 'number', describe: 'Options per question [default: 5]' })
      .option('k', { type: 'number', describe: 'Cut-off of MAP@k [default: 3]' })
      .option('alpha', { type: 'number', describe: 'Two-sided significance level [default: 0.05]' })
      .option('power', { type: 'number', describe: 'Wanted probability of detection [default: 0.8]' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the plan (numbers and assumptions) as JSON' })
      .example('$0 plan --questions 1000 --map 0.74 --delta 0.01', 'Can 1,000 questions show a 0.01 gain?')
      .example('$0 plan --questions 4000 --map 0.74 --delta 0.009 --seed-std 0.004 --seeds 5 --json', 'Include training-seed noise, as JSON') as unknown as Argv<PlanArgs>,
  handler: async (args: ArgumentsCamelCase<PlanArgs>) => {
    const { planStudy, AggregateInputError } = await import('../../controller/mod.js');
    let plan;
    try {
      plan = planStudy({
        questions: args.questions,
        map: args.map,
        delta: args.delta,
        correlation: args.correlation,
        seeds: args.seeds,
        seedStd: args.seedStd,
        options: args.options,
        k: args.k,
        alpha: args.alpha,
        power: args.power,
      });
    } catch (err) {
      // The usage message says all the cause would; chaining it would print the problem twice.
      if (err instanceof AggregateInputError) throw new UsageError(`${flag(err.field)} ${err.problem} (got ${String(err.value)})`);
      throw err;
    }
    if (args.json) {
      process.stdout.write(`${JSON.stringify(plan)}\n`);
      return;
    }
    const pw = `${Math.round(plan.power * 100)}%`;
    const need =
      plan.questionsNeeded === null
        ? `No number of questions detects ${plan.delta}: the seed noise alone is larger; add seeds.`
        : `To detect ${plan.delta} with ${pw} power you need about ${plan.questionsNeeded} questions.`;
    const lines = [
      need,
      `With ${plan.questions} questions: SE of the difference ${plan.se.toFixed(4)}; the smallest difference detected ${pw} of the time is ${plan.minDetectable.toFixed(4)}; a true difference of ${plan.delta} is detected ${(plan.achievedPower * 100).toFixed(0)}% of the time.`,
      'Assumptions:',
      ...plan.assumptions.map((a) => `  - ${a}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};
export default command;
