// Creates a planned topology with iproute2. Teardown is teardown.ts's job, from the recorded plan.
import type { NodeInfo, Topology } from './address-plan';
import { ip } from './ip';

/** The router's end of the transit veth, inside the router namespace. */
const ROUTER_TRANSIT_LINK = 'host';

const bridgeOf = (subnetIndex: number) => `br${subnetIndex}`;

/**
 * The router namespace, the host↔router transit link with the host's route to the slot, and one bridge
 * per subnet with its gateway address. The router learns connected routes only: never pod routes.
 */
export function createRouter(topology: Topology): void {
  const { netns } = topology.router;
  const inRouter = (...args: string[]) => ip('-n', netns, ...args);
  ip('netns', 'add', netns);
  inRouter('link', 'set', 'lo', 'up');
  sysctl(netns, 'net.ipv4.ip_forward=1');

  ip('link', 'add', topology.hostLink, 'type', 'veth', 'peer', 'name', ROUTER_TRANSIT_LINK, 'netns', netns);
  ip('addr', 'add', `${topology.transit.hostAddress}/24`, 'dev', topology.hostLink);
  ip('link', 'set', topology.hostLink, 'up');
  inRouter('addr', 'add', `${topology.transit.routerAddress}/24`, 'dev', ROUTER_TRANSIT_LINK);
  inRouter('link', 'set', ROUTER_TRANSIT_LINK, 'up');
  ip('route', 'add', topology.slotCidr, 'via', topology.transit.routerAddress, 'dev', topology.hostLink);

  for (const subnet of topology.subnets) {
    const bridge = bridgeOf(subnet.index);
    inRouter('link', 'add', bridge, 'type', 'bridge');
    inRouter('addr', 'add', `${subnet.gateway}/24`, 'dev', bridge);
    inRouter('link', 'set', bridge, 'up');
  }
}

/** A node namespace whose eth0 is a veth to its subnet's bridge in the router namespace. */
export function createNode(topology: Topology, node: NodeInfo): void {
  const subnet = topology.subnets.find((s) => s.index === node.subnet);
  if (!subnet) throw new Error(`node ${node.name} is on subnet ${node.subnet}, which the topology lacks`);
  const inNode = (...args: string[]) => ip('-n', node.netns, ...args);
  ip('netns', 'add', node.netns);
  // The router's end is named after the node, so `ip -n <router> link` reads as a port list.
  ip(
    '-n',
    topology.router.netns,
    'link',
    'add',
    node.name,
    'type',
    'veth',
    'peer',
    'name',
    node.interface,
    'netns',
    node.netns,
  );
  ip('-n', topology.router.netns, 'link', 'set', node.name, 'master', bridgeOf(subnet.index), 'up');
  inNode('link', 'set', 'lo', 'up');
  inNode('addr', 'add', node.address, 'dev', node.interface);
  inNode('link', 'set', node.interface, 'up');
  inNode('route', 'add', 'default', 'via', subnet.gateway);
  // Loose reverse-path filtering: later tests route pod traffic over tunnels and asymmetric paths.
  sysctl(
    node.netns,
    'net.ipv4.ip_forward=1',
    'net.ipv4.conf.all.rp_filter=2',
    'net.ipv4.conf.default.rp_filter=2',
  );
  // As Docker leaves hosts: only what our policy chains accept explicitly is forwarded.
  ip('netns', 'exec', node.netns, 'iptables', '-w', '-P', 'FORWARD', 'DROP');
}

function sysctl(netns: string, ...settings: string[]): void {
  ip('netns', 'exec', netns, 'sysctl', '-q', '-w', ...settings);
}
