// The floor: the harness's topology built by hand with plain `ip` commands in fresh namespaces, no
// agent, no iptables rule: a router namespace with one bridge (the node subnet), two node
// namespaces on it, and a pod behind each node wired as margay-cni wires one (veth, /32 route on
// the node, proxy ARP for 169.254.1.1, the pod's MTU). Pods reach each other either by plain
// routes via the other node (routed) or through a VXLAN device with static neighbour and FDB
// entries (vxlan), as the tunnel manager would program it. What this costs is the kernel's own.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { deleteNamespace, trackNamespace } from '../bench-convergence/cleanup';

export type FloorMode = 'routed' | 'vxlan';

export interface FloorNode {
  readonly netns: string;
  readonly address: string;
  readonly podNetns: string;
  readonly podIp: string;
  readonly block: string;
  readonly tunnelIp: string;
  readonly vxlanMac: string;
}

export interface Floor {
  readonly mode: FloorMode;
  /** Whether the nodes hold the one conntrack accept per hook (the fair floor). */
  readonly conntrack: boolean;
  readonly router: string;
  readonly nodes: readonly [FloorNode, FloorNode];
  remove(): void;
}

export const FLOOR_VXLAN_DEVICE = 'vxlan.floor';
const VXLAN_DEVICE = FLOOR_VXLAN_DEVICE;
const VXLAN_VNI = '4096';
const VXLAN_PORT = '4789';
/** Harness and margay defaults: an underlay MTU of 1500, VXLAN costs 50 bytes of it. */
const UNDERLAY_MTU = 1500;
const VXLAN_OVERHEAD = 50;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function sysctl(netns: string, ...settings: string[]): void {
  ip('netns', 'exec', netns, 'sysctl', '-q', '-w', ...settings);
}

/**
 * Adds (or deletes) the one rule per hook that switches on stateful filtering in the floor's
 * nodes (accept established flows, as felix's chains do first): the kernel's cost of conntrack,
 * which any iptables policy dataplane pays, without any rule of ours.
 */
export function setFloorConntrack(floor: Floor, on: boolean): void {
  for (const node of floor.nodes)
    for (const chain of ['INPUT', 'FORWARD', 'OUTPUT'])
      execFileSync('ip', [
        ...['netns', 'exec', node.netns, 'iptables', '-w', on ? '-A' : '-D', chain],
        ...['-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'],
      ]);
}

/**
 * Builds a fresh floor; `podMtu` is what margay-cni gave the pods of the same mode. With
 * `conntrack`, the nodes get one RELATED,ESTABLISHED accept per hook (the fair floor: conntrack
 * on, as on any node whose kube-proxy or policy is stateful).
 */
export function buildFloor(mode: FloorMode, podMtu: number, conntrack = false): Floor {
  const prefix = `mgdp${randomBytes(3).toString('hex')}`;
  const router = `${prefix}-r`;
  const nodes: [FloorNode, FloorNode] = [1, 2].map((k) => ({
    netns: `${prefix}-n${k}`,
    address: `10.200.1.${10 + k}`,
    podNetns: `${prefix}-p${k}`,
    podIp: `10.201.${k}.10`,
    block: `10.201.${k}.0/26`,
    tunnelIp: `10.201.${k}.1`,
    vxlanMac: `66:00:00:00:00:0${k}`,
  })) as [FloorNode, FloorNode];
  const created: string[] = [];
  const add = (netns: string) => {
    trackNamespace(netns);
    ip('netns', 'add', netns);
    created.push(netns);
    ip('-n', netns, 'link', 'set', 'lo', 'up');
  };
  const remove = () => {
    for (const netns of created.reverse()) deleteNamespace(netns);
    created.length = 0;
  };
  try {
    add(router);
    ip('-n', router, 'link', 'add', 'br1', 'type', 'bridge');
    ip('-n', router, 'addr', 'add', '10.200.1.1/24', 'dev', 'br1');
    ip('-n', router, 'link', 'set', 'br1', 'up');
    for (const [i, node] of nodes.entries()) {
      add(node.netns);
      add(node.podNetns);
      const port = `node${i + 1}`;
      ip('-n', router, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.netns);
      ip('-n', router, 'link', 'set', port, 'master', 'br1', 'up');
      ip('-n', node.netns, 'addr', 'add', `${node.address}/24`, 'dev', 'eth0');
      ip('-n', node.netns, 'link', 'set', 'eth0', 'up');
      ip('-n', node.netns, 'route', 'add', 'default', 'via', '10.200.1.1');
      sysctl(
        node.netns,
        'net.ipv4.ip_forward=1',
        'net.ipv4.conf.all.rp_filter=2',
        'net.ipv4.conf.default.rp_filter=2',
      );
      // The pod, as margay-cni wires it.
      const hostVeth = `mgfloor${i + 1}`;
      ip(
        '-n',
        node.netns,
        'link',
        'add',
        hostVeth,
        'mtu',
        String(podMtu),
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'mtu',
        String(podMtu),
        'netns',
        node.podNetns,
      );
      sysctl(
        node.netns,
        `net.ipv4.conf.${hostVeth}.proxy_arp=1`,
        `net.ipv4.neigh.${hostVeth}.proxy_delay=0`,
        `net.ipv4.conf.${hostVeth}.forwarding=1`,
      );
      ip('-n', node.netns, 'link', 'set', hostVeth, 'up');
      ip('-n', node.netns, 'route', 'add', `${node.podIp}/32`, 'dev', hostVeth, 'scope', 'link');
      ip('-n', node.podNetns, 'addr', 'add', `${node.podIp}/32`, 'dev', 'eth0');
      ip('-n', node.podNetns, 'link', 'set', 'eth0', 'up');
      ip('-n', node.podNetns, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link');
      ip('-n', node.podNetns, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0');
    }
    for (const [self, peer] of [nodes, [nodes[1], nodes[0]]] as const) {
      if (mode === 'routed') {
        ip('-n', self.netns, 'route', 'add', peer.block, 'via', peer.address, 'dev', 'eth0');
        continue;
      }
      const mtu = String(UNDERLAY_MTU - VXLAN_OVERHEAD);
      ip(
        '-n',
        self.netns,
        'link',
        'add',
        'name',
        VXLAN_DEVICE,
        'address',
        self.vxlanMac,
        'mtu',
        mtu,
        'type',
        'vxlan',
        'id',
        VXLAN_VNI,
        'local',
        self.address,
        'dev',
        'eth0',
        'dstport',
        VXLAN_PORT,
        'nolearning',
      );
      ip('-n', self.netns, 'addr', 'add', `${self.tunnelIp}/32`, 'dev', VXLAN_DEVICE);
      ip('-n', self.netns, 'link', 'set', VXLAN_DEVICE, 'up');
      ip(
        '-n',
        self.netns,
        'neigh',
        'replace',
        peer.tunnelIp,
        'lladdr',
        peer.vxlanMac,
        'dev',
        VXLAN_DEVICE,
        'nud',
        'permanent',
      );
      execFileSync('ip', [
        'netns',
        'exec',
        self.netns,
        'bridge',
        'fdb',
        'replace',
        peer.vxlanMac,
        'dev',
        VXLAN_DEVICE,
        'dst',
        peer.address,
        'self',
        'permanent',
      ]);
      ip('-n', self.netns, 'route', 'add', peer.block, 'via', peer.tunnelIp, 'dev', VXLAN_DEVICE, 'onlink');
    }
    const floor: Floor = { mode, conntrack, router, nodes, remove };
    if (conntrack) setFloorConntrack(floor, true);
    return floor;
  } catch (error) {
    remove();
    throw new Error(`building the ${mode} floor failed: ${(error as Error).message}`);
  }
}
