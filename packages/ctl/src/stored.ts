import { randomUUID } from 'node:crypto';
import { decodeResource, encodeResource, type Resource } from '@margay/api';
import type { KeyValue } from '@margay/datastore';
import { CommandError } from './errors';

/**
 * The value to store for `resource`: identity (uid, creationTimestamp) is kept from the stored
 * version when there is one, made fresh otherwise; resourceVersion is etcd's modRevision and
 * is never stored.
 */
export function storedValue(resource: Resource, stored: Resource | undefined): string {
  return encodeResource({
    ...resource,
    metadata: {
      ...resource.metadata,
      uid: stored?.metadata.uid ?? randomUUID(),
      creationTimestamp: stored?.metadata.creationTimestamp ?? new Date().toISOString(),
      resourceVersion: undefined,
    },
  });
}

/** A stored resource as users see it: with metadata.resourceVersion set to its modRevision. */
export function storedResource(kv: KeyValue): Resource {
  let resource: Resource;
  try {
    resource = decodeResource(kv.value);
  } catch (error) {
    throw new CommandError([
      `${kv.key}: the stored value is not a valid resource: ${(error as Error).message}`,
    ]);
  }
  return { ...resource, metadata: { ...resource.metadata, resourceVersion: String(kv.modRevision) } };
}
