// The address plan: pure arithmetic from (name, slot, nodes, subnets) to every name and address a
// cluster uses. Everything lives in 198.18.0.0/15 (RFC 2544 benchmarking range): never routed on the
// Internet and not used by the hosts we run on.

/** 64 slots of eight /24s each fill the /15 exactly. */
export const SLOT_COUNT = 64;
/** /24 #0 of a slot is the host↔router transit; #1..#7 are node subnets. */
export const MAX_SUBNETS = 7;
/** node-k gets host address .(10+k), and .254 is the last usable one. */
export const MAX_NODES = 244;

const RANGE_START = 0xc6120000; // 198.18.0.0
const SLOT_SIZE = 8 * 256;

export interface SubnetInfo {
  /** 1..7: the /24 of the slot it uses. */
  index: number;
  cidr: string;
  /** The router's address on this subnet: every node's default gateway. */
  gateway: string;
}

export interface NodeInfo {
  name: string;
  netns: string;
  /** Index of the subnet the node is on (see `subnets`). */
  subnet: number;
  /** CIDR form, e.g. 198.18.1.11/24. */
  address: string;
  interface: 'eth0';
}

export interface RouterInfo {
  netns: string;
  /** CIDR form: the transit address first, then each subnet's gateway. */
  addresses: string[];
}

/** Everything `up` creates and `down` removes, fixed before anything is created. */
export interface Topology {
  /** The host end of the transit veth (its peer, `host`, is in the router namespace). */
  hostLink: string;
  transit: { hostAddress: string; routerAddress: string };
  /** The slot's /21: the one route the host gets, via the router. */
  slotCidr: string;
  router: RouterInfo;
  subnets: SubnetInfo[];
  nodes: NodeInfo[];
}

export function slotPrefix(slot: number): string {
  return `mge${slot}`;
}

/** Pods' network namespaces are named `<prefix><pod name>`. */
export function podNetnsPrefix(slot: number): string {
  return `${slotPrefix(slot)}-pod-`;
}

export function hostLinkName(slot: number): string {
  return `${slotPrefix(slot)}h`;
}

/** Throws, naming the bad value, unless the sizes fit the address plan. */
export function checkClusterSize(nodeCount: number, subnetCount: number): void {
  checkWholeNumber('nodes', nodeCount, 1, MAX_NODES);
  checkWholeNumber('subnets', subnetCount, 1, MAX_SUBNETS);
}

export function planTopology(slot: number, nodeCount: number, subnetCount: number): Topology {
  checkWholeNumber('slot', slot, 0, SLOT_COUNT - 1);
  checkClusterSize(nodeCount, subnetCount);
  const slotStart = RANGE_START + slot * SLOT_SIZE;
  const host = (subnet: number, octet: number) => formatIp(slotStart + subnet * 256 + octet);
  const prefix = slotPrefix(slot);

  const subnets: SubnetInfo[] = [];
  for (let index = 1; index <= subnetCount; index++) {
    subnets.push({ index, cidr: `${host(index, 0)}/24`, gateway: host(index, 1) });
  }
  const nodes: NodeInfo[] = [];
  for (let k = 1; k <= nodeCount; k++) {
    const name = `node-${k}`;
    const subnet = ((k - 1) % subnetCount) + 1;
    nodes.push({
      name,
      netns: `${prefix}-${name}`,
      subnet,
      address: `${host(subnet, 10 + k)}/24`,
      interface: 'eth0',
    });
  }
  return {
    hostLink: hostLinkName(slot),
    transit: { hostAddress: host(0, 1), routerAddress: host(0, 2) },
    slotCidr: `${host(0, 0)}/21`,
    router: {
      netns: `${prefix}-router`,
      addresses: [`${host(0, 2)}/24`, ...subnets.map((s) => `${s.gateway}/24`)],
    },
    subnets,
    nodes,
  };
}

function checkWholeNumber(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${what} must be a whole number from ${min} to ${max}, got ${value}`);
  }
}

function formatIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');
}
