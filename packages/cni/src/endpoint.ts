// The WorkloadEndpoint the plugin writes for each attachment: what felix polices and routes.

import { API_VERSION, resourceKey, validateResource, type WorkloadEndpoint } from '@margay/api';
import { CniError, ERROR_CODES } from './errors';
import { type Workload, workloadEndpointName } from './naming';

export interface EndpointFacts {
  node: string;
  workload: Workload;
  containerId: string;
  /** The pod-side interface name (CNI_IFNAME). */
  endpoint: string;
  hostVeth: string;
  podMac: string;
  labels: Record<string, string>;
}

export interface PlannedEndpoint {
  key: string;
  resource: WorkloadEndpoint;
}

/**
 * The endpoint without its address, validated before anything is assigned or created, so that a
 * bad pod name or label fails the ADD with nothing to undo.
 */
export function planEndpoint(facts: EndpointFacts): PlannedEndpoint {
  const { node, workload, containerId, endpoint, hostVeth, podMac } = facts;
  const namespace = workload.kind === 'pod' ? workload.namespace : 'default';
  const orchestrator = workload.kind === 'pod' ? 'k8s' : 'cni';
  const resource = {
    apiVersion: API_VERSION,
    kind: 'WorkloadEndpoint',
    metadata: {
      name: workloadEndpointName(node, workload, endpoint),
      namespace,
      labels: {
        ...facts.labels,
        'projectcalico.org/namespace': namespace,
        'projectcalico.org/orchestrator': orchestrator,
      },
    },
    spec: {
      orchestrator,
      node,
      containerID: containerId,
      ...(workload.kind === 'pod' && { pod: workload.pod, profiles: [`kns.${namespace}`] }),
      endpoint,
      interfaceName: hostVeth,
      mac: podMac,
      ipNetworks: [],
    },
  };
  try {
    const valid = validateResource(resource, 'the workload endpoint') as WorkloadEndpoint;
    return { key: resourceKey('WorkloadEndpoint', valid.metadata.name, namespace), resource: valid };
  } catch (error) {
    throw new CniError(
      ERROR_CODES.invalidNetworkConfig,
      `cannot describe this workload as a WorkloadEndpoint: ${(error as Error).message}`,
    );
  }
}

/** The labels given in CNI_ARGS as `MARGAY_POD_LABELS=app=web,tier=db`. */
export function labelsFromArgs(args: Record<string, string>): Record<string, string> {
  const text = args['MARGAY_POD_LABELS'];
  if (text === undefined || text === '') return {};
  const labels: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new CniError(
        ERROR_CODES.invalidEnvironment,
        `CNI_ARGS MARGAY_POD_LABELS: ${JSON.stringify(pair)} is not key=value`,
      );
    }
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}
