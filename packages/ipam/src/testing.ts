// Helpers for this package's tests: pools and nodes written the way margayctl stores them.

import { resourceKey } from '@margay/api';
import type { Datastore } from '@margay/datastore';

export async function putPool(store: Datastore, name: string, spec: Record<string, unknown>): Promise<void> {
  const doc = { apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name }, spec };
  await store.put(resourceKey('IPPool', name), JSON.stringify(doc));
}

export async function putNode(store: Datastore, name: string, labels: Record<string, string>): Promise<void> {
  const doc = { apiVersion: 'margay.io/v1', kind: 'Node', metadata: { name, labels }, spec: {} };
  await store.put(resourceKey('Node', name), JSON.stringify(doc));
}

/** A WorkloadEndpoint as the CNI plugin writes it: pods carry `pod`, bare containers do not. */
export async function putEndpoint(
  store: Datastore,
  endpoint: { node: string; namespace: string; pod?: string; containerId: string },
): Promise<string> {
  const { node, namespace, pod, containerId } = endpoint;
  const name = `${node}-${pod === undefined ? `cni-${containerId}` : `k8s-${pod}`}-eth0`;
  const doc = {
    apiVersion: 'margay.io/v1',
    kind: 'WorkloadEndpoint',
    metadata: { name, namespace },
    spec: { node, containerID: containerId, ...(pod !== undefined && { pod }), interfaceName: 'mg0' },
  };
  const key = resourceKey('WorkloadEndpoint', name, namespace);
  await store.put(key, JSON.stringify(doc));
  return key;
}
