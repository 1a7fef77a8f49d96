// Just enough OpenAPI v3 for kubectl: the `/openapi/v3` index and one document per group/version
// whose PATCH operations declare the `fieldValidation` query parameter and carry
// `x-kubernetes-group-version-kind`. kubectl looks exactly there to decide that the server
// validates fields itself (server-side field validation), so a plain `kubectl apply -f` needs no
// client-side schema (and no protobuf OpenAPI v2). Custom resources also get their CRD schema in
// `components.schemas`, so `kubectl explain` has something to show.
import { createHash } from 'node:crypto';
import type { ResourceType } from './resources.js';

/** `api/v1` or `apis/<group>/<version>`: the key of a group/version in the v3 index. */
export function gvPath(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group ? `apis/${t.group}/${t.version}` : `api/${t.version}`;
}

const QUERY_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'].map((name) => ({
  name,
  in: 'query',
  schema: { type: name === 'force' ? 'boolean' : 'string' },
  uniqueItems: true,
}));

function schemaName(t: ResourceType): string {
  const g = t.group ? t.group.split('.').reverse().join('.') : 'io.k8s.api.core';
  return `${g}.${t.version}.${t.kind}`;
}

/** The OpenAPI v3 document of one group/version. */
export function openApiDocument(types: ResourceType[]): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const t of types) {
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const base = `/${gvPath(t)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.resource}`;
    const op = (action: string): Record<string, unknown> => ({
      operationId: `${action}${t.kind}`,
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      parameters: QUERY_PARAMS,
      responses: { '200': { description: 'OK' } },
    });
    paths[base] = { get: op('list'), post: op('post') };
    paths[`${base}/{name}`] = { get: op('get'), put: op('put'), patch: op('patch'), delete: op('delete') };
    if (t.statusSubresource) paths[`${base}/{name}/status`] = { get: op('get'), put: op('put'), patch: op('patch') };
    schemas[schemaName(t)] = {
      ...(t.schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }),
      'x-kubernetes-group-version-kind': [gvk],
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.35.0' }, paths, components: { schemas } };
}

/** The `/openapi/v3` index: one entry per group/version, with a content hash as real servers do. */
export function openApiIndex(types: ResourceType[]): Record<string, unknown> {
  const byGv = new Map<string, ResourceType[]>();
  for (const t of types) byGv.set(gvPath(t), [...(byGv.get(gvPath(t)) ?? []), t]);
  const paths: Record<string, unknown> = {};
  for (const [gv, ts] of byGv) {
    const hash = createHash('sha512').update(JSON.stringify(openApiDocument(ts))).digest('hex').slice(0, 128).toUpperCase();
    paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${hash}` };
  }
  return { paths };
}

/** Types of one group/version by its index key. */
export function typesOfGv(types: ResourceType[], gv: string): ResourceType[] {
  return types.filter((t) => gvPath(t) === gv);
}
