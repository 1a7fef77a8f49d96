// `ablate validate FILE...`: checks FineTuneJob files offline — the CRD schema with its CEL
// rules as the API server would run them, plus matrix expansion — before `ablate run` or
// `kubectl apply`.
import type { CommandModule } from 'yargs';
import type { FineTuneJobSpec } from '../../api/mod.js';

interface Args {
  files: string[];
  json: boolean;
}

interface DocumentReport {
  file: string;
  /** 1-based document number within the file. */
  document: number;
  valid: boolean;
  violations: Array<{ path: string; value: unknown; rule: string; message: string; reason?: string }>;
  /** Valid documents: ablations (after matrix expansion), seeds, runs. */
  runs?: { ablations: number; seeds: number; runs: number };
}

const command: CommandModule<object, Args> = {
  command: 'validate <files..>',
  describe: 'Check FineTuneJob files (YAML or JSON, multi-document) against the schema and its rules',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, demandOption: true, describe: 'FineTuneJob files' })
      .option('json', { type: 'boolean', default: false, describe: 'Print [{file, document, valid, violations}] on stdout' })
      .example('$0 validate examples/science-exam/finetunejob.yaml', 'Check one job file')
      .example('$0 validate --json jobs/*.yaml', 'Machine-readable report for many files') as never,
  handler: async (args) => {
    const api = await import('../../api/mod.js');
    const reports: DocumentReport[] = [];
    for (const file of args.files) {
      let documents: Array<{ index: number; value: unknown; errors: string[] }>;
      try {
        documents = api.parseResourceFile(file).documents;
      } catch (err) {
        const reason = err instanceof api.ResourceFileError && err.cause instanceof Error ? `cannot read: ${err.cause.message}` : String(err);
        reports.push({ file, document: 0, valid: false, violations: [{ path: '', value: undefined, rule: 'file', message: reason }] });
        continue;
      }
      if (documents.length === 0) {
        reports.push({ file, document: 0, valid: false, violations: [{ path: '', value: undefined, rule: 'file', message: 'no documents' }] });
      }
      for (const doc of documents) {
        const violations =
          doc.errors.length > 0
            ? doc.errors.map((message) => ({ path: '', value: undefined, rule: 'yaml', message }))
            : api.validateFineTuneJob(doc.value);
        const report: DocumentReport = { file, document: doc.index, valid: violations.length === 0, violations };
        if (report.valid) {
          const spec = api.withDefaults((doc.value as { spec: FineTuneJobSpec }).spec);
          const ablations = api.expandAblations(spec).length;
          report.runs = { ablations, seeds: spec.seeds.length, runs: ablations * spec.seeds.length };
        }
        reports.push(report);
      }
    }
    if (args.json) {
      process.stdout.write(`${JSON.stringify(reports.map(({ runs: _runs, ...r }) => r), null, 2)}\n`);
    } else {
      const multi = (file: string): boolean => reports.filter((r) => r.file === file).length > 1;
      for (const r of reports) {
        const where = multi(r.file) && r.document > 0 ? `${r.file}:doc ${r.document}` : r.file;
        if (r.valid && r.runs) {
          process.stdout.write(`${where}: valid (${r.runs.ablations} ablations × ${r.runs.seeds} seeds = ${r.runs.runs} runs)\n`);
        }
        for (const v of r.violations) {
          process.stdout.write(`${where}: ${v.path || '(root)'}: ${v.message} (value: ${JSON.stringify(v.value) ?? 'undefined'}, rule: ${v.rule})\n`);
        }
      }
    }
    if (reports.some((r) => !r.valid)) process.exitCode = 1;
  },
};
export default command;
