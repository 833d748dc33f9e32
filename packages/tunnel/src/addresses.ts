// The node side of tunnel addressing, as Calico's allocateip: while some enabled IPv4 pool that
// selects this node and allows tunnel use has ipipMode (vxlanMode) other than Never, the node holds
// one IPAM address under the handle `ipip-tunnel-addr-<node>` (`vxlan-tunnel-addr-<node>`),
// taken from a block affine to it, and its Node resource names that address (and, for VXLAN, the
// VTEP MAC). When no pool needs it any more, the address is released and the fields cleared.

import {
  encodeResource,
  type IPPool,
  type Node,
  parseSelector,
  resourceKey,
  selectorMatches,
  validateResource,
} from '@margay/api';
import { ConflictError, type Datastore } from '@margay/datastore';
import type { Ipam } from '@margay/ipam';
import { derivedVxlanMac, tunnelHandle } from './constants';
import { decodeNode } from './inputs';
import { ipv4InCidr, parseIpv4, parseIpv4Cidr } from './ipv4';

export type TunnelKind = 'ipip' | 'vxlan';

export interface TunnelAddresses {
  readonly ipip: string | undefined;
  readonly vxlan: string | undefined;
}

const ATTRIBUTE_TYPE: Record<TunnelKind, string> = {
  ipip: 'ipipTunnelAddress',
  vxlan: 'vxlanTunnelAddress',
};
const MAX_ATTEMPTS = 5;

/** The pools a node's tunnel address of `kind` may come from, in the order given. */
export function tunnelAddressPools(pools: readonly IPPool[], node: Node, kind: TunnelKind): IPPool[] {
  const labels = node.metadata.labels ?? {};
  return pools.filter((pool) => {
    const mode = kind === 'ipip' ? pool.spec.ipipMode : pool.spec.vxlanMode;
    return (
      mode !== 'Never' &&
      !pool.spec.disabled &&
      parseIpv4Cidr(pool.spec.cidr) !== undefined &&
      pool.spec.allowedUses.includes('Tunnel') &&
      selectorMatches(parseSelector(pool.spec.nodeSelector), labels)
    );
  });
}

/**
 * Brings the node's tunnel addresses in line with the pools: assigns, replaces or releases them
 * in IPAM and writes the Node (compare-and-swap) when its fields change. Returns the addresses.
 */
export async function syncTunnelAddresses(
  store: Datastore,
  ipam: Ipam,
  nodeName: string,
  pools: readonly IPPool[],
): Promise<TunnelAddresses> {
  const key = resourceKey('Node', nodeName);
  const stored = await store.get(key);
  if (stored === undefined) throw new Error(`Node ${nodeName} is not registered`);
  const node = decodeNode(stored);
  const ipip = await syncOne(ipam, node, pools, 'ipip');
  const vxlan = await syncOne(ipam, node, pools, 'vxlan');
  await writeNode(store, nodeName, { ipip, vxlan });
  return { ipip, vxlan };
}

async function syncOne(
  ipam: Ipam,
  node: Node,
  pools: readonly IPPool[],
  kind: TunnelKind,
): Promise<string | undefined> {
  const name = node.metadata.name;
  const handle = tunnelHandle[kind](name);
  const eligible = tunnelAddressPools(pools, node, kind);
  const held = (await ipam.lookupHandle(handle)).filter((ip) => parseIpv4(ip) !== undefined);
  if (eligible.length === 0) {
    if (held.length > 0) await ipam.releaseByHandle(handle);
    return undefined;
  }
  const inEligiblePool = (ip: string) =>
    eligible.some((pool) => ipv4InCidr(parseIpv4(ip)!, parseIpv4Cidr(pool.spec.cidr)!));
  const kept = held.find(inEligiblePool);
  if (kept !== undefined) return kept;
  // An address in a pool that no longer encapsulates is of no use: trade it for a new one.
  if (held.length > 0) await ipam.releaseByHandle(handle);
  const assignment = await ipam.assign({
    handle,
    node: name,
    family: 4,
    use: 'Tunnel',
    attributes: { node: name, type: ATTRIBUTE_TYPE[kind] },
    pools: eligible.map((pool) => pool.metadata.name),
  });
  return assignment.ip;
}

/** Writes the tunnel fields (and the VTEP MAC with the VXLAN address) if they differ. */
async function writeNode(store: Datastore, nodeName: string, addresses: TunnelAddresses): Promise<void> {
  const key = resourceKey('Node', nodeName);
  for (let attempt = 1; ; attempt++) {
    const stored = await store.get(key);
    if (stored === undefined) throw new Error(`Node ${nodeName} is not registered`);
    const node = decodeNode(stored);
    if (hasTunnelFields(node, addresses)) return;
    const valid = validateResource(withTunnelFields(node, addresses), `Node ${nodeName}`) as Node;
    try {
      await store.put(key, encodeResource(valid), { prevRevision: stored.modRevision });
      return;
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt === MAX_ATTEMPTS) throw error;
    }
  }
}

/** Does the Node already say exactly this? (Then it is not written, and no watch event follows.) */
export function hasTunnelFields(node: Node, addresses: TunnelAddresses): boolean {
  const { spec } = node;
  return (
    spec.bgp?.ipv4IPIPTunnelAddr === addresses.ipip &&
    spec.ipv4VXLANTunnelAddr === addresses.vxlan &&
    (spec.vxlanTunnelMACAddr === undefined) === (addresses.vxlan === undefined)
  );
}

/** The node with its tunnel fields set to `addresses` (absent where undefined). */
export function withTunnelFields(node: Node, addresses: TunnelAddresses): Node {
  const { ipv4IPIPTunnelAddr: _ipip, ...bgp } = node.spec.bgp ?? {};
  const { ipv4VXLANTunnelAddr: _vxlan, vxlanTunnelMACAddr: mac, bgp: _bgp, ...rest } = node.spec;
  const spec: Node['spec'] = { ...rest };
  if (node.spec.bgp !== undefined || addresses.ipip !== undefined) {
    spec.bgp = { ...bgp, ...(addresses.ipip !== undefined && { ipv4IPIPTunnelAddr: addresses.ipip }) };
  }
  if (addresses.vxlan !== undefined) {
    spec.ipv4VXLANTunnelAddr = addresses.vxlan;
    spec.vxlanTunnelMACAddr = mac ?? derivedVxlanMac(node.metadata.name);
  }
  return { ...node, spec };
}
