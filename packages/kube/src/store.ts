// Writes to the datastore that only touch a key when something changed, with compare-and-swap so
// that a concurrent writer (margayctl, the CNI plugin, margay-node) is never overwritten blindly.

import { randomUUID } from 'node:crypto';
import { decodeResource, encodeResource, type Kind, type Resource, resourcePrefix } from '@margay/api';
import { ConflictError, type Datastore, type KeyValue } from '@margay/datastore';

/** Read-modify-write rounds before giving up on a key that keeps changing. */
const MAX_ATTEMPTS = 5;

export type WriteOutcome = 'created' | 'updated' | 'unchanged' | 'deleted' | 'absent';

/**
 * Computes the desired resource from the stored one (undefined: none stored) and writes it if it
 * differs. `desired` returning undefined leaves the key alone. Identity (uid, creationTimestamp)
 * is kept from the stored version.
 */
export async function reconcileKey(
  store: Datastore,
  key: string,
  desired: (current: Resource | undefined) => Resource | undefined,
): Promise<WriteOutcome> {
  for (let attempt = 1; ; attempt++) {
    const kv = await store.get(key);
    const current = kv && decodeResource(kv.value);
    const next = desired(current);
    if (next === undefined) return current ? 'unchanged' : 'absent';
    const value = encodeResource(withIdentity(next, current));
    // Compared in decoded-then-encoded form, so key order or defaults in the stored text do not count.
    if (current && value === encodeResource(current)) return 'unchanged';
    try {
      await store.put(key, value, { prevRevision: kv?.modRevision ?? 0 });
      return kv ? 'updated' : 'created';
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt === MAX_ATTEMPTS) throw error;
    }
  }
}

/** Deletes the key if `shouldDelete` holds for what is stored there (checked and deleted atomically). */
export async function deleteKeyIf(
  store: Datastore,
  key: string,
  shouldDelete: (current: Resource) => boolean,
): Promise<WriteOutcome> {
  for (let attempt = 1; ; attempt++) {
    const kv = await store.get(key);
    if (!kv) return 'absent';
    if (!shouldDelete(decodeResource(kv.value))) return 'unchanged';
    try {
      return (await store.delete(key, { prevRevision: kv.modRevision })) ? 'deleted' : 'absent';
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt === MAX_ATTEMPTS) throw error;
    }
  }
}

export interface StoredResource {
  key: string;
  kv: KeyValue;
  resource: Resource;
}

/** Every stored resource of a kind; values that do not decode are reported and left out. */
export async function listResources(
  store: Datastore,
  kind: Kind,
  onBadValue: (key: string, error: Error) => void,
  namespace?: string,
): Promise<StoredResource[]> {
  const { items } = await store.list(resourcePrefix(kind, namespace));
  const resources: StoredResource[] = [];
  for (const kv of items) {
    try {
      resources.push({ key: kv.key, kv, resource: decodeResource(kv.value) });
    } catch (error) {
      onBadValue(kv.key, error as Error);
    }
  }
  return resources;
}

function withIdentity(resource: Resource, stored: Resource | undefined): Resource {
  return {
    ...resource,
    metadata: {
      ...resource.metadata,
      uid: stored?.metadata.uid ?? resource.metadata.uid ?? randomUUID(),
      creationTimestamp:
        stored?.metadata.creationTimestamp ?? resource.metadata.creationTimestamp ?? new Date().toISOString(),
      resourceVersion: undefined,
    },
  };
}
