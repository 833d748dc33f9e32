// bird.conf for one node, from Calico's bird.cfg template (reference calico.md §4.2–4.5) in BIRD 2
// syntax: bgp_template with connect delay 2 s / retry 5 s / error wait 5,30, graceful restart,
// add paths, recursive gateways; Mesh_/Node_ peers with source address, multihop and the passive
// rule; the block as a blackhole static. What differs, and why: every speaker binds its own
// loopback address (local … port, strict bind), and the kernel protocol writes BGP routes as
// blackholes into this node's own table, where the benchmark watches them.

import { type PlannedNode, POOL_CIDR, peeringsOf, RR_CLUSTER_ID, type Topology } from './plan';

export interface BirdNodeConfig {
  readonly self: PlannedNode;
  /** Every node this one may ever peer with (joiners included: configs are rendered in advance). */
  readonly others: readonly PlannedNode[];
  readonly topology: Topology;
  readonly port: number;
  readonly logFile: string;
}

const underscored = (address: string) => address.replaceAll('.', '_');

export function renderBirdConfig({ self, others, topology, port, logFile }: BirdNodeConfig): string {
  const lines = [
    `log "${logFile}" { warning, error, fatal };`,
    `router id ${self.address};`,
    'protocol device { scan time 2; }',
    // The next hops are loopback addresses: the IGP table must resolve them (gateway recursive).
    'protocol static loopback { ipv4; route 127.0.0.0/8 via "lo"; }',
    `protocol static blocks { ipv4; route ${self.block} blackhole; }`,
    'protocol kernel {',
    `  kernel table ${self.table};`,
    '  scan time 60;',
    '  ipv4 { import none; export filter { if source = RTS_BGP then { dest = RTD_BLACKHOLE; accept; } reject; }; };',
    '}',
    'template bgp bgp_template {',
    '  debug { states };',
    `  local ${self.address} port ${port} as 64512;`,
    '  strict bind;',
    '  graceful restart;',
    '  connect delay time 2;',
    '  connect retry time 5;',
    '  error wait time 5,30;',
    '  ipv4 {',
    '    gateway recursive;',
    '    add paths on;',
    '    import filter { if (defined(bgp_local_pref)&&(bgp_local_pref > 2147482623)) then preference = 200; accept; };',
    `    export filter { if net ~ [ ${POOL_CIDR}+ ] then accept; reject; };`,
    '  };',
    '}',
  ];
  const peerings = peeringsOf(self, others, topology).sort((a, b) => (a.address < b.address ? -1 : 1));
  for (const peer of peerings) {
    const prefix = topology === 'mesh' ? 'Mesh' : 'Node';
    lines.push(
      `protocol bgp ${prefix}_${underscored(peer.address)} from bgp_template {`,
      `  neighbor ${peer.address} port ${port} as 64512;`,
      `  source address ${self.address};`,
      '  multihop;',
      ...(peer.routeReflectorClient ? ['  rr client;', `  rr cluster id ${RR_CLUSTER_ID};`] : []),
      ...(peer.passive ? ['  passive on;'] : []),
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

export interface KernelRouteEvent {
  readonly deleted: boolean;
  readonly prefix: string;
  readonly table: number;
}

/** One line of `ip monitor route`; undefined for lines that are not a route in a numbered table. */
export function parseMonitorLine(line: string): KernelRouteEvent | undefined {
  const match =
    /^(Deleted )?(?:blackhole |unreachable |prohibit )?(\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2})\b.*\btable (\d+)\b/.exec(
      line.trim(),
    );
  if (!match) return undefined;
  return { deleted: match[1] !== undefined, prefix: match[2]!, table: Number(match[3]) };
}
