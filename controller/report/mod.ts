// Public face of the study report: the results.json / curves.json shapes, the terminal table,
// the self-contained report.html, and reading/writing a results folder.
export type { StudyResults, EvaluationSettings, RunResult, AblationResult, ResultsComparison, RunCurves, CurvePoint } from './types.js';
export { renderTable, tableModel, formatScore, formatDelta, formatP, MISSING, FAILED, SEED_AWARE_LABEL, type TableModel, type TableRow, type SeedAwareCells } from './table.js';
export { renderReportHtml } from './html.js';
export { readResults, readCurves, writeReport, checkResults, checkCurves, RESULTS_FILE, REPORT_FILE, type WrittenReport } from './io.js';
export { ReportTargetError, ResultsNotFoundError, ResultsParseError, ResultsShapeError } from './errors.js';
