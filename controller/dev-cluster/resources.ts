// The resource types the stand-in serves: the built-in kinds ablate uses, plus one entry per
// served version of every applied CustomResourceDefinition. Each type records the per-kind rules
// the real apiserver applies (generation tracking, status subresource, whether an update may omit
// the resourceVersion or create the object), so the request handlers stay generic.

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  format?: string;
  description?: string;
  priority?: number;
}

export interface ResourceType {
  /** API group; '' for the core group. */
  group: string;
  version: string;
  /** Plural resource name, as in URLs. */
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Serves `/status`; main-endpoint writes then ignore `.status`. */
  statusSubresource: boolean;
  /** `metadata.generation` is maintained (1 on create, +1 on each spec change). */
  generation: boolean;
  /** PUT without `metadata.resourceVersion` is allowed (false for custom resources). */
  allowUnconditionalUpdate: boolean;
  /** PUT of a missing object creates it. */
  allowCreateOnUpdate: boolean;
  /** Accepts strategic merge patches (built-in kinds only). */
  strategicMerge: boolean;
  /** Extra subresources listed in discovery (e.g. `log` for pods). */
  extraSubresources: string[];
  /** For custom resources: the version's `openAPIV3Schema` and printer columns. */
  schema?: Record<string, unknown>;
  printerColumns?: PrinterColumn[];
  /** Name of the CRD that serves this type, for custom resources. */
  crd?: string;
  /** Storage key of another type this one is a view of (events.k8s.io Events are core Events). */
  storedAs?: string;
}

/** Where an object of this type is stored: one store per group+resource, whatever the version. */
export function storageKey(t: Pick<ResourceType, 'group' | 'resource'> & { storedAs?: string }): string {
  return t.storedAs ?? `${t.group}/${t.resource}`;
}

export function apiVersionOf(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

function builtin(
  group: string,
  version: string,
  resource: string,
  kind: string,
  rest: Partial<ResourceType> = {},
): ResourceType {
  return {
    group,
    version,
    resource,
    singular: kind.toLowerCase(),
    kind,
    namespaced: true,
    shortNames: [],
    categories: [],
    statusSubresource: false,
    generation: false,
    allowUnconditionalUpdate: true,
    allowCreateOnUpdate: false,
    strategicMerge: true,
    extraSubresources: [],
    ...rest,
  };
}

/** The built-in kinds, in discovery order. */
export const BUILTIN_TYPES: readonly ResourceType[] = [
  builtin('', 'v1', 'namespaces', 'Namespace', { namespaced: false, shortNames: ['ns'], statusSubresource: true }),
  builtin('', 'v1', 'secrets', 'Secret'),
  builtin('', 'v1', 'configmaps', 'ConfigMap', { shortNames: ['cm'] }),
  builtin('', 'v1', 'serviceaccounts', 'ServiceAccount', { shortNames: ['sa'] }),
  builtin('', 'v1', 'pods', 'Pod', { shortNames: ['po'], categories: ['all'], statusSubresource: true, extraSubresources: ['log'] }),
  builtin('', 'v1', 'events', 'Event', { shortNames: ['ev'], allowCreateOnUpdate: true }),
  builtin('batch', 'v1', 'jobs', 'Job', { categories: ['all'], statusSubresource: true, generation: true }),
  builtin('coordination.k8s.io', 'v1', 'leases', 'Lease', { allowCreateOnUpdate: true }),
  // Stored, not run: so `kubectl apply -f manifests/install.yaml` (the chart's objects) succeeds.
  builtin('', 'v1', 'services', 'Service', { shortNames: ['svc'], categories: ['all'], statusSubresource: true }),
  builtin('apps', 'v1', 'deployments', 'Deployment', { shortNames: ['deploy'], categories: ['all'], statusSubresource: true, generation: true }),
  builtin('apps', 'v1', 'statefulsets', 'StatefulSet', { shortNames: ['sts'], categories: ['all'], statusSubresource: true, generation: true }),
  builtin('rbac.authorization.k8s.io', 'v1', 'roles', 'Role'),
  builtin('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding'),
  builtin('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', { namespaced: false }),
  builtin('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', { namespaced: false }),
  builtin('events.k8s.io', 'v1', 'events', 'Event', { shortNames: ['ev'], allowCreateOnUpdate: true, storedAs: '/events' }),
  builtin('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', {
    namespaced: false,
    shortNames: ['crd', 'crds'],
    statusSubresource: true,
    generation: true,
    strategicMerge: false,
  }),
];

/** Resource types served by one CRD object (one per served version). */
export function typesFromCrd(crd: Record<string, unknown>): ResourceType[] {
  const spec = (crd['spec'] ?? {}) as {
    group: string;
    scope?: string;
    names: { plural: string; singular?: string; kind: string; shortNames?: string[]; categories?: string[] };
    versions?: {
      name: string;
      served?: boolean;
      subresources?: { status?: unknown };
      schema?: { openAPIV3Schema?: Record<string, unknown> };
      additionalPrinterColumns?: PrinterColumn[];
    }[];
  };
  const name = String((crd['metadata'] as { name?: string } | undefined)?.name ?? '');
  return (spec.versions ?? [])
    .filter((v) => v.served !== false)
    .map((v) => ({
      group: spec.group,
      version: v.name,
      resource: spec.names.plural,
      singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
      kind: spec.names.kind,
      namespaced: spec.scope !== 'Cluster',
      shortNames: spec.names.shortNames ?? [],
      categories: spec.names.categories ?? [],
      statusSubresource: v.subresources?.status !== undefined,
      generation: true,
      // apiextensions-apiserver: customResourceStrategy.AllowUnconditionalUpdate() is false.
      allowUnconditionalUpdate: false,
      allowCreateOnUpdate: false,
      strategicMerge: false,
      extraSubresources: [],
      ...(v.schema?.openAPIV3Schema ? { schema: v.schema.openAPIV3Schema } : {}),
      ...(v.additionalPrinterColumns ? { printerColumns: v.additionalPrinterColumns } : {}),
      crd: name,
    }));
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** The `APIResourceList` discovery document for one group/version. */
export function resourceList(groupVersion: string, types: ResourceType[]): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const t of types) {
    resources.push({
      name: t.resource,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: VERBS,
      ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
      ...(t.categories.length ? { categories: t.categories } : {}),
    });
    if (t.statusSubresource) {
      resources.push({ name: `${t.resource}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] });
    }
    for (const sub of t.extraSubresources) {
      resources.push({ name: `${t.resource}/${sub}`, singularName: '', namespaced: t.namespaced, kind: sub === 'log' ? 'Pod' : t.kind, verbs: ['get'] });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}
