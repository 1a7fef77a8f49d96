import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SubjectError, jobFilter, parseSubject, runSubject, runSubjects, subjectMatches } from '../../protocol/mod.js';

describe('protocol subjects', () => {
  const run = { namespace: 'ml', job: 'science-exam', ablation: 'frozen-embeddings', seed: 2 };

  it('builds the three subjects of a run under the default prefix and parses them back', () => {
    const s = runSubjects(run);
    assert.equal(s.progress, 'ablate.ml.science-exam.frozen-embeddings.2.progress');
    assert.equal(s.predictions, 'ablate.ml.science-exam.frozen-embeddings.2.predictions');
    assert.equal(s.done, 'ablate.ml.science-exam.frozen-embeddings.2.done');
    assert.deepEqual(parseSubject(s.done), { prefix: 'ablate', ...run, kind: 'done' });
  });

  it('uses a custom prefix so tests and deployments can share a server', () => {
    const s = runSubject({ ...run, prefix: 't123abc' }, 'progress');
    assert.equal(s, 't123abc.ml.science-exam.frozen-embeddings.2.progress');
    assert.equal(parseSubject(s).prefix, 't123abc');
    assert.throws(() => parseSubject(s, { expectedPrefix: 'ablate' }), (e: unknown) => e instanceof SubjectError && e.field === 'prefix' && e.value === 't123abc');
  });

  for (const [field, value, bad] of [
    ['job', 'science.exam', '.'],
    ['ablation', 'full*', '*'],
    ['ablation', 'a>b', '>'],
    ['namespace', 'my ns', ' '],
    ['job', '', ''],
  ] as const) {
    it(`rejects ${field} ${JSON.stringify(value)} naming the field and value`, () => {
      assert.throws(
        () => runSubject({ ...run, [field]: value }, 'done'),
        (e: unknown) => e instanceof SubjectError && e.field === field && e.value === value && e.message.includes(JSON.stringify(value)) && (bad === '' || e.message.includes(JSON.stringify(bad))),
      );
    });
  }

  it('rejects a negative or fractional seed', () => {
    assert.throws(() => runSubject({ ...run, seed: -1 }, 'done'), (e: unknown) => e instanceof SubjectError && e.field === 'seed');
    assert.throws(() => runSubject({ ...run, seed: 1.5 }, 'done'), (e: unknown) => e instanceof SubjectError && e.field === 'seed');
  });

  for (const [subject, field] of [
    ['ablate.ml.job.full.0', 'subject'],
    ['ablate.ml.job.full.0.done.extra', 'subject'],
    ['ablate.ml.job.full.x1.done', 'seed'],
    ['ablate.ml.job.full.01.done', 'seed'],
    ['ablate.ml.job.full.0.metrics', 'kind'],
    ['ablate.ml..full.0.done', 'job'],
    ['ablate.ml.job.*.0.done', 'ablation'],
  ] as const) {
    it(`parseSubject rejects ${subject} at ${field}`, () => {
      assert.throws(() => parseSubject(subject), (e: unknown) => e instanceof SubjectError && e.field === field && e.subject === subject);
    });
  }

  it('builds job filters and matches subjects with NATS wildcard rules', () => {
    const filter = jobFilter({ namespace: 'local', job: 'science-exam' });
    assert.equal(filter, 'ablate.local.science-exam.>');
    assert.equal(subjectMatches(filter, 'ablate.local.science-exam.full.0.done'), true);
    assert.equal(subjectMatches(filter, 'ablate.local.science-exam'), false);
    assert.equal(subjectMatches(filter, 'ablate.local.other.full.0.done'), false);
    assert.equal(subjectMatches('ablate.*.x.>', 'ablate.ml.x.a.0.done'), true);
    assert.equal(subjectMatches('ablate.*.x', 'ablate.ml.x.a'), false);
    assert.equal(subjectMatches('a.b', 'a.b'), true);
    assert.equal(jobFilter({ namespace: 'local' }), 'ablate.local.>');
  });
});
