// Objects for tests: Kubernetes objects as the API server holds them, and margay resources as the
// CNI plugin and margay-node write them.

import { API_VERSION, encodeResource, type Resource, resourceKey, validateResource } from '@margay/api';
import type { Datastore } from '@margay/datastore';
import type { KubeTestObject } from './api-server';

export function kubeNamespace(name: string, labels: Record<string, string> = {}): KubeTestObject {
  return { metadata: { name, labels } };
}

export function kubeNode(name: string, labels: Record<string, string> = {}): KubeTestObject {
  return { metadata: { name, labels }, spec: {} };
}

export function kubePod(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  spec: Record<string, unknown> = {},
): KubeTestObject {
  return {
    metadata: { name, namespace, labels },
    spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
  };
}

export function kubePolicy(namespace: string, name: string, spec: Record<string, unknown>): KubeTestObject {
  return { metadata: { name, namespace }, spec };
}

/** Validates and stores a resource as margayctl would; returns its key. */
export async function putResource(store: Datastore, document: unknown): Promise<string> {
  const resource = validateResource(document, 'test fixture') as Resource;
  const key = resourceKey(resource.kind, resource.metadata.name, resource.metadata.namespace);
  await store.put(key, encodeResource(resource));
  return key;
}

/** The WorkloadEndpoint the CNI plugin writes for a pod on `node`. */
export function cniEndpoint(node: string, namespace: string, pod: string, ip: string): unknown {
  return {
    apiVersion: API_VERSION,
    kind: 'WorkloadEndpoint',
    metadata: {
      name: `${node.replaceAll('-', '--')}-k8s-${pod.replaceAll('-', '--')}-eth0`,
      namespace,
      labels: {
        'projectcalico.org/namespace': namespace,
        'projectcalico.org/orchestrator': 'k8s',
        from: 'cni',
      },
    },
    spec: {
      orchestrator: 'k8s',
      node,
      pod,
      endpoint: 'eth0',
      interfaceName: `cali${pod.slice(0, 11)}`,
      ipNetworks: [`${ip}/32`],
      profiles: [`kns.${namespace}`],
    },
  };
}

/** The Node margay-node writes for itself. */
export function margayNode(name: string, ipv4: string): unknown {
  return {
    apiVersion: API_VERSION,
    kind: 'Node',
    metadata: { name },
    spec: { bgp: { ipv4Address: `${ipv4}/24` } },
  };
}
