// Kubernetes NetworkPolicies → NetworkPolicy `knp.default.<name>` in the policy's namespace.

import type { KubernetesListObject, KubernetesObject, NetworkingV1Api } from '@kubernetes/client-node';
import { isKind, K8S_POLICY_NAME_PREFIX, resourceKey } from '@margay/api';
import type { Datastore } from '@margay/datastore';
import type { Logger } from '@margay/log';
import type { KubeNetworkPolicy } from './kube-objects';
import { nameOf, namespaceOf } from './kube-objects';
import { isManaged, policyFromKube } from './mapping';
import { deleteKeyIf, listResources, reconcileKey } from './store';
import type { KindSync } from './sync-loop';

export function policySync(store: Datastore, api: NetworkingV1Api, log: Logger): KindSync<KubeNetworkPolicy> {
  const keyOf = (obj: KubeNetworkPolicy) =>
    resourceKey(
      'NetworkPolicy',
      `${K8S_POLICY_NAME_PREFIX}${nameOf('NetworkPolicy', obj)}`,
      namespaceOf('NetworkPolicy', obj),
    );
  return {
    kind: 'NetworkPolicy',
    path: '/apis/networking.k8s.io/v1/networkpolicies',
    list: async () =>
      (await api.listNetworkPolicyForAllNamespaces()) as KubernetesListObject<
        KubeNetworkPolicy & KubernetesObject
      >,
    async upsert(obj) {
      const policy = policyFromKube(obj);
      const outcome = await reconcileKey(store, keyOf(obj), () => policy);
      if (outcome !== 'unchanged')
        log.info(`NetworkPolicy ${outcome}`, {
          name: policy.metadata.name,
          namespace: policy.metadata.namespace,
        });
    },
    async remove(obj) {
      const outcome = await deleteKeyIf(store, keyOf(obj), isManaged);
      if (outcome === 'deleted')
        log.info('NetworkPolicy deleted', { name: obj.metadata?.name, namespace: obj.metadata?.namespace });
    },
    async resync(listed) {
      const present = new Set(listed.map((obj) => keyOf(obj)));
      const stored = await listResources(store, 'NetworkPolicy', (key, error) =>
        log.warn('undecodable NetworkPolicy in the datastore', { key, error: error.message }),
      );
      for (const { key, resource } of stored) {
        if (!isKind(resource, 'NetworkPolicy') || present.has(key)) continue;
        if (!resource.metadata.name.startsWith(K8S_POLICY_NAME_PREFIX) || !isManaged(resource)) continue;
        if ((await deleteKeyIf(store, key, isManaged)) === 'deleted') {
          log.info('NetworkPolicy deleted (gone from Kubernetes)', { key });
        }
      }
    },
  };
}
