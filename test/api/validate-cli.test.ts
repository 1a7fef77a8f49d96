import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { runCli, type CliResult } from '../support/cli.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/science-exam/finetunejob.yaml', import.meta.url));
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests break arbitrary fields of parsed YAML
type Doc = Record<string, any>;
const example = (): Doc => parse(readFileSync(EXAMPLE, 'utf8'));

/** Each bad job: how it is broken, and the field its message must name. */
const CASES: Array<{ name: string; field: string; message: RegExp; edit: (job: Doc) => void }> = [
  { name: 'duplicate-ablation', field: 'spec.ablations', message: /unique|duplicate/, edit: (j) => j.spec.ablations.push({ name: 'full' }) },
  { name: 'unknown-baseline', field: 'spec.evaluation.baseline', message: /names no ablation/, edit: (j) => (j.spec.evaluation.baseline = 'nope') },
  { name: 'negative-lr', field: 'spec.training.learningRate.value', message: /greater than 0/, edit: (j) => (j.spec.training.learningRate = { value: -1e-5 }) },
  {
    name: 'too-many-runs',
    field: 'spec.ablations',
    message: /at most 256 runs, got 300/,
    edit: (j) => (j.spec.ablations = Array.from({ length: 100 }, (_, i) => ({ name: `a${i}` }))),
  },
  { name: 'upper-case-name', field: 'spec.ablations[1].name', message: /must match/, edit: (j) => (j.spec.ablations[1].name = 'Frozen') },
  { name: 'missing-model-uri', field: 'spec.model.uri', message: /required/, edit: (j) => delete j.spec.model.uri },
  {
    name: 'matrix-collision',
    field: 'spec.ablations[3].matrix',
    message: /expands to ablation name full-epochs-2, which spec.ablations\[0\]/,
    edit: (j) => {
      j.spec.ablations[0].name = 'full-epochs-2';
      j.spec.evaluation.baseline = 'full-epochs-2';
      j.spec.ablations.push({ name: 'full', matrix: { epochs: [1, 2] } });
    },
  },
];

let dir: string;
let text: CliResult;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ablate-validate-'));
  for (const c of CASES) {
    const job = example();
    c.edit(job);
    writeFileSync(join(dir, `${c.name}.yaml`), stringify(job));
  }
  text = await runCli(['validate', ...CASES.map((c) => join(dir, `${c.name}.yaml`)), EXAMPLE]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('ablate validate exits 1 when any file is invalid and accepts the example', () => {
  assert.equal(text.code, 1, text.stderr);
  assert.ok(text.stdout.includes(`${EXAMPLE}: valid (3 ablations × 3 seeds = 9 runs)\n`), text.stdout);
});

for (const c of CASES) {
  test(`ablate validate rejects ${c.name}, naming ${c.field}`, () => {
    const file = join(dir, `${c.name}.yaml`);
    const lines = text.stdout.split('\n').filter((l) => l.startsWith(`${file}: `));
    assert.ok(lines.length > 0, text.stdout);
    assert.ok(!lines.some((l) => l.includes(': valid (')), lines.join('\n'));
    const hit = lines.find((l) => l.startsWith(`${file}: ${c.field}: `) && c.message.test(l));
    assert.ok(hit, `no line for ${c.field} matching ${c.message}:\n${lines.join('\n')}`);
    assert.match(hit, /\(value: .*, rule: .+\)$/);
  });
}

test('ablate validate --json reports each document of a multi-document file', async () => {
  const bad = example();
  bad.spec.seeds = [1, 1];
  const file = join(dir, 'multi.yaml');
  writeFileSync(file, `${readFileSync(EXAMPLE, 'utf8')}\n---\n${stringify(bad)}---\nfoo: [1, 2\n`);
  const json = await runCli(['validate', '--json', file]);
  assert.equal(json.code, 1, json.stderr);
  const reports = JSON.parse(json.stdout) as Array<{ file: string; document: number; valid: boolean; violations: Array<{ path: string; message: string }> }>;
  assert.deepEqual(reports.map((r) => [r.file, r.document, r.valid]), [[file, 1, true], [file, 2, false], [file, 3, false]]);
  assert.ok(reports[1]!.violations.some((v) => v.path.startsWith('spec.seeds')));
  assert.match(reports[2]!.violations[0]!.message, /line \d+, column \d+$/, 'a YAML syntax error names its position');
  const plain = await runCli(['validate', file]);
  assert.match(plain.stdout, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:doc 2: spec\\.seeds`, 'm'));
});
