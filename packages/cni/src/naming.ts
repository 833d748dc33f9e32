// Names that the plugin and the node agent must agree on without talking to each other.

import { createHash } from 'node:crypto';

/** Host-side veth names start with this; felix treats `mg*` interfaces as workloads. */
export const VETH_PREFIX = 'mg';

/** Who a workload is: a Kubernetes pod (from CNI_ARGS), or a bare container. */
export type Workload =
  | { kind: 'pod'; namespace: string; pod: string }
  | { kind: 'container'; containerId: string };

/**
 * `mg` + 11 hex digits of sha1("<namespace>.<pod>") (sha1 of the container id for bare containers):
 * 13 characters, within IFNAMSIZ, and computable by felix from the WorkloadEndpoint alone.
 */
export function hostVethName(workload: Workload): string {
  const identity = workload.kind === 'pod' ? `${workload.namespace}.${workload.pod}` : workload.containerId;
  return VETH_PREFIX + createHash('sha1').update(identity).digest('hex').slice(0, 11);
}

/** The IPAM handle of one attachment: `<network name>.<container id>`, as Calico names it. */
export function ipamHandle(network: string, containerId: string): string {
  return `${network}.${containerId}`;
}

/**
 * Calico's WorkloadEndpoint name: `<node>-k8s-<pod>-<endpoint>` (or `<node>-cni-<container>-<endpoint>`),
 * each part's "-" doubled so that the name splits back unambiguously.
 */
export function workloadEndpointName(node: string, workload: Workload, endpoint: string): string {
  const parts =
    workload.kind === 'pod'
      ? [node, 'k8s', workload.pod, endpoint]
      : [node, 'cni', workload.containerId, endpoint];
  return parts.map((part) => part.replaceAll('-', '--')).join('-');
}
