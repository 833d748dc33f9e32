import type { Kind } from './kinds';
import type { BGPConfiguration } from './resources/bgp-configuration';
import type { BGPPeer } from './resources/bgp-peer';
import type { HostEndpoint, WorkloadEndpoint } from './resources/endpoints';
import type { FelixConfiguration } from './resources/felix-configuration';
import type { IPAMConfiguration } from './resources/ipam-configuration';
import type { IPPool } from './resources/ippool';
import type { Resource } from './resources/meta';
import type { Node } from './resources/node';
import type { GlobalNetworkPolicy, NetworkPolicy, Profile } from './resources/policy';

interface ResourceTypes {
  IPPool: IPPool;
  BGPConfiguration: BGPConfiguration;
  BGPPeer: BGPPeer;
  Node: Node;
  FelixConfiguration: FelixConfiguration;
  NetworkPolicy: NetworkPolicy;
  GlobalNetworkPolicy: GlobalNetworkPolicy;
  HostEndpoint: HostEndpoint;
  WorkloadEndpoint: WorkloadEndpoint;
  Profile: Profile;
  IPAMConfiguration: IPAMConfiguration;
}

/** The typed resource of a kind, e.g. ResourceOfKind<'IPPool'> = IPPool. */
export type ResourceOfKind<K extends Kind> = ResourceTypes[K];

/** Narrows a validated resource to its kind's type: `if (isKind(r, 'IPPool')) r.spec.cidr`. */
export function isKind<K extends Kind>(resource: Resource, kind: K): resource is ResourceOfKind<K> {
  return resource.kind === kind;
}
