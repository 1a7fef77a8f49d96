import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import {
  applySchemaDefaults,
  CelCompileError,
  compileCelRules,
  fineTuneJobSchema,
  InvalidResourceError,
  loadFineTuneJob,
  resolveUri,
  UnsupportedUriError,
  validateAgainstSchema,
  validateFineTuneJob,
  type SchemaNode,
} from '../../api/mod.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests change arbitrary fields of parsed YAML
type Doc = Record<string, any>;
const example = (): Doc => parse(readFileSync(new URL('../../examples/science-exam/finetunejob.yaml', import.meta.url), 'utf8'));

test('every CEL rule and message expression in the FineTuneJob schema compiles', () => {
  assert.ok(compileCelRules(fineTuneJobSchema) >= 10);
});

test('compileCelRules names a rule that does not compile, syntax or unknown function', () => {
  const bad = (rule: string): SchemaNode => ({ type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-validations': [{ rule }] } } });
  assert.throws(() => compileCelRules(bad('self.a ==')), (e: unknown) => e instanceof CelCompileError && e.path === 'spec' && /self\.a ==/.test(e.message));
  assert.throws(() => compileCelRules(bad('self.noSuchFunction()')), /unknown function noSuchFunction/);
});

test('the example job is valid', () => {
  assert.deepEqual(validateFineTuneJob(example()), []);
});

test('transition rules: a spec change is rejected given the old object, an evaluation change is allowed', () => {
  const old = example();
  const changed = example();
  changed.spec.seeds = [0, 1, 2, 3];
  changed.spec.training.epochs = 4;
  assert.deepEqual(validateFineTuneJob(changed), [], 'without an old object (create) the change is fine');
  const v = validateFineTuneJob(changed, { oldObject: old });
  assert.deepEqual(v.map((x) => x.path).sort(), ['spec.seeds', 'spec.training']);
  assert.match(v[0]!.message, /immutable/);

  const evaluation = example();
  evaluation.spec.evaluation.k = 2;
  evaluation.spec.evaluation.baseline = 'frozen-embeddings';
  evaluation.spec.execution.parallelism = 1;
  evaluation.spec.suspend = true;
  assert.deepEqual(validateFineTuneJob(evaluation, { oldObject: old }), []);

  const deadline = example();
  deadline.spec.execution.activeDeadlineSeconds = 60;
  assert.deepEqual(validateFineTuneJob(deadline, { oldObject: old }).map((x) => x.path), ['spec.execution.activeDeadlineSeconds']);
});

test('learningRate takes exactly one form, in spec.training and in an overlay', () => {
  const both = example();
  both.spec.training.learningRate = { value: 1e-5, base: 1e-4, baseBatchSize: 256 };
  assert.ok(validateFineTuneJob(both).some((v) => v.path === 'spec.training.learningRate' && /exactly one form/.test(v.message)));
  const neither = example();
  neither.spec.training.learningRate = {};
  assert.ok(validateFineTuneJob(neither).some((v) => v.path === 'spec.training.learningRate'));
  const overlay = example();
  overlay.spec.ablations[0].training = { learningRate: { value: 1e-5, base: 1e-4 } };
  assert.ok(validateFineTuneJob(overlay).some((v) => v.path === 'spec.ablations[0].training.learningRate'));
});

test('a matrix value of the wrong type is caught after merging', () => {
  const job = example();
  job.spec.ablations.push({ name: 'sweep', matrix: { 'headWarmup.steps': [10, 'many'] } });
  const v = validateFineTuneJob(job);
  assert.equal(v.length, 1, JSON.stringify(v));
  assert.equal(v[0]!.path, 'spec.ablations[3].training.headWarmup.steps');
  assert.match(v[0]!.message, /integer.*sweep-head-warmup-steps-many/);
});

test('a matrix counts by its product towards the run limit (CEL and offline agree)', () => {
  const job = example();
  job.spec.seeds = [0, 1, 2, 3];
  job.spec.ablations.push({ name: 'grid', matrix: { epochs: [1, 2, 3, 4], 'headWarmup.steps': [0, 10, 20, 30], warmupRatio: [0, 0.05, 0.1, 0.2] } });
  const v = validateFineTuneJob(job);
  assert.equal(v.length, 1, JSON.stringify(v));
  assert.equal(v[0]!.path, 'spec.ablations');
  assert.match(v[0]!.message, /at most 256 runs, got 268/);
});

test('baseline may name a matrix combination; a near miss is caught offline', () => {
  const job = example();
  job.spec.ablations.push({ name: 'sweep', matrix: { epochs: [1, 2] } });
  job.spec.evaluation.baseline = 'sweep-epochs-2';
  assert.deepEqual(validateFineTuneJob(job), []);
  job.spec.evaluation.baseline = 'sweep-epochs-3';
  const v = validateFineTuneJob(job);
  assert.deepEqual(v.map((x) => x.path), ['spec.evaluation.baseline']);
  assert.match(v[0]!.message, /names no ablation/);
});

test('generic validator: types, bounds, enums, list types, unknown fields, nullable, formats', () => {
  const schema: SchemaNode = {
    type: 'object',
    required: ['n'],
    properties: {
      n: { type: 'integer', minimum: 1, maximum: 3 },
      s: { type: 'string', enum: ['a', 'b'] },
      when: { type: 'string', format: 'date-time' },
      set: { type: 'array', items: { type: 'integer' }, 'x-kubernetes-list-type': 'set', maxItems: 3 },
      q: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
      maybe: { type: 'string', nullable: true },
      free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      pod: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', properties: {} } } },
    },
  };
  const ok = { n: 2, s: 'a', when: '2026-01-02T03:04:05Z', set: [1, 2], q: '1Gi', maybe: null, free: { any: [1, { x: 2 }] }, pod: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {} } };
  assert.deepEqual(validateAgainstSchema(schema, ok), []);
  const v = validateAgainstSchema(schema, { n: 1.5, s: 'c', when: 'yesterday', set: [1, 1, 2, 3], q: true, extra: 1, maybe: 3, pod: { kind: 'Pod', spec: { x: 1 } } }, { basePath: 'spec' });
  assert.deepEqual(
    v.map((x) => `${x.path} ${x.rule}`).sort(),
    ['spec.extra unknown-field', 'spec.maybe type', 'spec.pod.spec.x unknown-field', 'spec.n type', 'spec.q type', 'spec.s enum', 'spec.set maxItems', 'spec.set[1] x-kubernetes-list-type=set', 'spec.when format'].sort(),
  );
  assert.deepEqual(validateAgainstSchema(schema, { n: 2, extra: 1 }, { unknownFields: 'ignore' }), []);
  assert.deepEqual(validateAgainstSchema(schema, {}).map((x) => [x.path, x.reason]), [['n', 'FieldValueRequired']]);
});

test('generic validator: CEL messageExpression, fieldPath, and transition rules on map-list items', () => {
  const schema: SchemaNode = {
    type: 'object',
    properties: {
      items: {
        type: 'array',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        items: {
          type: 'object',
          properties: { name: { type: 'string', maxLength: 10 }, size: { type: 'integer' } },
          'x-kubernetes-validations': [{ rule: 'self.size == oldSelf.size', message: 'size is immutable', fieldPath: '.size' }],
        },
        maxItems: 10,
      },
    },
    'x-kubernetes-validations': [
      { rule: 'self.items.all(i, i.size < 10)', messageExpression: "'too big: ' + self.items.filter(i, i.size >= 10).map(i, i.name).join(',')", fieldPath: '.items' },
    ],
  };
  const v = validateAgainstSchema(schema, { items: [{ name: 'a', size: 12 }, { name: 'b', size: 1 }] }, { oldObject: { items: [{ name: 'b', size: 2 }] } });
  assert.deepEqual(v.map((x) => [x.path, x.message, x.value]), [
    ['items[1].size', 'size is immutable', 1],
    ['items', 'too big: a', [{ name: 'a', size: 12 }, { name: 'b', size: 1 }]],
  ]);
});

test('applySchemaDefaults: top-down, nested defaults inside a default, null replaced unless nullable', () => {
  const schema: SchemaNode = {
    type: 'object',
    properties: {
      a: { type: 'object', default: {}, properties: { b: { type: 'integer', default: 7 }, c: { type: 'string' } } },
      d: { type: 'string', default: 'x' },
      e: { type: 'string', nullable: true, default: 'y' },
      list: { type: 'array', items: { type: 'object', properties: { f: { type: 'boolean', default: true } } } },
    },
  };
  const input = { d: null, e: null, list: [{}, { f: false }] };
  assert.deepEqual(applySchemaDefaults(schema, input), { a: { b: 7 }, d: 'x', e: null, list: [{ f: true }, { f: false }] });
  assert.deepEqual(input, { d: null, e: null, list: [{}, { f: false }] }, 'input untouched');
});

test('resolveUri: file URLs, relative forms against the job folder, other schemes rejected', () => {
  assert.equal(resolveUri('file:///models/x', '/jobs'), '/models/x');
  assert.equal(resolveUri('file:data/train.csv', '/jobs/a'), '/jobs/a/data/train.csv');
  assert.equal(resolveUri('./model', '/jobs/a'), '/jobs/a/model');
  assert.equal(resolveUri('/abs/model', '/jobs/a'), '/abs/model');
  assert.throws(() => resolveUri('s3://bucket/model', '/jobs'), (e: unknown) => e instanceof UnsupportedUriError && e.uri === 's3://bucket/model');
  assert.throws(() => resolveUri('file://otherhost/x', '/jobs'), UnsupportedUriError);
});

test('loadFineTuneJob: validates, applies defaults, returns the folder relative URIs resolve against', () => {
  const path = fileURLToPath(new URL('../../examples/science-exam/finetunejob.yaml', import.meta.url));
  const { job, baseDir } = loadFineTuneJob(path);
  assert.equal(baseDir, dirname(path));
  assert.equal(job.metadata.name, 'science-exam');
  assert.equal(job.spec.training.optimizer.name, 'adamw', 'defaults applied');
  assert.equal(resolveUri(job.spec.model.uri, baseDir), join(dirname(path), 'model'));

  const dir = mkdtempSync(join(tmpdir(), 'ablate-load-'));
  try {
    const bad = example();
    bad.spec.seeds = [];
    bad.spec.evaluation.k = 0;
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, `apiVersion: v1\nkind: Namespace\nmetadata: {name: ml}\n---\n${stringify(bad)}`);
    assert.throws(
      () => loadFineTuneJob(file),
      (e: unknown) =>
        e instanceof InvalidResourceError &&
        e.file === file &&
        e.document === 2 &&
        e.violations.map((v) => v.path).sort().join() === 'spec.evaluation.k,spec.seeds' &&
        /bad\.yaml:doc 2: invalid FineTuneJob/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('evaluation.bootstrap.resampleSeeds: a boolean, absent by default, settable on a live job; status accepts vsBaseline.seedAware', () => {
  const on = example();
  on.spec.evaluation.bootstrap = { resampleSeeds: true };
  assert.deepEqual(validateFineTuneJob(on), []);
  assert.deepEqual(validateFineTuneJob(on, { oldObject: example() }), [], 'evaluation stays mutable');
  const bad = example();
  bad.spec.evaluation.bootstrap = { resampleSeeds: 'yes' };
  assert.deepEqual(validateFineTuneJob(bad).map((v) => [v.path, v.rule]), [['spec.evaluation.bootstrap.resampleSeeds', 'type']]);
  const without = example();
  delete without.spec.evaluation.bootstrap.resampleSeeds;
  const defaulted = applySchemaDefaults(fineTuneJobSchema, without) as Doc;
  assert.equal(defaulted.spec.evaluation.bootstrap.resampleSeeds, undefined, 'no schema default: stored objects do not change');

  const vs = { delta: 0.01, ciLow: -0.002, ciHigh: 0.02, pValue: 0.06, pValueHolm: 0.12, minDetectable: 0.02, questionsNeeded: 4000 };
  const withStatus = (seedAware: unknown): Doc => ({ ...example(), status: { ablations: [{ name: 'frozen-embeddings', seeds: [0, 1, 2], vsBaseline: { ...vs, seedAware } }] } });
  assert.deepEqual(validateAgainstSchema(fineTuneJobSchema, withStatus({ ciLow: -0.01, ciHigh: 0.03, pValue: 0.2, pValueHolm: 0.3 })), []);
  const missing = validateAgainstSchema(fineTuneJobSchema, withStatus({ ciLow: -0.01, ciHigh: 0.03, pValue: 1.5 }));
  assert.deepEqual(missing.map((v) => v.path).sort(), ['status.ablations[0].vsBaseline.seedAware.pValue', 'status.ablations[0].vsBaseline.seedAware.pValueHolm']);
});
