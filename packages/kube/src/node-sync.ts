// Kubernetes Nodes → the Node resource's labels; a node deleted from Kubernetes takes its Node
// resource, its endpoints and its IPAM state (addresses, block affinities) with it, as Calico's
// node controller does. Node resources are created by margay-node, never here.

import type { CoreV1Api, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { isKind, type Node } from '@margay/api';
import type { Datastore } from '@margay/datastore';
import type { Ipam } from '@margay/ipam';
import type { Logger } from '@margay/log';
import { type KubeNode, nameOf } from './kube-objects';
import { isNodeOf, kubeNameOf, nodeWithKubeLabels } from './mapping';
import { deleteKeyIf, listResources, reconcileKey, type StoredResource } from './store';
import type { KindSync } from './sync-loop';

export function nodeSync(store: Datastore, api: CoreV1Api, ipam: Ipam, log: Logger): KindSync<KubeNode> {
  const onBadValue = (key: string, error: Error) =>
    log.warn('undecodable resource in the datastore', { key, error: error.message });
  const storedNodes = async (): Promise<(StoredResource & { resource: Node })[]> =>
    (await listResources(store, 'Node', onBadValue)).filter(
      (stored): stored is StoredResource & { resource: Node } => isKind(stored.resource, 'Node'),
    );

  /** Endpoints first, then addresses and blocks, the Node last: a sync cut short is finished by the next resync. */
  async function releaseNode(key: string, node: Node): Promise<void> {
    const name = node.metadata.name;
    for (const endpoint of await listResources(store, 'WorkloadEndpoint', onBadValue)) {
      if (isKind(endpoint.resource, 'WorkloadEndpoint') && endpoint.resource.spec.node === name) {
        await deleteKeyIf(
          store,
          endpoint.key,
          (current) => isKind(current, 'WorkloadEndpoint') && current.spec.node === name,
        );
      }
    }
    const addresses = await ipam.gc((_handle, attributes) => attributes['node'] !== name);
    const blocks = await ipam.releaseNodeBlocks(name);
    await deleteKeyIf(store, key, () => true);
    log.info('Node deleted (gone from Kubernetes)', { node: name, addresses: addresses.length, blocks });
  }

  return {
    kind: 'Node',
    path: '/api/v1/nodes',
    list: async () => (await api.listNode()) as KubernetesListObject<KubeNode & KubernetesObject>,
    async upsert(kubeNode) {
      const kubeName = nameOf('Node', kubeNode);
      for (const { key, resource } of await storedNodes()) {
        if (!isNodeOf(resource, kubeName)) continue;
        const outcome = await reconcileKey(store, key, (current) =>
          current && isKind(current, 'Node') && isNodeOf(current, kubeName)
            ? nodeWithKubeLabels(current, kubeNode)
            : undefined,
        );
        if (outcome === 'updated') log.info('Node labels updated', { node: resource.metadata.name });
      }
    },
    async remove(kubeNode) {
      const kubeName = nameOf('Node', kubeNode);
      for (const { key, resource } of await storedNodes()) {
        if (isNodeOf(resource, kubeName)) await releaseNode(key, resource);
      }
    },
    async resync(listed) {
      const present = new Set(listed.map((obj) => nameOf('Node', obj)));
      for (const { key, resource } of await storedNodes()) {
        // Only Nodes known to be backed by a Kubernetes node (k8s orchRef) are ours to delete.
        const kubeName = kubeNameOf(resource);
        if (kubeName !== undefined && !present.has(kubeName)) await releaseNode(key, resource);
      }
    },
  };
}
