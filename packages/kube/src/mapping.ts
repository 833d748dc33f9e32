// Kubernetes objects → margay resources, the way Calico's kube-controllers map them (etcd mode):
// NetworkPolicy → NetworkPolicy `knp.default.<name>`; Namespace → Profile `kns.<name>` whose
// labels endpoints inherit as `pcns.<key>`; Pod labels → the labels of the pod's WorkloadEndpoints
// (which the CNI plugin writes); Node labels → the Node resource's labels.

import {
  API_VERSION,
  K8S_NETWORKING_API_VERSION,
  type NetworkPolicy,
  type Node,
  type Profile,
  validateResource,
  type WorkloadEndpoint,
} from '@margay/api';
import {
  describeObject,
  type KubeNamespace,
  type KubeNetworkPolicy,
  type KubeNode,
  type KubePod,
  nameOf,
  namespaceOf,
} from './kube-objects';

/** Marks the resources this sync created, so that resync deletes only those. */
export const MANAGED_BY_ANNOTATION = 'margay.io/managed-by';
export const MANAGED_BY = 'margay-kube-controllers';
/** On a Node: the Kubernetes labels last copied onto it, so a label removed in Kubernetes goes too. */
export const KUBE_LABELS_ANNOTATION = 'margay.io/kube-labels';

export const NAMESPACE_PROFILE_PREFIX = 'kns.';
/** Namespace labels as endpoints carry them (felix matches namespaceSelectors against these). */
export const NAMESPACE_LABEL_PREFIX = 'pcns.';
export const NAMESPACE_LABEL = 'projectcalico.org/namespace';
export const ORCHESTRATOR_LABEL = 'projectcalico.org/orchestrator';
export const SERVICE_ACCOUNT_LABEL = 'projectcalico.org/serviceaccount';
export const KUBERNETES_ORCHESTRATOR = 'k8s';

const managed = { [MANAGED_BY_ANNOTATION]: MANAGED_BY };

export function isManaged(resource: { metadata: { annotations?: Record<string, string> } }): boolean {
  return resource.metadata.annotations?.[MANAGED_BY_ANNOTATION] === MANAGED_BY;
}

/** Converted with @margay/api's Kubernetes conversion; a policy it rejects throws, naming the field. */
export function policyFromKube(obj: KubeNetworkPolicy): NetworkPolicy {
  const document = {
    apiVersion: K8S_NETWORKING_API_VERSION,
    kind: 'NetworkPolicy',
    metadata: {
      name: nameOf('NetworkPolicy', obj),
      namespace: namespaceOf('NetworkPolicy', obj),
      ...(obj.metadata?.labels && { labels: obj.metadata.labels }),
      annotations: managed,
    },
    spec: wireSpec(obj.spec),
  };
  return validateResource(document, describeObject('NetworkPolicy', obj)) as NetworkPolicy;
}

/**
 * The spec in Kubernetes' JSON form: list items come from the generated client's models, which
 * name `from` `_from` and may hold undefined fields; a JSON round trip drops those.
 */
function wireSpec(spec: Record<string, unknown> | undefined): unknown {
  const plain = JSON.parse(JSON.stringify(spec ?? {})) as Record<string, unknown>;
  if (Array.isArray(plain['ingress'])) {
    plain['ingress'] = plain['ingress'].map((rule: Record<string, unknown>) => {
      if (rule === null || typeof rule !== 'object' || !('_from' in rule)) return rule;
      const { _from, ...rest } = rule;
      return { ...rest, from: _from };
    });
  }
  return plain;
}

export function namespaceProfileName(namespace: string): string {
  return `${NAMESPACE_PROFILE_PREFIX}${namespace}`;
}

/** Allows everything (policy does the restricting) and hands the namespace's labels to its endpoints. */
export function profileFromNamespace(obj: KubeNamespace): Profile {
  const name = nameOf('Namespace', obj);
  const labels = { 'projectcalico.org/name': name, ...obj.metadata?.labels };
  const document = {
    apiVersion: API_VERSION,
    kind: 'Profile',
    metadata: { name: namespaceProfileName(name), annotations: managed },
    spec: {
      ingress: [{ action: 'Allow' }],
      egress: [{ action: 'Allow' }],
      labelsToApply: Object.fromEntries(
        Object.entries(labels).map(([key, value]) => [`${NAMESPACE_LABEL_PREFIX}${key}`, value]),
      ),
    },
  };
  return validateResource(document, describeObject('Namespace', obj)) as Profile;
}

/** Pods on the host's network have no endpoint of their own. */
export function isHostNetworked(pod: KubePod): boolean {
  return pod.spec?.hostNetwork === true;
}

/** The endpoints of a pod among stored ones: written by the CNI plugin for orchestrator k8s. */
export function isEndpointOfPod(endpoint: WorkloadEndpoint, namespace: string, pod: string): boolean {
  return (
    endpoint.metadata.namespace === namespace &&
    endpoint.spec.orchestrator === KUBERNETES_ORCHESTRATOR &&
    endpoint.spec.pod === pod
  );
}

/**
 * The endpoint with the pod's labels (Kubernetes is their source of truth, so they replace the
 * ones the CNI plugin wrote), the labels margay adds, and the namespace's profile.
 */
export function endpointForPod(endpoint: WorkloadEndpoint, pod: KubePod): WorkloadEndpoint {
  const namespace = namespaceOf('Pod', pod);
  const serviceAccount = pod.spec?.serviceAccountName;
  const profile = namespaceProfileName(namespace);
  const document = {
    ...endpoint,
    metadata: {
      ...endpoint.metadata,
      labels: {
        ...pod.metadata?.labels,
        [NAMESPACE_LABEL]: namespace,
        [ORCHESTRATOR_LABEL]: KUBERNETES_ORCHESTRATOR,
        ...(serviceAccount && { [SERVICE_ACCOUNT_LABEL]: serviceAccount }),
      },
    },
    spec: {
      ...endpoint.spec,
      profiles: [profile, ...(endpoint.spec.profiles ?? []).filter((p) => p !== profile)],
      ...(serviceAccount && { serviceAccountName: serviceAccount }),
    },
  };
  return validateResource(document, describeObject('Pod', pod)) as WorkloadEndpoint;
}

/** The Node resource a Kubernetes node maps to: by its k8s orchRef, else by the same name. */
export function isNodeOf(node: Node, kubeName: string): boolean {
  const refs = node.spec.orchRefs ?? [];
  const ref = refs.find((r) => r.orchestrator === KUBERNETES_ORCHESTRATOR);
  return ref !== undefined
    ? (ref.nodeName ?? node.metadata.name) === kubeName
    : node.metadata.name === kubeName;
}

/** The Kubernetes node name of a Node resource that is known to Kubernetes (has a k8s orchRef). */
export function kubeNameOf(node: Node): string | undefined {
  const ref = node.spec.orchRefs?.find((r) => r.orchestrator === KUBERNETES_ORCHESTRATOR);
  return ref && (ref.nodeName ?? node.metadata.name);
}

/**
 * The Node with the Kubernetes node's labels. Labels set by others stay; those copied from
 * Kubernetes earlier (remembered in an annotation) are replaced. The k8s orchRef marks the Node as
 * backed by a Kubernetes node, so that it is deleted with it.
 */
export function nodeWithKubeLabels(node: Node, kubeNode: KubeNode): Node {
  const kubeName = nameOf('Node', kubeNode);
  const kubeLabels = kubeNode.metadata?.labels ?? {};
  const copiedBefore = previousKubeLabels(node);
  const own = Object.entries(node.metadata.labels ?? {}).filter(([key]) => !Object.hasOwn(copiedBefore, key));
  const refs = node.spec.orchRefs ?? [];
  const hasRef = refs.some((r) => r.orchestrator === KUBERNETES_ORCHESTRATOR);
  const document = {
    ...node,
    metadata: {
      ...node.metadata,
      labels: { ...Object.fromEntries(own), ...kubeLabels },
      annotations: { ...node.metadata.annotations, [KUBE_LABELS_ANNOTATION]: JSON.stringify(kubeLabels) },
    },
    spec: {
      ...node.spec,
      orchRefs: hasRef ? refs : [...refs, { nodeName: kubeName, orchestrator: KUBERNETES_ORCHESTRATOR }],
    },
  };
  return validateResource(document, describeObject('Node', kubeNode)) as Node;
}

function previousKubeLabels(node: Node): Record<string, unknown> {
  const text = node.metadata.annotations?.[KUBE_LABELS_ANNOTATION];
  if (text === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
