// Shared pieces of the dev-cluster contract tests: a client-node KubeConfig loaded from the
// stand-in's own kubeconfig (so the file format is exercised too), a small test CRD with a printer
// column, a default, a CEL rule and a transition rule, and helpers to read `Status` errors.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { DevCluster } from '../../controller/mod.js';

export function kubeConfigFor(cluster: DevCluster): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(stringify(cluster.kubeconfig()));
  return kc;
}

/** A unique lowercase name for a namespace or object. */
export function uniq(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ablate-devcluster-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const WIDGET = { group: 'test.ablate.dev', version: 'v1', plural: 'widgets' } as const;

export const WIDGET_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.test.ablate.dev' },
  spec: {
    group: 'test.ablate.dev',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'] },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'Size', type: 'integer', jsonPath: '.spec.size' },
          { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['size'],
                'x-kubernetes-validations': [{ rule: 'self.size <= self.max', message: 'size must not exceed max' }],
                properties: {
                  size: { type: 'integer', minimum: 0 },
                  max: { type: 'integer', default: 10 },
                  color: {
                    type: 'string',
                    default: 'blue',
                    enum: ['blue', 'red'],
                    'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'color is immutable' }],
                  },
                },
              },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
};

export function widget(name: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'test.ablate.dev/v1', kind: 'Widget', metadata: { name, ...extra }, spec };
}

export interface WireStatus {
  kind: string;
  apiVersion: string;
  status: string;
  message: string;
  reason: string;
  code: number;
  details?: { name?: string; group?: string; kind?: string; causes?: { field?: string; message: string; reason?: string }[] };
}

/** Runs `fn`, expects an ApiException, returns the parsed `Status` body. */
export async function statusOf(fn: () => Promise<unknown>): Promise<WireStatus> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof k8s.ApiException) {
      const body: unknown = err.body;
      return (typeof body === 'string' ? JSON.parse(body) : body) as WireStatus;
    }
    throw err;
  }
  throw new Error('expected the API call to fail');
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
