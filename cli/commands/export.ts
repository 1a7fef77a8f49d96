// `ablate export DIR --ablation best|<name> --out DIR`: the saved models of one ablation (every
// seed, the set whose ensemble the study scored) copied out of a finished study, with a
// `manifest.json` saying what they are (job, ablation, seeds, validation MAP@k) and the sha256 of
// every file, so a copy moved elsewhere can be checked with `sha256sum`.
//
// The export is written under a temporary name and renamed into place: `--out` is either absent
// or complete. A FineTuneJob NAME (a cluster resource) is refused for now: its models live on the
// volume behind `spec.output.uri`, and the status does not yet carry their paths.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { cp, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { AblateError, logger, UsageError } from '../../common/mod.js';

/** The manifest's file name inside `--out`. */
export const MANIFEST_FILE = 'manifest.json';

/** A DNS label: what a FineTuneJob name looks like (api's DNS_LABEL_PATTERN, kept here so `--help` stays light). */
const RESOURCE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

interface ExportArgs {
  source: string;
  ablation: string;
  out: string;
  json: boolean;
}

/** What `manifest.json` holds. */
export interface ExportManifest {
  job: string;
  ablation: string;
  seeds: number[];
  /** The k of MAP@k. */
  k: number;
  /** How the study combined the seeds (`evaluation.ensemble`). */
  ensemble: string;
  /** Validation MAP@k of the seeds' ensemble, as the study scored it. */
  mapAtK: number | null;
  validation: { path: string; sha256: string; questions: number };
  /** One folder per seed, relative to the export folder, with that seed's own validation MAP@k. */
  models: Array<{ seed: number; path: string; mapAtK: number | null }>;
  /** Every copied file, relative to the export folder, sorted by path. */
  files: Array<{ path: string; bytes: number; sha256: string }>;
  /** ISO 8601 time of the export. */
  exportedAt: string;
}

/** The study lacks a saved model for some seed of the chosen ablation. */
export class ModelNotSavedError extends AblateError {
  constructor(
    readonly ablation: string,
    readonly seeds: number[],
    readonly resultsDir: string,
  ) {
    super(`${resultsDir}: ablation ${ablation} has no saved model for seed${seeds.length === 1 ? '' : 's'} ${seeds.join(', ')} (failed runs, or a study run before models were saved); exporting fewer seeds would not match the recorded MAP@k`);
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every file under `dir`, recursively, as paths relative to `root`. */
async function listFiles(dir: string, root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p, root)));
    else if (e.isFile()) out.push(relative(root, p));
  }
  return out;
}

/** Copies the ablation's models from the results folder `resultsDir` into `out`; returns the manifest written there. */
export async function exportAblation(resultsDir: string, ablationArg: string, out: string): Promise<ExportManifest> {
  const { readResults } = await import('../../controller/mod.js');
  const results = await readResults(resultsDir);
  const names = results.ablations.map((a) => a.name);
  let ablation = ablationArg;
  if (ablationArg === 'best') {
    if (results.best === null) throw new UsageError(`--ablation best: no ablation of ${resultsDir} has a score; name one of ${names.join(', ')}`);
    ablation = results.best.ablation;
  }
  const summary = results.ablations.find((a) => a.name === ablation);
  if (summary === undefined) throw new UsageError(`--ablation: ${ablation} is not an ablation of ${results.job}; use best or one of ${names.join(', ')}`);
  const runs = results.runs.filter((r) => r.ablation === ablation).sort((a, b) => a.seed - b.seed);
  const modelPath = (r: (typeof runs)[number]): string | undefined => (typeof r.model?.['path'] === 'string' ? r.model['path'] : undefined);
  const unsaved = runs.filter((r) => modelPath(r) === undefined).map((r) => r.seed);
  if (unsaved.length > 0 || runs.length === 0) throw new ModelNotSavedError(ablation, unsaved, resultsDir);

  const outExisting = await stat(out).catch(() => undefined);
  if (outExisting && (!outExisting.isDirectory() || (await readdir(out)).length > 0)) throw new UsageError(`--out: ${out} exists and is not an empty folder`);
  const tmp = `${resolve(out)}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  try {
    const models: ExportManifest['models'] = [];
    for (const r of runs) {
      const src = resolve(resultsDir, modelPath(r)!);
      const name = basename(src);
      await cp(src, join(tmp, name), { recursive: true, errorOnExist: true, force: false });
      models.push({ seed: r.seed, path: name, mapAtK: r.mapAtK });
    }
    const files: ExportManifest['files'] = [];
    for (const path of (await listFiles(tmp, tmp)).sort()) {
      const full = join(tmp, path);
      files.push({ path, bytes: (await stat(full)).size, sha256: await sha256File(full) });
    }
    const manifest: ExportManifest = {
      job: results.job,
      ablation,
      seeds: runs.map((r) => r.seed),
      k: results.k,
      ensemble: results.evaluation.ensemble,
      mapAtK: summary.ensembleMapAtK,
      validation: results.validation,
      models,
      files,
      exportedAt: new Date().toISOString(),
    };
    await writeFile(join(tmp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    if (outExisting) await rmdir(out);
    await rename(tmp, out);
    return manifest;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

const command: CommandModule<object, ExportArgs> = {
  command: 'export <source>',
  describe: "Copy one ablation's saved models (all seeds) out of a finished study, with a manifest of hashes",
  builder: (y: Argv) =>
    y
      .positional('source', { type: 'string', demandOption: true, describe: 'Results folder written by `ablate run` (holds results.json); a FineTuneJob NAME is not supported yet' })
      .option('ablation', { type: 'string', default: 'best', describe: 'Which ablation: best (highest ensemble MAP@k) or its name' })
      .option('out', { type: 'string', demandOption: true, describe: 'Folder to create (absent or empty): one sub-folder per seed plus manifest.json' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the manifest as JSON' })
      .example('$0 export runs/science-exam --ablation best --out export/best', 'The best ablation’s seeds with manifest.json')
      .example('$0 export runs/science-exam --ablation frozen-embeddings --out /models/frozen --json', 'A named ablation; the manifest on stdout') as unknown as Argv<ExportArgs>,
  handler: async (args: ArgumentsCamelCase<ExportArgs>) => {
    const isDir = (await stat(args.source).catch(() => undefined))?.isDirectory() === true;
    if (!isDir) {
      if (RESOURCE_NAME.test(args.source)) {
        throw new UsageError(
          `${args.source}: exporting a FineTuneJob from the cluster by name is not supported yet — its models are on the volume behind spec.output.uri and its status does not carry their paths; export from a results folder (ablate run's output), or copy <output uri>/${args.source}/<ablation>-seed<seed>/ from that volume`,
        );
      }
      throw new UsageError(`${args.source} is not a folder; name the results folder \`ablate run\` wrote`);
    }
    const manifest = await exportAblation(args.source, args.ablation, args.out);
    logger({ command: 'export', job: manifest.job, ablation: manifest.ablation }).info({ out: args.out, seeds: manifest.seeds, files: manifest.files.length }, `exported ${manifest.ablation} (${manifest.seeds.length} seeds) to ${args.out}`);
    if (args.json) {
      process.stdout.write(`${JSON.stringify(manifest)}\n`);
      return;
    }
    const score = manifest.mapAtK === null ? '' : `, validation MAP@${manifest.k} ${manifest.mapAtK.toFixed(4)}`;
    process.stdout.write(`${manifest.job}/${manifest.ablation}: seeds ${manifest.seeds.join(', ')}${score}\n${manifest.files.length} files → ${args.out} (${MANIFEST_FILE} lists their sha256)\n`);
  },
};
export default command;
