/**
 * A two-node topology for VM tests, as shell scripts: two network namespaces ("nodes") joined by a
 * veth underlay, each with a "pod" namespace behind a veth (Calico style: /32 pod address, default
 * route to 169.254.1.1, a static ARP entry for it pointing at the node's side). What connects the pods (tunnel devices and
 * routes) is left to the caller, so the same topology serves hand-written commands and the
 * tunnel manager's own. Counters on the underlay tell encapsulated traffic (IP protocol 4) from
 * plain pod traffic, so a test can prove the packets really went through the tunnel.
 */

export interface VmTopologyNode {
  /** Network namespace of the node. */
  readonly ns: string;
  /** The node's address on the underlay (device eth0), in a /24 shared by both nodes. */
  readonly underlayIp: string;
  /** The node's pod block (its IPAM block affinity). */
  readonly block: string;
  /** The node's tunnel address (first address of its block, as Calico assigns it). */
  readonly tunnelIp: string;
  readonly podNs: string;
  readonly podIp: string;
  /** The pod's veth on the node side. */
  readonly podVeth: string;
}

export const UNDERLAY_DEVICE = 'eth0';
export const UNDERLAY_MTU = 1500;

export const TWO_NODES: readonly [VmTopologyNode, VmTopologyNode] = [
  {
    ns: 'node-a',
    underlayIp: '198.18.0.1',
    block: '10.244.1.0/26',
    tunnelIp: '10.244.1.1',
    podNs: 'pod-a',
    podIp: '10.244.1.10',
    podVeth: 'cali-a',
  },
  {
    ns: 'node-b',
    underlayIp: '198.18.0.2',
    block: '10.244.2.0/26',
    tunnelIp: '10.244.2.1',
    podNs: 'pod-b',
    podIp: '10.244.2.10',
    podVeth: 'cali-b',
  },
];

/** Run `command` in a namespace (as a shell line). */
export function inNs(ns: string, command: string): string {
  return `ip netns exec ${ns} ${command}`;
}

/**
 * `ip` commands (without the leading "ip") as one `ip -batch` process, in namespace `ns` if given.
 * Under software emulation every process start costs tens of milliseconds (dynamic linking), so
 * the scripts batch what they can.
 */
export function ipBatch(commands: readonly string[], ns?: string): string {
  const target = ns === undefined ? '' : `-n ${ns} `;
  return `ip ${target}-batch - <<'IP_BATCH'\n${commands.join('\n')}\nIP_BATCH`;
}

/** A shell script run by one shell inside namespace `ns`. */
export function shellInNs(ns: string, lines: readonly string[]): string {
  return `ip netns exec ${ns} sh -es <<'NS_SHELL'\n${lines.join('\n')}\nNS_SHELL`;
}

/**
 * Namespaces, underlay, pods and their local routes, forwarding on, and the underlay counters
 * (iptables rules without a target only count): ipip-in/ipip-out for protocol 4 on eth0,
 * plain-in/plain-out for anything forwarded across eth0 unencapsulated. No tunnel yet.
 */
export function twoNodeBaseScript(nodes: readonly VmTopologyNode[] = TWO_NODES): string {
  const [a, b] = twoOf(nodes);
  const lines = ['set -e'];
  const root = [...nodes.flatMap((node) => [`netns add ${node.ns}`, `netns add ${node.podNs}`])];
  root.push(
    `link add ${UNDERLAY_DEVICE} netns ${a.ns} mtu ${UNDERLAY_MTU} type veth peer name ${UNDERLAY_DEVICE} netns ${b.ns} mtu ${UNDERLAY_MTU}`,
  );
  for (const node of nodes) {
    root.push(`link add ${node.podVeth} netns ${node.ns} type veth peer name eth0 netns ${node.podNs}`);
  }
  lines.push(ipBatch(root));
  for (const node of nodes) {
    lines.push(
      ipBatch(
        [
          'link set lo up',
          `addr add ${node.underlayIp}/24 dev ${UNDERLAY_DEVICE}`,
          `link set ${UNDERLAY_DEVICE} up`,
          `link set ${node.podVeth} up`,
          `route add ${node.podIp}/32 dev ${node.podVeth} scope link`,
        ],
        node.ns,
      ),
      shellInNs(node.ns, [
        'echo 1 > /proc/sys/net/ipv4/ip_forward',
        'iptables-restore --noflush <<RULES',
        '*filter',
        `-A INPUT -i ${UNDERLAY_DEVICE} -p 4 -m comment --comment ipip-in`,
        `-A OUTPUT -o ${UNDERLAY_DEVICE} -p 4 -m comment --comment ipip-out`,
        `-A FORWARD -i ${UNDERLAY_DEVICE} -m comment --comment plain-in`,
        `-A FORWARD -o ${UNDERLAY_DEVICE} -m comment --comment plain-out`,
        'COMMIT',
        'RULES',
      ]),
      // The node has no default route, so proxy ARP would not answer for the gateway: pin it.
      `node_mac=$(${inNs(node.ns, `cat /sys/class/net/${node.podVeth}/address`)})`,
      ipBatch(
        [
          'link set lo up',
          `addr add ${node.podIp}/32 dev eth0`,
          'link set eth0 up',
          'neigh add 169.254.1.1 lladdr NODE_MAC dev eth0 nud permanent',
          'route add 169.254.1.1 dev eth0 scope link',
          'route add default via 169.254.1.1 dev eth0',
        ],
        node.podNs,
      )
        .replace("<<'IP_BATCH'", '<<IP_BATCH')
        .replace('NODE_MAC', '$node_mac'),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Hand-written IPIP: tunl0 up with the tunnel address, remote blocks `via <node> dev tunl0 onlink`. */
export function handWrittenIpipScript(nodes: readonly VmTopologyNode[] = TWO_NODES): string {
  const lines = ['set -e'];
  for (const node of nodes) {
    const commands = [
      `link set tunl0 mtu ${UNDERLAY_MTU - 20}`,
      `addr add ${node.tunnelIp}/32 dev tunl0`,
      'link set tunl0 up',
      ...nodes
        .filter((other) => other !== node)
        .map((peer) => `route add ${peer.block} via ${peer.underlayIp} dev tunl0 onlink proto 79`),
    ];
    lines.push(ipBatch(commands, node.ns));
  }
  return `${lines.join('\n')}\n`;
}

/** Plain routes over the underlay, no tunnel: the control that the counters tell the two apart. */
export function plainRoutesScript(nodes: readonly VmTopologyNode[] = TWO_NODES): string {
  const lines = ['set -e'];
  for (const node of nodes) {
    const routes = nodes
      .filter((other) => other !== node)
      .map((peer) => `route add ${peer.block} via ${peer.underlayIp} dev ${UNDERLAY_DEVICE}`);
    lines.push(ipBatch(routes, node.ns));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Ping from the first node's pod to the second's (`count` echoes; the exit code is ping's), then
 * print every counter as `counter <ns> <name> <value>` for parseCounters, and the human views
 * (`ip -s link show tunl0`, iptables -nvxL, routes) for the log.
 */
export function pingAndCountScript(count = 3, nodes: readonly VmTopologyNode[] = TWO_NODES): string {
  const [a, b] = twoOf(nodes);
  const lines = [
    'rc=0',
    `${inNs(a.podNs, `ping -c ${count} -i 0.2 -W 5 ${b.podIp}`)} || rc=$?`,
    'echo "ping exit $rc"',
  ];
  for (const node of nodes) {
    lines.push(
      shellInNs(node.ns, [
        'for stat in rx_packets tx_packets; do',
        `  echo "counter ${node.ns} tunl0.$stat $(cat /sys/class/net/tunl0/statistics/$stat)"`,
        'done',
        // iptables-save -c prints "[packets:bytes] -A CHAIN ... --comment name".
        `iptables-save -c | sed -n 's/^\\[\\([0-9]*\\):[0-9]*\\].*--comment \\([a-z-]*\\).*/counter ${node.ns} \\2 \\1/p'`,
        `echo "--- ${node.ns}"`,
        'ip -s link show tunl0',
        'iptables -nvxL',
        'ip route',
      ]),
    );
  }
  lines.push('exit $rc');
  return `${lines.join('\n')}\n`;
}

/** The counters printed by pingAndCountScript, keyed "<ns> <name>" (e.g. "node-b ipip-in"). */
export function parseCounters(output: string): Map<string, number> {
  const counters = new Map<string, number>();
  for (const match of output.matchAll(/^counter (\S+) (\S+) (\d+)$/gm)) {
    counters.set(`${match[1]} ${match[2]}`, Number(match[3]));
  }
  return counters;
}

function twoOf(nodes: readonly VmTopologyNode[]): [VmTopologyNode, VmTopologyNode] {
  const [a, b] = nodes;
  if (!a || !b || nodes.length !== 2)
    throw new Error(`the VM topology needs exactly two nodes, got ${nodes.length}`);
  return [a, b];
}
