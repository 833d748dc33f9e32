// Validated resources for tests in any package, built the way the datastore hands them over.

import { encodeResource } from './codec';
import { resourceKey } from './keys';
import type { BGPConfiguration, BGPConfigurationSpec } from './resources/bgp-configuration';
import type { BGPPeer, BGPPeerSpec } from './resources/bgp-peer';
import type { IPPool } from './resources/ippool';
import { API_VERSION, type Resource } from './resources/meta';
import type { Node, NodeSpec } from './resources/node';
import { validateResource } from './validate';

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

/** Stores `resource` under its key as margayctl would (any store with a put: etcd, memory). */
export async function writeResource(
  store: { put(key: string, value: string): Promise<unknown> },
  resource: Resource,
): Promise<void> {
  await store.put(resourceKey(resource.kind, resource.metadata.name), encodeResource(resource));
}

export function testBgpConfiguration(name: string, spec: BGPConfigurationSpec): BGPConfiguration {
  return resource('BGPConfiguration', name, spec) as BGPConfiguration;
}
