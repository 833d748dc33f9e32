// Kubernetes Namespaces → Profile `kns.<name>` carrying the namespace's labels.

import type { CoreV1Api, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { isKind, resourceKey } from '@margay/api';
import type { Datastore } from '@margay/datastore';
import type { Logger } from '@margay/log';
import { type KubeNamespace, nameOf } from './kube-objects';
import { isManaged, NAMESPACE_PROFILE_PREFIX, namespaceProfileName, profileFromNamespace } from './mapping';
import { deleteKeyIf, listResources, reconcileKey } from './store';
import type { KindSync } from './sync-loop';

export function namespaceSync(store: Datastore, api: CoreV1Api, log: Logger): KindSync<KubeNamespace> {
  const keyOf = (obj: KubeNamespace) =>
    resourceKey('Profile', namespaceProfileName(nameOf('Namespace', obj)));
  return {
    kind: 'Namespace',
    path: '/api/v1/namespaces',
    list: async () => (await api.listNamespace()) as KubernetesListObject<KubeNamespace & KubernetesObject>,
    async upsert(obj) {
      const profile = profileFromNamespace(obj);
      const outcome = await reconcileKey(store, keyOf(obj), () => profile);
      if (outcome !== 'unchanged') log.info(`Profile ${outcome}`, { name: profile.metadata.name });
    },
    async remove(obj) {
      const outcome = await deleteKeyIf(store, keyOf(obj), isManaged);
      if (outcome === 'deleted')
        log.info('Profile deleted', { name: namespaceProfileName(nameOf('Namespace', obj)) });
    },
    async resync(listed) {
      const present = new Set(listed.map((obj) => keyOf(obj)));
      const stored = await listResources(store, 'Profile', (key, error) =>
        log.warn('undecodable Profile in the datastore', { key, error: error.message }),
      );
      for (const { key, resource } of stored) {
        if (!isKind(resource, 'Profile') || present.has(key)) continue;
        if (!resource.metadata.name.startsWith(NAMESPACE_PROFILE_PREFIX) || !isManaged(resource)) continue;
        if ((await deleteKeyIf(store, key, isManaged)) === 'deleted') {
          log.info('Profile deleted (namespace gone from Kubernetes)', { key });
        }
      }
    },
  };
}
