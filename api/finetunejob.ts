// FineTuneJob validation: the schema and its CEL rules (as the API server would run them, after
// defaulting), plus what only an offline check can see — matrix expansion (name collisions, the
// exact baseline name) and every ablation's merged training config.
import { resolveTraining } from './defaults.js';
import { expandAblations, matrixSize } from './matrix.js';
import { fineTuneJobSchema, MAX_RUNS, resolvedTrainingSchema } from './schema.js';
import { API_GROUP_VERSION, KIND, type Ablation, type FineTuneJobSpec, type Violation } from './types.js';
import { applySchemaDefaults, validateAgainstSchema } from './validate.js';

export interface FineTuneJobValidateOptions {
  /** The stored object, for an update: transition rules (immutability) run against it. */
  oldObject?: unknown;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Violations only expansion reveals; assumes the schema checks passed for spec.ablations. */
function offlineChecks(spec: FineTuneJobSpec, seen: Set<string>): Violation[] {
  const out: Violation[] = [];
  const add = (v: Violation): void => {
    const key = `${v.path}\u0000${v.rule}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(v);
  };
  const owners = new Map<string, number>();
  const expanded: Array<{ index: number; ablation: Ablation }> = [];
  spec.ablations.forEach((a, index) => {
    for (const e of expandAblations({ ablations: [a] })) expanded.push({ index, ablation: e });
  });
  for (const { index, ablation } of expanded) {
    const prev = owners.get(ablation.name);
    const here = `spec.ablations[${index}]`;
    if (prev !== undefined && prev !== index && spec.ablations[index]?.matrix !== undefined) {
      add({
        path: `${here}.matrix`,
        value: ablation.name,
        rule: 'matrix-expansion-unique',
        message: `expands to ablation name ${ablation.name}, which spec.ablations[${prev}] already has`,
        reason: 'FieldValueDuplicate',
      });
    } else if (prev !== undefined && prev !== index) {
      add({
        path: `${here}.name`,
        value: ablation.name,
        rule: 'matrix-expansion-unique',
        message: `ablation name ${ablation.name} is also a name the matrix of spec.ablations[${prev}] expands to`,
        reason: 'FieldValueDuplicate',
      });
    } else if (prev !== undefined) {
      add({
        path: `${here}.matrix`,
        value: ablation.name,
        rule: 'matrix-expansion-unique',
        message: `expands to ablation name ${ablation.name} twice (values that differ only in case or punctuation)`,
        reason: 'FieldValueDuplicate',
      });
    } else {
      owners.set(ablation.name, index);
    }
  }
  const runs = spec.ablations.reduce((n, a) => n + matrixSize(a), 0) * (spec.seeds?.length ?? 0);
  if (runs > MAX_RUNS) {
    add({ path: 'spec.ablations', value: runs, rule: 'max-runs', message: `ablations × seeds must be at most ${MAX_RUNS} runs, got ${runs}` });
  }
  const baseline = spec.evaluation?.baseline;
  if (baseline !== undefined && !owners.has(baseline)) {
    add({
      path: 'spec.evaluation.baseline',
      value: baseline,
      rule: 'baseline-names-ablation',
      message: `evaluation.baseline ${baseline} names no ablation (after matrix expansion: ${[...owners.keys()].join(', ')})`,
    });
  }
  // The overlay alone may be valid and the merge not (a matrix value of the wrong type, an
  // overlay's {value} next to a matrix's learningRate.base): check what the trainer will get.
  for (const { index, ablation } of expanded) {
    const source = spec.ablations[index];
    if (source?.training === undefined && source?.matrix === undefined) continue;
    const merged = resolveTraining(spec.training, ablation.training);
    for (const v of validateAgainstSchema(resolvedTrainingSchema, merged, { basePath: `spec.ablations[${index}].training` })) {
      add({ ...v, message: `${v.message} (ablation ${ablation.name}, merged over spec.training)` });
    }
  }
  return out;
}

/**
 * Every violation of a FineTuneJob object: apiVersion/kind, the schema with its CEL rules
 * (after the schema's defaults, as on admission), then the offline-only checks.
 */
export function validateFineTuneJob(obj: unknown, opts: FineTuneJobValidateOptions = {}): Violation[] {
  if (!isObject(obj)) {
    return [{ path: '', value: obj, rule: 'type', message: 'a FineTuneJob must be a mapping', reason: 'FieldValueTypeInvalid' }];
  }
  const out: Violation[] = [];
  if (obj['apiVersion'] !== API_GROUP_VERSION) {
    out.push({ path: 'apiVersion', value: obj['apiVersion'], rule: 'apiVersion', message: `must be ${API_GROUP_VERSION}`, reason: 'FieldValueNotSupported' });
  }
  if (obj['kind'] !== KIND) out.push({ path: 'kind', value: obj['kind'], rule: 'kind', message: `must be ${KIND}`, reason: 'FieldValueNotSupported' });
  const meta = obj['metadata'];
  if (!isObject(meta) || typeof meta['name'] !== 'string' || meta['name'] === '') {
    out.push({ path: 'metadata.name', value: isObject(meta) ? meta['name'] : undefined, rule: 'required', message: 'is required', reason: 'FieldValueRequired' });
  }
  const defaulted = applySchemaDefaults(fineTuneJobSchema, obj);
  const oldObject = opts.oldObject === undefined ? undefined : applySchemaDefaults(fineTuneJobSchema, opts.oldObject);
  out.push(...validateAgainstSchema(fineTuneJobSchema, defaulted, { oldObject }));
  // Expansion needs a well-formed list of ablations; otherwise the schema errors say it all.
  if (!out.some((v) => v.path.startsWith('spec.ablations') || v.path === 'spec' || v.path === 'spec.seeds' || v.path.startsWith('spec.training'))) {
    const seen = new Set(out.map((v) => `${v.path}\u0000${v.rule}`));
    // A CEL rule already reported the same place; don't say it twice.
    for (const v of out) if (v.path === 'spec.evaluation.baseline' || v.path === 'spec.ablations') seen.add(`${v.path}\u0000${v.path === 'spec.ablations' ? 'max-runs' : 'baseline-names-ablation'}`);
    out.push(...offlineChecks(defaulted.spec as FineTuneJobSpec, seen));
  }
  return out;
}
