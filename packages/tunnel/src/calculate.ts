// The tunnel calculator: from pools, nodes and block affinities to this node's desired tunnel
// state. Pure: no I/O, the whole state computed from the whole input every time.
//
// - A pool with ipipMode ≠ Never needs tunl0; one with vxlanMode ≠ Never needs vxlan.margay (once
//   this node has a VXLAN tunnel address: a VTEP without one cannot answer ARP for itself).
// - Every block affine to another node that lies in an encapsulated pool gets a route:
//   IPIP `via <node IP> dev tunl0 onlink`, VXLAN `via <remote VTEP IP> dev vxlan.margay onlink`;
//   with CrossSubnet, a node inside our own subnet gets a plain `via <node IP> dev <underlay>`.
// - Every remote VTEP gets a permanent ARP entry (its address → its MAC) and an FDB entry (its MAC
//   → its node's underlay address), so VXLAN needs no flooding and no BGP.
// - Blocks of Never pools are BGP's; blocks of our own node are felix's (blackhole and /32s).

import type { KernelRoute } from '@margay/dataplane';
import {
  derivedVxlanMac,
  IPIP_DEVICE,
  IPIP_OVERHEAD,
  VXLAN_DEVICE,
  VXLAN_OVERHEAD,
  VXLAN_PORT,
  VXLAN_VNI,
} from './constants';
import { cidrInCidr, type Ipv4Cidr, ipv4InCidr, parseIpv4, parseIpv4Cidr } from './ipv4';
import type {
  FdbEntry,
  IpipDeviceSpec,
  NeighbourEntry,
  TunnelInputs,
  TunnelNode,
  TunnelPool,
  TunnelState,
  VxlanDeviceSpec,
} from './state';

export type TunnelCalculation =
  | { readonly ready: true; readonly state: TunnelState; readonly problems: readonly string[] }
  /** Not enough is known to say what the kernel should hold: leave it as it is. */
  | { readonly ready: false; readonly reason: string; readonly problems: readonly string[] };

/** A pool's encapsulation, or undefined for Never. Both modes set is refused by the api schema. */
export function poolEncapsulation(
  pool: Pick<TunnelPool, 'ipipMode' | 'vxlanMode'>,
): { kind: 'ipip' | 'vxlan'; crossSubnet: boolean } | undefined {
  if (pool.ipipMode !== 'Never' && pool.vxlanMode !== 'Never') return undefined;
  if (pool.ipipMode !== 'Never') return { kind: 'ipip', crossSubnet: pool.ipipMode === 'CrossSubnet' };
  if (pool.vxlanMode !== 'Never') return { kind: 'vxlan', crossSubnet: pool.vxlanMode === 'CrossSubnet' };
  return undefined;
}

export function calculateTunnelState(inputs: TunnelInputs): TunnelCalculation {
  const problems: string[] = [];
  const notReady = (reason: string): TunnelCalculation => ({ ready: false, reason, problems });
  const nodes = new Map(inputs.nodes.map((node) => [node.name, node]));
  const self = nodes.get(inputs.nodeName);
  if (self === undefined) return notReady(`Node ${inputs.nodeName} is not registered yet`);
  const selfAddress = self.ipv4Address === undefined ? undefined : parseIpv4Cidr(self.ipv4Address);
  if (selfAddress === undefined) return notReady(`Node ${inputs.nodeName} has no IPv4 address yet`);
  const { underlay } = inputs;
  if (underlay === undefined) return notReady(`no interface holds ${self.ipv4Address} yet`);

  const pools = usablePools(inputs.pools, problems);
  const needs = { ipip: false, vxlan: false };
  for (const { encap } of pools) needs[encap.kind] = true;

  const ipip: IpipDeviceSpec | undefined = needs.ipip
    ? {
        name: IPIP_DEVICE,
        mtu: inputs.mtu?.ipip ?? underlay.mtu - IPIP_OVERHEAD,
        address: tunnelAddress(self, 'ipipTunnelAddr', problems),
      }
    : undefined;
  const vxlanAddress = needs.vxlan ? tunnelAddress(self, 'vxlanTunnelAddr', problems) : undefined;
  if (needs.vxlan && vxlanAddress === undefined) {
    problems.push(`VXLAN waits for Node ${self.name} to get a VXLAN tunnel address`);
  }
  const vxlan: VxlanDeviceSpec | undefined =
    vxlanAddress === undefined
      ? undefined
      : {
          name: VXLAN_DEVICE,
          vni: VXLAN_VNI,
          port: VXLAN_PORT,
          parent: underlay.device,
          local: addressText(self.ipv4Address!),
          mac: vtepMac(self, problems),
          mtu: inputs.mtu?.vxlan ?? underlay.mtu - VXLAN_OVERHEAD,
          address: vxlanAddress,
        };

  const vteps = vxlan === undefined ? new Map<string, Vtep>() : remoteVteps(inputs, problems);
  const routes = new Map<string, KernelRoute>();
  const affinities = [...inputs.affinities].sort(
    (a, b) => a.node.localeCompare(b.node) || a.cidr.localeCompare(b.cidr),
  );
  for (const affinity of affinities) {
    if (affinity.node === inputs.nodeName) continue;
    const block = parseIpv4Cidr(affinity.cidr);
    if (block === undefined) continue; // IPv6 blocks: no IPv6 tunnels yet
    const pool = pools.find((candidate) => cidrInCidr(block, candidate.cidr));
    if (pool === undefined) continue;
    const where = `block ${affinity.cidr} of node ${affinity.node}`;
    const remote = nodes.get(affinity.node);
    const remoteIp = remote?.ipv4Address === undefined ? undefined : addressText(remote.ipv4Address);
    if (remoteIp === undefined || parseIpv4(remoteIp) === undefined) {
      problems.push(`${where}: the node has no IPv4 address; not routed`);
      continue;
    }
    if (routes.has(affinity.cidr)) {
      problems.push(`${where}: the block is also affine to another node; keeping the first`);
      continue;
    }
    const route = blockRoute(affinity.cidr, remoteIp, pool.encap, selfAddress, underlay.device, {
      vxlan,
      vtep: vteps.get(affinity.node),
    });
    if (typeof route === 'string') problems.push(`${where}: ${route}; not routed`);
    else routes.set(affinity.cidr, route);
  }

  const neighbours: NeighbourEntry[] = [];
  const fdb: FdbEntry[] = [];
  for (const vtep of vteps.values()) {
    neighbours.push({ ip: vtep.address, mac: vtep.mac });
    fdb.push({ mac: vtep.mac, dst: vtep.nodeIp });
  }
  return { ready: true, state: { ipip, vxlan, routes: [...routes.values()], neighbours, fdb }, problems };
}

interface EncapsulatedPool {
  readonly name: string;
  readonly cidr: Ipv4Cidr;
  readonly encap: { kind: 'ipip' | 'vxlan'; crossSubnet: boolean };
}

/** The IPv4 pools with an encapsulation, most specific first so a block finds its own pool. */
function usablePools(pools: readonly TunnelPool[], problems: string[]): EncapsulatedPool[] {
  const usable: EncapsulatedPool[] = [];
  for (const pool of pools) {
    if (pool.ipipMode !== 'Never' && pool.vxlanMode !== 'Never') {
      problems.push(`IPPool ${pool.name}: ipipMode and vxlanMode are both enabled; the pool is ignored`);
      continue;
    }
    const encap = poolEncapsulation(pool);
    const cidr = parseIpv4Cidr(pool.cidr);
    if (encap === undefined || cidr === undefined) continue;
    usable.push({ name: pool.name, cidr, encap });
  }
  return usable.sort((a, b) => b.cidr.prefixLength - a.cidr.prefixLength);
}

function blockRoute(
  dst: string,
  remoteIp: string,
  encap: EncapsulatedPool['encap'],
  selfSubnet: Ipv4Cidr,
  underlayDevice: string,
  vxlan: { vxlan: VxlanDeviceSpec | undefined; vtep: Vtep | undefined },
): KernelRoute | string {
  if (encap.crossSubnet && ipv4InCidr(parseIpv4(remoteIp)!, selfSubnet)) {
    return { dst, type: 'unicast', via: remoteIp, dev: underlayDevice };
  }
  if (encap.kind === 'ipip') return { dst, type: 'unicast', via: remoteIp, dev: IPIP_DEVICE, onlink: true };
  if (vxlan.vxlan === undefined) return 'this node has no VXLAN device yet';
  if (vxlan.vtep === undefined) return 'the node has no VXLAN tunnel address yet';
  return { dst, type: 'unicast', via: vxlan.vtep.address, dev: VXLAN_DEVICE, onlink: true };
}

interface Vtep {
  readonly address: string;
  readonly mac: string;
  readonly nodeIp: string;
}

/** Remote nodes with a VXLAN tunnel address, by node name; duplicates after the first are refused. */
function remoteVteps(inputs: TunnelInputs, problems: string[]): Map<string, Vtep> {
  const vteps = new Map<string, Vtep>();
  const self = inputs.nodes.find((node) => node.name === inputs.nodeName);
  const taken = new Set<string>([self?.vxlanTunnelAddr ?? '', self ? vtepMac(self, []) : '']);
  const nodes = [...inputs.nodes].sort((a, b) => a.name.localeCompare(b.name));
  for (const node of nodes) {
    if (node.name === inputs.nodeName) continue;
    const address = tunnelAddress(node, 'vxlanTunnelAddr', problems);
    if (address === undefined) continue;
    const nodeIp = node.ipv4Address === undefined ? undefined : addressText(node.ipv4Address);
    if (nodeIp === undefined || parseIpv4(nodeIp) === undefined) {
      problems.push(`Node ${node.name}: a VXLAN tunnel address but no IPv4 address; no VTEP`);
      continue;
    }
    const mac = vtepMac(node, problems);
    if (taken.has(address) || taken.has(mac)) {
      problems.push(
        `Node ${node.name}: VXLAN address ${address} or MAC ${mac} is used by another node; no VTEP`,
      );
      continue;
    }
    taken.add(address);
    taken.add(mac);
    vteps.set(node.name, { address, mac, nodeIp });
  }
  return vteps;
}

function tunnelAddress(
  node: TunnelNode,
  field: 'ipipTunnelAddr' | 'vxlanTunnelAddr',
  problems: string[],
): string | undefined {
  const address = node[field];
  if (address === undefined) return undefined;
  if (parseIpv4(address) === undefined) {
    problems.push(`Node ${node.name}: ${field} ${JSON.stringify(address)} is not an IPv4 address; ignored`);
    return undefined;
  }
  return address;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function vtepMac(node: TunnelNode, problems: string[]): string {
  const mac = node.vxlanMac?.toLowerCase();
  if (mac === undefined) return derivedVxlanMac(node.name);
  if (!MAC.test(mac)) {
    problems.push(
      `Node ${node.name}: VXLAN MAC ${JSON.stringify(node.vxlanMac)} is not a MAC; using the derived one`,
    );
    return derivedVxlanMac(node.name);
  }
  return mac;
}

/** The address part of `a.b.c.d/n`. */
function addressText(cidr: string): string {
  return cidr.split('/', 1)[0]!;
}
