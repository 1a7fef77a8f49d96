// The controller container's arguments as the chart renders them (`helm template`, real helm).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../scripts/generate.js';
import { helmPath } from '../support/kubectl.js';

/** `helmArgs`: extra `helm template` arguments (`--set k=v`, `-f file`); release namespace `ablate`. */
export function renderedControllerArgs(helmArgs: string[]): string[] {
  const home = mkdtempSync(join(tmpdir(), 'ablate-helm-'));
  try {
    const r = spawnSync(helmPath(), ['template', 'ablate', join(REPO_ROOT, 'charts', 'ablate'), '--namespace', 'ablate', ...helmArgs], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '', HOME: home },
    });
    assert.equal(r.status, 0, r.stderr);
    const deploy = parseAllDocuments(r.stdout)
      .map((d) => d.toJS() as { kind?: string; spec?: { template: { spec: { containers: Array<{ args: string[] }> } } } } | null)
      .find((o) => o?.kind === 'Deployment');
    assert.ok(deploy?.spec);
    return deploy.spec.template.spec.containers[0]!.args;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
