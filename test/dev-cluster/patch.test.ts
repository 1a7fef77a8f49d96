// The patch formats and selector grammar of the stand-in, as pure functions: the directives
// kubectl emits in strategic merge patches and the RFC 6902 operations beyond add/replace.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonPatch, mergePatch, strategicMergePatch, type Json } from '../../controller/dev-cluster/patch.js';
import { labelSelectorFromObject, parseLabelSelector } from '../../controller/dev-cluster/selectors.js';
import { humanDuration, jsonPathValue } from '../../controller/dev-cluster/table.js';

describe('dev-cluster patches', () => {
  test('merge patch: null deletes, objects merge, lists replace', () => {
    assert.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { a: null, b: { c: 9 }, l: [3] }), { b: { c: 9, d: 3 }, l: [3] });
  });

  test('JSON patch: move, copy, test, remove and a failing test', () => {
    const doc = { a: { x: 1 }, l: [1, 2, 3] };
    const out = jsonPatch(doc, [
      { op: 'copy', from: '/a/x', path: '/b' },
      { op: 'move', from: '/l/0', path: '/l/-' },
      { op: 'test', path: '/b', value: 1 },
      { op: 'remove', path: '/a' },
    ]);
    assert.deepEqual(out, { b: 1, l: [2, 3, 1] });
    assert.deepEqual(doc, { a: { x: 1 }, l: [1, 2, 3] }, 'input untouched');
    assert.throws(() => jsonPatch(doc, [{ op: 'test', path: '/a/x', value: 2 }]), /test failed at "\/a\/x"/);
    assert.throws(() => jsonPatch(doc, [{ op: 'remove', path: '/nope' }]), /does not exist/);
  });

  test('strategic merge: keyed lists, $patch delete/replace, $setElementOrder, $deleteFromPrimitiveList, $retainKeys', () => {
    const pod: Json = {
      metadata: { finalizers: ['a', 'b'] },
      spec: {
        containers: [
          { name: 'x', image: 'i1', env: [{ name: 'A', value: '1' }] },
          { name: 'y', image: 'i2' },
        ],
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } },
      },
    };
    const out = strategicMergePatch(pod, {
      metadata: { finalizers: ['c'], '$deleteFromPrimitiveList/finalizers': ['a'] },
      spec: {
        '$setElementOrder/containers': [{ name: 'z' }, { name: 'x' }],
        containers: [{ name: 'y', $patch: 'delete' }, { name: 'z', image: 'i3' }, { name: 'x', env: [{ name: 'B', value: '2' }] }],
        strategy: { $retainKeys: ['type'], type: 'Recreate' },
      },
    }) as { metadata: { finalizers: string[] }; spec: { containers: { name: string; env?: unknown[] }[]; strategy: unknown } };
    assert.deepEqual(out.metadata.finalizers, ['b', 'c']);
    assert.deepEqual(out.spec.containers.map((c) => c.name), ['z', 'x']);
    assert.equal(out.spec.containers[1]!.env!.length, 2);
    assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
    const replaced = strategicMergePatch(pod, { spec: { containers: [{ name: 'only' }, { $patch: 'replace' }] } }) as typeof out;
    assert.deepEqual(replaced.spec.containers, [{ name: 'only' }]);
  });

  test('label selectors: set-based terms with spaces, matchExpressions objects, and parse errors', () => {
    const sel = parseLabelSelector('env in ( prod, staging ),!canary,tier');
    assert.equal(sel({ env: 'prod', tier: 'web' }), true);
    assert.equal(sel({ env: 'prod', tier: 'web', canary: 'y' }), false);
    assert.equal(sel({ env: 'dev', tier: 'web' }), false);
    const obj = labelSelectorFromObject({ matchLabels: { app: 'a' }, matchExpressions: [{ key: 'v', operator: 'NotIn', values: ['1'] }, { key: 'w', operator: 'DoesNotExist' }] });
    assert.equal(obj({ app: 'a', v: '2' }), true);
    assert.equal(obj({ app: 'a', v: '1' }), false);
    assert.equal(obj({ app: 'a', w: 'x' }), false);
    assert.throws(() => parseLabelSelector('a in b'), /unable to parse requirement/);
  });

  test('tables: the apiserver\'s human durations and the printer-column JSONPath subset', () => {
    const s = 1000;
    assert.deepEqual(
      [5 * s, 119 * s, 150 * s, 600 * s, 3 * 3600 * s + 5 * 60 * s, 30 * 3600 * s, 3 * 86400 * s, 400 * 86400 * s].map(humanDuration),
      ['5s', '119s', '2m30s', '10m', '3h5m', '30h', '3d', '400d'],
    );
    assert.equal(jsonPathValue({ status: { runs: [{ m: 0.5 }] } }, '.status.runs[0].m'), 0.5);
    assert.equal(jsonPathValue({ metadata: { labels: { 'a.b/c': 'x' } } }, ".metadata.labels['a.b/c']"), 'x');
    assert.equal(jsonPathValue({}, '.status.phase'), undefined);
  });
});
