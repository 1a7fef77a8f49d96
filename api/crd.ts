// The FineTuneJob CustomResourceDefinition, built from the one schema in schema.ts.
import { fineTuneJobSchema } from './schema.js';
import { API_GROUP, API_VERSION, KIND } from './types.js';
import type { SchemaNode } from './openapi.js';

export const PLURAL = 'finetunejobs';
export const SINGULAR = 'finetunejob';
export const SHORT_NAMES = ['ftj'];
/** Not `all`: a CRD in `all` clutters `kubectl get all` (see research/orchestrators.md §5). */
export const CATEGORIES = ['ml', 'ablate'];
export const CRD_NAME = `${PLURAL}.${API_GROUP}`;

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** `kubectl get ftj` columns: dedicated summary fields, never `conditions[-1]` (order is not meaning). */
export const PRINTER_COLUMNS: PrinterColumn[] = [
  { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Pending, Running, Aggregating, Succeeded, Failed or Suspended' },
  { name: 'Progress', type: 'string', jsonPath: '.status.progress', description: 'Succeeded runs / all runs' },
  { name: 'Best', type: 'string', jsonPath: '.status.best.ablation', description: 'Ablation with the best seed-ensemble score' },
  { name: 'MAP@3', type: 'number', jsonPath: '.status.best.ensembleMapAtK', description: 'Seed-ensemble MAP@k of the best ablation' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    scope: 'Namespaced';
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: SchemaNode };
    }>;
  };
}

/** The CRD manifest (apiextensions.k8s.io/v1). */
export function buildCrd(): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: CRD_NAME, labels: { 'app.kubernetes.io/part-of': 'ablate' } },
    spec: {
      group: API_GROUP,
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: SINGULAR, shortNames: [...SHORT_NAMES], categories: [...CATEGORIES] },
      scope: 'Namespaced',
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS.map((c) => ({ ...c })),
          schema: { openAPIV3Schema: structuredClone(fineTuneJobSchema) },
        },
      ],
    },
  };
}
