// Kubernetes Pods → the labels (and namespace profile) of the pod's WorkloadEndpoints. The CNI
// plugin creates and deletes endpoints; this sync only keeps their labels equal to the pod's, as
// Calico's kube-controllers do with an etcd datastore. Pods on the host network are ignored.

import type { CoreV1Api, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { isKind, type WorkloadEndpoint } from '@margay/api';
import type { Datastore } from '@margay/datastore';
import type { Logger } from '@margay/log';
import { type KubePod, nameOf, namespaceOf } from './kube-objects';
import { endpointForPod, isEndpointOfPod, isHostNetworked } from './mapping';
import { listResources, reconcileKey } from './store';
import type { KindSync } from './sync-loop';

export function podSync(store: Datastore, api: CoreV1Api, log: Logger): KindSync<KubePod> {
  return {
    kind: 'Pod',
    path: '/api/v1/pods',
    list: async () =>
      (await api.listPodForAllNamespaces()) as KubernetesListObject<KubePod & KubernetesObject>,
    async upsert(pod) {
      if (isHostNetworked(pod)) return;
      const name = nameOf('Pod', pod);
      const namespace = namespaceOf('Pod', pod);
      const endpoints = await listResources(
        store,
        'WorkloadEndpoint',
        (key, error) =>
          log.warn('undecodable WorkloadEndpoint in the datastore', { key, error: error.message }),
        namespace,
      );
      for (const { key, resource } of endpoints) {
        if (!isKind(resource, 'WorkloadEndpoint') || !isEndpointOfPod(resource, namespace, name)) continue;
        const outcome = await reconcileKey(store, key, (current) =>
          current && isKind(current, 'WorkloadEndpoint') && isEndpointOfPod(current, namespace, name)
            ? endpointForPod(current as WorkloadEndpoint, pod)
            : undefined,
        );
        if (outcome === 'updated')
          log.info('WorkloadEndpoint labels updated', { key, pod: `${namespace}/${name}` });
      }
    },
    // The CNI plugin deletes a pod's endpoints when its sandbox goes.
    remove: async () => {},
    // Nothing is owned here: endpoints belong to the CNI plugin.
    resync: async () => {},
  };
}
