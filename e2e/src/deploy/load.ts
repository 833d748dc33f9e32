// Reads manifest files as Kubernetes does: YAML 1.1 (so `0400` is octal and `yes` a boolean),
// several documents per file. A syntax error fails naming the file, line and column.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { ManifestDocument } from './manifests';

/** The repository's root, from e2e/src/deploy or e2e/dist/deploy. */
export const REPO_ROOT = join(__dirname, '..', '..', '..');

/** Every document of `text`; throws naming `source` and the position of a syntax error. */
export function parseManifest(text: string, source: string): ManifestDocument[] {
  const parsed = parseAllDocuments(text, { version: '1.1' });
  const documents = Array.isArray(parsed) ? parsed : [parsed];
  return documents.map((document, index) => {
    const error = document.errors[0];
    if (error) {
      const position = error.linePos?.[0];
      const at = position ? `line ${position.line}, column ${position.col}` : `document ${index + 1}`;
      throw new Error(`${source}: YAML syntax error at ${at}: ${error.message.split('\n')[0]}`);
    }
    return { source, document: index + 1, object: document.toJS() };
  });
}

/** The YAML files of `directory` (not kustomization.yaml), by name. */
export function manifestFiles(directory: string): string[] {
  return readdirSync(directory)
    .filter((name) => /\.ya?ml$/.test(name) && name !== 'kustomization.yaml')
    .sort();
}

/** Every document of every manifest file of `directory`, sources named relative to `label`. */
export function loadManifests(directory: string, label: string): ManifestDocument[] {
  return manifestFiles(directory).flatMap((name) =>
    parseManifest(readFileSync(join(directory, name), 'utf8'), `${label}/${name}`),
  );
}
