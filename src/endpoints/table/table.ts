import type { KubeObject, ObjectMeta } from '../../api/object.js';
import type { TablePrinter, TableRowCondition } from './printers.js';

/** meta.k8s.io/v1 Table, the body kubectl get asks for with `Accept: …;as=Table;v=v1;g=meta.k8s.io`. */
export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  conditions?: TableRowCondition[];
  object?: KubeObject | PartialObjectMetadata;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  /** null (as kube sends it) on watch events after the first. */
  columnDefinitions: TableColumnDefinition[] | null;
  rows: TableRow[];
}

export interface PartialObjectMetadata {
  kind: 'PartialObjectMetadata';
  apiVersion: 'meta.k8s.io/v1';
  metadata: ObjectMeta;
}

export interface BuildTableOptions {
  /** What rows[].object holds: PartialObjectMetadata (kubectl's default), the object, or nothing. */
  includeObject: 'None' | 'Object' | 'Metadata';
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
  /** Leave out the column definitions (watch events after the first). */
  omitColumns?: boolean;
  /** Clock for ages, epoch ms; defaults to now. */
  now?: number;
}

export function buildTable(printer: TablePrinter, objects: readonly KubeObject[], options: BuildTableOptions): Table {
  const now = options.now ?? Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: {
      ...(options.resourceVersion !== '' && { resourceVersion: options.resourceVersion }),
      ...(options.continue !== undefined && options.continue !== '' && { continue: options.continue }),
      ...(options.remainingItemCount !== undefined && { remainingItemCount: options.remainingItemCount }),
    },
    columnDefinitions: options.omitColumns ? null : printer.columns.map(({ name, type, format, description, priority }) => ({ name, type, format: format ?? '', description, priority })),
    rows: objects.map((object) => {
      const conditions = printer.conditions?.(object);
      const embedded = rowObject(object, options.includeObject);
      return {
        cells: printer.cells(object, now),
        ...(conditions !== undefined && { conditions }),
        ...(embedded !== undefined && { object: embedded }),
      };
    }),
  };
}

function rowObject(object: KubeObject, include: BuildTableOptions['includeObject']): TableRow['object'] {
  switch (include) {
    case 'None':
      return undefined;
    case 'Object':
      return object;
    case 'Metadata':
      return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
  }
}
