// Test helpers: stored documents as the CNI plugin and IPAM write them, and polling for a condition.

import { API_VERSION, encodeResource, resourceKey, type WorkloadEndpoint } from '@margay/api';
import type { KeyValue } from '@margay/datastore';
import { ipamKeys } from '@margay/ipam';

/** The value IPAM stores for a confirmed block affinity. */
export const CONFIRMED = JSON.stringify({ state: 'confirmed', deleted: false });

export interface TestEndpoint {
  readonly name: string;
  readonly node: string;
  readonly interfaceName: string;
  readonly ipNetworks: readonly string[];
}

/** Key and stored value of a WorkloadEndpoint in namespace `default`. */
export function endpointDocument(endpoint: TestEndpoint): { key: string; value: string } {
  const resource: WorkloadEndpoint = {
    apiVersion: API_VERSION,
    kind: 'WorkloadEndpoint',
    metadata: { name: endpoint.name, namespace: 'default' },
    spec: {
      orchestrator: 'k8s',
      node: endpoint.node,
      interfaceName: endpoint.interfaceName,
      ipNetworks: [...endpoint.ipNetworks],
    },
  };
  return { key: resourceKey('WorkloadEndpoint', endpoint.name, 'default'), value: encodeResource(resource) };
}

export function affinityKey(node: string, cidr: string): string {
  return ipamKeys.affinity(node, cidr);
}

/** A KeyValue as a watch delivers it. */
export function keyValue(key: string, value: string, revision: number): KeyValue {
  return { key, value, createRevision: revision, modRevision: revision, version: 1 };
}
