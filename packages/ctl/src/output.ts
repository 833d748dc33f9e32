import { API_VERSION, type Kind, type Resource } from '@margay/api';
import { stringify } from 'yaml';
import { columnsFor, namespaceColumn } from './columns';
import { renderTable } from './table';

export const OUTPUT_FORMATS = ['table', 'wide', 'yaml', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface RenderOptions {
  kind: Kind;
  /** One resource asked for by name: yaml/json show it alone rather than as a list. */
  single: boolean;
  /** Add a NAMESPACE column to tables (listing a namespaced kind across namespaces). */
  showNamespace: boolean;
}

export function renderResources(resources: Resource[], format: OutputFormat, options: RenderOptions): string {
  switch (format) {
    case 'json': {
      const document = options.single
        ? resources[0]
        : { apiVersion: API_VERSION, kind: 'List', items: resources };
      return `${JSON.stringify(document, null, 2)}\n`;
    }
    case 'yaml':
      return resources.map((resource) => stringify(resource)).join('---\n');
    case 'table':
    case 'wide': {
      const columns = columnsFor(options.kind, format === 'wide');
      const shown = options.showNamespace ? [namespaceColumn, ...columns] : columns;
      return renderTable(
        shown.map((column) => column.header),
        resources.map((resource) => shown.map((column) => column.value(resource))),
      );
    }
  }
}
