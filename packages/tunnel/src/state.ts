// What the tunnel calculator takes in and what it wants in the kernel. Plain data: the manager
// turns a TunnelState into commands, and tests and the VM harness can build one by hand.

import type { EncapsulationMode } from '@margay/api';
import type { KernelRoute } from '@margay/dataplane';

/** What the calculator needs of one IPPool. Disabled pools count: their blocks are still in use. */
export interface TunnelPool {
  readonly name: string;
  readonly cidr: string;
  readonly ipipMode: EncapsulationMode;
  readonly vxlanMode: EncapsulationMode;
}

/** What the calculator needs of one Node resource. */
export interface TunnelNode {
  readonly name: string;
  /** spec.bgp.ipv4Address in CIDR form: the address is the underlay endpoint, the prefix its subnet. */
  readonly ipv4Address?: string;
  readonly ipipTunnelAddr?: string;
  readonly vxlanTunnelAddr?: string;
  readonly vxlanMac?: string;
}

/** A confirmed IPAM block affinity. */
export interface BlockAffinity {
  readonly node: string;
  readonly cidr: string;
}

/** The interface that holds the node's own address, through which the tunnels run. */
export interface Underlay {
  readonly device: string;
  readonly mtu: number;
}

export interface TunnelInputs {
  readonly nodeName: string;
  readonly pools: readonly TunnelPool[];
  readonly nodes: readonly TunnelNode[];
  readonly affinities: readonly BlockAffinity[];
  /** Unknown until the node's address has been found on an interface. */
  readonly underlay: Underlay | undefined;
  /** Configured device MTUs; default the underlay MTU minus the encapsulation overhead. */
  readonly mtu?: { readonly ipip?: number; readonly vxlan?: number };
}

export interface IpipDeviceSpec {
  readonly name: string;
  readonly mtu: number;
  /** The node's IPIP tunnel address, if it has one yet. */
  readonly address: string | undefined;
}

export interface VxlanDeviceSpec {
  readonly name: string;
  readonly vni: number;
  readonly port: number;
  /** The underlay device and the node's address on it. */
  readonly parent: string;
  readonly local: string;
  readonly mac: string;
  readonly mtu: number;
  readonly address: string;
}

/** A static ARP entry on the VXLAN device: remote VTEP address → its MAC. */
export interface NeighbourEntry {
  readonly ip: string;
  readonly mac: string;
}

/** A static FDB entry on the VXLAN device: remote VTEP MAC → the remote node's underlay address. */
export interface FdbEntry {
  readonly mac: string;
  readonly dst: string;
}

export interface TunnelState {
  readonly ipip: IpipDeviceSpec | undefined;
  readonly vxlan: VxlanDeviceSpec | undefined;
  readonly routes: readonly KernelRoute[];
  readonly neighbours: readonly NeighbourEntry[];
  readonly fdb: readonly FdbEntry[];
}

export const EMPTY_TUNNEL_STATE: TunnelState = {
  ipip: undefined,
  vxlan: undefined,
  routes: [],
  neighbours: [],
  fdb: [],
};
