// `ablate compare`: is the candidate's MAP@k really different from the baseline's? A paired
// bootstrap over the questions (both files scored on the same resampled questions).
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { UsageError } from '../../common/mod.js';
import { checkK, scorePredictionFile } from './score.js';

interface CompareArgs {
  baseline: string;
  candidate: string;
  answers: string;
  k: number;
  resamples: number;
  seed: number;
  confidence: number;
  json: boolean;
}

const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;

const command: CommandModule<object, CompareArgs> = {
  command: 'compare',
  describe: 'Paired bootstrap of the MAP@k difference between two prediction files on the same questions',
  builder: (y: Argv) =>
    y
      .option('baseline', { type: 'string', demandOption: true, describe: 'Baseline predictions (submission or probabilities CSV)' })
      .option('candidate', { type: 'string', demandOption: true, describe: 'Candidate predictions (submission or probabilities CSV)' })
      .option('answers', { type: 'string', demandOption: true, describe: 'Question CSV with an answer column, or id,answer' })
      .option('k', { type: 'number', default: 3, describe: 'Cut-off of MAP@k' })
      .option('resamples', { type: 'number', default: 10000, describe: 'Bootstrap resamples' })
      .option('seed', { type: 'number', default: 0, describe: 'Seed of the resampling (same seed, same interval)' })
      .option('confidence', { type: 'number', default: 0.95, describe: 'Coverage of the confidence interval' })
      .option('json', { type: 'boolean', default: false, describe: 'Print {"delta","ciLow","ciHigh","pValue"} as JSON' })
      .example('$0 compare --baseline full.csv --candidate differential-lr.csv --answers val.csv', 'Δ MAP@3 with a 95% CI and a p-value')
      .example('$0 compare --baseline a.csv --candidate b.csv --answers val.csv --resamples 2000 --seed 7 --json', 'Fewer resamples, another seed, JSON') as unknown as Argv<CompareArgs>,
  handler: async (args: ArgumentsCamelCase<CompareArgs>) => {
    const k = checkK(args.k);
    if (!Number.isInteger(args.resamples) || args.resamples < 1) throw new UsageError(`--resamples must be a positive integer, got ${args.resamples}`);
    if (!Number.isInteger(args.seed)) throw new UsageError(`--seed must be an integer, got ${args.seed}`);
    if (!(args.confidence > 0 && args.confidence < 1)) throw new UsageError(`--confidence must be in (0, 1), got ${args.confidence}`);
    const { readAnswersCsv } = await import('../../trainer/mod.js');
    const { pairedBootstrap, powerAnalysis } = await import('../../controller/mod.js');
    const answers = await readAnswersCsv(args.answers);
    const base = await scorePredictionFile(args.baseline, answers, k);
    const cand = await scorePredictionFile(args.candidate, answers, k);
    const r = pairedBootstrap(base.scores, cand.scores, { resamples: args.resamples, seed: args.seed, confidence: args.confidence });
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ delta: r.delta, ciLow: r.ciLow, ciHigh: r.ciHigh, pValue: r.pValue })}\n`);
      return;
    }
    const pct = `${+(args.confidence * 100).toFixed(2)}%`;
    const verdict =
      r.ciLow > 0
        ? `The ${pct} CI excludes 0: the candidate is better than the baseline.`
        : r.ciHigh < 0
          ? `The ${pct} CI excludes 0: the candidate is worse than the baseline.`
          : `The ${pct} CI includes 0: these questions cannot tell the two apart.`;
    const lines = [
      `baseline   MAP@${k} ${base.mapAtK.toFixed(4)}  ${args.baseline}`,
      `candidate  MAP@${k} ${cand.mapAtK.toFixed(4)}  ${args.candidate}`,
      `delta ${signed(r.delta)}  ${pct} CI [${signed(r.ciLow)}, ${signed(r.ciHigh)}]  p = ${r.pValue.toPrecision(3)} (one-sided: candidate better; ${args.resamples} resamples, seed ${args.seed})`,
      verdict,
    ];
    if (answers.ids.length >= 2) {
      const p = powerAnalysis(base.scores, cand.scores);
      const need = p.questionsNeeded === null ? 'no number of questions resolves a delta of 0' : `about ${p.questionsNeeded} questions would detect a delta of this size 80% of the time`;
      lines.push(`Power: ${answers.ids.length} questions detect a difference of ${p.minDetectable.toFixed(4)} 80% of the time (alpha 0.05, two-sided); ${need}.`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};
export default command;
