// What this node's BGP speaker should look like, computed from the datastore alone: the
// node-to-node mesh, BGPPeer resources, route reflection and the prefixes we originate. Pure, so
// every rule (passive side, who leaves the mesh, who is a reflector client) is tested by table.

import { BlockList, isIPv4 } from 'node:net';
import {
  BGP_DEFAULTS,
  type BGPConfiguration,
  type BGPConfigurationSpec,
  type BGPPeer,
  DEFAULT_CONFIGURATION_NAME,
  type IPPool,
  type Node,
  parseSelector,
  selectorMatches,
} from '@margay/api';
import { type DaemonConfig, type PrefixListPolicy, validateConfig } from '@margay/bgp';

const BGP_PORT = 179;
/** Calico's default graceful restart time (BIRD's `graceful restart time`). */
export const GRACEFUL_RESTART_SECONDS = 120;

/** Everything the BGP configuration of one node depends on. */
export interface BgpSnapshot {
  readonly nodeName: string;
  readonly nodes: readonly Node[];
  /** Any BGPConfigurations; `default` and `node.<nodeName>` are the ones used. */
  readonly configurations: readonly BGPConfiguration[];
  readonly peers: readonly BGPPeer[];
  /** CIDRs of the IPAM blocks affine to this node (not blocks it merely borrowed from). */
  readonly affineBlocks: readonly string[];
  readonly pools: readonly IPPool[];
}

export interface BgpConfigOptions {
  /** Install learned best paths into the kernel. */
  readonly installRoutes: boolean;
  /** "host:port" of the speaker's gRPC API, or false (the default) for none. */
  readonly api?: string | false;
}

/** What `margayctl node status` shows as PEER TYPE, as calicoctl names them. */
export const PEER_TYPES = {
  mesh: 'node-to-node mesh',
  global: 'global',
  nodeSpecific: 'node specific',
} as const;

/** A node that has a BGP address; the others take no part in BGP. */
export interface BgpNode {
  readonly name: string;
  readonly address: string;
  readonly asNumber: number;
  readonly clusterId: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
}

export interface PeerDocument {
  address: string;
  asNumber: number;
  port: number;
  localAddress: string | undefined;
  passive: boolean;
  routeReflectorClient: boolean;
  description: string;
  connectRetryTime: number;
  idleHoldTime: number;
  import: 'all';
  export: ExportPolicy;
}

export type ExportPolicy = PrefixListPolicy | 'none';

/** One neighbor of a node, whatever daemon ends up speaking to it. */
export interface PlannedPeer extends PeerDocument {
  /** One of PEER_TYPES. */
  readonly kind: string;
  /** The BGPPeer that asked for this session; none for the node-to-node mesh. */
  readonly resource: BGPPeer | undefined;
  /** The name of the peer's Node when the peer is a node of the cluster. */
  readonly nodeName: string | undefined;
}

/**
 * The BGP peering of one node in a daemon-neutral form: margay-bgpd's configuration
 * (bgpServerConfig) and BIRD's (margay-confd) are both rendered from it, so that nodes running
 * either agree on who peers with whom and who is passive.
 */
export interface BgpPeering {
  readonly self: BgpNode;
  /** `default` with `node.<nodeName>` laid over it. */
  readonly settings: BGPConfigurationSpec;
  readonly listen: { readonly address: string; readonly port: number };
  /** Affine blocks whose pool is exported. */
  readonly blocks: readonly string[];
  /** Service ranges from the BGPConfiguration. */
  readonly services: readonly string[];
  /** `blocks` then `services`, each once. */
  readonly originate: readonly string[];
  /** Sorted by address. */
  readonly peers: readonly PlannedPeer[];
  /** What other nodes get: pod routes. */
  readonly nodeExport: ExportPolicy;
  /** What routers outside the cluster get: pod routes and service ranges. */
  readonly externalExport: ExportPolicy;
}

/**
 * The peering of `snapshot.nodeName`. Throws if that node has no IPv4 BGP address yet (it cannot
 * take part in BGP until registration has given it one).
 */
export function bgpPeering(snapshot: BgpSnapshot): BgpPeering {
  const settings = effectiveSettings(snapshot);
  const globalAs = settings.asNumber ?? BGP_DEFAULTS.asNumber;
  const nodes = snapshot.nodes.flatMap((n) => bgpNode(n, globalAs) ?? []);
  const self = nodes.find((n) => n.name === snapshot.nodeName);
  if (!self) {
    throw new Error(`node ${snapshot.nodeName}: no Node resource with spec.bgp.ipv4Address yet`);
  }
  const nodePort = settings.listenPort ?? BGP_PORT;
  const services = serviceCidrs(settings);
  const pools = poolRoutes(snapshot.pools);
  const context: PeerContext = {
    self,
    nodes,
    nodePort,
    nodeExport: exportPolicy(pools),
    externalExport: exportPolicy([...pools, ...services.map((prefix) => accept(prefix))]),
  };

  // Explicit peers first: where one names the same address as the mesh, its settings win.
  const peers = new Map<string, PlannedPeer>();
  for (const resource of [...snapshot.peers].sort(byName)) {
    for (const peer of explicitPeers(resource, context)) {
      if (!peers.has(peer.address)) peers.set(peer.address, peer);
    }
  }
  const meshEnabled = settings.nodeToNodeMeshEnabled ?? BGP_DEFAULTS.nodeToNodeMeshEnabled;
  if (meshEnabled && self.clusterId === undefined) {
    for (const node of nodes) {
      // Reflectors leave the mesh; clients reach them through BGPPeers.
      if (node.clusterId !== undefined || node.address === self.address || peers.has(node.address)) continue;
      const peer = { address: node.address, asNumber: node.asNumber, port: nodePort, kind: PEER_TYPES.mesh };
      peers.set(node.address, peerTo(peer, self.address, context));
    }
  }
  return {
    self,
    settings,
    listen: { address: settings.bindMode === 'NodeIP' ? self.address : '0.0.0.0', port: nodePort },
    blocks: originatedPrefixes(snapshot.affineBlocks, snapshot.pools, []),
    services,
    originate: originatedPrefixes(snapshot.affineBlocks, snapshot.pools, services),
    peers: [...peers.values()].sort((a, b) => (a.address < b.address ? -1 : 1)),
    nodeExport: context.nodeExport,
    externalExport: context.externalExport,
  };
}

/**
 * The speaker configuration of `snapshot.nodeName`. Throws if that node has no IPv4 BGP address
 * yet (it cannot take part in BGP until registration has given it one).
 */
export function bgpServerConfig(snapshot: BgpSnapshot, options: BgpConfigOptions): DaemonConfig {
  const peering = bgpPeering(snapshot);
  const { self } = peering;
  const document = {
    asNumber: self.asNumber,
    routerId: self.address,
    listen: peering.listen,
    api: options.api ?? false,
    originate: peering.originate,
    peers: peering.peers.map(({ kind: _kind, resource: _resource, nodeName: _nodeName, ...peer }) => peer),
    routeReflector: self.clusterId === undefined ? undefined : { clusterId: self.clusterId },
    fib: { enabled: options.installRoutes },
    // Like Calico's BIRD: peers keep our routes for up to 120 s while margay-node restarts, and we
    // keep forwarding on the routes in the kernel meanwhile (the F bit).
    gracefulRestart: { restartTime: GRACEFUL_RESTART_SECONDS, preserveForwarding: true },
  };
  return validateConfig(document, `BGP configuration of node ${snapshot.nodeName}`);
}

/** `default` with the node's own `node.<name>` configuration laid over it. */
function effectiveSettings(snapshot: BgpSnapshot): BGPConfigurationSpec {
  const named = (name: string) => snapshot.configurations.find((c) => c.metadata.name === name)?.spec;
  return { ...named(DEFAULT_CONFIGURATION_NAME), ...named(`node.${snapshot.nodeName}`) };
}

function bgpNode(node: Node, globalAs: number): BgpNode | undefined {
  const bgp = node.spec.bgp;
  const address = bgp?.ipv4Address?.split('/')[0];
  if (address === undefined) return undefined;
  return {
    name: node.metadata.name,
    address,
    asNumber: bgp?.asNumber ?? globalAs,
    clusterId: bgp?.routeReflectorClusterID,
    labels: node.metadata.labels ?? {},
  };
}

/** A BGPPeer applies to one node (`node`), to selected nodes (`nodeSelector`) or to all (neither). */
function appliesTo(resource: BGPPeer, self: BgpNode): boolean {
  const { node, nodeSelector } = resource.spec;
  if (node !== undefined) return node === self.name;
  if (nodeSelector !== undefined) return selectorMatches(parseSelector(nodeSelector), self.labels);
  return true;
}

interface PeerContext {
  readonly self: BgpNode;
  readonly nodes: readonly BgpNode[];
  /** The port other nodes listen on (they share the BGPConfiguration). */
  readonly nodePort: number;
  /** Cluster nodes get pod routes only: service ranges go to routers outside the cluster. */
  readonly nodeExport: ExportPolicy;
  readonly externalExport: ExportPolicy;
}

interface PeerTarget {
  readonly address: string;
  readonly asNumber: number;
  readonly port: number;
  /** One of PEER_TYPES. */
  readonly kind: string;
  readonly resource?: BGPPeer;
}

function explicitPeers(resource: BGPPeer, context: PeerContext): PlannedPeer[] {
  const { peerIP, peerSelector, asNumber, sourceAddress, node, nodeSelector } = resource.spec;
  const { self, nodes, nodePort } = context;
  const localAddress = sourceAddress === 'None' ? undefined : self.address;
  const kind = node === undefined && nodeSelector === undefined ? PEER_TYPES.global : PEER_TYPES.nodeSpecific;
  if (peerSelector !== undefined) {
    // Both ends of a selector peering configure it: a node the peerSelector picks peers with the
    // nodes the resource applies to, so one BGPPeer sets up reflectors and their clients alike.
    const selector = parseSelector(peerSelector);
    const forward = appliesTo(resource, self);
    const reverse = selectorMatches(selector, self.labels);
    return nodes
      .filter(
        (n) =>
          n.address !== self.address &&
          ((forward && selectorMatches(selector, n.labels)) || (reverse && appliesTo(resource, n))),
      )
      .map((n) =>
        peerTo(
          { address: n.address, asNumber: n.asNumber, port: nodePort, kind, resource },
          localAddress,
          context,
        ),
      );
  }
  if (!appliesTo(resource, self)) return [];
  if (peerIP === undefined || asNumber === undefined) return []; // localWorkloadSelector peers: not here
  const { address, port } = splitPeerIp(peerIP);
  // IPv6 peers need an IPv6 node address, which the speaker configuration does not carry yet.
  if (!isIPv4(address) || address === self.address) return [];
  const isNode = nodes.some((n) => n.address === address);
  const target = { address, asNumber, port: port ?? (isNode ? nodePort : BGP_PORT), kind, resource };
  return [peerTo(target, localAddress, context)];
}

/**
 * One neighbor. Between two margay nodes only one side connects, so the two never collide: like
 * Calico, we are passive towards a node whose address sorts higher as a string. A reflector
 * makes every same-AS peer outside its own cluster a client.
 */
function peerTo(
  { address, asNumber, port, kind, resource }: PeerTarget,
  localAddress: string | undefined,
  { self, nodes, nodeExport, externalExport }: PeerContext,
): PlannedPeer {
  const node = nodes.find((n) => n.address === address);
  const routeReflectorClient =
    self.clusterId !== undefined && asNumber === self.asNumber && node?.clusterId !== self.clusterId;
  const reflector = self.clusterId === undefined && node?.clusterId !== undefined;
  return {
    address,
    asNumber,
    port,
    localAddress,
    passive: node !== undefined && address > self.address,
    routeReflectorClient,
    description: routeReflectorClient
      ? `${kind} (route reflector client)`
      : reflector
        ? `${kind} (route reflector)`
        : kind,
    // Calico's bgp_template value: a peer that comes up later is reached within seconds.
    connectRetryTime: 5,
    // A node listens before its Node is written (listen-then-register.ts), but a refusal can
    // still happen (a speaker slow to start, BIRD, an older margay): retry after 0.1 s, doubling
    // on each failure (0.1, 0.2, 0.4 … 120 s).
    idleHoldTime: 0.1,
    // Like Calico's BIRD: import everything (RFC 8212 would block eBGP), export only cluster
    // routes, so that what an external peer sends us is never passed on to another.
    import: 'all',
    export: node === undefined ? externalExport : nodeExport,
    kind,
    resource,
    nodeName: node?.name,
  };
}

/** `IP`, `IPv4:port` or `[IPv6]:port` (already validated by the BGPPeer schema). */
function splitPeerIp(peerIP: string): { address: string; port: number | undefined } {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(peerIP) ?? /^([^:]+):(\d+)$/.exec(peerIP);
  return match ? { address: match[1]!, port: Number(match[2]) } : { address: peerIP, port: undefined };
}

function serviceCidrs(settings: BGPConfigurationSpec): string[] {
  return [
    ...(settings.serviceClusterIPs ?? []),
    ...(settings.serviceExternalIPs ?? []),
    ...(settings.serviceLoadBalancerIPs ?? []),
  ].map((s) => s.cidr);
}

/** A pool's routes are exported unless it is disabled or says disableBGPExport. */
function exported(pool: IPPool): boolean {
  return !pool.spec.disabled && !pool.spec.disableBGPExport;
}

/** The pool whose rule governs `cidr`: the most specific one containing it. */
function governingPool(cidr: string, pools: readonly IPPool[]): IPPool | undefined {
  return pools
    .filter((pool) => cidrWithin(cidr, pool.spec.cidr))
    .sort((a, b) => prefixLength(b.spec.cidr) - prefixLength(a.spec.cidr))[0];
}

/**
 * Our affine blocks whose governing pool is exported, then the service ranges. A block of a
 * carved-out pool nested in an exported one stays unannounced; borrowed addresses in other
 * nodes' blocks are theirs to announce.
 */
function originatedPrefixes(
  affineBlocks: readonly string[],
  pools: readonly IPPool[],
  services: readonly string[],
): string[] {
  const blocks = affineBlocks.filter((block) => {
    const pool = governingPool(block, pools);
    return pool !== undefined && exported(pool);
  });
  return [...new Set([...blocks.sort(), ...services])];
}

type RouteEntry = PrefixListPolicy['prefixes'][number];

function accept(prefix: string): RouteEntry {
  return { prefix, le: isIPv4(prefix.split('/')[0]!) ? 32 : 128 };
}

/**
 * Routes inside exported pools, down to single addresses (blocks, borrowed /32s) — ours and, as
 * a reflector, other nodes'. A pool that is not exported but lies inside an exported one is
 * rejected explicitly, and listed first so that its reject decides before the wider accept.
 */
function poolRoutes(pools: readonly IPPool[]): RouteEntry[] {
  const accepted = pools.filter(exported);
  const carvedOut = pools.filter(
    (pool) =>
      !exported(pool) &&
      accepted.some(
        (outer) => outer.spec.cidr !== pool.spec.cidr && cidrWithin(pool.spec.cidr, outer.spec.cidr),
      ),
  );
  return [
    ...carvedOut.map((pool): RouteEntry => ({ ...accept(pool.spec.cidr), action: 'reject' })),
    ...accepted.map((pool) => accept(pool.spec.cidr)),
  ];
}

/**
 * The prefix list of `entries`: IPv4 then IPv6, most specific first, because the first match
 * decides and a carve-out must come before the pool around it. A prefix listed twice keeps its
 * last entry (a service range wins over a carve-out of the same prefix).
 */
function exportPolicy(entries: readonly RouteEntry[]): ExportPolicy {
  const unique = [...new Map(entries.map((e) => [e.prefix, e])).values()];
  if (!unique.some((e) => e.action !== 'reject')) return 'none';
  const order = (e: RouteEntry) => (isIPv4(e.prefix.split('/')[0]!) ? 0 : 1000) - prefixLength(e.prefix);
  return { prefixes: unique.sort((x, y) => order(x) - order(y)), action: 'accept' };
}

function prefixLength(cidr: string): number {
  return Number(cidr.split('/')[1]);
}

function cidrWithin(inner: string, outer: string): boolean {
  const [innerAddress = '', innerLength] = inner.split('/');
  const [outerAddress = '', outerLength] = outer.split('/');
  const family = isIPv4(outerAddress) ? 'ipv4' : 'ipv6';
  if (family !== (isIPv4(innerAddress) ? 'ipv4' : 'ipv6')) return false;
  const range = new BlockList();
  range.addSubnet(outerAddress, Number(outerLength), family);
  return Number(innerLength) >= Number(outerLength) && range.check(innerAddress, family);
}

function byName(a: BGPPeer, b: BGPPeer): number {
  return a.metadata.name < b.metadata.name ? -1 : 1;
}
