// The FineTuneJob OpenAPI v3 structural schema: the one definition the CRD, the offline
// validator and the dev API server all use. Defaults come from defaults.ts; every list and string
// is bounded so the API server's CEL cost estimator accepts the rules.
//
// Matrix ablations and CEL: the rules cannot expand a matrix by name, so (1) the run-count rule
// counts each matrix ablation by the product of its value-list sizes (exact), and (2) the
// baseline rule accepts a name that starts with `<matrix ablation name>-`; validateFineTuneJob
// then checks the exact expanded name and expansion collisions offline.
import {
  DEFAULT_ACTIVE_DEADLINE_SECONDS,
  DEFAULT_BACKEND,
  DEFAULT_BACKOFF_LIMIT,
  DEFAULT_BATCH_SIZE,
  DEFAULT_BOOTSTRAP_CONFIDENCE,
  DEFAULT_BOOTSTRAP_RESAMPLES,
  DEFAULT_BOOTSTRAP_SEED,
  DEFAULT_CHECKPOINT_EVERY_STEPS,
  DEFAULT_ENSEMBLE,
  DEFAULT_EPOCHS,
  DEFAULT_EVAL_BATCH_SIZE,
  DEFAULT_FREEZE_EMBEDDINGS,
  DEFAULT_FREEZE_EMBEDDINGS_SCOPE,
  DEFAULT_GRADIENT_ACCUMULATION_STEPS,
  DEFAULT_GRADIENT_CLIP_NORM,
  DEFAULT_HEAD_WARMUP,
  DEFAULT_K,
  DEFAULT_LAYERWISE_MIN_RATIO,
  DEFAULT_LEARNING_RATE,
  DEFAULT_MAX_LENGTH,
  DEFAULT_NUM_OPTIONS,
  DEFAULT_OPTIMIZER,
  DEFAULT_PARALLELISM,
  DEFAULT_SCHEDULE,
  DEFAULT_SEEDS,
  DEFAULT_SUSPEND,
  DEFAULT_WARMUP_RATIO,
} from './defaults.js';
import type { CelRule, SchemaNode } from './openapi.js';

/** DNS-1123 label. */
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** FineTuneJob and ablation names: child Job names are `<job>-<8-char hash>`, label values ≤ 63. */
export const MAX_NAME_LENGTH = 40;
/** Ablations × seeds (matrix ablations counted by their expansion). */
export const MAX_RUNS = 256;
export const MAX_ABLATIONS = 256;
export const MAX_SEEDS = 64;
/** Keys per matrix: the run-count rule multiplies at most this many list sizes. */
export const MAX_MATRIX_KEYS = 3;
export const MAX_MATRIX_VALUES = 16;
export const MAX_URI_LENGTH = 2048;
/** A 64-bit seed as JSON numbers allow exactly. */
const MAX_SEED = Number.MAX_SAFE_INTEGER;

const str = (maxLength: number, extra: SchemaNode = {}): SchemaNode => ({ type: 'string', maxLength, ...extra });
const int = (minimum: number, maximum: number, extra: SchemaNode = {}): SchemaNode => ({ type: 'integer', minimum, maximum, ...extra });
const num = (extra: SchemaNode = {}): SchemaNode => ({ type: 'number', ...extra });
const bool = (extra: SchemaNode = {}): SchemaNode => ({ type: 'boolean', ...extra });
const obj = (properties: Record<string, SchemaNode>, extra: SchemaNode = {}): SchemaNode => ({ type: 'object', properties, ...extra });
const arr = (items: SchemaNode, maxItems: number, extra: SchemaNode = {}): SchemaNode => ({ type: 'array', items, maxItems, ...extra });
const strEnum = (values: readonly string[], extra: SchemaNode = {}): SchemaNode => ({ type: 'string', enum: [...values], ...extra });
const strMap = (maxProperties: number, valueMax: number): SchemaNode => ({
  type: 'object',
  maxProperties,
  additionalProperties: str(valueMax),
});
/** A free-form Kubernetes object (a Volume, an Affinity): the API server validates it in the pod. */
const k8sObject = (extra: SchemaNode = {}): SchemaNode => ({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true, ...extra });

const URI_RULE: CelRule = {
  rule: "!self.matches('^[a-zA-Z][a-zA-Z0-9+.-]*:') || self.startsWith('file:')",
  messageExpression: "'only file: URIs and plain paths are supported, got ' + self",
};
const uri = (): SchemaNode => str(MAX_URI_LENGTH, { minLength: 1, 'x-kubernetes-validations': [URI_RULE] });
const sha256 = (): SchemaNode => str(64, { pattern: '^[a-f0-9]{64}$' });
const fileRef = (): SchemaNode => obj({ uri: uri(), sha256: sha256() }, { required: ['uri'] });

/**
 * The training settings. `withDefaults: true` gives spec.training (every field defaulted, so
 * the stored object is complete); `false` gives an ablation's overlay (only what it changes).
 */
function trainingSchema(withDefaults: boolean): SchemaNode {
  const d = (value: unknown): SchemaNode => (withDefaults ? { default: structuredClone(value) } : {});
  const learningRateRules: CelRule[] = withDefaults
    ? [
        { rule: 'has(self.value) != has(self.base)', message: 'learningRate takes exactly one form: {value} or {base, baseBatchSize, scaling}' },
        { rule: '!has(self.base) || has(self.baseBatchSize)', message: 'learningRate.base needs learningRate.baseBatchSize' },
        { rule: 'has(self.base) || (!has(self.baseBatchSize) && !has(self.scaling))', message: 'learningRate.baseBatchSize and scaling belong to the {base} form only' },
      ]
    : [{ rule: '!(has(self.value) && has(self.base))', message: 'learningRate takes exactly one form: {value} or {base, baseBatchSize, scaling}' }];
  const positiveRate = (): SchemaNode => num({ minimum: 0, exclusiveMinimum: true, maximum: 1 });
  const rules: CelRule[] = [];
  if (withDefaults) {
    rules.push({
      rule: '!has(self.batchSize) || !has(self.gradientAccumulationSteps) || self.batchSize % self.gradientAccumulationSteps == 0',
      messageExpression: "'batchSize ' + string(self.batchSize) + ' must be a multiple of gradientAccumulationSteps ' + string(self.gradientAccumulationSteps)",
      fieldPath: '.gradientAccumulationSteps',
    });
  }
  return obj(
    {
      epochs: int(1, 1000, d(DEFAULT_EPOCHS)),
      batchSize: int(1, 65_536, d(DEFAULT_BATCH_SIZE)),
      gradientAccumulationSteps: int(1, 1024, d(DEFAULT_GRADIENT_ACCUMULATION_STEPS)),
      learningRate: obj(
        {
          value: positiveRate(),
          base: positiveRate(),
          baseBatchSize: int(1, 1_000_000),
          scaling: strEnum(['linear', 'sqrt']),
        },
        { ...d(DEFAULT_LEARNING_RATE), 'x-kubernetes-validations': learningRateRules },
      ),
      warmupRatio: num({ minimum: 0, maximum: 1, ...d(DEFAULT_WARMUP_RATIO) }),
      schedule: strEnum(['linear', 'cosine', 'constant', 'warmup_linear'], d(DEFAULT_SCHEDULE)),
      optimizer: obj(
        {
          name: strEnum(['adamw'], d(DEFAULT_OPTIMIZER.name)),
          betas: arr(num({ minimum: 0, maximum: 1, exclusiveMaximum: true }), 2, { minItems: 2, ...d(DEFAULT_OPTIMIZER.betas) }),
          eps: num({ minimum: 0, exclusiveMinimum: true, maximum: 1, ...d(DEFAULT_OPTIMIZER.eps) }),
          weightDecay: num({ minimum: 0, maximum: 1, ...d(DEFAULT_OPTIMIZER.weightDecay) }),
        },
        d({}),
      ),
      gradientClipNorm: num({ minimum: 0, ...d(DEFAULT_GRADIENT_CLIP_NORM) }),
      headWarmup: obj(
        {
          steps: int(0, 1_000_000, d(DEFAULT_HEAD_WARMUP.steps)),
          learningRate: num({ minimum: 0, exclusiveMinimum: true, maximum: 1, ...d(DEFAULT_HEAD_WARMUP.learningRate) }),
        },
        d({}),
      ),
      freezeEmbeddings: bool(d(DEFAULT_FREEZE_EMBEDDINGS)),
      freezeEmbeddingsScope: strEnum(['word', 'all'], d(DEFAULT_FREEZE_EMBEDDINGS_SCOPE)),
      layerwiseLearningRate: obj(
        {
          schedule: strEnum(['cosine', 'geometric']),
          minRatio: num({ minimum: 0, exclusiveMinimum: true, maximum: 1, ...d(DEFAULT_LAYERWISE_MIN_RATIO) }),
          decay: num({ minimum: 0, exclusiveMinimum: true, maximum: 1 }),
        },
        {
          nullable: true,
          // An overlay may tweak minRatio alone; the merged config must name its schedule.
          ...(withDefaults ? { required: ['schedule'] } : {}),
          ...d(null),
          'x-kubernetes-validations': [
            { rule: "!has(self.decay) || !has(self.schedule) || self.schedule == 'geometric'", message: 'layerwiseLearningRate.decay applies to the geometric schedule only' },
            { rule: "!has(self.schedule) || self.schedule != 'geometric' || has(self.decay)", message: 'the geometric layerwiseLearningRate schedule needs decay' },
          ],
        },
      ),
      backend: strEnum(['auto', 'webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'], d(DEFAULT_BACKEND)),
      checkpointEverySteps: int(1, 1_000_000, d(DEFAULT_CHECKPOINT_EVERY_STEPS)),
      evalBatchSize: int(1, 65_536, d(DEFAULT_EVAL_BATCH_SIZE)),
      maxSteps: int(1, 100_000_000),
    },
    { ...d({}), ...(rules.length > 0 ? { 'x-kubernetes-validations': rules } : {}) },
  );
}

/** spec.training's schema (every field defaulted): also checks each ablation's merged config offline. */
export const resolvedTrainingSchema: SchemaNode = trainingSchema(true);

/** Every property path inside a schema node (`epochs`, `learningRate`, `learningRate.value`, …). */
export function propertyPaths(node: SchemaNode, prefix = ''): string[] {
  const out: string[] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    out.push(path, ...propertyPaths(child, path));
  }
  return out;
}

/** Training field paths a matrix may vary. */
export const MATRIX_KEYS: readonly string[] = propertyPaths(trainingSchema(false));

/** CEL: runs one ablation stands for (the product of its matrix's list sizes, at most 3 keys). */
function ablationRunsCel(a: string): string {
  const sizes = `${a}.matrix.map(k, size(${a}.matrix[k]))`;
  const factor = (i: number): string => `(size(${sizes}) > ${i} ? ${sizes}[${i}] : 1)`;
  const product = Array.from({ length: MAX_MATRIX_KEYS }, (_, i) => factor(i)).join(' * ');
  return `(has(${a}.matrix) ? ${product} : 1)`;
}
const RUN_COUNT_CEL = `self.ablations.map(a, ${ablationRunsCel('a')}).sum() * (has(self.seeds) ? size(self.seeds) : ${DEFAULT_SEEDS.length})`;

/** `data.train`: one file (`uri`) or several (`files`); also an ablation's own `data.train`. */
function trainDataSchema(): SchemaNode {
  return obj(
    { uri: uri(), sha256: sha256(), files: arr(fileRef(), 64, { minItems: 1 }) },
    {
      'x-kubernetes-validations': [
        { rule: 'has(self.uri) != has(self.files)', message: 'data.train takes exactly one of uri or files' },
        { rule: '!has(self.sha256) || has(self.uri)', message: 'data.train.sha256 pins the single uri; pin each of files instead' },
      ],
    },
  );
}

const ablationSchema: SchemaNode = obj(
  {
    name: str(MAX_NAME_LENGTH, { minLength: 1, pattern: DNS_LABEL_PATTERN }),
    description: str(1024),
    training: trainingSchema(false),
    data: obj({ train: trainDataSchema() }, { required: ['train'] }),
    matrix: {
      type: 'object',
      minProperties: 1,
      maxProperties: MAX_MATRIX_KEYS,
      additionalProperties: arr({ 'x-kubernetes-preserve-unknown-fields': true }, MAX_MATRIX_VALUES, { minItems: 1 }),
      'x-kubernetes-validations': [
        {
          rule: `self.all(k, k in ${JSON.stringify(MATRIX_KEYS).replace(/"/g, "'")})`,
          messageExpression: "'matrix keys must be training field paths (e.g. learningRate.value), got ' + self.filter(k, !(k in " +
            JSON.stringify(MATRIX_KEYS).replace(/"/g, "'") +
            ")).join(', ')",
        },
      ],
    },
  },
  { required: ['name'] },
);

const envVar: SchemaNode = obj(
  { name: str(256, { minLength: 1 }), value: str(32_768), valueFrom: k8sObject() },
  { required: ['name'] },
);
const quantity: SchemaNode = {
  'x-kubernetes-int-or-string': true,
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  maxLength: 64,
  pattern: '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
};
const resourceList: SchemaNode = { type: 'object', maxProperties: 32, additionalProperties: quantity };

const templateSchema: SchemaNode = obj({
  image: str(1024),
  resources: obj({ limits: resourceList, requests: resourceList }),
  env: arr(envVar, 128),
  volumes: arr(k8sObject({ required: ['name'], properties: { name: str(253) } }), 64),
  volumeMounts: arr(
    obj(
      { name: str(253, { minLength: 1 }), mountPath: str(4096, { minLength: 1 }), readOnly: bool(), subPath: str(4096) },
      { required: ['name', 'mountPath'] },
    ),
    64,
  ),
  nodeSelector: strMap(64, 253),
  tolerations: arr(
    obj({
      key: str(317),
      operator: strEnum(['Exists', 'Equal']),
      value: str(253),
      effect: strEnum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
      tolerationSeconds: int(0, Number.MAX_SAFE_INTEGER),
    }),
    64,
  ),
  affinity: k8sObject(),
  imagePullSecrets: arr(obj({ name: str(253, { minLength: 1 }) }, { required: ['name'] }), 16),
  priorityClassName: str(253, { nullable: true }),
});

/** spec fields that never change after creation (evaluation, execution.parallelism and suspend may). */
const IMMUTABLE_SPEC_FIELDS = ['model', 'data', 'output', 'training', 'ablations', 'seeds', 'template', 'scheduling'] as const;
const IMMUTABLE_EXECUTION_FIELDS = ['backoffLimit', 'activeDeadlineSeconds'] as const;

function unchanged(path: string): string {
  return `has(self.${path}) == has(oldSelf.${path}) && (!has(self.${path}) || self.${path} == oldSelf.${path})`;
}
const immutabilityRules: CelRule[] = [
  ...IMMUTABLE_SPEC_FIELDS.map((f) => ({
    rule: unchanged(f),
    message: `spec.${f} is immutable (only evaluation, execution.parallelism and suspend may change); create a new FineTuneJob`,
    fieldPath: `.${f}`,
  })),
  ...IMMUTABLE_EXECUTION_FIELDS.map((f) => ({
    rule: `!has(self.execution) || !has(oldSelf.execution) || (${unchanged(`execution.${f}`)})`,
    message: `spec.execution.${f} is immutable (only evaluation, execution.parallelism and suspend may change)`,
    fieldPath: `.execution.${f}`,
  })),
];

const NUM_OPTIONS_CEL = `(has(self.data.numOptions) ? self.data.numOptions : ${DEFAULT_NUM_OPTIONS})`;

const BASELINE_RULE: CelRule = {
  rule:
    '!has(self.evaluation) || !has(self.evaluation.baseline) || self.ablations.exists(a, has(a.matrix) ? ' +
    "self.evaluation.baseline.startsWith(a.name + '-') : a.name == self.evaluation.baseline)",
  messageExpression: "'evaluation.baseline ' + self.evaluation.baseline + ' names no ablation'",
  fieldPath: '.evaluation.baseline',
};

const specSchema: SchemaNode = obj(
  {
    model: obj({ uri: uri(), maxLength: int(8, 4096, { default: DEFAULT_MAX_LENGTH }) }, { required: ['uri'] }),
    data: obj(
      {
        train: trainDataSchema(),
        validation: fileRef(),
        numOptions: int(2, 26, { default: DEFAULT_NUM_OPTIONS }),
      },
      { required: ['train', 'validation'] },
    ),
    output: obj({ uri: uri() }, { required: ['uri'] }),
    training: resolvedTrainingSchema,
    ablations: arr(ablationSchema, MAX_ABLATIONS, {
      minItems: 1,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      'x-kubernetes-validations': [
        { rule: 'self.all(a, self.exists_one(b, b.name == a.name))', message: 'ablation names must be unique', reason: 'FieldValueDuplicate' },
      ],
    }),
    seeds: arr(int(0, MAX_SEED), MAX_SEEDS, {
      minItems: 1,
      default: [...DEFAULT_SEEDS],
      'x-kubernetes-list-type': 'set',
      'x-kubernetes-validations': [{ rule: 'self.all(s, self.exists_one(t, t == s))', message: 'seeds must be unique', reason: 'FieldValueDuplicate' }],
    }),
    execution: obj(
      {
        parallelism: int(1, MAX_RUNS, { default: DEFAULT_PARALLELISM }),
        backoffLimit: int(0, 100, { default: DEFAULT_BACKOFF_LIMIT }),
        activeDeadlineSeconds: int(1, 31_536_000, { default: DEFAULT_ACTIVE_DEADLINE_SECONDS }),
      },
      { default: {} },
    ),
    template: templateSchema,
    suspend: bool({ default: DEFAULT_SUSPEND }),
    scheduling: obj({ queueName: str(63, { nullable: true, pattern: DNS_LABEL_PATTERN }), priorityClassName: str(253, { nullable: true }) }),
    evaluation: obj(
      {
        k: int(1, 26, { default: DEFAULT_K }),
        ensemble: strEnum(['mean-probabilities'], { default: DEFAULT_ENSEMBLE }),
        baseline: str(63, { pattern: DNS_LABEL_PATTERN }),
        bootstrap: obj(
          {
            resamples: int(100, 1_000_000, { default: DEFAULT_BOOTSTRAP_RESAMPLES }),
            confidence: num({ minimum: 0.5, maximum: 1, exclusiveMaximum: true, default: DEFAULT_BOOTSTRAP_CONFIDENCE }),
            seed: int(0, MAX_SEED, { default: DEFAULT_BOOTSTRAP_SEED }),
            // No schema default (off when absent), so stored objects and results of existing specs do not change.
            resampleSeeds: bool({ description: 'Also report vsBaseline.seedAware: a bootstrap that resamples each ensemble\'s training seeds, then the questions (default off).' }),
          },
          { default: {} },
        ),
      },
      { default: {} },
    ),
  },
  {
    required: ['model', 'data', 'ablations'],
    'x-kubernetes-validations': [
      BASELINE_RULE,
      {
        rule: `${RUN_COUNT_CEL} <= ${MAX_RUNS}`,
        messageExpression: `'ablations × seeds must be at most ${MAX_RUNS} runs, got ' + string(${RUN_COUNT_CEL})`,
        fieldPath: '.ablations',
      },
      {
        rule: `!has(self.evaluation) || !has(self.evaluation.k) || self.evaluation.k <= ${NUM_OPTIONS_CEL}`,
        messageExpression: `'evaluation.k ' + string(self.evaluation.k) + ' exceeds data.numOptions ' + string(${NUM_OPTIONS_CEL})`,
        fieldPath: '.evaluation.k',
      },
      ...immutabilityRules,
    ],
  },
);

const conditionSchema: SchemaNode = obj(
  {
    type: str(316, { minLength: 1, pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$' }),
    status: strEnum(['True', 'False', 'Unknown']),
    observedGeneration: int(0, Number.MAX_SAFE_INTEGER),
    lastTransitionTime: { type: 'string', format: 'date-time' },
    reason: str(1024, { minLength: 1, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' }),
    message: str(32_768),
  },
  { required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'] },
);

const score = (): SchemaNode => num({ nullable: true });
const statusSchema: SchemaNode = obj({
  observedGeneration: int(0, Number.MAX_SAFE_INTEGER),
  phase: strEnum(['Pending', 'Running', 'Aggregating', 'Succeeded', 'Failed', 'Suspended']),
  progress: str(32),
  conditions: arr(conditionSchema, 16, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
  runs: arr(
    obj(
      {
        ablation: str(63),
        seed: int(0, MAX_SEED),
        jobName: str(63),
        phase: strEnum(['Pending', 'Running', 'Succeeded', 'Failed']),
        attempts: int(0, 1000),
        predictions: obj({ received: int(0, Number.MAX_SAFE_INTEGER), expected: int(0, Number.MAX_SAFE_INTEGER) }, { required: ['received', 'expected'] }),
        mapAtK: score(),
        message: str(4096),
      },
      { required: ['ablation', 'seed', 'phase', 'attempts'] },
    ),
    MAX_RUNS,
    { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['ablation', 'seed'] },
  ),
  ablations: arr(
    obj(
      {
        name: str(63),
        seeds: arr(int(0, MAX_SEED), MAX_SEEDS),
        seedMean: score(),
        seedStd: score(),
        ensembleMapAtK: score(),
        vsBaseline: obj(
          {
            delta: num(),
            ciLow: num(),
            ciHigh: num(),
            pValue: num({ minimum: 0, maximum: 1 }),
            pValueHolm: num({ minimum: 0, maximum: 1 }),
            minDetectable: num(),
            questionsNeeded: int(0, 2_147_483_647, { nullable: true }),
            seedAware: obj(
              {
                ciLow: num(),
                ciHigh: num(),
                pValue: num({ minimum: 0, maximum: 1 }),
                pValueHolm: num({ minimum: 0, maximum: 1 }),
              },
              { required: ['ciLow', 'ciHigh', 'pValue', 'pValueHolm'] },
            ),
          },
          { nullable: true, required: ['delta', 'ciLow', 'ciHigh', 'pValue'] },
        ),
      },
      { required: ['name', 'seeds'] },
    ),
    MAX_RUNS,
    { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
  ),
  best: obj({ ablation: str(63), ensembleMapAtK: num() }, { nullable: true, required: ['ablation', 'ensembleMapAtK'] }),
});

/** The schema of FineTuneJob v1alpha1 (the CRD's `openAPIV3Schema`). */
export const fineTuneJobSchema: SchemaNode = obj(
  {
    apiVersion: str(253),
    kind: str(63),
    metadata: { type: 'object' },
    spec: specSchema,
    status: statusSchema,
  },
  {
    required: ['spec'],
    'x-kubernetes-validations': [
      {
        rule: `!has(self.metadata.name) || size(self.metadata.name) <= ${MAX_NAME_LENGTH}`,
        message: `metadata.name must be at most ${MAX_NAME_LENGTH} characters (child Job names are <name>-<8-char hash>)`,
        fieldPath: '.metadata.name',
      },
      {
        rule: `!has(self.metadata.name) || self.metadata.name.matches('${DNS_LABEL_PATTERN}')`,
        message: 'metadata.name must be a DNS-1123 label (it is a NATS subject token)',
        fieldPath: '.metadata.name',
      },
    ],
  },
);
