// Validated resources for this package's tests, built the way the datastore would hand them over.

import {
  API_VERSION,
  type BGPConfiguration,
  type BGPConfigurationSpec,
  type BGPPeer,
  type BGPPeerSpec,
  type IPPool,
  type Node,
  type NodeSpec,
  validateResource,
} from '@margay/api';

function resource(kind: string, name: string, spec: unknown, labels?: Record<string, string>): unknown {
  return validateResource({ apiVersion: API_VERSION, kind, metadata: { name, labels }, spec }, 'test');
}

export function testNode(name: string, bgp: NodeSpec['bgp'], labels?: Record<string, string>): Node {
  return resource('Node', name, { bgp }, labels) as Node;
}

export function testPeer(name: string, spec: BGPPeerSpec): BGPPeer {
  return resource('BGPPeer', name, spec) as BGPPeer;
}

export function testPool(name: string, cidr: string, spec: Partial<IPPool['spec']> = {}): IPPool {
  return resource('IPPool', name, { cidr, ...spec }) as IPPool;
}

export function testBgpConfiguration(name: string, spec: BGPConfigurationSpec): BGPConfiguration {
  return resource('BGPConfiguration', name, spec) as BGPConfiguration;
}
