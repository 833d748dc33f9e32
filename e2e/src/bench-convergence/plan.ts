// Who is who in one convergence case: addresses, blocks, route reflectors and the peerings the
// Calico rules give (mesh, or two reflectors with the mesh off). Pure, shared by the margay and
// BIRD sides so both run exactly the same cluster.

export const TOPOLOGIES = ['mesh', 'rr'] as const;
export type Topology = (typeof TOPOLOGIES)[number];

export const AS_NUMBER = 64512;
export const POOL_CIDR = '10.244.0.0/16';
export const RR_CLUSTER_ID = '244.0.0.1';
export const RR_LABEL = 'route-reflector';
/** Existing nodes and joiners each have 50 addresses in the /24 (see planCluster). */
export const MAX_SIZE = 50;

export interface PlannedNode {
  readonly name: string;
  readonly address: string;
  /** The node's pod block (BIRD side; margay nodes get theirs from IPAM). */
  readonly block: string;
  readonly routeReflector: boolean;
  /** Index of this node's BIRD kernel table (each node its own routing table). */
  readonly table: number;
}

/** Where joiners sort against existing nodes: above (they connect) or below (they are connected to). */
export const JOINER_ORDERS = ['above', 'below'] as const;
export type JoinerOrder = (typeof JOINER_ORDERS)[number];

export interface ClusterPlan {
  readonly topology: Topology;
  /** Cluster size during a join: existing nodes + the joiner. */
  readonly size: number;
  readonly existing: readonly PlannedNode[];
  /** One joiner per join; each joins alone and leaves before the next. */
  readonly joiners: readonly PlannedNode[];
  readonly port: number;
  readonly joinerOrder: JoinerOrder;
}

/**
 * Existing nodes and joiners get .100 upwards and .200 upwards (`above`: joiners on .200) or the
 * other way round (`below`): three digits each, so the string order Calico's passive rule uses is
 * the numeric order. The higher address connects: a joiner above opens every session it needs
 * itself; a joiner below waits for the existing nodes to connect to it. In rr, the first two
 * existing nodes are the reflectors.
 */
export function planCluster(
  topology: Topology,
  size: number,
  joins: number,
  subnet: string,
  port: number,
  joinerOrder: JoinerOrder = 'above',
): ClusterPlan {
  if (!Number.isInteger(size) || size < 3 || size > MAX_SIZE)
    throw new Error(`cluster size ${size} is not in 3..${MAX_SIZE}`);
  if (!Number.isInteger(joins) || joins < 1 || joins > 50) throw new Error(`joins ${joins} is not in 1..50`);
  if (!/^127\.\d{1,3}\.\d{1,3}$/.test(subnet)) throw new Error(`subnet ${subnet} is not 127.X.Y`);
  const node = (name: string, octet: number, index: number, routeReflector: boolean): PlannedNode => ({
    name,
    address: `${subnet}.${octet}`,
    block: `10.244.${index}.0/26`,
    routeReflector,
    table: 1000 + index,
  });
  const existing = Array.from({ length: size - 1 }, (_, i) =>
    node(`node-${i}`, (joinerOrder === 'above' ? 100 : 200) + i, i, topology === 'rr' && i < 2),
  );
  const joiners = Array.from({ length: joins }, (_, j) =>
    node(`joiner-${j}`, (joinerOrder === 'above' ? 200 : 100) + j, 100 + j, false),
  );
  return { topology, size, existing, joiners, port, joinerOrder };
}

export interface Peering {
  readonly address: string;
  /** Calico: passive towards a peer whose address sorts higher as a string. */
  readonly passive: boolean;
  readonly routeReflectorClient: boolean;
}

/**
 * The BGP sessions `self` has when `others` are the rest of the cluster: everyone in mesh; in rr
 * clients peer with the reflectors, reflectors with everyone (clients as rr clients, the other
 * reflector of the same cluster as a plain iBGP peer).
 */
export function peeringsOf(self: PlannedNode, others: readonly PlannedNode[], topology: Topology): Peering[] {
  return others
    .filter((peer) => peer.address !== self.address)
    .filter((peer) => topology === 'mesh' || self.routeReflector || peer.routeReflector)
    .map((peer) => ({
      address: peer.address,
      passive: peer.address > self.address,
      routeReflectorClient: topology === 'rr' && self.routeReflector && !peer.routeReflector,
    }));
}
