// Storage form of resources: JSON, without the store-assigned resourceVersion.

import { ResourceValidationError } from './errors';
import type { Resource } from './resources/meta';
import { validateResource } from './validate';

const STORE_SOURCE = 'datastore';

export function encodeResource(resource: Resource): string {
  const { resourceVersion: _, ...metadata } = resource.metadata;
  return JSON.stringify({
    apiVersion: resource.apiVersion,
    kind: resource.kind,
    metadata,
    spec: resource.spec,
  });
}

/** Parses and validates a stored value; a corrupt value throws ResourceValidationError. */
export function decodeResource(value: string): Resource {
  let obj: unknown;
  try {
    obj = JSON.parse(value);
  } catch (error) {
    throw new ResourceValidationError([
      { source: STORE_SOURCE, document: 1, path: '', message: `invalid JSON: ${(error as Error).message}` },
    ]);
  }
  return validateResource(obj, STORE_SOURCE);
}

/** The stored values that decode, in order; each one that does not goes to `onCorrupt` instead. */
export function decodeResources<R extends Resource>(
  entries: Iterable<readonly [key: string, value: string]>,
  onCorrupt: (key: string, error: Error) => void,
): R[] {
  const decoded: R[] = [];
  for (const [key, value] of entries) {
    try {
      decoded.push(decodeResource(value) as R);
    } catch (error) {
      onCorrupt(key, error as Error);
    }
  }
  return decoded;
}
