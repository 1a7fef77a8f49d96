// One training run's configuration, as the local runtime and the Kubernetes controller hand it to
// `ablate trainer`: the (ablation, seed) pair with its fully merged training config, where the
// model and data are, where checkpoints and the saved model go, and how to reach the collector.
// Parsed strictly: an unknown key or a wrong type is an error naming the field.
import { readFile } from 'node:fs/promises';
import type { ResolvedTrainingConfig } from '../../api/mod.js';
import { AblateError } from '../../common/mod.js';

export type RunTransportConfig =
  /** NATS JetStream at `servers`, stream `stream` over subjects `<prefix>.>`. */
  | { kind: 'nats'; servers: string; stream: string; prefix: string }
  /** Messages go to the parent process over the Node IPC channel (local runs without NATS). */
  | { kind: 'ipc'; prefix: string };

export interface RunConfig {
  /** FineTuneJob name. */
  job: string;
  /** Kubernetes namespace, or `local` for `ablate run`. */
  namespace: string;
  ablation: string;
  seed: number;
  /** Identifies this run across attempts (the collector dedupes on `<runUid>.<attempt>.<chunk>`). */
  runUid: string;
  /** 1-based attempt number. */
  attempt: number;
  training: ResolvedTrainingConfig;
  /** A Hugging Face model directory (config.json, model.safetensors, spm.model or tokenizer.json). */
  model: { path: string; maxLength: number };
  data: { train: string[]; validation: string; validationSha256?: string };
  /** Checkpoints of this run; a later attempt resumes from the newest one here. */
  checkpointDir: string;
  /** Where the final model is saved (Hugging Face layout); none: not saved. */
  outputDir?: string;
  /** Where the training curve (every step) is written as JSON; none: not written. */
  curvesPath?: string;
  transport: RunTransportConfig;
  /** Seconds between progress messages. @default 2 */
  progressIntervalSeconds?: number;
}

/** The run configuration is missing, unreadable or malformed. */
export class RunConfigError extends AblateError {
  constructor(
    readonly field: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`run config: ${field}: ${reason} (value: ${JSON.stringify(value)})`);
  }
}

const TOP_KEYS = new Set(['job', 'namespace', 'ablation', 'seed', 'runUid', 'attempt', 'training', 'model', 'data', 'checkpointDir', 'outputDir', 'curvesPath', 'transport', 'progressIntervalSeconds']);

function str(o: Record<string, unknown>, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) throw new RunConfigError(`${where}${key}`, v, 'must be a non-empty string');
  return v;
}

function int(o: Record<string, unknown>, key: string, where: string, min: number): number {
  const v = o[key];
  if (!Number.isSafeInteger(v) || (v as number) < min) throw new RunConfigError(`${where}${key}`, v, `must be an integer ≥ ${min}`);
  return v as number;
}

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RunConfigError(field, v, 'must be an object');
  return v as Record<string, unknown>;
}

function onlyKeys(o: Record<string, unknown>, allowed: string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new RunConfigError(`${where}${k}`, o[k], `unknown key (allowed: ${allowed.join(', ')})`);
}

/** Checks a parsed run configuration; the training config is trusted to come from `expandRuns`. */
export function parseRunConfig(json: unknown): RunConfig {
  const o = obj(json, '(top level)');
  for (const k of Object.keys(o)) if (!TOP_KEYS.has(k)) throw new RunConfigError(k, o[k], `unknown key (allowed: ${[...TOP_KEYS].join(', ')})`);
  const model = obj(o['model'], 'model');
  onlyKeys(model, ['path', 'maxLength'], 'model.');
  const data = obj(o['data'], 'data');
  onlyKeys(data, ['train', 'validation', 'validationSha256'], 'data.');
  const train = data['train'];
  if (!Array.isArray(train) || train.length === 0 || train.some((p) => typeof p !== 'string' || p.length === 0)) {
    throw new RunConfigError('data.train', train, 'must be a non-empty list of file paths');
  }
  const transport = obj(o['transport'], 'transport');
  let t: RunTransportConfig;
  if (transport['kind'] === 'nats') {
    onlyKeys(transport, ['kind', 'servers', 'stream', 'prefix'], 'transport.');
    t = { kind: 'nats', servers: str(transport, 'servers', 'transport.'), stream: str(transport, 'stream', 'transport.'), prefix: str(transport, 'prefix', 'transport.') };
  } else if (transport['kind'] === 'ipc') {
    onlyKeys(transport, ['kind', 'prefix'], 'transport.');
    t = { kind: 'ipc', prefix: str(transport, 'prefix', 'transport.') };
  } else {
    throw new RunConfigError('transport.kind', transport['kind'], "must be 'nats' or 'ipc'");
  }
  const training = obj(o['training'], 'training') as unknown as ResolvedTrainingConfig;
  const seed = o['seed'];
  if (!Number.isSafeInteger(seed)) throw new RunConfigError('seed', seed, 'must be an integer');
  const cfg: RunConfig = {
    job: str(o, 'job', ''),
    namespace: str(o, 'namespace', ''),
    ablation: str(o, 'ablation', ''),
    seed: seed as number,
    runUid: str(o, 'runUid', ''),
    attempt: int(o, 'attempt', '', 1),
    training,
    model: { path: str(model, 'path', 'model.'), maxLength: int(model, 'maxLength', 'model.', 8) },
    data: { train: train as string[], validation: str(data, 'validation', 'data.') },
    checkpointDir: str(o, 'checkpointDir', ''),
    transport: t,
  };
  if (data['validationSha256'] !== undefined) cfg.data.validationSha256 = str(data, 'validationSha256', 'data.');
  if (o['outputDir'] !== undefined) cfg.outputDir = str(o, 'outputDir', '');
  if (o['curvesPath'] !== undefined) cfg.curvesPath = str(o, 'curvesPath', '');
  if (o['progressIntervalSeconds'] !== undefined) {
    const v = o['progressIntervalSeconds'];
    if (typeof v !== 'number' || !(v > 0)) throw new RunConfigError('progressIntervalSeconds', v, 'must be a number > 0');
    cfg.progressIntervalSeconds = v;
  }
  return cfg;
}

/** Reads a run configuration from a JSON file. */
export async function readRunConfig(path: string): Promise<RunConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new RunConfigError('(file)', path, `cannot read: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new RunConfigError('(file)', path, `not JSON: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  return parseRunConfig(json);
}
