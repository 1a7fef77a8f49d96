// Public face of the data files: CSV reading/writing, question sets, prediction files.
export { parseCsv, parseCsvRecords, formatCsv, formatCsvField, columnName, type CsvRecord, type CsvTable } from './csv.js';
export { CsvFormatError, DataShapeError } from './errors.js';
export {
  readQuestionsCsv,
  readQuestionsFiles,
  parseQuestionsCsv,
  writeQuestionsCsv,
  DEFAULT_LETTERS,
  type Question,
  type QuestionSet,
  type ReadQuestionsOptions,
} from './questions.js';
export {
  writeProbabilitiesCsv,
  writeSubmissionCsv,
  readProbabilitiesCsv,
  readSubmissionCsv,
  readPredictionsCsv,
  readAnswersCsv,
  rankRow,
  DEFAULT_SUBMISSION_K,
  type ProbabilitiesFile,
  type SubmissionFile,
  type AnswersFile,
} from './predictions.js';
