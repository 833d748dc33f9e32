// Decoding of the datastore values the tunnel agent watches. Each decoder throws an error naming
// the key and what is wrong, so a corrupt value can be reported and ignored.

import { decodeResource, type IPPool, isKind, type Node } from '@margay/api';
import type { KeyValue } from '@margay/datastore';
import { cidrOfKey, ipamKeys } from '@margay/ipam';
import type { BlockAffinity, TunnelNode, TunnelPool } from './state';

export function decodePool(kv: KeyValue): IPPool {
  return decodeKind(kv, 'IPPool') as IPPool;
}

export function decodeNode(kv: KeyValue): Node {
  return decodeKind(kv, 'Node') as Node;
}

export function tunnelPool(pool: IPPool): TunnelPool {
  const { cidr, ipipMode, vxlanMode } = pool.spec;
  return { name: pool.metadata.name, cidr, ipipMode, vxlanMode };
}

export function tunnelNode(node: Node): TunnelNode {
  const { bgp, ipv4VXLANTunnelAddr, vxlanTunnelMACAddr } = node.spec;
  return {
    name: node.metadata.name,
    ...(bgp?.ipv4Address !== undefined && { ipv4Address: bgp.ipv4Address }),
    ...(bgp?.ipv4IPIPTunnelAddr !== undefined && { ipipTunnelAddr: bgp.ipv4IPIPTunnelAddr }),
    ...(ipv4VXLANTunnelAddr !== undefined && { vxlanTunnelAddr: ipv4VXLANTunnelAddr }),
    ...(vxlanTunnelMACAddr !== undefined && { vxlanMac: vxlanTunnelMACAddr }),
  };
}

/** The block an affinity key claims, or undefined unless the claim is confirmed. */
export function decodeAffinity(kv: KeyValue): BlockAffinity | undefined {
  let cidr: string;
  let value: unknown;
  try {
    cidr = cidrOfKey(kv.key);
    value = JSON.parse(kv.value);
  } catch (error) {
    throw new Error(`${kv.key}: ${(error as Error).message}`);
  }
  const state = (value as { state?: unknown } | null)?.state;
  if (typeof state !== 'string') {
    throw new Error(`${kv.key}: an affinity must be an object with a string "state", got ${kv.value}`);
  }
  const node = kv.key.slice(ipamKeys.hosts.length).split('/', 1)[0]!;
  const deleted = (value as { deleted?: unknown }).deleted === true;
  return state === 'confirmed' && !deleted ? { node, cidr } : undefined;
}

function decodeKind(kv: KeyValue, kind: 'IPPool' | 'Node'): IPPool | Node {
  try {
    const resource = decodeResource(kv.value);
    if (!isKind(resource, kind)) throw new Error(`expected a ${kind}, found a ${resource.kind}`);
    return resource;
  } catch (error) {
    throw new Error(`${kv.key}: ${(error as Error).message}`);
  }
}
