// Which allocations garbage collection frees: a pure function of the allocations, the
// WorkloadEndpoints and the Nodes that exist, so that the rules can be tested on their own.
//
// Workload allocations are the CNI plugin's: attributes node, namespace, pod (pods only) and
// containerID, handle `<network>.<containerID>`. One is live while a WorkloadEndpoint of the same
// node, namespace and pod names its container. Tunnel allocations (type `*TunnelAddress`) live as
// long as their node. Allocations of any other shape have no owner GC can ask about and are kept.

import type { WorkloadEndpoint } from '@margay/api';
import type { IpAllocation } from './allocations';

export interface GcLeak {
  ip: string;
  handle: string;
  block: string;
  /** `no-endpoint`: no WorkloadEndpoint uses it; `node-deleted`: the tunnel's node is gone. */
  reason: 'no-endpoint' | 'node-deleted';
}

export interface GcReport {
  /** Addresses freed (on a dry run: that would be). */
  freed: GcLeak[];
  /** Deleted nodes that still had blocks, and how many they let go (on a dry run: would). */
  releasedNodes: { node: string; blocks: number }[];
}

export function findLeaks(
  allocations: readonly IpAllocation[],
  endpoints: readonly WorkloadEndpoint[],
  nodes: ReadonlySet<string>,
): GcLeak[] {
  const liveContainers = new Map<string, string[]>();
  for (const { metadata, spec } of endpoints) {
    if (spec.containerID === undefined) continue;
    const owner = ownerKey(spec.node, spec.pod === undefined ? undefined : metadata.namespace, spec.pod);
    liveContainers.set(owner, [...(liveContainers.get(owner) ?? []), spec.containerID]);
  }
  const leaks: GcLeak[] = [];
  for (const allocation of allocations) {
    const { node, namespace, pod, containerID, type } = allocation.attributes;
    if (node === undefined) continue;
    let reason: GcLeak['reason'] | undefined;
    if (type?.endsWith('TunnelAddress')) {
      if (!nodes.has(node)) reason = 'node-deleted';
    } else if (pod !== undefined || containerID !== undefined) {
      const containers = liveContainers.get(ownerKey(node, pod === undefined ? undefined : namespace, pod));
      if (!containers?.some((id) => allocation.handle.endsWith(`.${id}`))) reason = 'no-endpoint';
    }
    if (reason) leaks.push({ ip: allocation.ip, handle: allocation.handle, block: allocation.block, reason });
  }
  return leaks;
}

/** Bare containers (no pod) are matched by node and container alone. */
function ownerKey(node: string, namespace: string | undefined, pod: string | undefined): string {
  return JSON.stringify([node, namespace ?? '', pod ?? '']);
}
