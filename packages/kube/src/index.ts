// @margay/kube: margay-kube-controllers, the sync of Kubernetes NetworkPolicies, Namespaces, Pods
// and Nodes into margay's datastore, and an in-process API server to test it against.

export type { KubeNamespace, KubeNetworkPolicy, KubeNode, KubeObject, KubePod } from './kube-objects';
export { KubeSync, type KubeSyncOptions } from './kube-sync';
export {
  endpointForPod,
  isManaged,
  KUBE_LABELS_ANNOTATION,
  MANAGED_BY,
  MANAGED_BY_ANNOTATION,
  namespaceProfileName,
  nodeWithKubeLabels,
  policyFromKube,
  profileFromNamespace,
} from './mapping';
export { type KindSync, SyncLoop } from './sync-loop';
