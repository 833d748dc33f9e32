// Multi-document YAML/JSON input (files given to margayctl, manifests) into validated resources.

import { parseAllDocuments, type YAMLError } from 'yaml';
import { type DocumentIssue, ResourceValidationError } from './errors';
import type { Resource } from './resources/meta';
import { checkDocument } from './validate';

/**
 * Parses every document of `text` (YAML, or JSON, which is YAML too). A document may be one
 * resource or a `List` / `<Kind>List` with `items`. Empty documents are skipped. All or nothing:
 * if any document is bad, ResourceValidationError lists the problems of every bad document.
 */
export function parseResources(text: string, source: string): Resource[] {
  const resources: Resource[] = [];
  const issues: DocumentIssue[] = [];
  parseAllDocuments(text).forEach((yamlDocument, index) => {
    const document = index + 1;
    if (yamlDocument.errors.length > 0) {
      issues.push(
        ...yamlDocument.errors.map((error) => ({
          source,
          document,
          path: '',
          message: syntaxMessage(error),
        })),
      );
      return;
    }
    const value: unknown = yamlDocument.toJS();
    if (value === null || value === undefined) return;
    for (const { obj, path } of documentObjects(value)) {
      const result = checkDocument(obj, { source, document, path });
      if ('issues' in result) issues.push(...result.issues);
      else resources.push(result.resource);
    }
  });
  if (issues.length > 0) throw new ResourceValidationError(issues);
  return resources;
}

/** The objects a document holds: the document itself, or the items of a list. */
function documentObjects(value: unknown): { obj: unknown; path: string }[] {
  const isList =
    typeof value === 'object' &&
    value !== null &&
    'kind' in value &&
    typeof value.kind === 'string' &&
    value.kind.endsWith('List') &&
    'items' in value &&
    Array.isArray(value.items);
  if (!isList) return [{ obj: value, path: '' }];
  return (value.items as unknown[]).map((obj, index) => ({ obj, path: `items[${index}]` }));
}

function syntaxMessage(error: YAMLError): string {
  const problem = error.message.split(' at line ')[0]!.split('\n')[0]!;
  const position = error.linePos?.[0];
  return position
    ? `YAML syntax error at line ${position.line}, column ${position.col}: ${problem}`
    : `YAML syntax error: ${problem}`;
}
