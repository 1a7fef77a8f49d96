// `ablate score`: MAP@k of one prediction file against the answers, exactly as Kaggle scored it.
// Also exports `scorePredictionFile`, which `ablate compare` shares so both commands read and
// match files the same way.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { logger, UsageError } from '../../common/mod.js';
import type { AnswersFile } from '../../trainer/mod.js';

interface ScoreArgs {
  predictions: string;
  answers: string;
  k: number;
  json: boolean;
}

/** Per-question scores of a prediction file, in the answers file's order, plus what did not match. */
export interface ScoredFile {
  scores: Float64Array;
  mapAtK: number;
  /** Answer-file questions the predictions do not mention (scored 0). */
  missing: number;
}

/** `--k` as a positive integer, or a UsageError naming the flag. */
export function checkK(k: unknown): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) throw new UsageError(`--k must be a positive integer, got ${String(k)}`);
  return k;
}

/**
 * Reads a submission or probabilities file and scores it against `answers`. Ids the answers do not
 * know are reported on stderr and ignored; submission tokens in lowercase are reported because
 * they do not match (Kaggle compares letters exactly).
 */
export async function scorePredictionFile(path: string, answers: AnswersFile, k: number): Promise<ScoredFile> {
  const { readPredictionsCsv } = await import('../../trainer/mod.js');
  const agg = await import('../../controller/mod.js');
  const log = logger({ command: 'score', file: path });
  if (answers.ids.length === 0) throw new UsageError(`${answers.path}: no questions to score against`);
  const file = await readPredictionsCsv(path);
  let scores: Float64Array;
  let unknownIds: string[];
  let missing: number;
  if (file.kind === 'submission') {
    const aligned = agg.alignRankings(answers.ids, file.predictions);
    ({ unknownIds, missing } = aligned);
    scores = agg.perQuestionScores(aligned.predictions, answers.answers, k);
    const lowercase = aligned.predictions.filter((r, i) => {
      const top = r?.slice(0, k) ?? [];
      return !top.includes(answers.answers[i] ?? '') && top.some((t) => t.toUpperCase() === answers.answers[i]);
    }).length;
    if (lowercase > 0) {
      log.warn({ questions: lowercase }, `${lowercase} predictions name the answer only in lowercase; letters are compared exactly, as Kaggle does, so they score 0`);
    }
  } else {
    const index = answers.answers.map((a, i) => {
      const j = file.letters.indexOf(a);
      if (j < 0) throw new UsageError(`${answers.path}: answer ${a} of question ${answers.ids[i]} is not a column of ${path} (${file.letters.join(',')})`);
      return j;
    });
    const aligned = agg.alignProbabilities(answers.ids, file.ids, file.probs, file.letters.length);
    ({ unknownIds, missing } = aligned);
    scores = agg.perQuestionScores(aligned.predictions, index, k);
  }
  if (unknownIds.length > 0) {
    log.warn({ count: unknownIds.length, first: unknownIds.slice(0, 5) }, `${unknownIds.length} prediction ids are not in ${answers.path}; ignored`);
  }
  if (missing > 0) log.warn({ count: missing }, `${missing} questions have no prediction; they score 0`);
  return { scores, mapAtK: agg.mean(scores), missing };
}

const command: CommandModule<object, ScoreArgs> = {
  command: 'score',
  describe: 'MAP@k of a prediction file (submission or probabilities) against the answers',
  builder: (y: Argv) =>
    y
      .option('predictions', { type: 'string', demandOption: true, describe: 'Submission CSV (id,prediction) or probabilities CSV (id,A,B,…)' })
      .option('answers', { type: 'string', demandOption: true, describe: 'Question CSV with an answer column, or id,answer' })
      .option('k', { type: 'number', default: 3, describe: 'Cut-off: predictions past rank k are ignored' })
      .option('json', { type: 'boolean', default: false, describe: 'Print {"mapAtK","k","questions"} as JSON' })
      .example('$0 score --predictions submission.csv --answers val.csv', 'MAP@3 of a Kaggle submission')
      .example('$0 score --predictions runs/study/full-0.probabilities.csv --answers val.csv --json', 'MAP@3 of a probabilities file, as JSON') as unknown as Argv<ScoreArgs>,
  handler: async (args: ArgumentsCamelCase<ScoreArgs>) => {
    const k = checkK(args.k);
    const { readAnswersCsv } = await import('../../trainer/mod.js');
    const answers = await readAnswersCsv(args.answers);
    const scored = await scorePredictionFile(args.predictions, answers, k);
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ mapAtK: scored.mapAtK, k, questions: answers.ids.length })}\n`);
      return;
    }
    const note = scored.missing > 0 ? ` (${scored.missing} without a prediction, scored 0)` : '';
    process.stdout.write(`MAP@${k} ${scored.mapAtK.toFixed(4)} over ${answers.ids.length} questions${note}\n`);
  },
};
export default command;
